"""Pages where people of a consumer department read and export shared data (``shared_data_read``).

The same rules as the consumer API (``sharing.data``): granted 信息项 only, masked, filters and
sorting on granted unmasked 信息项, keyset pages. Each page view leaves an access record (kind
``rows``) and each export one of kind ``export``, committed before the data is sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from govshare.deps import SessionDep, require
from govshare.errors import DomainError, Forbidden
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import data, export
from govshare.sharing.data import Reader
from govshare.web.templating import render

router = APIRouter(prefix="/sharing/data", include_in_schema=False)
DataReader = Annotated[Actor, Depends(require(Permission.shared_data_read))]
_PAGE_PARAMS = frozenset({"code", "format", "q"})


def _reader(actor: Actor) -> Reader:
    if actor.department_id is None:
        raise Forbidden("只有部门工作人员可以读取共享数据", code="no_department")
    return Reader(actor=actor, department_id=actor.department_id, user_id=actor.user_id)


def _pairs(request: Request) -> list[tuple[str, str]]:
    """The query pairs the rows service reads; empty filter fields of the form are left out."""
    return [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in _PAGE_PARAMS and (v.strip() or k in ("grant_id",)) and not (k.startswith("i") and not v.strip())
    ]


@router.get("")
def sources(request: Request, session: SessionDep, actor: DataReader, q: str = "") -> Response:
    found = data.readable_sources(session, _reader(actor), q=q[:100])
    return render(request, "sharing/data/sources.html", {"sources": found, "q": q}, actor=actor)


@router.get("/view")
def view(request: Request, session: SessionDep, actor: DataReader, code: str = "") -> Response:
    params = dict(_pairs(request))
    try:
        query, grant_id, purpose = data.rows_query(_pairs(request))
        page = data.read_rows(
            session, _reader(actor), resource_code=code, grant_id=grant_id, query=query, purpose=purpose
        )
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        session.rollback()
        return render(
            request,
            "sharing/data/view.html",
            {"page": None, "code": code, "params": params, "detail": exc.detail, "errors": exc.errors},
            actor=actor,
            status_code=exc.status,
        )
    session.commit()  # the access record is durable before the rows are shown
    return render(
        request,
        "sharing/data/view.html",
        {"page": page, "code": code, "params": params, "detail": "", "errors": []},
        actor=actor,
    )


@router.get("/export")
def download(request: Request, session: SessionDep, actor: DataReader, code: str = "", format: str = "csv") -> Response:
    query, grant_id, purpose = data.rows_query([(k, v) for k, v in _pairs(request) if k not in ("after", "limit")])
    result = export.export_rows(
        session, _reader(actor), resource_code=code, grant_id=grant_id, query=query, fmt=format, purpose=purpose
    )
    session.commit()  # recorded before the first byte leaves
    body = export.stream_csv(result) if format == "csv" else export.stream_xlsx(result)
    return StreamingResponse(
        body,
        media_type=export.FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )
