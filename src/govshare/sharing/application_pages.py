"""Pages of applications, decisions, coordination and refusal counts (under /sharing), and the
dashboard panels of the application clock.

Each form runs its service call inside a SAVEPOINT: a refusal re-renders the page with the Chinese
message and nothing the call may have flushed survives. Per-信息项 fields are named ``item_<id>``,
``reason_<id>``, ``decision_<id>`` and ``refusal_<id>`` so that the form needs no JavaScript.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.errors import DomainError, FieldError, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit import clock
from govshare.sharing import applications as service
from govshare.sharing import coordination as coordination_service
from govshare.sharing.applications import ItemDecision, ItemRequest, ListScope
from govshare.sharing.enums import (
    APPLICATION_LABELS,
    COORDINATION_LABELS,
    GRANT_LABELS,
    MASKING_LABELS,
    ApplicationStatus,
    CoordinationStatus,
)
from govshare.web.dashboard import Panel, register_panels
from govshare.web.forms import FormFields, attempt, int_or_none, optional_date, required_date
from govshare.web.templating import error_status, redirect, render, render_form, templates

router = APIRouter(prefix="/sharing", include_in_schema=False)

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Applicant = Annotated[Actor, Depends(require(Permission.sharing_apply))]
Provider = Annotated[Actor, Depends(require(Permission.sharing_decide))]
Authority = Annotated[Actor, Depends(require(Permission.coordination_decide))]
Overseer = Annotated[Actor, Depends(require(Permission.sharing_oversee))]

templates.env.globals.setdefault("APPLICATION_LABELS", APPLICATION_LABELS)
templates.env.globals.setdefault("COORDINATION_LABELS", COORDINATION_LABELS)
templates.env.globals.setdefault("GRANT_LABELS", GRANT_LABELS)
templates.env.globals.setdefault("MASKING_LABELS", MASKING_LABELS)


# --------------------------------------------------------------------------------------- lists


@router.get("/applications")
def application_list(
    request: Request, session: SessionDep, actor: Reader, scope: str = "", status: str = "", overdue: str = ""
) -> Response:
    tabs: list[tuple[ListScope, str]] = []
    if actor.can(Permission.sharing_apply):
        tabs.append((ListScope.mine, "我的申请"))
    if actor.can(Permission.sharing_decide):
        tabs.append((ListScope.inbox, "待我答复"))
    if actor.can(Permission.sharing_oversee):
        tabs.append((ListScope.oversee, "主管机构总览"))
    tabs.append((ListScope.all, "全部可见"))
    default = tabs[0][0]
    chosen = ListScope(scope) if scope in {t[0].value for t in tabs} else default
    wanted = ApplicationStatus(status) if status in ApplicationStatus.__members__ else None
    context = {
        "title": "共享申请",
        "rows": service.list_applications(session, actor, scope=chosen, status=wanted, overdue=overdue == "1"),
        "scope": chosen,
        "status": wanted,
        "overdue": overdue == "1",
        "tabs": tabs,
        "statuses": list(ApplicationStatus),
        "decision_days": service.DECISION_DAYS,
    }
    return render(request, "sharing/applications/list.html", context, actor=actor)


# --------------------------------------------------------------------------------------- apply


def _apply_page(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    today = clock.today()
    context = {"title": "提出共享申请", "apply": service.apply_form(session, actor, resource_id)}
    form = form or {
        "period_from": today.isoformat(),
        "period_until": dt.date(today.year + 1, today.month, min(today.day, 28)).isoformat(),
    }
    return render_form(request, "sharing/applications/new.html", context, actor=actor, error=error, form=form)


@router.get("/applications/new")
def apply_form(request: Request, session: SessionDep, actor: Applicant, resource_id: int) -> Response:
    return _apply_page(request, session, actor, resource_id)


@router.post("/applications/new")
def apply_submit(request: Request, session: SessionDep, actor: Applicant, form: FormFields) -> Response:
    resource_id = int_or_none(form.get("resource_id")) or 0
    try:
        items = [
            ItemRequest(int(key[5:]), form.get(f"reason_{key[5:]}", ""))
            for key in form
            if key.startswith("item_") and key[5:].isdigit()
        ]
        with attempt(session):
            app = service.submit_application(
                session,
                actor,
                resource_id=resource_id,
                items=items,
                scenario=form.get("scenario", ""),
                duty_basis=form.get("duty_basis", ""),
                purpose=form.get("purpose", ""),
                period_from=required_date(form.get("period_from", ""), "period_from"),
                period_until=required_date(form.get("period_until", ""), "period_until"),
                consumer_system_id=int_or_none(form.get("consumer_system_id")),
            )
    except DomainError as exc:
        return _apply_page(request, session, actor, resource_id, form=dict(form), error=exc)
    due = f"{app.due_on.isoformat() if app.due_on else ''}{'(暂定)' if app.due_provisional else ''}"
    return redirect(f"/sharing/applications/{app.id}", f"共享申请 {app.number} 已提交,提供部门应于 {due} 前答复")


# --------------------------------------------------------------------------------------- detail


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    error: DomainError | None = None,
    which: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    view = service.get_application(session, actor, application_id)
    context = {"title": f"共享申请 {view.application.number}", "view": view}
    return render_form(
        request, "sharing/applications/detail.html", context, actor=actor, error=error, which=which, form=form
    )


@router.get("/applications/{application_id:int}")
def application_detail(request: Request, session: SessionDep, actor: Reader, application_id: int) -> Response:
    return _detail_page(request, session, actor, application_id)


@router.post("/applications/{application_id:int}/withdraw")
def withdraw(
    request: Request, session: SessionDep, actor: Applicant, application_id: int, form: FormFields
) -> Response:
    try:
        with attempt(session):
            service.withdraw_application(
                session,
                actor,
                application_id,
                reason=form.get("reason", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except DomainError as exc:
        return _detail_page(request, session, actor, application_id, error=exc, which="withdraw", form=dict(form))
    return redirect(f"/sharing/applications/{application_id}", "共享申请已撤回")


def _item_decisions(form: dict[str, str]) -> list[ItemDecision]:
    out = []
    for key, value in form.items():
        if key.startswith("decision_") and key[9:].isdigit() and value in ("approve", "refuse"):
            out.append(ItemDecision(int(key[9:]), value == "approve", form.get(f"refusal_{key[9:]}", "")))
    return out


@router.post("/applications/{application_id:int}/decision")
def decide(request: Request, session: SessionDep, actor: Provider, application_id: int, form: FormFields) -> Response:
    outcome = form.get("outcome", "per_item")
    try:
        with attempt(session):
            app = service.decide_application(
                session,
                actor,
                application_id,
                decisions=_item_decisions(form),
                outcome=outcome if outcome in ("approve_all", "refuse_all") else "per_item",
                reason=form.get("reason", ""),
                conditions=form.get("conditions", ""),
                granted_until=optional_date(form.get("granted_until", ""), "granted_until"),
                masking="clear" if form.get("masking") == "clear" else "masked",
                masking_reason=form.get("masking_reason", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except DomainError as exc:
        return _detail_page(request, session, actor, application_id, error=exc, which="decision", form=dict(form))
    message = f"已答复:{APPLICATION_LABELS[app.status]}" + (",已生成授权" if app.status != "refused" else "")
    if app.decided_late:
        message += "。已超过答复期限,系统已标记为逾期答复"
    return redirect(f"/sharing/applications/{application_id}", message)


@router.post("/applications/{application_id:int}/coordination")
def ask_coordination(
    request: Request, session: SessionDep, actor: Applicant, application_id: int, form: FormFields
) -> Response:
    try:
        with attempt(session):
            c = coordination_service.request_coordination(
                session, actor, reason=form.get("reason", ""), application_id=application_id
            )
    except DomainError as exc:
        return _detail_page(request, session, actor, application_id, error=exc, which="coordination", form=dict(form))
    return redirect(f"/sharing/coordinations/{c.id}", f"已申请协调({c.number}),由共享主管机构办理")


# --------------------------------------------------------------------------------------- coordination


@router.get("/coordinations")
def coordination_list(
    request: Request, session: SessionDep, actor: Reader, status: str = "", mine: str = ""
) -> Response:
    deciding = actor.can(Permission.coordination_decide)
    to_decide = deciding and mine != "0"
    wanted = CoordinationStatus(status) if status in CoordinationStatus.__members__ else None
    context = {
        "title": "协调事项",
        "rows": coordination_service.list_coordinations(session, actor, status=wanted, to_decide=to_decide),
        "status": wanted,
        "statuses": list(CoordinationStatus),
        "deciding": deciding,
        "to_decide": to_decide,
    }
    return render(request, "sharing/coordinations/list.html", context, actor=actor)


def _coordination_new_page(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    context = {"title": "申请协调", "apply": service.apply_form(session, actor, resource_id)}
    return render_form(request, "sharing/coordinations/new.html", context, actor=actor, error=error, form=form)


@router.get("/coordinations/new")
def coordination_form(request: Request, session: SessionDep, actor: Applicant, resource_id: int) -> Response:
    return _coordination_new_page(request, session, actor, resource_id)


@router.post("/coordinations/new")
def coordination_submit(request: Request, session: SessionDep, actor: Applicant, form: FormFields) -> Response:
    resource_id = int_or_none(form.get("resource_id")) or 0
    items = [int(k[5:]) for k in form if k.startswith("item_") and k[5:].isdigit()]
    try:
        with attempt(session):
            c = coordination_service.request_coordination(
                session, actor, reason=form.get("reason", ""), resource_id=resource_id, data_item_ids=items or None
            )
    except DomainError as exc:
        return _coordination_new_page(request, session, actor, resource_id, form=dict(form), error=exc)
    return redirect(f"/sharing/coordinations/{c.id}", f"已申请协调({c.number}),由共享主管机构办理")


def _coordination_page(
    request: Request,
    session: Session,
    actor: Actor,
    coordination_id: int,
    *,
    error: DomainError | None = None,
    which: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    view = coordination_service.get_coordination(session, actor, coordination_id)
    context = {"title": f"协调事项 {view.coordination.number}", "view": view}
    return render_form(
        request, "sharing/coordinations/detail.html", context, actor=actor, error=error, which=which, form=form
    )


@router.get("/coordinations/{coordination_id:int}")
def coordination_detail(request: Request, session: SessionDep, actor: Reader, coordination_id: int) -> Response:
    return _coordination_page(request, session, actor, coordination_id)


@router.post("/coordinations/{coordination_id:int}/notes")
def coordination_note(
    request: Request, session: SessionDep, actor: Authority, coordination_id: int, form: FormFields
) -> Response:
    try:
        with attempt(session):
            coordination_service.add_note(session, actor, coordination_id, body=form.get("body", ""))
    except DomainError as exc:
        return _coordination_page(request, session, actor, coordination_id, error=exc, which="note", form=dict(form))
    return redirect(f"/sharing/coordinations/{coordination_id}", "已记录协调过程")


@router.post("/coordinations/{coordination_id:int}/decision")
def coordination_decision(
    request: Request, session: SessionDep, actor: Authority, coordination_id: int, form: FormFields
) -> Response:
    grant = form.get("outcome") == "granted"
    items = [int(k[5:]) for k in form if k.startswith("item_") and k[5:].isdigit()]
    try:
        if form.get("outcome") not in ("granted", "refused"):
            raise ValidationFailed("请选择协调结果", errors=[FieldError("outcome", "请选择予以共享或不予共享")])
        with attempt(session):
            coordination_service.decide_coordination(
                session,
                actor,
                coordination_id,
                grant=grant,
                reason=form.get("reason", ""),
                data_item_ids=items or None,
                valid_until=optional_date(form.get("valid_until", ""), "valid_until"),
                masking="clear" if form.get("masking") == "clear" else "masked",
                conditions=form.get("conditions", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except DomainError as exc:
        return _coordination_page(
            request, session, actor, coordination_id, error=exc, which="decision", form=dict(form)
        )
    return redirect(
        f"/sharing/coordinations/{coordination_id}", "协调结果:予以共享,已生成授权" if grant else "协调结果:不予共享"
    )


# --------------------------------------------------------------------------------------- A23.1


@router.get("/refusals")
def refusals(request: Request, session: SessionDep, actor: Overseer, since: str = "", until: str = "") -> Response:
    error: DomainError | None = None
    rows: list[Any] = []
    try:
        start = optional_date(since, "since")
        end = optional_date(until, "until")
        rows = coordination_service.refusal_counts(session, actor, since=start, until=end)
    except ValidationFailed as exc:
        error = exc
    context = {"title": "拒绝共享情况统计", "rows": rows, "since": since, "until": until, "error": error}
    return render(
        request,
        "sharing/coordinations/refusals.html",
        context,
        actor=actor,
        status_code=error_status(error),
    )


# --------------------------------------------------------------------------------------- dashboard


def _line(app: Any, prefix: str = "") -> tuple[str, str]:
    due = f",答复期限 {app.due_on.isoformat()}{'(暂定)' if app.due_provisional else ''}" if app.due_on else ""
    return f"{prefix}{app.number}{due}", f"/sharing/applications/{app.id}"


@register_panels
def application_panels(session: Session, actor: Actor) -> list[Panel]:
    """Applications awaiting the provider (reminded and overdue ones marked) and, for the authority,
    the overdue ones it oversees."""
    if not (actor.can(Permission.sharing_decide) or actor.can(Permission.sharing_oversee)):
        return []
    today = clock.today()
    waiting = service.awaiting(session, actor, today)
    panels: list[Panel] = []
    if actor.can(Permission.sharing_decide):
        panels.append(
            Panel(
                title="待我答复的共享申请",
                count=len(waiting.to_decide),
                link="/sharing/applications?scope=inbox",
                lines=[
                    _line(
                        a, "【已逾期】" if a.due_on and a.due_on < today else ("【即将到期】" if a.reminded_at else "")
                    )
                    for a in waiting.to_decide[:5]
                ],
                tone="late" if any(a.due_on and a.due_on < today for a in waiting.to_decide) else "",
            )
        )
    if waiting.overdue_overseen:
        panels.append(
            Panel(
                title="提供部门逾期未答复的共享申请",
                count=len(waiting.overdue_overseen),
                link="/sharing/applications?scope=oversee&overdue=1",
                lines=[_line(a) for a in waiting.overdue_overseen[:5]],
                tone="late",
            )
        )
    return panels
