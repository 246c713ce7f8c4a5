"""create_app(): routers, pages, static files and the central error rendering."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govshare import __version__
from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.config import Settings, get_settings
from govshare.db import Database
from govshare.errors import DomainError, FieldError, Forbidden, Unauthorized
from govshare.identity.actor import Actor, RequestContext
from govshare.web.templating import render

log = logging.getLogger("govshare")
STATIC_DIR = Path(__file__).resolve().parent / "static"
PROBLEM = "application/problem+json"

_HTTP_DETAILS = {404: "请求的地址不存在", 405: "不支持此请求方法", 413: "请求内容过大"}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(
    status: int, code: str, title: str, detail: str, request: Request, errors: list[FieldError] | None = None
) -> JSONResponse:
    ctx = getattr(request.state, "context", None)
    body: dict[str, Any] = {
        "type": f"urn:govshare:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    if isinstance(ctx, RequestContext):
        body["request_id"] = ctx.request_id
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _record_denial(request: Request, exc: Forbidden) -> None:
    """Denials are audited in their own transaction: the request's own was rolled back."""
    db: Database = request.app.state.db
    actor = getattr(request.state, "actor", None)
    ctx = getattr(request.state, "context", None) or RequestContext()
    if not isinstance(actor, Actor):
        actor = Actor.anonymous(ctx)
    try:
        with db.session_scope() as session:
            audit.record(
                session,
                actor,
                Action.access_denied,
                object_type="route",
                object_id=f"{request.method} {request.url.path}"[:64],
                outcome="denied",
                after={"code": exc.code, "detail": exc.detail},
            )
    except Exception:  # an audit failure must not hide the denial itself
        log.exception("could not record a denial")


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if isinstance(exc, Forbidden):
        _record_denial(request, exc)
    if _is_api(request):
        response: Response = problem(exc.status, exc.code, exc.title, exc.detail, request, exc.errors)
        response.headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After of a 429
        return response
    if isinstance(exc, Forbidden) and exc.code == "password_change_required":
        return RedirectResponse("/account?must_change=1#password", status_code=303)
    if isinstance(exc, Unauthorized):
        if exc.code == "mfa_required":
            return RedirectResponse("/login/mfa", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}&reason={exc.code}", status_code=303)
    return render(
        request, "error.html", {"title": exc.title, "detail": exc.detail, "errors": exc.errors}, status_code=exc.status
    )


_PYDANTIC_MESSAGES = {
    "missing": "必填",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "json_invalid": "JSON 格式错误",
    "bool_parsing": "应为是/否",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "value_error": "取值无效",
}


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form"))
        message = _PYDANTIC_MESSAGES.get(str(err.get("type")), "取值无效")
        if err.get("type") == "value_error" and err.get("ctx", {}).get("error"):
            message = str(err["ctx"]["error"])
        errors.append(FieldError(loc or "request", message))
    detail = "输入有误:" + ";".join(f"{e.field} {e.message}" for e in errors)
    if _is_api(request):
        return problem(422, "validation_failed", "输入有误", detail, request, errors)
    return render(request, "error.html", {"title": "输入有误", "detail": detail, "errors": errors}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = _HTTP_DETAILS.get(exc.status_code, "请求无法处理")
    if _is_api(request):
        return problem(exc.status_code, f"http_{exc.status_code}", detail, detail, request)
    return render(request, "error.html", {"title": detail, "detail": detail}, status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    detail = "服务器内部错误,已记录,请稍后重试或联系管理员"
    if _is_api(request):
        return problem(500, "internal_error", "服务器内部错误", detail, request)
    return HTMLResponse(f"<h1>服务器内部错误</h1><p>{detail}</p>", status_code=500)


_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'",
    ),
)
_CACHEABLE_PREFIXES = ("/static/", "/api/docs-assets/")


class ContextAndHeaders:
    """Gives each request its ``RequestContext`` (source IP, request id, user agent) and each response
    the request id and the security headers.

    A plain ASGI middleware rather than ``@app.middleware("http")``: that one runs every response body,
    a 1 GiB download included, through an extra task and memory stream, and costs a hot path such as
    the consumer data API measurable CPU per call.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        client = scope.get("client")
        scope.setdefault("state", {})["context"] = RequestContext(
            source_ip=client[0] if client else "",
            request_id=request_id,
            user_agent=headers.get("user-agent", "")[:256],
        )
        cacheable = str(scope.get("path", "")).startswith(_CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["X-Request-ID"] = request_id
                for name, value in _SECURITY_HEADERS:
                    out.setdefault(name, value)
                if not cacheable:
                    out.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the in-process worker (``create_app(worker=True)`` and the setting allow it), stop it at shutdown."""
    background = None
    if app.state.run_worker:
        from govshare.exchange.worker import BackgroundWorker

        background = BackgroundWorker(app.state.db).start()
    # what was loaded at start (modules, routes, templates) lives as long as the process: the cyclic
    # garbage collector need not walk it again at every full collection of a request's garbage
    gc.freeze()
    try:
        yield
    finally:
        if app.state.consumer_rows is not None:  # the consumer data API's connection pools of this event loop
            await app.state.consumer_rows.close()
        if background is not None and not await asyncio.to_thread(background.stop):
            log.warning("作业线程未在时限内结束;其作业的租约到期后由其他作业进程接管")


def create_app(settings: Settings | None = None, db: Database | None = None, *, worker: bool = False) -> FastAPI:
    """The application. ``worker=True`` (the ASGI entry point ``govshare.asgi``) runs the worker loop in
    a thread of the server when ``exchange.worker.runs_in_process`` allows (by default on SQLite)."""
    settings = settings or get_settings()
    from govshare.sharing.consumer_api import CONSUMER_TAG, CONSUMER_TAG_DOC

    app = FastAPI(
        lifespan=_lifespan,
        title="兰州市政务数据共享交换平台 API",
        version=__version__,
        description="govshare 的 JSON 接口。个人脚本使用个人 API 令牌(Bearer)调用;错误以 problem+json 返回。",
        openapi_tags=[{"name": CONSUMER_TAG, "description": CONSUMER_TAG_DOC}],
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.effective_database_url)
    from govshare.sharing.consumer_rows import ConsumerRowsPath

    # the consumer data API's asynchronous path, where it applies (PostgreSQL); its pools open at first use
    app.state.consumer_rows = ConsumerRowsPath(app.state.db) if ConsumerRowsPath.applies(app.state.db) else None
    if worker:
        from govshare.exchange.worker import runs_in_process

        worker = runs_in_process(settings)
    app.state.run_worker = worker

    app.add_middleware(ContextAndHeaders)

    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/api/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(
            """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>接口文档</title>
<link rel="stylesheet" href="/api/docs-assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/api/docs-assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});</script></body></html>"""
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from govshare.routes import include_all

    include_all(app)
    return app
