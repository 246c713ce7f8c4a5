"""Writing and verifying the audit trail.

Records are appended by the service that changed something, inside its transaction, so an event
and its record commit or vanish together. Appends lock their chain's head row, which serialises them;
``verify`` walks every chain and names the first record that does not fit.

State changes go to the main chain (1). Reads of shared data (``READ_ACTIONS``) go to one of the read
chains, picked at random, so that a consumer system's concurrent reads — each committed with its
record before the data leaves — do not wait for each other's commit on a single lock. Integrity is
the same: every chain is gap-free and hash-linked, and a record moved between chains breaks both.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import orjson
from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from govshare.audit import repository as audit_repo
from govshare.audit.actions import READ_ACTIONS, Action
from govshare.audit.models import AuditChainHead, AuditRecord
from govshare.audit.repository import AuditFilter
from govshare.config import CryptoProfile, get_settings
from govshare.errors import NotFound
from govshare.identity.actor import Actor
from govshare.identity.models import User
from govshare.identity.permissions import Permission
from govshare.kit.clock import now
from govshare.kit.crypto import digest

GENESIS = "0" * 64
MAIN_CHAIN = 1
_ALGORITHMS = {CryptoProfile.standard: "sha256", CryptoProfile.gm: "sm3"}
_PROFILES = {v: k for k, v in _ALGORITHMS.items()}
_SECRET_MARKERS = ("password", "secret", "token", "totp", "credential", "private_key", "api_key")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): ("***" if _is_secret(str(k)) else _jsonable(v)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


def redact(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A JSON-safe copy with secrets replaced by ``***``; sensitive values never enter the trail."""
    if values is None:
        return None
    result = _jsonable(values)
    assert isinstance(result, dict)
    return result


def _canonical(rec: AuditRecord, seq: int | None = None) -> bytes:
    body = {
        "chain": rec.chain,
        "seq": rec.seq if seq is None else seq,
        "at": rec.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": rec.actor_id,
        "actor_name": rec.actor_name,
        "department_id": rec.department_id,
        "role": rec.role,
        "action": rec.action,
        "object_type": rec.object_type,
        "object_id": rec.object_id,
        "before": rec.before,
        "after": rec.after,
        "source_ip": rec.source_ip,
        "request_id": rec.request_id,
        "outcome": rec.outcome,
        "algorithm": rec.algorithm,
        "prev_hash": rec.prev_hash,
    }
    return canonical_json(body)


def canonical_json(body: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash is computed over: JSON with sorted keys, no spaces, non-ASCII as UTF-8
    — the form of ``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))``, which
    wrote every record so far. orjson writes the same bytes several times faster (its keys sorted by
    UTF-8 bytes, which is code point order, and control characters escaped alike); what it refuses
    (integers beyond 64 bits, keys that are not strings) goes to ``json``. A body holds no floats:
    ``redact`` turns them into text."""
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(rec: AuditRecord, seq: int | None = None) -> str:
    """The record's hash; with ``seq``, the hash it would have at that place in the chain."""
    return digest(_canonical(rec, seq), _PROFILES.get(rec.algorithm, CryptoProfile.standard))


def chain_for(action: Action) -> int:
    """The chain a record of ``action`` goes to: the main chain, or a random read chain for reads."""
    spread = get_settings().security.audit_read_chains
    if action in READ_ACTIONS and spread > 0:
        return MAIN_CHAIN + 1 + secrets.randbelow(spread)
    return MAIN_CHAIN


_HEAD = AuditChainHead.__table__
LOCK_HEAD = (
    select(_HEAD.c.id, _HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == bindparam("chain")).with_for_update()
)
# A read may go to any read chain: the drawn one, or else any other that no concurrent read holds right
# now, instead of queueing behind a held head until that transaction's commit.
LOCK_FREE_HEAD = (
    select(_HEAD.c.id, _HEAD.c.last_seq, _HEAD.c.last_hash)
    .where(_HEAD.c.id.between(bindparam("first"), bindparam("last")))
    .order_by((_HEAD.c.id == bindparam("chain")).desc(), func.random())
    .limit(1)
    .with_for_update(skip_locked=True)
)


