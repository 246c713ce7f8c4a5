"""Applications for 有条件共享 resources and the provider's decision (A20.2, A20.3, A21.1, A26.1).

A person with ``sharing:apply`` applies, for their own department, for a published conditional
resource of another department: the 信息项 wanted (minimum necessary, A26.1: every 信息项 beyond the
ones the resource marks basic needs its own reason; 不可共享 信息项 cannot be asked), the 应用场景,
the 履职依据, the purpose, the period and optionally one of the department's consumer systems.
无条件共享 resources need no application (A20.1); 不予共享 ones go to coordination instead (A20.4);
unpublished and 涉密 resources cannot be asked for at all.

The application reaches the provider and the authority at once (A21.1): ``authority_region_id`` is
the resource's reviewing region and the bureau oversees all of them. The provider answers within 10
working days of submission (A20.2): the due date is stored when the clock starts, provisional when
it runs through a year whose holidays nobody has loaded, and recomputed when the calendar changes.
``sharing.tasks.remind_and_escalate`` reminds the provider two working days ahead and flags
overdue ones to the authority. A late answer is accepted and flagged ``decided_late``.

The provider's 数据资源管理员 decides per 信息项: all, some (each refused one with a reason) or none
(a reason is required, A20.3); it may add conditions, shorten the period and choose the masking
level — masked unless a written reason allows clear values. Approval issues the grant in the same
transaction. Each move is one conditional UPDATE on (status, version): of two reviewers deciding
at the same moment exactly one wins and writes the one audit record; the other gets a 409.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.calendar import service as calendar
from govshare.calendar.service import ClockView
from govshare.catalog import repository as catalog_repo
from govshare.catalog.enums import ResourceStatus, ShareType
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.service import city_region_id
from govshare.errors import FieldError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.models import Department, Region, RegionLevel
from govshare.identity.permissions import Permission
from govshare.kit import clock
from govshare.kit.versioned import conditional_update
from govshare.sharing import application_repository as repo
from govshare.sharing import grants
from govshare.sharing import permissions as policy
from govshare.sharing.enums import APPLICATION_LABELS, ApplicationStatus, Masking, label
from govshare.sharing.models import Application, ApplicationItem, ConsumerSystem, Coordination, Grant

DECISION_DAYS = 10  # 提供部门应在 10 个工作日内予以答复 (A20.2)
REMIND_DAYS_BEFORE = 2  # the provider is reminded two working days before the due date
MAX_PERIOD_DAYS = 3 * 366  # an application asks for at most three years
TEXT_MAX = 4000

S = ApplicationStatus
# The declared state machine: (from, to) -> the audit action of the move.
TRANSITIONS: dict[tuple[ApplicationStatus, ApplicationStatus], Action] = {
    (S.submitted, S.approved): Action.application_approved,
    (S.submitted, S.partially_approved): Action.application_partially_approved,
    (S.submitted, S.refused): Action.application_refused,
    (S.submitted, S.withdrawn): Action.application_withdrawn,
}
DECIDED = (S.approved, S.partially_approved, S.refused)


@dataclass(frozen=True)
class ItemRequest:
    """One 信息项 asked for, with the reason it is needed (not required for a basic one)."""

    data_item_id: int
    reason: str = ""


@dataclass(frozen=True)
class ItemDecision:
    """The provider's answer on one 信息项; a refusal carries its reason (A20.3)."""

    data_item_id: int
    approve: bool
    reason: str = ""


# --------------------------------------------------------------------------------------- helpers


def _authority_name(region: Region | None) -> str:
    if region is None:
        return ""
    if region.level == RegionLevel.city:
        return "市大数据局"
    return region.authority_name or f"{region.name}政务数据共享主管机构"


def _state(app: Application) -> dict[str, Any]:
    return {
        "status": app.status,
        "due_on": app.due_on,
        "due_provisional": app.due_provisional,
        "version": app.version,
    }


def _get(session: Session, actor: Actor, application_id: int) -> Application:
    found = repo.application(session, actor, application_id)
    if found is None:
        raise NotFound("共享申请不存在或无权查看", code="application_not_found")
    return found


