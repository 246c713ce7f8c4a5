"""Usage history (A35.1): who read which shared data, when, for which purpose, how many rows.

Built from ``AccessRecord`` (one row per read, export, verification, gateway call or file fetch,
written by the reading code before the data leaves). The audit trail holds the same events with
their hash chain; the access record is what this history lists, because it carries the 信息项,
the purpose and the row count in columns that can be filtered and indexed.

Visibility (``readable``) lives here, in one function:
- the platform itself, the auditor and the bureau's reviewers read every record;
- a region reviewer reads the records of providers in its regions;
- a department's data administrator reads the records of its own resources (as provider) and of
  its own department's reads (as consumer).
Everyone else reads nothing; the routes also require ``sharing:usage_read``.

Pages are keyset pages over the record id (newest first); no totals are counted on the list.
The CSV export is recorded in the audit trail before a row leaves and is read in short batches
from its own transactions, bounded by the last id at the start (as the audit export does).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.audit.export import safe_cell
from govshare.catalog.models import DataItem, Resource
from govshare.db import Database
from govshare.errors import FieldError, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.models import Department, User
from govshare.identity.permissions import Permission, Role
from govshare.kit.clock import CHINA
from govshare.sharing.models import AccessRecord, ConsumerSystem

MAX_LIMIT = 500
EXPORT_BATCH = 2000
SUMMARY_LIMIT = 200


class AccessKind(StrEnum):
    rows = "rows"
    export = "export"
    verify = "verify"
    gateway = "gateway"
    file = "file"


KIND_LABELS: dict[str, str] = {
    "rows": "接口读取",
    "export": "导出",
    "verify": "核验",
    "gateway": "接口转发",
    "file": "文件获取",
}

GROUPINGS: dict[str, str] = {
    "resource": "按信息资源",
    "consumer": "按使用部门",
    "grant": "按授权",
    "system": "按应用系统",
}

READ_ALL_ROLES = frozenset({Role.auditor, Role.bureau_reviewer})


@dataclass(frozen=True)
class UsageFilter:
    """What the history is narrowed to; every field optional. Days are Beijing days, inclusive."""

    since: dt.date | None = None
    until: dt.date | None = None
    resource_id: int | None = None
    provider_id: int | None = None
    consumer_department_id: int | None = None
    consumer_system_id: int | None = None
    grant_id: int | None = None
    user_id: int | None = None
    kind: str = ""

    def check(self) -> None:
        errors: list[FieldError] = []
        if self.kind and self.kind not in KIND_LABELS:
            errors.append(FieldError("kind", "使用方式只能是接口读取、导出、核验、接口转发或文件获取"))
        if self.since and self.until and self.until < self.since:
            errors.append(FieldError("until", "截止日期不能早于起始日期"))
        if errors:
            raise ValidationFailed("查询条件有误", errors=errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in vars(self).items() if v not in (None, "")
        }


# --- queries -----------------------------------------------------------------------------------


def visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """The WHERE clause of ``readable``; None when the actor reads every record."""
    if actor.kind == "system" or actor.roles & READ_ALL_ROLES:
        return None
    clauses: list[ColumnElement[bool]] = []
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        providers = select(Department.id).where(Department.region_id.in_(sorted(actor.reviewer_region_ids)))
        clauses.append(AccessRecord.provider_id.in_(providers))
    if Role.dept_admin in actor.roles and actor.department_id is not None:
        clauses.append(AccessRecord.provider_id == actor.department_id)
        clauses.append(AccessRecord.consumer_department_id == actor.department_id)
    if not clauses:
        return false()
    return or_(*clauses)


def readable(actor: Actor) -> Select[AccessRecord]:
    """Access records ``actor`` may see (module docstring); every usage read starts here."""
    stmt = select(AccessRecord)
    clause = visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return stmt


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA).astimezone(dt.UTC)


def filtered(actor: Actor, f: UsageFilter) -> Select[AccessRecord]:
    stmt = readable(actor)
    if f.since is not None:
        stmt = stmt.where(AccessRecord.at >= _day_start(f.since))
    if f.until is not None:
        stmt = stmt.where(AccessRecord.at < _day_start(f.until + dt.timedelta(days=1)))
    for column, value in (
        (AccessRecord.resource_id, f.resource_id),
        (AccessRecord.provider_id, f.provider_id),
        (AccessRecord.consumer_department_id, f.consumer_department_id),
        (AccessRecord.consumer_system_id, f.consumer_system_id),
        (AccessRecord.grant_id, f.grant_id),
        (AccessRecord.user_id, f.user_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.kind:
        stmt = stmt.where(AccessRecord.kind == f.kind)
    return stmt


# --- the list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageRow:
    """One access record with the names a person reads."""

    record: AccessRecord
    kind_label: str
    resource_code: str
    resource_name: str
    provider_name: str
    consumer_name: str
    system_name: str
    user_name: str
    item_names: list[str]


@dataclass(frozen=True)
class UsagePage:
    items: list[UsageRow]
    older_cursor: int | None  # pass as ``before`` for the next (older) page
    newer_cursor: int | None  # pass as ``after`` for the previous (newer) page


@dataclass
class _Names:
    resources: dict[int, tuple[str, str]] = field(default_factory=dict)
    departments: dict[int, str] = field(default_factory=dict)
    systems: dict[int, str] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    items: dict[int, str] = field(default_factory=dict)


def _names(session: Session, records: Iterable[AccessRecord]) -> _Names:
    records = list(records)
    out = _Names()
    resource_ids = {r.resource_id for r in records}
    department_ids = {r.provider_id for r in records} | {r.consumer_department_id for r in records}
    system_ids = {r.consumer_system_id for r in records if r.consumer_system_id is not None}
    user_ids = {r.user_id for r in records if r.user_id is not None}
    item_ids = {int(i) for r in records for i in (r.data_item_ids or [])}
    if resource_ids:
        rows = session.execute(select(Resource.id, Resource.code, Resource.name).where(Resource.id.in_(resource_ids)))
        out.resources = {rid: (code, name) for rid, code, name in rows}
    if department_ids:
        rows2 = session.execute(select(Department.id, Department.name).where(Department.id.in_(department_ids)))
        out.departments = {row[0]: row[1] for row in rows2}
    if system_ids:
        rows3 = session.execute(select(ConsumerSystem.id, ConsumerSystem.name).where(ConsumerSystem.id.in_(system_ids)))
        out.systems = {row[0]: row[1] for row in rows3}
    if user_ids:
        rows4 = session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(user_ids)))
        out.users = {uid: f"{display}({username})" for uid, display, username in rows4}
    if item_ids:
        rows5 = session.execute(select(DataItem.id, DataItem.name).where(DataItem.id.in_(item_ids)))
        out.items = {row[0]: row[1] for row in rows5}
    return out


def _rows(session: Session, records: list[AccessRecord]) -> list[UsageRow]:
    names = _names(session, records)
    out: list[UsageRow] = []
    for r in records:
        code, name = names.resources.get(r.resource_id, ("", f"资源 {r.resource_id}"))
        out.append(
            UsageRow(
                record=r,
                kind_label=KIND_LABELS.get(r.kind, r.kind),
                resource_code=code,
                resource_name=name,
                provider_name=names.departments.get(r.provider_id, str(r.provider_id)),
                consumer_name=names.departments.get(r.consumer_department_id, str(r.consumer_department_id)),
                system_name=names.systems.get(r.consumer_system_id, "") if r.consumer_system_id else "",
                user_name=names.users.get(r.user_id, "") if r.user_id else "",
                item_names=[names.items.get(int(i), f"信息项 {i}") for i in (r.data_item_ids or [])],
            )
        )
    return out


def search(
    session: Session,
    actor: Actor,
    filters: UsageFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> UsagePage:
    """One page of the usage history visible to ``actor``, newest first, keyset on the record id."""
    actor.require(Permission.usage_read)
    filters.check()
    limit = min(max(limit, 1), MAX_LIMIT)
    stmt = filtered(actor, filters)
    if after is not None:
        found = list(
            session.execute(stmt.where(AccessRecord.id > after).order_by(AccessRecord.id.asc()).limit(limit + 1))
            .scalars()
            .all()
        )
        more = len(found) > limit
        records = list(reversed(found[:limit]))
        older = records[-1].id if records else None
        newer = records[0].id if records and more else None
    else:
        if before is not None:
            stmt = stmt.where(AccessRecord.id < before)
        found = list(session.execute(stmt.order_by(AccessRecord.id.desc()).limit(limit + 1)).scalars().all())
        more = len(found) > limit
        records = found[:limit]
        older = records[-1].id if records and more else None
        newer = records[0].id if records and before is not None else None
    return UsagePage(_rows(session, records), older, newer)


# --- per resource / consumer / grant / system ------------------------------------------------------


@dataclass(frozen=True)
class UsageGroup:
    key: int | None
    label: str
    reads: int
    rows: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None


def summary(session: Session, actor: Actor, filters: UsageFilter, *, by: str) -> list[UsageGroup]:
    """Reads and rows per resource, consumer department, grant or system, most used first."""
    actor.require(Permission.usage_read)
    filters.check()
    columns = {
        "resource": AccessRecord.resource_id,
        "consumer": AccessRecord.consumer_department_id,
        "grant": AccessRecord.grant_id,
        "system": AccessRecord.consumer_system_id,
    }
    if by not in columns:
        raise ValidationFailed(
            "查询条件有误", errors=[FieldError("by", "汇总方式只能是信息资源、使用部门、授权或应用系统")]
        )
    key = columns[by]
    base = filtered(actor, filters).subquery()
    grouped_key = base.c[key.key]
    reads = func.count()
    stmt = (
        select(
            grouped_key,
            reads,
            func.coalesce(func.sum(base.c.row_count), 0),
            func.min(base.c.at),
            func.max(base.c.at),
        )
        .group_by(grouped_key)
        .order_by(reads.desc(), grouped_key)
        .limit(SUMMARY_LIMIT)
    )
    groups = list(session.execute(stmt).all())
    labels = _group_labels(session, by, [g[0] for g in groups if g[0] is not None])
    return [
        UsageGroup(
            key=g[0],
            label=labels.get(g[0], str(g[0])) if g[0] is not None else _NONE_LABELS[by],
            reads=int(g[1]),
            rows=int(g[2]),
            first_at=_aware(g[3]),
            last_at=_aware(g[4]),
        )
        for g in groups
    ]


_NONE_LABELS = {"resource": "", "consumer": "", "grant": "无条件共享(无需授权)", "system": "人员操作(非应用系统)"}


def _aware(value: Any) -> dt.datetime | None:
    # Aggregates bypass the column type: SQLite gives text, PostgreSQL a naive UTC timestamp.
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value if isinstance(value, dt.datetime) else None


def _group_labels(session: Session, by: str, keys: list[int]) -> dict[int, str]:
    if not keys:
        return {}
    if by == "resource":
        rows = session.execute(select(Resource.id, Resource.code, Resource.name).where(Resource.id.in_(keys)))
        return {rid: f"{name}({code})" for rid, code, name in rows}
    if by == "consumer":
        rows2 = session.execute(select(Department.id, Department.name).where(Department.id.in_(keys)))
        return {row[0]: row[1] for row in rows2}
    if by == "system":
        rows3 = session.execute(select(ConsumerSystem.id, ConsumerSystem.name).where(ConsumerSystem.id.in_(keys)))
        return {row[0]: row[1] for row in rows3}
    return {gid: f"授权 #{gid}" for gid in keys}


# --- CSV export --------------------------------------------------------------------------------

HEADER = (
    "记录号",
    "时间(北京时间)",
    "使用方式",
    "信息资源代码",
    "信息资源名称",
    "提供部门",
    "使用部门",
    "应用系统",
    "使用人",
    "授权号",
    "用途",
    "信息项",
    "行数",
    "请求号",
)


def _csv_row(row: UsageRow) -> list[str]:
    r = row.record
    values: list[Any] = [
        r.id,
        r.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        row.kind_label,
        row.resource_code,
        row.resource_name,
        row.provider_name,
        row.consumer_name,
        row.system_name,
        row.user_name,
        r.grant_id if r.grant_id is not None else "",
        r.purpose,
        "、".join(row.item_names),
        r.row_count,
        r.request_id,
    ]
    return [safe_cell(v) for v in values]


def _encode(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def export_csv(session: Session, actor: Actor, filters: UsageFilter, *, reader: Database) -> Iterator[bytes]:
    """Record the export, then return the history as CSV (UTF-8 with BOM), oldest first, in chunks."""
    actor.require(Permission.usage_read)
    filters.check()
    upto = session.execute(filtered(actor, filters).with_only_columns(func.max(AccessRecord.id))).scalar_one()
    audit.record(
        session,
        actor,
        Action.usage_exported,
        object_type="usage_history",
        after={"filters": filters.as_dict(), "upto_id": upto},
    )
    return _stream(actor, filters, int(upto or 0), reader)


def _stream(actor: Actor, filters: UsageFilter, upto: int, reader: Database) -> Iterator[bytes]:
    yield b"\xef\xbb\xbf" + _encode([list(HEADER)])
    cursor = 0
    while cursor < upto:
        with reader.session_scope() as session:
            stmt = (
                filtered(actor, filters)
                .where(AccessRecord.id > cursor, AccessRecord.id <= upto)
                .order_by(AccessRecord.id.asc())
                .limit(EXPORT_BATCH)
            )
            batch = list(session.execute(stmt).scalars().all())
            chunk = _encode([_csv_row(r) for r in _rows(session, batch)])
        if not batch:
            return
        cursor = batch[-1].id
        yield chunk


# --- what the filter form offers -----------------------------------------------------------------


@dataclass(frozen=True)
class FilterOptions:
    resources: list[tuple[int, str]]
    departments: list[tuple[int, str]]
    systems: list[tuple[int, str]]


def filter_options(session: Session, actor: Actor) -> FilterOptions:
    """The resources, departments and systems that occur in the history ``actor`` sees."""
    actor.require(Permission.usage_read)
    visible = readable(actor).subquery()
    resource_ids = select(visible.c.resource_id).distinct()
    department_ids = select(visible.c.consumer_department_id).union(select(visible.c.provider_id))
    system_ids = select(visible.c.consumer_system_id).where(visible.c.consumer_system_id.is_not(None)).distinct()
    resources = session.execute(
        select(Resource.id, Resource.name, Resource.code).where(Resource.id.in_(resource_ids)).order_by(Resource.code)
    ).all()
    departments = session.execute(
        select(Department.id, Department.name).where(Department.id.in_(department_ids)).order_by(Department.name)
    ).all()
    systems = session.execute(
        select(ConsumerSystem.id, ConsumerSystem.name)
        .where(ConsumerSystem.id.in_(system_ids))
        .order_by(ConsumerSystem.name)
    ).all()
    return FilterOptions(
        resources=[(rid, f"{name}({code})") for rid, name, code in resources],
        departments=[(did, name) for did, name in departments],
        systems=[(sid, name) for sid, name in systems],
    )
