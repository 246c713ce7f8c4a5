"""``govshare serve`` runs the worker loop in a thread of its own in the embedded default (SQLite),
and stops it cleanly at shutdown; on PostgreSQL it does so only when asked
(``GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS=true``), ``govshare worker`` processes running beside it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from govshare.config import ServerSettings, Settings
from govshare.db import Database
from govshare.exchange import runs, worker
from govshare.exchange.models import Mount, PeriodicTaskState, SyncRun
from tests.exchange import table_sources
from tests.exchange.table_sources import ITEMS, Source
from tests.factories import Factory
from tests.own_database import own_platform_database

IN_PROCESS_LINE = "后台作业(同步、探测、定期任务)在本服务进程中运行"


@pytest.fixture(scope="module")
def db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with own_platform_database(database_url, tmp_path_factory.mktemp("serve"), "serve") as database:
        yield database


@pytest.fixture(autouse=True)
def _clean(db: Database) -> None:
    with db.session_scope() as s:
        s.execute(delete(SyncRun))
        s.execute(delete(PeriodicTaskState))
        s.execute(update(Mount).values(status="paused"))


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    yield from table_sources.sqlite_source(tmp_path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _queue_sync(db: Database, source: Source) -> int:
    with db.session_scope() as s:
        factory = Factory(s)
        department = factory.department()
        resource = factory.resource(department, items=[(name, data_type) for _, name, data_type, _ in ITEMS])
        items = sorted(resource.items, key=lambda i: i.position)
        runs.mount_table(
            s,
            factory.compiler(department),
            resource_id=resource.id,
            url=source.url,
            table=source.table,
            mapping={item.id: column for item, (_, _, _, column) in zip(items, ITEMS, strict=True)},
            test_table=source.table,
        )
        return runs.request_sync(s, factory.compiler(department), resource_code=resource.code).id


def _serve(db: Database, tmp_path: Path, **extra_env: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = _free_port()
    env = {**os.environ, "GOVSHARE_DATABASE_URL": db.url, "GOVSHARE_ENVIRONMENT": "test", **extra_env}
    env.pop("GOVSHARE_BASE_URL", None)
    if "GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS" not in extra_env:
        env.pop("GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS", None)
    log = tmp_path / f"serve-{port}.log"
    command = [str(Path(sys.executable).parent / "govshare"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                assert response.status == 200
                break
        except OSError:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "govshare serve did not start"
            time.sleep(0.2)
    return process, port, log


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM, as a service manager stops it; True when it shut down gracefully (uvicorn re-raises the
    signal after its graceful shutdown, so the exit status is that of SIGTERM)."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60) in (0, -signal.SIGTERM)


def _status(db: Database, run_id: int) -> SyncRun:
    with db.session_scope() as s:
        run = s.get(SyncRun, run_id)
        assert run is not None
        return run


def test_the_default_is_in_process_on_sqlite_only() -> None:
    sqlite = Settings(database_url="sqlite:///var/x.db")
    postgres = Settings(database_url="postgresql://postgres@127.0.0.1/x")
    assert worker.runs_in_process(Settings(database_url="")) is True  # the embedded default
    assert worker.runs_in_process(sqlite) is True and worker.runs_in_process(postgres) is False
    forced = Settings(
        database_url="postgresql://postgres@127.0.0.1/x", server=ServerSettings(run_worker_in_process=True)
    )
    off = Settings(database_url="sqlite:///var/x.db", server=ServerSettings(run_worker_in_process=False))
    assert worker.runs_in_process(forced) is True and worker.runs_in_process(off) is False


@pytest.mark.article("A24.2")
def test_govshare_serve_runs_a_queued_sync_in_process_and_stops_cleanly(
    db: Database, source: Source, tmp_path: Path
) -> None:
    source.create(40_000)
    extra = {"GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS": "true"} if db.url.startswith("postgres") else {}
    process, _port, log = _serve(db, tmp_path, **extra)
    try:
        run_id = _queue_sync(db, source)
        deadline = time.monotonic() + 90
        while (run := _status(db, run_id)).status != "running":  # the server's own worker took it
            assert run.status == "queued" and time.monotonic() < deadline, (run.status, run.error)
            time.sleep(0.05)
    finally:
        graceful = _stop(process)  # mid-sync: the server waits for the run in hand, then exits
    output = log.read_text(encoding="utf-8")
    assert graceful and "Traceback" not in output, output
    assert IN_PROCESS_LINE in output
    run = _status(db, run_id)
    assert (run.status, run.rows, run.error) == ("succeeded", 40_000, "")
    with db.session_scope() as s:
        task = s.get(PeriodicTaskState, "grant_expiry")  # the loop also ran the periodic tasks
        assert task is not None and task.last_status == "succeeded"
        assert s.scalars(select(SyncRun.status).where(SyncRun.id == run_id)).one() == "succeeded"


def test_serve_leaves_the_runs_to_govshare_worker_on_postgresql_or_when_turned_off(
    db: Database, source: Source, tmp_path: Path
) -> None:
    source.create(100)
    run_id = _queue_sync(db, source)
    # PostgreSQL: the default; SQLite: turned off by the setting
    extra = {} if db.url.startswith("postgres") else {"GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS": "false"}
    process, _port, log = _serve(db, tmp_path, **extra)
    try:
        time.sleep(2.0)
    finally:
        graceful = _stop(process)
    assert graceful and IN_PROCESS_LINE not in log.read_text(encoding="utf-8")
    assert _status(db, run_id).status == "queued"
