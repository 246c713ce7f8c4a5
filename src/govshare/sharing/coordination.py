"""Coordination (协调, A20.4) and the refusal counts per provider (A23.1).

A consumer department takes to coordination either an application the provider refused in whole
or in part (the refused 信息项), or its need for a 不予共享 resource (no application possible). The
authority — the bureau's reviewers for city resources, a county's reviewers for their county's —
records the negotiation as notes and decides on its own clock (10 working days from the request,
recomputed like every other clock when the calendar changes): a grant (issued through
``grants.issue_grant`` in the same transaction) or a reasoned no. A resource the catalog still
marks 不予共享 cannot be granted (no path serves it): the provider first changes its share type
through a catalog change request (article 17), then the authority grants. One conditional UPDATE on
(status, version) per decision, as everywhere.

Refusals are counted per provider so that refusals without a basis become visible to the bureau
(A23.1): applications refused outright or in part, the 信息项 refused, and how many of those
refusals a later coordination overturned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.calendar import service as calendar
from govshare.calendar.service import ClockView
from govshare.catalog import repository as catalog_repo
from govshare.catalog.enums import ResourceStatus, ShareType
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.service import city_region_id
from govshare.errors import Conflict, FieldError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Permission, Role
from govshare.kit import clock
from govshare.kit.versioned import conditional_update
from govshare.sharing import application_repository as repo
from govshare.sharing import grants
from govshare.sharing import permissions as policy
from govshare.sharing.applications import TEXT_MAX, _authority_name
from govshare.sharing.enums import COORDINATION_LABELS, CoordinationStatus, Masking, label
from govshare.sharing.models import Application, Coordination, CoordinationNote, Grant

COORDINATION_DAYS = 10  # the authority's own clock (working days from the request)
GRANT_DEFAULT_DAYS = 365  # a coordination grant without an application runs a year unless told

C = CoordinationStatus
TRANSITIONS: dict[tuple[CoordinationStatus, CoordinationStatus], Action] = {
    (C.open, C.granted): Action.coordination_granted,
    (C.open, C.refused): Action.coordination_refused,
}


def _get(session: Session, actor: Actor, coordination_id: int) -> Coordination:
    found = repo.coordination(session, actor, coordination_id)
    if found is None:
        raise NotFound("协调事项不存在或无权查看", code="coordination_not_found")
    return found


def _state(c: Coordination) -> dict[str, Any]:
    return {"status": c.status, "due_on": c.due_on, "due_provisional": c.due_provisional, "version": c.version}


def request_coordination(
    session: Session,
    actor: Actor,
    *,
    reason: str,
    application_id: int | None = None,
    resource_id: int | None = None,
    data_item_ids: Sequence[int] | None = None,
) -> Coordination:
    """A20.4: the consumer department asks the authority to coordinate a refused (or partly refused)
    application, or its need for a 不予共享 resource; the authority's clock starts now."""
    actor.require(Permission.sharing_apply)
    if actor.department_id is None:
        raise Forbidden("只有政务部门的工作人员可以申请协调", code="no_department")
    if not reason.strip():
        raise ValidationFailed("请说明申请协调的理由", errors=[FieldError("reason", "请说明履职确需使用的理由")])
    if len(reason) > TEXT_MAX:
        raise ValidationFailed("理由过长", errors=[FieldError("reason", "理由过长")])
    app: Application | None = None
    if application_id is not None:
        app = repo.application(session, actor, application_id)
        if app is None:
            raise NotFound("共享申请不存在或无权查看", code="application_not_found")
        if not policy.applies_for(actor, app.consumer_department_id):
            raise Forbidden("只有申请部门可以就该申请申请协调", code="not_applicant")
        if app.status not in ("refused", "partially_approved"):
            raise InvalidTransition("只有被拒绝或部分拒绝的申请可以申请协调", code="application_not_refused")
        refused = [i.data_item_id for i in app.items if i.decision == "refused"]
        wanted = list(data_item_ids) if data_item_ids else refused
        outside = [i for i in wanted if i not in refused]
        if outside or not wanted:
            raise ValidationFailed("只能就被拒绝的信息项申请协调", errors=[FieldError("data_item_ids", "信息项有误")])
        resource = catalog_repo.readable_resource(session, actor, app.resource_id)
        if resource is None:
            raise NotFound("信息资源不存在", code="resource_not_found")
    else:
        if resource_id is None:
            raise ValidationFailed("请选择信息资源", errors=[FieldError("resource_id", "必填")])
        resource = catalog_repo.readable_resource(session, actor, resource_id)
        if resource is None:
            raise NotFound("信息资源不存在", code="resource_not_found")
        if resource.classified:
            raise InvalidTransition("涉密信息资源不能通过共享平台协调", code="resource_classified")
        if resource.status != ResourceStatus.published:
            raise InvalidTransition("只有已发布的信息资源可以申请协调", code="resource_not_published")
        if resource.share_type != ShareType.none:
            raise InvalidTransition(
                "只有不予共享的信息资源可以直接申请协调;有条件共享的请先提出共享申请", code="not_refusable_type"
            )
        if resource.provider_id == actor.department_id:
            raise InvalidTransition("本部门提供的信息资源无需协调", code="own_resource")
        all_items = [i.id for i in resource.items]
        wanted = list(data_item_ids) if data_item_ids else all_items
        if not wanted or any(i not in all_items for i in wanted):
            raise ValidationFailed("信息项不属于该信息资源", errors=[FieldError("data_item_ids", "信息项有误")])
    if repo.open_coordination(
        session, application_id=application_id, resource_id=resource.id, consumer_id=actor.department_id
    ):
        raise Conflict("已有正在进行的协调事项", code="coordination_pending")
    today = clock.today()
    due = calendar.add_working_days(session, today, COORDINATION_DAYS)
    coordination = Coordination(
        number=f"tmp-{uuid.uuid4().hex[:24]}",
        application_id=application_id,
        resource_id=resource.id,
        provider_id=resource.provider_id,
        consumer_department_id=actor.department_id,
        requested_by_id=actor.user_id,
        authority_region_id=resource.reviewing_region_id,
        reason=reason.strip(),
        data_item_ids=sorted(set(wanted)),
        status=C.open.value,
        opened_at=clock.now(),
        due_on=due.date,
        due_provisional=due.provisional,
    )
    session.add(coordination)
    session.flush()
    coordination.number = f"XT-{today.year}-{coordination.id:06d}"
    session.flush()
    audit.record(
        session,
        actor,
        Action.coordination_requested,
        object_type="coordination",
        object_id=coordination.id,
        after={
            "number": coordination.number,
            "application_id": application_id,
            "resource_id": resource.id,
            "provider_id": resource.provider_id,
            "authority_region_id": coordination.authority_region_id,
            "data_item_ids": coordination.data_item_ids,
            **_state(coordination),
        },
    )
    return coordination


