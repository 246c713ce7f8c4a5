"""Authentication: password login with lockout, TOTP, server-side sessions, personal API tokens.

Failed logins are *results*, not exceptions, so that the caller commits the failure count and its
audit record before telling the person; an exception would roll both back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyotp
from sqlalchemy import update
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.config import get_settings
from govshare.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from govshare.identity import repository as repo
from govshare.identity.actor import Actor, RequestContext
from govshare.identity.models import ApiToken, LoginAlert, User, UserSession
from govshare.identity.passwords import check_password_policy, hash_password, verify_password
from govshare.identity.permissions import Role
from govshare.kit.clock import now
from govshare.kit.crypto import decrypt, encrypt, new_token, token_hash

API_TOKEN_PREFIX = "gst_"
# Refreshing last_seen on every request would turn reads into writes; a minute is precise enough.
_TOUCH_INTERVAL = dt.timedelta(seconds=60)
_DUMMY_HASH = hash_password("Dummy-password-for-timing-1")


def actor_for(user: User, context: RequestContext, session_id: int | None = None) -> Actor:
    """Resolve a user's roles and scopes into an Actor (``user.roles`` and ``user.department`` loaded)."""
    roles = frozenset(Role(a.role) for a in user.roles)
    reviewer_regions = frozenset(
        a.region_id for a in user.roles if a.role == Role.region_reviewer and a.region_id is not None
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        department_id=user.department_id,
        department_region_id=user.department.region_id,
        roles=roles,
        reviewer_region_ids=reviewer_regions,
        context=context,
        session_id=session_id,
        must_change_password=user.must_change_password,
    )


def requires_mfa(user: User) -> bool:
    required = set(get_settings().security.mfa_required_roles)
    return user.totp_enabled or any(a.role in required for a in user.roles)


@dataclass
class LoginResult:
    ok: bool
    message: str = ""
    token: str = ""
    user_id: int | None = None
    needs_mfa: bool = False
    needs_mfa_enrolment: bool = False
    must_change_password: bool = False


def _refused(session: Session, actor: Actor, object_id: object, **after: object) -> None:
    """Record a refused sign-in and why."""
    audit.record(
        session, actor, Action.login_failed, object_type="user", object_id=object_id, outcome="failure", after=after
    )


