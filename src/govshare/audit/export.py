"""Exporting the audit trail as CSV for auditors (A40.1), streamed, and safe to open in a spreadsheet.

The export is recorded (``audit.trail.exported``) in the request's own short transaction, before a
single row leaves, together with the filters and the last ``seq`` it covers. The rows are then read
in batches, each in its own short transaction from ``reader``: a long download must not hold a
transaction (on SQLite, the write lock) open, and the request's session is closed by the time the
response streams. That is why this service takes the ``Database`` as well as the session. The
``seq`` bound fixed at the start keeps the file consistent while new records keep arriving.

Cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) are prefixed with an apostrophe (OWASP CSV injection guidance).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import repository as audit_repo
from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.audit.models import AuditRecord
from govshare.audit.repository import AuditFilter
from govshare.db import Database
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import CHINA

BATCH = 2000
HEADER = (
    "序号",
    "时间(北京时间)",
    "操作人账号",
    "操作人ID",
    "角色",
    "部门ID",
    "操作",
    "对象类型",
    "对象ID",
    "结果",
    "来源IP",
    "请求ID",
    "变更前",
    "变更后",
    "哈希",
    "前一条哈希",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not evaluate as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _row(rec: AuditRecord) -> list[str]:
    values: list[Any] = [
        rec.seq,
        rec.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        rec.actor_name,
        rec.actor_id,
        rec.role,
        rec.department_id,
        rec.action,
        rec.object_type,
        rec.object_id,
        rec.outcome,
        rec.source_ip,
        rec.request_id,
        json.dumps(rec.before, ensure_ascii=False, sort_keys=True) if rec.before is not None else "",
        json.dumps(rec.after, ensure_ascii=False, sort_keys=True) if rec.after is not None else "",
        rec.hash,
        rec.prev_hash,
    ]
    return [safe_cell(v) for v in values]


def _encode(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def export_csv(session: Session, actor: Actor, filters: AuditFilter, *, reader: Database) -> Iterator[bytes]:
    """Record the export, then return the CSV (UTF-8 with BOM, for Excel) as a stream of chunks."""
    actor.require(Permission.audit_read)
    upto = audit_repo.last_seq(session)
    audit.record(
        session,
        actor,
        Action.audit_exported,
        object_type="audit_trail",
        after={
            "filters": {k: v for k, v in vars(filters).items() if v not in (None, "")},
            "upto_seq": upto,
        },
    )
    return _stream(actor, filters, upto, reader)


def _stream(actor: Actor, filters: AuditFilter, upto: int, reader: Database) -> Iterator[bytes]:
    yield b"\xef\xbb\xbf" + _encode([list(HEADER)])
    cursor = 0
    while True:
        with reader.session_scope() as session:
            stmt = audit_repo.filtered(actor, filters)
            batch = audit_repo.batch_after(session, stmt, after_seq=cursor, upto_seq=upto, limit=BATCH)
            chunk = _encode([_row(r) for r in batch])
        if not batch:
            return
        cursor = batch[-1].id
        yield chunk
