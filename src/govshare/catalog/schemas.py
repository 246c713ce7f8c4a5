"""Catalog input and output shapes, shared by the JSON API, the pages, Excel import and the demo.

Field-level rules that need no database live here (lengths, enums). Cross-field rules of the
measures (有条件 needs a condition, 不予共享 needs a basis, 涉密 is refused, format ↔ channel) live in
``validation.py`` so that every path — page, API, Excel — reports them the same way, in Chinese.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from govshare.catalog.enums import (
    Channel,
    DataType,
    FormatClass,
    OpenType,
    ResourceStatus,
    Sensitivity,
    SensitivityLevel,
    ShareType,
    UpdateCycle,
)


class DataItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="信息项名称")
    data_type: DataType = Field(description="数据类型:C 字符型、N 数值型、D 日期型 …")
    length: int | None = Field(None, ge=1, le=100000, description="数据长度")
    description: str = Field("", max_length=2000)
    sensitivity: Sensitivity = Sensitivity.none
    shareable: bool = True
    is_basic: bool = False


class DataItemRead(DataItemIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int


class ResourceFields(BaseModel):
    """The editable content of a catalog entry (everything but code, provider, status)."""

    name: str = Field(min_length=1, max_length=200, description="信息资源名称")
    classification_code: str = Field(min_length=1, max_length=16, description="分类码(类/项/目/细目)")
    provider_office: str = Field("", max_length=128, description="提供方内部部门")
    topic_id: int | None = Field(None, description="所属主题(主题资源)")
    summary: str = Field("", max_length=4000, description="摘要")
    scenario: str = Field("", max_length=4000, description="应用场景")
    format_class: FormatClass = Field(description="格式分类")
    format_type: str = Field("", max_length=64, description="格式类型,如 xlsx、MySQL、JSON")
    share_type: ShareType = Field(ShareType.unconditional, description="共享类型,默认无条件共享(A5.1)")
    share_condition: str = Field("", max_length=2000, description="共享条件(有条件共享必填)")
    share_basis: str = Field("", max_length=2000, description="不予共享依据(不予共享必填)")
    channel: Channel = Field(description="共享方式")
    open_type: OpenType = OpenType.closed
    open_condition: str = Field("", max_length=2000)
    update_cycle: UpdateCycle
    sensitivity_level: SensitivityLevel = SensitivityLevel.general
    classified: bool = Field(False, description="涉密:平台拒绝涉密资源(A43.1)")
    related_codes: list[str] = Field(default_factory=list, description="关联资源代码")
    items: list[DataItemIn] = Field(default_factory=list, description="信息项")


class ResourceCreate(ResourceFields):
    """A new draft; ``provider_id`` defaults to the actor's own department."""

    provider_id: int | None = None


class ResourceUpdate(ResourceFields):
    expected_version: int | None = Field(None, description="乐观锁:编辑时看到的版本号")


class ConfidentialityReviewIn(BaseModel):
    reviewer_name: str = Field(min_length=1, max_length=64, description="审查人")
    reviewed_on: dt.date = Field(description="审查日期")
    result: str = Field(pattern="^(passed|failed)$", description="passed 不涉密可共享 / failed 涉密或不宜共享")
    note: str = Field("", max_length=2000)


class ReviewDecisionIn(BaseModel):
    decision: str = Field(pattern="^(approved|returned)$")
    comment: str = Field("", max_length=4000)
    expected_version: int | None = None


class ResourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    classification_id: int
    provider_id: int
    provider_office: str
    topic_id: int | None
    summary: str
    scenario: str
    format_class: FormatClass
    format_type: str
    share_type: ShareType
    share_condition: str
    share_basis: str
    channel: Channel
    open_type: OpenType
    open_condition: str
    update_cycle: UpdateCycle
    sensitivity_level: SensitivityLevel
    classified: bool
    related_codes: list[str]
    status: ResourceStatus
    reviewing_region_id: int
    revision: int
    published_version: int
    duplicate_warnings: list[dict[str, object]]
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    published_at: dt.datetime | None
    version: int
    items: list[DataItemRead]


class ResourceSummary(BaseModel):
    """One row of a list or search result."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    provider_id: int
    share_type: ShareType
    channel: Channel
    update_cycle: UpdateCycle
    status: ResourceStatus
    published_at: dt.datetime | None


class ResourcePage(BaseModel):
    items: list[ResourceSummary]
    page: int
    page_size: int
    total: int | None
    has_next: bool


class SubmitIn(BaseModel):
    expected_version: int | None = Field(None, description="乐观锁:提交时看到的版本号")


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000, description="撤销理由")
    expected_version: int | None = None


class ClassificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    level: int
    parent_id: int | None


class ConfidentialityReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: int
    revision: int
    reviewer_name: str
    recorded_by_id: int | None
    reviewed_on: dt.date
    result: str
    note: str
    recorded_at: dt.datetime


class ReviewDecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: int
    revision: int
    region_id: int
    reviewer_id: int | None
    decision: str
    comment: str
    decided_at: dt.datetime


class ResourceVersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    published_at: dt.datetime
    published_by_id: int | None
    change_request_id: int | None
    note: str


class ResourceVersionRead(ResourceVersionSummary):
    snapshot: dict[str, object]


class ReviewQueueItem(BaseModel):
    """One submitted resource in a reviewer's queue, with its duplicate-collection warnings."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    provider_id: int
    share_type: ShareType
    channel: Channel
    reviewing_region_id: int
    revision: int
    submitted_at: dt.datetime | None
    duplicate_warnings: list[dict[str, object]]
    version: int
