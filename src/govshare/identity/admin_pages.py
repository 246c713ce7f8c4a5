"""Administration pages: regions, departments and offices, people and roles, the data administrator
register, concurrent-use alerts; and the bureau's dashboard panels.

Each handler calls one service function. A refused form rolls the request's transaction back and
shows the form again with the Chinese message next to the fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.errors import FieldError, ValidationFailed
from govshare.identity import register, service
from govshare.identity.actor import Actor
from govshare.identity.permissions import ROLE_LABELS, Permission, Role
from govshare.web.dashboard import Panel, register_panels
from govshare.web.forms import optional_date, optional_int, pager_base
from govshare.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, Depends(require(Permission.identity_read))]
Manager = Annotated[Actor, Depends(require(Permission.identity_manage))]
ContactsEditor = Annotated[Actor, Depends(require(Permission.department_contacts_edit))]
Registrar = Annotated[Actor, Depends(require(Permission.data_admin_register))]
Text = Annotated[str, Form()]


def _failed(session: Session, exc: ValidationFailed) -> dict[str, Any]:
    """Undo the refused request's work and hand the message, and the 422 status, to the page."""
    session.rollback()
    return {"error": exc.detail, "errors": exc.errors, "status_code": 422}


def parse_roles(names: list[str], reviewer_regions: list[str]) -> list[tuple[Role, int | None]]:
    """Form checkboxes to role grants; a region reviewer gets one grant per region ticked."""
    roles: list[tuple[Role, int | None]] = []
    for name in names:
        try:
            role = Role(name)
        except ValueError:
            raise ValidationFailed("角色不存在", errors=[FieldError("roles", f"未知角色:{name}")]) from None
        if role == Role.region_reviewer:
            regions = [r for r in (optional_int(v, "reviewer_regions") for v in reviewer_regions) if r is not None]
            roles += [(role, r) for r in regions] or [(role, None)]
        else:
            roles.append((role, None))
    return roles


def _role_context() -> dict[str, Any]:
    return {"role_labels": ROLE_LABELS, "all_roles": list(Role)}


# --- regions (A44.1) ------------------------------------------------------------------------------


def _regions_page(
    request: Request, session: Session, actor: Actor, *, status_code: int = 200, **extra: Any
) -> Response:
    regions = service.list_regions(session, actor)
    return render(request, "identity/regions.html", {"regions": regions, **extra}, actor=actor, status_code=status_code)


@router.get("/identity/regions")
def regions_page(request: Request, session: SessionDep, actor: Reader) -> Response:
    return _regions_page(request, session, actor)


@router.post("/identity/regions/{region_id}")
def region_submit(
    request: Request,
    region_id: int,
    session: SessionDep,
    actor: Manager,
    authority_name: Text = "",
    authority_office: Text = "",
    authority_contact: Text = "",
    authority_phone: Text = "",
) -> Response:
    try:
        region = service.update_region(
            session,
            actor,
            region_id,
            authority_name=authority_name,
            authority_office=authority_office,
            authority_contact=authority_contact,
            authority_phone=authority_phone,
        )
    except ValidationFailed as exc:
        return _regions_page(request, session, actor, failed_id=region_id, **_failed(session, exc))
    return redirect("/identity/regions", f"已保存“{region.name}”的共享主管机构信息")


# --- departments (A2.1, A6.1) ---------------------------------------------------------------------


def _directory_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    region_id: int | None = None,
    q: str = "",
    status_code: int = 200,
    **extra: Any,
) -> Response:
    view = service.directory_view(session, actor, region_id=region_id, q=q)
    context = {"view": view, "region_id": region_id, "q": q, "values": {}, **extra}
    return render(request, "identity/departments.html", context, actor=actor, status_code=status_code)


@router.get("/identity/departments")
def departments_page(
    request: Request, session: SessionDep, actor: Reader, region_id: Annotated[str, Query()] = "", q: str = ""
) -> Response:
    return _directory_page(request, session, actor, region_id=optional_int(region_id, "region_id"), q=q)


