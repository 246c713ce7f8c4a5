"""Catalog change requests (目录变更申请, article 17: A17.1, A17.2, A17.3; routing A15.2).

When a law, a reorganisation or a change of duties makes a published catalog entry unusable, the
provider's 数据资源管理员 *opens* a change request stating the trigger and its date; the filing clock
starts then: the request must be *filed* (报送, with the proposed new content) within 10 working
days of the trigger date. Filing later is accepted and flagged ``filed_late`` (A17.1).

Before filing, the department may ask *once* for an extension of up to 20 working days, with a
reason. Only the authority's consent moves the filing due date (original due + the granted days, in
working days); a pending or refused extension changes nothing, and a request filed after the
unchanged due date is flagged late even when it "counted on" the extension (A17.2). The platform
takes no due date from the department: the input schemas forbid it.

The authority is the bureau for a city department's resource and the county's authority for a
county department's (A15.2): it is the resource's reviewing region. It decides within 10 working
days of filing; a later decision is accepted and flagged ``decided_late`` (A17.3). Approval
publishes the proposed content as a new version of the resource, linked to the request;
rejection needs a comment.

Two declared state machines share one transition helper: the request's ``status`` and its
``extension_status``. Each move is a conditional UPDATE on ``version``, so of two concurrent
moves exactly one wins and the other gets ``Conflict``.

The queries of this module sit in its "queries" section rather than in ``catalog/repository.py``:
change requests were built in parallel with the resource core, and keeping their queries beside
them avoided edits to a file another engineer owned. Visibility is one function, ``readable``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, false, or_, select, update
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.calendar import service as calendar
from govshare.calendar.service import ClockView
from govshare.catalog import permissions as policy
from govshare.catalog import repository as resource_repo
from govshare.catalog import service as catalog_service
from govshare.catalog.diff import FieldChange, ItemChange, diff_snapshots
from govshare.catalog.enums import ChangeRequestStatus, ChangeTrigger, ExtensionStatus, ResourceStatus, label
from govshare.catalog.models import ChangeRequest, Resource
from govshare.catalog.schemas import ResourceFields
from govshare.catalog.validation import raise_if_invalid, validate_resource
from govshare.errors import Conflict, FieldError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.models import Department, Region, RegionLevel
from govshare.identity.permissions import Permission, Role
from govshare.kit.clock import now, today

FILING_DAYS = 10  # 自变化之日起 10 个工作日内提出变更申请
MAX_EXTENSION_DAYS = 20  # 经同意可延长 20 个工作日
DECISION_DAYS = 10  # 自收到变更申请 10 个工作日内完成审核

Status = ChangeRequestStatus

# The declared state machines: (from, to) -> the audit action of the move.
TRANSITIONS: dict[tuple[ChangeRequestStatus, ChangeRequestStatus], Action] = {
    (Status.open, Status.filed): Action.change_request_filed,
    (Status.filed, Status.approved): Action.change_request_approved,
    (Status.filed, Status.rejected): Action.change_request_rejected,
}
EXTENSION_TRANSITIONS: dict[tuple[ExtensionStatus, ExtensionStatus], Action] = {
    (ExtensionStatus.none, ExtensionStatus.requested): Action.change_request_extension_requested,
    (ExtensionStatus.requested, ExtensionStatus.granted): Action.change_request_extension_decided,
    (ExtensionStatus.requested, ExtensionStatus.refused): Action.change_request_extension_decided,
}
ACTIVE = (Status.open, Status.filed)


# --------------------------------------------------------------------------------------- queries


def readable(actor: Actor) -> Select[ChangeRequest]:
    """Who sees a change request: its department's own people, the responsible authority (the
    bureau's reviewers for city regions, a county's reviewers for their county), auditors and the
    bureau's system administrators."""
    stmt = select(ChangeRequest)
    if actor.kind == "system" or actor.roles & {Role.bureau_admin, Role.auditor}:
        return stmt
    conditions = []
    if actor.department_id is not None:
        conditions.append(ChangeRequest.department_id == actor.department_id)
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        conditions.append(ChangeRequest.authority_region_id.in_(actor.reviewer_region_ids))
    if Role.bureau_reviewer in actor.roles:
        conditions.append(ChangeRequest.authority_region_id.in_(resource_repo.city_region_ids()))
    if not conditions:
        return stmt.where(false())
    return stmt.where(or_(*conditions))


