"""Grants (授权, A26): issuing one from a decision or a coordination, and its lifecycle.

A grant binds a consumer department and its systems to one resource, a set of 信息项, a masking
level, a purpose and a period. Suspending, revoking or ending it (A26.2) takes a reason and is a
conditional UPDATE on (status, version), so the next request after the move is refused: the data
API checks the grant's status on every call and never caches it.

Moves: active → suspended | revoked | ended | expired; suspended → active | revoked | ended |
expired. revoked, ended and expired are final.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, Select, String, bindparam, func, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.service import city_region_id
from govshare.errors import FieldError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission, Role
from govshare.kit import clock
from govshare.sharing.enums import GRANT_LABELS, GrantStatus, Masking, label
from govshare.sharing.models import ConsumerSystem, Grant, GrantItem, GrantSystem

G = GrantStatus
TRANSITIONS: dict[str, tuple[frozenset[GrantStatus], GrantStatus, Action]] = {
    "suspend": (frozenset({G.active}), G.suspended, Action.grant_suspended),
    "resume": (frozenset({G.suspended}), G.active, Action.grant_resumed),
    "revoke": (frozenset({G.active, G.suspended}), G.revoked, Action.grant_revoked),
    "end": (frozenset({G.active, G.suspended}), G.ended, Action.grant_ended),
    "expire": (frozenset({G.active, G.suspended}), G.expired, Action.grant_expired),
}
MOVE_LABELS = {"suspend": "暂停", "resume": "恢复", "revoke": "撤销", "end": "终止", "expire": "到期"}


def issue_grant(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    consumer_department_id: int,
    data_item_ids: Sequence[int],
    purpose: str,
    valid_from: dt.date,
    valid_until: dt.date,
    masking: str = Masking.masked,
    conditions: str = "",
    system_ids: Sequence[int] = (),
    application_id: int | None = None,
    coordination_id: int | None = None,
) -> Grant:
    """Issue a grant; called by the decision and coordination services inside their transaction.

    Every 信息项 must belong to the resource and be shareable; every system must belong to the
    consumer department; the period must not end before it starts.
    """
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在")
    items = {i.id: i for i in session.execute(select(DataItem).where(DataItem.resource_id == resource_id)).scalars()}
    errors: list[FieldError] = []
    if not data_item_ids:
        errors.append(FieldError("data_item_ids", "授权须至少包含一个信息项"))
    for item_id in data_item_ids:
        item = items.get(item_id)
        if item is None:
            errors.append(FieldError("data_item_ids", f"信息项 {item_id} 不属于该信息资源"))
        elif not item.shareable:
            errors.append(FieldError("data_item_ids", f"信息项「{item.name}」不可共享"))
    if masking not in {m.value for m in Masking}:
        errors.append(FieldError("masking", "脱敏方式只能是“脱敏”或“明文(经授权)”"))
    if valid_until < valid_from:
        errors.append(FieldError("valid_until", "授权截止日期不能早于起始日期"))
    if not purpose.strip():
        errors.append(FieldError("purpose", "请填写使用用途"))
    systems = list(session.execute(select(ConsumerSystem).where(ConsumerSystem.id.in_(list(system_ids)))).scalars())
    if len(systems) != len(set(system_ids)):
        errors.append(FieldError("system_ids", "应用系统不存在"))
    for system in systems:
        if system.department_id != consumer_department_id:
            errors.append(FieldError("system_ids", f"应用系统「{system.name}」不属于使用部门"))
    if errors:
        raise ValidationFailed("授权内容有误", errors=errors)
    grant = Grant(
        resource_id=resource.id,
        provider_id=resource.provider_id,
        consumer_department_id=consumer_department_id,
        application_id=application_id,
        coordination_id=coordination_id,
        purpose=purpose.strip(),
        conditions=conditions.strip(),
        masking=masking,
        valid_from=valid_from,
        valid_until=valid_until,
        status=GrantStatus.active,
        issued_by_id=actor.user_id,
        items=[GrantItem(data_item_id=i) for i in sorted(set(data_item_ids))],
        systems=[GrantSystem(consumer_system_id=s) for s in sorted(set(system_ids))],
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor,
        Action.grant_issued,
        object_type="grant",
        object_id=grant.id,
        after={
            "resource_id": resource.id,
            "consumer_department_id": consumer_department_id,
            "data_item_ids": sorted(set(data_item_ids)),
            "masking": masking,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "system_ids": sorted(set(system_ids)),
            "application_id": application_id,
            "coordination_id": coordination_id,
        },
    )
    return grant


def may_manage(actor: Actor, grant: Grant, authority_region_id: int, city_region_id: int) -> bool:
    """The provider's data administrators, or the authority over the resource (bureau or region)."""
    if actor.kind == "system":
        return True
    if not actor.can(Permission.grant_manage):
        return False
    if actor.has_role(Role.dept_admin) and actor.department_id == grant.provider_id:
        return True
    if authority_region_id == city_region_id:
        return actor.has_role(Role.bureau_reviewer)
    return actor.has_role(Role.region_reviewer) and authority_region_id in actor.reviewer_region_ids