@router.post("/identity/departments")
def department_create(
    request: Request,
    session: SessionDep,
    actor: Manager,
    name: Text = "",
    uscc: Text = "",
    region_id: Text = "",
    short_name: Text = "",
    sharing_office: Text = "",
    sharing_leader: Text = "",
    sharing_contact: Text = "",
    sharing_phone: Text = "",
) -> Response:
    values = {
        "name": name,
        "uscc": uscc,
        "region_id": region_id,
        "short_name": short_name,
        "sharing_office": sharing_office,
        "sharing_leader": sharing_leader,
        "sharing_contact": sharing_contact,
        "sharing_phone": sharing_phone,
    }
    try:
        dept = service.create_department(
            session,
            actor,
            name=name,
            uscc=uscc,
            region_id=optional_int(region_id, "region_id") or 0,
            short_name=short_name,
            sharing_office=sharing_office,
            sharing_leader=sharing_leader,
            sharing_contact=sharing_contact,
            sharing_phone=sharing_phone,
        )
    except ValidationFailed as exc:
        return _directory_page(request, session, actor, values=values, open_create=True, **_failed(session, exc))
    return redirect(f"/identity/departments/{dept.id}", f"已新增部门“{dept.name}”")


def _department_page(
    request: Request, session: Session, actor: Actor, department_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    view = service.department_view(session, actor, department_id)
    context = {"view": view, "d": view.department, "values": {}, "form": "", **extra}
    return render(request, "identity/department.html", context, actor=actor, status_code=status_code)


@router.get("/identity/departments/{department_id}")
def department_page(request: Request, department_id: int, session: SessionDep, actor: Reader) -> Response:
    return _department_page(request, session, actor, department_id)


@router.post("/identity/departments/{department_id}")
def department_submit(
    request: Request,
    department_id: int,
    session: SessionDep,
    actor: Manager,
    name: Text = "",
    uscc: Text = "",
    region_id: Text = "",
    short_name: Text = "",
    version: Text = "",
) -> Response:
    try:
        service.update_department(
            session,
            actor,
            department_id,
            name=name,
            uscc=uscc,
            region_id=optional_int(region_id, "region_id") or 0,
            short_name=short_name,
            version=optional_int(version, "version"),
        )
    except ValidationFailed as exc:
        values = {"name": name, "uscc": uscc, "region_id": region_id, "short_name": short_name}
        return _department_page(
            request, session, actor, department_id, form="edit", values=values, **_failed(session, exc)
        )
    return redirect(f"/identity/departments/{department_id}", "部门信息已保存")


@router.post("/identity/departments/{department_id}/sharing")
def sharing_submit(
    request: Request,
    department_id: int,
    session: SessionDep,
    actor: ContactsEditor,
    sharing_office: Text = "",
    sharing_leader: Text = "",
    sharing_contact: Text = "",
    sharing_phone: Text = "",
    version: Text = "",
) -> Response:
    try:
        service.update_sharing_contacts(
            session,
            actor,
            department_id,
            sharing_office=sharing_office,
            sharing_leader=sharing_leader,
            sharing_contact=sharing_contact,
            sharing_phone=sharing_phone,
            version=optional_int(version, "version"),
        )
    except ValidationFailed as exc:
        values = {
            "sharing_office": sharing_office,
            "sharing_leader": sharing_leader,
            "sharing_contact": sharing_contact,
            "sharing_phone": sharing_phone,
        }
        return _department_page(
            request, session, actor, department_id, form="sharing", values=values, **_failed(session, exc)
        )
    return redirect(f"/identity/departments/{department_id}", "共享工作责任科室与联系人已保存")


@router.post("/identity/departments/{department_id}/deactivate")
def department_deactivate(
    request: Request, department_id: int, session: SessionDep, actor: Manager, reason: Text = ""
) -> Response:
    try:
        dept = service.deactivate_department(session, actor, department_id, reason=reason)
    except ValidationFailed as exc:
        return _department_page(request, session, actor, department_id, form="deactivate", **_failed(session, exc))
    return redirect(f"/identity/departments/{department_id}", f"已停用“{dept.name}”及其账号")


@router.post("/identity/departments/{department_id}/reactivate")
def department_reactivate(department_id: int, session: SessionDep, actor: Manager) -> Response:
    dept = service.reactivate_department(session, actor, department_id)
    return redirect(f"/identity/departments/{department_id}", f"已重新启用“{dept.name}”;其账号须逐个启用")


@router.post("/identity/departments/{department_id}/offices")
def office_add(request: Request, department_id: int, session: SessionDep, actor: Manager, name: Text = "") -> Response:
    try:
        service.add_office(session, actor, department_id, name)
    except ValidationFailed as exc:
        return _department_page(request, session, actor, department_id, form="office", **_failed(session, exc))
    return redirect(f"/identity/departments/{department_id}", "已新增处室")


@router.post("/identity/offices/{office_id}")
def office_rename(
    request: Request,
    office_id: int,
    session: SessionDep,
    actor: Manager,
    name: Text = "",
    department_id: Text = "",
) -> Response:
    try:
        office = service.rename_office(session, actor, office_id, name)
    except ValidationFailed as exc:
        back = optional_int(department_id, "department_id") or 0
        return _department_page(request, session, actor, back, form="office", **_failed(session, exc))
    return redirect(f"/identity/departments/{office.department_id}", "处室名称已修改")


@router.post("/identity/offices/{office_id}/delete")
def office_remove(office_id: int, session: SessionDep, actor: Manager) -> Response:
    department_id = service.remove_office(session, actor, office_id)
    return redirect(f"/identity/departments/{department_id}", "处室已删除")


# --- the data administrator register (A34.1) ------------------------------------------------------


class _Person(TypedDict):
    user_id: int | None
    name: str
    office: str
    phone: str
    email: str
    start_date: dt.date | None


@dataclass
class PersonForm:
    """The register form's fields about the person, as typed in (re-shown unchanged on an error)."""

    user_id: Text = ""
    name: Text = ""
    office: Text = ""
    phone: Text = ""
    email: Text = ""
    start_date: Text = ""


def _person(values: dict[str, str]) -> _Person:
    """The register form's fields about the person, read into the register's keyword arguments."""
    return _Person(
        user_id=optional_int(values["user_id"], "user_id"),
        name=values["name"],
        office=values["office"],
        phone=values["phone"],
        email=values["email"],
        start_date=optional_date(values["start_date"], "start_date"),
    )


@router.get("/identity/data-admins")
def data_admins_page(request: Request, session: SessionDep, actor: Reader) -> Response:
    overview = register.register_overview(session, actor)
    return render(request, "identity/data_admins.html", {"overview": overview}, actor=actor)


@router.post("/identity/departments/{department_id}/data-admins")
def data_admin_register(
    request: Request,
    department_id: int,
    session: SessionDep,
    actor: Registrar,
    person: Annotated[PersonForm, Depends()],
) -> Response:
    values = asdict(person)
    try:
        record = register.register_data_admin(session, actor, department_id=department_id, **_person(values))
    except ValidationFailed as exc:
        return _department_page(
            request, session, actor, department_id, form="register", values=values, **_failed(session, exc)
        )
    return redirect(f"/identity/departments/{department_id}#register", f"已登记数据资源管理员“{record.name}”")


@router.post("/identity/data-admins/{record_id}/replace")
def data_admin_replace(
    request: Request,
    record_id: int,
    session: SessionDep,
    actor: Registrar,
    person: Annotated[PersonForm, Depends()],
    department_id: Text = "",
    reason: Text = "",
) -> Response:
    values = asdict(person)
    try:
        record = register.replace_data_admin(session, actor, record_id, reason=reason, **_person(values))
    except ValidationFailed as exc:
        back = optional_int(department_id, "department_id") or 0
        return _department_page(
            request,
            session,
            actor,
            back,
            form=f"replace-{record_id}",
            values={"reason": reason, **values},
            **_failed(session, exc),
        )
    return redirect(f"/identity/departments/{record.department_id}#register", f"已更换为“{record.name}”")


@router.post("/identity/data-admins/{record_id}/end")
def data_admin_end(
    request: Request,
    record_id: int,
    session: SessionDep,
    actor: Registrar,
    department_id: Text = "",
    reason: Text = "",
    end_date: Text = "",
) -> Response:
    try:
        record = register.end_data_admin(
            session, actor, record_id, reason=reason, end_date=optional_date(end_date, "end_date")
        )
    except ValidationFailed as exc:
        back = optional_int(department_id, "department_id") or 0
        return _department_page(
            request,
            session,
            actor,
            back,
            form=f"end-{record_id}",
            values={"reason": reason, "end_date": end_date},
            **_failed(session, exc),
        )
    return redirect(f"/identity/departments/{record.department_id}#register", f"“{record.name}”的任职已结束")


# --- people ---------------------------------------------------------------------------------------


@router.get("/identity/users")
def users_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    q: str = "",
    department_id: Annotated[str, Query()] = "",
    role: str = "",
    active: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    role_value = Role(role) if role in Role.__members__ else None
    active_value = {"1": True, "0": False}.get(active)
    found = service.list_users(
        session,
        actor,
        department_id=optional_int(department_id, "department_id"),
        role=role_value,
        q=q,
        active=active_value,
        page=page,
    )
    filters = {"q": q, "department_id": department_id, "role": role, "active": active}
    context = {
        "found": found,
        "filters": filters,
        "base_url": pager_base("/identity/users", filters),
    }
    return render(request, "identity/users.html", context | _role_context(), actor=actor)


def _new_user_page(
    request: Request, session: Session, actor: Actor, *, status_code: int = 200, **extra: Any
) -> Response:
    form = service.new_user_form(session, actor)
    context = {"form": form, "values": {}, **_role_context(), **extra}
    return render(request, "identity/user_new.html", context, actor=actor, status_code=status_code)


@router.get("/identity/users/new")
def user_new_page(
    request: Request, session: SessionDep, actor: Manager, department_id: Annotated[str, Query()] = ""
) -> Response:
    return _new_user_page(request, session, actor, values={"department_id": department_id})


@router.post("/identity/users")
def user_create(
    request: Request,
    session: SessionDep,
    actor: Manager,
    username: Text = "",
    display_name: Text = "",
    department_id: Text = "",
    phone: Text = "",
    roles: Annotated[list[str] | None, Form()] = None,
    reviewer_regions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    values = {
        "username": username,
        "display_name": display_name,
        "department_id": department_id,
        "phone": phone,
        "roles": roles or [],
        "reviewer_regions": reviewer_regions or [],
    }
    temporary = service.temporary_password()
    try:
        user = service.create_user(
            session,
            actor,
            username=username,
            display_name=display_name,
            department_id=optional_int(department_id, "department_id") or 0,
            password=temporary,
            roles=parse_roles(roles or [], reviewer_regions or []),
            phone=phone.strip(),
        )
    except ValidationFailed as exc:
        return _new_user_page(request, session, actor, values=values, **_failed(session, exc))
    return render(
        request,
        "identity/password_shown.html",
        {"user": user, "password": temporary, "created": True},
        actor=actor,
        status_code=201,
    )


def _user_page(
    request: Request, session: Session, actor: Actor, user_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    view = service.user_view(session, actor, user_id)
    context = {"view": view, "u": view.user, "values": {}, "form": "", **_role_context(), **extra}
    return render(request, "identity/user.html", context, actor=actor, status_code=status_code)


@router.get("/identity/users/{user_id}")
def user_page(request: Request, user_id: int, session: SessionDep, actor: Reader) -> Response:
    return _user_page(request, session, actor, user_id)


@router.post("/identity/users/{user_id}")
def user_submit(
    request: Request,
    user_id: int,
    session: SessionDep,
    actor: Manager,
    display_name: Text = "",
    phone: Text = "",
    department_id: Text = "",
    version: Text = "",
) -> Response:
    try:
        service.update_user(
            session,
            actor,
            user_id,
            display_name=display_name,
            phone=phone,
            department_id=optional_int(department_id, "department_id"),
            version=optional_int(version, "version"),
        )
    except ValidationFailed as exc:
        values = {"display_name": display_name, "phone": phone, "department_id": department_id}
        return _user_page(request, session, actor, user_id, form="edit", values=values, **_failed(session, exc))
    return redirect(f"/identity/users/{user_id}", "账号信息已保存")


@router.post("/identity/users/{user_id}/roles")
def user_roles_submit(
    request: Request,
    user_id: int,
    session: SessionDep,
    actor: Manager,
    roles: Annotated[list[str] | None, Form()] = None,
    reviewer_regions: Annotated[list[str] | None, Form()] = None,
    version: Text = "",
) -> Response:
    try:
        service.set_roles(
            session,
            actor,
            user_id,
            parse_roles(roles or [], reviewer_regions or []),
            version=optional_int(version, "version"),
        )
    except ValidationFailed as exc:
        values = {"roles": roles or [], "reviewer_regions": reviewer_regions or []}
        return _user_page(request, session, actor, user_id, form="roles", values=values, **_failed(session, exc))
    return redirect(f"/identity/users/{user_id}", "角色已更新;该账号须重新登录")


@router.post("/identity/users/{user_id}/disable")
def user_disable(request: Request, user_id: int, session: SessionDep, actor: Manager, reason: Text = "") -> Response:
    try:
        service.disable_user(session, actor, user_id, reason=reason)
    except ValidationFailed as exc:
        return _user_page(request, session, actor, user_id, form="disable", **_failed(session, exc))
    return redirect(f"/identity/users/{user_id}", "账号已停用,其全部会话已结束")


@router.post("/identity/users/{user_id}/enable")
def user_enable(request: Request, user_id: int, session: SessionDep, actor: Manager) -> Response:
    try:
        service.enable_user(session, actor, user_id)
    except ValidationFailed as exc:
        return _user_page(request, session, actor, user_id, form="enable", **_failed(session, exc))
    return redirect(f"/identity/users/{user_id}", "账号已启用")


@router.post("/identity/users/{user_id}/unlock")
def user_unlock(user_id: int, session: SessionDep, actor: Manager) -> Response:
    service.unlock_user(session, actor, user_id)
    return redirect(f"/identity/users/{user_id}", "已解除登录锁定")


@router.post("/identity/users/{user_id}/reset-password")
def user_reset_password(request: Request, user_id: int, session: SessionDep, actor: Manager) -> Response:
    temporary = service.reset_password(session, actor, user_id)
    view = service.user_view(session, actor, user_id)
    return render(
        request,
        "identity/password_shown.html",
        {"user": view.user, "password": temporary, "created": False},
        actor=actor,
    )


@router.post("/identity/users/{user_id}/reset-mfa")
def user_reset_mfa(user_id: int, session: SessionDep, actor: Manager) -> Response:
    service.reset_mfa(session, actor, user_id)
    return redirect(f"/identity/users/{user_id}", "已重置动态口令绑定,该账号下次登录时重新绑定")


# --- concurrent-use alerts (A36.1) ----------------------------------------------------------------


@router.get("/identity/alerts")
def alerts_page(request: Request, session: SessionDep, actor: Manager, all: str = "") -> Response:
    rows = service.list_login_alerts(session, actor, unacknowledged_only=not all)
    return render(request, "identity/alerts.html", {"rows": rows, "show_all": bool(all)}, actor=actor)


@router.post("/identity/alerts/{alert_id}/acknowledge")
def alert_acknowledge(alert_id: int, session: SessionDep, actor: Manager, note: Text = "") -> Response:
    service.acknowledge_alert(session, actor, alert_id, note=note)
    return redirect("/identity/alerts", "告警已标记为已处理")


# --- dashboard panels -----------------------------------------------------------------------------


@register_panels
def bureau_admin_panels(session: Session, actor: Actor) -> list[Panel]:
    """For the system administrator: departments lacking a data administrator, and open alerts."""
    if not actor.can(Permission.identity_manage):
        return []
    lacking = register.departments_lacking_data_admin(session, actor)
    alerts = service.list_login_alerts(session, actor, unacknowledged_only=True)
    return [
        Panel(
            title="未登记数据资源管理员的部门",
            count=len(lacking),
            link="/identity/data-admins",
            lines=[(d.name, f"/identity/departments/{d.id}#register") for d in lacking[:5]],
            tone="late" if lacking else "",
        ),
        Panel(
            title="待处理的账号异地同时使用告警",
            count=len(alerts),
            link="/identity/alerts",
            lines=[
                (f"{r.user.display_name}({r.user.username}) {r.alert.at:%m-%d %H:%M}", f"/identity/users/{r.user.id}")
                for r in alerts[:5]
            ],
            tone="late" if alerts else "",
        ),
    ]
