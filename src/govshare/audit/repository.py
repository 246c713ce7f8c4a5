"""Every query on the audit trail, and the one visibility rule: only auditors read it (A40.1).

The system administrator (``bureau_admin``) does not hold ``audit:read``: under the separation of
duties the person who runs the system does not read the trail that watches them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor narrows the trail to; every field is optional."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    actor: str = ""  # account name, or the numeric account id
    department_id: int | None = None
    action_prefix: str = ""
    object_type: str = ""
    object_id: str = ""
    outcome: str = ""

    @property
    def is_empty(self) -> bool:
        return self == AuditFilter()


def readable(actor: Actor) -> Select[AuditRecord]:
    """The whole trail for auditors (and the platform itself); nothing for anyone else."""
    stmt = select(AuditRecord)
    if actor.kind == "system" or actor.can(Permission.audit_read):
        return stmt
    return stmt.where(false())


def filtered(actor: Actor, f: AuditFilter) -> Select[AuditRecord]:
    stmt = readable(actor)
    if f.since is not None:
        stmt = stmt.where(AuditRecord.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditRecord.at < f.until)
    who = f.actor.strip()
    if who:
        stmt = (
            stmt.where(AuditRecord.actor_id == int(who)) if who.isdigit() else stmt.where(AuditRecord.actor_name == who)
        )
    if f.department_id is not None:
        stmt = stmt.where(AuditRecord.department_id == f.department_id)
    prefix = f.action_prefix.strip()
    if prefix:
        # A prefix matches whole dotted segments ("identity.user" finds identity.user.*, not identity.users…),
        # and an exact action name matches itself.
        escaped = _escape_like(prefix.rstrip("."))
        stmt = stmt.where(
            (AuditRecord.action == prefix.rstrip(".")) | AuditRecord.action.like(f"{escaped}.%", escape="\\")
        )
    if f.object_type.strip():
        stmt = stmt.where(AuditRecord.object_type == f.object_type.strip())
    if f.object_id.strip():
        stmt = stmt.where(AuditRecord.object_id == f.object_id.strip())
    if f.outcome.strip():
        stmt = stmt.where(AuditRecord.outcome == f.outcome.strip())
    return stmt


def page(
    session: Session,
    stmt: Select[AuditRecord],
    *,
    before_seq: int | None = None,
    after_seq: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditRecord], bool]:
    """Keyset pagination over ``id`` (the order of writing across all chains), newest first: records
    older than ``before_seq`` or newer than ``after_seq`` (record ids); also says whether more lie
    beyond in that direction."""
    if after_seq is not None:
        rows = list(
            session.execute(stmt.where(AuditRecord.id > after_seq).order_by(AuditRecord.id.asc()).limit(limit + 1))
            .scalars()
            .all()
        )
        more = len(rows) > limit
        return list(reversed(rows[:limit])), more
    if before_seq is not None:
        stmt = stmt.where(AuditRecord.id < before_seq)
    rows = list(session.execute(stmt.order_by(AuditRecord.id.desc()).limit(limit + 1)).scalars().all())
    return rows[:limit], len(rows) > limit


def by_id(session: Session, actor: Actor, record_id: int) -> AuditRecord | None:
    return session.execute(readable(actor).where(AuditRecord.id == record_id)).scalar_one_or_none()


def neighbours(session: Session, actor: Actor, chain: int, seq: int) -> tuple[int | None, int | None]:
    """Ids of the records just before and after ``seq`` in its chain."""
    ids = readable(actor).with_only_columns(AuditRecord.id).where(AuditRecord.chain == chain)
    prev_id = session.execute(ids.where(AuditRecord.seq == seq - 1)).scalar_one_or_none()
    next_id = session.execute(ids.where(AuditRecord.seq == seq + 1)).scalar_one_or_none()
    return prev_id, next_id


def batch_after(
    session: Session, stmt: Select[AuditRecord], *, after_seq: int, upto_seq: int, limit: int
) -> list[AuditRecord]:
    """Oldest first, for exports: records with ``after_seq < id <= upto_seq`` (record ids)."""
    return list(
        session.execute(
            stmt.where(AuditRecord.id > after_seq, AuditRecord.id <= upto_seq)
            .order_by(AuditRecord.id.asc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def last_seq(session: Session) -> int:
    """The id of the newest record: the upper bound an export fixes when it starts."""
    return int(session.execute(select(func.coalesce(func.max(AuditRecord.id), 0))).scalar_one())


def count_since(session: Session, actor: Actor, actions: list[str], since: dt.datetime) -> int:
    stmt = (
        readable(actor).with_only_columns(func.count()).where(AuditRecord.action.in_(actions), AuditRecord.at >= since)
    )
    return int(session.execute(stmt).scalar_one())


def recent(session: Session, actor: Actor, actions: list[str], since: dt.datetime, limit: int) -> list[AuditRecord]:
    stmt = (
        readable(actor)
        .where(AuditRecord.action.in_(actions), AuditRecord.at >= since)
        .order_by(AuditRecord.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars().all())


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
