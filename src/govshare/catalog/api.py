"""Catalog JSON routes: resources, 保密审查, the review workflow, versions and classifications.

Each route translates one request into one service call; rules and visibility live in the service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import status as http_status

from govshare.catalog import diff as catalog_diff
from govshare.catalog import service
from govshare.catalog.enums import Channel, ResourceStatus, ShareType
from govshare.catalog.schemas import (
    ClassificationRead,
    ConfidentialityReviewIn,
    ConfidentialityReviewRead,
    ResourceCreate,
    ResourcePage,
    ResourceRead,
    ResourceUpdate,
    ResourceVersionRead,
    ResourceVersionSummary,
    ReviewDecisionIn,
    ReviewDecisionRead,
    ReviewQueueItem,
    SubmitIn,
    WithdrawIn,
)
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

router = APIRouter(prefix="/catalog", tags=["资源目录"])
Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Compiler = Annotated[Actor, Depends(require(Permission.catalog_compile))]
Reviewer = Annotated[Actor, Depends(require(Permission.catalog_review))]


@router.get("/resources", response_model=ResourcePage, summary="信息资源列表")
def list_resources(
    session: SessionDep,
    actor: Reader,
    classification: Annotated[str | None, Query(max_length=16, description="分类码,含下级分类")] = None,
    topic_id: int | None = None,
    provider_id: int | None = None,
    share_type: ShareType | None = None,
    channel: Channel | None = None,
    status: ResourceStatus | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ResourcePage:
    return service.list_resources(
        session,
        actor,
        classification=classification,
        topic_id=topic_id,
        provider_id=provider_id,
        share_type=share_type,
        channel=channel,
        status=status,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/resources", response_model=ResourceRead, status_code=http_status.HTTP_201_CREATED, summary="编制信息资源"
)
def create_resource(body: ResourceCreate, session: SessionDep, actor: Compiler) -> ResourceRead:
    return ResourceRead.model_validate(service.create_resource(session, actor, body))


@router.get("/resources/{resource_id}", response_model=ResourceRead, summary="信息资源详情")
def get_resource(resource_id: int, session: SessionDep, actor: Reader) -> ResourceRead:
    return ResourceRead.model_validate(service.get_resource(session, actor, resource_id))


@router.put("/resources/{resource_id}", response_model=ResourceRead, summary="修改信息资源(草稿或退回时)")
def update_resource(resource_id: int, body: ResourceUpdate, session: SessionDep, actor: Compiler) -> ResourceRead:
    return ResourceRead.model_validate(service.update_resource(session, actor, resource_id, body))


@router.get(
    "/resources/{resource_id}/confidentiality-reviews",
    response_model=list[ConfidentialityReviewRead],
    summary="保密审查记录",
)
def list_confidentiality_reviews(
    resource_id: int, session: SessionDep, actor: Reader
) -> list[ConfidentialityReviewRead]:
    rows = service.confidentiality_reviews(session, actor, resource_id)
    return [ConfidentialityReviewRead.model_validate(r) for r in rows]


@router.post(
    "/resources/{resource_id}/confidentiality-review",
    response_model=ConfidentialityReviewRead,
    status_code=http_status.HTTP_201_CREATED,
    summary="记录保密审查",
)
def record_confidentiality_review(
    resource_id: int, body: ConfidentialityReviewIn, session: SessionDep, actor: Compiler
) -> ConfidentialityReviewRead:
    review = service.record_confidentiality_review(session, actor, resource_id, body)
    return ConfidentialityReviewRead.model_validate(review)


@router.post("/resources/{resource_id}/submit", response_model=ResourceRead, summary="报送审核")
def submit(resource_id: int, session: SessionDep, actor: Compiler, body: SubmitIn | None = None) -> ResourceRead:
    expected = body.expected_version if body else None
    return ResourceRead.model_validate(service.submit(session, actor, resource_id, expected_version=expected))


@router.post("/resources/{resource_id}/decision", response_model=ResourceRead, summary="审核:通过发布或退回")
def decide(resource_id: int, body: ReviewDecisionIn, session: SessionDep, actor: Reviewer) -> ResourceRead:
    return ResourceRead.model_validate(service.decide(session, actor, resource_id, body))


@router.get("/resources/{resource_id}/decisions", response_model=list[ReviewDecisionRead], summary="审核意见与撤销记录")
def list_decisions(resource_id: int, session: SessionDep, actor: Reader) -> list[ReviewDecisionRead]:
    return [ReviewDecisionRead.model_validate(d) for d in service.review_decisions(session, actor, resource_id)]


@router.post("/resources/{resource_id}/withdraw", response_model=ResourceRead, summary="撤销已发布资源")
def withdraw(resource_id: int, body: WithdrawIn, session: SessionDep, actor: Reviewer) -> ResourceRead:
    resource = service.withdraw(session, actor, resource_id, reason=body.reason, expected_version=body.expected_version)
    return ResourceRead.model_validate(resource)


@router.get("/resources/{resource_id}/versions", response_model=list[ResourceVersionSummary], summary="历史版本")
def list_versions(resource_id: int, session: SessionDep, actor: Reader) -> list[ResourceVersionSummary]:
    return [ResourceVersionSummary.model_validate(v) for v in service.list_versions(session, actor, resource_id)]


@router.get("/resources/{resource_id}/versions/{number}", response_model=ResourceVersionRead, summary="某一版本的内容")
def get_version(resource_id: int, number: int, session: SessionDep, actor: Reader) -> ResourceVersionRead:
    return ResourceVersionRead.model_validate(service.get_version(session, actor, resource_id, number))


@router.get("/resources/{resource_id}/diff", response_model=catalog_diff.ResourceDiff, summary="版本比较")
def diff(
    resource_id: int,
    session: SessionDep,
    actor: Reader,
    a: Annotated[str, Query(description="版本号,或 working 表示当前工作稿")],
    b: Annotated[str, Query(description="版本号,或 working 表示当前工作稿")] = "working",
) -> catalog_diff.ResourceDiff:
    return catalog_diff.diff(session, actor, resource_id, catalog_diff.parse_ref(a), catalog_diff.parse_ref(b))


@router.get("/reviews", response_model=list[ReviewQueueItem], summary="待我审核的目录")
def review_queue(session: SessionDep, actor: Reviewer) -> list[ReviewQueueItem]:
    return [ReviewQueueItem.model_validate(r) for r in service.review_queue(session, actor)]


@router.get("/classifications", response_model=list[ClassificationRead], summary="信息资源分类")
def classifications(session: SessionDep, actor: Reader) -> list[ClassificationRead]:
    return [ClassificationRead.model_validate(c) for c in service.list_classifications(session)]
