"""The file channel's routes: raw-body uploads (streamed), downloads with length, name and checksum, the page."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import Resource
from govshare.config import get_settings
from govshare.exchange import files
from govshare.exchange.file_api import held_back
from govshare.exchange.file_models import FileVersion
from govshare.exchange.models import Mount
from govshare.identity.actor import Actor
from govshare.identity.models import User
from govshare.identity.permissions import Role
from tests.factories import Factory
from tests.helpers import csrf, headers, sign_in

CSV = "身份证号,姓名\n620102199001011234,张三\n".encode()


@pytest.fixture(autouse=True)
def _var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVSHARE_FILES__MAX_BYTES", str(4 * 1024 * 1024))
    monkeypatch.setenv("GOVSHARE_FILES__MOUNT_ROOTS", json.dumps([str(tmp_path)]))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def provider(factory: Factory) -> tuple[Resource, User]:
    department = factory.department()
    resource = factory.resource(department, format_class="electronic_file", format_type="CSV", channel="file")
    return resource, factory.user(Role.dept_admin, department=department)


def _upload(client: TestClient, resource_id: int, body: bytes | Iterator[bytes], name: str = "人口.csv") -> object:
    return client.put(
        f"/api/v1/exchange/resources/{resource_id}/files",
        params={"filename": name},
        content=body,
        headers={**headers(client), "Content-Type": "text/csv"},
    )


@pytest.mark.article("A24.3")
def test_upload_list_and_download_over_the_api(
    client: TestClient, session: Session, provider: tuple[Resource, User]
) -> None:
    resource, user = provider
    sign_in(client, session, user)
    r = _upload(client, resource.id, CSV)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    made = r.json()  # type: ignore[attr-defined]
    assert (made["number"], made["created"], made["size"]) == (1, True, len(CSV))
    assert made["checksum"] == hashlib.sha256(CSV).hexdigest() and made["source"] == "upload"
    again = client.post(
        f"/api/v1/exchange/resources/{resource.id}/files",
        params={"filename": "同样.csv"},
        content=CSV,
        headers=headers(client),
    )
    assert again.status_code == 201 and again.json()["created"] is False and again.json()["id"] == made["id"]

    listed = client.get(f"/api/v1/exchange/resources/{resource.id}/files").json()
    assert [v["number"] for v in listed] == [1] and listed[0]["filename"] == "人口.csv"
    assert client.get(f"/api/v1/exchange/files/{made['id']}").json()["checksum"] == made["checksum"]

    got = client.get(f"/api/v1/exchange/files/{made['id']}/content")
    assert got.status_code == 200 and got.content == CSV
    assert got.headers["content-length"] == str(len(CSV))
    assert got.headers["content-disposition"].endswith("filename*=UTF-8''" + quote("人口.csv"))
    assert got.headers["x-checksum-sha256"] == hashlib.sha256(CSV).hexdigest()
    assert got.headers["digest"] == "sha-256=" + base64.b64encode(hashlib.sha256(CSV).digest()).decode()
    actions = session.scalars(
        select(AuditRecord.action).where(
            AuditRecord.object_type == "resource", AuditRecord.object_id == str(resource.id)
        )
    ).all()
    assert {"exchange.file_version.added", "exchange.file_version.downloaded"} <= set(actions)


@pytest.mark.article("A24.3")
def test_a_body_over_the_cap_is_refused_with_or_without_content_length(
    client: TestClient, session: Session, provider: tuple[Resource, User], _var: Path
) -> None:
    resource, user = provider
    sign_in(client, session, user)
    big = b"0" * (4 * 1024 * 1024 + 1)
    declared = _upload(client, resource.id, big)
    assert declared.status_code == 413  # type: ignore[attr-defined]
    assert declared.json()["code"] == "file_too_large"  # type: ignore[attr-defined]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the store stops at the cap
        for _ in range(5):
            yield b"1" * (1024 * 1024)

    streamed = _upload(client, resource.id, chunked())
    assert streamed.status_code == 413  # type: ignore[attr-defined]
    assert session.scalars(select(FileVersion).where(FileVersion.resource_id == resource.id)).all() == []
    assert not any((_var / "var" / "files" / "objects").glob("*/*/*"))
    assert not any((_var / "var" / "files" / "tmp").glob("*"))


@pytest.mark.article("A24.3")
def test_another_department_cannot_list_upload_or_download(
    client: TestClient, session: Session, factory: Factory, provider: tuple[Resource, User]
) -> None:
    resource, _user = provider
    added = files.add_upload(session, Actor.system(), resource_id=resource.id, filename="a.csv", stream=[CSV]).version
    sign_in(client, session, factory.user(Role.dept_admin))
    assert client.get(f"/api/v1/exchange/resources/{resource.id}/files").status_code == 403
    assert _upload(client, resource.id, CSV).status_code == 403  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/exchange/files/{added.id}/content").status_code == 403


@pytest.mark.article("A24.3")
def test_a_corrupted_object_never_arrives_complete(session: Session, provider: tuple[Resource, User]) -> None:
    resource, _user = provider
    body = bytes(range(256)) * 4096 * 3  # 3 MiB: three chunks of the store
    version = files.add_upload(
        session, Actor.system(), resource_id=resource.id, filename="a.bin", stream=[body]
    ).version
    path = get_settings().files_dir / "objects" / version.storage_key[:2] / version.storage_key[2:4]
    target = path / version.storage_key
    damaged = bytearray(target.read_bytes())
    damaged[10] ^= 0xFF
    target.write_bytes(bytes(damaged))
    _version, chunks = files.open_version(session, Actor.system(), version_id=version.id)
    received = bytearray()
    with pytest.raises(files.FileIntegrityError, match="校验值与登记值不符"):
        for chunk in held_back(chunks):
            received += chunk
    assert 0 < len(received) < len(body)  # the last chunk was held back


@pytest.mark.article("A24.3")
def test_the_consumer_call_reads_the_newest_version(session: Session, provider: tuple[Resource, User]) -> None:
    resource, _user = provider
    files.add_upload(session, Actor.system(), resource_id=resource.id, filename="a.csv", stream=[b"1"])
    files.add_upload(session, Actor.system(), resource_id=resource.id, filename="b.csv", stream=[b"22"])
    version, chunks = files.open_for_consumer(session, resource_id=resource.id)
    assert (version.number, b"".join(chunks)) == (2, b"22")


@pytest.mark.article("A24.3")
def test_the_page_uploads_a_file_and_registers_a_source(
    client: TestClient, session: Session, provider: tuple[Resource, User], _var: Path
) -> None:
    resource, user = provider
    sign_in(client, session, user)
    assert f'href="/exchange/resources/{resource.id}/files"' in client.get(f"/catalog/{resource.id}").text
    page = client.get(f"/exchange/resources/{resource.id}/files")
    assert page.status_code == 200 and "还没有文件版本" in page.text and "上传新版本" in page.text
    r = client.post(
        f"/exchange/resources/{resource.id}/files",
        data={"csrf_token": csrf(client)},
        files={"file": ("补贴名单.csv", CSV, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/exchange/resources/{resource.id}/files")
    assert (
        "已保存为第 1 版" in page.text and "补贴名单.csv" in page.text and hashlib.sha256(CSV).hexdigest() in page.text
    )

    item = sorted(resource.items, key=lambda i: i.position)[0]
    bad = client.post(
        f"/exchange/resources/{resource.id}/file-source",
        data={"csrf_token": csrf(client), "source": "directory", "path": "/etc", "pattern": "*.csv"},
    )
    assert bad.status_code == 422 and "该路径不在平台允许挂载的目录内" in bad.text
    ok = client.post(
        f"/exchange/resources/{resource.id}/file-source",
        data={
            "csrf_token": csrf(client),
            "source": "directory",
            "path": str(_var),
            "pattern": "*.csv",
            "load_into_base": "1",
            f"map_{item.id}": "办件编号",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    mount = session.scalars(select(Mount).where(Mount.resource_id == resource.id)).one()
    assert mount.channel == "file" and mount.mapping == {str(item.id): "办件编号"}
    api = client.get(f"/api/v1/exchange/resources/{resource.id}/file-source").json()
    assert api["source"] == "directory" and api["load_into_base"] is True
    run = client.post(
        f"/exchange/resources/{resource.id}/file-source/run", data={"csrf_token": csrf(client)}, follow_redirects=False
    )
    assert run.status_code == 303
    assert "排队中" in client.get(f"/exchange/resources/{resource.id}/files").text
