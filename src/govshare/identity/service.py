"""Managing regions, departments, offices, people and their roles.

Roles are validated against the separation of duties: system administration, audit and business
approval never sit on one account, and bureau roles belong to the bureau's own staff.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.config import get_settings
from govshare.errors import Conflict, FieldError, NotFound, ValidationFailed
from govshare.identity import repository as repo
from govshare.identity.actor import Actor
from govshare.identity.models import Department, Office, RoleAssignment, User
from govshare.identity.passwords import check_password_policy, hash_password
from govshare.identity.permissions import REGION_SCOPED, Permission, Role
from govshare.kit.uscc import uscc_problem

# Three duties of 等保 三权分立; one account holds roles from at most one of them.
_DUTY = {
    Role.bureau_admin: "system",
    Role.auditor: "audit",
    Role.bureau_reviewer: "approval",
    Role.region_reviewer: "approval",
}
BUREAU_ONLY = frozenset({Role.bureau_admin, Role.bureau_reviewer})


def create_department(
    session: Session,
    actor: Actor,
    *,
    name: str,
    uscc: str,
    region_id: int,
    short_name: str = "",
    sharing_office: str = "",
    sharing_leader: str = "",
    sharing_contact: str = "",
    sharing_phone: str = "",
) -> Department:
    """Register a department with a valid 统一社会信用代码 in an existing region."""
    actor.require(Permission.identity_manage)
    name = name.strip()
    uscc = uscc.strip().upper()
    errors: list[FieldError] = []
    if not name:
        errors.append(FieldError("name", "请填写部门名称"))
    problem = uscc_problem(uscc)
    if problem:
        errors.append(FieldError("uscc", problem))
    if repo.region(session, region_id) is None:
        errors.append(FieldError("region_id", "所属区域不存在"))
    if errors:
        raise ValidationFailed("部门信息有误:" + ";".join(e.message for e in errors), errors=errors)
    if repo.department_by_name(session, name) is not None:
        raise Conflict(f"部门“{name}”已存在", code="department_exists")
    if repo.department_by_uscc(session, uscc) is not None:
        raise Conflict("该统一社会信用代码已被其他部门使用", code="uscc_exists")
    dept = Department(
        name=name,
        uscc=uscc,
        region_id=region_id,
        short_name=short_name.strip(),
        sharing_office=sharing_office.strip(),
        sharing_leader=sharing_leader.strip(),
        sharing_contact=sharing_contact.strip(),
        sharing_phone=sharing_phone.strip(),
    )
    session.add(dept)
    session.flush()
    audit.record(
        session,
        actor,
        Action.department_created,
        object_type="department",
        object_id=dept.id,
        after={"name": name, "uscc": uscc, "region_id": region_id},
    )
    return dept


def add_office(session: Session, actor: Actor, department_id: int, name: str) -> Office:
    """Add an internal office (处室) to a department."""
    actor.require(Permission.identity_manage)
    if repo.department(session, department_id) is None:
        raise NotFound("部门不存在")
    if not name.strip():
        raise ValidationFailed("请填写处室名称", errors=[FieldError("name", "必填")])
    office = Office(department_id=department_id, name=name.strip())
    session.add(office)
    session.flush()
    audit.record(
        session,
        actor,
        Action.office_created,
        object_type="office",
        object_id=office.id,
        after={"department_id": department_id, "name": office.name},
    )
    return office


def validate_roles(department: Department, roles: list[tuple[Role, int | None]]) -> None:
    """Refuse combinations that break the separation of duties or the scope rules."""
    duties = {_DUTY[r] for r, _ in roles if r in _DUTY}
    if len(duties) > 1:
        raise ValidationFailed(
            "系统管理、审计、业务审批三类职责不能由同一账号兼任(三权分立)", code="separation_of_duties"
        )
    for role, region_id in roles:
        if role in BUREAU_ONLY and not department.is_bureau:
            raise ValidationFailed("市大数据局角色只能授予市大数据局工作人员", code="bureau_role_outside_bureau")
        if role in REGION_SCOPED and region_id is None:
            raise ValidationFailed("县区审核员须指定所辖区域", code="region_required")
        if role not in REGION_SCOPED and region_id is not None:
            raise ValidationFailed("该角色不按区域授权", code="region_not_applicable")


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    department_id: int,
    password: str,
    roles: list[tuple[Role, int | None]],
    phone: str = "",
    must_change_password: bool = True,
) -> User:
    """Open one personal account with its roles; the password must meet the 等保 rule."""
    actor.require(Permission.identity_manage)
    username = username.strip()
    if not username or not display_name.strip():
        raise ValidationFailed("请填写账号和姓名", errors=[FieldError("username", "必填")])
    department = repo.department(session, department_id)
    if department is None:
        raise NotFound("部门不存在")
    if repo.user_by_username(session, username) is not None:
        raise Conflict(f"账号“{username}”已存在", code="username_exists")
    check_password_policy(password, username=username, min_length=get_settings().security.password_min_length)
    validate_roles(department, roles)
    user = User(
        username=username,
        display_name=display_name.strip(),
        department_id=department_id,
        phone=phone,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        roles=[RoleAssignment(role=r.value, region_id=region) for r, region in roles],
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        Action.user_created,
        object_type="user",
        object_id=user.id,
        after={
            "username": username,
            "department_id": department_id,
            "roles": [[r.value, region] for r, region in roles],
        },
    )
    return user
