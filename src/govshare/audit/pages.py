"""Audit trail pages for the auditor (A31.2, A40.1): search with filters and keyset pages, a record's
before/after, CSV export (served by the JSON route), and the hash-chain check; plus the auditor's
dashboard panel. The system administrator holds no ``audit:read`` and cannot open any of them."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.audit import service
from govshare.audit.actions import Action
from govshare.audit.schemas import OUTCOMES, AuditQuery
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.dashboard import Panel, register_panels
from govshare.web.templating import render

router = APIRouter(include_in_schema=False)
Auditor = Annotated[Actor, Depends(require(Permission.audit_read))]

_ACTION_LABELS = {
    str(Action.access_denied): "拒绝访问",
    str(Action.login_failed): "登录失败",
    str(Action.login_locked): "账号锁定",
    str(Action.mfa_failed): "动态口令错误",
}


def _query_string(query: AuditQuery) -> dict[str, str]:
    values = query.model_dump(exclude_defaults=True)
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        out[key] = value.strftime("%Y-%m-%dT%H:%M") if hasattr(value, "strftime") else str(value)
    return out


@router.get("/audit")
def records_page(
    request: Request,
    session: SessionDep,
    actor: Auditor,
    query: Annotated[AuditQuery, Query()],
    before: Annotated[int | None, Query()] = None,
    after: Annotated[int | None, Query()] = None,
) -> Response:
    found = service.search_records(session, actor, query.to_filter(), before=before, after=after, limit=50)
    params = _query_string(query)
    context: dict[str, Any] = {
        "found": found,
        "q": query,
        "params": params,
        "older_url": f"/audit?{urlencode(params | {'before': found.older_cursor})}" if found.older_cursor else "",
        "newer_url": f"/audit?{urlencode(params | {'after': found.newer_cursor})}" if found.newer_cursor else "",
        "latest_url": f"/audit?{urlencode(params)}",
        "export_url": f"/api/v1/audit/export.csv?{urlencode(params)}",
        "outcomes": OUTCOMES,
    }
    return render(request, "audit/list.html", context, actor=actor)


@router.get("/audit/records/{record_id}")
def record_page(request: Request, record_id: int, session: SessionDep, actor: Auditor) -> Response:
    detail = service.get_record(session, actor, record_id)
    rec = detail.record
    keys = sorted(set(rec.before or {}) | set(rec.after or {}))
    return render(
        request,
        "audit/record.html",
        {"d": detail, "r": rec, "keys": keys, "outcomes": OUTCOMES},
        actor=actor,
    )


@router.post("/audit/verify")
def verify_page(request: Request, session: SessionDep, actor: Auditor) -> Response:
    result = service.verify_trail(session, actor)
    return render(request, "audit/verify.html", {"result": result}, actor=actor)


@register_panels
def auditor_panels(session: Session, actor: Actor) -> list[Panel]:
    """For the auditor: denials and failed sign-ins of the last seven days."""
    if not actor.can(Permission.audit_read):
        return []
    summary = service.security_summary(session, actor, days=7, limit=5)
    return [
        Panel(
            title="近 7 日拒绝访问与登录失败",
            count=summary.count,
            link="/audit?" + urlencode({"outcome": "denied"}),
            lines=[
                (
                    f"{_ACTION_LABELS.get(r.action, r.action)} · {r.actor_name} · {r.object_type} {r.object_id}",
                    f"/audit/records/{r.id}",
                )
                for r in summary.recent
            ],
            tone="late" if summary.count else "",
        )
    ]
