"""Sign-in pages: password, second factor, sign-out, the home dashboard, and the person's own account."""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.config import get_settings
from govshare.deps import (
    SESSION_COOKIE,
    SessionDep,
    check_public_form_csrf,
    request_context,
    require,
    signed_in_pending_mfa,
)
from govshare.errors import FieldError, Unauthorized, ValidationFailed
from govshare.identity import auth, service
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

_REASONS = {
    "session_idle": "长时间未操作,已自动退出,请重新登录",
    "session_ended": "登录已失效,请重新登录",
    "session_expired": "登录已过期,请重新登录",
    "account_disabled": "账号已停用",
}


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/", reason: str = "") -> Response:
    return render(request, "identity/login.html", {"next": _safe_next(next), "error": _REASONS.get(reason, "")})


@router.post("/login", dependencies=[Depends(check_public_form_csrf)])
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    result = auth.login(session, request_context(request), username, password)
    if not result.ok:
        session.commit()  # the failure count and its audit record must survive the refusal
        return render(
            request,
            "identity/login.html",
            {"next": _safe_next(next), "error": result.message, "username": username},
            status_code=401,
        )
    target = _safe_next(next)
    if result.must_change_password:
        target = ACCOUNT_MUST_CHANGE
    if result.needs_mfa or result.needs_mfa_enrolment:
        target = "/login/mfa"
    response = redirect(target)
    sec = get_settings().security
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="lax",
        secure=sec.secure_cookies,
        max_age=sec.session_max_hours * 3600,
    )
    return response


MfaActor = Annotated[Actor, Depends(signed_in_pending_mfa())]


def _enrolment(session: SessionDep, actor: Actor) -> dict[str, str]:
    secret = auth.start_totp_enrolment(session, actor)
    uri = auth.totp_uri(secret, actor.username)
    return {"secret": secret, "qr_svg": segno.make(uri, error="m").svg_inline(scale=4)}


@router.get("/login/mfa")
def mfa_form(request: Request, session: SessionDep, actor: MfaActor) -> Response:
    user = auth.user_of(session, actor)
    context: dict[str, object] = {"enrolled": user.totp_enabled}
    if not user.totp_enabled:
        context |= _enrolment(session, actor)
    return render(request, "identity/mfa.html", context, actor=actor)


@router.post("/login/mfa")
def mfa_submit(request: Request, session: SessionDep, actor: MfaActor, code: Annotated[str, Form()] = "") -> Response:
    if auth.verify_totp(session, actor, code):
        return redirect("/", "登录成功")
    session.commit()
    user = auth.user_of(session, actor)
    return render(
        request,
        "identity/mfa.html",
        {"enrolled": user.totp_enabled, "error": "动态口令不正确或已过期", "secret": "", "qr_svg": ""},
        actor=actor,
        status_code=401,
    )


@router.post("/logout")
def logout(session: SessionDep, actor: Annotated[Actor, Depends(require(Permission.own_account))]) -> Response:
    auth.logout(session, actor)
    response = redirect("/login", "已安全退出")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(request: Request, session: SessionDep) -> Response:
    from govshare.deps import authenticate
    from govshare.web.dashboard import dashboard_context

    try:
        actor = await authenticate(request, session)
    except Unauthorized as exc:
        if exc.code == "mfa_required":
            return redirect("/login/mfa")
        return redirect("/login")
    if service.must_change_password(session, actor):
        return redirect(ACCOUNT_MUST_CHANGE)
    return render(request, "dashboard.html", dashboard_context(session, actor), actor=actor)


# --- the person's own account (A36.1) -------------------------------------------------------------

ACCOUNT_MUST_CHANGE = "/account?must_change=1#password"
Me = Annotated[Actor, Depends(require(Permission.own_account))]


def _account_page(
    request: Request, session: Session, actor: Actor, *, status_code: int = 200, **extra: Any
) -> Response:
    overview = service.account_overview(session, actor)
    return render(request, "identity/account.html", {"o": overview, **extra}, actor=actor, status_code=status_code)


@router.get("/account")
def account_page(request: Request, session: SessionDep, actor: Me, must_change: str = "") -> Response:
    return _account_page(request, session, actor, must_change=bool(must_change))


@router.post("/account/password")
def account_password(
    request: Request,
    session: SessionDep,
    actor: Me,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
) -> Response:
    try:
        if new_password != confirm_password:
            raise ValidationFailed(
                "两次输入的新密码不一致", errors=[FieldError("confirm_password", "两次输入的新密码不一致")]
            )
        auth.change_password(session, actor, current=current_password, new=new_password)
    except ValidationFailed as exc:
        session.rollback()
        return _account_page(
            request, session, actor, form="password", error=exc.detail, errors=exc.errors, status_code=422
        )
    return redirect("/account", "密码已修改;该账号的其他登录会话已结束")


@router.post("/account/tokens")
def account_token_create(
    request: Request,
    session: SessionDep,
    actor: Me,
    name: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "90",
) -> Response:
    try:
        if not days.strip().isdigit():
            raise ValidationFailed("有效期应为天数", errors=[FieldError("days", "应为整数")])
        token, value = auth.create_api_token(session, actor, name=name, days=int(days))
    except ValidationFailed as exc:
        session.rollback()
        return _account_page(
            request, session, actor, form="token", error=exc.detail, errors=exc.errors, status_code=422
        )
    return _account_page(request, session, actor, new_token=token, new_token_value=value, status_code=201)


@router.post("/account/tokens/{token_id}/revoke")
def account_token_revoke(token_id: int, session: SessionDep, actor: Me) -> Response:
    auth.revoke_api_token(session, actor, token_id)
    return redirect("/account#tokens", "令牌已撤销")


@router.get("/account/totp")
def account_totp_page(request: Request, session: SessionDep, actor: Me) -> Response:
    secret = service.begin_totp_enrolment(session, actor)
    context: dict[str, object] = {"enrolled": secret is None}
    if secret is not None:
        uri = auth.totp_uri(secret, actor.username)
        context |= {"secret": secret, "qr_svg": segno.make(uri, error="m").svg_inline(scale=4)}
    return render(request, "identity/account_totp.html", context, actor=actor)


@router.post("/account/totp")
def account_totp_submit(
    request: Request, session: SessionDep, actor: Me, code: Annotated[str, Form()] = ""
) -> Response:
    if auth.verify_totp(session, actor, code):
        return redirect("/account", "动态口令已绑定,今后登录须输入动态口令")
    session.commit()  # the failed attempt stays on record
    return render(
        request,
        "identity/account_totp.html",
        {"error": "动态口令不正确或已过期,请核对身份验证器后重试", "enrolled": False},
        actor=actor,
        status_code=422,
    )
