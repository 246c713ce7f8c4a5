"""The register of 数据资源管理员 (A34.1, A16.1).

Each department names the person(s) who manage its catalog and data and reports them to the bureau;
when the person changes, the register is updated, and every earlier holder stays on record with
the period served and the reason it ended. A record may link to the person's platform account,
but need not: the register is what the department reported, not a role grant (roles are given
separately, by the bureau, under the separation of duties).

A record is *in force* on a day when it has started and not yet ended; ``end_date`` is the first
day it no longer applies, so a replacement's ``start_date`` is its predecessor's ``end_date``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    raise_if_errors,
)
from govshare.identity import repository as repo
from govshare.identity.actor import Actor
from govshare.identity.fields import check_lengths, phone_errors
from govshare.identity.models import DataAdminRecord, Department
from govshare.identity.permissions import Permission
from govshare.kit.clock import today

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class DepartmentRegister:
    """One department's register: who is in force now, and every record ever made, newest first."""

    department: Department
    current: list[DataAdminRecord]
    history: list[DataAdminRecord]


@dataclass(frozen=True)
class RegisterRow:
    department: Department
    current: list[DataAdminRecord]


@dataclass(frozen=True)
class RegisterOverview:
    """The bureau's view: every active department with its data administrators in force, and those lacking one."""

    rows: list[RegisterRow]
    lacking: list[Department]


def register_data_admin(
    session: Session,
    actor: Actor,
    *,
    department_id: int,
    name: str = "",
    office: str = "",
    phone: str = "",
    email: str = "",
    start_date: dt.date | None = None,
    user_id: int | None = None,
) -> DataAdminRecord:
    """Record a department's data administrator; the department's own dept_admin or the bureau may."""
    department = _writable_department(session, actor, department_id)
    fields = _checked_fields(session, department, name=name, office=office, phone=phone, email=email, user_id=user_id)
    record = _add(session, actor, department, fields, start_date=start_date or today(), user_id=user_id)
    _audit_registered(session, actor, record, replaces=None)
    return record


def replace_data_admin(
    session: Session,
    actor: Actor,
    record_id: int,
    *,
    reason: str,
    name: str = "",
    office: str = "",
    phone: str = "",
    email: str = "",
    start_date: dt.date | None = None,
    user_id: int | None = None,
) -> DataAdminRecord:
    """A change of person: the previous holder's period ends, with the reason, the day the new one starts."""
    previous = _open_record(session, actor, record_id)
    department = _writable_department(session, actor, previous.department_id)
    start = start_date or today()
    if not reason.strip():
        raise ValidationFailed("请填写人员变动原因", errors=[FieldError("reason", "必填")])
    if start < previous.start_date:
        raise ValidationFailed(
            "新任管理员的起始日期不能早于前任的起始日期", errors=[FieldError("start_date", "不能早于前任起始日期")]
        )
    # Validate the successor before touching the predecessor: a refusal must leave nothing half-done.
    fields = _checked_fields(
        session, department, name=name, office=office, phone=phone, email=email, user_id=user_id, replaced=previous
    )
    _end(session, actor, previous, reason=reason.strip(), end_date=start)
    record = _add(session, actor, department, fields, start_date=start, user_id=user_id)
    _audit_registered(session, actor, record, replaces=previous.id)
    return record


def end_data_admin(
    session: Session, actor: Actor, record_id: int, *, reason: str, end_date: dt.date | None = None
) -> DataAdminRecord:
    """End a data administrator's period without a successor (the department is then listed as lacking one)."""
    record = _open_record(session, actor, record_id)
    _writable_department(session, actor, record.department_id)
    if not reason.strip():
        raise ValidationFailed("请填写结束原因", errors=[FieldError("reason", "必填")])
    end = end_date or today()
    if end < record.start_date:
        raise ValidationFailed("结束日期不能早于起始日期", errors=[FieldError("end_date", "不能早于起始日期")])
    _end(session, actor, record, reason=reason.strip(), end_date=end)
    return record


def department_register(session: Session, actor: Actor, department_id: int) -> DepartmentRegister:
    """A department's data administrators in force and its full history of changes."""
    actor.require(Permission.identity_read)
    department = repo.department(session, department_id)
    if department is None:
        raise NotFound("部门不存在", code="department_not_found")
    history = repo.data_admin_history(session, department_id)
    day = today()
    current = [r for r in history if _in_force(r, day)]
    return DepartmentRegister(department, current, history)