def _move(
    session: Session,
    actor: Actor,
    app: Application,
    to: ApplicationStatus,
    *,
    values: Mapping[str, Any],
    expected_version: int | None,
    audit_after: Mapping[str, Any] | None = None,
) -> Application:
    """The one transition helper: check the move against ``TRANSITIONS``, apply it as a conditional
    UPDATE on (id, status, version), bump the version and write the audit record."""
    current = ApplicationStatus(app.status)
    action = TRANSITIONS.get((current, to))
    if action is None:
        raise InvalidTransition(
            f"共享申请当前为“{label(current, APPLICATION_LABELS)}”,不能{_VERBS[to]}", code="invalid_transition"
        )
    seen = app.version if expected_version is None else expected_version
    if seen != app.version:
        raise InvalidTransition("共享申请已被他人处理或修改,请刷新页面后重试", code="stale_version")
    before = _state(app)
    if not conditional_update(
        session, app, status=current.value, version=seen, values={**values, "status": to.value, "version": seen + 1}
    ):
        raise InvalidTransition("共享申请刚被他人处理,本次操作未生效,请刷新页面后查看", code="concurrent_update")
    audit.record(
        session,
        actor,
        action,
        object_type="application",
        object_id=app.id,
        before=before,
        after={**_state(app), **(audit_after or {})},
        department_id=app.provider_id if to in DECIDED else app.consumer_department_id,
    )
    return app


_VERBS = {
    S.approved: "同意",
    S.partially_approved: "部分同意",
    S.refused: "不同意",
    S.withdrawn: "撤回",
    S.submitted: "提交",
}


# --------------------------------------------------------------------------------------- applying


def shareability_problem(resource: Resource) -> tuple[str, str] | None:
    """Why ``resource`` cannot be applied for, as (code, Chinese message); None when it can."""
    if resource.classified:
        return "resource_classified", "涉密信息资源不能通过共享平台申请"
    if resource.status != ResourceStatus.published:
        return "resource_not_published", "只有已发布的信息资源可以申请"
    if resource.share_type == ShareType.unconditional:
        return "unconditional_no_application", "该信息资源为无条件共享,无需申请,可直接获取"
    if resource.share_type == ShareType.none:
        return "not_shareable", "该信息资源为不予共享,不能申请;确需使用的,可申请协调"
    return None


