"""Audit trail JSON routes, for auditors only (A40.1). Nothing here writes a record except the
services' own ``record()`` of the export and the verification: the trail cannot be changed through
the platform."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from govshare.audit import export, service
from govshare.audit.schemas import AuditPageRead, AuditQuery, AuditRecordRead, FindingRead, VerifyRead
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import CHINA, now

router = APIRouter(prefix="/audit", tags=["审计日志"])
Auditor = Annotated[Actor, Depends(require(Permission.audit_read))]


@router.get("/records", response_model=AuditPageRead, summary="查询审计记录(按序号倒序,游标分页)")
def list_records(
    session: SessionDep,
    actor: Auditor,
    query: Annotated[AuditQuery, Query()],
    before: Annotated[int | None, Query(description="返回序号小于此值的记录(下一页)")] = None,
    after: Annotated[int | None, Query(description="返回序号大于此值的记录(上一页)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPageRead:
    found = service.search_records(session, actor, query.to_filter(), before=before, after=after, limit=limit)
    return AuditPageRead(
        items=[AuditRecordRead.model_validate(r) for r in found.items],
        older_cursor=found.older_cursor,
        newer_cursor=found.newer_cursor,
    )


@router.get("/records/{record_id}", response_model=AuditRecordRead, summary="审计记录详情")
def get_record(record_id: int, session: SessionDep, actor: Auditor) -> AuditRecordRead:
    return AuditRecordRead.model_validate(service.get_record(session, actor, record_id).record)


@router.post("/verify", response_model=VerifyRead, summary="校验哈希链")
def verify(session: SessionDep, actor: Auditor) -> VerifyRead:
    result = service.verify_trail(session, actor)
    finding = result.finding
    return VerifyRead(
        ok=result.ok,
        checked=result.checked,
        finding=None if finding is None else FindingRead.model_validate(finding, from_attributes=True),
        message=f"哈希链完整,共校验 {result.checked} 条记录" if finding is None else finding.message,
    )


@router.get("/export.csv", summary="导出审计记录(CSV)", response_class=StreamingResponse)
def export_csv(
    request: Request, session: SessionDep, actor: Auditor, query: Annotated[AuditQuery, Query()]
) -> StreamingResponse:
    chunks = export.export_csv(session, actor, query.to_filter(), reader=request.app.state.db)
    name = f"audit-{now().astimezone(CHINA):%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(
        chunks, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
