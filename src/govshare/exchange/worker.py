"""The worker: claims due runs with a lease in the database, runs them, schedules the next.

Coordination is only through the database, so any number of workers (threads, processes,
machines) may run. A claim moves a run to ``running`` with ``lease_owner``/``lease_expires_at``:
on PostgreSQL the candidate is locked with ``FOR UPDATE SKIP LOCKED`` first; everywhere the move
itself is a conditional UPDATE, so two claimants never both win. A running worker renews its lease;
a killed worker's run is taken over once its lease expires (a full sync restarts from scratch, an
incremental one from its committed watermark). A failed run is retried with exponential backoff
up to ``MAX_ATTEMPTS``; each success queues the next sync from the resource's 更新周期.

An incremental mount loads in full (a staging swap that also drops rows deleted at the source) when
its last full load is older than the mount's ``full_refresh_days`` or its source was edited
(``runs.full_refresh_reason``); the run's ``mode`` says which (全量刷新(定期) …), and
``BaseTable.last_full_refresh_at`` records when it began.

The loop also runs the registered ``PERIODIC_TASKS`` (grant expiry, deadline reminders …), each at
most once per interval across all workers. ``govshare serve`` runs the loop in a thread of its own
(``BackgroundWorker``) when ``runs_in_process`` says so: by default on SQLite only.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.config import Settings
from govshare.db import Database, is_postgres
from govshare.exchange import base
from govshare.exchange import run_repository as repository
from govshare.exchange.channels import ProgressCallback, RunEnv, SyncFailed, get_channel
from govshare.exchange.models import Mount, SyncRun
from govshare.exchange.runs import mount_spec, queue_run
from govshare.identity.actor import Actor
from govshare.kit import clock

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_BASE_SECONDS = 60
PROBE_INTERVAL = dt.timedelta(hours=1)
CYCLE_INTERVALS: dict[str, dt.timedelta] = {
    "realtime": dt.timedelta(minutes=5),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(weeks=1),
    "monthly": dt.timedelta(days=30),
    "quarterly": dt.timedelta(days=91),
    "half_yearly": dt.timedelta(days=182),
    "yearly": dt.timedelta(days=365),
    "other": dt.timedelta(days=1),
}


def new_owner() -> str:
    return f"worker-{uuid.uuid4().hex[:12]}"


def next_sync_at(update_cycle: str, after: dt.datetime) -> dt.datetime:
    """When the next scheduled sync is due, from the resource's 更新周期."""
    return after + CYCLE_INTERVALS.get(update_cycle, CYCLE_INTERVALS["daily"])


def retry_delay(attempt: int) -> dt.timedelta:
    """Exponential backoff: 1, 2, 4 … minutes after the ``attempt``-th failure."""
    return dt.timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (attempt - 1))


def claim(session: Session, owner: str, *, lease_seconds: int) -> int | None:
    """Claim one due run for ``owner``; returns its id or None. The caller commits."""
    at = clock.now()
    expires = at + dt.timedelta(seconds=lease_seconds)
    pg = is_postgres(session)
    for run_id in repository.claimable_ids(session, at, limit=1 if pg else 10, lock=pg):
        if repository.take_lease(session, run_id, owner, at, expires):
            return run_id
    return None


def schedule_unscheduled(session: Session) -> int:
    """Queue a first sync (and probe) for active mounts that have none queued or running."""
    count = 0
    for kind in ("sync", "probe"):
        for mount in repository.unscheduled_active_mounts(session, kind):
            if kind == "probe" and mount.channel not in ("table", "file", "api"):
                continue
            if kind == "sync" and mount.channel == "api":  # read live through the gateway: nothing to sync
                continue
            queue_run(session, mount.id, kind=kind)
            count += 1
    return count


@dataclass
class _Lease:
    """Renews a run's lease from a side thread while the run works."""

    db: Database
    run_id: int
    owner: str
    lease_seconds: int
    progress_rows: int = 0
    lost: bool = False

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{self.run_id}", daemon=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(max(self.lease_seconds / 3, 0.05)):
            try:
                with self.db.session_scope() as s:
                    expires = clock.now() + dt.timedelta(seconds=self.lease_seconds)
                    if not repository.renew_lease(s, self.run_id, self.owner, expires, self.progress_rows):
                        self.lost = True
                        return
            except Exception:  # a busy database must not kill the run; the next renewal retries
                log.warning("续租失败,稍后重试 run=%s", self.run_id, exc_info=True)