def submit_application(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    items: Sequence[ItemRequest],
    scenario: str,
    duty_basis: str,
    purpose: str,
    period_from: dt.date,
    period_until: dt.date,
    consumer_system_id: int | None = None,
) -> Application:
    """A20.2/A21.1: apply for a conditional resource of another department; the provider's
    10-working-day clock starts now and the application reaches the provider and the authority."""
    actor.require(Permission.sharing_apply)
    if actor.department_id is None:
        raise Forbidden("只有政务部门的工作人员可以提出共享申请", code="no_department")
    resource = catalog_repo.readable_resource(session, actor, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在", code="resource_not_found")
    problem = shareability_problem(resource)
    if problem is not None:
        raise InvalidTransition(problem[1], code=problem[0])
    if resource.provider_id == actor.department_id:
        raise InvalidTransition("本部门提供的信息资源无需申请", code="own_resource")
    today = clock.today()
    by_id = {i.id: i for i in resource.items}
    errors: list[FieldError] = []
    seen: set[int] = set()
    if not items:
        errors.append(FieldError("items", "请至少选择一个信息项"))
    for n, wanted in enumerate(items):
        item = by_id.get(wanted.data_item_id)
        where = f"items.{n}"
        if item is None:
            errors.append(FieldError(where, f"信息项 {wanted.data_item_id} 不属于该信息资源"))
        elif not item.shareable:
            errors.append(FieldError(where, f"信息项「{item.name}」不可共享,不能申请"))
        elif wanted.data_item_id in seen:
            errors.append(FieldError(where, f"信息项「{item.name}」重复"))
        elif not item.is_basic and not wanted.reason.strip():
            errors.append(
                FieldError(f"{where}.reason", f"信息项「{item.name}」不是基本信息项,请说明申请理由(最小可用)")
            )
        elif len(wanted.reason) > TEXT_MAX:
            errors.append(FieldError(f"{where}.reason", "理由过长"))
        seen.add(wanted.data_item_id)
    for name, value, message in (
        ("scenario", scenario, "请填写应用场景"),
        ("duty_basis", duty_basis, "请填写履职依据"),
        ("purpose", purpose, "请填写使用用途"),
    ):
        if not value.strip():
            errors.append(FieldError(name, message))
        elif len(value) > TEXT_MAX:
            errors.append(FieldError(name, "内容过长"))
    if period_until < period_from:
        errors.append(FieldError("period_until", "使用期限的截止日期不能早于起始日期"))
    elif period_until < today:
        errors.append(FieldError("period_until", "使用期限的截止日期不能早于今天"))
    elif (period_until - period_from).days > MAX_PERIOD_DAYS:
        errors.append(FieldError("period_until", "使用期限最长三年"))
    if consumer_system_id is not None:
        system = session.get(ConsumerSystem, consumer_system_id)
        if system is None or system.department_id != actor.department_id:
            errors.append(FieldError("consumer_system_id", "应用系统不存在或不属于本部门"))
        elif system.status != "active":
            errors.append(FieldError("consumer_system_id", f"应用系统「{system.name}」已停用"))
    if errors:
        raise ValidationFailed("共享申请信息有误", errors=errors)
    due = calendar.add_working_days(session, today, DECISION_DAYS)
    app = Application(
        number=f"tmp-{uuid.uuid4().hex[:24]}",
        resource_id=resource.id,
        provider_id=resource.provider_id,
        consumer_department_id=actor.department_id,
        consumer_system_id=consumer_system_id,
        applicant_id=actor.user_id,
        authority_region_id=resource.reviewing_region_id,
        scenario=scenario.strip(),
        duty_basis=duty_basis.strip(),
        purpose=purpose.strip(),
        period_from=period_from,
        period_until=period_until,
        status=S.submitted.value,
        submitted_at=clock.now(),
        due_on=due.date,
        due_provisional=due.provisional,
        items=[ApplicationItem(data_item_id=i.data_item_id, reason=i.reason.strip()) for i in items],
    )
    session.add(app)
    session.flush()
    app.number = f"SQ-{today.year}-{app.id:06d}"
    session.flush()
    audit.record(
        session,
        actor,
        Action.application_submitted,
        object_type="application",
        object_id=app.id,
        after={
            "number": app.number,
            "resource_id": resource.id,
            "provider_id": resource.provider_id,
            "authority_region_id": app.authority_region_id,
            "data_item_ids": [i.data_item_id for i in items],
            "period_from": period_from,
            "period_until": period_until,
            "consumer_system_id": consumer_system_id,
            **_state(app),
        },
    )
    return app


def withdraw_application(
    session: Session, actor: Actor, application_id: int, *, reason: str = "", expected_version: int | None = None
) -> Application:
    """The applicant's department takes its application back before the provider decides."""
    actor.require(Permission.sharing_apply)
    app = _get(session, actor, application_id)
    if not policy.applies_for(actor, app.consumer_department_id):
        raise Forbidden("只有申请部门可以撤回共享申请", code="not_applicant")
    return _move(
        session,
        actor,
        app,
        S.withdrawn,
        values={"decision_reason": reason.strip()},
        expected_version=expected_version,
        audit_after={"reason": reason.strip()},
    )


# --------------------------------------------------------------------------------------- deciding


def decide_application(
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    decisions: Sequence[ItemDecision] = (),
    outcome: str = "per_item",
    reason: str = "",
    conditions: str = "",
    granted_until: dt.date | None = None,
    masking: str = Masking.masked,
    masking_reason: str = "",
    expected_version: int | None = None,
) -> Application:
    """A20.2/A20.3: the provider answers every 信息项; a refusal (of one or of all) needs a reason.
    Any approval issues the grant (the approved 信息项, masking, period, system) in the same
    transaction. ``outcome`` approve_all / refuse_all answers every 信息项 alike; per_item uses
    ``decisions``."""
    actor.require(Permission.sharing_decide)
    app = _get(session, actor, application_id)
    if not policy.decides_for(actor, app.provider_id):
        raise Forbidden("只有提供部门的数据资源管理员可以答复共享申请", code="not_provider")
    asked = {i.data_item_id: i for i in app.items}
    if outcome in ("approve_all", "refuse_all"):
        decisions = [ItemDecision(i, outcome == "approve_all") for i in asked]
    elif outcome != "per_item":
        raise ValidationFailed("答复方式有误", errors=[FieldError("outcome", "答复方式有误")])
    names = {i.id: i.name for i in repo.data_items(session, asked).values()}
    given = {d.data_item_id: d for d in decisions}
    errors: list[FieldError] = []
    for item_id in given:
        if item_id not in asked:
            errors.append(FieldError("decisions", f"信息项 {item_id} 不在申请范围内"))
    for item_id in asked:
        answer = given.get(item_id)
        name = names.get(item_id, str(item_id))
        if answer is None:
            errors.append(FieldError(f"decisions.{item_id}", f"请对信息项「{name}」作出答复"))
        elif not answer.approve and not (answer.reason.strip() or reason.strip()):
            errors.append(FieldError(f"decisions.{item_id}.reason", f"不同意共享信息项「{name}」须说明理由"))
    approved = [i for i in asked if i in given and given[i].approve]
    if not approved and not reason.strip():
        errors.append(FieldError("reason", "不同意共享须说明理由"))
    if masking not in {m.value for m in Masking}:
        errors.append(FieldError("masking", "脱敏方式只能是“脱敏”或“明文(经授权)”"))
    elif masking == Masking.clear and approved and not masking_reason.strip():
        errors.append(FieldError("masking_reason", "提供明文须书面说明理由"))
    until = granted_until or app.period_until
    if approved and (until > app.period_until or until < app.period_from):
        errors.append(
            FieldError(
                "granted_until",
                f"授权截止日期须在 {app.period_from.isoformat()} 至 {app.period_until.isoformat()} 之间",
            )
        )
    elif approved and until < clock.today():
        errors.append(FieldError("granted_until", "授权截止日期不能早于今天"))
    if errors:
        raise ValidationFailed("答复内容有误", errors=errors)
    target = S.approved if len(approved) == len(asked) else (S.partially_approved if approved else S.refused)
    today = clock.today()
    refused = {i: (given[i].reason.strip() or reason.strip()) for i in asked if i not in approved}
    app = _move(
        session,
        actor,
        app,
        target,
        values={
            "decided_at": clock.now(),
            "decided_by_id": actor.user_id,
            "decision_reason": reason.strip(),
            "conditions": conditions.strip() if approved else "",
            "granted_until": until if approved else None,
            "decided_late": app.due_on is not None and today > app.due_on,
            "masking": masking if approved else Masking.masked.value,
            "masking_reason": masking_reason.strip() if approved and masking == Masking.clear else "",
        },
        expected_version=expected_version,
        audit_after={
            "approved_item_ids": sorted(approved),
            "refused_items": {str(k): v for k, v in sorted(refused.items())},
            "reason": reason.strip(),
            "conditions": conditions.strip(),
            "granted_until": until if approved else None,
            "masking": masking,
            "masking_reason": masking_reason.strip(),
        },
    )
    for item in app.items:
        if item.data_item_id in approved:
            item.decision, item.refusal_reason = "approved", ""
        else:
            item.decision, item.refusal_reason = "refused", refused[item.data_item_id]
    session.flush()
    if approved:
        grants.issue_grant(
            session,
            actor,
            resource_id=app.resource_id,
            consumer_department_id=app.consumer_department_id,
            data_item_ids=approved,
            purpose=app.purpose,
            valid_from=max(app.period_from, today),
            valid_until=until,
            masking=masking,
            conditions=conditions,
            system_ids=[app.consumer_system_id] if app.consumer_system_id else [],
            application_id=app.id,
        )
    return app


@calendar.on_change
def recompute_clocks(session: Session, actor: Actor, first: dt.date, last: dt.date) -> None:
    """When days from ``first`` to ``last`` change (a year loaded, a day corrected), the clocks of
    submitted applications that run through them are recomputed from the submission day."""
    for app in repo.submitted_due_on_or_after(session, first):
        start = clock.to_china(app.submitted_at or app.created_at).date()
        if start > last:
            continue
        due = calendar.add_working_days(session, start, DECISION_DAYS)
        if (due.date, due.provisional) == (app.due_on, app.due_provisional):
            continue
        before = _state(app)
        app.due_on, app.due_provisional = due.date, due.provisional
        app.version += 1
        session.flush()
        audit.record(
            session,
            actor,
            Action.application_clock_recomputed,
            object_type="application",
            object_id=app.id,
            before=before,
            after=_state(app),
            department_id=app.provider_id,
        )


# --------------------------------------------------------------------------------------- reading


class ListScope(StrEnum):
    mine = "mine"  # 我的申请: the reader's department's applications
    inbox = "inbox"  # 待我答复: submitted applications to the reader's department (overdue first)
    oversee = "oversee"  # the authority's overview
    all = "all"  # everything the reader may see


@dataclass(frozen=True)
class ItemRow:
    item: ApplicationItem
    data_item: DataItem


@dataclass(frozen=True)
class ApplicationRow:
    """One application with what a list or a detail shows beside it."""

    application: Application
    resource: Resource
    provider: Department
    consumer: Department
    authority_name: str
    clock: ClockView | None
    reminded: bool
    overdue_flagged: bool


@dataclass(frozen=True)
class ApplicationView(ApplicationRow):
    items: list[ItemRow] = field(default_factory=list)
    system: ConsumerSystem | None = None
    grants: list[Grant] = field(default_factory=list)
    coordinations: list[Coordination] = field(default_factory=list)
    can_withdraw: bool = False
    can_decide: bool = False
    can_request_coordination: bool = False


def _clock(session: Session, app: Application) -> ClockView | None:
    if app.due_on is None:
        return None
    done = clock.to_china(app.decided_at).date() if app.decided_at is not None else None
    if app.status == S.withdrawn:
        return None
    return calendar.clock(session, app.due_on, app.due_provisional, done_on=done)


def _rows(session: Session, apps: list[Application]) -> list[ApplicationRow]:
    resources = repo.resources(session, (a.resource_id for a in apps))
    departments = repo.departments(session, [a.provider_id for a in apps] + [a.consumer_department_id for a in apps])
    regions = repo.regions(session, (a.authority_region_id for a in apps))
    return [
        ApplicationRow(
            application=a,
            resource=resources[a.resource_id],
            provider=departments[a.provider_id],
            consumer=departments[a.consumer_department_id],
            authority_name=_authority_name(regions.get(a.authority_region_id)),
            clock=_clock(session, a),
            reminded=a.reminded_at is not None,
            overdue_flagged=a.overdue_flagged_at is not None,
        )
        for a in apps
    ]


def present(session: Session, app: Application) -> ApplicationRow:
    return _rows(session, [app])[0]


def _scoped(actor: Actor, scope: ListScope) -> Select[Application]:
    stmt = repo.readable_applications(actor)
    if scope == ListScope.mine:
        return stmt.where(Application.consumer_department_id == (actor.department_id or -1))
    if scope == ListScope.inbox:
        return stmt.where(
            Application.provider_id == (actor.department_id or -1), Application.status == S.submitted.value
        )
    if scope == ListScope.oversee and not actor.can(Permission.sharing_oversee):
        raise Forbidden("只有共享主管机构可以查看申请总览", code="permission_denied")
    return stmt


def list_applications(
    session: Session,
    actor: Actor,
    *,
    scope: ListScope = ListScope.all,
    status: ApplicationStatus | None = None,
    overdue: bool = False,
    resource_id: int | None = None,
    limit: int = 200,
) -> list[ApplicationRow]:
    """Applications the reader may see, with their clocks: the inbox overdue first (by due date),
    the others newest first."""
    stmt = _scoped(actor, scope)
    if status is not None:
        stmt = stmt.where(Application.status == status.value)
    if overdue:
        stmt = stmt.where(Application.status == S.submitted.value, Application.due_on < clock.today())
    if resource_id is not None:
        stmt = stmt.where(Application.resource_id == resource_id)
    if scope == ListScope.inbox or overdue:
        stmt = stmt.order_by(Application.due_on, Application.id)
    else:
        submitted_first = case((Application.status == S.submitted.value, 0), else_=1)
        stmt = stmt.order_by(submitted_first, Application.id.desc())
    return _rows(session, list(session.execute(stmt.limit(max(1, min(limit, 1000)))).scalars()))


def get_application(session: Session, actor: Actor, application_id: int) -> ApplicationView:
    """One application the reader may see (404 otherwise), its 信息项, grant, coordinations and
    what the reader may do with it."""
    app = _get(session, actor, application_id)
    row = _rows(session, [app])[0]
    items = repo.data_items(session, (i.data_item_id for i in app.items))
    coordinations = repo.coordinations_of_application(session, app.id)
    return ApplicationView(
        **vars(row),
        items=[ItemRow(i, items[i.data_item_id]) for i in app.items],
        system=session.get(ConsumerSystem, app.consumer_system_id) if app.consumer_system_id else None,
        grants=repo.grants_of(session, application_ids=[app.id], coordination_ids=[c.id for c in coordinations]),
        coordinations=coordinations,
        can_withdraw=policy.may_withdraw(actor, app),
        can_decide=policy.may_decide(actor, app),
        can_request_coordination=policy.may_request_coordination(actor, app)
        and not any(c.status == "open" for c in coordinations),
    )


@dataclass(frozen=True)
class ApplyForm:
    """What the application form needs: the resource, its askable 信息项, the department's systems."""

    resource: Resource
    items: list[DataItem]
    systems: list[ConsumerSystem]
    problem: tuple[str, str] | None
    decision_days: int = DECISION_DAYS


def apply_form(session: Session, actor: Actor, resource_id: int) -> ApplyForm:
    """The resource as the applicant sees it, with why it cannot be applied for, if it cannot."""
    actor.require(Permission.sharing_apply)
    resource = catalog_repo.readable_resource(session, actor, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在", code="resource_not_found")
    problem = shareability_problem(resource)
    if problem is None and resource.provider_id == actor.department_id:
        problem = ("own_resource", "本部门提供的信息资源无需申请")
    systems = list(
        session.execute(
            select(ConsumerSystem)
            .where(ConsumerSystem.department_id == (actor.department_id or -1), ConsumerSystem.status == "active")
            .order_by(ConsumerSystem.name)
        ).scalars()
    )
    return ApplyForm(resource, [i for i in resource.items if i.shareable], systems, problem)


@dataclass(frozen=True)
class Awaiting:
    """What waits for the actor: applications to answer (reminded or overdue ones marked), and for
    the authority the overdue ones it oversees."""

    to_decide: list[Application]
    overdue_overseen: list[Application]


def awaiting(session: Session, actor: Actor, on: dt.date | None = None) -> Awaiting:
    """The dashboard's application work for the actor, as of ``on`` (today by default)."""
    on = on or clock.today()
    to_decide: list[Application] = []
    if actor.can(Permission.sharing_decide) and actor.department_id is not None:
        to_decide = list(
            session.execute(
                repo.readable_applications(actor)
                .where(Application.provider_id == actor.department_id, Application.status == S.submitted.value)
                .order_by(Application.due_on, Application.id)
            ).scalars()
        )
    overdue: list[Application] = []
    if actor.can(Permission.sharing_oversee):
        city = city_region_id(session)
        candidates = session.execute(
            repo.readable_applications(actor)
            .where(Application.status == S.submitted.value, Application.due_on < on)
            .order_by(Application.due_on, Application.id)
        ).scalars()
        overdue = [a for a in candidates if policy.oversees(actor, a.authority_region_id, city)]
    return Awaiting(to_decide, overdue)
