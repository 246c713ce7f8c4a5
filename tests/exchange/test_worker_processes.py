"""Several workers at once: real ``govshare worker`` processes never run one run twice, and the
periodic tasks run at most once per interval across all workers.

The platform database is one of the module's own (a SQLite file, or a sibling PostgreSQL database
when the suite runs on PostgreSQL), with the base in it — the embedded default.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from govshare.db import Database
from govshare.exchange import runs, worker
from govshare.exchange.models import BaseTable, Mount, PeriodicTaskState, SyncRun
from govshare.identity.actor import Actor
from govshare.kit import clock
from tests.exchange import table_sources
from tests.exchange.table_sources import ITEMS, Source, checksum
from tests.factories import Factory
from tests.own_database import own_platform_database

CALLS: list[tuple[str, str]] = []  # (task, actor) of every call of the test tasks below


def counting_task(session: Session, actor: Actor) -> int:
    CALLS.append(("counting", actor.username))
    time.sleep(0.05)  # long enough for the other worker to try meanwhile
    return 7


def failing_task(session: Session, actor: Actor) -> int:
    CALLS.append(("failing", actor.username))
    raise RuntimeError("源系统不可用")


@pytest.fixture(scope="module")
def db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with own_platform_database(database_url, tmp_path_factory.mktemp("procs"), "procs") as database:
        yield database


@pytest.fixture(autouse=True)
def _clean(db: Database) -> Iterator[None]:
    with db.session_scope() as s:
        s.execute(delete(SyncRun))
        s.execute(delete(PeriodicTaskState))
        s.execute(update(Mount).values(status="paused"))
    CALLS.clear()
    yield
    clock.set_now(None)


def _mount(db: Database, source: Source) -> tuple[int, int]:
    """Mount ``source`` behind a new resource; (resource id, mount id). Probes read a table of their own."""
    with db.session_scope() as s:
        factory = Factory(s)
        department = factory.department()
        resource = factory.resource(department, items=[(name, data_type) for _, name, data_type, _ in ITEMS])
        items = sorted(resource.items, key=lambda i: i.position)
        mount = runs.mount_table(
            s,
            factory.compiler(department),
            resource_id=resource.id,
            url=source.url,
            table=source.table,
            mapping={item.id: column for item, (_, _, _, column) in zip(items, ITEMS, strict=True)},
            sync_mode="incremental",
            watermark_column="seq",
            key_column="id",
            test_table="probe_target",
        )
        return resource.id, mount.id


@pytest.mark.article("A24.2")
def test_two_worker_processes_started_together_never_run_a_run_twice(db: Database, tmp_path: Path) -> None:
    sources: list[tuple[Source, int, int]] = []
    for n in range(6):
        (tmp_path / f"p{n}").mkdir()
        source = next(table_sources.sqlite_source(tmp_path / f"p{n}"))
        source.create(2000 + 500 * n)
        source.execute("CREATE TABLE probe_target (x INTEGER)")
        resource_id, mount_id = _mount(db, source)
        sources.append((source, resource_id, mount_id))
    with db.session_scope() as s:
        queued = [runs.queue_run(s, mount_id, trigger="manual").id for _, _, mount_id in sources]
    env = {**os.environ, "GOVSHARE_DATABASE_URL": db.url, "GOVSHARE_ENVIRONMENT": "test"}
    env.pop("GOVSHARE_BASE_URL", None)
    command = [str(Path(sys.executable).parent / "govshare"), "worker", "--poll", "0.2", "--lease", "30"]
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    handles = [log.open("wb") for log in logs]
    workers = [subprocess.Popen(command, env=env, stdout=h, stderr=subprocess.STDOUT) for h in handles]
    try:
        deadline = time.monotonic() + 120
        while True:
            with db.session_scope() as s:
                statuses = list(s.scalars(select(SyncRun.status).where(SyncRun.id.in_(queued))))
            if all(status == "succeeded" for status in statuses):
                break
            assert "failed" not in statuses and time.monotonic() < deadline, statuses
            time.sleep(0.2)
        time.sleep(1.0)  # let both settle: probes, the periodic tasks, the next syncs queued
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(timeout=60)
        for h in handles:
            h.close()
    assert [p.returncode for p in workers] == [0, 0]
    output = [log.read_text(encoding="utf-8") for log in logs]
    executed = Counter(int(m) for text in output for m in re.findall(r"执行运行 #(\d+)\(sync", text))
    assert set(queued) <= set(executed) and all(n == 1 for n in executed.values()), executed
    owners = {re.search(r"作业进程 (worker-\w+) 已启动", text).group(1) for text in output}  # type: ignore[union-attr]
    assert len(owners) == 2
    for source, resource_id, mount_id in sources:
        with db.session_scope() as s:
            record = s.scalars(select(BaseTable).where(BaseTable.resource_id == resource_id)).one()
            syncs = list(s.scalars(select(SyncRun).where(SyncRun.mount_id == mount_id, SyncRun.kind == "sync")))
        # one executed run and the next one queued by its 更新周期: nothing was queued twice
        assert sorted(r.status for r in syncs) == ["queued", "succeeded"]
        with db.engine.connect() as conn:
            cols = ", ".join(c["column"] for c in record.columns)
            rows = list(conn.execute(text(f"SELECT {cols} FROM {record.table_name}")))
        assert checksum(rows) == checksum(source.rows())  # equality with the source, no duplicates
        assert record.row_count == len(rows) == len(source.rows())
    with db.session_scope() as s:
        done = list(s.scalars(select(SyncRun).where(SyncRun.id.in_(queued))))
        assert {r.lease_owner for r in done} <= owners and all(r.status == "succeeded" for r in done)
        task = s.get(PeriodicTaskState, "grant_expiry")
        assert task is not None and task.runs == 1 and task.last_status == "succeeded"  # once, by one of them
        assert task.lease_owner in owners
    grant_runs = sum(text.count("定期任务 grant_expiry 已执行") for text in output)
    assert grant_runs == 1
    for source, _, _ in sources:
        source.engine.dispose()


@pytest.mark.article("A24.2")
def test_a_periodic_task_runs_once_per_interval_across_concurrent_workers(db: Database) -> None:
    task = worker.PeriodicTask("counting", dt.timedelta(hours=1), f"{__name__}:counting_task")
    t0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    clock.set_now(t0)
    ran: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def loop(owner: str) -> None:
        start.wait()
        ran[owner] = worker.run_periodic(db, owner, tasks=[task])

    threads = [threading.Thread(target=loop, args=(f"worker-{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(names) for names in ran.values()) == 1 and CALLS == [("counting", "task:counting")]
    with db.session_scope() as s:
        state = s.get(PeriodicTaskState, "counting")
        assert state is not None
        assert (state.runs, state.last_status, state.last_result) == (1, "succeeded", 7)
        assert state.next_due_at == t0 + dt.timedelta(hours=1)
    clock.set_now(t0 + dt.timedelta(minutes=59))
    assert worker.run_periodic(db, "worker-0", tasks=[task]) == []  # not yet due again
    clock.set_now(t0 + dt.timedelta(hours=1))
    assert worker.run_periodic(db, "worker-1", tasks=[task]) == ["counting"]
    assert len(CALLS) == 2


@pytest.mark.article("A24.2")
def test_a_failing_periodic_task_is_rolled_back_recorded_and_retried_later(db: Database) -> None:
    task = worker.PeriodicTask("failing", dt.timedelta(days=1), f"{__name__}:failing_task")
    t0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    clock.set_now(t0)
    assert worker.run_periodic(db, "worker-a", tasks=[task]) == []
    with db.session_scope() as s:
        state = s.get(PeriodicTaskState, "failing")
        assert state is not None
        assert state.last_status == "failed" and "源系统不可用" in state.last_error
        assert state.next_due_at == t0 + worker.PERIODIC_RETRY  # not a whole day later
        assert state.runs == 0  # the claim was rolled back with the task's own work
    clock.set_now(t0 + worker.PERIODIC_RETRY)
    assert worker.run_periodic(db, "worker-a", tasks=[task]) == []
    assert len(CALLS) == 2


def test_the_registered_tasks_resolve_and_include_grant_expiry(db: Database) -> None:
    targets = {t.name: t.target for t in worker.PERIODIC_TASKS}
    assert targets["grant_expiry"] == "govshare.sharing.grants:expire_due"
    for task in worker.PERIODIC_TASKS:
        assert callable(worker.resolve_task(task.target))
        assert task.interval > dt.timedelta(0)
    assert worker.run_periodic(db, "worker-a") == [t.name for t in worker.PERIODIC_TASKS]
    with db.session_scope() as s:
        state = s.get(PeriodicTaskState, "grant_expiry")
        assert state is not None and state.last_status == "succeeded" and state.last_result == 0
