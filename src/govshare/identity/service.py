"""Managing regions, departments, offices, people and their roles.

Roles are validated against the separation of duties: system administration, audit and business
approval never sit on one account, and bureau roles belong to the bureau's own staff.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.config import get_settings
from govshare.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    raise_if_errors,
)
from govshare.identity import auth, register
from govshare.identity import repository as repo
from govshare.identity.actor import Actor
from govshare.identity.fields import check_lengths, phone_errors
from govshare.identity.models import ApiToken, Department, LoginAlert, Office, Region, RoleAssignment, User
from govshare.identity.passwords import check_password_policy, hash_password
from govshare.identity.permissions import REGION_SCOPED, Permission, Role
from govshare.identity.register import DepartmentRegister
from govshare.kit.clock import now, today
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
    name, uscc = name.strip(), uscc.strip().upper()
    raise_if_errors("部门信息有误:", _department_errors(session, name, uscc, region_id))
    _check_unique_department(session, name, uscc)
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
    if not department.is_active:
        raise ValidationFailed("部门已停用,不能开设账号", code="department_inactive")
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


# --- regions (A44.1) ------------------------------------------------------------------------------


def list_regions(session: Session, actor: Actor) -> list[Region]:
    """The province, the city and its counties, districts and zones, each with its sharing authority."""
    actor.require(Permission.identity_read)
    return repo.regions(session)


def update_region(
    session: Session,
    actor: Actor,
    region_id: int,
    *,
    authority_name: str,
    authority_office: str = "",
    authority_contact: str = "",
    authority_phone: str = "",
) -> Region:
    """Record a region's 政务数据共享主管机构, its responsible office and contact (A44.1, A6.1)."""
    actor.require(Permission.identity_manage)
    region = repo.region(session, region_id)
    if region is None:
        raise NotFound("区域不存在", code="region_not_found")
    values = {
        "authority_name": authority_name.strip(),
        "authority_office": authority_office.strip(),
        "authority_contact": authority_contact.strip(),
        "authority_phone": authority_phone.strip(),
    }
    errors: list[FieldError] = []
    if not values["authority_name"]:
        errors.append(FieldError("authority_name", "请填写主管机构名称"))
    errors += phone_errors("authority_phone", values["authority_phone"])
    check_lengths(errors, values, {"authority_name": 128, "authority_office": 128, "authority_contact": 64})
    raise_if_errors("区域信息有误:", errors)
    before, after = _apply(region, values)
    if after:
        session.flush()
        audit.record(
            session, actor, Action.region_updated, object_type="region", object_id=region.id, before=before, after=after
        )
    return region


# --- departments (A2.1, A6.1) ---------------------------------------------------------------------


def list_departments(
    session: Session, actor: Actor, *, region_id: int | None = None, q: str = "", include_inactive: bool = True
) -> list[Department]:
    """The department directory; every signed-in person may read it."""
    actor.require(Permission.identity_read)
    return repo.departments(session, actor, region_id=region_id, q=q.strip(), include_inactive=include_inactive)


def get_department(session: Session, actor: Actor, department_id: int) -> Department:
    """One department with its region and internal offices."""
    actor.require(Permission.identity_read)
    dept = repo.department_detail(session, actor, department_id)
    if dept is None:
        raise NotFound("部门不存在", code="department_not_found")
    return dept


def update_department(
    session: Session,
    actor: Actor,
    department_id: int,
    *,
    name: str,
    uscc: str,
    region_id: int,
    short_name: str = "",
    version: int | None = None,
) -> Department:
    """Edit a department's name, 统一社会信用代码 and region; ``version`` guards against lost updates."""
    actor.require(Permission.identity_manage)
    dept = _department(session, department_id)
    name, uscc = name.strip(), uscc.strip().upper()
    errors = _department_errors(session, name, uscc, region_id)
    check_lengths(errors, {"name": name, "short_name": short_name.strip()}, {"name": 128, "short_name": 32})
    raise_if_errors("部门信息有误:", errors)
    _check_unique_department(session, name, uscc, dept)
    if dept.is_bureau and region_id != dept.region_id:
        raise ValidationFailed("市大数据局的所属区域不能修改", code="bureau_region_fixed")
    values = {"name": name, "uscc": uscc, "region_id": region_id, "short_name": short_name.strip()}
    return _save_department(session, actor, dept, values, version)


