"""Every identity query, and the one visibility rule for people and departments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from govshare.identity.actor import Actor
from govshare.identity.models import (
    ApiToken,
    DataAdminRecord,
    Department,
    LoginAlert,
    Office,
    Region,
    RoleAssignment,
    User,
    UserSession,
)
from govshare.identity.permissions import Role


def readable_departments(actor: Actor) -> Select[Department]:
    """Departments are public within the platform: every signed-in person sees the directory."""
    return select(Department).order_by(Department.region_id, Department.id)


def readable_users(actor: Actor) -> Select[User]:
    """Bureau staff and auditors see every account; others see their own department's."""
    stmt = select(User).options(selectinload(User.roles)).order_by(User.id)
    if actor.kind == "system" or actor.roles & {Role.bureau_admin, Role.bureau_reviewer, Role.auditor}:
        return stmt
    if Role.region_reviewer in actor.roles:
        region_depts = select(Department.id).where(Department.region_id.in_(actor.reviewer_region_ids))
        return stmt.where((User.department_id.in_(region_depts)) | (User.department_id == actor.department_id))
    return stmt.where(User.department_id == actor.department_id)


def user_by_username(session: Session, username: str) -> User | None:
    return session.execute(
        select(User).options(selectinload(User.roles)).where(User.username == username)
    ).scalar_one_or_none()


def user_with_roles(session: Session, user_id: int) -> User | None:
    return session.execute(
        select(User).options(selectinload(User.roles), selectinload(User.department)).where(User.id == user_id)
    ).scalar_one_or_none()


def session_by_hash(session: Session, token_hash: str) -> UserSession | None:
    return session.execute(select(UserSession).where(UserSession.token_hash == token_hash)).scalar_one_or_none()


def live_sessions(session: Session, user_id: int) -> list[UserSession]:
    return list(
        session.execute(
            select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        ).scalars()
    )


def api_token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.execute(select(ApiToken).where(ApiToken.token_hash == token_hash)).scalar_one_or_none()


def department(session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


def region(session: Session, region_id: int) -> Region | None:
    return session.get(Region, region_id)


def regions(session: Session) -> list[Region]:
    return list(session.execute(select(Region).order_by(Region.id)).scalars())


def region_by_code(session: Session, code: str) -> Region | None:
    return session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()


def department_by_name(session: Session, name: str) -> Department | None:
    return session.execute(select(Department).where(Department.name == name)).scalar_one_or_none()


def role_assignments(session: Session, user_id: int) -> list[RoleAssignment]:
    return list(session.execute(select(RoleAssignment).where(RoleAssignment.user_id == user_id)).scalars())


def data_admin_history(session: Session, department_id: int) -> list[DataAdminRecord]:
    return list(
        session.execute(
            select(DataAdminRecord)
            .where(DataAdminRecord.department_id == department_id)
            .order_by(DataAdminRecord.start_date.desc(), DataAdminRecord.id.desc())
        ).scalars()
    )


def department_by_uscc(session: Session, uscc: str) -> Department | None:
    return session.execute(select(Department).where(Department.uscc == uscc)).scalar_one_or_none()


# --- administration (regions, departments, offices, people) ---------------------------------------


def claim_version(session: Session, model: type[Department] | type[User], object_id: int, expected: int) -> bool:
    """Bump ``version`` only if it still is ``expected``: the conditional UPDATE that lets one of two
    concurrent edits win. On PostgreSQL the row stays locked until the transaction ends."""
    result = session.execute(
        update(model)
        .where(model.id == object_id, model.version == expected)
        .values(version=model.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))


def departments(
    session: Session, actor: Actor, *, region_id: int | None = None, q: str = "", include_inactive: bool = True
) -> list[Department]:
    stmt = readable_departments(actor).options(selectinload(Department.region))
    if region_id is not None:
        stmt = stmt.where(Department.region_id == region_id)
    if q:
        pattern = f"%{_escape_like(q)}%"
        stmt = stmt.where(
            Department.name.like(pattern, escape="\\")
            | Department.short_name.like(pattern, escape="\\")
            | (Department.uscc == q.upper())
        )
    if not include_inactive:
        stmt = stmt.where(Department.is_active.is_(True))
    return list(session.execute(stmt).scalars())


def department_detail(session: Session, actor: Actor, department_id: int) -> Department | None:
    stmt = (
        readable_departments(actor)
        .options(selectinload(Department.region), selectinload(Department.offices))
        .where(Department.id == department_id)
    )
    return session.execute(stmt).scalar_one_or_none()


def office(session: Session, office_id: int) -> Office | None:
    return session.get(Office, office_id)


def office_by_name(session: Session, department_id: int, name: str) -> Office | None:
    return session.execute(
        select(Office).where(Office.department_id == department_id, Office.name == name)
    ).scalar_one_or_none()


def active_users_of_department(session: Session, department_id: int) -> list[User]:
    return list(
        session.execute(
            select(User).where(User.department_id == department_id, User.is_active.is_(True)).order_by(User.id)
        ).scalars()
    )


def users_page(
    session: Session,
    actor: Actor,
    *,
    department_id: int | None = None,
    role: Role | None = None,
    q: str = "",
    active: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[User], int]:
    """One page of the accounts the actor may see, with the total count."""
    stmt = readable_users(actor).options(selectinload(User.department))
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    if role is not None:
        stmt = stmt.where(User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role == role.value)))
    if q:
        pattern = f"%{_escape_like(q)}%"
        stmt = stmt.where(User.username.like(pattern, escape="\\") | User.display_name.like(pattern, escape="\\"))
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = list(session.execute(stmt.offset(offset).limit(limit)).scalars())
    return rows, int(total)


