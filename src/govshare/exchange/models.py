"""Exchange tables: mounts (how a resource's data reaches the platform), runs, and the base tables.

A mount's secret (a source password, an upstream credential) is stored only encrypted
(``kit.crypto.encrypt``); ``config`` never holds a secret.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govshare.db import Base
from govshare.kit.clock import now


class Mount(Base):
    """挂载: the source behind one resource, its channel, sync mode and column ↔ 信息项 mapping."""

    __tablename__ = "mount"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # table | api | file
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # no secrets here
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    sync_mode: Mapped[str] = mapped_column(String(16), default="full")  # full | incremental
    watermark_column: Mapped[str] = mapped_column(String(128), default="")
    key_column: Mapped[str] = mapped_column(String(128), default="")
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # str(data_item_id) -> source column
    test_table: Mapped[str] = mapped_column(String(128), default="")
    # Incremental mounts: a full staging-swap refresh every this many days (0 = never), which removes
    # rows deleted at the source; ``full_refresh_pending`` forces one at the next run (source edited).
    full_refresh_days: Mapped[int] = mapped_column(Integer, default=7)
    full_refresh_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)


class SyncRun(Base):
    """One sync or probe of a mount: queued → running → succeeded / failed, with its figures."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_status_scheduled", "status", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mount_id: Mapped[int] = mapped_column(ForeignKey("mount.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="sync")  # sync | probe
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")  # schedule | manual
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    scheduled_for: Mapped[dt.datetime] = mapped_column(default=now)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    lease_owner: Mapped[str] = mapped_column(String(128), default="")
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")  # Chinese, for people
    progress: Mapped[int] = mapped_column(BigInteger, default=0)  # rows read so far
    # how a sync ran: full | incremental | full_initial | full_periodic | full_source_changed ("" for probes)
    mode: Mapped[str] = mapped_column(String(24), default="")
    # the quality summary of the rows this run read (A25.1): exchange.quality's figures as JSON
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class BaseTable(Base):
    """The platform-side record of one resource's table in the base (大数据基座)."""

    __tablename__ = "base_table"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), unique=True)
    table_name: Mapped[str] = mapped_column(String(64))
    last_good_sync_at: Mapped[dt.datetime | None] = mapped_column()
    last_full_refresh_at: Mapped[dt.datetime | None] = mapped_column()  # the last full staging-swap load
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    watermark: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{column, item_id, name, type}]
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # of the last good sync (A25.1)


class PeriodicTaskState(Base):
    """One row per periodic task of the worker (grant expiry, deadline reminders …): when it is next
    due and how its last run went. The row is the task's lease: a worker runs the task only in the
    transaction that moves ``next_due_at`` forward, so no two workers run it in the same interval."""

    __tablename__ = "periodic_task"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_due_at: Mapped[dt.datetime] = mapped_column(default=now)
    lease_owner: Mapped[str] = mapped_column(String(128), default="")  # the worker that ran it last
    last_started_at: Mapped[dt.datetime | None] = mapped_column()
    last_finished_at: Mapped[dt.datetime | None] = mapped_column()
    last_status: Mapped[str] = mapped_column(String(16), default="")  # succeeded | failed
    last_result: Mapped[int | None] = mapped_column(BigInteger)  # what the task returned (e.g. grants expired)
    last_error: Mapped[str] = mapped_column(Text, default="")
    runs: Mapped[int] = mapped_column(Integer, default=0)