def update_sharing_contacts(
    session: Session,
    actor: Actor,
    department_id: int,
    *,
    sharing_office: str,
    sharing_leader: str = "",
    sharing_contact: str = "",
    sharing_phone: str = "",
    version: int | None = None,
) -> Department:
    """A6.1: the office and people responsible for data sharing; the bureau, or the department's own
    data administrator (dept_admin), may record them."""
    actor.require(Permission.department_contacts_edit)
    dept = _department(session, department_id)
    if not actor.can(Permission.identity_manage) and actor.department_id != dept.id:
        raise Forbidden("只能维护本部门的共享工作责任科室与联系人", code="other_department")
    values = {
        "sharing_office": sharing_office.strip(),
        "sharing_leader": sharing_leader.strip(),
        "sharing_contact": sharing_contact.strip(),
        "sharing_phone": sharing_phone.strip(),
    }
    errors: list[FieldError] = []
    if not values["sharing_office"]:
        errors.append(FieldError("sharing_office", "请填写负责政务数据共享工作的责任科室"))
    if not values["sharing_contact"]:
        errors.append(FieldError("sharing_contact", "请填写联系人"))
    errors += phone_errors("sharing_phone", values["sharing_phone"], required=True)
    check_lengths(errors, values, {"sharing_office": 128, "sharing_leader": 64, "sharing_contact": 64})
    raise_if_errors("共享工作责任信息有误:", errors)
    return _save_department(session, actor, dept, values, version)


def deactivate_department(session: Session, actor: Actor, department_id: int, *, reason: str) -> Department:
    """Deactivate a department (e.g. after 机构改革); its accounts are disabled and signed out at once."""
    actor.require(Permission.identity_manage)
    dept = _department(session, department_id)
    if not reason.strip():
        raise ValidationFailed("请填写停用原因", errors=[FieldError("reason", "必填")])
    if dept.is_bureau:
        raise ValidationFailed("市大数据局不能停用", code="bureau_cannot_be_deactivated")
    if not dept.is_active:
        raise InvalidTransition("该部门已停用", code="department_inactive")
    if actor.department_id == dept.id:
        raise ValidationFailed("不能停用本人所在的部门", code="own_department")
    _claim(session, dept, None)
    dept.is_active = False
    disabled = []
    for user in repo.active_users_of_department(session, dept.id):
        _disable(session, actor, user, reason=f"所在部门停用:{reason.strip()}")
        disabled.append(user.id)
    session.flush()
    audit.record(
        session,
        actor,
        Action.department_deactivated,
        object_type="department",
        object_id=dept.id,
        before={"is_active": True},
        after={"is_active": False, "reason": reason.strip(), "disabled_user_ids": disabled},
    )
    return dept


def reactivate_department(session: Session, actor: Actor, department_id: int) -> Department:
    """Reactivate a department; its accounts stay disabled until enabled one by one."""
    actor.require(Permission.identity_manage)
    dept = _department(session, department_id)
    if dept.is_active:
        raise InvalidTransition("该部门处于启用状态", code="department_active")
    _claim(session, dept, None)
    dept.is_active = True
    session.flush()
    audit.record(
        session,
        actor,
        Action.department_reactivated,
        object_type="department",
        object_id=dept.id,
        before={"is_active": False},
        after={"is_active": True},
    )
    return dept


def rename_office(session: Session, actor: Actor, office_id: int, name: str) -> Office:
    """Rename an internal office (处室) of a department."""
    actor.require(Permission.identity_manage)
    office = repo.office(session, office_id)
    if office is None:
        raise NotFound("处室不存在", code="office_not_found")
    name = name.strip()
    if not name or len(name) > 128:
        raise ValidationFailed("请填写处室名称(不超过128字)", errors=[FieldError("name", "必填,不超过128字")])
    other = repo.office_by_name(session, office.department_id, name)
    if other is not None and other.id != office.id:
        raise Conflict(f"本部门已有处室“{name}”", code="office_exists")
    before = {"name": office.name}
    office.name = name
    session.flush()
    audit.record(
        session,
        actor,
        Action.office_updated,
        object_type="office",
        object_id=office.id,
        before=before,
        after={"name": name},
    )
    return office


