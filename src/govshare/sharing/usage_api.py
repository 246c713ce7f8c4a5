"""Usage history JSON routes (A35.1) under /api/v1/sharing/usage: the list, the summaries, CSV."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator
from starlette.responses import StreamingResponse

from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import CHINA, now
from govshare.sharing import usage
from govshare.sharing.usage import UsageFilter

router = APIRouter(prefix="/sharing/usage", tags=["共享数据使用记录"])
UsageReader = Annotated[Actor, Depends(require(Permission.usage_read))]


class UsageQuery(BaseModel):
    """Filters of the usage history; days are Beijing days, both ends included."""

    since: dt.date | None = Field(None, description="起始日期(含)")
    until: dt.date | None = Field(None, description="截止日期(含)")
    resource_id: int | None = Field(None, description="信息资源")
    provider_id: int | None = Field(None, description="提供部门")
    consumer_department_id: int | None = Field(None, description="使用部门")
    consumer_system_id: int | None = Field(None, description="应用系统")
    grant_id: int | None = Field(None, description="授权")
    user_id: int | None = Field(None, description="使用人账号ID")
    kind: str = Field("", max_length=16, description="rows | export | verify | gateway | file")

    @field_validator(
        "since",
        "until",
        "resource_id",
        "provider_id",
        "consumer_department_id",
        "consumer_system_id",
        "grant_id",
        "user_id",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    def to_filter(self) -> UsageFilter:
        return UsageFilter(**self.model_dump())


class UsageRecordRead(BaseModel):
    id: int
    at: dt.datetime
    kind: str
    kind_label: str
    resource_id: int
    resource_code: str
    resource_name: str
    provider_id: int
    provider_name: str
    consumer_department_id: int
    consumer_name: str
    consumer_system_id: int | None
    system_name: str
    user_id: int | None
    user_name: str
    grant_id: int | None
    purpose: str
    data_item_ids: list[int]
    data_item_names: list[str]
    row_count: int
    request_id: str


class UsagePageRead(BaseModel):
    items: list[UsageRecordRead]
    older_cursor: int | None = Field(description="下一页(更早)请以 before=此值 请求")
    newer_cursor: int | None = Field(description="上一页(更新)请以 after=此值 请求")


class UsageGroupRead(BaseModel):
    key: int | None
    label: str
    reads: int
    rows: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None


def record_read(row: usage.UsageRow) -> UsageRecordRead:
    r = row.record
    return UsageRecordRead(
        id=r.id,
        at=r.at,
        kind=r.kind,
        kind_label=row.kind_label,
        resource_id=r.resource_id,
        resource_code=row.resource_code,
        resource_name=row.resource_name,
        provider_id=r.provider_id,
        provider_name=row.provider_name,
        consumer_department_id=r.consumer_department_id,
        consumer_name=row.consumer_name,
        consumer_system_id=r.consumer_system_id,
        system_name=row.system_name,
        user_id=r.user_id,
        user_name=row.user_name,
        grant_id=r.grant_id,
        purpose=r.purpose,
        data_item_ids=[int(i) for i in r.data_item_ids or []],
        data_item_names=row.item_names,
        row_count=r.row_count,
        request_id=r.request_id,
    )


@router.get("", response_model=UsagePageRead, summary="查询共享数据使用记录(按记录号倒序,游标分页)")
def list_usage(
    session: SessionDep,
    actor: UsageReader,
    query: Annotated[UsageQuery, Query()],
    before: Annotated[int | None, Query(description="返回记录号小于此值的记录(下一页)")] = None,
    after: Annotated[int | None, Query(description="返回记录号大于此值的记录(上一页)")] = None,
    limit: Annotated[int, Query(ge=1, le=usage.MAX_LIMIT)] = 50,
) -> UsagePageRead:
    page = usage.search(session, actor, query.to_filter(), before=before, after=after, limit=limit)
    return UsagePageRead(
        items=[record_read(r) for r in page.items], older_cursor=page.older_cursor, newer_cursor=page.newer_cursor
    )


@router.get("/summary", response_model=list[UsageGroupRead], summary="按信息资源、使用部门、授权或应用系统汇总")
def usage_summary(
    session: SessionDep,
    actor: UsageReader,
    query: Annotated[UsageQuery, Query()],
    by: Annotated[str, Query(description="resource | consumer | grant | system")] = "resource",
) -> list[UsageGroupRead]:
    groups = usage.summary(session, actor, query.to_filter(), by=by)
    return [UsageGroupRead(**vars(g)) for g in groups]


@router.get("/export.csv", summary="导出使用记录(CSV)", response_class=StreamingResponse)
def export_usage(
    request: Request, session: SessionDep, actor: UsageReader, query: Annotated[UsageQuery, Query()]
) -> StreamingResponse:
    chunks = usage.export_csv(session, actor, query.to_filter(), reader=request.app.state.db)
    name = f"usage-{now().astimezone(CHINA):%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(
        chunks, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
