"""The worker: leases, takeover, retries, scheduling, and runs recorded as rows.

These tests need committed data seen by several sessions, so they use a platform database of
their own (a SQLite file, or a sibling PostgreSQL database when the suite runs on PostgreSQL),
with the base in that same database — the embedded default.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from govshare import migrate
from govshare.catalog.models import Resource
from govshare.db import Database
from govshare.errors import Forbidden
from govshare.exchange import run_repository, runs, worker
from govshare.exchange.models import BaseTable, Mount, SyncRun
from govshare.identity.actor import Actor
from govshare.identity.reference import ensure_reference_data
from govshare.kit import clock
from tests import pg
from tests.exchange import table_sources
from tests.exchange.table_sources import ITEMS, Source, checksum
from tests.factories import Factory


@pytest.fixture(scope="module")
def db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if database_url.startswith("postgres"):
        url = pg.create_database(pg.sibling_url(database_url, "_worker"))
    else:
        url = f"sqlite:///{(tmp_path_factory.mktemp('worker') / 'platform.db').as_posix()}"
    database = Database(url)
    migrate.upgrade(database.engine)
    with database.session_scope() as s:
        ensure_reference_data(s)
    yield database
    database.dispose()
    if url.startswith("postgres"):
        pg.drop_database(url)


@pytest.fixture(autouse=True)
def _no_leftover_runs(db: Database) -> None:
    with db.session_scope() as s:
        s.execute(delete(SyncRun))
        s.execute(update(Mount).values(status="paused"))  # earlier tests' sources are gone


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    yield from table_sources.sqlite_source(tmp_path)


def _mounted(db: Database, source: Source, *, table: str | None = None) -> tuple[Resource, Mount, Actor]:
    with db.session_scope() as s:
        factory = Factory(s)
        department = factory.department()
        compiler = factory.compiler(department)
        resource = factory.resource(department, items=[(name, data_type) for _, name, data_type, _ in ITEMS])
        items = sorted(resource.items, key=lambda i: i.position)
        mapping = {item.id: column for item, (_, _, _, column) in zip(items, ITEMS, strict=True)}
        mount = runs.mount_table(
            s,
            compiler,
            resource_id=resource.id,
            url=source.url,
            table=table or source.table,
            mapping=mapping,
            sync_mode="incremental",
            watermark_column="seq",
            key_column="id",
            test_table=source.table,
        )
    return resource, mount, compiler


def _runs(db: Database, mount_id: int) -> list[SyncRun]:
    with db.session_scope() as s:
        return list(s.scalars(select(SyncRun).where(SyncRun.mount_id == mount_id).order_by(SyncRun.id)))


@pytest.mark.article("A8.1", "A24.2")
def test_a_manual_sync_runs_and_is_recorded_as_a_row(db: Database, source: Source) -> None:
    source.create(1000)
    resource, mount, compiler = _mounted(db, source)
    with db.session_scope() as s:
        queued = runs.request_sync(s, compiler, resource_code=resource.code)
    assert worker.run_once(db, "worker-a", base_engine=db.engine) == queued.id
    done, following = _runs(db, mount.id)
    assert (done.status, done.trigger, done.rows, done.error) == ("succeeded", "manual", 1000, "")
    assert done.bytes > 0 and done.duration_ms >= 0 and done.finished_at is not None
    # the next sync follows the resource's 更新周期 (daily)
    assert following.status == "queued" and following.scheduled_for == done.finished_at + dt.timedelta(days=1)
    with db.session_scope() as s:
        record = s.scalars(select(BaseTable).where(BaseTable.resource_id == resource.id)).one()
        assert record.row_count == 1000 and record.last_good_sync_at == done.finished_at
        assert [c["name"] for c in record.columns] == [name for _, name, _, _ in ITEMS]
    rows = base_rows_for(db, record)
    assert checksum(rows) == checksum(source.rows())


def base_rows_for(db: Database, record: BaseTable) -> list[tuple[object, ...]]:
    cols = ", ".join(c["column"] for c in record.columns)
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {record.table_name}"))]


@pytest.mark.article("A24.2")
def test_a_probe_records_latency_and_the_scheduler_queues_both_kinds(db: Database, source: Source) -> None:
    source.create(5)
    _resource, mount, _compiler = _mounted(db, source)
    with db.session_scope() as s:
        assert worker.schedule_unscheduled(s) == 2
        assert worker.schedule_unscheduled(s) == 0
    kinds = set()
    while (run_id := worker.run_once(db, "worker-a", base_engine=db.engine)) is not None:
        run = worker.run_row(db, run_id)
        assert run is not None and run.status == "succeeded"
        kinds.add(run.kind)
        if run.kind == "probe":
            assert run.latency_ms is not None and run.latency_ms >= 0
    assert kinds == {"sync", "probe"}
    assert [r.status for r in _runs(db, mount.id)].count("queued") == 2  # the next sync and the next probe


@pytest.mark.article("A24.2")
def test_two_workers_claiming_concurrently_never_take_the_same_run(db: Database, source: Source) -> None:
    _resource, mount, _compiler = _mounted(db, source)
    with db.session_scope() as s:
        queued = [runs.queue_run(s, mount.id, kind="probe").id for _ in range(40)]
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def claim_all(name: str) -> None:
        start.wait()
        while True:
            with db.session_scope() as s:
                run_id = worker.claim(s, f"worker-{name}", lease_seconds=60)
            if run_id is None:
                return
            claimed[name].append(run_id)

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == sorted(queued)
    owners = {r.id: r.lease_owner for r in _runs(db, mount.id)}
    assert all(owners[i] == "worker-a" for i in claimed["a"]) and all(owners[i] == "worker-b" for i in claimed["b"])


@pytest.mark.article("A24.2")
def test_an_expired_lease_is_taken_over_and_the_dead_worker_cannot_finish(db: Database, source: Source) -> None:
    source.create(200)
    resource, _mount, compiler = _mounted(db, source)
    t0 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    clock.set_now(t0)
    with db.session_scope() as s:
        run_id = runs.request_sync(s, compiler, resource_code=resource.code).id
        assert worker.claim(s, "worker-dead", lease_seconds=30) == run_id
    with db.session_scope() as s:
        assert worker.claim(s, "worker-b", lease_seconds=30) is None  # the lease still holds
    clock.set_now(t0 + dt.timedelta(seconds=31))
    with db.session_scope() as s:
        assert worker.claim(s, "worker-b", lease_seconds=30) == run_id
    with db.session_scope() as s:
        assert not run_repository.finish(s, run_id, "worker-dead", status="succeeded")
    assert worker.execute(db, run_id, "worker-b", lease_seconds=30, base_engine=db.engine) == "succeeded"
    run = worker.run_row(db, run_id)
    assert run is not None and run.lease_owner == "worker-b" and run.rows == 200


@pytest.mark.article("A24.2")
def test_a_failed_run_is_retried_with_backoff_then_waits_for_the_next_cycle(db: Database, source: Source) -> None:
    resource, mount, compiler = _mounted(db, source, table="missing_table")
    t0 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    clock.set_now(t0)
    with db.session_scope() as s:
        runs.request_sync(s, compiler, resource_code=resource.code)
    delays = []
    for attempt in range(1, worker.MAX_ATTEMPTS + 1):
        run_id = worker.run_once(db, "worker-a", base_engine=db.engine)
        assert run_id is not None
        failed = worker.run_row(db, run_id)
        assert failed is not None and failed.status == "failed" and failed.attempt == attempt
        assert failed.error == "源表 missing_table 不存在或无权读取"
        following = _runs(db, mount.id)[-1]
        assert failed.finished_at is not None
        delays.append(following.scheduled_for - failed.finished_at)
        clock.set_now(following.scheduled_for)
    assert delays == [worker.retry_delay(1), worker.retry_delay(2), dt.timedelta(days=1)]
    assert delays[0] < delays[1]
    assert _runs(db, mount.id)[-1].attempt == 1  # after the last attempt: the next daily sync


def test_only_the_provider_may_request_a_sync(db: Database, source: Source) -> None:
    resource, _mount, _compiler = _mounted(db, source)
    with db.session_scope() as s:
        other = Factory(s).compiler(Factory(s).department())
        with pytest.raises(Forbidden):
            runs.request_sync(s, other, resource_code=resource.code)


@pytest.mark.article("A24.2")
def test_govshare_sync_runs_inline_with_progress(db: Database, source: Source, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from govshare.cli import app
    from govshare.config import get_settings

    source.create(1200)
    resource, mount, _compiler = _mounted(db, source)
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", db.url)
    monkeypatch.delenv("GOVSHARE_BASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["sync", resource.code])
        missing = CliRunner().invoke(app, ["sync", "no-such-code"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "已读取 1200 行" in result.output and "同步完成:1200 行" in result.output
    assert missing.exit_code == 1 and "信息资源 no-such-code 不存在" in missing.output
    assert [(r.trigger, r.status) for r in _runs(db, mount.id)] == [("manual", "succeeded"), ("schedule", "queued")]


@pytest.mark.article("A24.2")
def test_source_passwords_are_stored_encrypted_and_never_audited(db: Database) -> None:
    from govshare.audit.models import AuditRecord

    with db.session_scope() as s:
        resource = Factory(s).resource(items=[("编号", "I")])
        item_id = resource.items[0].id
        secret_mount = runs.mount_table(
            s,
            Actor.system(),
            resource_id=resource.id,
            url="postgresql://reader:Pr0vider-Secret@10.8.1.20:5432/hr",
            test_url="postgresql://probe:Pr0be-Secret@10.8.1.20:5432/hr",
            table="public.people",
            mapping={item_id: "id"},
        )
        spec = runs.mount_spec(s, secret_mount)
        stored = repr((secret_mount.config, secret_mount.secret_encrypted))
        audited = repr([r.after for r in s.scalars(select(AuditRecord).where(AuditRecord.object_type == "mount"))])
    assert "Pr0vider-Secret" not in stored and "Pr0be-Secret" not in stored
    assert "Pr0vider-Secret" not in audited
    assert spec.secret == {"password": "Pr0vider-Secret", "test_password": "Pr0be-Secret"}
    assert spec.config["url"] == "postgresql+psycopg://reader@10.8.1.20:5432/hr"


KILL_ROWS = 40_000
SLOW_PAD = 2_500  # about 0.14 ms a row read from the view: some 6 s for KILL_ROWS on an idle machine


def _slow_view(source: Source, name: str) -> None:
    """A view over the source table whose every row costs the source a scan of ``SLOW_PAD`` rows."""
    source.execute("DROP TABLE IF EXISTS slow_pad")
    source.execute("CREATE TABLE slow_pad (x INTEGER)")
    with source.engine.begin() as conn:
        conn.execute(text("INSERT INTO slow_pad (x) VALUES (:x)"), [{"x": n} for n in range(SLOW_PAD)])
    source.execute(f"DROP VIEW IF EXISTS {name}")
    source.execute(
        f"CREATE VIEW {name} AS SELECT p.* FROM {source.table} p"
        " WHERE (SELECT count(*) FROM slow_pad WHERE slow_pad.x <> p.id) >= 0"
    )


@pytest.mark.article("A8.1", "A24.2")
def test_a_worker_killed_mid_sync_is_taken_over_with_equality_and_no_duplicates(db: Database, source: Source) -> None:
    # The worker reads a view that the *source* makes slow (each row costs a scan of SLOW_PAD rows, a
    # few seconds for the whole view), so the kill below always lands mid-sync however fast the
    # platform's own sync is; the platform code is the real one, unchanged.
    source.create(KILL_ROWS)
    _slow_view(source, "people_slow")
    resource, mount, compiler = _mounted(db, source, table="people_slow")
    with db.session_scope() as s:
        run_id = runs.request_sync(s, compiler, resource_code=resource.code).id
    env = {**os.environ, "GOVSHARE_DATABASE_URL": db.url, "GOVSHARE_ENVIRONMENT": "test"}
    env.pop("GOVSHARE_BASE_URL", None)
    command = [str(Path(sys.executable).parent / "govshare"), "worker", "--poll", "0.2", "--lease", "2"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until the first worker has loaded rows (progress is recorded with its lease)
            run = worker.run_row(db, run_id)
            assert run is not None and run.status != "succeeded", "the sync finished before it could be killed"
            if run.status == "running" and run.progress > 0:
                killed_owner, killed_progress = run.lease_owner, run.progress
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = worker.run_row(db, run_id)
        assert killed is not None and killed.status == "running"  # it really died mid-run
        assert 0 < killed_progress < KILL_ROWS
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while (run := worker.run_row(db, run_id)) is not None and run.status != "succeeded":
            assert run.status in ("running", "queued") and time.monotonic() < deadline, run.error
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert run is not None and run.lease_owner not in ("", killed_owner)  # taken over by the second worker
    with db.session_scope() as s:
        record = s.scalars(select(BaseTable).where(BaseTable.resource_id == resource.id)).one()
    rows = base_rows_for(db, record)
    assert len({r[0] for r in rows}) == len(rows) == KILL_ROWS  # no duplicates
    assert checksum(rows) == checksum(source.rows())
    assert run.mount_id == mount.id


# ---------------------------------------------------------------------------------------------
# the scheduled full refresh of incremental mounts


@pytest.fixture(params=["sqlite", "mariadb"])
def deleting_source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    if request.param == "sqlite":
        yield from table_sources.sqlite_source(tmp_path)
    else:
        yield from table_sources.mariadb_source()


def _run_at(db: Database, at: dt.datetime) -> SyncRun:
    """Move the clock to ``at`` and let a worker run the mount's due sync (queued after the last one)."""
    clock.set_now(at)
    run_id = worker.run_once(db, "worker-a", base_engine=db.engine)
    assert run_id is not None
    run = worker.run_row(db, run_id)
    assert run is not None and run.status == "succeeded", run and run.error
    return run