def decidable(actor: Actor) -> Select[ChangeRequest]:
    """The requests whose authority the actor acts for (the reviewer's queue, before status filters)."""
    stmt = select(ChangeRequest)
    if actor.kind == "system":
        return stmt
    conditions = []
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        conditions.append(ChangeRequest.authority_region_id.in_(actor.reviewer_region_ids))
    if Role.bureau_reviewer in actor.roles:
        conditions.append(ChangeRequest.authority_region_id.in_(resource_repo.city_region_ids()))
    if not conditions or not actor.can(Permission.change_request_decide):
        return stmt.where(false())
    return stmt.where(or_(*conditions))


def _get(session: Session, actor: Actor, change_request_id: int) -> ChangeRequest:
    found = session.execute(readable(actor).where(ChangeRequest.id == change_request_id)).scalar_one_or_none()
    if found is None:
        raise NotFound("变更申请不存在或无权查看", code="change_request_not_found")
    return found


def _active_for_resource(session: Session, resource_id: int) -> ChangeRequest | None:
    return session.execute(
        select(ChangeRequest).where(ChangeRequest.resource_id == resource_id, ChangeRequest.status.in_(ACTIVE)).limit(1)
    ).scalar_one_or_none()


def overdue_change_requests(session: Session, today: dt.date) -> list[ChangeRequest]:
    """Requests past a clock on ``today``: open ones past their filing due date, filed ones past their
    decision due date (for the reminder and escalation job)."""
    stmt = (
        select(ChangeRequest)
        .where(
            or_(
                (ChangeRequest.status == Status.open) & (ChangeRequest.filing_due < today),
                (ChangeRequest.status == Status.filed) & (ChangeRequest.decision_due < today),
            )
        )
        .order_by(ChangeRequest.id)
    )
    return list(session.execute(stmt).scalars().all())


# --------------------------------------------------------------------------------------- rules


def acts_for_authority(session: Session, actor: Actor, region_id: int) -> bool:
    """A15.2: the bureau's reviewers act for the city, a county's reviewers for their own county."""
    if actor.kind == "system":
        return True
    if not actor.can(Permission.change_request_decide):
        return False
    return policy.reviews(actor, region_id, catalog_service.city_region_id(session))


def _for_authority(session: Session, actor: Actor, change_request_id: int) -> ChangeRequest:
    """The request an authority acts on. A reviewer of another region is refused outright (403,
    audited as a denial) rather than told the request does not exist."""
    actor.require(Permission.change_request_decide)
    cr = session.get(ChangeRequest, change_request_id)
    if cr is None:
        raise NotFound("变更申请不存在或无权查看", code="change_request_not_found")
    _require_authority(session, actor, cr)
    return cr


def _require_authority(session: Session, actor: Actor, cr: ChangeRequest) -> None:
    actor.require(Permission.change_request_decide)
    if not acts_for_authority(session, actor, cr.authority_region_id):
        raise Forbidden("该变更申请由其他地区的政务数据共享主管机构审核", code="not_responsible_authority")


def _require_department_admin(actor: Actor, cr: ChangeRequest) -> None:
    actor.require(Permission.change_request_file)
    if actor.kind != "system" and actor.department_id != cr.department_id:
        raise Forbidden("只有提出申请的部门的数据资源管理员可以办理", code="not_own_department")


def _state(cr: ChangeRequest) -> dict[str, Any]:
    return {
        "status": cr.status,
        "filing_due": cr.filing_due,
        "filing_due_provisional": cr.filing_due_provisional,
        "extension_status": cr.extension_status,
        "extension_days": cr.extension_days,
        "filed_on": cr.filed_on,
        "filed_late": cr.filed_late,
        "decision_due": cr.decision_due,
        "decided_on": cr.decided_on,
        "decided_late": cr.decided_late,
        "version": cr.version,
    }


