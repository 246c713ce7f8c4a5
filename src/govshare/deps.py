"""Route dependencies: the request's database session, the acting person, and permissions.

``require(Permission.X)`` is the only way a route gets an actor; the route-inventory test fails for
any route that neither declares one nor is on the reviewed public list in ``web/public.py``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from govshare.db import Database
from govshare.errors import Forbidden, Unauthorized
from govshare.identity import auth
from govshare.identity.actor import Actor, RequestContext
from govshare.identity.permissions import Permission
from govshare.web.csrf import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, csrf_valid

SESSION_COOKIE = "gs_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_context(request: Request) -> RequestContext:
    ctx = getattr(request.state, "context", None)
    if isinstance(ctx, RequestContext):
        return ctx
    return RequestContext(source_ip=request.client.host if request.client else "")


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    db: Database = request.app.state.db
    with db.session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def _check_csrf(request: Request) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else ""
    if not (cookie and sent and hmac.compare_digest(cookie, sent) and csrf_valid(cookie)):
        raise Forbidden("表单已过期或来源不明(CSRF 校验失败),请刷新页面后重试", code="csrf_failed")


async def authenticate(request: Request, session: Session, *, allow_mfa_pending: bool = False) -> Actor:
    """The actor of a request: a personal API token (Bearer) or a session cookie with CSRF."""
    context = request_context(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor = auth.resolve_api_token(session, header[7:].strip(), context)
        request.state.actor = actor
        return actor
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("请先登录", code="not_signed_in")
    actor, user_session = auth.resolve_session(session, token, context)
    if not user_session.mfa_passed and not allow_mfa_pending:
        raise Unauthorized("请先完成动态口令验证", code="mfa_required")
    if request.method not in SAFE_METHODS:
        await _check_csrf(request)
    request.state.actor = actor
    return actor


def require(permission: Permission) -> Callable[..., Any]:
    """A dependency giving the signed-in actor, refused (403, audited) without ``permission``."""

    async def dependency(request: Request, session: SessionDep) -> Actor:
        actor = await authenticate(request, session)
        actor.require(permission)
        return actor

    dependency.__permission__ = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission.name}"
    return dependency


def signed_in_pending_mfa() -> Callable[..., Any]:
    """For the second-factor pages only: a person who passed the password but not yet the code."""

    async def dependency(request: Request, session: SessionDep) -> Actor:
        return await authenticate(request, session, allow_mfa_pending=True)

    dependency.__permission__ = "mfa_pending"  # type: ignore[attr-defined]
    return dependency


async def check_public_form_csrf(request: Request) -> None:
    """CSRF for the public forms that have no session yet (login)."""
    await _check_csrf(request)
