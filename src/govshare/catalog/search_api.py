"""Catalog search: the JSON route GET /api/v1/catalog/search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from govshare.catalog import search as search_service
from govshare.catalog.enums import Channel, ResourceStatus, ShareType
from govshare.catalog.schemas import ResourcePage
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

router = APIRouter(prefix="/catalog", tags=["目录检索"])

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]


@router.get(
    "/search",
    response_model=ResourcePage,
    summary="按中文词检索目录",
    description=(
        "按名称、代码、摘要、应用场景、提供方和信息项名称检索(两字词如“人口”“社保”即可命中,多个词须同时命中);"
        "名称命中者在前,其次代码命中,其余在后;同组内新资源在前。"
        f"total 最多计到 {search_service.COUNT_CAP}(不少于此数时即“{search_service.COUNT_CAP}+”),has_next 始终准确。"
    ),
)
def search_catalog(
    session: SessionDep,
    actor: Reader,
    q: Annotated[str, Query(max_length=search_service.MAX_QUERY_LENGTH, description="检索词")] = "",
    classification: Annotated[str | None, Query(description="分类码(类/项/目/细目),含其下级")] = None,
    topic_id: Annotated[int | None, Query(description="主题")] = None,
    provider_id: Annotated[int | None, Query(description="提供部门")] = None,
    share_type: Annotated[ShareType | None, Query(description="共享类型")] = None,
    channel: Annotated[Channel | None, Query(description="共享方式")] = None,
    status: Annotated[ResourceStatus | None, Query(description="状态")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=search_service.MAX_PAGE_SIZE)] = 20,
) -> ResourcePage:
    return search_service.search(
        session,
        actor,
        q=q,
        classification=classification,
        topic_id=topic_id,
        provider_id=provider_id,
        share_type=share_type,
        channel=channel,
        status=status,
        page=page,
        page_size=page_size,
    )