def get_grant(session: Session, grant_id: int) -> Grant:
    grant = session.execute(
        select(Grant).options(selectinload(Grant.items), selectinload(Grant.systems)).where(Grant.id == grant_id)
    ).scalar_one_or_none()
    if grant is None:
        raise NotFound("授权不存在")
    return grant


def change_status(
    session: Session,
    actor: Actor,
    grant_id: int,
    move: str,
    *,
    reason: str,
    expected_version: int | None = None,
) -> Grant:
    """Suspend, resume, revoke or end a grant (A26.2); a reason is required for every move."""
    if move not in TRANSITIONS or move == "expire":
        raise ValidationFailed("未知的授权操作", errors=[FieldError("move", "操作只能是暂停、恢复、撤销或终止")])
    grant = get_grant(session, grant_id)
    resource = session.get(Resource, grant.resource_id)
    assert resource is not None
    if not may_manage(actor, grant, resource.reviewing_region_id, city_region_id(session)):
        raise Forbidden("只有提供部门的数据资源管理员或共享主管机构可以变更授权")
    if not reason.strip():
        raise ValidationFailed("请填写原因", errors=[FieldError("reason", f"{MOVE_LABELS[move]}授权须填写原因")])
    return _move(session, actor, grant, move, reason=reason.strip(), expected_version=expected_version)


def expire_due(session: Session, actor: Actor, *, today: dt.date | None = None) -> int:
    """Scheduled task: grants whose period has run out become ``expired``; returns how many."""
    day = today or clock.today()
    ids = list(
        session.execute(
            select(Grant.id).where(Grant.status.in_([G.active.value, G.suspended.value]), Grant.valid_until < day)
        ).scalars()
    )
    for grant_id in ids:
        grant = get_grant(session, grant_id)
        try:
            _move(session, actor, grant, "expire", reason="授权期限届满", expected_version=grant.version)
        except InvalidTransition:
            continue  # someone else moved it at the same moment
    return len(ids)


class GrantedItem(NamedTuple):
    data_item_id: int


@dataclass(frozen=True)
class UsableGrant:
    """What a read needs of a grant, read fresh on every request (never cached across requests)."""

    id: int
    resource_id: int
    consumer_department_id: int
    purpose: str
    masking: str
    data_item_ids: frozenset[int]

    @property
    def items(self) -> tuple[GrantedItem, ...]:
        return tuple(GrantedItem(i) for i in sorted(self.data_item_ids))


_G, _GI, _GS = Grant.__table__, GrantItem.__table__, GrantSystem.__table__


def grant_columns(prefix: str = "") -> list[Any]:
    """What ``usable_grant`` reads of the grant ``_G``, as columns another statement can carry (the data
    API reads them with the resource, in one round trip): its 信息项 ids and its systems' ids as strings,
    so that the statement does not depend on who is asking."""
    items = (
        select(func.aggregate_strings(sa_cast(_GI.c.data_item_id, String), ","))
        .where(_GI.c.grant_id == _G.c.id)
        .scalar_subquery()
    )
    systems = (
        select(func.aggregate_strings(sa_cast(_GS.c.consumer_system_id, String), ","))
        .where(_GS.c.grant_id == _G.c.id)
        .scalar_subquery()
    )
    names = (
        "id",
        "resource_id",
        "consumer_department_id",
        "status",
        "status_reason",
        "valid_from",
        "valid_until",
        "masking",
        "purpose",
    )
    columns: list[Any] = [_G.c[n].label(prefix + n) for n in names]
    columns.append(items.label(prefix + "item_ids"))
    columns.append(systems.label(prefix + "system_ids"))
    return columns