def execute(
    db: Database,
    run_id: int,
    owner: str,
    *,
    lease_seconds: int = 60,
    base_engine: Engine | None = None,
    progress: ProgressCallback | None = None,
) -> str:
    """Run a claimed run and record its outcome; returns the final status."""
    with db.session_scope() as s:
        run = repository.run(s, run_id)
        assert run is not None
        mount = repository.mount(s, run.mount_id)
        assert mount is not None
        resource = s.get(Resource, mount.resource_id)
        assert resource is not None
        spec = mount_spec(s, mount)
        kind, attempt, update_cycle = run.kind, run.attempt, resource.update_cycle
        mount_version = mount.version
    started_at = clock.now()
    log.info("执行运行 #%s(%s,挂载 %s,作业进程 %s)", run_id, kind, spec.mount_id, owner)
    engine = base_engine or base.base_engine()
    started = time.perf_counter()
    values: dict[str, object] = {}
    full_load = False
    with _Lease(db, run_id, owner, lease_seconds) as lease:

        def on_progress(rows: int, nbytes: int) -> None:
            if lease.lost:  # another worker has taken the run over: stop before the next commit
                raise SyncFailed("作业租约已失效,已由其他作业进程接管", code="lease_lost")
            lease.progress_rows = rows
            if progress is not None:
                progress(rows, nbytes)

        try:
            channel = get_channel(spec.channel)
            if kind == "probe":
                outcome = channel.probe(spec)
                values = {"status": "succeeded" if outcome.ok else "failed", "latency_ms": outcome.latency_ms}
                values["error"] = outcome.error
            else:
                result = channel.sync(spec, RunEnv(base=engine, progress=on_progress, db=db))
                values = {"status": "succeeded", "rows": result.rows, "bytes": result.bytes, "progress": result.rows}
                values["quality"] = result.quality
                values["mode"] = result.mode
                full_load = result.full
        except SyncFailed as exc:
            values = {"status": "failed", "error": exc.detail}
        except Exception:
            log.exception("同步运行出错 run=%s", run_id)
            values = {"status": "failed", "error": "同步时发生内部错误,请联系系统管理员"}
        if kind == "sync" and values["status"] == "failed" and spec.full_refresh:
            values["mode"] = f"full_{spec.full_refresh}"  # the refresh it attempted; tried again next run
    finished = clock.now()
    values["finished_at"] = finished
    values["duration_ms"] = int((time.perf_counter() - started) * 1000)
    state = None
    if kind == "sync" and values["status"] == "succeeded":
        # Read before the platform transaction opens: on SQLite the base may be the same file.
        with engine.connect() as conn:
            state = base.read_state(conn, base.table_name(spec.resource_id))
    with db.session_scope() as s:
        if not repository.finish(s, run_id, owner, **values):
            return "lost"  # another worker took the run over after our lease expired
        if state is not None:
            _record_base(s, spec.resource_id, finished, state, values.get("quality"))
        current = repository.mount(s, spec.mount_id)
        if full_load:
            _record_full_refresh(s, spec.resource_id, started_at, current, mount_version)
        if current is None or current.status != "active":
            pass  # paused while it ran: nothing more is scheduled until it is resumed
        elif values["status"] == "failed" and kind == "sync" and attempt < MAX_ATTEMPTS:
            queue_run(s, spec.mount_id, kind=kind, scheduled_for=finished + retry_delay(attempt), attempt=attempt + 1)
        elif not repository.has_pending(s, spec.mount_id, kind):
            interval = next_sync_at(update_cycle, finished) if kind == "sync" else finished + PROBE_INTERVAL
            queue_run(s, spec.mount_id, kind=kind, scheduled_for=interval)
    return str(values["status"])


def _record_base(
    session: Session, resource_id: int, at: dt.datetime, state: base.SyncState, quality: object = None
) -> None:
    record = repository.base_table(session, resource_id)
    if record is None:
        return
    record.last_good_sync_at = at
    record.row_count = state.row_count
    record.watermark = {"value": base.encode_watermark(state.watermark)}
    if isinstance(quality, dict) and quality:
        record.quality = quality  # of the last good sync (A25.1)


def _record_full_refresh(
    session: Session, resource_id: int, started_at: dt.datetime, mount: Mount | None, version: int
) -> None:
    """A full load replaced the base table: the next scheduled full refresh counts from when it began
    reading, and a pending "source changed" refresh is done — unless the mount was edited meanwhile."""
    record = repository.base_table(session, resource_id)
    if record is not None:
        record.last_full_refresh_at = started_at
    if mount is not None and mount.version == version and mount.full_refresh_pending:
        mount.full_refresh_pending = False


def run_once(db: Database, owner: str, *, lease_seconds: int = 60, base_engine: Engine | None = None) -> int | None:
    """Claim and run one due run; returns its id, or None when nothing was due."""
    with db.session_scope() as s:
        run_id = claim(s, owner, lease_seconds=lease_seconds)
    if run_id is None:
        return None
    execute(db, run_id, owner, lease_seconds=lease_seconds, base_engine=base_engine)
    return run_id


@dataclass(frozen=True)
class PeriodicTask:
    """Work the worker loop runs every ``interval``: ``target`` names ``module:function``, called as
    ``fn(session, actor=Actor.system())`` in a transaction of its own; it returns a count (or None)."""

    name: str
    interval: dt.timedelta
    target: str


