"""Catalog Excel JSON routes: import a department's drafts, export the readable catalog, the blank template."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi import status as http_status
from pydantic import BaseModel
from starlette.responses import StreamingResponse

from govshare.catalog import excel
from govshare.catalog.enums import Channel, ResourceStatus, ShareType
from govshare.catalog.excel_format import XLSX_MEDIA_TYPE
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import today

router = APIRouter(prefix="/catalog", tags=["资源目录"])
Importer = Annotated[Actor, Depends(require(Permission.catalog_import))]
Exporter = Annotated[Actor, Depends(require(Permission.catalog_export))]
SPOOL_BYTES = 8 * 1024 * 1024  # an export larger than this is spooled to a temporary file


class ImportResultRead(BaseModel):
    mode: str
    count: int
    codes: list[str]
    created_departments: list[str]
    notes: list[str]


@router.post(
    "/import",
    response_model=ImportResultRead,
    status_code=http_status.HTTP_201_CREATED,
    summary="导入本部门目录(Excel,国家目录模板)",
    description="上传“信息资源”“信息项”两张表的 .xlsx 文件,全部行作为本部门草稿导入;"
    "任何一行有误则不导入任何数据,错误逐条列出所在行(row)与列(field)。",
)
def import_catalog(
    session: SessionDep, actor: Importer, file: Annotated[UploadFile, File(description=".xlsx 文件")]
) -> ImportResultRead:
    result = excel.import_for_department(session, actor, file.file, filename=file.filename or "")
    return ImportResultRead(
        mode=result.mode.value,
        count=result.count,
        codes=result.codes,
        created_departments=result.created_departments,
        notes=result.notes,
    )


@router.get(
    "/export",
    summary="导出目录(Excel,国家目录模板)",
    description="导出当前账号可见的信息资源及其信息项,筛选条件与目录列表相同。",
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
def export_catalog(
    session: SessionDep,
    actor: Exporter,
    classification: Annotated[str | None, Query(max_length=16, description="分类码,含下级分类")] = None,
    topic_id: int | None = None,
    provider_id: int | None = None,
    share_type: ShareType | None = None,
    channel: Channel | None = None,
    status: ResourceStatus | None = None,
) -> StreamingResponse:
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by the stream
    filters = excel.ExportFilters(
        classification=classification,
        topic_id=topic_id,
        provider_id=provider_id,
        share_type=share_type,
        channel=channel,
        status=status,
    )
    try:
        excel.export_catalog(session, actor, out, filters=filters)
    except BaseException:
        out.close()
        raise
    return _xlsx(out, f"政务信息资源目录-{today():%Y%m%d}.xlsx")


@router.get(
    "/import/template",
    summary="下载空白导入模板(Excel)",
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
def import_template(session: SessionDep, actor: Importer) -> StreamingResponse:
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by the stream
    excel.write_template(session, out)
    return _xlsx(out, "政务信息资源目录导入模板.xlsx")


def _xlsx(out: IO[bytes], filename: str) -> StreamingResponse:
    out.seek(0)
    disposition = f"attachment; filename=\"catalog.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return StreamingResponse(_chunks(out), media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": disposition})


def _chunks(out: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := out.read(64 * 1024):
            yield chunk
    finally:
        out.close()
