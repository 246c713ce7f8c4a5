"""Every identity query, and the one visibility rule for people and departments."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from govshare.identity.actor import Actor
from govshare.identity.models import (
    ApiToken,
    DataAdminRecord,
    Department,
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
