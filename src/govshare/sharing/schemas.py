"""Pydantic in/out schemas of applications, coordinations, refusal counts and grants.

Input schemas forbid unknown fields: nobody sends a due date, a status or a provider; the platform
sets them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from govshare.sharing.enums import ApplicationStatus, CoordinationStatus, GrantStatus, Masking
from govshare.web.api_helpers import ClockRead, StrictInput

TEXT = 4000


# --------------------------------------------------------------------------------------- applications


class ApplicationItemIn(StrictInput):
    data_item_id: int
    reason: str = Field("", max_length=TEXT, description="申请理由;非基本信息项必填(最小可用)")


class ApplicationCreate(StrictInput):
    resource_id: int = Field(description="已发布的有条件共享信息资源")
    items: list[ApplicationItemIn] = Field(min_length=1, max_length=500, description="申请的信息项")
    scenario: str = Field(max_length=TEXT, description="应用场景")
    duty_basis: str = Field(max_length=TEXT, description="履职依据")
    purpose: str = Field(max_length=TEXT, description="使用用途")
    period_from: dt.date = Field(description="使用期限起")
    period_until: dt.date = Field(description="使用期限止")
    consumer_system_id: int | None = Field(None, description="本部门的应用系统(可选)")


class WithdrawIn(StrictInput):
    reason: str = Field("", max_length=TEXT)
    expected_version: int | None = None


class ItemDecisionIn(StrictInput):
    data_item_id: int
    approve: bool
    reason: str = Field("", max_length=TEXT, description="不同意的理由(不同意时必填,或填写总体理由)")


class DecisionIn(StrictInput):
    """``outcome``: approve_all / refuse_all, or ``items`` for a per-信息项 answer."""

    outcome: Literal["approve_all", "refuse_all", "per_item"] = "per_item"
    items: list[ItemDecisionIn] = Field(default_factory=list, max_length=500)
    reason: str = Field("", max_length=TEXT, description="答复意见;全部不同意时必填")
    conditions: str = Field("", max_length=TEXT, description="使用条件")
    granted_until: dt.date | None = Field(None, description="授权截止日期,可短于申请期限")
    masking: Masking = Masking.masked
    masking_reason: str = Field("", max_length=TEXT, description="提供明文的书面理由")
    expected_version: int | None = None


class ApplicationItemRead(BaseModel):
    data_item_id: int
    name: str
    is_basic: bool
    sensitivity: str
    reason: str
    decision: Literal["pending", "approved", "refused"]
    refusal_reason: str


class ApplicationRead(BaseModel):
    id: int
    number: str
    resource_id: int
    resource_code: str
    resource_name: str
    provider_id: int
    provider_name: str
    consumer_department_id: int
    consumer_department_name: str
    consumer_system_id: int | None
    authority_region_id: int
    authority_name: str
    scenario: str
    duty_basis: str
    purpose: str
    period_from: dt.date
    period_until: dt.date
    status: ApplicationStatus
    submitted_at: dt.datetime | None
    due_on: dt.date | None
    due_provisional: bool
    clock: ClockRead | None
    reminded: bool
    overdue_flagged: bool
    decided_at: dt.datetime | None
    decided_late: bool
    decision_reason: str
    conditions: str
    granted_until: dt.date | None
    masking: Masking
    masking_reason: str
    version: int


class ApplicationDetail(ApplicationRead):
    items: list[ApplicationItemRead]
    grant_ids: list[int]
    coordination_ids: list[int]


# --------------------------------------------------------------------------------------- coordination


class CoordinationCreate(StrictInput):
    reason: str = Field(min_length=1, max_length=TEXT, description="履职确需使用的理由")
    application_id: int | None = Field(None, description="被拒绝或部分拒绝的共享申请")
    resource_id: int | None = Field(None, description="不予共享的信息资源(无申请时)")
    data_item_ids: list[int] | None = Field(None, max_length=500, description="协调的信息项;默认全部被拒绝的")


class NoteIn(StrictInput):
    body: str = Field(min_length=1, max_length=TEXT)


class CoordinationDecisionIn(StrictInput):
    outcome: Literal["granted", "refused"]
    reason: str = Field(max_length=TEXT, description="协调结果的理由(必填)")
    data_item_ids: list[int] | None = Field(None, max_length=500, description="予以共享的信息项;默认全部")
    valid_until: dt.date | None = None
    masking: Masking = Masking.masked
    conditions: str = Field("", max_length=TEXT)
    expected_version: int | None = None


class CoordinationNoteRead(BaseModel):
    id: int
    body: str
    created_at: dt.datetime


class CoordinationRead(BaseModel):
    id: int
    number: str
    application_id: int | None
    resource_id: int
    resource_name: str
    provider_id: int
    provider_name: str
    consumer_department_id: int
    consumer_department_name: str
    authority_region_id: int
    authority_name: str
    reason: str
    data_item_ids: list[int]
    status: CoordinationStatus
    opened_at: dt.datetime
    due_on: dt.date | None
    due_provisional: bool
    clock: ClockRead | None
    decided_at: dt.datetime | None
    outcome_reason: str
    version: int


class CoordinationDetail(CoordinationRead):
    notes: list[CoordinationNoteRead]
    grant_ids: list[int]


class RefusalCountRead(BaseModel):
    provider_id: int
    provider_name: str
    decided: int = Field(description="已答复的申请数")
    refused: int = Field(description="全部不同意的申请数")
    partially_refused: int = Field(description="部分同意的申请数")
    refusals: int = Field(description="被拒绝(全部或部分)的申请数")
    items_refused: int = Field(description="被拒绝的信息项数")
    coordinated: int = Field(description="其中申请了协调的")
    overturned: int = Field(description="其中协调结果为予以共享的(拒绝被推翻)")
    upheld: int = Field(description="其中协调结果为不予共享的")
    not_overturned: int = Field(description="未被协调推翻的拒绝")


class RefusalReport(BaseModel):
    since: dt.date | None
    until: dt.date | None
    providers: list[RefusalCountRead]


# --------------------------------------------------------------------------------------- grants


class GrantMoveIn(StrictInput):
    move: Literal["suspend", "resume", "revoke", "end"]
    reason: str = Field(max_length=TEXT, description="原因(必填)")
    expected_version: int | None = None


class GrantItemRead(BaseModel):
    data_item_id: int
    name: str
    sensitivity: str


class GrantRead(BaseModel):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    provider_id: int
    provider_name: str
    consumer_department_id: int
    consumer_department_name: str
    application_id: int | None
    coordination_id: int | None
    purpose: str
    conditions: str
    masking: Masking
    valid_from: dt.date
    valid_until: dt.date
    status: GrantStatus
    status_reason: str
    status_changed_at: dt.datetime | None
    created_at: dt.datetime
    version: int


class GrantHistoryRead(BaseModel):
    at: dt.datetime
    action: str
    actor_name: str
    reason: str
    status: str


class GrantDetail(GrantRead):
    items: list[GrantItemRead]
    system_ids: list[int]
    history: list[GrantHistoryRead]
