"""Catalog change requests (article 17): the list with clocks, the open form, the detail page with the
department's and the authority's forms, the proposed-content editor, and the dashboard panels.

The proposed content is edited with the resource form of the catalog pages (``catalog/form.html``)
and read back with the same helpers, so a change request is filled in exactly like a resource.
Each form runs its service call inside a SAVEPOINT: a refusal re-renders the page with the Chinese
message and nothing the call may have flushed survives.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.catalog import change_requests as service
from govshare.catalog import service as catalog_service
from govshare.catalog import topics
from govshare.catalog.change_requests import ListScope
from govshare.catalog.enums import ChangeRequestStatus, ChangeTrigger, label
from govshare.catalog.pages import (
    EMPTY_ITEM_ROWS,
    _blank_item,
    _field_errors,
    _form_of,
    _invalid,
    _item_rows,
    _payload,
    _resource_form,
    _vocabularies,
)
from govshare.catalog.schemas import ResourceFields
from govshare.deps import SessionDep, require
from govshare.errors import Conflict, DomainError, FieldError, ValidationFailed
from govshare.identity import service as identity_service
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import today
from govshare.web.dashboard import Panel, register_panels
from govshare.web.forms import FormFields, attempt, int_or_none, required_date
from govshare.web.templating import error_status, redirect, render, render_form, templates

router = APIRouter(prefix="/catalog/change-requests", include_in_schema=False)

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Filer = Annotated[Actor, Depends(require(Permission.change_request_file))]
Decider = Annotated[Actor, Depends(require(Permission.change_request_decide))]

templates.env.filters.setdefault("label", label)


# --------------------------------------------------------------------------------------- list


@router.get("")
def change_request_list(
    request: Request, session: SessionDep, actor: Reader, scope: str = "", status: str = ""
) -> Response:
    deciding = actor.can(Permission.change_request_decide)
    filing = actor.can(Permission.change_request_file)
    default = ListScope.to_decide if deciding else (ListScope.mine if filing else ListScope.all)
    chosen = ListScope(scope) if scope in ListScope.__members__ else default
    wanted = ChangeRequestStatus(status) if status in ChangeRequestStatus.__members__ else None
    tabs = [(ListScope.mine, "本部门的申请")] if filing else []
    if deciding:
        tabs.append((ListScope.to_decide, "待我审核"))
    tabs.append((ListScope.all, "全部可见"))
    context = {
        "title": "目录变更申请",
        "rows": service.list_change_requests(session, actor, scope=chosen, status=wanted),
        "scope": chosen,
        "status": wanted,
        "tabs": tabs,
        "statuses": list(ChangeRequestStatus),
    }
    return render(request, "catalog/change_requests/list.html", context, actor=actor)


# --------------------------------------------------------------------------------------- open


def _open_page(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    context = {
        "title": "提出目录变更申请",
        "resource": catalog_service.get_resource(session, actor, resource_id),
        "triggers": list(ChangeTrigger),
        "filing_days": service.FILING_DAYS,
    }
    form = form or {"trigger": "", "trigger_date": today().isoformat(), "trigger_description": "", "reason": ""}
    return render_form(request, "catalog/change_requests/new.html", context, actor=actor, error=error, form=form)


@router.get("/new")
def open_form(request: Request, session: SessionDep, actor: Filer, resource_id: int) -> Response:
    return _open_page(request, session, actor, resource_id)


@router.post("/new")
def open_submit(request: Request, session: SessionDep, actor: Filer, form: FormFields) -> Response:
    resource_id = int_or_none(form.get("resource_id")) or 0
    entered = {k: form.get(k, "") for k in ("trigger", "trigger_date", "trigger_description", "reason")}
    try:
        if entered["trigger"] not in ChangeTrigger.__members__:
            raise ValidationFailed("请选择变更原因", errors=[FieldError("trigger", "请选择变更原因")])
        with attempt(session):
            cr = service.open_change_request(
                session,
                actor,
                resource_id=resource_id,
                trigger=ChangeTrigger(entered["trigger"]),
                trigger_date=required_date(entered["trigger_date"], "trigger_date"),
                trigger_description=entered["trigger_description"],
                reason=entered["reason"],
            )
    except (ValidationFailed, Conflict) as exc:
        return _open_page(request, session, actor, resource_id, form=entered, error=exc)
    return redirect(
        f"/catalog/change-requests/{cr.id}",
        f"已提出变更申请,请于 {cr.filing_due.isoformat()}{'(暂定)' if cr.filing_due_provisional else ''} "
        "前修改拟变更内容并报送",
    )


# --------------------------------------------------------------------------------------- detail


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    change_request_id: int,
    *,
    error: DomainError | None = None,
    which: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    view = service.get_change_request(session, actor, change_request_id)
    context = {
        "title": f"目录变更申请 #{view.request.id}",
        "view": view,
        "max_extension_days": service.MAX_EXTENSION_DAYS,
    }
    return render_form(
        request, "catalog/change_requests/detail.html", context, actor=actor, error=error, which=which, form=form
    )


@router.get("/{change_request_id:int}")
def detail(request: Request, session: SessionDep, actor: Reader, change_request_id: int) -> Response:
    return _detail_page(request, session, actor, change_request_id)


@router.post("/{change_request_id:int}/file")
def file(request: Request, session: SessionDep, actor: Filer, change_request_id: int, form: FormFields) -> Response:
    try:
        with attempt(session):
            cr = service.file_change_request(
                session, actor, change_request_id, expected_version=int_or_none(form.get("expected_version"))
            )
    except (ValidationFailed, Conflict) as exc:
        return _detail_page(request, session, actor, change_request_id, error=exc, which="file")
    message = "变更申请已报送" + ("。已超过报送期限,系统已标记为逾期报送" if cr.filed_late else "")
    return redirect(f"/catalog/change-requests/{change_request_id}", message, "warning" if cr.filed_late else "success")


@router.post("/{change_request_id:int}/extension")
def extension(
    request: Request, session: SessionDep, actor: Filer, change_request_id: int, form: FormFields
) -> Response:
    try:
        days = int_or_none(form.get("days"))
        if days is None:
            raise ValidationFailed("请填写延长的工作日数", errors=[FieldError("days", "应为整数")])
        with attempt(session):
            service.request_extension(
                session,
                actor,
                change_request_id,
                days=days,
                reason=form.get("reason", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except (ValidationFailed, Conflict) as exc:
        return _detail_page(request, session, actor, change_request_id, error=exc, which="extension", form=dict(form))
    return redirect(f"/catalog/change-requests/{change_request_id}", "延期申请已提交,经主管机构同意后方可延期")


@router.post("/{change_request_id:int}/extension/decision")
def extension_decision(
    request: Request, session: SessionDep, actor: Decider, change_request_id: int, form: FormFields
) -> Response:
    grant = form.get("decision") == "granted"
    try:
        if form.get("decision") not in ("granted", "refused"):
            raise ValidationFailed("请选择同意或不同意", errors=[FieldError("decision", "请选择")])
        with attempt(session):
            service.decide_extension(
                session,
                actor,
                change_request_id,
                grant=grant,
                days=int_or_none(form.get("days")),
                comment=form.get("comment", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except (ValidationFailed, Conflict) as exc:
        return _detail_page(
            request, session, actor, change_request_id, error=exc, which="extension_decision", form=dict(form)
        )
    return redirect(f"/catalog/change-requests/{change_request_id}", "已同意延期" if grant else "已不同意延期")


@router.post("/{change_request_id:int}/decision")
def decision(
    request: Request, session: SessionDep, actor: Decider, change_request_id: int, form: FormFields
) -> Response:
    approve = form.get("decision") == "approved"
    try:
        if form.get("decision") not in ("approved", "rejected"):
            raise ValidationFailed("请选择同意或不同意", errors=[FieldError("decision", "请选择")])
        with attempt(session):
            cr = service.decide_change_request(
                session,
                actor,
                change_request_id,
                approve=approve,
                comment=form.get("comment", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except (ValidationFailed, Conflict) as exc:
        return _detail_page(request, session, actor, change_request_id, error=exc, which="decision", form=dict(form))
    message = "已同意变更,资源已按拟变更内容发布新版本" if approve else "已不同意变更"
    if cr.decided_late:
        message += "。已超过审核期限,系统已标记为逾期审核"
    return redirect(f"/catalog/change-requests/{change_request_id}", message)


# --------------------------------------------------------------------------------------- proposed content


def _proposed_page(
    request: Request,
    session: Session,
    actor: Actor,
    change_request_id: int,
    *,
    values: dict[str, Any] | None = None,
    items: list[dict[str, Any]] | None = None,
    extra_rows: int = 0,
    error: DomainError | None = None,
) -> Response:
    view = service.get_change_request(session, actor, change_request_id)
    cr = view.request
    if values is None or items is None:
        values, items = _form_of(dict(cr.proposed))
    shown = [dict(_blank_item(), **{k: v for k, v in it.items() if v is not None or k == "length"}) for it in items]
    blanks = max(EMPTY_ITEM_ROWS - len(shown), 1 if shown else 0) + extra_rows
    shown.extend(_blank_item() for _ in range(max(blanks, 0)))
    offices = [o.name for o in identity_service.get_department(session, actor, cr.department_id).offices]
    context = {
        "title": f"修改拟变更内容 · 变更申请 #{cr.id}",
        "form": values,
        "items": shown,
        "resource": view.resource,
        "expected_version": cr.version,
        "action_url": f"/catalog/change-requests/{cr.id}/proposed",
        "cancel_url": f"/catalog/change-requests/{cr.id}",
        "classifications": [c for c in catalog_service.list_classifications(session) if c.level >= 2],
        "topics": topics.topics_of_department(session, cr.department_id),
        "offices": offices,
        "detail": error.detail if error else "",
        "errors": error.errors if error else [],
        **_vocabularies(),
    }
    return render(request, "catalog/form.html", context, actor=actor, status_code=error_status(error))


@router.get("/{change_request_id:int}/proposed")
def proposed_form(request: Request, session: SessionDep, actor: Filer, change_request_id: int) -> Response:
    return _proposed_page(request, session, actor, change_request_id)


@router.post("/{change_request_id:int}/proposed")
def proposed_submit(
    request: Request, session: SessionDep, actor: Filer, change_request_id: int, form: FormFields
) -> Response:
    values = _resource_form(form)
    items = _item_rows(form)
    if form.get("intent") == "add_rows":
        return _proposed_page(
            request, session, actor, change_request_id, values=values, items=items, extra_rows=EMPTY_ITEM_ROWS
        )
    try:
        proposed = ResourceFields.model_validate(_payload(values, items))
        with attempt(session):
            service.update_proposed(
                session,
                actor,
                change_request_id,
                proposed=proposed,
                expected_version=int_or_none(form.get("expected_version")),
            )
    except ValidationError as exc:
        error = _invalid(_field_errors(exc))
        return _proposed_page(request, session, actor, change_request_id, values=values, items=items, error=error)
    except (ValidationFailed, Conflict) as exc:
        return _proposed_page(request, session, actor, change_request_id, values=values, items=items, error=exc)
    return redirect(f"/catalog/change-requests/{change_request_id}", "拟变更内容已保存,确认无误后请报送")


# --------------------------------------------------------------------------------------- dashboard


def _line(cr: Any, due: dt.date | None, provisional: bool, what: str) -> tuple[str, str]:
    suffix = f",{what} {due.isoformat()}{'(暂定)' if provisional else ''}" if due else ""
    return f"变更申请 #{cr.id}{suffix}", f"/catalog/change-requests/{cr.id}"


@register_panels
def change_request_panels(session: Session, actor: Actor) -> list[Panel]:
    """Change requests awaiting the actor: to file (the department), to decide (the authority), late."""
    if not (actor.can(Permission.change_request_file) or actor.can(Permission.change_request_decide)):
        return []
    waiting = service.awaiting(session, actor)
    panels: list[Panel] = []
    if waiting.to_file:
        panels.append(
            Panel(
                title="待报送的目录变更申请",
                count=len(waiting.to_file),
                link="/catalog/change-requests?scope=mine&status=open",
                lines=[_line(c, c.filing_due, c.filing_due_provisional, "报送期限") for c in waiting.to_file[:5]],
            )
        )
    to_decide = waiting.to_decide + waiting.extensions_to_decide
    if actor.can(Permission.change_request_decide):
        panels.append(
            Panel(
                title="待审核的目录变更申请与延期申请",
                count=len(to_decide),
                link="/catalog/change-requests?scope=to_decide",
                lines=[_line(c, c.decision_due, c.decision_due_provisional, "审核期限") for c in waiting.to_decide[:5]]
                + [
                    _line(c, c.filing_due, c.filing_due_provisional, "延期待同意,报送期限")
                    for c in waiting.extensions_to_decide[:3]
                ],
            )
        )
    if waiting.late:
        panels.append(
            Panel(
                title="已逾期的目录变更申请",
                count=len(waiting.late),
                link="/catalog/change-requests",
                lines=[
                    (
                        f"变更申请 #{c.id}:{'报送' if c.status == 'open' else '审核'}已逾期",
                        f"/catalog/change-requests/{c.id}",
                    )
                    for c in waiting.late[:5]
                ],
                tone="late",
            )
        )
    return panels