def readable_user(session: Session, actor: Actor, user_id: int) -> User | None:
    stmt = readable_users(actor).options(selectinload(User.department)).where(User.id == user_id)
    return session.execute(stmt).scalar_one_or_none()


def api_tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.execute(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())).scalars()
    )


def login_alerts(
    session: Session, *, user_id: int | None = None, unacknowledged_only: bool = False, limit: int = 200
) -> list[tuple[LoginAlert, User]]:
    stmt = select(LoginAlert, User).join(User, User.id == LoginAlert.user_id).order_by(LoginAlert.id.desc())
    if user_id is not None:
        stmt = stmt.where(LoginAlert.user_id == user_id)
    if unacknowledged_only:
        stmt = stmt.where(LoginAlert.acknowledged_at.is_(None))
    return [(a, u) for a, u in session.execute(stmt.limit(limit))]


def unacknowledged_alert_count(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(LoginAlert).where(LoginAlert.acknowledged_at.is_(None))
        ).scalar_one()
    )


def login_alert(session: Session, alert_id: int) -> LoginAlert | None:
    return session.get(LoginAlert, alert_id)


# --- the data administrator register (A34.1) ------------------------------------------------------


def data_admin_record(session: Session, record_id: int) -> DataAdminRecord | None:
    return session.get(DataAdminRecord, record_id)


def _current_on(day: dt.date) -> ColumnElement[bool]:
    return (DataAdminRecord.start_date <= day) & (DataAdminRecord.end_date.is_(None) | (DataAdminRecord.end_date > day))


def current_data_admins(
    session: Session, day: dt.date, department_ids: list[int] | None = None
) -> list[DataAdminRecord]:
    """Records in force on ``day``: started, and not yet ended."""
    stmt = select(DataAdminRecord).where(_current_on(day)).order_by(DataAdminRecord.department_id, DataAdminRecord.id)
    if department_ids is not None:
        stmt = stmt.where(DataAdminRecord.department_id.in_(department_ids))
    return list(session.execute(stmt).scalars())


def open_data_admin_records(session: Session, department_id: int) -> list[DataAdminRecord]:
    """Records not ended (including ones that start in the future)."""
    return list(
        session.execute(
            select(DataAdminRecord)
            .where(DataAdminRecord.department_id == department_id, DataAdminRecord.end_date.is_(None))
            .order_by(DataAdminRecord.id)
        ).scalars()
    )


def departments_without_data_admin(session: Session, day: dt.date) -> list[Department]:
    """Active departments with no data administrator in force on ``day`` (one set-based query)."""
    covered = select(DataAdminRecord.department_id).where(_current_on(day))
    return list(
        session.execute(
            select(Department)
            .options(selectinload(Department.region))
            .where(Department.is_active.is_(True), Department.id.not_in(covered))
            .order_by(Department.region_id, Department.id)
        ).scalars()
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
