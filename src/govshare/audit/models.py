"""Audit tables: the records and the head of their hash chain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govshare.db import Base


class AuditRecord(Base):
    """One event. ``hash`` = H(prev_hash ‖ canonical fields); within its ``chain``, ``seq`` has no gaps.

    Chain 1 holds every state change. Reads of shared data (hundreds a second from consumer systems)
    are spread over chains 2…N+1 (``security.audit_read_chains``), each with its own head row, so that
    appends from concurrent reads do not queue on one lock; ``verify`` walks every chain.
    """

    __tablename__ = "audit_record"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chain: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(96), index=True)
    object_type: Mapped[str] = mapped_column(String(48), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    algorithm: Mapped[str] = mapped_column(String(8), default="sha256")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row per chain (``id`` = the chain's number) naming its last record; locking it serialises
    appends to that chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