def _base_record(db: Database, resource_id: int) -> BaseTable:
    with db.session_scope() as s:
        return s.scalars(select(BaseTable).where(BaseTable.resource_id == resource_id)).one()


@pytest.mark.article("A8.1", "A24.2")
def test_rows_deleted_at_the_source_leave_the_base_at_the_scheduled_full_refresh_only(
    db: Database, deleting_source: Source
) -> None:
    source = deleting_source
    source.create(400)
    resource, mount, compiler = _mounted(db, source)
    assert mount.full_refresh_days == 7 and not mount.full_refresh_pending
    t0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
    clock.set_now(t0)
    with db.session_scope() as s:
        runs.request_sync(s, compiler, resource_code=resource.code)
    first = _run_at(db, t0)
    assert first.mode == "full_initial"
    assert _base_record(db, resource.id).last_full_refresh_at == t0

    source.execute(f"DELETE FROM {source.table} WHERE id <= 7")
    source.update([20, 21])
    source.insert(range(401, 411))
    daily = _run_at(db, t0 + dt.timedelta(days=1))  # an ordinary incremental run
    assert (daily.mode, daily.rows) == ("incremental", 12)
    kept = base_rows_for(db, _base_record(db, resource.id))
    assert len(kept) == 410 and {1, 7} <= {int(str(r[0])) for r in kept}  # deletes are invisible to it
    assert checksum(kept) != checksum(source.rows())
    assert "全量刷新(定期)" not in _runs_page_text(db, mount.id)

    # The queued daily run due after t0 + 2 days, run on day 7: the last full load is 7 days old.
    refresh = _run_at(db, t0 + dt.timedelta(days=7))
    assert (refresh.mode, refresh.rows) == ("full_periodic", 403)
    record = _base_record(db, resource.id)
    rows = base_rows_for(db, record)
    assert checksum(rows) == checksum(source.rows()) and len({r[0] for r in rows}) == len(rows) == 403
    assert record.row_count == 403 and record.last_full_refresh_at == t0 + dt.timedelta(days=7)
    assert "全量刷新(定期)" in _runs_page_text(db, mount.id)

    source.insert(range(411, 416))
    after = _run_at(db, t0 + dt.timedelta(days=8))  # counted from the refresh: incremental again
    assert (after.mode, after.rows) == ("incremental", 5)
    assert checksum(base_rows_for(db, record)) == checksum(source.rows())


