"""Writing and verifying the audit trail.

Records are appended by the service that changed something, inside its transaction, so an event
and its record commit or vanish together. Appends lock the chain head row, which serialises them;
``verify`` walks the chain and names the first record that does not fit.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.audit.actions import Action
from govshare.audit.models import AuditChainHead, AuditRecord
from govshare.config import CryptoProfile, get_settings
from govshare.identity.actor import Actor
from govshare.kit.clock import now
from govshare.kit.crypto import digest

GENESIS = "0" * 64
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


def _canonical(rec: AuditRecord) -> bytes:
    body = {
        "seq": rec.seq,
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
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(rec: AuditRecord) -> str:
    return digest(_canonical(rec), _PROFILES.get(rec.algorithm, CryptoProfile.standard))


def _lock_head(session: Session) -> AuditChainHead:
    head = session.execute(select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditChainHead(id=1, last_seq=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


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
    """Append one record to the chain in the caller's transaction."""
    head = _lock_head(session)
    rec = AuditRecord(
        seq=head.last_seq + 1,
        at=now(),
        actor_id=actor.user_id,
        actor_name=actor.username,
        department_id=department_id if department_id is not None else actor.department_id,
        role=actor.role_label,
        action=str(action),
        object_type=object_type,
        object_id=str(object_id) if object_id != "" else "",
        before=redact(before),
        after=redact(after),
        source_ip=actor.context.source_ip,
        request_id=actor.context.request_id,
        outcome=outcome,
        algorithm=_ALGORITHMS[get_settings().security.crypto_profile],
        prev_hash=head.last_hash,
    )
    rec.hash = compute_hash(rec)
    session.add(rec)
    head.last_seq = rec.seq
    head.last_hash = rec.hash
    session.flush()
    return rec


@dataclass(frozen=True)
class Finding:
    """The first place where the chain does not hold."""

    seq: int
    record_id: int | None
    kind: str  # edited | removed | inserted | reordered
    message: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    finding: Finding | None

    @property
    def ok(self) -> bool:
        return self.finding is None


def _iter_records(session: Session, batch: int = 5000) -> Iterator[AuditRecord]:
    last = 0
    while True:
        rows = (
            session.execute(select(AuditRecord).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch))
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyResult:
    """Walk the chain in ``seq`` order; name the first record edited, removed, inserted or reordered."""
    expected_seq = 1
    prev_hash = GENESIS
    checked = 0
    last_id: int | None = None
    for rec in _iter_records(session):
        if rec.seq != expected_seq:
            return VerifyResult(
                checked,
                Finding(
                    expected_seq,
                    rec.id,
                    "removed",
                    f"第 {expected_seq} 号审计记录缺失(被删除);缺口位于第 {rec.seq} 号记录之前",
                ),
            )
        own_ok = compute_hash(rec) == rec.hash
        if not own_ok:
            return VerifyResult(
                checked,
                Finding(
                    rec.seq,
                    rec.id,
                    "edited",
                    f"第 {rec.seq} 号审计记录(ID {rec.id})的内容被修改,哈希不符",
                ),
            )
        if rec.prev_hash != prev_hash:
            displaced = session.execute(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.hash == rec.prev_hash)
            ).scalar_one()
            kind, what = ("reordered", "顺序被调整") if displaced else ("inserted", "是被插入的记录")
            return VerifyResult(
                checked,
                Finding(
                    rec.seq,
                    rec.id,
                    kind,
                    f"第 {rec.seq} 号审计记录(ID {rec.id}){what},与前一条记录的链接不符",
                ),
            )
        if last_id is not None and rec.id < last_id:
            return VerifyResult(
                checked,
                Finding(
                    rec.seq,
                    rec.id,
                    "reordered",
                    f"第 {rec.seq} 号审计记录(ID {rec.id})的顺序被调整",
                ),
            )
        prev_hash = rec.hash
        last_id = rec.id
        expected_seq += 1
        checked += 1
    head = session.get(AuditChainHead, 1)
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
        return VerifyResult(
            checked,
            Finding(
                head.last_seq + 1,
                None,
                "inserted",
                f"第 {head.last_seq + 1} 号审计记录是在链尾之后插入的",
            ),
        )
    return VerifyResult(checked, None)