@dataclass(frozen=True)
class ChainPosition:
    """The locked head of one chain: the next record goes to ``chain`` at ``last_seq + 1``."""

    chain: int
    last_seq: int
    last_hash: str


def lock_chain(session: Session, action: Action) -> ChainPosition:
    """Lock the head of the chain a record of ``action`` goes to, until the transaction ends.

    On PostgreSQL a read takes a free read chain (``SKIP LOCKED``) when the drawn one is held; the read
    chains are started together the first time none is free (never one by one on the request path: an
    insert next to a held head waits for that head's transaction).
    """
    chain = chain_for(action)
    conn = session.connection()
    row = None
    if chain != MAIN_CHAIN and conn.dialect.name == "postgresql":
        row = conn.execute(LOCK_FREE_HEAD, free_head_params(chain)).first()
        if row is None:
            start_read_chains(conn)
    if row is None:
        row = conn.execute(LOCK_HEAD, {"chain": chain}).first()
    if row is None:
        _start_chain(conn, chain)
        row = conn.execute(LOCK_HEAD, {"chain": chain}).one()
    return ChainPosition(chain=row.id, last_seq=row.last_seq, last_hash=row.last_hash)


def free_head_params(chain: int) -> dict[str, int]:
    """Parameters of ``LOCK_FREE_HEAD`` for a read drawn to ``chain``."""
    return {"first": MAIN_CHAIN + 1, "last": MAIN_CHAIN + get_settings().security.audit_read_chains, "chain": chain}


def start_read_chains(conn: Connection) -> None:
    """Every read chain's head, where missing (an insert only for those the snapshot lacks)."""
    chains = range(MAIN_CHAIN + 1, MAIN_CHAIN + 1 + get_settings().security.audit_read_chains)
    existing = set(conn.execute(select(_HEAD.c.id).where(_HEAD.c.id.in_(chains))).scalars())
    for chain in chains:
        if chain not in existing:
            _start_chain(conn, chain)


def _start_chain(conn: Connection, chain: int) -> None:
    # Two transactions may start a chain at once: the loser's insert does nothing (and, if it goes on
    # to lock the head, waits on the winner's row lock) instead of failing on the primary key.
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    values = {"id": chain, "last_seq": 0, "last_hash": GENESIS}
    conn.execute(insert(AuditChainHead).values(**values).on_conflict_do_nothing(index_elements=["id"]))


def move_head(session: Session, position: ChainPosition, new_hash: str) -> None:
    """Advance a locked head past the record just appended at ``position.last_seq + 1``."""
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == position.chain)
        .values(last_seq=position.last_seq + 1, last_hash=new_hash)
        .execution_options(synchronize_session=False)
    )


def record_values(
    actor: Actor,
    action: Action,
    *,
    chain: int,
    seq: int,
    prev_hash: str,
    at: dt.datetime,
    object_type: str = "",
    object_id: object = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    outcome: str = "success",
    department_id: int | None = None,
) -> dict[str, Any]:
    """Every column of one audit record, ``hash`` included, for the place (chain, seq, prev_hash) the
    caller has locked. ``record`` uses it; so does a hot path that inserts the row itself (the consumer
    data API writes it in one statement with its access record)."""
    values: dict[str, Any] = {
        "chain": chain,
        "seq": seq,
        "at": at,
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "department_id": department_id if department_id is not None else actor.department_id,
        "role": actor.role_label,
        "action": str(action),
        "object_type": object_type,
        "object_id": str(object_id) if object_id != "" else "",
        "before": redact(before),
        "after": redact(after),
        "source_ip": actor.context.source_ip,
        "request_id": actor.context.request_id,
        "outcome": outcome,
        "algorithm": _ALGORITHMS[get_settings().security.crypto_profile],
        "prev_hash": prev_hash,
    }
    values["hash"] = compute_hash(cast(AuditRecord, SimpleNamespace(**values)))
    return values