def _require_authority(session: Session, actor: Actor, coordination: Coordination) -> None:
    actor.require(Permission.coordination_decide)
    if not policy.is_authority(actor, coordination.authority_region_id, city_region_id(session)):
        raise Forbidden("该协调事项由其他地区的政务数据共享主管机构办理", code="not_responsible_authority")


def add_note(session: Session, actor: Actor, coordination_id: int, *, body: str) -> CoordinationNote:
    """The authority records one step of the negotiation (who met, what each side said)."""
    actor.require(Permission.coordination_decide)
    coordination = _get(session, actor, coordination_id)
    _require_authority(session, actor, coordination)
    if coordination.status != C.open:
        raise InvalidTransition("协调已办结,不能再记录协调过程", code="invalid_transition")
    if not body.strip() or len(body) > TEXT_MAX:
        raise ValidationFailed("请填写协调记录", errors=[FieldError("body", "请填写协调记录(不超过 4000 字)")])
    note = CoordinationNote(coordination_id=coordination.id, author_id=actor.user_id, body=body.strip())
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor,
        Action.coordination_noted,
        object_type="coordination",
        object_id=coordination.id,
        after={"note_id": note.id, "body": note.body},
    )
    return note


def _move(
    session: Session,
    actor: Actor,
    coordination: Coordination,
    to: CoordinationStatus,
    *,
    values: Mapping[str, Any],
    expected_version: int | None,
    audit_after: Mapping[str, Any],
) -> Coordination:
    current = CoordinationStatus(coordination.status)
    action = TRANSITIONS.get((current, to))
    if action is None:
        raise InvalidTransition(
            f"协调事项当前为“{label(current, COORDINATION_LABELS)}”,不能再作出协调结果", code="invalid_transition"
        )
    seen = coordination.version if expected_version is None else expected_version
    if seen != coordination.version:
        raise InvalidTransition("协调事项已被他人处理,请刷新页面后重试", code="stale_version")
    before = _state(coordination)
    if not conditional_update(
        session,
        coordination,
        status=current.value,
        version=seen,
        values={**values, "status": to.value, "version": seen + 1},
    ):
        raise InvalidTransition("协调事项刚被他人处理,本次操作未生效,请刷新页面后查看", code="concurrent_update")
    audit.record(
        session,
        actor,
        action,
        object_type="coordination",
        object_id=coordination.id,
        before=before,
        after={**_state(coordination), **audit_after},
    )
    return coordination


