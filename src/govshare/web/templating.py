"""Rendering pages: one Jinja2 environment, and the context every page gets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from govshare.config import get_settings
from govshare.errors import DomainError, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import CHINA
from govshare.web.csrf import CSRF_COOKIE, csrf_valid, new_csrf_token
from govshare.web.flash import FLASH_COOKIE, flash, pop_flash

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(CHINA).strftime(fmt)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


templates.env.filters["local"] = _local
templates.env.filters["cdate"] = _date
templates.env.globals["P"] = Permission


def _csrf_for(request: Request) -> tuple[str, bool]:
    existing = request.cookies.get(CSRF_COOKIE, "")
    if existing and csrf_valid(existing):
        return existing, False
    return new_csrf_token(), True


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with the actor, CSRF token and any flash message."""
    token, fresh = _csrf_for(request)
    page: dict[str, Any] = {
        "request": request,
        "actor": actor if actor is not None else getattr(request.state, "actor", None),
        "csrf_token": token,
        "flash": pop_flash(request),
        "settings": get_settings(),
    }
    page.update(context or {})
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    if fresh:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=False, samesite="strict", secure=get_settings().security.secure_cookies
        )
    if getattr(request.state, "flash_consumed", False):
        response.delete_cookie(FLASH_COOKIE)
    return response


def error_status(error: DomainError | None) -> int:
    """The status of a page shown afresh (200) or shown again with a refusal: 422 for bad input, the
    error's own status otherwise."""
    if error is None:
        return 200
    return 422 if isinstance(error, ValidationFailed) else error.status


def render_form(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    actor: Actor,
    error: DomainError | None = None,
    which: str = "",
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page with forms, afresh or again after a refusal: the context gets ``error``, ``which``
    (the form the refusal belongs to) and ``form`` (the values typed), and the status follows the error."""
    page = {**context, "error": error, "which": which, "form": form or {}}
    return render(request, template, page, actor=actor, status_code=error_status(error))


def redirect(url: str, message: str | None = None, kind: str = "success") -> Response:
    """303 to ``url``, carrying an optional one-shot message."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, message, kind)
    return response