def record_values_at(
    position: ChainPosition, actor: Actor, action: Action, *, at: dt.datetime, **fields: Any
) -> dict[str, Any]:
    """``record_values`` for the record that follows a locked head's ``position``."""
    return record_values(
        actor, action, chain=position.chain, seq=position.last_seq + 1, prev_hash=position.last_hash, at=at, **fields
    )


def record(
    session: Session,
    actor: Actor,
    action: Action,
    *,
    object_type: str = "",
    object_id: object = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    outcome: str = "success",
    department_id: int | None = None,
) -> AuditRecord:
    """Append one record to its chain in the caller's transaction."""
    position = lock_chain(session, action)
    values = record_values(
        actor,
        action,
        chain=position.chain,
        seq=position.last_seq + 1,
        prev_hash=position.last_hash,
        at=now(),
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        outcome=outcome,
        department_id=department_id,
    )
    rec = AuditRecord(**values)
    session.add(rec)
    move_head(session, position, rec.hash)
    session.flush()
    return rec


@dataclass(frozen=True)
class Finding:
    """The first place where the chain does not hold."""

    seq: int
    record_id: int | None
    kind: str  # edited | removed | inserted | reordered
    message: str
    chain: int = MAIN_CHAIN


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    finding: Finding | None

    @property
    def ok(self) -> bool:
        return self.finding is None


