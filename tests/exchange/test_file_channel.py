"""The file channel run by the worker: pulls from a mounted directory and an allow-listed HTTP server,
runs recorded as rows, loads into the base, probes.

Like the worker tests these need committed data seen by several sessions: a platform database of
their own (SQLite file, or a sibling PostgreSQL database), with the base in that same database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from govshare.audit.models import AuditRecord
from govshare.config import get_settings
from govshare.db import Database
from govshare.errors import ValidationFailed
from govshare.exchange import files, runs, worker
from govshare.exchange.channels import get_channel
from govshare.exchange.file_models import FileSource, FileVersion
from govshare.exchange.gateway_models import ProviderNetwork
from govshare.exchange.models import BaseTable, Mount, SyncRun
from govshare.identity.actor import Actor
from tests.factories import Factory
from tests.own_database import own_platform_database

CSV_V1 = "姓名,身份证号,补贴金额\n张三,620102199001011234,100\n李四,62010219920202123X,200.5\n".encode()
CSV_V2 = CSV_V1 + "王五,620102198512310021,7\n".encode()
ITEMS = [("身份证号", "C"), ("姓名", "C"), ("补贴金额", "N")]


@pytest.fixture(scope="module")
def db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with own_platform_database(database_url, tmp_path_factory.mktemp("files"), "files") as database:
        yield database


@pytest.fixture(autouse=True)
def _settings(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    mounts = tmp_path / "mnt"
    (mounts / "provider").mkdir(parents=True)
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVSHARE_FILES__MOUNT_ROOTS", json.dumps([str(mounts)]))
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", db.url)  # the probe reads the allow-list from here
    get_settings.cache_clear()
    with db.session_scope() as s:
        s.execute(delete(SyncRun))
        s.execute(update(Mount).values(status="paused"))  # earlier tests' sources are gone
        s.execute(delete(ProviderNetwork))
    yield mounts / "provider"
    get_settings.cache_clear()


@pytest.fixture
def folder(_settings: Path) -> Path:
    return _settings


class _Server(BaseHTTPRequestHandler):
    body: bytes = CSV_V1
    auth: list[str] = []

    def _head(self) -> None:
        self.auth.append(self.headers.get("Authorization", ""))
        if not self.path.startswith("/export/"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()

    def do_HEAD(self) -> None:
        self._head()

    def do_GET(self) -> None:
        self._head()
        if "/export/" in self.path:
            self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Server.body = CSV_V1
    _Server.auth = []
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _provider(db: Database) -> tuple[int, Actor, dict[str, int]]:
    with db.session_scope() as s:
        factory = Factory(s)
        department = factory.department()
        resource = factory.resource(
            department, format_class="electronic_file", format_type="CSV", channel="file", items=ITEMS
        )
        items = {item.name: item.id for item in resource.items}
        return resource.id, factory.compiler(department), items


def _allow(db: Database, cidr: str = "127.0.0.0/8") -> None:
    with db.session_scope() as s:
        s.add(ProviderNetwork(cidr=cidr, description="测试"))


def _mount(db: Database, resource_id: int, actor: Actor, items: dict[str, int], **form: Any) -> Mount:
    mapping = {items["身份证号"]: "身份证号", items["姓名"]: "姓名", items["补贴金额"]: "补贴金额"}
    with db.session_scope() as s:
        return files.mount_file(s, actor, resource_id=resource_id, form=files.FileSourceForm(mapping=mapping, **form))


def _run(db: Database, resource_id: int, actor: Actor) -> SyncRun:
    with db.session_scope() as s:
        queued = files.request_pull(s, actor, resource_id=resource_id)
    assert worker.run_once(db, "worker-f", base_engine=db.engine) == queued.id
    done = worker.run_row(db, queued.id)
    assert done is not None
    return done


def _versions(db: Database, resource_id: int) -> list[FileVersion]:
    with db.session_scope() as s:
        return list(
            s.scalars(select(FileVersion).where(FileVersion.resource_id == resource_id).order_by(FileVersion.number))
        )


def _base_rows(db: Database, resource_id: int) -> list[tuple[Any, ...]]:
    with db.session_scope() as s:
        record = s.scalars(select(BaseTable).where(BaseTable.resource_id == resource_id)).one()
        cols = ", ".join(c["column"] for c in record.columns)
        name = record.table_name
    with db.engine.connect() as conn:
        return sorted(tuple(str(v) for v in r) for r in conn.execute(text(f"SELECT {cols} FROM {name}")))


@pytest.mark.article("A24.3", "A8.1")
def test_the_worker_pulls_a_mounted_directory_and_loads_the_newest_file(db: Database, folder: Path) -> None:
    resource_id, actor, items = _provider(db)
    (folder / "补贴-旧.csv").write_bytes(b"x,y\n1,2\n")
    (folder / "补贴.csv.part").write_bytes(b"half")  # a file still being written is never taken
    latest = folder / "补贴-20261125.csv"
    latest.write_bytes(CSV_V1)
    os.utime(folder / "补贴-旧.csv", (1, 1))
    _mount(db, resource_id, actor, items, source="directory", path=str(folder), pattern="*.csv", load_into_base=True)

    first = _run(db, resource_id, actor)
    assert (first.status, first.error, first.rows, first.bytes) == ("succeeded", "", 2, len(CSV_V1))
    assert first.duration_ms >= 0 and first.quality.get("rows") == 2
    [v1] = _versions(db, resource_id)
    assert (v1.source, v1.source_ref, v1.filename) == (FileSource.directory, str(latest.resolve()), latest.name)
    assert v1.checksum == hashlib.sha256(CSV_V1).hexdigest()
    assert _base_rows(db, resource_id) == [
        ("620102199001011234", "张三", "100"),
        ("62010219920202123X", "李四", "200.5"),
    ]

    # Unchanged at the source: no new version, nothing reloaded.
    second = _run(db, resource_id, actor)
    assert (second.status, second.rows, len(_versions(db, resource_id))) == ("succeeded", 0, 1)

    latest.write_bytes(CSV_V2)
    third = _run(db, resource_id, actor)
    assert (third.status, third.rows) == ("succeeded", 3)
    assert [v.number for v in _versions(db, resource_id)] == [1, 2]
    assert len(_base_rows(db, resource_id)) == 3
    with db.session_scope() as s:
        record = s.scalars(select(BaseTable).where(BaseTable.resource_id == resource_id)).one()
        assert record.row_count == 3 and record.last_good_sync_at == third.finished_at
        following = s.scalars(select(SyncRun).where(SyncRun.status == "queued")).all()
        assert len(following) == 1  # the next pull, at the resource's 更新周期


@pytest.mark.article("A24.3")
def test_a_bad_header_fails_the_run_with_a_chinese_message_and_changes_nothing(db: Database, folder: Path) -> None:
    resource_id, actor, items = _provider(db)
    target = folder / "补贴.csv"
    target.write_bytes(CSV_V1)
    _mount(db, resource_id, actor, items, source="directory", path=str(target), load_into_base=True)
    assert _run(db, resource_id, actor).status == "succeeded"
    before = _base_rows(db, resource_id)
    target.write_bytes("名字,身份证号,补贴金额\n赵六,620102199001011234,1\n".encode())
    failed = _run(db, resource_id, actor)
    assert failed.status == "failed" and "文件表头缺少列 「姓名」" in failed.error
    assert _base_rows(db, resource_id) == before
    assert len(_versions(db, resource_id)) == 2  # the file itself is kept as a version


@pytest.mark.article("A24.3")
def test_http_pulls_go_through_the_allow_list(db: Database, server: str) -> None:
    resource_id, actor, items = _provider(db)
    url = f"http://reader:s3cret@{server}/export/补贴.csv?token=abc"
    with db.session_scope() as s, pytest.raises(ValidationFailed) as refused:
        files.mount_file(s, actor, resource_id=resource_id, form=files.FileSourceForm(source="http", url=url))
    assert refused.value.errors[0].field == "url" and "白名单" in refused.value.errors[0].message

    _allow(db)
    mount = _mount(db, resource_id, actor, items, source="http", url=url)
    with db.session_scope() as s:
        stored = s.get(Mount, mount.id)
        assert stored is not None and "s3cret" not in json.dumps(stored.config) and stored.secret_encrypted
        audit = s.scalars(select(AuditRecord).where(AuditRecord.action == "exchange.mount.created")).all()[-1]
        assert "s3cret" not in json.dumps(audit.after) and "token" not in json.dumps(audit.after)

    done = _run(db, resource_id, actor)
    assert (done.status, done.rows, done.bytes) == ("succeeded", 0, len(CSV_V1))
    [v1] = _versions(db, resource_id)
    assert v1.source == FileSource.http and v1.source_ref == f"http://{server}/export/补贴.csv"
    assert _Server.auth[-1] == "Basic " + base64.b64encode(b"reader:s3cret").decode()

    # The administrator removes the network: the next pull is refused before connecting.
    with db.session_scope() as s:
        s.execute(delete(ProviderNetwork))
    calls = len(_Server.auth)
    _Server.body = CSV_V2
    failed = _run(db, resource_id, actor)
    assert failed.status == "failed" and "白名单" in failed.error
    assert len(_Server.auth) == calls and len(_versions(db, resource_id)) == 1


@pytest.mark.article("A24.3")
def test_probes_head_the_server_and_stat_the_directory(db: Database, server: str, folder: Path) -> None:
    resource_id, actor, items = _provider(db)
    _allow(db)
    channel = get_channel("file")
    http_mount = _mount(db, resource_id, actor, items, source="http", url=f"http://{server}/export/a.csv")
    with db.session_scope() as s:
        spec = runs.mount_spec(s, s.get(Mount, http_mount.id))  # type: ignore[arg-type]
    ok = channel.probe(spec)
    assert ok.ok and ok.error == "" and ok.latency_ms >= 0
    missing = channel.probe(
        type(spec)(**{**spec.__dict__, "config": {**spec.config, "url": f"http://{server}/nothing.csv"}})
    )
    assert not missing.ok and missing.error == "文件服务器返回状态 404"

    dir_mount = _mount(db, resource_id, actor, items, source="directory", path=str(folder), pattern="*.csv")
    with db.session_scope() as s:
        spec = runs.mount_spec(s, s.get(Mount, dir_mount.id))  # type: ignore[arg-type]
    assert channel.probe(spec).error == "目录中没有符合条件的文件"
    (folder / "a.csv").write_bytes(CSV_V1)
    assert channel.probe(spec).ok
    with db.session_scope() as s:
        assert worker.schedule_unscheduled(s) >= 1
        kinds = {r.kind for r in s.scalars(select(SyncRun).where(SyncRun.mount_id == dir_mount.id))}
        assert kinds == {"sync", "probe"}


@pytest.mark.article("A24.3")
def test_an_upload_to_a_loaded_resource_is_loaded_by_the_worker(db: Database) -> None:
    resource_id, actor, items = _provider(db)
    _mount(db, resource_id, actor, items, source="upload", load_into_base=True)
    with db.session_scope() as s:
        added = files.add_upload(s, actor, resource_id=resource_id, filename="补贴.csv", stream=[CSV_V2])
        assert added.created
        queued = s.scalars(select(SyncRun).where(SyncRun.status == "queued")).all()
        assert len(queued) == 1 and queued[0].trigger == "manual"
    assert worker.run_once(db, "worker-f", base_engine=db.engine) == queued[0].id
    assert len(_base_rows(db, resource_id)) == 3


@pytest.mark.article("A24.3")
def test_only_the_provider_registers_a_file_source_and_paths_stay_inside_the_mounts(db: Database, folder: Path) -> None:
    resource_id, actor, _items = _provider(db)
    with db.session_scope() as s:
        other = Factory(s).compiler(Factory(s).department())
        with pytest.raises(Exception, match="只有提供方部门"):
            files.mount_file(s, other, resource_id=resource_id, form=files.FileSourceForm(source="upload"))
        with pytest.raises(ValidationFailed) as outside:
            files.mount_file(
                s, actor, resource_id=resource_id, form=files.FileSourceForm(source="directory", path="/etc")
            )
        assert outside.value.errors[0].message == "该路径不在平台允许挂载的目录内"
        with pytest.raises(ValidationFailed) as unmapped:
            files.mount_file(s, actor, resource_id=resource_id, form=files.FileSourceForm(load_into_base=True))
        assert unmapped.value.errors[0].field == "mapping"


@pytest.mark.article("A24.3")
def test_no_transaction_is_held_while_the_bytes_move(db: Database) -> None:
    """On SQLite every transaction holds the write lock: another writer must get through mid-upload."""
    resource_id, actor, _items = _provider(db)
    wrote: list[int] = []

    def body() -> Iterator[bytes]:
        yield CSV_V1
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout=300")  # fail fast instead of waiting 15 s
            conn.execute(text("UPDATE sync_run SET error = '' WHERE id = -1"))
            conn.commit()
            wrote.append(1)
        yield CSV_V2

    with db.session_scope() as s:
        added = files.add_upload(
            s, actor, resource_id=resource_id, filename="补贴.csv", stream=body(), on_ready=s.commit
        )
        assert added.created and added.version.size == len(CSV_V1) + len(CSV_V2)
    assert wrote == [1]