# Due tasks run at most once per interval across all workers: a worker runs a task only inside the
# transaction that moves the task's ``periodic_task`` row forward (a conditional UPDATE, after a
# SKIP LOCKED lock on PostgreSQL), so its effects and that move commit or roll back together. A
# failed task is tried again after ``PERIODIC_RETRY`` (or its interval, if shorter).
PERIODIC_TASKS: list[PeriodicTask] = [
    PeriodicTask("grant_expiry", dt.timedelta(hours=1), "govshare.sharing.grants:expire_due"),
    PeriodicTask("application_reminders", dt.timedelta(hours=1), "govshare.sharing.tasks:remind_and_escalate"),
]
PERIODIC_RETRY = dt.timedelta(minutes=5)


def resolve_task(target: str) -> Callable[..., object]:
    """The function a ``module:function`` target names."""
    module, _, name = target.partition(":")
    fn: Callable[..., object] = getattr(importlib.import_module(module), name)
    return fn


def run_periodic(db: Database, owner: str, *, tasks: list[PeriodicTask] | None = None) -> list[str]:
    """Run the registered tasks that are due and that no other worker has run in this interval;
    returns the names of those this worker ran."""
    tasks = PERIODIC_TASKS if tasks is None else tasks
    if not tasks:
        return []
    at = clock.now()
    with db.session_scope() as s:
        for task in tasks:
            repository.ensure_periodic_task(s, task.name, at)
        due = set(repository.due_periodic_task_names(s, at))
    ran: list[str] = []
    for task in tasks:
        if task.name not in due:
            continue
        started = clock.now()
        try:
            with db.session_scope() as s:
                next_due = started + task.interval
                if not repository.claim_periodic_task(s, task.name, owner, started, next_due, lock=is_postgres(s)):
                    continue  # another worker runs it, or just has
                result = resolve_task(task.target)(s, actor=Actor.system(name=f"task:{task.name}"))
                repository.finish_periodic_task(
                    s,
                    task.name,
                    last_finished_at=clock.now(),
                    last_status="succeeded",
                    last_result=result if isinstance(result, int) else None,
                    last_error="",
                )
            ran.append(task.name)
            log.info("定期任务 %s 已执行(作业进程 %s),结果 %s", task.name, owner, result)
        except Exception as exc:
            log.exception("定期任务 %s 出错", task.name)
            finished = clock.now()
            with db.session_scope() as s:  # its own work was rolled back whole; try again later
                repository.postpone_failed_periodic_task(
                    s,
                    task.name,
                    owner,
                    due_by=started,
                    finished=finished,
                    next_due=finished + min(task.interval, PERIODIC_RETRY),
                    error=f"{type(exc).__name__}: {exc}"[:500],
                )
    return ran


def run_forever(
    db: Database, stop: threading.Event, *, owner: str | None = None, poll_seconds: float = 5.0, lease_seconds: int = 60
) -> None:
    """The worker loop of ``govshare worker`` (and of ``govshare serve`` in the embedded default)."""
    owner = owner or new_owner()
    while not stop.is_set():
        try:
            with db.session_scope() as s:
                schedule_unscheduled(s)
            run_periodic(db, owner)
            if run_once(db, owner, lease_seconds=lease_seconds) is not None:
                continue
        except Exception:
            log.exception("worker 循环出错,稍后重试")
        stop.wait(poll_seconds)


def runs_in_process(settings: Settings) -> bool:
    """Whether ``govshare serve`` runs the worker loop in a thread: ``GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS``
    when set; otherwise yes on SQLite (the embedded default, one process) and no on PostgreSQL, where
    ``govshare worker`` processes run beside the servers."""
    configured = settings.server.run_worker_in_process
    if configured is not None:
        return configured
    return make_url(settings.effective_database_url).get_backend_name() == "sqlite"


class BackgroundWorker:
    """``run_forever`` in a daemon thread of a server process, stopped at the server's shutdown."""

    def __init__(self, db: Database, *, poll_seconds: float = 5.0, lease_seconds: int = 60) -> None:
        self.owner = new_owner()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_forever,
            args=(db, self._stop),
            kwargs={"owner": self.owner, "poll_seconds": poll_seconds, "lease_seconds": lease_seconds},
            name="govshare-worker",
            daemon=True,
        )

    def start(self) -> BackgroundWorker:
        self._thread.start()
        log.info("作业线程 %s 已在服务进程中启动", self.owner)
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the loop to stop after the run in hand and wait for it; False if it is still running
        (its lease then expires and another worker takes the run over)."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def run_row(db: Database, run_id: int) -> SyncRun | None:
    with db.session_scope() as s:
        return repository.run(s, run_id)


def claim_run(session: Session, run_id: int, owner: str, *, lease_seconds: int) -> bool:
    """Claim one given run (``govshare sync`` running its own run inline); False if another worker has it."""
    at = clock.now()
    return repository.take_lease(session, run_id, owner, at, at + dt.timedelta(seconds=lease_seconds))
