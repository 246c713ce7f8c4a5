"""The access record (A9.1, A35.1): one row per read of shared data, in the reader's transaction.

The caller writes the matching audit record (``Action.data_read`` / ``data_exported`` /
``data_verified``) and commits both before the data leaves the platform.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Insert, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.audit.models import AuditChainHead, AuditRecord
from govshare.config import get_settings
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
_LOCK_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == bindparam("chain")).with_for_update()
_LOCK_FREE_HEAD = (
    select(_HEAD.c.id, _HEAD.c.last_seq, _HEAD.c.last_hash)
    .where(_HEAD.c.id.between(bindparam("first"), bindparam("last")))
    .order_by((_HEAD.c.id == bindparam("chain")).desc(), func.random())
    .limit(1)
    .with_for_update(skip_locked=True)
)


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


def record_access_and_audit(
    session: Session,
    actor: Actor,
    action: Action,
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
    audit_after: dict[str, Any] | None = None,
) -> None:
    """The access record and its audit record (``audit.record``'s chain, hash and fields), without
    ORM objects: the head of a read chain is locked, then on PostgreSQL the head's update, the access
    record and the audit record go in one statement. In the caller's transaction, not committed."""
    conn = session.connection()
    at = clock.now()
    access = _access_values(
        at=at,
        kind=kind,
        resource_id=resource_id,
        provider_id=provider_id,
        consumer_department_id=consumer_department_id,
        consumer_system_id=consumer_system_id,
        user_id=user_id,
        grant_id=grant_id,
        purpose=purpose,
        data_item_ids=data_item_ids,
        row_count=row_count,
        request_id=request_id,
        detail=detail,
    )
    chain = audit.chain_for(action)
    head: Any = None
    spread = get_settings().security.audit_read_chains
    if chain != audit.MAIN_CHAIN and conn.dialect.name == "postgresql":
        # a read may go to any read chain: take the drawn one, or else any other that no concurrent
        # read holds right now, instead of queueing behind a held head until that commit's fsync
        head = conn.execute(
            _LOCK_FREE_HEAD, {"first": audit.MAIN_CHAIN + 1, "last": audit.MAIN_CHAIN + spread, "chain": chain}
        ).first()
        if head is not None:
            chain = head.id
    if head is None:
        head = conn.execute(_LOCK_HEAD, {"chain": chain}).first()
    if head is None:  # a chain's first record: the ordinary path creates its head
        session.execute(insert(AccessRecord), [access])
        audit.record(
            session,
            actor,
            action,
            object_type="resource",
            object_id=resource_id,
            after=audit_after,
            department_id=consumer_department_id,
        )
        return
    values = audit.record_values(
        actor,
        action,
        chain=chain,
        seq=head.last_seq + 1,
        prev_hash=head.last_hash,
        at=at,
        object_type="resource",
        object_id=resource_id,
        after=audit_after,
        department_id=consumer_department_id,
    )
    params = {f"a_{c}": values[c] for c in (*_AUDIT_COLUMNS, "hash")}
    params |= {f"r_{k}": v for k, v in access.items()}
    params |= {"h_chain": chain, "h_seq": values["seq"], "h_hash": values["hash"]}
    if conn.dialect.name == "postgresql":
        conn.execute(_records_stmt(), params)  # one round trip for the head, the access and the audit record
        return
    move_head, add_access, add_audit = _statements()
    conn.execute(move_head, params)
    conn.execute(add_access, params)
    conn.execute(add_audit, params)


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
_ACCESS_COLUMNS = (
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


@lru_cache(maxsize=1)
def _statements() -> tuple[Update, Insert, Insert]:
    """Built once with bound parameters (``h_*`` the head, ``r_*`` the access record, ``a_*`` the audit record)."""
    move_head = (
        update(_HEAD)
        .where(_HEAD.c.id == bindparam("h_chain"))
        .values(last_seq=bindparam("h_seq"), last_hash=bindparam("h_hash"))
    )
    add_access = insert(_ACCESS).values({c: bindparam(f"r_{c}", type_=_ACCESS.c[c].type) for c in _ACCESS_COLUMNS})
    add_audit = insert(_AUDIT).values(
        {c: bindparam(f"a_{c}", type_=_AUDIT.c[c].type) for c in (*_AUDIT_COLUMNS, "hash")}
    )
    return move_head, add_access, add_audit


@lru_cache(maxsize=1)
def _records_stmt() -> Insert:
    """PostgreSQL: the three writes as one statement (data-modifying CTEs)."""
    move_head, add_access, add_audit = _statements()
    return add_audit.add_cte(move_head.cte("move_head")).add_cte(add_access.cte("add_access"))