def _move(
    session: Session,
    actor: Actor,
    cr: ChangeRequest,
    *,
    to: ChangeRequestStatus | ExtensionStatus,
    values: Mapping[str, Any],
    expected_version: int | None,
    audit_after: Mapping[str, Any] | None = None,
) -> ChangeRequest:
    """The one transition helper: check the move against its table, apply it with a conditional
    UPDATE on ``version`` (and the current status), bump the version and write the audit record."""
    if isinstance(to, ChangeRequestStatus):
        current: StrEnum = ChangeRequestStatus(cr.status)
        action = TRANSITIONS.get((ChangeRequestStatus(cr.status), to))
        column = ChangeRequest.status
    else:
        current = ExtensionStatus(cr.extension_status)
        action = EXTENSION_TRANSITIONS.get((ExtensionStatus(cr.extension_status), to))
        column = ChangeRequest.extension_status
        # Extensions concern the filing clock: they move only while the request is still open.
        if cr.status != Status.open:
            action = None
    if action is None:
        raise InvalidTransition(
            f"变更申请当前状态为“{label(cr.status, ChangeRequestStatus)}”"
            f"(延期:{label(cr.extension_status, ExtensionStatus)}),不能执行此操作",
            code="change_request_invalid_transition",
        )
    seen = cr.version if expected_version is None else expected_version
    before = _state(cr)
    result = session.execute(
        update(ChangeRequest)
        .where(
            ChangeRequest.id == cr.id,
            ChangeRequest.version == seen,
            ChangeRequest.status == cr.status,
            column == str(current),
        )
        .values({**values, column.key: str(to), "version": ChangeRequest.version + 1})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("变更申请已被他人处理或修改,请刷新后重试", code="stale_version")
    session.refresh(cr)
    audit.record(
        session,
        actor,
        action,
        object_type="change_request",
        object_id=cr.id,
        before=before,
        after={**_state(cr), **(audit_after or {})},
    )
    return cr


def _validated_proposed(session: Session, cr: ChangeRequest, proposed: ResourceFields) -> dict[str, Any]:
    raise_if_invalid(validate_resource(session, proposed, provider_id=cr.department_id, exclude_id=cr.resource_id))
    return proposed.model_dump(mode="json")


def _proposed_fields(cr: ChangeRequest) -> ResourceFields:
    try:
        return ResourceFields.model_validate(cr.proposed)
    except ValidationError as exc:
        errors = [FieldError(".".join(str(p) for p in e["loc"]), "取值无效") for e in exc.errors()]
        raise ValidationFailed(
            "拟变更内容不完整,请先修改拟变更内容", code="proposed_incomplete", errors=errors
        ) from exc


# --------------------------------------------------------------------------------------- changes


def open_change_request(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    trigger: ChangeTrigger,
    trigger_date: dt.date,
    trigger_description: str,
    reason: str = "",
) -> ChangeRequest:
    """Article 17: the provider's 数据资源管理员 records why a published entry must change; the filing
    clock (trigger date + 10 working days) is stored now, with its provisional flag."""
    actor.require(Permission.change_request_file)
    resource = resource_repo.resource_with_items(session, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在", code="resource_not_found")
    if actor.kind != "system" and actor.department_id != resource.provider_id:
        raise Forbidden("只能为本部门提供的信息资源提出变更申请", code="not_provider")
    if resource.status != ResourceStatus.published:
        raise InvalidTransition("只有已发布的信息资源可以提出变更申请", code="resource_not_published")
    errors: list[FieldError] = []
    if trigger_date > today():
        errors.append(FieldError("trigger_date", "变化之日不能晚于今天"))
    if not trigger_description.strip():
        errors.append(FieldError("trigger_description", "请说明法律法规调整、机构改革或职责变化的情况"))
    if errors:
        raise ValidationFailed("变更申请信息有误", errors=errors)
    if _active_for_resource(session, resource.id) is not None:
        raise Conflict("该信息资源已有未办结的变更申请", code="change_request_pending")
    due = calendar.add_working_days(session, trigger_date, FILING_DAYS)
    cr = ChangeRequest(
        resource_id=resource.id,
        department_id=resource.provider_id,
        authority_region_id=resource.reviewing_region_id,
        trigger=str(ChangeTrigger(trigger)),
        trigger_date=trigger_date,
        trigger_description=trigger_description.strip(),
        reason=reason.strip(),
        proposed=_current_fields(session, resource),
        status=str(Status.open),
        filing_due=due.date,
        filing_due_provisional=due.provisional,
        filing_due_original=due.date,
        created_by_id=actor.user_id,
    )
    session.add(cr)
    session.flush()
    audit.record(
        session,
        actor,
        Action.change_request_opened,
        object_type="change_request",
        object_id=cr.id,
        after={
            "resource_id": cr.resource_id,
            "trigger": cr.trigger,
            "trigger_date": cr.trigger_date,
            "authority_region_id": cr.authority_region_id,
            **_state(cr),
        },
    )
    return cr


def _current_fields(session: Session, resource: Resource) -> dict[str, Any]:
    """The published content (``resource.items`` loaded) as a ResourceFields document."""
    return catalog_service.fields_of(session, resource).model_dump(mode="json")


def update_proposed(
    session: Session,
    actor: Actor,
    change_request_id: int,
    *,
    proposed: ResourceFields,
    reason: str | None = None,
    expected_version: int | None = None,
) -> ChangeRequest:
    """The department edits the content it proposes, while the request is not yet filed; the content
    must meet the same rules as any catalog entry."""
    cr = _get(session, actor, change_request_id)
    _require_department_admin(actor, cr)
    if cr.status != Status.open:
        raise InvalidTransition("变更申请已报送,不能再修改拟变更内容", code="change_request_invalid_transition")
    seen = cr.version if expected_version is None else expected_version
    content = _validated_proposed(session, cr, proposed)
    values: dict[str, Any] = {"proposed": content, "version": ChangeRequest.version + 1}
    if reason is not None:
        values["reason"] = reason.strip()
    result = session.execute(
        update(ChangeRequest)
        .where(ChangeRequest.id == cr.id, ChangeRequest.version == seen, ChangeRequest.status == Status.open)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("变更申请已被他人处理或修改,请刷新后重试", code="stale_version")
    session.refresh(cr)
    audit.record(
        session,
        actor,
        Action.change_request_updated,
        object_type="change_request",
        object_id=cr.id,
        after={"proposed": cr.proposed, "reason": cr.reason, "version": cr.version},
    )
    return cr


def file_change_request(
    session: Session,
    actor: Actor,
    change_request_id: int,
    *,
    proposed: ResourceFields | None = None,
    expected_version: int | None = None,
) -> ChangeRequest:
    """A17.1: file (报送) the request with its proposed content, validated like any catalog entry.
    Filing after the filing due date is accepted and flagged ``filed_late``; the decision clock
    (filing date + 10 working days) starts."""
    cr = _get(session, actor, change_request_id)
    _require_department_admin(actor, cr)
    if cr.status != Status.open:
        raise InvalidTransition("变更申请已报送或已办结", code="change_request_invalid_transition")
    fields = proposed if proposed is not None else _proposed_fields(cr)
    content = _validated_proposed(session, cr, fields)
    filed_on = today()
    decision_due = calendar.add_working_days(session, filed_on, DECISION_DAYS)
    late = filed_on > cr.filing_due
    return _move(
        session,
        actor,
        cr,
        to=Status.filed,
        values={
            "proposed": content,
            "filed_at": now(),
            "filed_on": filed_on,
            "filed_late": late,
            "decision_due": decision_due.date,
            "decision_due_provisional": decision_due.provisional,
        },
        expected_version=expected_version,
        audit_after={"extension_status_at_filing": cr.extension_status},
    )


def request_extension(
    session: Session,
    actor: Actor,
    change_request_id: int,
    *,
    days: int,
    reason: str,
    expected_version: int | None = None,
) -> ChangeRequest:
    """A17.2: before filing, ask once for up to 20 more working days, giving the special reason.
    Asking changes no date; only the authority's consent does."""
    cr = _get(session, actor, change_request_id)
    _require_department_admin(actor, cr)
    errors: list[FieldError] = []
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        errors.append(FieldError("days", f"延长期限为 1 至 {MAX_EXTENSION_DAYS} 个工作日"))
    if not reason.strip():
        errors.append(FieldError("reason", "请说明需要延长期限的特殊原因"))
    if errors:
        raise ValidationFailed("延期申请信息有误", errors=errors)
    if cr.status == Status.open and cr.extension_status != ExtensionStatus.none:
        raise InvalidTransition("每项变更申请只能申请一次延期", code="extension_already_requested")
    return _move(
        session,
        actor,
        cr,
        to=ExtensionStatus.requested,
        values={"extension_days": days, "extension_reason": reason.strip()},
        expected_version=expected_version,
        audit_after={"reason": reason.strip()},
    )


def decide_extension(
    session: Session,
    actor: Actor,
    change_request_id: int,
    *,
    grant: bool,
    days: int | None = None,
    comment: str = "",
    expected_version: int | None = None,
) -> ChangeRequest:
    """A17.2: the responsible authority consents to (or refuses) the extension. Consent moves the
    filing due date by the granted working days (at most the days asked) from the original due date."""
    cr = _for_authority(session, actor, change_request_id)
    values: dict[str, Any] = {
        "extension_decided_by_id": actor.user_id,
        "extension_decided_at": now(),
        "extension_comment": comment.strip(),
    }
    if grant:
        granted = cr.extension_days if days is None else days
        if not 1 <= granted <= min(cr.extension_days or MAX_EXTENSION_DAYS, MAX_EXTENSION_DAYS):
            raise ValidationFailed(
                "同意延长的期限有误",
                errors=[FieldError("days", f"同意延长 1 至 {cr.extension_days} 个工作日")],
            )
        original = cr.filing_due_original or cr.filing_due
        due = calendar.add_working_days(session, original, granted)
        values |= {"extension_days": granted, "filing_due": due.date, "filing_due_provisional": due.provisional}
    elif not comment.strip():
        raise ValidationFailed("不同意延期须说明理由", errors=[FieldError("comment", "必填")])
    return _move(
        session,
        actor,
        cr,
        to=ExtensionStatus.granted if grant else ExtensionStatus.refused,
        values=values,
        expected_version=expected_version,
        audit_after={"comment": comment.strip()},
    )


def decide_change_request(
    session: Session,
    actor: Actor,
    change_request_id: int,
    *,
    approve: bool,
    comment: str = "",
    expected_version: int | None = None,
) -> ChangeRequest:
    """A17.3: the responsible authority approves (publishing the proposed content as a new version of
    the resource) or rejects with a comment. Deciding after the decision due date is accepted and
    flagged ``decided_late``."""
    cr = _for_authority(session, actor, change_request_id)
    if not approve and not comment.strip():
        raise ValidationFailed("不同意变更须填写审核意见", errors=[FieldError("comment", "必填")])
    decided_on = today()
    late = cr.decision_due is not None and decided_on > cr.decision_due
    cr = _move(
        session,
        actor,
        cr,
        to=Status.approved if approve else Status.rejected,
        values={
            "decided_at": now(),
            "decided_on": decided_on,
            "decided_late": late,
            "decided_by_id": actor.user_id,
            "decision_comment": comment.strip(),
        },
        expected_version=expected_version,
    )
    if approve:
        catalog_service.apply_proposed(session, actor, cr.resource_id, _proposed_fields(cr), change_request_id=cr.id)
    return cr


@calendar.on_change
def recompute_clocks(session: Session, actor: Actor, first: dt.date, last: dt.date) -> None:
    """When days from ``first`` to ``last`` change status (a year loaded, a day corrected), running
    clocks that count through them are recomputed from their start: the filing clock of open
    requests (trigger date + 10, then + the granted extension) and the decision clock of filed ones."""
    stmt = select(ChangeRequest).where(
        or_(
            (ChangeRequest.status == Status.open) & (ChangeRequest.trigger_date < last),
            (ChangeRequest.status == Status.filed) & (ChangeRequest.filed_on < last),
        )
    )
    for cr in session.execute(stmt).scalars().all():
        before = _state(cr)
        if cr.status == Status.open:
            if cr.filing_due < first:
                continue
            original = calendar.add_working_days(session, cr.trigger_date, FILING_DAYS)
            due = original
            if cr.extension_status == ExtensionStatus.granted:
                due = calendar.add_working_days(session, original.date, cr.extension_days)
            if (due.date, due.provisional, original.date) == (
                cr.filing_due,
                cr.filing_due_provisional,
                cr.filing_due_original,
            ):
                continue
            cr.filing_due, cr.filing_due_provisional, cr.filing_due_original = due.date, due.provisional, original.date
        else:
            if cr.filed_on is None or cr.decision_due is None or cr.decision_due < first:
                continue
            due = calendar.add_working_days(session, cr.filed_on, DECISION_DAYS)
            if (due.date, due.provisional) == (cr.decision_due, cr.decision_due_provisional):
                continue
            cr.decision_due, cr.decision_due_provisional = due.date, due.provisional
        cr.version += 1
        session.flush()
        audit.record(
            session,
            actor,
            Action.change_request_clock_recomputed,
            object_type="change_request",
            object_id=cr.id,
            before=before,
            after=_state(cr),
        )


# --------------------------------------------------------------------------------------- reading


class ListScope(StrEnum):
    all = "all"  # everything the reader may see
    mine = "mine"  # the reader's own department's
    to_decide = "to_decide"  # the authority's queue: filed requests and pending extensions


@dataclass(frozen=True)
class ChangeRequestRow:
    """One request with what a list or detail page shows beside it."""

    request: ChangeRequest
    resource: Resource
    department: Department
    authority_name: str
    filing_clock: ClockView
    decision_clock: ClockView | None


@dataclass(frozen=True)
class ChangeRequestView(ChangeRequestRow):
    can_edit: bool = False
    can_file: bool = False
    can_request_extension: bool = False
    can_decide_extension: bool = False
    can_decide: bool = False
    field_changes: list[FieldChange] = field(default_factory=list)
    item_changes: list[ItemChange] = field(default_factory=list)


def _clocks(session: Session, cr: ChangeRequest) -> tuple[ClockView, ClockView | None]:
    filing = calendar.clock(session, cr.filing_due, cr.filing_due_provisional, done_on=cr.filed_on)
    decision = (
        calendar.clock(session, cr.decision_due, cr.decision_due_provisional, done_on=cr.decided_on)
        if cr.decision_due is not None
        else None
    )
    return filing, decision


def _rows(session: Session, requests: list[ChangeRequest]) -> list[ChangeRequestRow]:
    resources = {
        r.id: r
        for r in session.execute(select(Resource).where(Resource.id.in_({c.resource_id for c in requests})))
        .scalars()
        .all()
    }
    departments = {
        d.id: d
        for d in session.execute(select(Department).where(Department.id.in_({c.department_id for c in requests})))
        .scalars()
        .all()
    }
    regions = {
        r.id: r
        for r in session.execute(select(Region).where(Region.id.in_({c.authority_region_id for c in requests})))
        .scalars()
        .all()
    }
    rows = []
    for cr in requests:
        filing, decision = _clocks(session, cr)
        rows.append(
            ChangeRequestRow(
                cr,
                resources[cr.resource_id],
                departments[cr.department_id],
                _authority_name(regions.get(cr.authority_region_id)),
                filing,
                decision,
            )
        )
    return rows


def _authority_name(region: Region | None) -> str:
    if region is None:
        return ""
    if region.level == RegionLevel.city:
        return "市大数据局"
    return region.authority_name or f"{region.name}政务数据共享主管机构"


def present(session: Session, cr: ChangeRequest) -> ChangeRequestRow:
    """A request the caller already holds, with its resource, department and clocks (for responses)."""
    return _rows(session, [cr])[0]


def list_change_requests(
    session: Session,
    actor: Actor,
    *,
    scope: ListScope = ListScope.all,
    status: ChangeRequestStatus | None = None,
    limit: int = 200,
) -> list[ChangeRequestRow]:
    """The change requests the reader may see, newest first, with their clocks."""
    actor.require(Permission.catalog_read)
    stmt = readable(actor)
    if scope == ListScope.mine:
        stmt = stmt.where(ChangeRequest.department_id == (actor.department_id or -1))
    elif scope == ListScope.to_decide:
        queue = decidable(actor).where(
            or_(
                ChangeRequest.status == Status.filed,
                (ChangeRequest.status == Status.open) & (ChangeRequest.extension_status == ExtensionStatus.requested),
            )
        )
        stmt = stmt.where(ChangeRequest.id.in_(queue.with_only_columns(ChangeRequest.id)))
    if status is not None:
        stmt = stmt.where(ChangeRequest.status == status)
    stmt = stmt.order_by(ChangeRequest.id.desc()).limit(limit)
    return _rows(session, list(session.execute(stmt).scalars().all()))


def get_change_request(session: Session, actor: Actor, change_request_id: int) -> ChangeRequestView:
    """One change request the reader may see, with its clocks, what the reader may do, and the
    differences between the published content and the proposed one."""
    actor.require(Permission.catalog_read)
    cr = _get(session, actor, change_request_id)
    row = _rows(session, [cr])[0]
    published = resource_repo.resource_with_items(session, cr.resource_id)
    assert published is not None
    # Once approved, the resource already carries the content: compare against what was proposed.
    field_changes, item_changes = (
        diff_snapshots(_current_fields(session, published), dict(cr.proposed)) if cr.status in ACTIVE else ([], [])
    )
    own_admin = actor.can(Permission.change_request_file) and (
        actor.kind == "system" or actor.department_id == cr.department_id
    )
    authority = acts_for_authority(session, actor, cr.authority_region_id)
    is_open = cr.status == Status.open
    return ChangeRequestView(
        request=cr,
        resource=row.resource,
        department=row.department,
        authority_name=row.authority_name,
        filing_clock=row.filing_clock,
        decision_clock=row.decision_clock,
        can_edit=own_admin and is_open,
        can_file=own_admin and is_open,
        can_request_extension=own_admin and is_open and cr.extension_status == ExtensionStatus.none,
        can_decide_extension=authority and is_open and cr.extension_status == ExtensionStatus.requested,
        can_decide=authority and cr.status == Status.filed,
        field_changes=field_changes,
        item_changes=item_changes,
    )


@dataclass(frozen=True)
class Awaiting:
    """What waits for the actor: requests to file, requests and extensions to decide, and late ones."""

    to_file: list[ChangeRequest]
    to_decide: list[ChangeRequest]
    extensions_to_decide: list[ChangeRequest]
    late: list[ChangeRequest]


def awaiting(session: Session, actor: Actor, on: dt.date | None = None) -> Awaiting:
    """The dashboard's change-request work for the actor, as of ``on`` (today by default)."""
    on = on or today()
    to_file: list[ChangeRequest] = []
    if actor.can(Permission.change_request_file) and actor.department_id is not None:
        to_file = list(
            session.execute(
                readable(actor)
                .where(ChangeRequest.department_id == actor.department_id, ChangeRequest.status == Status.open)
                .order_by(ChangeRequest.filing_due)
            )
            .scalars()
            .all()
        )
    to_decide: list[ChangeRequest] = []
    extensions: list[ChangeRequest] = []
    if actor.can(Permission.change_request_decide):
        to_decide = list(
            session.execute(
                decidable(actor).where(ChangeRequest.status == Status.filed).order_by(ChangeRequest.decision_due)
            )
            .scalars()
            .all()
        )
        extensions = list(
            session.execute(
                decidable(actor)
                .where(ChangeRequest.status == Status.open, ChangeRequest.extension_status == ExtensionStatus.requested)
                .order_by(ChangeRequest.filing_due)
            )
            .scalars()
            .all()
        )
    late = [c for c in to_file if c.filing_due < on] + [
        c for c in to_decide if c.decision_due is not None and c.decision_due < on
    ]
    return Awaiting(to_file, to_decide, extensions, late)
