"""Every query of applications, coordinations and grants, and their visibility rules.

Visibility (one function per table, every read starts from it):
- an application or coordination: the consumer department's and the provider department's people,
  the bureau's reviewers (every application reaches the bureau, A21.1), a county's reviewers for
  their county's, and the auditors;
- a grant: the consumer department's people, the provider department's people, the bureau's
  reviewers, a county's reviewers for grants of resources reviewed in their county, and the auditors.
Another department sees none of them: a direct link answers 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from govshare.audit.models import AuditRecord
from govshare.catalog.models import DataItem, Resource
from govshare.identity.actor import Actor
from govshare.identity.models import Department, Region
from govshare.identity.permissions import Role
from govshare.kit.clock import CHINA
from govshare.sharing.models import Application, ApplicationItem, Coordination, CoordinationNote, Grant

READ_ALL_ROLES = frozenset({Role.auditor})


def _reads_all(actor: Actor) -> bool:
    return actor.kind == "system" or bool(actor.roles & READ_ALL_ROLES) or Role.bureau_reviewer in actor.roles


def _party_clause(
    actor: Actor, provider: InstrumentedAttribute[int], consumer: InstrumentedAttribute[int]
) -> list[ColumnElement[bool]]:
    if actor.department_id is None:
        return []
    return [provider == actor.department_id, consumer == actor.department_id]


def readable_applications(actor: Actor) -> Select[Application]:
    """Applications ``actor`` may see (module docstring)."""
    stmt = select(Application)
    if _reads_all(actor):
        return stmt
    clauses = _party_clause(actor, Application.provider_id, Application.consumer_department_id)
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        clauses.append(Application.authority_region_id.in_(sorted(actor.reviewer_region_ids)))
    return stmt.where(or_(*clauses)) if clauses else stmt.where(false())


def readable_coordinations(actor: Actor) -> Select[Coordination]:
    """Coordinations ``actor`` may see: the same rule as applications."""
    stmt = select(Coordination)
    if _reads_all(actor):
        return stmt
    clauses = _party_clause(actor, Coordination.provider_id, Coordination.consumer_department_id)
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        clauses.append(Coordination.authority_region_id.in_(sorted(actor.reviewer_region_ids)))
    return stmt.where(or_(*clauses)) if clauses else stmt.where(false())


def readable_grants(actor: Actor) -> Select[Grant]:
    """Grants ``actor`` may see (module docstring)."""
    stmt = select(Grant)
    if _reads_all(actor):
        return stmt
    clauses = _party_clause(actor, Grant.provider_id, Grant.consumer_department_id)
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        regional = select(Resource.id).where(Resource.reviewing_region_id.in_(sorted(actor.reviewer_region_ids)))
        clauses.append(Grant.resource_id.in_(regional))
    return stmt.where(or_(*clauses)) if clauses else stmt.where(false())


# --------------------------------------------------------------------------------------- single rows


def application(session: Session, actor: Actor, application_id: int) -> Application | None:
    stmt = readable_applications(actor).where(Application.id == application_id).options(selectinload(Application.items))
    return session.execute(stmt).scalar_one_or_none()


def application_for_update(session: Session, application_id: int) -> Application | None:
    stmt = select(Application).where(Application.id == application_id).options(selectinload(Application.items))
    return session.execute(stmt).scalar_one_or_none()


def coordination(session: Session, actor: Actor, coordination_id: int) -> Coordination | None:
    return session.execute(readable_coordinations(actor).where(Coordination.id == coordination_id)).scalar_one_or_none()


def grant(session: Session, actor: Actor, grant_id: int) -> Grant | None:
    stmt = (
        readable_grants(actor)
        .where(Grant.id == grant_id)
        .options(selectinload(Grant.items), selectinload(Grant.systems))
    )
    return session.execute(stmt).scalar_one_or_none()


def notes(session: Session, coordination_id: int) -> list[CoordinationNote]:
    stmt = select(CoordinationNote).where(CoordinationNote.coordination_id == coordination_id)
    return list(session.execute(stmt.order_by(CoordinationNote.id)).scalars())


def coordinations_of_application(session: Session, application_id: int) -> list[Coordination]:
    stmt = select(Coordination).where(Coordination.application_id == application_id).order_by(Coordination.id)
    return list(session.execute(stmt).scalars())


def open_coordination(
    session: Session, *, application_id: int | None, resource_id: int, consumer_id: int
) -> Coordination | None:
    stmt = select(Coordination).where(Coordination.status == "open")
    if application_id is not None:
        stmt = stmt.where(Coordination.application_id == application_id)
    else:
        stmt = stmt.where(
            Coordination.application_id.is_(None),
            Coordination.resource_id == resource_id,
            Coordination.consumer_department_id == consumer_id,
        )
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def grants_of(
    session: Session, *, application_ids: Iterable[int] = (), coordination_ids: Iterable[int] = ()
) -> list[Grant]:
    a, c = sorted(set(application_ids)), sorted(set(coordination_ids))
    if not a and not c:
        return []
    stmt = select(Grant).where(or_(Grant.application_id.in_(a), Grant.coordination_id.in_(c)))
    return list(session.execute(stmt.order_by(Grant.id)).scalars())


def data_items(session: Session, ids: Iterable[int]) -> dict[int, DataItem]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {i.id: i for i in session.execute(select(DataItem).where(DataItem.id.in_(wanted))).scalars()}


def resources(session: Session, ids: Iterable[int]) -> dict[int, Resource]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {r.id: r for r in session.execute(select(Resource).where(Resource.id.in_(wanted))).scalars()}


def departments(session: Session, ids: Iterable[int]) -> dict[int, Department]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {d.id: d for d in session.execute(select(Department).where(Department.id.in_(wanted))).scalars()}


def regions(session: Session, ids: Iterable[int]) -> dict[int, Region]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {r.id: r for r in session.execute(select(Region).where(Region.id.in_(wanted))).scalars()}


def history(session: Session, object_type: str, object_id: int) -> list[AuditRecord]:
    """The audit records of one object, oldest first (a grant's or an application's history)."""
    stmt = select(AuditRecord).where(AuditRecord.object_type == object_type, AuditRecord.object_id == str(object_id))
    return list(session.execute(stmt.order_by(AuditRecord.seq)).scalars())


# --------------------------------------------------------------------------------------- clocks


def submitted_due_on_or_after(session: Session, first: dt.date) -> list[Application]:
    """Submitted applications whose clock runs through ``first`` or later (to recompute it)."""
    stmt = select(Application).where(Application.status == "submitted", Application.due_on >= first)
    return list(session.execute(stmt.order_by(Application.id)).scalars())


def open_coordinations_due_after(session: Session, first: dt.date) -> list[Coordination]:
    stmt = select(Coordination).where(Coordination.status == "open", Coordination.due_on >= first)
    return list(session.execute(stmt.order_by(Coordination.id)).scalars())


def to_remind(session: Session, on_or_before: dt.date) -> list[Application]:
    """Submitted, not yet reminded, due on or before ``on_or_before`` (two working days ahead)."""
    stmt = select(Application).where(
        Application.status == "submitted",
        Application.reminded_at.is_(None),
        Application.due_on <= on_or_before,
    )
    return list(session.execute(stmt.order_by(Application.due_on, Application.id)).scalars())


def to_flag_overdue(session: Session, today: dt.date) -> list[Application]:
    stmt = select(Application).where(
        Application.status == "submitted",
        Application.overdue_flagged_at.is_(None),
        Application.due_on < today,
    )
    return list(session.execute(stmt.order_by(Application.due_on, Application.id)).scalars())


# --------------------------------------------------------------------------------------- refusal counts


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in China, where the periods of the reports are counted."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=CHINA)


@dataclass(frozen=True)
class RefusalCount:
    """A23.1: one provider's answers in a period, and how many refusals coordination overturned."""

    provider_id: int
    provider_name: str
    decided: int  # applications answered
    refused: int  # applications refused outright
    partially_refused: int  # applications approved in part
    items_refused: int  # 信息项 refused, over all of them
    coordinated: int  # refused or partly refused applications taken to coordination
    overturned: int  # of those, coordination outcome "granted"
    upheld: int  # of those, coordination outcome "refused"

    @property
    def refusals(self) -> int:
        return self.refused + self.partially_refused

    @property
    def not_overturned(self) -> int:
        return self.refusals - self.overturned