@pytest.mark.article("A8.1", "A24.2")
def test_full_refresh_days_zero_never_refreshes_and_is_validated(db: Database, source: Source) -> None:
    from govshare.errors import ValidationFailed
    from govshare.exchange import mounts
    from govshare.exchange.schemas import TableMountUpdate

    source.create(50)
    resource, mount, compiler = _mounted(db, source)
    t0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
    clock.set_now(t0)
    with db.session_scope() as s:
        with pytest.raises(ValidationFailed) as refused:
            mounts.update_table_mount(s, compiler, mount.id, TableMountUpdate(full_refresh_days=-1))
        assert [e.field for e in refused.value.errors] == ["full_refresh_days"]
        assert "0 至 366 天" in refused.value.errors[0].message
    with db.session_scope() as s:
        updated = mounts.update_table_mount(s, compiler, mount.id, TableMountUpdate(full_refresh_days=0))
        assert updated.full_refresh_days == 0 and not updated.full_refresh_pending  # not a source edit
        runs.request_sync(s, compiler, resource_code=resource.code)
    assert _run_at(db, t0).mode == "full_initial"
    source.execute(f"DELETE FROM {source.table} WHERE id <= 3")
    source.insert([51])
    late = _run_at(db, t0 + dt.timedelta(days=60))
    assert (late.mode, late.rows) == ("incremental", 1)
    assert len(base_rows_for(db, _base_record(db, resource.id))) == 51