def login(session: Session, context: RequestContext, username: str, password: str) -> LoginResult:
    """Check a password; after five failures the account is locked for fifteen minutes."""
    sec = get_settings().security
    user = repo.user_by_username(session, username.strip())
    generic = "账号或密码错误"
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same time as a real check: no account probing
        _refused(session, Actor.anonymous(context), username[:64], reason="unknown_user")
        return LoginResult(False, generic)
    subject = Actor(
        user_id=user.id,
        username=user.username,
        department_id=user.department_id,
        roles=frozenset(Role(a.role) for a in user.roles),
        context=context,
    )
    current = now()
    if not user.is_active:
        _refused(session, subject, user.id, reason="disabled")
        return LoginResult(False, "账号已停用,请联系系统管理员")
    if user.locked_until is not None and user.locked_until > current:
        minutes = int((user.locked_until - current).total_seconds() // 60) + 1
        _refused(session, subject, user.id, reason="locked")
        return LoginResult(False, f"连续登录失败次数过多,账号已锁定,请 {minutes} 分钟后再试")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= sec.lockout_failures:
            user.locked_until = current + dt.timedelta(minutes=sec.lockout_minutes)
            user.failed_logins = 0
            audit.record(
                session,
                subject,
                Action.login_locked,
                object_type="user",
                object_id=user.id,
                outcome="failure",
                after={"locked_until": user.locked_until},
            )
            return LoginResult(False, f"连续登录失败 {sec.lockout_failures} 次,账号已锁定 {sec.lockout_minutes} 分钟")
        _refused(session, subject, user.id, reason="bad_password", failures=user.failed_logins)
        left = sec.lockout_failures - user.failed_logins
        return LoginResult(False, f"{generic},再失败 {left} 次账号将被锁定")
    user.failed_logins = 0
    user.locked_until = None
    token = new_token()
    mfa = requires_mfa(user)
    user_session = UserSession(
        token_hash=token_hash(token, sec.secret_key),
        user_id=user.id,
        source_ip=context.source_ip,
        user_agent=context.user_agent[:256],
        mfa_passed=not mfa,
    )
    session.add(user_session)
    session.flush()
    _detect_concurrent_use(session, user, user_session, subject)
    audit.record(
        session,
        subject,
        Action.login_succeeded,
        object_type="user",
        object_id=user.id,
        after={"session": user_session.id, "mfa_pending": mfa},
    )
    return LoginResult(
        True,
        token=token,
        user_id=user.id,
        needs_mfa=mfa and user.totp_enabled,
        needs_mfa_enrolment=mfa and not user.totp_enabled,
        must_change_password=user.must_change_password,
    )


def _detect_concurrent_use(session: Session, user: User, fresh: UserSession, subject: Actor) -> None:
    """A36.1: an account used from another address while a live session exists raises an alert."""
    idle = dt.timedelta(minutes=get_settings().security.idle_timeout_minutes)
    current = now()
    others = [
        s
        for s in repo.live_sessions(session, user.id)
        if s.id != fresh.id and s.last_seen_at + idle > current and s.source_ip != fresh.source_ip
    ]
    if not others:
        return
    detail: dict[str, object] = {"new_ip": fresh.source_ip, "other_ips": sorted({s.source_ip for s in others})}
    session.add(LoginAlert(user_id=user.id, kind="concurrent_use", detail=detail))
    audit.record(
        session,
        subject,
        Action.concurrent_use_detected,
        object_type="user",
        object_id=user.id,
        outcome="alert",
        after=detail,
    )


def resolve_session(session: Session, token: str, context: RequestContext) -> tuple[Actor, UserSession]:
    """The Actor behind a session cookie; idle, expired, ended or disabled sessions are refused."""
    sec = get_settings().security
    found = repo.session_by_hash(session, token_hash(token, sec.secret_key))
    if found is None or found.ended_at is not None:
        raise Unauthorized("登录已失效,请重新登录", code="session_ended")
    current = now()
    if found.last_seen_at + dt.timedelta(minutes=sec.idle_timeout_minutes) < current:
        _end(session, found, "idle")
        raise Unauthorized("长时间未操作,已自动退出,请重新登录", code="session_idle")
    if found.created_at + dt.timedelta(hours=sec.session_max_hours) < current:
        _end(session, found, "expired")
        raise Unauthorized("登录已过期,请重新登录", code="session_expired")
    user = repo.user_with_roles(session, found.user_id)
    if user is None or not user.is_active:
        _end(session, found, "disabled")
        raise Unauthorized("账号已停用", code="account_disabled")
    if current - found.last_seen_at > _TOUCH_INTERVAL:
        found.last_seen_at = current
    return actor_for(user, context, session_id=found.id), found


def _end(session: Session, user_session: UserSession, reason: str) -> None:
    user_session.ended_at = now()
    user_session.end_reason = reason


def end_all_sessions(session: Session, user_id: int, reason: str, *, keep: int | None = None) -> int:
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    result = session.execute(stmt.values(ended_at=now(), end_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


def logout(session: Session, actor: Actor) -> None:
    """End the actor's current session at once."""
    if actor.session_id is None:
        return
    found = session.get(UserSession, actor.session_id)
    if found is not None and found.ended_at is None:
        _end(session, found, "logout")
        audit.record(session, actor, Action.logged_out, object_type="session", object_id=found.id)


# --- second factor -----------------------------------------------------------------------------


def start_totp_enrolment(session: Session, actor: Actor) -> str:
    """Give the person a new TOTP secret to add to an authenticator; it takes effect once confirmed."""
    user = _user(session, actor)
    secret = pyotp.random_base32()
    sec = get_settings().security
    user.totp_secret = encrypt(secret, sec.data_key, sec.crypto_profile)
    user.totp_enabled = False
    session.flush()
    return secret


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="兰州市政务数据共享交换平台")


def verify_totp(session: Session, actor: Actor, code: str) -> bool:
    """Check a six-digit code; on success the session counts as two-factor and enrolment completes."""
    user = _user(session, actor)
    if not user.totp_secret:
        raise ValidationFailed("尚未绑定动态口令", code="totp_not_enrolled")
    secret = decrypt(user.totp_secret, get_settings().security.data_key)
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        audit.record(session, actor, Action.mfa_failed, object_type="user", object_id=user.id, outcome="failure")
        return False
    if not user.totp_enabled:
        user.totp_enabled = True
        audit.record(session, actor, Action.mfa_enrolled, object_type="user", object_id=user.id)
    if actor.session_id is not None:
        found = session.get(UserSession, actor.session_id)
        if found is not None:
            found.mfa_passed = True
    session.flush()
    return True


# --- passwords ----------------------------------------------------------------------------------


def change_password(session: Session, actor: Actor, *, current: str, new: str) -> None:
    """Change one's own password; every other session of the account ends at once."""
    user = _user(session, actor)
    if not verify_password(user.password_hash, current):
        raise ValidationFailed("原密码不正确", code="wrong_password")
    check_password_policy(new, username=user.username, min_length=get_settings().security.password_min_length)
    if verify_password(user.password_hash, new):
        raise ValidationFailed("新密码不能与原密码相同", code="password_reused")
    user.password_hash = hash_password(new)
    user.password_changed_at = now()
    user.must_change_password = False
    end_all_sessions(session, user.id, "password_changed", keep=actor.session_id)
    audit.record(session, actor, Action.password_changed, object_type="user", object_id=user.id)


# --- personal API tokens -------------------------------------------------------------------------


def create_api_token(session: Session, actor: Actor, *, name: str, days: int | None = 90) -> tuple[ApiToken, str]:
    """A token for the person's own scripts; the value is shown once and stored only as a keyed hash."""
    if not name.strip():
        raise ValidationFailed("请填写令牌名称", code="token_name_required")
    if days is not None and not 1 <= days <= 366:
        raise ValidationFailed("有效期应在 1 到 366 天之间", code="token_days_invalid")
    user = _user(session, actor)
    value = API_TOKEN_PREFIX + new_token(30)
    token = ApiToken(
        user_id=user.id,
        name=name.strip()[:64],
        prefix=value[:10],
        token_hash=token_hash(value, get_settings().security.secret_key),
        expires_at=now() + dt.timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        Action.api_token_created,
        object_type="api_token",
        object_id=token.id,
        after={"name": token.name, "prefix": token.prefix, "expires_at": token.expires_at},
    )
    return token, value


def revoke_api_token(session: Session, actor: Actor, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound("令牌不存在", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = now()
        audit.record(session, actor, Action.api_token_revoked, object_type="api_token", object_id=token.id)


def resolve_api_token(session: Session, value: str, context: RequestContext) -> Actor:
    found = repo.api_token_by_hash(session, token_hash(value, get_settings().security.secret_key))
    current = now()
    if found is None or found.revoked_at is not None or (found.expires_at and found.expires_at < current):
        raise Unauthorized("API 令牌无效、已过期或已撤销", code="token_invalid")
    user = repo.user_with_roles(session, found.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("账号已停用", code="account_disabled")
    if requires_mfa(user):
        # Bureau roles must use two factors; a bare token would bypass the second one.
        raise Forbidden("该角色须双因素登录,不能使用个人 API 令牌", code="token_not_allowed_for_role")
    if found.last_used_at is None or current - found.last_used_at > _TOUCH_INTERVAL:
        found.last_used_at = current
    return actor_for(user, context)


def user_of(session: Session, actor: Actor) -> User:
    """The signed-in person's own account row."""
    return _user(session, actor)


def _user(session: Session, actor: Actor) -> User:
    if actor.user_id is None:
        raise Unauthorized("请先登录")
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("账号不存在")
    return user
