"""Sign-in pages: password, second factor, sign-out, and the home dashboard."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
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
from govshare.errors import Unauthorized
from govshare.identity import auth
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
    target = "/login/mfa" if (result.needs_mfa or result.needs_mfa_enrolment) else _safe_next(next)
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
    return render(request, "dashboard.html", dashboard_context(session, actor), actor=actor)
