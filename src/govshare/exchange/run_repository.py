"""Queries of mounts, runs and base tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from govshare.catalog.models import DataItem, Resource
from govshare.exchange.models import BaseTable, Mount, PeriodicTaskState, SyncRun

ACTIVE_STATUSES = ("queued", "running")


def mount(session: Session, mount_id: int) -> Mount | None:
    return session.get(Mount, mount_id)


def active_mount_for(session: Session, resource_id: int) -> Mount | None:
    return session.scalars(
        select(Mount).where(Mount.resource_id == resource_id, Mount.status == "active").order_by(Mount.id.desc())
    ).first()


def resource_by_code(session: Session, code: str) -> Resource | None:
    return session.scalars(select(Resource).where(Resource.code == code)).first()


def items_of(session: Session, resource_id: int) -> list[DataItem]:
    return list(
        session.scalars(select(DataItem).where(DataItem.resource_id == resource_id).order_by(DataItem.position))
    )


def base_table(session: Session, resource_id: int) -> BaseTable | None:
    return session.scalars(select(BaseTable).where(BaseTable.resource_id == resource_id)).first()


def run(session: Session, run_id: int) -> SyncRun | None:
    return session.get(SyncRun, run_id)


def runs_of(session: Session, mount_id: int, limit: int = 50) -> list[SyncRun]:
    return list(
        session.scalars(select(SyncRun).where(SyncRun.mount_id == mount_id).order_by(SyncRun.id.desc()).limit(limit))
    )


def has_pending(session: Session, mount_id: int, kind: str) -> bool:
    """Whether a queued or running run of that kind exists for the mount."""
    found = session.scalars(
        select(SyncRun.id).where(
            SyncRun.mount_id == mount_id, SyncRun.kind == kind, SyncRun.status.in_(ACTIVE_STATUSES)
        )
    ).first()
    return found is not None


def due_or_running(session: Session, mount_id: int, kind: str, at: dt.datetime) -> SyncRun | None:
    """A run of that kind that is running, or queued and already due."""
    return session.scalars(
        select(SyncRun)
        .where(
            SyncRun.mount_id == mount_id,
            SyncRun.kind == kind,
            or_(SyncRun.status == "running", (SyncRun.status == "queued") & (SyncRun.scheduled_for <= at)),
        )
        .order_by(SyncRun.id)
    ).first()


def unscheduled_active_mounts(session: Session, kind: str) -> list[Mount]:
    """Active mounts with no queued or running run of ``kind``."""
    pending = select(SyncRun.mount_id).where(SyncRun.kind == kind, SyncRun.status.in_(ACTIVE_STATUSES))
    return list(session.scalars(select(Mount).where(Mount.status == "active", Mount.id.not_in(pending))))


def claimable_ids(session: Session, at: dt.datetime, *, limit: int, lock: bool) -> list[int]:
    """Due queued runs, and running runs whose lease has expired (their worker died)."""
    stmt = (
        select(SyncRun.id)
        .where(
            or_(
                (SyncRun.status == "queued") & (SyncRun.scheduled_for <= at),
                (SyncRun.status == "running") & (SyncRun.lease_expires_at < at),
            )
        )
        .order_by(SyncRun.scheduled_for, SyncRun.id)
        .limit(limit)
    )
    if lock:
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def take_lease(session: Session, run_id: int, owner: str, at: dt.datetime, expires: dt.datetime) -> bool:
    """Conditional UPDATE: only one claimant can move a run from queued (or expired) to running."""
    result = session.execute(
        update(SyncRun)
        .where(
            SyncRun.id == run_id,
            or_(
                (SyncRun.status == "queued") & (SyncRun.scheduled_for <= at),
                (SyncRun.status == "running") & (SyncRun.lease_expires_at < at),
            ),
        )
        .values(status="running", lease_owner=owner, lease_expires_at=expires, started_at=at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def renew_lease(session: Session, run_id: int, owner: str, expires: dt.datetime, progress: int) -> bool:
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.lease_owner == owner, SyncRun.status == "running")
        .values(lease_expires_at=expires, progress=progress)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def finish(session: Session, run_id: int, owner: str, **values: object) -> bool:
    """Record a run's end, only if this worker still holds its lease."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.lease_owner == owner, SyncRun.status == "running")
        .values(lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def resource_with_items(session: Session, resource_id: int) -> Resource | None:
    return session.scalars(
        select(Resource).where(Resource.id == resource_id).options(selectinload(Resource.items))
    ).first()


def ensure_periodic_task(session: Session, name: str, first_due: dt.datetime) -> None:
    """Add a periodic task's row unless it exists; two workers adding it at once is harmless."""
    if session.get(PeriodicTaskState, name) is not None:
        return
    try:
        with session.begin_nested():
            session.add(PeriodicTaskState(name=name, next_due_at=first_due))
    except IntegrityError:
        pass  # another worker added it first


def due_periodic_task_names(session: Session, at: dt.datetime) -> list[str]:
    return list(session.scalars(select(PeriodicTaskState.name).where(PeriodicTaskState.next_due_at <= at)))


def claim_periodic_task(
    session: Session, name: str, owner: str, at: dt.datetime, next_due: dt.datetime, *, lock: bool
) -> bool:
    """Move a due task's ``next_due_at`` forward for ``owner``; only one claimant wins. On PostgreSQL the
    row is first locked with SKIP LOCKED, so a worker never waits for another's running task."""
    if lock:
        locked = session.scalars(
            select(PeriodicTaskState.name)
            .where(PeriodicTaskState.name == name, PeriodicTaskState.next_due_at <= at)
            .with_for_update(skip_locked=True)
        ).first()
        if locked is None:
            return False
    result = session.execute(
        update(PeriodicTaskState)
        .where(PeriodicTaskState.name == name, PeriodicTaskState.next_due_at <= at)
        .values(next_due_at=next_due, lease_owner=owner, last_started_at=at, runs=PeriodicTaskState.runs + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def finish_periodic_task(session: Session, name: str, **values: object) -> None:
    session.execute(
        update(PeriodicTaskState)
        .where(PeriodicTaskState.name == name)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def postpone_failed_periodic_task(
    session: Session,
    name: str,
    owner: str,
    *,
    due_by: dt.datetime,
    finished: dt.datetime,
    next_due: dt.datetime,
    error: str,
) -> None:
    """Record a failed run of a task and when to try again, unless another worker has run it since."""
    session.execute(
        update(PeriodicTaskState)
        .where(PeriodicTaskState.name == name, PeriodicTaskState.next_due_at <= due_by)
        .values(
            next_due_at=next_due,
            lease_owner=owner,
            last_status="failed",
            last_error=error,
            last_finished_at=finished,
        )
        .execution_options(synchronize_session=False)
    )
