"""Sharing tables (articles 20-23, 26, 35): consumer systems, applications and their decisions,
coordination, grants, and the access record of every read.

Status columns hold the values of the ``StrEnum``s in ``sharing.enums``; the allowed moves between
them are declared next to the services that make them. ``version`` columns back the conditional
updates that let exactly one of two concurrent decisions win.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.db import Base
from govshare.kit.clock import now


class ConsumerSystem(Base):
    """应用系统: a department's information system that calls the consumer data API."""

    __tablename__ = "consumer_system"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    app_key: Mapped[str] = mapped_column(String(40), unique=True)  # public identifier, e.g. "gsk_…"
    # the HMAC secret, encrypted with the platform data key (HMAC needs the secret itself)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_hint: Mapped[str] = mapped_column(String(8), default="")  # last 4 characters, for people
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    secret_rotated_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Application(Base):
    """共享申请: a consumer department's request for a conditional resource (A20.2)."""

    __tablename__ = "application"
    __table_args__ = (Index("ix_application_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. SQ-2026-000123
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    consumer_system_id: Mapped[int | None] = mapped_column(ForeignKey("consumer_system.id"))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # the authority that oversees it (A21.1): the provider's reviewing region (the city = the bureau)
    authority_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    scenario: Mapped[str] = mapped_column(Text)  # 应用场景
    duty_basis: Mapped[str] = mapped_column(Text)  # 履职依据
    purpose: Mapped[str] = mapped_column(Text, default="")
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_until: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), default="submitted", index=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # 10 working days after submission
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_at: Mapped[dt.datetime | None] = mapped_column()
    overdue_flagged_at: Mapped[dt.datetime | None] = mapped_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")  # required for a refusal (A20.3)
    conditions: Mapped[str] = mapped_column(Text, default="")  # conditions the provider attaches
    granted_until: Mapped[dt.date | None] = mapped_column(Date)  # may be shorter than asked
    decided_late: Mapped[bool] = mapped_column(Boolean, default=False)  # answered after due_on
    masking: Mapped[str] = mapped_column(String(8), default="masked")  # the decision's masking level
    masking_reason: Mapped[str] = mapped_column(Text, default="")  # required to grant clear values
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[ApplicationItem]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationItem.id", lazy="raise"
    )


class ApplicationItem(Base):
    """One 信息项 asked for, with its reason (minimum necessary) and the provider's answer."""

    __tablename__ = "application_item"
    __table_args__ = (UniqueConstraint("application_id", "data_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    data_item_id: Mapped[int] = mapped_column(ForeignKey("data_item.id"))
    reason: Mapped[str] = mapped_column(Text, default="")  # required unless the item is basic
    decision: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | refused
    refusal_reason: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship(back_populates="items", lazy="raise")


class Coordination(Base):
    """协调 (A20.4): a refused application or a wish for a 不予共享 resource, before the authority."""

    __tablename__ = "coordination"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. XT-2026-000012
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    authority_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    data_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | granted | refused
    opened_at: Mapped[dt.datetime] = mapped_column(default=now)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    outcome_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class CoordinationNote(Base):
    """One entry of the negotiation record of a coordination."""

    __tablename__ = "coordination_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    coordination_id: Mapped[int] = mapped_column(ForeignKey("coordination.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class Grant(Base):
    """授权 (A26): what a decision allows — resource, 信息项, masking, purpose, period, systems."""

    __tablename__ = "data_grant"  # GRANT is an SQL keyword
    __table_args__ = (Index("ix_data_grant_consumer_resource", "consumer_department_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    coordination_id: Mapped[int | None] = mapped_column(ForeignKey("coordination.id"))
    purpose: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text, default="")
    masking: Mapped[str] = mapped_column(String(8), default="masked")  # masked | clear
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")  # why suspended / revoked / ended
    status_changed_at: Mapped[dt.datetime | None] = mapped_column()
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[GrantItem]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="GrantItem.id", lazy="raise"
    )
    systems: Mapped[list[GrantSystem]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="GrantSystem.id", lazy="raise"
    )


class GrantItem(Base):
    __tablename__ = "grant_item"
    __table_args__ = (UniqueConstraint("grant_id", "data_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("data_grant.id", ondelete="CASCADE"), index=True)
    data_item_id: Mapped[int] = mapped_column(ForeignKey("data_item.id"))

    grant: Mapped[Grant] = relationship(back_populates="items", lazy="raise")


class GrantSystem(Base):
    __tablename__ = "grant_system"
    __table_args__ = (UniqueConstraint("grant_id", "consumer_system_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("data_grant.id", ondelete="CASCADE"), index=True)
    consumer_system_id: Mapped[int] = mapped_column(ForeignKey("consumer_system.id"), index=True)

    grant: Mapped[Grant] = relationship(back_populates="systems", lazy="raise")


class AccessRecord(Base):
    """One read of shared data (A9.1, A35.1): who, which grant, for what, which 信息项, how many rows.

    Committed before the data leaves the platform; ``kind`` is rows | export | verify | gateway | file.
    """

    __tablename__ = "access_record"
    __table_args__ = (
        Index("ix_access_record_resource_at", "resource_id", "at"),
        Index("ix_access_record_consumer_at", "consumer_department_id", "at"),
        Index("ix_access_record_grant_at", "grant_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=now)
    kind: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    consumer_system_id: Mapped[int | None] = mapped_column(ForeignKey("consumer_system.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("data_grant.id"))  # None: unconditional
    purpose: Mapped[str] = mapped_column(Text, default="")
    data_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # filters, page cursor, result


class VerificationSetting(Base):
    """核验 (A22.1): the provider allows match / no-match checks on a resource, on chosen 信息项.

    A consumer sends values for exactly these 信息项 and learns only whether one row holds them all.
    """

    __tablename__ = "verification_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    data_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ConsumerToken(Base):
    """A short-lived bearer token issued to a consumer system (``gsa_…``); only its keyed hash is kept."""

    __tablename__ = "consumer_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    consumer_system_id: Mapped[int] = mapped_column(ForeignKey("consumer_system.id"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(default=now)
    expires_at: Mapped[dt.datetime] = mapped_column()  # tokens issued before a secret rotation stop too


class ConsumerNonce(Base):
    """A nonce seen from a system within the timestamp window (replay protection without Redis)."""

    __tablename__ = "consumer_nonce"
    __table_args__ = (UniqueConstraint("consumer_system_id", "nonce"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    consumer_system_id: Mapped[int] = mapped_column(ForeignKey("consumer_system.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class ConsumerRateWindow(Base):
    """Requests of one system in one fixed one-minute window (rate limits without Redis)."""

    __tablename__ = "consumer_rate_window"

    consumer_system_id: Mapped[int] = mapped_column(ForeignKey("consumer_system.id"), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix minute
    count: Mapped[int] = mapped_column(Integer, default=0)


class AuthzEpoch(Base):
    """One row (id 1): a counter that PostgreSQL moves when a transaction changing what authorises a
    data API call commits (migration 0003); the rows path checks it in each page's statement."""

    __tablename__ = "authz_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
