"""Pages of consumer systems: the department's list with the registration form, and a system's
detail with edit, secret rotation and disable/enable.

The secret is rendered directly in the response to the registration or rotation POST (never put
in a redirect, a cookie or a flash message), so it is shown exactly once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.errors import DomainError, FieldError, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import systems as service
from govshare.sharing.enums import SystemStatus
from govshare.sharing.models import ConsumerSystem
from govshare.web.forms import FormFields
from govshare.web.templating import redirect, render

router = APIRouter(prefix="/sharing/systems", include_in_schema=False)
Manager = Annotated[Actor, Depends(require(Permission.consumer_system_manage))]


def _values(form: dict[str, str]) -> tuple[str, str, int]:
    raw = form.get("rate_limit_per_minute", "").strip()
    if not raw.isdigit():
        raise ValidationFailed(
            "应用系统信息有误", errors=[FieldError("rate_limit_per_minute", "每分钟调用上限应为整数")]
        )
    return form.get("name", ""), form.get("description", ""), int(raw)


def _list_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: dict[str, Any] | None = None,
    error: DomainError | None = None,
) -> Response:
    return render(
        request,
        "sharing/systems/list.html",
        {
            "systems": service.list_systems(session, actor),
            "form": form or {"name": "", "description": "", "rate_limit_per_minute": 600},
            "detail": error.detail if error else "",
            "errors": error.errors if error else [],
        },
        actor=actor,
        status_code=422 if error else 200,
    )


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    system: ConsumerSystem,
    *,
    secret: str = "",
    rotated: bool = False,
    form: dict[str, Any] | None = None,
    error: DomainError | None = None,
) -> Response:
    return render(
        request,
        "sharing/systems/detail.html",
        {
            "system": system,
            "grants": service.grants_of(session, system),
            "secret": secret,
            "rotated": rotated,
            "form": form
            or {
                "name": system.name,
                "description": system.description,
                "rate_limit_per_minute": system.rate_limit_per_minute,
            },
            "detail": error.detail if error else "",
            "errors": error.errors if error else [],
        },
        actor=actor,
        status_code=422 if error else 200,
    )


@router.get("")
def list_page(request: Request, session: SessionDep, actor: Manager) -> Response:
    return _list_page(request, session, actor)


@router.post("")
def register(request: Request, session: SessionDep, actor: Manager, form: FormFields) -> Response:
    try:
        name, description, limit = _values(form)
        with session.begin_nested():
            system, secret = service.register_system(
                session, actor, name=name, description=description, rate_limit_per_minute=limit
            )
    except ValidationFailed as exc:
        return _list_page(request, session, actor, form=form, error=exc)
    return _detail_page(request, session, actor, system, secret=secret)


@router.get("/{system_id:int}")
def detail(request: Request, session: SessionDep, actor: Manager, system_id: int) -> Response:
    return _detail_page(request, session, actor, service.get_system(session, actor, system_id))


@router.post("/{system_id:int}")
def update(request: Request, session: SessionDep, actor: Manager, system_id: int, form: FormFields) -> Response:
    try:
        name, description, limit = _values(form)
        with session.begin_nested():
            service.update_system(
                session, actor, system_id, name=name, description=description, rate_limit_per_minute=limit
            )
    except ValidationFailed as exc:
        system = service.get_system(session, actor, system_id)
        return _detail_page(request, session, actor, system, form=form, error=exc)
    return redirect(f"/sharing/systems/{system_id}", "已保存")


@router.post("/{system_id:int}/rotate")
def rotate(request: Request, session: SessionDep, actor: Manager, system_id: int) -> Response:
    system, secret = service.rotate_secret(session, actor, system_id)
    return _detail_page(request, session, actor, system, secret=secret, rotated=True)


@router.post("/{system_id:int}/disable")
def disable(session: SessionDep, actor: Manager, system_id: int) -> Response:
    service.set_status(session, actor, system_id, SystemStatus.disabled)
    return redirect(f"/sharing/systems/{system_id}", "应用系统已停用,其后的调用一律拒绝")


@router.post("/{system_id:int}/enable")
def enable(session: SessionDep, actor: Manager, system_id: int) -> Response:
    service.set_status(session, actor, system_id, SystemStatus.active)
    return redirect(f"/sharing/systems/{system_id}", "应用系统已启用")