@lru_cache(maxsize=1)
def _usable_grant_stmt() -> Select[Any]:
    # one round trip, plain Core: the grant, its 信息项 ids and its systems' ids as strings
    return select(*grant_columns()).where(_G.c.id == bindparam("grant_id"))


def usable_grant(
    session: Session,
    *,
    grant_id: int,
    consumer_department_id: int,
    system_id: int | None,
    today: dt.date | None = None,
) -> UsableGrant:
    """The grant, if it lets this department (and system) read today; otherwise Forbidden.

    Checked on every request, so a suspension, revocation or end takes effect at the next call.
    """
    row = session.connection().execute(_usable_grant_stmt(), {"grant_id": grant_id}).first()
    values = row._mapping if row is not None else None
    return check_usable(values, consumer_department_id=consumer_department_id, system_id=system_id, today=today)


def check_usable(
    values: Mapping[Any, Any] | None,
    *,
    consumer_department_id: int,
    system_id: int | None,
    today: dt.date | None = None,
    prefix: str = "",
) -> UsableGrant:
    """The rules of ``usable_grant`` over the values ``grant_columns`` read (None: no such grant)."""
    day = today or clock.today()
    if values is None or values[prefix + "id"] is None:
        raise NotFound("授权不存在")
    v = {k[len(prefix) :]: x for k, x in values.items() if str(k).startswith(prefix)}
    if v["consumer_department_id"] != consumer_department_id:
        raise NotFound("授权不存在")
    if v["status"] != GrantStatus.active:
        reason = f":{v['status_reason']}" if v["status_reason"] else ""
        raise Forbidden(f"授权{label(v['status'], GRANT_LABELS)}{reason}", code=f"grant_{v['status']}")
    if day < v["valid_from"]:
        raise Forbidden(f"授权自 {v['valid_from'].isoformat()} 起生效", code="grant_not_started")
    if day > v["valid_until"]:
        raise Forbidden(f"授权已于 {v['valid_until'].isoformat()} 到期", code="grant_expired")
    if system_id is not None and str(system_id) not in (v["system_ids"] or "").split(","):
        raise Forbidden("该应用系统不在此授权范围内", code="system_not_in_grant")
    return UsableGrant(
        id=v["id"],
        resource_id=v["resource_id"],
        consumer_department_id=v["consumer_department_id"],
        purpose=v["purpose"],
        masking=v["masking"],
        data_item_ids=frozenset(int(i) for i in (v["item_ids"] or "").split(",") if i),
    )


def _move(
    session: Session,
    actor: Actor,
    grant: Grant,
    move: str,
    *,
    reason: str,
    expected_version: int | None,
) -> Grant:
    sources, target, action = TRANSITIONS[move]
    current = GrantStatus(grant.status)
    if current not in sources:
        raise InvalidTransition(
            f"授权当前为“{label(current, GRANT_LABELS)}”,不能{MOVE_LABELS[move]}", code="invalid_transition"
        )
    if expected_version is not None and expected_version != grant.version:
        raise InvalidTransition("授权已被他人变更,请刷新页面后重试", code="stale_version")
    at = clock.now()
    values: dict[str, Any] = {
        "status": target.value,
        "status_reason": reason,
        "status_changed_at": at,
        "version": grant.version + 1,
    }
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Grant)
            .where(Grant.id == grant.id, Grant.version == grant.version, Grant.status == current.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise InvalidTransition("授权刚被他人变更,本次操作未生效,请刷新页面后重试", code="concurrent_update")
    for key, value in values.items():
        set_committed_value(grant, key, value)
    audit.record(
        session,
        actor,
        action,
        object_type="grant",
        object_id=grant.id,
        before={"status": current.value},
        after={"status": target.value, "reason": reason},
        department_id=grant.provider_id,
    )
    return grant
