"""Catalog tables.

A resource row holds its *working* content (what the provider edits and the reviewer sees);
every publication freezes a snapshot in ``resource_version``. ``revision`` counts content edits,
so a 保密审查 recorded for revision 3 no longer counts once the content is at revision 4.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.db import Base
from govshare.kit.clock import now


class Classification(Base):
    """信息资源分类: 类 (1 基础 / 2 主题 / 3 部门) · 项 · 目 · 细目; ``code`` is the full 分类码."""

    __tablename__ = "classification"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)  # 1 类, 2 项, 3 目, 4 细目
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("classification.id"))
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)  # the next 顺序码 under this code


class Topic(Base):
    """A12.2: a 主题 built by several departments, its catalog kept by the lead department."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    classification_id: Mapped[int | None] = mapped_column(ForeignKey("classification.id"))
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    contributors: Mapped[list[TopicContributor]] = relationship(
        back_populates="topic", lazy="raise", cascade="all, delete-orphan"
    )


class TopicContributor(Base):
    __tablename__ = "topic_contributor"
    __table_args__ = (UniqueConstraint("topic_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    role_note: Mapped[str] = mapped_column(String(128), default="")

    topic: Mapped[Topic] = relationship(back_populates="contributors", lazy="raise")


class Resource(Base):
    """One catalog entry (信息资源) with the fields of the national template."""

    __tablename__ = "resource"
    __table_args__ = (
        Index("ix_resource_status_provider", "status", "provider_id"),
        Index("ix_resource_share_channel", "share_type", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # 信息资源代码 = 分类码/顺序码
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # name without punctuation or spaces
    classification_id: Mapped[int] = mapped_column(ForeignKey("classification.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    provider_office: Mapped[str] = mapped_column(String(128), default="")  # 提供方内部部门
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")  # 摘要
    scenario: Mapped[str] = mapped_column(Text, default="")  # 应用场景
    format_class: Mapped[str] = mapped_column(String(24))
    format_type: Mapped[str] = mapped_column(String(64), default="")
    share_type: Mapped[str] = mapped_column(String(16), default="unconditional")
    share_condition: Mapped[str] = mapped_column(Text, default="")
    share_basis: Mapped[str] = mapped_column(Text, default="")  # 不予共享依据
    channel: Mapped[str] = mapped_column(String(8))
    open_type: Mapped[str] = mapped_column(String(24), default="closed")
    open_condition: Mapped[str] = mapped_column(Text, default="")
    update_cycle: Mapped[str] = mapped_column(String(16))
    sensitivity_level: Mapped[str] = mapped_column(String(16), default="general")
    classified: Mapped[bool] = mapped_column(Boolean, default=False)  # 涉密: refused (A43.1)
    related_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    reviewing_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    published_at: Mapped[dt.datetime | None] = mapped_column()  # 发布日期 of the first publication
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock for state changes

    items: Mapped[list[DataItem]] = relationship(
        back_populates="resource", lazy="raise", cascade="all, delete-orphan", order_by="DataItem.position"
    )


class DataItem(Base):
    """信息项: one field of a resource."""

    __tablename__ = "data_item"
    __table_args__ = (UniqueConstraint("resource_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    data_type: Mapped[str] = mapped_column(String(1))
    length: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    sensitivity: Mapped[str] = mapped_column(String(24), default="none")
    shareable: Mapped[bool] = mapped_column(Boolean, default=True)
    is_basic: Mapped[bool] = mapped_column(Boolean, default=False)  # 基本信息项: no per-item reason needed

    resource: Mapped[Resource] = relationship(back_populates="items", lazy="raise")


class ConfidentialityReview(Base):
    """A32.1: the provider's 保密审查 of one revision of a resource: who, when, result."""

    __tablename__ = "confidentiality_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    reviewer_name: Mapped[str] = mapped_column(String(64))  # the person who did the review
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_on: Mapped[dt.date] = mapped_column()
    result: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=now)


class ReviewDecision(Base):
    """The authority's decision on one submission: approved, or returned with comments."""

    __tablename__ = "review_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decision: Mapped[str] = mapped_column(String(16))  # approved | returned
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime] = mapped_column(default=now)


class ResourceVersion(Base):
    """A frozen snapshot of a resource at each publication (A16.1: the catalog's history)."""

    __tablename__ = "resource_version"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[dt.datetime] = mapped_column(default=now)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    change_request_id: Mapped[int | None] = mapped_column(ForeignKey("change_request.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class ChangeRequest(Base):
    """Article 17: a catalog change forced by a law, a reorganisation or a change of duties.

    Clocks (working days, stored when they start): filing within 10 of the trigger date, extendable
    once by up to 20 with the authority's consent; the authority decides within 10 of filing.
    """

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    authority_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(24))
    trigger_date: Mapped[dt.date] = mapped_column()
    trigger_description: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the resource as it should become
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    filing_due: Mapped[dt.date] = mapped_column()
    filing_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    filing_due_original: Mapped[dt.date | None] = mapped_column()  # before any granted extension
    extension_status: Mapped[str] = mapped_column(String(16), default="none")
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    extension_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    extension_decided_at: Mapped[dt.datetime | None] = mapped_column()
    extension_comment: Mapped[str] = mapped_column(Text, default="")
    filed_at: Mapped[dt.datetime | None] = mapped_column()
    filed_on: Mapped[dt.date | None] = mapped_column()
    filed_late: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_due: Mapped[dt.date | None] = mapped_column()
    decision_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decided_on: Mapped[dt.date | None] = mapped_column()
    decided_late: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ResourceSearch(Base):
    """The search-index row of a resource: its searchable text as space-separated tokens.

    Maintained by ``catalog/search.py``. The dialect-specific index over these columns (an FTS5
    table on SQLite, generated tsvector columns with a GIN index on PostgreSQL) is created by the
    hand-written migration ``0002_catalog_search``.
    """

    __tablename__ = "resource_search"

    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True)
    name_tokens: Mapped[str] = mapped_column(Text, default="")
    code_tokens: Mapped[str] = mapped_column(Text, default="")
    body_tokens: Mapped[str] = mapped_column(Text, default="")
