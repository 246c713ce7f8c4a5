"""Exchange input and output shapes: table mounts, runs and freshness, for the JSON API and the pages.

Secrets are write-only: ``password`` and ``test_password`` exist on the inputs only. A read says
whether a secret is set (``has_password``), never what it is; the stored address never has one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SyncMode = Literal["full", "incremental"]
RunKind = Literal["sync", "probe"]


class _TableMountFields(BaseModel):
    url: str = Field(
        min_length=1, max_length=1000, description="源数据库地址(不含密码),如 postgresql://读账号@10.20.1.5/人口库"
    )
    table: str = Field(min_length=1, max_length=255, description="源表或视图名,可带模式名:schema.table")
    mapping: dict[int, str] = Field(description="信息项 id → 源字段名")
    sync_mode: SyncMode = Field("full", description="同步方式:full 全量,incremental 增量")
    watermark_column: str = Field("", max_length=128, description="增量字段(单调递增,如 updated_at 或自增 id)")
    key_column: str = Field("", max_length=128, description="键字段(已映射的源字段,增量同步按它更新)")
    test_url: str = Field("", max_length=1000, description="测试账号的地址(不含密码);空则用正式地址")
    test_table: str = Field("", max_length=128, description="测试表;空则用源表")
    full_refresh_days: int = Field(
        7, description="增量同步的定期全量刷新间隔(天),清除源端已删除的行;0 表示不定期刷新,最多 366"
    )


class TableMountCreate(_TableMountFields):
    resource_id: int = Field(description="挂载到的信息资源(共享方式为库表交换)")
    password: str = Field("", max_length=512, description="源数据库密码,只写,加密保存,不再显示")
    test_password: str = Field("", max_length=512, description="测试账号密码,只写")


class TableMountUpdate(BaseModel):
    """Fields left out keep their value; a secret is replaced only when a new one is given."""

    url: str | None = Field(None, min_length=1, max_length=1000)
    table: str | None = Field(None, min_length=1, max_length=255)
    mapping: dict[int, str] | None = None
    sync_mode: SyncMode | None = None
    watermark_column: str | None = Field(None, max_length=128)
    key_column: str | None = Field(None, max_length=128)
    test_url: str | None = Field(None, max_length=1000)
    test_table: str | None = Field(None, max_length=128)
    full_refresh_days: int | None = Field(None, description="定期全量刷新间隔(天),0 表示不定期刷新")
    password: str | None = Field(None, max_length=512, description="新密码;不填则保留原密码")
    test_password: str | None = Field(None, max_length=512, description="新测试账号密码;不填则保留")
    status: Literal["active", "paused"] | None = Field(None, description="active 恢复,paused 暂停")
    expected_version: int | None = Field(None, description="乐观锁:编辑时看到的版本号")


class MountRead(BaseModel):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    provider_id: int
    channel: str
    status: str
    url: str = Field(description="源地址,不含密码")
    table: str
    mapping: dict[int, str]
    sync_mode: str
    watermark_column: str
    key_column: str
    test_url: str
    test_table: str
    full_refresh_days: int = Field(description="增量同步的定期全量刷新间隔(天),0 表示不定期刷新")
    full_refresh_pending: bool = Field(description="源已修改,下次同步将全量刷新")
    has_password: bool
    has_test_password: bool
    created_at: dt.datetime
    version: int


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    mount_id: int
    kind: str
    trigger: str
    status: str
    attempt: int
    scheduled_for: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    rows: int
    bytes: int
    duration_ms: int
    latency_ms: int | None
    error: str
    progress: int
    mode: str = Field(
        description="同步方式:full 全量,incremental 增量,full_initial 首次全量,"
        "full_periodic 定期全量刷新,full_source_changed 源变更后全量刷新;检测为空"
    )
    quality: dict[str, Any]
    created_at: dt.datetime


class RunCreate(BaseModel):
    kind: RunKind = Field("sync", description="sync 立即同步,probe 立即检测")


class FreshnessRead(BaseModel):
    resource_id: int
    resource_code: str
    resource_name: str
    provider_id: int
    provider_name: str
    update_cycle: str
    mount_id: int | None
    mount_status: str | None
    state: str = Field(description="fresh 按时,late 超期,never 尚未同步,unmounted 未挂载")
    last_good_sync_at: dt.datetime | None
    row_count: int
    due_at: dt.datetime | None = Field(description="最迟应完成下一次同步的时间(更新周期加宽限)")
    late: bool
    late_seconds: int = Field(description="超期秒数;未超期为 0")
    quality: dict[str, Any] | None = Field(description="最近一次成功同步的质量摘要(提供部门与主管机构可见)")


class FreshnessPage(BaseModel):
    items: list[FreshnessRead]
    page: int
    page_size: int
    total: int
    has_next: bool
