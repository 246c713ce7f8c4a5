"""Rendering pages: one Jinja2 environment, and the context every page gets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from govshare.config import get_settings
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


def redirect(url: str, message: str | None = None, kind: str = "success") -> Response:
    """303 to ``url``, carrying an optional one-shot message."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, message, kind)
    return response