def _iter_records(session: Session, chain: int, batch: int = 5000) -> Iterator[AuditRecord]:
    last = 0
    while True:
        # populate_existing: compare what the database holds now, not what this session cached.
        rows = (
            session.execute(
                select(AuditRecord)
                .where(AuditRecord.chain == chain, AuditRecord.seq > last)
                .order_by(AuditRecord.seq)
                .limit(batch)
                .execution_options(populate_existing=True)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        for rec in rows:  # keep memory flat on a long chain, without detaching the caller's other objects
            session.expunge(rec)


def verify(session: Session) -> VerifyResult:
    """Walk every chain in ``seq`` order; name the first record edited, removed, inserted or reordered."""
    chains = {MAIN_CHAIN}
    chains |= set(session.execute(select(AuditChainHead.id)).scalars())
    chains |= set(session.execute(select(AuditRecord.chain).distinct()).scalars())
    checked = 0
    for chain in sorted(chains):
        result = _verify_chain(session, chain)
        checked += result.checked
        if result.finding is not None:
            finding = result.finding
            if chain != MAIN_CHAIN:
                finding = replace(finding, chain=chain, message=f"读取记录链 {chain}:{finding.message}")
            return VerifyResult(checked, finding)
    return VerifyResult(checked, None)


def _verify_chain(session: Session, chain: int) -> VerifyResult:
    expected_seq = 1
    prev_hash = GENESIS
    checked = 0
    last_id: int | None = None
    for rec in _iter_records(session, chain):
        if rec.seq != expected_seq:
            return VerifyResult(
                checked,
                Finding(
                    expected_seq,
                    rec.id,
                    "removed",
                    f"第 {expected_seq} 号审计记录缺失(被删除);缺口位于第 {rec.seq} 号记录(ID {rec.id})之前",
                ),
            )
        if compute_hash(rec) != rec.hash:
            return VerifyResult(checked, _explain_mismatch(session, rec, prev_hash))
        if rec.prev_hash != prev_hash:
            return VerifyResult(checked, _explain_broken_link(session, rec, last_id))
        if last_id is not None and rec.id < last_id:
            return VerifyResult(
                checked,
                Finding(rec.seq, rec.id, "reordered", f"第 {rec.seq} 号审计记录(ID {rec.id})的顺序被调整"),
            )
        prev_hash = rec.hash
        last_id = rec.id
        expected_seq += 1
        checked += 1
    head = session.get(AuditChainHead, chain, populate_existing=True)
    last_seq = expected_seq - 1
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        if head.last_seq > last_seq:
            return VerifyResult(
                checked,
                Finding(
                    last_seq + 1,
                    None,
                    "removed",
                    f"链尾缺失:应有 {head.last_seq} 条记录,实有 {last_seq} 条;第 {last_seq + 1} 号起被删除",
                ),
            )
        forged = _record_at(session, chain, head.last_seq + 1)
        forged_id = forged.id if forged is not None else None
        return VerifyResult(
            checked,
            Finding(
                head.last_seq + 1,
                forged_id,
                "inserted",
                f"第 {head.last_seq + 1} 号审计记录(ID {forged_id})是在链尾之后插入的",
            ),
        )
    return VerifyResult(checked, None)


def _record_at(session: Session, chain: int, seq: int) -> AuditRecord | None:
    stmt = (
        select(AuditRecord)
        .where(AuditRecord.chain == chain, AuditRecord.seq == seq)
        .execution_options(populate_existing=True)
    )
    return session.execute(stmt).scalar_one_or_none()


def _records_where(session: Session, *criteria: Any) -> list[AuditRecord]:
    stmt = select(AuditRecord).where(*criteria).execution_options(populate_existing=True)
    return list(session.execute(stmt).scalars().all())


def _original_seq(session: Session, rec: AuditRecord) -> int | None:
    """The place in the chain where this record's stored hash fits, if its content is intact but its
    ``seq`` was changed (records moved, or rows inserted or deleted and the rest renumbered)."""
    candidates: list[int] = []
    if rec.prev_hash == GENESIS:
        candidates.append(1)
    same_chain = AuditRecord.chain == rec.chain
    candidates += [p.seq + 1 for p in _records_where(session, same_chain, AuditRecord.hash == rec.prev_hash)]
    candidates += [c.seq - 1 for c in _records_where(session, same_chain, AuditRecord.prev_hash == rec.hash)]
    head = session.get(AuditChainHead, rec.chain, populate_existing=True)
    if head is not None and head.last_hash == rec.hash:
        candidates.append(head.last_seq)
    candidates += [rec.seq + d for d in range(-8, 9) if d]
    for seq in dict.fromkeys(candidates):
        if seq >= 1 and seq != rec.seq and compute_hash(rec, seq) == rec.hash:
            return seq
    return None


def _explain_mismatch(session: Session, rec: AuditRecord, walked_prev_hash: str) -> Finding:
    original = _original_seq(session, rec)
    if original is None:
        return Finding(rec.seq, rec.id, "edited", f"第 {rec.seq} 号审计记录(ID {rec.id})的内容被修改,哈希不符")
    if original < rec.seq:
        inserted = _record_at(session, rec.chain, original)
        inserted_id = inserted.id if inserted is not None else None
        return Finding(
            original,
            inserted_id,
            "inserted",
            f"第 {original} 号审计记录(ID {inserted_id})是被插入的记录;"
            f"其后的记录(如 ID {rec.id},原为第 {original} 号)序号被改动",
        )
    rightful = [
        r
        for r in _records_where(session, AuditRecord.chain == rec.chain, AuditRecord.prev_hash == walked_prev_hash)
        if r.id != rec.id
    ]
    if rightful:
        return Finding(
            rec.seq,
            rec.id,
            "reordered",
            f"第 {rec.seq} 号审计记录(ID {rec.id})原为第 {original} 号,顺序被调整;"
            f"此位置原应为 ID {rightful[0].id}(现为第 {rightful[0].seq} 号)",
        )
    return Finding(
        rec.seq,
        rec.id,
        "removed",
        f"第 {rec.seq} 号起有 {original - rec.seq} 条审计记录被删除,其后记录的序号被改动"
        f"(ID {rec.id} 原为第 {original} 号)",
    )


def _explain_broken_link(session: Session, rec: AuditRecord, previous_id: int | None) -> Finding:
    """The record is intact but does not follow the one before it."""
    displaced = _records_where(session, AuditRecord.chain == rec.chain, AuditRecord.hash == rec.prev_hash)
    if displaced:
        return Finding(
            rec.seq,
            rec.id,
            "reordered",
            f"第 {rec.seq} 号审计记录(ID {rec.id})顺序被调整,与前一条记录的链接不符",
        )
    if rec.seq > 1:
        # Its true predecessor is gone and the record in its place is not it: that one was forged.
        return Finding(
            rec.seq - 1,
            previous_id,
            "inserted",
            f"第 {rec.seq - 1} 号审计记录(ID {previous_id})是伪造或被替换的记录,与其后记录(ID {rec.id})的链接不符",
        )
    return Finding(rec.seq, rec.id, "inserted", f"第 {rec.seq} 号审计记录(ID {rec.id})是被插入的记录")


# --- reading the trail (A40.1): auditors only ------------------------------------------------------


@dataclass(frozen=True)
class RecordPage:
    """One page of records, newest first, with keyset cursors to either side."""

    items: list[AuditRecord]
    older_cursor: int | None  # pass as ``before`` for the next (older) page
    newer_cursor: int | None  # pass as ``after`` for the previous (newer) page


def search_records(
    session: Session,
    actor: Actor,
    filters: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> RecordPage:
    """Records matching the filters, for auditors; keyset pagination on ``id`` keeps every page fast."""
    actor.require(Permission.audit_read)
    limit = min(max(limit, 1), 500)
    stmt = audit_repo.filtered(actor, _by_account_id(session, filters))
    items, more = audit_repo.page(session, stmt, before_seq=before, after_seq=after, limit=limit)
    if after is not None:
        older = items[-1].id if items else None
        newer = items[0].id if items and more else None
    else:
        older = items[-1].id if items and more else None
        newer = items[0].id if items and before is not None else None
    return RecordPage(items, older, newer)


def _by_account_id(session: Session, filters: AuditFilter) -> AuditFilter:
    """An account name becomes its id, which is indexed; names without an account (anonymous
    sign-in attempts, console work) stay names."""
    name = filters.actor.strip()
    if not name or name.isdigit():
        return filters
    user_id = session.execute(select(User.id).where(User.username == name)).scalar_one_or_none()
    return filters if user_id is None else replace(filters, actor=str(user_id))


@dataclass(frozen=True)
class RecordDetail:
    record: AuditRecord
    previous_id: int | None
    next_id: int | None


def get_record(session: Session, actor: Actor, record_id: int) -> RecordDetail:
    """One record with its before/after values and its neighbours in the chain."""
    actor.require(Permission.audit_read)
    rec = audit_repo.by_id(session, actor, record_id)
    if rec is None:
        raise NotFound("审计记录不存在", code="audit_record_not_found")
    previous_id, next_id = audit_repo.neighbours(session, actor, rec.chain, rec.seq)
    return RecordDetail(rec, previous_id, next_id)


def verify_trail(session: Session, actor: Actor) -> VerifyResult:
    """The auditor's check of the hash chain (A31.2); the check itself is recorded, with its result."""
    actor.require(Permission.audit_read)
    result = verify(session)
    finding = result.finding
    record(
        session,
        actor,
        Action.audit_verified,
        object_type="audit_trail",
        outcome="success" if result.ok else "alert",
        after={
            "ok": result.ok,
            "checked": result.checked,
            "finding": None
            if finding is None
            else {"chain": finding.chain, "seq": finding.seq, "record_id": finding.record_id, "kind": finding.kind},
        },
    )
    return result


SECURITY_ACTIONS = (Action.access_denied, Action.login_failed, Action.login_locked, Action.mfa_failed)


@dataclass(frozen=True)
class SecuritySummary:
    count: int
    recent: list[AuditRecord]
    since: dt.datetime


def security_summary(session: Session, actor: Actor, *, days: int = 7, limit: int = 5) -> SecuritySummary:
    """Denials and failed sign-ins of the last ``days`` days, for the auditor's dashboard."""
    actor.require(Permission.audit_read)
    since = now() - dt.timedelta(days=days)
    actions = [str(a) for a in SECURITY_ACTIONS]
    return SecuritySummary(
        count=audit_repo.count_since(session, actor, actions, since),
        recent=audit_repo.recent(session, actor, actions, since, limit),
        since=since,
    )