def remove_office(session: Session, actor: Actor, office_id: int) -> int:
    """Remove an internal office (returns its department's id); catalog entries keep the office name
    they were compiled with."""
    actor.require(Permission.identity_manage)
    office = repo.office(session, office_id)
    if office is None:
        raise NotFound("处室不存在", code="office_not_found")
    department_id = office.department_id
    before = {"department_id": department_id, "name": office.name}
    office_id = office.id
    session.delete(office)
    session.flush()
    audit.record(session, actor, Action.office_removed, object_type="office", object_id=office_id, before=before)
    return department_id


# --- people (A31.1, A36.1) ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    page: int
    page_size: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


def list_users(
    session: Session,
    actor: Actor,
    *,
    department_id: int | None = None,
    role: Role | None = None,
    q: str = "",
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> UserPage:
    """Accounts the actor may see: the bureau and auditors all, a region reviewer its region's,
    others their own department's."""
    actor.require(Permission.identity_read)
    page = max(page, 1)
    page_size = min(max(page_size, 1), 200)
    items, total = repo.users_page(
        session,
        actor,
        department_id=department_id,
        role=role,
        q=q.strip(),
        active=active,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return UserPage(items, page, page_size, total)


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """One account the actor may see (404 for accounts outside their scope)."""
    actor.require(Permission.identity_read)
    user = repo.readable_user(session, actor, user_id)
    if user is None:
        raise NotFound("账号不存在", code="user_not_found")
    return user


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    display_name: str,
    phone: str = "",
    department_id: int | None = None,
    version: int | None = None,
) -> User:
    """Edit a person's name, phone or department; moving department re-checks the roles held."""
    actor.require(Permission.identity_manage)
    user = _managed_user(session, user_id)
    display_name, phone = display_name.strip(), phone.strip()
    errors: list[FieldError] = []
    if not display_name:
        errors.append(FieldError("display_name", "请填写姓名"))
    errors += phone_errors("phone", phone)
    check_lengths(errors, {"display_name": display_name}, {"display_name": 64})
    raise_if_errors("账号信息有误:", errors)
    values: dict[str, Any] = {"display_name": display_name, "phone": phone}
    if department_id is not None and department_id != user.department_id:
        dept = repo.department(session, department_id)
        if dept is None:
            raise NotFound("部门不存在", code="department_not_found")
        if not dept.is_active:
            raise ValidationFailed("不能调入已停用的部门", code="department_inactive")
        validate_roles(dept, _roles_of(user))
        values["department_id"] = department_id
    _claim(session, user, version)
    before, after = _apply(user, values)
    session.flush()
    if after:
        audit.record(
            session, actor, Action.user_updated, object_type="user", object_id=user.id, before=before, after=after
        )
    return user


def set_roles(
    session: Session, actor: Actor, user_id: int, roles: list[tuple[Role, int | None]], *, version: int | None = None
) -> User:
    """Replace a person's roles (separation of duties checked); the person's sessions end so that the
    new rights, and any second factor they need, apply from the next sign-in."""
    actor.require(Permission.identity_manage)
    user = _managed_user(session, user_id)
    roles = sorted(set(roles), key=lambda r: (list(Role).index(r[0]), r[1] or 0))
    if actor.user_id == user.id and Role.bureau_admin not in {r for r, _ in roles}:
        raise ValidationFailed("不能取消本人的系统管理员角色", code="own_admin_role")
    department = _department(session, user.department_id)
    validate_roles(department, roles)
    before = _roles_of(user)
    if before == roles:
        return user
    _claim(session, user, version)
    user.roles.clear()
    session.flush()
    for role, region_id in roles:
        user.roles.append(RoleAssignment(role=role.value, region_id=region_id))
    ended = auth.end_all_sessions(session, user.id, "roles_changed")
    session.flush()
    audit.record(
        session,
        actor,
        Action.user_roles_changed,
        object_type="user",
        object_id=user.id,
        before={"roles": [[r.value, g] for r, g in before]},
        after={"roles": [[r.value, g] for r, g in roles], "sessions_ended": ended},
    )
    return user


def disable_user(session: Session, actor: Actor, user_id: int, *, reason: str) -> User:
    """Disable an account; every session it has ends at once and its API tokens stop working."""
    actor.require(Permission.identity_manage)
    user = _managed_user(session, user_id)
    if not reason.strip():
        raise ValidationFailed("请填写停用原因", errors=[FieldError("reason", "必填")])
    if actor.user_id == user.id:
        raise ValidationFailed("不能停用本人账号", code="own_account")
    if not user.is_active:
        raise InvalidTransition("该账号已停用", code="user_inactive")
    _claim(session, user, None)
    _disable(session, actor, user, reason=reason.strip())
    return user


def enable_user(session: Session, actor: Actor, user_id: int) -> User:
    """Enable a disabled account (its department must be active)."""
    actor.require(Permission.identity_manage)
    user = _managed_user(session, user_id)
    if user.is_active:
        raise InvalidTransition("该账号处于启用状态", code="user_active")
    if not _department(session, user.department_id).is_active:
        raise ValidationFailed("所在部门已停用,不能启用该账号", code="department_inactive")
    _claim(session, user, None)
    user.is_active = True
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record(
        session,
        actor,
        Action.user_enabled,
        object_type="user",
        object_id=user.id,
        before={"is_active": False},
        after={"is_active": True},
    )
    return user


def unlock_user(session: Session, actor: Actor, user_id: int) -> User:
    """Lift a lockout after repeated failed sign-ins."""
    actor.require(Permission.identity_manage)
    user = _managed_user(session, user_id)
    if user.locked_until is None and user.failed_logins == 0:
        raise InvalidTransition("该账号未被锁定", code="user_not_locked")
    before = {"locked_until": user.locked_until, "failed_logins": user.failed_logins}
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    audit.record(
        session,
        actor,
        Action.user_unlocked,
        object_type="user",
        object_id=user.id,
        before=before,
        after={"locked_until": None, "failed_logins": 0},
    )
    return user


def reset_password(session: Session, actor: Actor, user_id: int) -> str:
    """Give a person a one-time temporary password (returned once, never stored in clear or audited);
    they must change it at the next sign-in, and their sessions end now."""
    actor.require(Permission.identity_manage)
    user = _managed_user(session, user_id)
    if actor.user_id == user.id:
        raise ValidationFailed("请在“我的账号”中修改本人密码", code="own_account")
    temporary = temporary_password()
    user.password_hash = hash_password(temporary)
    user.password_changed_at = now()
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    ended = auth.end_all_sessions(session, user.id, "password_reset")
    session.flush()
    audit.record(
        session,
        actor,
        Action.password_reset,
        object_type="user",
        object_id=user.id,
        after={"must_change_password": True, "sessions_ended": ended},
    )
    return temporary


def reset_mfa(session: Session, actor: Actor, user_id: int) -> User:
    """Clear a person's authenticator binding (lost phone); they enrol again at the next sign-in."""
    actor.require(Permission.identity_manage)
    user = _managed_user(session, user_id)
    if actor.user_id == user.id:
        raise ValidationFailed("不能重置本人的动态口令", code="own_account")
    if not user.totp_secret and not user.totp_enabled:
        raise InvalidTransition("该账号尚未绑定动态口令", code="totp_not_enrolled")
    user.totp_secret = None
    user.totp_enabled = False
    ended = auth.end_all_sessions(session, user.id, "mfa_reset")
    session.flush()
    audit.record(
        session,
        actor,
        Action.mfa_reset,
        object_type="user",
        object_id=user.id,
        before={"totp_enabled": True},
        after={"totp_enabled": False, "sessions_ended": ended},
    )
    return user


# --- concurrent-use alerts (A36.1) ----------------------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    alert: LoginAlert
    user: User


def list_login_alerts(session: Session, actor: Actor, *, unacknowledged_only: bool = False) -> list[AlertRow]:
    """Every account seen from several places at once, newest first (the bureau's view)."""
    actor.require(Permission.identity_manage)
    return [AlertRow(a, u) for a, u in repo.login_alerts(session, unacknowledged_only=unacknowledged_only)]


def my_login_alerts(session: Session, actor: Actor) -> list[LoginAlert]:
    """The person's own concurrent-use alerts, so they can see their account was used elsewhere."""
    actor.require(Permission.own_account)
    if actor.user_id is None:
        return []
    return [a for a, _ in repo.login_alerts(session, user_id=actor.user_id, limit=50)]


def acknowledge_alert(session: Session, actor: Actor, alert_id: int, *, note: str = "") -> LoginAlert:
    """The bureau marks an alert as looked into, with an optional note."""
    actor.require(Permission.identity_manage)
    alert = repo.login_alert(session, alert_id)
    if alert is None:
        raise NotFound("告警不存在", code="alert_not_found")
    if alert.acknowledged_at is not None:
        raise InvalidTransition("该告警已处理", code="alert_acknowledged")
    alert.acknowledged_at = now()
    session.flush()
    audit.record(
        session,
        actor,
        Action.login_alert_acknowledged,
        object_type="login_alert",
        object_id=alert.id,
        after={"user_id": alert.user_id, "note": note.strip()[:500]},
    )
    return alert


def unacknowledged_alert_count(session: Session, actor: Actor) -> int:
    actor.require(Permission.identity_manage)
    return repo.unacknowledged_alert_count(session)


# --- the person's own account ---------------------------------------------------------------------


@dataclass(frozen=True)
class AccountOverview:
    user: User
    department: Department
    tokens: list[ApiToken]
    alerts: list[LoginAlert]


def account_overview(session: Session, actor: Actor) -> AccountOverview:
    """The signed-in person's details, personal API tokens and concurrent-use alerts."""
    actor.require(Permission.own_account)
    user = auth.user_of(session, actor)
    return AccountOverview(
        user=user,
        department=_department(session, user.department_id),
        tokens=repo.api_tokens_of(session, user.id),
        alerts=my_login_alerts(session, actor),
    )


def begin_totp_enrolment(session: Session, actor: Actor) -> str | None:
    """A person may add a second factor on their own: a new secret to confirm with a code; None when
    one is already bound (rebinding goes through an administrator's reset, so a stolen session cannot)."""
    actor.require(Permission.own_account)
    if auth.user_of(session, actor).totp_enabled:
        return None
    return auth.start_totp_enrolment(session, actor)


def must_change_password(session: Session, actor: Actor) -> bool:
    """Whether the person still signs in with a temporary password set by an administrator."""
    if actor.user_id is None:
        return False
    user = session.get(User, actor.user_id)
    return bool(user is not None and user.must_change_password)


# --- helpers --------------------------------------------------------------------------------------

_TEMP_ALPHABETS = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "!@#%*-_=+")


