"""The access record (A9.1, A35.1): one row per read of shared data, in the reader's transaction.

The caller writes the matching audit record (``Action.data_read`` / ``data_exported`` /
``data_verified``) and commits both before the data leaves the platform.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Insert, Table, Update, bindparam, insert, update
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.audit.models import AuditChainHead, AuditRecord
from govshare.identity.actor import Actor
from govshare.kit import clock
from govshare.sharing.models import AccessRecord


def record_access(
    session: Session,
    *,
    kind: str,
    resource_id: int,
    provider_id: int,
    consumer_department_id: int,
    consumer_system_id: int | None,
    user_id: int | None,
    grant_id: int | None,
    purpose: str,
    data_item_ids: list[int],
    row_count: int,
    request_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AccessRecord:
    """Add one access record (flushed, not committed)."""
    record = AccessRecord(
        at=clock.now(),
        kind=kind,
        resource_id=resource_id,
        provider_id=provider_id,
        consumer_department_id=consumer_department_id,
        consumer_system_id=consumer_system_id,
        user_id=user_id,
        grant_id=grant_id,
        purpose=purpose[:2000],
        data_item_ids=sorted(data_item_ids),
        row_count=row_count,
        request_id=request_id[:64],
        detail=detail or {},
    )
    session.add(record)
    session.flush()
    return record


# --- the request path of the data API: both records in plain Core ---------------------------------

_ACCESS = cast(Table, AccessRecord.__table__)
_AUDIT = cast(Table, AuditRecord.__table__)
_HEAD = cast(Table, AuditChainHead.__table__)


def _access_values(
    *,
    at: dt.datetime,
    kind: str,
    resource_id: int,
    provider_id: int,
    consumer_department_id: int,
    consumer_system_id: int | None,
    user_id: int | None,
    grant_id: int | None,
    purpose: str,
    data_item_ids: list[int],
    row_count: int,
    request_id: str,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "resource_id": resource_id,
        "provider_id": provider_id,
        "consumer_department_id": consumer_department_id,
        "consumer_system_id": consumer_system_id,
        "user_id": user_id,
        "grant_id": grant_id,
        "purpose": purpose[:2000],
        "data_item_ids": sorted(data_item_ids),
        "row_count": row_count,
        "request_id": request_id[:64],
        "detail": detail or {},
    }


@dataclass(frozen=True)
class ReadRecord:
    """What the access record and its audit record say of one read (everything but the chain)."""

    actor: Actor
    action: Action
    kind: str
    resource_id: int
    provider_id: int
    consumer_department_id: int
    consumer_system_id: int | None
    user_id: int | None
    grant_id: int | None
    purpose: str
    data_item_ids: list[int]
    row_count: int
    request_id: str = ""
    detail: dict[str, Any] | None = None
    audit_after: dict[str, Any] | None = None


def records_params(read: ReadRecord, position: audit.ChainPosition, at: dt.datetime) -> dict[str, Any]:
    """The parameters of ``records_statements`` for ``read`` at the locked ``position``: ``h_*`` the
    head, ``r_*`` the access record, ``a_*`` the audit record (its hash computed by the audit service)."""
    access = _access_values(
        at=at,
        kind=read.kind,
        resource_id=read.resource_id,
        provider_id=read.provider_id,
        consumer_department_id=read.consumer_department_id,
        consumer_system_id=read.consumer_system_id,
        user_id=read.user_id,
        grant_id=read.grant_id,
        purpose=read.purpose,
        data_item_ids=read.data_item_ids,
        row_count=read.row_count,
        request_id=read.request_id,
        detail=read.detail,
    )
    values = audit.record_values_at(
        position,
        read.actor,
        read.action,
        at=at,
        object_type="resource",
        object_id=read.resource_id,
        after=read.audit_after,
        department_id=read.consumer_department_id,
    )
    params = {f"a_{c}": values[c] for c in (*_AUDIT_COLUMNS, "hash")}
    params |= {f"r_{k}": v for k, v in access.items()}
    params |= {"h_chain": position.chain, "h_seq": values["seq"], "h_hash": values["hash"]}
    return params


def record_access_and_audit(session: Session, read: ReadRecord) -> None:
    """The access record and its audit record, without ORM objects: the audit service locks a read
    chain's head and computes the record (``audit.lock_chain``, ``audit.record_values``); then on
    PostgreSQL the head's update, the access record and the audit record go in one statement. In the
    caller's transaction, not committed."""
    conn = session.connection()
    at = clock.now()
    position = audit.lock_chain(session, read.action)
    params = records_params(read, position, at)
    if conn.dialect.name == "postgresql":
        conn.execute(records_statement(), params)  # one round trip for the head, the access and the audit record
        return
    for statement in _statements():
        conn.execute(statement, params)


_AUDIT_COLUMNS = (
    "chain",
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "department_id",
    "role",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "source_ip",
    "request_id",
    "outcome",
    "algorithm",
    "prev_hash",
)
ACCESS_COLUMNS = (
    "at",
    "kind",
    "resource_id",
    "provider_id",
    "consumer_department_id",
    "consumer_system_id",
    "user_id",
    "grant_id",
    "purpose",
    "data_item_ids",
    "row_count",
    "request_id",
    "detail",
)


AUDIT_COLUMNS = (*_AUDIT_COLUMNS, "hash")


@lru_cache(maxsize=1)
def _statements() -> tuple[Update, Insert, Insert]:
    """Built once with bound parameters (``h_*`` the head, ``r_*`` the access record, ``a_*`` the audit record)."""
    move_head = (
        update(_HEAD)
        .where(_HEAD.c.id == bindparam("h_chain"))
        .values(last_seq=bindparam("h_seq"), last_hash=bindparam("h_hash"))
    )
    add_access = insert(_ACCESS).values({c: bindparam(f"r_{c}", type_=_ACCESS.c[c].type) for c in ACCESS_COLUMNS})
    add_audit = insert(_AUDIT).values(
        {c: bindparam(f"a_{c}", type_=_AUDIT.c[c].type) for c in (*_AUDIT_COLUMNS, "hash")}
    )
    return move_head, add_access, add_audit


@lru_cache(maxsize=1)
def records_statement() -> Insert:
    """PostgreSQL: the three writes as one statement (data-modifying CTEs)."""
    move_head, add_access, add_audit = _statements()
    return add_audit.add_cte(move_head.cte("move_head")).add_cte(add_access.cte("add_access"))