def refusal_counts(
    session: Session,
    *,
    since: dt.date | None,
    until: dt.date | None,
    region_ids: Sequence[int] | None,
    provider_id: int | None = None,
) -> list[RefusalCount]:
    """Per provider, over applications decided from ``since`` to ``until`` (inclusive), optionally
    only those whose authority is one of ``region_ids``; most refusals first."""
    decided = Application.status.in_(["approved", "partially_approved", "refused"])
    conditions: list[ColumnElement[bool]] = [decided]
    if since is not None:
        conditions.append(Application.decided_at >= _day_start(since))
    if until is not None:
        conditions.append(Application.decided_at < _day_start(until + dt.timedelta(days=1)))
    if region_ids is not None:
        conditions.append(Application.authority_region_id.in_(list(region_ids)))
    if provider_id is not None:
        conditions.append(Application.provider_id == provider_id)
    apps = list(session.execute(select(Application.id, Application.provider_id, Application.status).where(*conditions)))
    if not apps:
        return []
    ids = [a.id for a in apps]
    refused_items: dict[int, int] = {}
    for app_id, count in session.execute(
        select(ApplicationItem.application_id, func.count())
        .where(ApplicationItem.application_id.in_(ids), ApplicationItem.decision == "refused")
        .group_by(ApplicationItem.application_id)
    ):
        refused_items[app_id] = int(count)
    outcomes: dict[int, set[str]] = {}
    for coordinated_id, status in session.execute(
        select(Coordination.application_id, Coordination.status).where(Coordination.application_id.in_(ids))
    ):
        if coordinated_id is not None:
            outcomes.setdefault(coordinated_id, set()).add(status)
    totals: dict[int, list[int]] = {}
    for app in apps:
        t = totals.setdefault(app.provider_id, [0] * 7)
        t[0] += 1
        if app.status == "refused":
            t[1] += 1
        elif app.status == "partially_approved":
            t[2] += 1
        t[3] += refused_items.get(app.id, 0)
        if app.status in ("refused", "partially_approved") and app.id in outcomes:
            t[4] += 1
            if "granted" in outcomes[app.id]:
                t[5] += 1
            elif "refused" in outcomes[app.id]:
                t[6] += 1
    names = departments(session, totals)
    rows = [RefusalCount(pid, names[pid].name if pid in names else str(pid), *values) for pid, values in totals.items()]
    return sorted(rows, key=lambda r: (-r.refusals, -r.items_refused, r.provider_name))
