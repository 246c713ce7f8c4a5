"""Reading grants for people (A26.2): who sees which grant, and the lifecycle moves from pages and API.

The grant rules themselves (issuing, the moves, ``usable_grant``) live in ``sharing.grants``; this
module adds the visibility (``application_repository.readable_grants``: the consumer department,
the provider department, the bureau, a county's reviewers for their county, the auditors) and the
history, read from the audit trail, where every issue and move is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.service import city_region_id
from govshare.errors import NotFound
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.kit import clock
from govshare.sharing import application_repository as repo
from govshare.sharing import grants
from govshare.sharing.enums import GrantStatus
from govshare.sharing.models import ConsumerSystem, Grant


class GrantScope(StrEnum):
    consumer = "consumer"  # the reader's department uses them
    provider = "provider"  # the reader's department provides the data
    all = "all"  # everything the reader may see (the authority: its region)


@dataclass(frozen=True)
class GrantRow:
    grant: Grant
    resource: Resource
    provider: Department
    consumer: Department

    @property
    def expired_by_date(self) -> bool:
        return self.grant.status in ("active", "suspended") and self.grant.valid_until < clock.today()


ACTION_LABELS: dict[str, str] = {
    "sharing.grant.issued": "签发授权",
    "sharing.grant.suspended": "暂停",
    "sharing.grant.resumed": "恢复",
    "sharing.grant.revoked": "撤销",
    "sharing.grant.ended": "终止",
    "sharing.grant.expired": "到期",
}


@dataclass(frozen=True)
class HistoryEntry:
    record: AuditRecord
    reason: str
    status: str

    @property
    def what(self) -> str:
        return ACTION_LABELS.get(self.record.action, self.record.action)


@dataclass(frozen=True)
class GrantView(GrantRow):
    items: list[DataItem] = field(default_factory=list)
    systems: list[ConsumerSystem] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)  # (move, Chinese verb) the reader may make


def _rows(session: Session, found: list[Grant]) -> list[GrantRow]:
    resources = repo.resources(session, (g.resource_id for g in found))
    departments = repo.departments(session, [g.provider_id for g in found] + [g.consumer_department_id for g in found])
    return [
        GrantRow(g, resources[g.resource_id], departments[g.provider_id], departments[g.consumer_department_id])
        for g in found
    ]


def list_grants(
    session: Session,
    actor: Actor,
    *,
    scope: GrantScope = GrantScope.all,
    status: GrantStatus | None = None,
    resource_id: int | None = None,
    limit: int = 500,
) -> list[GrantRow]:
    """Grants the reader may see, newest first."""
    stmt = repo.readable_grants(actor)
    if scope == GrantScope.consumer:
        stmt = stmt.where(Grant.consumer_department_id == (actor.department_id or -1))
    elif scope == GrantScope.provider:
        stmt = stmt.where(Grant.provider_id == (actor.department_id or -1))
    if status is not None:
        stmt = stmt.where(Grant.status == status.value)
    if resource_id is not None:
        stmt = stmt.where(Grant.resource_id == resource_id)
    found = list(session.execute(stmt.order_by(Grant.id.desc()).limit(max(1, min(limit, 1000)))).scalars())
    return _rows(session, found)


def _found(session: Session, actor: Actor, grant_id: int) -> Grant:
    grant = repo.grant(session, actor, grant_id)
    if grant is None:
        raise NotFound("授权不存在或无权查看", code="grant_not_found")
    return grant


def get_grant(session: Session, actor: Actor, grant_id: int) -> GrantView:
    """One grant the reader may see (404 otherwise), its 信息项, systems, history and the moves the
    reader may make."""
    grant = _found(session, actor, grant_id)
    row = _rows(session, [grant])[0]
    items = repo.data_items(session, (i.data_item_id for i in grant.items))
    system_ids = [s.consumer_system_id for s in grant.systems]
    systems = (
        list(session.execute(select(ConsumerSystem).where(ConsumerSystem.id.in_(system_ids))).scalars())
        if system_ids
        else []
    )
    history = [
        HistoryEntry(
            r,
            str((r.after or {}).get("reason", "")),
            str((r.after or {}).get("status", "active" if r.action.endswith("issued") else "")),
        )
        for r in repo.history(session, "grant", grant.id)
    ]
    moves: list[tuple[str, str]] = []
    if grants.may_manage(actor, grant, row.resource.reviewing_region_id, city_region_id(session)):
        current = GrantStatus(grant.status)
        for move, (sources, _target, _action) in grants.TRANSITIONS.items():
            if move != "expire" and current in sources:
                moves.append((move, grants.MOVE_LABELS[move]))
    return GrantView(
        **vars(row),
        items=[items[i.data_item_id] for i in grant.items if i.data_item_id in items],
        systems=systems,
        history=history,
        moves=moves,
    )


def change_grant_status(
    session: Session, actor: Actor, grant_id: int, move: str, *, reason: str, expected_version: int | None = None
) -> Grant:
    """A26.2: suspend, resume, revoke or end a grant the reader may see, with a reason; the next
    request under it is refused."""
    _found(session, actor, grant_id)
    return grants.change_status(session, actor, grant_id, move, reason=reason, expected_version=expected_version)
