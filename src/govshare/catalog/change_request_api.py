"""Catalog change requests (article 17): JSON routes under /api/v1/catalog/change-requests.

The input schemas forbid unknown fields: a department cannot send its own due date (or any other
clock) along with a request, the platform computes every date (A17.2).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from govshare.catalog import change_requests as service
from govshare.catalog.change_requests import ListScope
from govshare.catalog.enums import ChangeRequestStatus, ChangeTrigger, ExtensionStatus
from govshare.catalog.models import ChangeRequest
from govshare.catalog.schemas import ResourceFields
from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.api_helpers import ClockRead, StrictInput, read_model

router = APIRouter(prefix="/catalog/change-requests", tags=["目录变更申请"])

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Filer = Annotated[Actor, Depends(require(Permission.change_request_file))]
Decider = Annotated[Actor, Depends(require(Permission.change_request_decide))]


class ChangeRequestOpen(StrictInput):
    resource_id: int = Field(description="已发布的本部门信息资源")
    trigger: ChangeTrigger = Field(
        description="变更原因:law 法律法规调整 / reorganisation 机构改革 / duty 法定职责变化"
    )
    trigger_date: dt.date = Field(description="变化之日;报送期限自此起算 10 个工作日")
    trigger_description: str = Field(min_length=1, max_length=4000, description="变化情况说明")
    reason: str = Field("", max_length=4000, description="变更理由")


class ProposedUpdate(StrictInput):
    proposed: ResourceFields = Field(description="拟变更后的目录内容")
    reason: str | None = Field(None, max_length=4000)
    expected_version: int | None = Field(None, description="乐观锁:编辑时看到的版本号")


class FileIn(StrictInput):
    proposed: ResourceFields | None = Field(None, description="拟变更内容;省略时报送已保存的拟变更内容")
    expected_version: int | None = None


class ExtensionRequestIn(StrictInput):
    days: int = Field(ge=1, le=service.MAX_EXTENSION_DAYS, description="申请延长的工作日数(1–20)")
    reason: str = Field(min_length=1, max_length=4000, description="需要延期的特殊原因")
    expected_version: int | None = None


class ExtensionDecisionIn(StrictInput):
    decision: Literal["granted", "refused"]
    days: int | None = Field(None, ge=1, le=service.MAX_EXTENSION_DAYS, description="同意延长的工作日数,默认按申请")
    comment: str = Field("", max_length=4000, description="意见(不同意时必填)")
    expected_version: int | None = None


class DecisionIn(StrictInput):
    decision: Literal["approved", "rejected"]
    comment: str = Field("", max_length=4000, description="审核意见(不同意时必填)")
    expected_version: int | None = None


class ChangeRequestRead(BaseModel):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    department_id: int
    department_name: str
    authority_region_id: int
    trigger: ChangeTrigger
    trigger_date: dt.date
    trigger_description: str
    reason: str
    status: ChangeRequestStatus
    filing_due: dt.date
    filing_due_provisional: bool
    filing_due_original: dt.date | None
    filing_clock: ClockRead
    extension_status: ExtensionStatus
    extension_days: int
    extension_reason: str
    extension_comment: str
    extension_decided_at: dt.datetime | None
    filed_at: dt.datetime | None
    filed_on: dt.date | None
    filed_late: bool
    decision_due: dt.date | None
    decision_due_provisional: bool
    decision_clock: ClockRead | None
    decided_at: dt.datetime | None
    decided_on: dt.date | None
    decided_late: bool
    decision_comment: str
    created_at: dt.datetime
    version: int


class ChangeRequestDetail(ChangeRequestRead):
    proposed: dict[str, object]


def _read(row: service.ChangeRequestRow) -> ChangeRequestRead:
    cr = row.request
    filing = ClockRead.of(row.filing_clock)
    assert filing is not None
    return read_model(
        ChangeRequestRead,
        cr,
        resource_code=row.resource.code,
        resource_name=row.resource.name,
        department_name=row.department.name,
        filing_clock=filing,
        decision_clock=ClockRead.of(row.decision_clock),
    )


def _detail(view: service.ChangeRequestRow) -> ChangeRequestDetail:
    return ChangeRequestDetail(**_read(view).model_dump(), proposed=dict(view.request.proposed))


def _done(session: SessionDep, cr: ChangeRequest) -> ChangeRequestDetail:
    """The response to a change: the request as it now stands."""
    return _detail(service.present(session, cr))


@router.get("", response_model=list[ChangeRequestRead], summary="变更申请列表(含报送与审核期限)")
def list_change_requests(
    session: SessionDep,
    actor: Reader,
    scope: Annotated[ListScope, Query(description="all 可见的全部 / mine 本部门 / to_decide 待我审核")] = ListScope.all,
    status: ChangeRequestStatus | None = None,
) -> list[ChangeRequestRead]:
    return [_read(row) for row in service.list_change_requests(session, actor, scope=scope, status=status)]


@router.post("", response_model=ChangeRequestDetail, status_code=201, summary="提出变更申请(记录变化事由,开始计时)")
def open_change_request(body: ChangeRequestOpen, session: SessionDep, actor: Filer) -> ChangeRequestDetail:
    return _done(session, service.open_change_request(session, actor, **body.model_dump()))


@router.get("/{change_request_id}", response_model=ChangeRequestDetail, summary="变更申请详情")
def get_change_request(change_request_id: int, session: SessionDep, actor: Reader) -> ChangeRequestDetail:
    return _detail(service.get_change_request(session, actor, change_request_id))


@router.put("/{change_request_id}/proposed", response_model=ChangeRequestDetail, summary="修改拟变更内容(报送前)")
def update_proposed(
    change_request_id: int, body: ProposedUpdate, session: SessionDep, actor: Filer
) -> ChangeRequestDetail:
    return _done(
        session,
        service.update_proposed(
            session,
            actor,
            change_request_id,
            proposed=body.proposed,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


@router.post("/{change_request_id}/file", response_model=ChangeRequestDetail, summary="报送变更申请")
def file_change_request(change_request_id: int, body: FileIn, session: SessionDep, actor: Filer) -> ChangeRequestDetail:
    return _done(
        session,
        service.file_change_request(
            session, actor, change_request_id, proposed=body.proposed, expected_version=body.expected_version
        ),
    )


@router.post(
    "/{change_request_id}/extension", response_model=ChangeRequestDetail, summary="申请延期(仅一次,最多 20 个工作日)"
)
def request_extension(
    change_request_id: int, body: ExtensionRequestIn, session: SessionDep, actor: Filer
) -> ChangeRequestDetail:
    return _done(
        session,
        service.request_extension(
            session,
            actor,
            change_request_id,
            days=body.days,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


@router.post(
    "/{change_request_id}/extension/decision", response_model=ChangeRequestDetail, summary="同意或不同意延期(主管机构)"
)
def decide_extension(
    change_request_id: int, body: ExtensionDecisionIn, session: SessionDep, actor: Decider
) -> ChangeRequestDetail:
    return _done(
        session,
        service.decide_extension(
            session,
            actor,
            change_request_id,
            grant=body.decision == "granted",
            days=body.days,
            comment=body.comment,
            expected_version=body.expected_version,
        ),
    )


@router.post("/{change_request_id}/decision", response_model=ChangeRequestDetail, summary="审核变更申请(主管机构)")
def decide(change_request_id: int, body: DecisionIn, session: SessionDep, actor: Decider) -> ChangeRequestDetail:
    return _done(
        session,
        service.decide_change_request(
            session,
            actor,
            change_request_id,
            approve=body.decision == "approved",
            comment=body.comment,
            expected_version=body.expected_version,
        ),
    )
