"""Usage history pages (A35.1): the history with filters and keyset pages, per-X summaries, and
the link to the CSV export (served by the JSON route)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import usage
from govshare.sharing.usage_api import UsageQuery
from govshare.web.templating import render

router = APIRouter(prefix="/sharing/usage", include_in_schema=False)
UsageReader = Annotated[Actor, Depends(require(Permission.usage_read))]


def _params(query: UsageQuery) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in query.model_dump(exclude_defaults=True).items():
        if value is None or value == "":
            continue
        out[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return out


@router.get("")
def usage_page(
    request: Request,
    session: SessionDep,
    actor: UsageReader,
    query: Annotated[UsageQuery, Query()],
    before: Annotated[int | None, Query()] = None,
    after: Annotated[int | None, Query()] = None,
    by: Annotated[str, Query()] = "",
) -> Response:
    filters = query.to_filter()
    page = usage.search(session, actor, filters, before=before, after=after, limit=50)
    groups = usage.summary(session, actor, filters, by=by) if by else []
    params = _params(query)
    context: dict[str, Any] = {
        "title": "共享数据使用记录",
        "page": page,
        "q": query,
        "params": params,
        "by": by,
        "groups": groups,
        "groupings": usage.GROUPINGS,
        "kinds": usage.KIND_LABELS,
        "options": usage.filter_options(session, actor),
        "older_url": f"/sharing/usage?{urlencode(params | {'before': page.older_cursor})}" if page.older_cursor else "",
        "newer_url": f"/sharing/usage?{urlencode(params | {'after': page.newer_cursor})}" if page.newer_cursor else "",
        "latest_url": f"/sharing/usage?{urlencode(params)}",
        "export_url": f"/api/v1/sharing/usage/export.csv?{urlencode(params)}",
        "summary_urls": {k: f"/sharing/usage?{urlencode(params | {'by': k})}" for k in usage.GROUPINGS},
    }
    return render(request, "sharing/usage.html", context, actor=actor)