def decide_coordination(
    session: Session,
    actor: Actor,
    coordination_id: int,
    *,
    grant: bool,
    reason: str,
    data_item_ids: Sequence[int] | None = None,
    valid_until: dt.date | None = None,
    masking: str = Masking.masked,
    conditions: str = "",
    expected_version: int | None = None,
) -> Coordination:
    """A20.4: the authority records the outcome — share (a grant on the coordinated 信息项, or some
    of them) or a reasoned no. The reason is required either way: it is the coordination's record."""
    actor.require(Permission.coordination_decide)
    coordination = _get(session, actor, coordination_id)
    _require_authority(session, actor, coordination)
    errors: list[FieldError] = []
    if not reason.strip():
        errors.append(FieldError("reason", "请填写协调结果的理由"))
    items = list(data_item_ids) if data_item_ids else list(coordination.data_item_ids)
    app = session.get(Application, coordination.application_id) if coordination.application_id else None
    today = clock.today()
    until = valid_until
    if grant:
        resource = session.get(Resource, coordination.resource_id)
        if resource is not None and resource.share_type == ShareType.none:
            # The data API serves no 不予共享 resource by any path; sharing it takes a catalog change
            # (article 17) by the provider first, after which this coordination can grant.
            raise InvalidTransition(
                "该信息资源在目录中仍为不予共享,须先由提供部门通过目录变更调整共享类型后方可授权",
                code="resource_not_shareable",
            )
        if any(i not in coordination.data_item_ids for i in items):
            errors.append(FieldError("data_item_ids", "只能授权协调范围内的信息项"))
        if until is None:
            until = app.period_until if app is not None else today + dt.timedelta(days=GRANT_DEFAULT_DAYS)
        if until < today:
            errors.append(FieldError("valid_until", "授权截止日期不能早于今天"))
    if errors:
        raise ValidationFailed("协调结果有误", errors=errors)
    coordination = _move(
        session,
        actor,
        coordination,
        C.granted if grant else C.refused,
        values={"decided_at": clock.now(), "decided_by_id": actor.user_id, "outcome_reason": reason.strip()},
        expected_version=expected_version,
        audit_after={"reason": reason.strip(), "data_item_ids": sorted(items) if grant else []},
    )
    if grant:
        assert until is not None
        grants.issue_grant(
            session,
            actor,
            resource_id=coordination.resource_id,
            consumer_department_id=coordination.consumer_department_id,
            data_item_ids=items,
            purpose=app.purpose if app is not None else coordination.reason,
            valid_from=today,
            valid_until=until,
            masking=masking,
            conditions=conditions,
            system_ids=[app.consumer_system_id] if app is not None and app.consumer_system_id else [],
            coordination_id=coordination.id,
        )
    return coordination


