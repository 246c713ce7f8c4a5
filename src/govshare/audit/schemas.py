"""Audit trail input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govshare.audit.repository import AuditFilter
from govshare.kit.clock import CHINA

OUTCOMES = {"success": "成功", "failure": "失败", "denied": "拒绝", "alert": "告警"}


class AuditQuery(BaseModel):
    """Filters of the trail; times without a zone are Beijing time."""

    since: dt.datetime | None = Field(None, description="起始时间(含)")
    until: dt.datetime | None = Field(None, description="截止时间(不含)")
    actor: str = Field("", max_length=64, description="操作人账号或账号ID")
    department_id: int | None = None
    action: str = Field("", max_length=96, description="操作名称或前缀,如 identity.user")
    object_type: str = Field("", max_length=48)
    object_id: str = Field("", max_length=64)
    outcome: str = Field("", max_length=16)

    @field_validator("since", "until", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("department_id", mode="before")
    @classmethod
    def _blank_department(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("since", "until")
    @classmethod
    def _china_time(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=CHINA)
        return value

    def to_filter(self) -> AuditFilter:
        return AuditFilter(
            since=self.since,
            until=self.until,
            actor=self.actor,
            department_id=self.department_id,
            action_prefix=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            outcome=self.outcome,
        )


class AuditRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    chain: int = Field(description="1 为主链(状态变更);2 起为共享数据读取记录链")
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    department_id: int | None
    role: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source_ip: str
    request_id: str
    outcome: str
    algorithm: str
    prev_hash: str
    hash: str


class AuditPageRead(BaseModel):
    items: list[AuditRecordRead]
    older_cursor: int | None = Field(description="下一页(更早)请以 before=此值 请求")
    newer_cursor: int | None = Field(description="上一页(更新)请以 after=此值 请求")


class FindingRead(BaseModel):
    chain: int
    seq: int
    record_id: int | None
    kind: str
    message: str


class VerifyRead(BaseModel):
    ok: bool
    checked: int
    finding: FindingRead | None
    message: str
