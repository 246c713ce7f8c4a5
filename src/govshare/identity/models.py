"""Identity tables."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.db import Base
from govshare.kit.clock import now


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"


class Region(Base):
    """省、市、县(区)、高新区、经济区 — each with its own sharing authority (A44.1)."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[RegionLevel] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    authority_name: Mapped[str] = mapped_column(String(128), default="")
    authority_office: Mapped[str] = mapped_column(String(128), default="")
    authority_contact: Mapped[str] = mapped_column(String(64), default="")
    authority_phone: Mapped[str] = mapped_column(String(32), default="")


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    short_name: Mapped[str] = mapped_column(String(32), default="")
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    is_bureau: Mapped[bool] = mapped_column(Boolean, default=False)
    # A6.1: the office and people responsible for data sharing.
    sharing_office: Mapped[str] = mapped_column(String(128), default="")
    sharing_leader: Mapped[str] = mapped_column(String(64), default="")
    sharing_contact: Mapped[str] = mapped_column(String(64), default="")
    sharing_phone: Mapped[str] = mapped_column(String(32), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    region: Mapped[Region] = relationship(lazy="raise")
    offices: Mapped[list[Office]] = relationship(back_populates="department", lazy="raise", order_by="Office.id")


class Office(Base):
    """提供方内部部门: an internal office (处室) of a department."""

    __tablename__ = "office"
    __table_args__ = (UniqueConstraint("department_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))

    department: Mapped[Department] = relationship(back_populates="offices", lazy="raise")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=now)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(256))  # encrypted at rest
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    department: Mapped[Department] = relationship(lazy="raise")
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )


class RoleAssignment(Base):
    """A role held by a person; ``region_id`` scopes region roles, the person's department scopes the rest."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))

    user: Mapped[User] = relationship(back_populates="roles")


class UserSession(Base):
    """A server-side login session; the cookie holds a random id, the table only its keyed hash."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=now)
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(256), default="")
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    end_reason: Mapped[str] = mapped_column(String(32), default="")


class ApiToken(Base):
    """A personal API token for a person's own scripts; acts with that person's rights."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class DataAdminRecord(Base):
    """A34.1: the register of a department's 数据资源管理员, one row per holder and period."""

    __tablename__ = "data_admin_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    name: Mapped[str] = mapped_column(String(64))
    office: Mapped[str] = mapped_column(String(128), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(128), default="")
    start_date: Mapped[dt.date] = mapped_column()
    end_date: Mapped[dt.date | None] = mapped_column()
    change_reason: Mapped[str] = mapped_column(Text, default="")
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    registered_at: Mapped[dt.datetime] = mapped_column(default=now)


class LoginAlert(Base):
    """A36.1: one account seen from two places at once."""

    __tablename__ = "login_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=now)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column()