@calendar.on_change
def recompute_clocks(session: Session, actor: Actor, first: dt.date, last: dt.date) -> None:
    """Open coordinations whose clock runs through changed days are recomputed from their start."""
    for c in repo.open_coordinations_due_after(session, first):
        start = clock.to_china(c.opened_at).date()
        if start > last:
            continue
        due = calendar.add_working_days(session, start, COORDINATION_DAYS)
        if (due.date, due.provisional) == (c.due_on, c.due_provisional):
            continue
        c.due_on, c.due_provisional = due.date, due.provisional
        c.version += 1
        session.flush()


# --------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CoordinationRow:
    coordination: Coordination
    resource: Resource
    provider: Department
    consumer: Department
    authority_name: str
    clock: ClockView | None


@dataclass(frozen=True)
class CoordinationView(CoordinationRow):
    application: Application | None = None
    items: list[DataItem] = field(default_factory=list)
    notes: list[CoordinationNote] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    can_note: bool = False
    can_decide: bool = False


def _rows(session: Session, found: list[Coordination]) -> list[CoordinationRow]:
    resources = repo.resources(session, (c.resource_id for c in found))
    departments = repo.departments(session, [c.provider_id for c in found] + [c.consumer_department_id for c in found])
    regions = repo.regions(session, (c.authority_region_id for c in found))
    rows = []
    for c in found:
        done = clock.to_china(c.decided_at).date() if c.decided_at is not None else None
        view = calendar.clock(session, c.due_on, c.due_provisional, done_on=done) if c.due_on else None
        rows.append(
            CoordinationRow(
                c,
                resources[c.resource_id],
                departments[c.provider_id],
                departments[c.consumer_department_id],
                _authority_name(regions.get(c.authority_region_id)),
                view,
            )
        )
    return rows


def present(session: Session, coordination: Coordination) -> CoordinationRow:
    return _rows(session, [coordination])[0]


def list_coordinations(
    session: Session, actor: Actor, *, status: CoordinationStatus | None = None, to_decide: bool = False
) -> list[CoordinationRow]:
    """Coordinations the reader may see; ``to_decide``: the open ones the reader's authority decides."""
    stmt = repo.readable_coordinations(actor)
    if status is not None:
        stmt = stmt.where(Coordination.status == status.value)
    found = list(session.execute(stmt.order_by(Coordination.id.desc()).limit(500)).scalars())
    if to_decide:
        city = city_region_id(session)
        found = [c for c in found if policy.may_decide_coordination(actor, c, city)]
        found.sort(key=lambda c: (c.due_on or dt.date.max, c.id))
    return _rows(session, found)


def get_coordination(session: Session, actor: Actor, coordination_id: int) -> CoordinationView:
    """One coordination the reader may see (404 otherwise), with its notes and any grant."""
    coordination = _get(session, actor, coordination_id)
    row = _rows(session, [coordination])[0]
    items = repo.data_items(session, coordination.data_item_ids)
    may = policy.may_decide_coordination(actor, coordination, city_region_id(session))
    return CoordinationView(
        **vars(row),
        application=session.get(Application, coordination.application_id) if coordination.application_id else None,
        items=[items[i] for i in coordination.data_item_ids if i in items],
        notes=repo.notes(session, coordination.id),
        grants=repo.grants_of(session, coordination_ids=[coordination.id]),
        can_note=may,
        can_decide=may,
    )


# --------------------------------------------------------------------------------------- A23.1


def refusal_counts(
    session: Session, actor: Actor, *, since: dt.date | None = None, until: dt.date | None = None
) -> list[repo.RefusalCount]:
    """A23.1: per provider, refused applications and 信息项 in the period, with and without a later
    coordination that overturned them; the bureau sees all, a county's reviewers their county."""
    actor.require(Permission.sharing_oversee)
    if since is not None and until is not None and until < since:
        raise ValidationFailed("统计期间有误", errors=[FieldError("until", "截止日期不能早于起始日期")])
    region_ids: list[int] | None = None
    if actor.kind != "system" and Role.bureau_reviewer not in actor.roles and Role.auditor not in actor.roles:
        region_ids = sorted(actor.reviewer_region_ids)
    return repo.refusal_counts(session, since=since, until=until, region_ids=region_ids)
