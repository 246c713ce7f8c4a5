from __future__ import annotations

import hashlib
import io
import os
import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import Resource
from govshare.config import get_settings
from govshare.errors import Conflict, Forbidden, ValidationFailed
from govshare.exchange import files
from govshare.exchange.file_models import FileSource
from govshare.identity.actor import Actor
from govshare.kit.filestore import LocalFileStore
from tests.factories import Factory

BIG_PATH = "/big.bin"
BIG_SIZE = 20 * 1024 * 1024
_BLOCK = bytes(range(256)) * 256  # 64 KiB


class _Handler(BaseHTTPRequestHandler):
    """A provider's file server: fixed bodies by path, a generated large body, 404 for the rest."""

    bodies: dict[str, bytes] = {}
    requests: list[str] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        path = self.path.split("?", 1)[0]
        if path == BIG_PATH:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(BIG_SIZE))
            self.end_headers()
            try:
                for _ in range(BIG_SIZE // len(_BLOCK)):
                    self.wfile.write(_BLOCK)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client refused the body on its Content-Length
            return
        body = self.bodies.get(path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def file_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "store")


@pytest.fixture
def provider(factory: Factory) -> tuple[Resource, Actor]:
    department = factory.department()
    resource = factory.resource(department, format_class="electronic_file", format_type="CSV", channel="file")
    return resource, factory.compiler(department)


def _object_path(store: LocalFileStore, key: str) -> Path:
    return store.root / "objects" / key[:2] / key[2:4] / key


@pytest.mark.article("A24.3")
def test_every_uploaded_version_is_kept_with_size_and_checksum(
    session: Session, store: LocalFileStore, provider: tuple[Resource, Actor]
) -> None:
    resource, actor = provider
    first = "身份证号,姓名\n620102199001011234,张三\n".encode()
    second = first + "620102199202021238,李四\n".encode()

    one = files.add_upload(
        session, actor, resource_id=resource.id, filename="C:\\导出\\人口.csv", stream=io.BytesIO(first), store=store
    )
    two = files.add_upload(
        session, actor, resource_id=resource.id, filename="人口.csv", stream=iter([second]), store=store
    )
    assert one.created and two.created
    assert (one.version.number, two.version.number) == (1, 2)
    assert one.version.filename == "人口.csv"  # a label, never a path
    assert one.version.content_type == "text/csv"
    assert (one.version.size, one.version.checksum) == (len(first), hashlib.sha256(first).hexdigest())
    assert one.version.algorithm == "sha256" and one.version.source == FileSource.upload

    same = files.add_upload(session, actor, resource_id=resource.id, filename="x.csv", stream=[second], store=store)
    assert not same.created and same.version.id == two.version.id
    assert len(list(store.keys())) == 2  # the unchanged upload left no object behind

    versions = files.list_versions(session, actor, resource_id=resource.id)
    assert [v.number for v in versions] == [2, 1]
    for version, body in ((one.version, first), (two.version, second)):
        got, chunks = files.open_version(session, actor, version_id=version.id, store=store)
        assert got.id == version.id and b"".join(chunks) == body

    audits = session.scalars(
        select(AuditRecord).where(AuditRecord.action == "exchange.file_version.added").order_by(AuditRecord.seq)
    ).all()
    assert [a.object_id for a in audits] == [str(resource.id)] * 2
    assert audits[1].after is not None and audits[1].after["checksum"] == two.version.checksum


@pytest.mark.article("A24.3")
def test_sm3_under_the_gm_profile_in_the_default_store(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: tuple[Resource, Actor]
) -> None:
    monkeypatch.setenv("GOVSHARE_SECURITY__CRYPTO_PROFILE", "gm")
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        resource, actor = provider
        added = files.add_upload(session, actor, resource_id=resource.id, filename="a.csv", stream=[b"a", b"bc"])
        assert added.version.algorithm == "sm3"
        assert added.version.checksum == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        assert (tmp_path / "var" / "files" / "objects").is_dir()
        files.verify_version(session, actor, version_id=added.version.id)
    finally:
        get_settings.cache_clear()


@pytest.mark.article("A24.3")
def test_a_changed_or_missing_object_is_refused_on_read(
    session: Session, store: LocalFileStore, provider: tuple[Resource, Actor]
) -> None:
    resource, actor = provider
    added = files.add_upload(
        session, actor, resource_id=resource.id, filename="a.csv", stream=[b"1,2,3\n"], store=store
    )
    _object_path(store, added.version.storage_key).write_bytes(b"1,2,4\n")

    with pytest.raises(files.FileIntegrityError) as caught:
        files.verify_version(session, actor, version_id=added.version.id, store=store)
    assert caught.value.code == "file_checksum_mismatch"
    _, chunks = files.open_version(session, actor, version_id=added.version.id, store=store)
    with pytest.raises(files.FileIntegrityError):
        b"".join(chunks)

    _object_path(store, added.version.storage_key).unlink()
    with pytest.raises(files.FileIntegrityError) as missing:
        files.open_version(session, actor, version_id=added.version.id, store=store)
    assert missing.value.code == "file_content_missing"


def test_only_the_provider_adds_and_reads_and_only_file_resources(
    session: Session, factory: Factory, store: LocalFileStore, provider: tuple[Resource, Actor]
) -> None:
    resource, actor = provider
    added = files.add_upload(session, actor, resource_id=resource.id, filename="a.csv", stream=[b"x"], store=store)
    other = factory.compiler(factory.department())
    with pytest.raises(Forbidden):
        files.add_upload(session, other, resource_id=resource.id, filename="b.csv", stream=[b"y"], store=store)
    with pytest.raises(Forbidden):
        files.list_versions(session, other, resource_id=resource.id)
    with pytest.raises(Forbidden):
        files.open_version(session, other, version_id=added.version.id, store=store)
    assert files.list_versions(session, Actor.system(), resource_id=resource.id)[0].id == added.version.id

    table_resource = factory.resource(factory.department())  # 共享方式 库表
    with pytest.raises(ValidationFailed) as caught:
        files.add_upload(
            session, Actor.system(), resource_id=table_resource.id, filename="a.csv", stream=[b"x"], store=store
        )
    assert caught.value.code == "not_a_file_resource"
    assert len(list(store.keys())) == 1


def test_an_upload_over_the_limit_keeps_nothing(
    session: Session, store: LocalFileStore, provider: tuple[Resource, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSHARE_FILES__MAX_BYTES", "1000")
    get_settings.cache_clear()
    try:
        resource, actor = provider
        with pytest.raises(ValidationFailed) as caught:
            files.add_upload(
                session, actor, resource_id=resource.id, filename="a.csv", stream=[b"x" * 1001], store=store
            )
        assert caught.value.code == "file_too_large"
        assert list(store.keys()) == []
        assert files.list_versions(session, actor, resource_id=resource.id) == []
    finally:
        get_settings.cache_clear()


@pytest.mark.article("A24.3")
def test_pull_from_a_mounted_directory(
    session: Session, tmp_path: Path, store: LocalFileStore, provider: tuple[Resource, Actor]
) -> None:
    resource, actor = provider
    mount = tmp_path / "mnt" / "provider"
    mount.mkdir(parents=True)
    older = mount / "人口_20270101.csv"
    older.write_bytes(b"old\n")
    os.utime(older, (1_800_000_000, 1_800_000_000))
    newer = mount / "人口_20270102.csv"
    newer.write_bytes(b"new\n")
    os.utime(newer, (1_800_086_400, 1_800_086_400))
    (mount / "人口_20270103.csv.part").write_bytes(b"still being written")  # never picked
    (mount / "readme.txt").write_bytes(b"not matching the pattern")
    os.utime(mount / "readme.txt", (1_900_000_000, 1_900_000_000))
    roots = [tmp_path / "mnt"]

    by_folder = files.pull_from_directory(
        session, actor, resource_id=resource.id, path=str(mount), pattern="*.csv*", store=store, mount_roots=roots
    )
    assert by_folder.created and by_folder.version.filename == newer.name
    assert by_folder.version.source == FileSource.directory
    assert by_folder.version.source_ref == str(newer.resolve())
    assert by_folder.version.checksum == hashlib.sha256(b"new\n").hexdigest()

    again = files.pull_from_directory(
        session, actor, resource_id=resource.id, path=str(mount), pattern="*.csv", store=store, mount_roots=roots
    )
    assert not again.created  # the same bytes: no new version

    by_file = files.pull_from_directory(
        session, actor, resource_id=resource.id, path=str(older), store=store, mount_roots=roots
    )
    assert by_file.created and by_file.version.number == 2
    assert [v.number for v in files.list_versions(session, actor, resource_id=resource.id)] == [2, 1]


def test_a_directory_pull_stays_inside_the_mount_roots(
    session: Session, tmp_path: Path, store: LocalFileStore, provider: tuple[Resource, Actor]
) -> None:
    resource, actor = provider
    root = tmp_path / "mnt"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"platform secret")
    (root / "escape.csv").symlink_to(secret)

    def pull(path: str, roots: list[Path] | None = None) -> str:
        with pytest.raises(ValidationFailed) as caught:
            files.pull_from_directory(
                session,
                actor,
                resource_id=resource.id,
                path=path,
                store=store,
                mount_roots=[root] if roots is None else roots,
            )
        return caught.value.code

    assert pull(str(secret)) == "path_outside_mounts"
    assert pull(str(root / ".." / "secret.txt")) == "path_outside_mounts"
    assert pull(str(root / "escape.csv")) == "path_outside_mounts"  # the symlink resolves outside
    assert pull(str(root)) == "no_file_in_directory"  # the only entry leads outside
    assert pull("mnt/escape.csv") == "invalid_file_path"
    assert pull(str(root / "absent.csv")) == "file_not_found"
    assert pull(str(root), roots=[]) == "no_mount_roots"
    assert list(store.keys()) == []


@pytest.mark.article("A24.3")
def test_pull_from_an_http_file_server(
    session: Session, store: LocalFileStore, provider: tuple[Resource, Actor], file_server: str
) -> None:
    resource, actor = provider
    _Handler.bodies["/exports/%E4%BA%BA%E5%8F%A3.csv"] = b"id,name\n1,a\n"
    url = file_server.replace("http://", "http://reader:pa55word@") + "/exports/%E4%BA%BA%E5%8F%A3.csv?token=abc"

    added = files.pull_from_url(session, actor, resource_id=resource.id, url=url, store=store)
    assert added.created and added.version.filename == "人口.csv"
    assert added.version.content_type == "text/csv"
    assert added.version.source == FileSource.http
    assert added.version.checksum == hashlib.sha256(b"id,name\n1,a\n").hexdigest()
    # neither the password nor the query token is kept
    assert added.version.source_ref == file_server + "/exports/%E4%BA%BA%E5%8F%A3.csv"
    assert _Handler.requests[-1].endswith("?token=abc")

    assert not files.pull_from_url(session, actor, resource_id=resource.id, url=url, store=store).created
    _Handler.bodies["/exports/%E4%BA%BA%E5%8F%A3.csv"] = b"id,name\n1,a\n2,b\n"
    assert files.pull_from_url(session, actor, resource_id=resource.id, url=url, store=store).version.number == 2


def test_http_pull_failures_are_clear_and_keep_nothing(
    session: Session,
    store: LocalFileStore,
    provider: tuple[Resource, Actor],
    file_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resource, actor = provider

    def pull(url: str) -> str:
        with pytest.raises((files.FilePullFailed, ValidationFailed)) as caught:
            files.pull_from_url(session, actor, resource_id=resource.id, url=url, store=store)
        assert isinstance(caught.value, files.FilePullFailed | ValidationFailed)
        return caught.value.code

    assert pull(file_server + "/absent.csv") == "file_server_status"
    assert pull("ftp://127.0.0.1/a.csv") == "invalid_file_url"
    with socket_closed_port() as port:
        assert pull(f"http://127.0.0.1:{port}/a.csv") == "file_server_unavailable"
    monkeypatch.setenv("GOVSHARE_FILES__MAX_BYTES", str(1024 * 1024))
    get_settings.cache_clear()
    try:
        assert pull(file_server + BIG_PATH) == "file_too_large"  # refused on its Content-Length
    finally:
        get_settings.cache_clear()
    assert list(store.keys()) == []
    assert files.list_versions(session, actor, resource_id=resource.id) == []


def test_a_body_cut_short_keeps_nothing(
    session: Session, store: LocalFileStore, provider: tuple[Resource, Actor]
) -> None:
    resource, actor = provider

    def cut(request: httpx.Request) -> httpx.Response:
        def body() -> Iterator[bytes]:
            yield b"first part"
            raise httpx.ReadError("connection reset", request=request)

        return httpx.Response(200, content=body())

    with httpx.Client(transport=httpx.MockTransport(cut)) as client, pytest.raises(files.FilePullFailed):
        files.pull_from_url(
            session, actor, resource_id=resource.id, url="http://10.20.30.40/a.csv", store=store, client=client
        )
    assert list(store.keys()) == []


@pytest.mark.article("A24.3")
def test_pull_and_read_stream_with_bounded_memory(
    session: Session, store: LocalFileStore, provider: tuple[Resource, Actor], file_server: str
) -> None:
    resource, actor = provider
    tracemalloc.start()
    try:
        added = files.pull_from_url(session, actor, resource_id=resource.id, url=file_server + BIG_PATH, store=store)
        _, pull_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        _, chunks = files.open_version(session, actor, version_id=added.version.id, store=store)
        total = sum(len(c) for c in chunks)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert added.version.size == total == BIG_SIZE
    assert pull_peak < 8 * 1024 * 1024
    assert read_peak < 8 * 1024 * 1024


class socket_closed_port:
    """A port on 127.0.0.1 that nothing listens on."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port: int = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        pass


def test_a_version_number_taken_concurrently_is_a_conflict_and_keeps_nothing(
    session: Session, store: LocalFileStore, provider: tuple[Resource, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    resource, actor = provider
    first = files.add_upload(session, actor, resource_id=resource.id, filename="a.csv", stream=[b"1"], store=store)
    # Another writer read the same "next number" before this one flushed.
    monkeypatch.setattr(files.repository, "next_number", lambda _session, _resource_id: 1)
    with pytest.raises(Conflict) as caught:
        files.add_upload(session, actor, resource_id=resource.id, filename="a.csv", stream=[b"2"], store=store)
    assert caught.value.code == "file_version_conflict"
    assert list(store.keys()) == [first.version.storage_key]
    assert [v.number for v in files.list_versions(session, actor, resource_id=resource.id)] == [1]