def temporary_password(length: int = 14) -> str:
    """A random password meeting the complexity rule, without look-alike characters."""
    chars = [secrets.choice(alphabet) for alphabet in _TEMP_ALPHABETS]
    pool = "".join(_TEMP_ALPHABETS)
    chars += [secrets.choice(pool) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _apply(obj: object, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set attributes; return (before, after) of the ones that changed, for the audit record."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in values.items():
        old = getattr(obj, key)
        if old != value:
            before[key] = old
            after[key] = value
            setattr(obj, key, value)
    return before, after


def _department_errors(session: Session, name: str, uscc: str, region_id: int) -> list[FieldError]:
    """The problems with a department's (stripped) name, 统一社会信用代码 and region."""
    errors: list[FieldError] = []
    if not name:
        errors.append(FieldError("name", "请填写部门名称"))
    problem = uscc_problem(uscc)
    if problem:
        errors.append(FieldError("uscc", problem))
    if repo.region(session, region_id) is None:
        errors.append(FieldError("region_id", "所属区域不存在"))
    return errors


def _check_unique_department(session: Session, name: str, uscc: str, current: Department | None = None) -> None:
    """No other department may have the same name or 统一社会信用代码."""
    same_name = repo.department_by_name(session, name)
    if same_name is not None and (current is None or same_name.id != current.id):
        raise Conflict(f"部门“{name}”已存在", code="department_exists")
    same_uscc = repo.department_by_uscc(session, uscc)
    if same_uscc is not None and (current is None or same_uscc.id != current.id):
        raise Conflict("该统一社会信用代码已被其他部门使用", code="uscc_exists")


def _department(session: Session, department_id: int) -> Department:
    dept = repo.department(session, department_id)
    if dept is None:
        raise NotFound("部门不存在", code="department_not_found")
    return dept


def _managed_user(session: Session, user_id: int) -> User:
    user = repo.user_with_roles(session, user_id)
    if user is None:
        raise NotFound("账号不存在", code="user_not_found")
    return user


def _roles_of(user: User) -> list[tuple[Role, int | None]]:
    return sorted(((Role(a.role), a.region_id) for a in user.roles), key=lambda r: (list(Role).index(r[0]), r[1] or 0))


def _claim(session: Session, obj: Department | User, version: int | None) -> None:
    """Bump the row's version with a conditional UPDATE; a stale ``version`` (or a concurrent edit) loses."""
    expected = obj.version if version is None else version
    if not repo.claim_version(session, type(obj), obj.id, expected):
        raise Conflict("该记录已被他人修改,请刷新后重试", code="stale_version")


def _save_department(
    session: Session, actor: Actor, dept: Department, values: dict[str, Any], version: int | None
) -> Department:
    _claim(session, dept, version)
    before, after = _apply(dept, values)
    session.flush()
    if after:
        audit.record(
            session,
            actor,
            Action.department_updated,
            object_type="department",
            object_id=dept.id,
            before=before,
            after=after,
        )
    return dept


def _disable(session: Session, actor: Actor, user: User, *, reason: str) -> None:
    user.is_active = False
    ended = auth.end_all_sessions(session, user.id, "disabled")
    session.flush()
    audit.record(
        session,
        actor,
        Action.user_disabled,
        object_type="user",
        object_id=user.id,
        before={"is_active": True},
        after={"is_active": False, "reason": reason, "sessions_ended": ended},
    )


# --- what the administration pages show -----------------------------------------------------------


@dataclass(frozen=True)
class DepartmentView:
    department: Department
    register: DepartmentRegister
    regions: list[Region]
    can_manage: bool
    can_edit_contacts: bool
    can_register: bool


def department_view(session: Session, actor: Actor, department_id: int) -> DepartmentView:
    """A department page: its details, offices and data administrator register, and what the actor may change."""
    department = get_department(session, actor, department_id)
    can_manage = actor.can(Permission.identity_manage)
    return DepartmentView(
        department=department,
        register=register.department_register(session, actor, department_id),
        regions=repo.regions(session) if can_manage else [],
        can_manage=can_manage,
        can_edit_contacts=actor.can(Permission.department_contacts_edit)
        and (can_manage or actor.department_id == department.id),
        can_register=register.can_register_for(actor, department.id) and department.is_active,
    )


@dataclass(frozen=True)
class UserView:
    user: User
    department: Department
    departments: list[Department]
    regions: list[Region]
    alerts: list[LoginAlert]
    can_manage: bool


def user_view(session: Session, actor: Actor, user_id: int) -> UserView:
    """An account page: the person, their roles, and for the bureau the choices to change them."""
    user = get_user(session, actor, user_id)
    can_manage = actor.can(Permission.identity_manage)
    return UserView(
        user=user,
        department=_department(session, user.department_id),
        departments=repo.departments(session, actor, include_inactive=False) if can_manage else [],
        regions=repo.regions(session) if can_manage else [],
        alerts=[a for a, _ in repo.login_alerts(session, user_id=user.id, limit=20)] if can_manage else [],
        can_manage=can_manage,
    )


@dataclass(frozen=True)
class NewUserForm:
    departments: list[Department]
    regions: list[Region]


def new_user_form(session: Session, actor: Actor) -> NewUserForm:
    """The choices offered when opening an account."""
    actor.require(Permission.identity_manage)
    return NewUserForm(repo.departments(session, actor, include_inactive=False), repo.regions(session))


@dataclass(frozen=True)
class DirectoryView:
    departments: list[Department]
    regions: list[Region]
    current_admins: dict[int, list[str]]


def directory_view(
    session: Session, actor: Actor, *, region_id: int | None = None, q: str = "", include_inactive: bool = True
) -> DirectoryView:
    """The department directory with each department's data administrators in force."""
    departments = list_departments(session, actor, region_id=region_id, q=q, include_inactive=include_inactive)
    names: dict[int, list[str]] = {}
    for record in repo.current_data_admins(session, today(), [d.id for d in departments]):
        names.setdefault(record.department_id, []).append(record.name)
    return DirectoryView(departments, repo.regions(session), names)