def register_overview(session: Session, actor: Actor) -> RegisterOverview:
    """Every active department with its data administrators in force; those without one listed apart."""
    actor.require(Permission.identity_read)
    day = today()
    departments = repo.departments(session, actor, include_inactive=False)
    by_department: dict[int, list[DataAdminRecord]] = {}
    for record in repo.current_data_admins(session, day):
        by_department.setdefault(record.department_id, []).append(record)
    rows = [RegisterRow(d, by_department.get(d.id, [])) for d in departments]
    return RegisterOverview(rows=rows, lacking=[r.department for r in rows if not r.current])


def departments_lacking_data_admin(session: Session, actor: Actor) -> list[Department]:
    """Active departments with no data administrator in force today (A34.1)."""
    actor.require(Permission.identity_read)
    return repo.departments_without_data_admin(session, today())


def can_register_for(actor: Actor, department_id: int) -> bool:
    """Whether the actor may change this department's register (for showing the forms)."""
    if not actor.can(Permission.data_admin_register):
        return False
    return actor.kind == "system" or actor.can(Permission.identity_manage) or actor.department_id == department_id


# --- helpers --------------------------------------------------------------------------------------


def _in_force(record: DataAdminRecord, day: dt.date) -> bool:
    return record.start_date <= day and (record.end_date is None or record.end_date > day)


def _writable_department(session: Session, actor: Actor, department_id: int) -> Department:
    actor.require(Permission.data_admin_register)
    department = repo.department(session, department_id)
    if department is None:
        raise NotFound("部门不存在", code="department_not_found")
    if not can_register_for(actor, department_id):
        raise Forbidden("只能登记本部门的数据资源管理员", code="other_department")
    if not department.is_active:
        raise ValidationFailed("部门已停用", code="department_inactive")
    return department


def _open_record(session: Session, actor: Actor, record_id: int) -> DataAdminRecord:
    actor.require(Permission.data_admin_register)
    record = repo.data_admin_record(session, record_id)
    if record is None:
        raise NotFound("登记记录不存在", code="data_admin_not_found")
    if record.end_date is not None:
        raise InvalidTransition("该管理员的任职已结束,不能再次变更", code="data_admin_ended")
    return record


def _checked_fields(
    session: Session,
    department: Department,
    *,
    name: str,
    office: str,
    phone: str,
    email: str,
    user_id: int | None,
    replaced: DataAdminRecord | None = None,
) -> dict[str, str]:
    name, office, phone, email = name.strip(), office.strip(), phone.strip(), email.strip()
    errors: list[FieldError] = []
    if user_id is not None:
        user = repo.user_with_roles(session, user_id)
        if user is None or user.department_id != department.id:
            errors.append(FieldError("user_id", "关联账号须为本部门的账号"))
        elif not user.is_active:
            errors.append(FieldError("user_id", "关联账号已停用"))
        else:
            name = name or user.display_name
            phone = phone or user.phone
    if not name:
        errors.append(FieldError("name", "请填写姓名"))
    errors += phone_errors("phone", phone, required=True)
    if email and not _EMAIL.match(email):
        errors.append(FieldError("email", "电子邮箱格式不正确"))
    check_lengths(errors, {"name": name, "office": office, "email": email}, {"name": 64, "office": 128, "email": 128})
    raise_if_errors("数据资源管理员信息有误:", errors)
    for other in repo.open_data_admin_records(session, department.id):
        if other is replaced:
            continue
        if (user_id is not None and other.user_id == user_id) or (other.name == name and other.phone == phone):
            raise Conflict(f"“{name}”已登记为本部门的数据资源管理员", code="data_admin_exists")
    return {"name": name, "office": office, "phone": phone, "email": email}


def _add(
    session: Session,
    actor: Actor,
    department: Department,
    fields: dict[str, str],
    *,
    start_date: dt.date,
    user_id: int | None,
) -> DataAdminRecord:
    record = DataAdminRecord(
        department_id=department.id,
        user_id=user_id,
        start_date=start_date,
        registered_by_id=actor.user_id,
        **fields,
    )
    session.add(record)
    session.flush()
    return record


def _end(session: Session, actor: Actor, record: DataAdminRecord, *, reason: str, end_date: dt.date) -> None:
    record.end_date = end_date
    record.change_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        Action.data_admin_ended,
        object_type="data_admin",
        object_id=record.id,
        department_id=record.department_id,
        before={"end_date": None},
        after={"end_date": end_date, "reason": reason, "name": record.name},
    )


def _audit_registered(session: Session, actor: Actor, record: DataAdminRecord, *, replaces: int | None) -> None:
    audit.record(
        session,
        actor,
        Action.data_admin_registered,
        object_type="data_admin",
        object_id=record.id,
        department_id=record.department_id,
        after={
            "department_id": record.department_id,
            "user_id": record.user_id,
            "name": record.name,
            "office": record.office,
            "phone": record.phone,
            "email": record.email,
            "start_date": record.start_date,
            "replaces": replaces,
        },
    )