@pytest.mark.article("A8.1", "A24.2")
def test_an_edited_source_address_forces_a_full_refresh(db: Database, source: Source, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from govshare.audit.models import AuditRecord
    from govshare.exchange import mounts
    from govshare.exchange.schemas import TableMountUpdate

    source.create(300)
    resource, mount, compiler = _mounted(db, source)
    t0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
    clock.set_now(t0)
    with db.session_scope() as s:
        runs.request_sync(s, compiler, resource_code=resource.code)
    assert _run_at(db, t0).mode == "full_initial"

    # The provider moves the table to another database: fewer rows, and watermarks below the stored one.
    url = f"sqlite:///{(tmp_path / 'moved.db').as_posix()}"
    moved = Source("sqlite", url, create_engine(url), "people")
    try:
        moved.create(120)
        with db.session_scope() as s:
            edited = mounts.update_table_mount(s, compiler, mount.id, TableMountUpdate(url=url))
            assert edited.full_refresh_pending
            assert mounts.mount_read(edited, s.get(Resource, resource.id)).full_refresh_pending  # type: ignore[arg-type]
            audited = s.scalars(
                select(AuditRecord).where(AuditRecord.object_type == "mount", AuditRecord.object_id == str(mount.id))
            ).all()
            assert any((r.after or {}).get("full_refresh_pending") for r in audited)
        changed = _run_at(db, t0 + dt.timedelta(days=1))
        assert (changed.mode, changed.rows) == ("full_source_changed", 120)
        assert checksum(base_rows_for(db, _base_record(db, resource.id))) == checksum(moved.rows())
        with db.session_scope() as s:
            assert not s.get(Mount, mount.id).full_refresh_pending  # type: ignore[union-attr]
        moved.insert([121])
        following = _run_at(db, t0 + dt.timedelta(days=2))
        assert (following.mode, following.rows) == ("incremental", 1)
        assert checksum(base_rows_for(db, _base_record(db, resource.id))) == checksum(moved.rows())
    finally:
        moved.engine.dispose()


def _runs_page_text(db: Database, mount_id: int) -> str:
    """The runs table as the mount's pages render it."""
    from govshare.web.templating import templates

    with db.session_scope() as s:
        rows = list(s.scalars(select(SyncRun).where(SyncRun.mount_id == mount_id).order_by(SyncRun.id.desc())))
        import govshare.exchange.pages  # noqa: F401  (registers EXCHANGE_LABELS and the filters)

        return templates.get_template("exchange/_runs_table.html").render(runs=rows)
