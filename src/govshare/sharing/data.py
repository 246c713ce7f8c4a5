"""Reading shared rows from the base (A5.2, A20.1, A26.1): what a reader may see, and one page of it.

Rules:
- Only a published, shareable, non-涉密 resource is reachable; anything else is "not found", with no
  hint whether it exists (不予共享, unpublished and 涉密 resources look alike).
- A conditional resource is read under a grant, checked on every call (``grants.usable_grant``):
  only the grant's 信息项 (still shareable, present in the base), masked unless the grant says
  ``clear``. An unconditional resource (A20.1) needs no grant: every shareable 信息项, masked.
- Filters and sorting only on granted 信息项, and never on a masked one (an equality or prefix test
  on a masked 身份证号 would unmask it a character at a time).
- Keyset pagination on (sort value, row key): the row key is the mount's key column, else the
  base's own row identifier (SQLite ``rowid``, PostgreSQL ``ctid``). The cursor is encrypted,
  since the key may itself be an ungranted 信息项. No totals.
- One SQL query with LIMIT per page; values are converted and masked per column, not per cell.
- Every read leaves an access record and an audit record in the caller's transaction; the caller
  commits before the rows leave the platform.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column as SAColumn
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

from govshare.audit.actions import Action
from govshare.catalog.enums import Channel, ResourceStatus, ShareType
from govshare.catalog.models import DataItem, Resource
from govshare.config import get_settings
from govshare.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from govshare.exchange import base
from govshare.exchange.models import BaseTable, Mount
from govshare.identity.actor import Actor
from govshare.sharing import masking
from govshare.sharing.access import ReadRecord, record_access_and_audit
from govshare.sharing.enums import GrantStatus, Masking
from govshare.sharing.grants import check_usable, grant_columns
from govshare.sharing.models import Grant

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
RESERVED_PARAMS = frozenset({"grant_id", "limit", "after", "sort", "order", "purpose"})
_ITEM_PARAM = re.compile(r"^i(\d{1,18})$")
_TEXT_TYPES = frozenset({"C", "M", "G"})
_DECIMAL_TYPES = frozenset({"N", "Y", "B", "F"})
UNCONDITIONAL_PURPOSE = "无条件共享数据读取"


@dataclass(frozen=True)
class Reader:
    """Who reads: a consumer system (``system_id``) or a person (``user_id``) of a department."""

    actor: Actor
    department_id: int
    system_id: int | None = None
    user_id: int | None = None

    @property
    def request_id(self) -> str:
        return self.actor.context.request_id


@dataclass(frozen=True)
class ItemColumn:
    item_id: int
    name: str
    data_type: str
    sensitivity: str
    masked: bool

    @property
    def key(self) -> str:
        return f"i{self.item_id}"

    @property
    def column(self) -> str:
        return base.column_name(self.item_id)


@dataclass(frozen=True)
class Scope:
    """What one reader may read of one resource right now."""

    resource_id: int
    resource_code: str
    resource_name: str
    provider_id: int
    channel: str
    grant_id: int | None
    purpose: str
    columns: tuple[ItemColumn, ...]
    table_name: str = ""
    key_column: str = ""  # "c12", or "rowid" / "ctid"
    key_type: str = ""  # the key 信息项's data type, or "rowid" / "ctid"

    def column_of(self, item_id: int) -> ItemColumn | None:
        for c in self.columns:
            if c.item_id == item_id:
                return c
        return None


@dataclass(frozen=True)
class RowsQuery:
    limit: int = DEFAULT_LIMIT
    after: str | None = None
    sort: int | None = None  # a 信息项 id
    order: str = "asc"
    filters: dict[int, str] = field(default_factory=dict)
    # other parameters: for an API-channel resource, the upstream's declared parameters
    upstream: dict[str, str] = field(default_factory=dict)


@dataclass
class RowsPage:
    scope: Scope
    rows: list[dict[str, Any]]
    next: str | None
    upstream_status: int | None = None

    def as_dict(self) -> dict[str, Any]:
        body = {
            "resource": self.scope.resource_code,
            "grant_id": self.scope.grant_id,
            "data_items": [{"id": c.item_id, "name": c.name, "masked": c.masked} for c in self.scope.columns],
            "rows": self.rows,
            "next": self.next,
        }
        if self.upstream_status is not None:
            body["upstream_status"] = self.upstream_status
        return body


# --- input translation --------------------------------------------------------------------------


def parse_item(value: str, field_name: str) -> int:
    match = _ITEM_PARAM.match(value.strip())
    if match is None:
        raise ValidationFailed(
            "信息项应写作 i<信息项编号>,例如 i123", errors=[FieldError(field_name, "信息项应写作 i<信息项编号>")]
        )
    return int(match.group(1))


def rows_query(pairs: Sequence[tuple[str, str]]) -> tuple[RowsQuery, int | None, str]:
    """(query, grant_id, purpose) from the request's query pairs; unknown parameters are refused."""
    values: dict[str, str] = {}
    filters: dict[int, str] = {}
    upstream: dict[str, str] = {}
    errors: list[FieldError] = []
    for key, value in pairs:
        if key in RESERVED_PARAMS:
            values[key] = value
        elif _ITEM_PARAM.match(key):
            item = int(key[1:])
            if item in filters:
                errors.append(FieldError(key, "同一信息项只能给出一个筛选值"))
            filters[item] = value
        elif len(key) <= 64 and key not in upstream:
            upstream[key] = value
        else:
            errors.append(FieldError(key[:64], "查询参数有误"))
    limit = DEFAULT_LIMIT
    if values.get("limit", "").strip():
        raw = values["limit"].strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            errors.append(FieldError("limit", f"每页条数应在 1 到 {MAX_LIMIT} 之间"))
        else:
            limit = int(raw)
    grant_id: int | None = None
    if values.get("grant_id", "").strip():
        raw = values["grant_id"].strip()
        if not raw.isdigit():
            errors.append(FieldError("grant_id", "授权编号应为整数"))
        else:
            grant_id = int(raw)
    order = values.get("order", "asc").strip() or "asc"
    if order not in ("asc", "desc"):
        errors.append(FieldError("order", "排序方向只能是 asc 或 desc"))
    sort: int | None = None
    if values.get("sort", "").strip():
        match = _ITEM_PARAM.match(values["sort"].strip())
        if match is None:
            errors.append(FieldError("sort", "排序信息项应写作 i<信息项编号>"))
        else:
            sort = int(match.group(1))
    purpose = values.get("purpose", "").strip()
    if len(purpose) > 500:
        errors.append(FieldError("purpose", "用途说明不能超过 500 个字"))
    if errors:
        raise ValidationFailed("查询参数有误:" + ";".join(f"{e.field} {e.message}" for e in errors), errors=errors)
    after = values.get("after", "").strip() or None
    query = RowsQuery(limit=limit, after=after, sort=sort, order=order, filters=filters, upstream=upstream)
    return query, grant_id, purpose


# --- the scope ----------------------------------------------------------------------------------

_NOT_FOUND = "信息资源不存在或未发布"


@lru_cache(maxsize=2)
def resource_rows_stmt(with_grant: bool = False) -> Select[Any]:
    # built once, plain Core (no ORM entities): this runs on every call of the data API; with_grant
    # also reads the grant ``grant_id`` (``grants.grant_columns``, prefixed ``g_``) in the same round trip
    r, bt, m, di = (cast_table(t) for t in (Resource, BaseTable, Mount, DataItem))
    latest_mount = (
        select(m.c.id)
        .where(m.c.resource_id == r.c.id, m.c.status == "active")
        .order_by(m.c.id.desc())
        .limit(1)
        .correlate(r)
        .scalar_subquery()
    )
    stmt = (
        select(
            r.c.id,
            r.c.code,
            r.c.name,
            r.c.provider_id,
            r.c.channel,
            r.c.status,
            r.c.classified,
            r.c.share_type,
            bt.c.table_name,
            # as text, parsed once below: the driver would parse these JSON values on every 信息项's row
            cast(bt.c.columns, Text).label("base_columns"),
            m.c.key_column,
            cast(m.c.mapping, Text).label("mapping"),
            di.c.id.label("item_id"),
            di.c.name.label("item_name"),
            di.c.data_type,
            di.c.sensitivity,
            di.c.shareable,
        )
        .select_from(r)
        .outerjoin(bt, bt.c.resource_id == r.c.id)
        .outerjoin(m, m.c.id == latest_mount)
        .outerjoin(di, di.c.resource_id == r.c.id)
        .where(r.c.code == bindparam("code"))
        .order_by(di.c.position)
    )
    if with_grant:
        # the grant's columns computed once (a CTE), not once per 信息项's row
        g = cast_table(Grant)
        grant = select(*grant_columns(prefix="g_")).where(g.c.id == bindparam("grant_id")).cte("usable_grant")
        stmt = stmt.add_columns(*grant.c).outerjoin(grant, true())
    return stmt


def cast_table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def resource_rows_params(code: str, grant_id: int | None) -> dict[str, Any]:
    return {"code": code} if grant_id is None else {"code": code, "grant_id": grant_id}


def check_reachable(rows: Sequence[Mapping[Any, Any]]) -> None:
    """Not found unless the resource exists, is published, shareable and not 涉密 (one answer for all)."""
    first = rows[0] if rows else None
    if (
        first is None
        or first["status"] != ResourceStatus.published
        or first["classified"]
        or first["share_type"] not in (ShareType.unconditional, ShareType.conditional)
    ):
        raise NotFound(_NOT_FOUND, code="resource_not_found")


def _resource_rows(session: Session, code: str, grant_id: int | None = None) -> list[Mapping[Any, Any]]:
    """The resource, its base table, its active mount's key and its 信息项 (and the grant's columns when
    ``grant_id`` is given): one query, one row per 信息项."""
    stmt = resource_rows_stmt(grant_id is not None)
    rows: list[Mapping[Any, Any]] = [
        r._mapping for r in session.connection().execute(stmt, resource_rows_params(code, grant_id))
    ]
    check_reachable(rows)
    return rows


@dataclass(frozen=True)
class _Item:
    id: int
    name: str
    data_type: str
    sensitivity: str
    shareable: bool


def resolve_scope(
    session: Session, reader: Reader, *, resource_code: str, grant_id: int | None, purpose: str = ""
) -> Scope:
    """What ``reader`` may read of the resource today; refusals are Forbidden / NotFound."""
    rows = _resource_rows(session, resource_code, grant_id)
    return scope_from_rows(rows, reader, grant_id=grant_id, purpose=purpose)


def scope_from_rows(
    rows: Sequence[Mapping[Any, Any]], reader: Reader, *, grant_id: int | None, purpose: str = ""
) -> Scope:
    """The scope from what ``resource_rows_stmt`` read (reachability already checked)."""
    resource = rows[0]
    if grant_id is not None:
        # the grant's status is read fresh, in the same statement as the resource (never cached)
        grant = check_usable(
            resource, consumer_department_id=reader.department_id, system_id=reader.system_id, prefix="g_"
        )
        if grant.resource_id != resource["id"]:
            raise NotFound("授权不存在", code="grant_not_found")
        allowed: frozenset[int] | None = grant.data_item_ids
        clear = grant.masking == Masking.clear
        scope_purpose = grant.purpose
    elif resource["share_type"] == ShareType.unconditional:
        allowed, clear, scope_purpose = None, False, purpose or UNCONDITIONAL_PURPOSE
    else:
        raise Forbidden("有条件共享的信息资源须凭授权读取,请提供 grant_id", code="grant_required")
    items = [
        _Item(r["item_id"], r["item_name"], r["data_type"], r["sensitivity"], r["shareable"])
        for r in rows
        if r["item_id"] is not None
    ]
    common: dict[str, Any] = {
        "resource_id": resource["id"],
        "resource_code": resource["code"],
        "resource_name": resource["name"],
        "provider_id": resource["provider_id"],
        "channel": resource["channel"],
        "grant_id": grant_id,
        "purpose": scope_purpose,
    }
    if resource["channel"] != Channel.table:
        columns = tuple(
            ItemColumn(i.id, i.name, i.data_type, i.sensitivity, not clear and masking.is_sensitive(i.sensitivity))
            for i in items
            if i.shareable and (allowed is None or i.id in allowed)
        )
        return Scope(columns=columns, **common)
    if resource["table_name"] is None:
        raise Conflict("该信息资源的数据尚未汇聚到大数据基座,请稍后再试", code="base_not_ready")
    in_base = {int(c["item_id"]) for c in json.loads(resource["base_columns"] or "[]")}
    columns = tuple(
        ItemColumn(i.id, i.name, i.data_type, i.sensitivity, not clear and masking.is_sensitive(i.sensitivity))
        for i in items
        if i.shareable and i.id in in_base and (allowed is None or i.id in allowed)
    )
    if not columns:
        raise Forbidden("授权范围内没有可读取的信息项", code="no_items")
    key_item = _key_item(resource["key_column"], json.loads(resource["mapping"] or "null"), in_base)
    types = {i.id: i.data_type for i in items}
    if key_item is not None:
        key_column, key_type = base.column_name(key_item), types[key_item]
    else:
        key_column = key_type = ""
    return Scope(columns=columns, table_name=resource["table_name"], key_column=key_column, key_type=key_type, **common)


def _key_item(key_column: str | None, mapping: dict[str, str] | None, in_base: set[int]) -> int | None:
    if not key_column or not mapping:
        return None
    for item_id, source_column in mapping.items():
        if source_column == key_column and int(item_id) in in_base:
            return int(item_id)
    return None


# --- the base query -----------------------------------------------------------------------------


class _Tid(UserDefinedType[str]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid"


@lru_cache(maxsize=512)
def _table(name: str, columns: tuple[tuple[str, str], ...]) -> Table:
    # cached so that SQLAlchemy's compiled-statement cache sees the same Table for the same shape
    return Table(name, MetaData(), *[SAColumn(c, base.sql_type(t)) for c, t in columns])


@contextmanager
def base_connection(session: Session) -> Iterator[Connection]:
    """The base: its own database when ``GOVSHARE_BASE_URL`` is set, else the request's own connection."""
    settings = get_settings()
    if settings.base_url:
        with base.base_engine(settings).connect() as conn:
            yield conn
    else:
        yield session.connection()


def _convert(raw: str, data_type: str, field_name: str) -> Any:
    value = raw.strip()
    try:
        if data_type == "I":
            return int(value)
        if data_type in _DECIMAL_TYPES:
            return Decimal(value)
        if data_type == "D":
            return dt.date.fromisoformat(value)
        if data_type == "T":
            return dt.datetime.fromisoformat(value)
        if data_type == "L":
            if value.lower() in ("true", "1", "是"):
                return True
            if value.lower() in ("false", "0", "否"):
                return False
            raise ValueError(value)
    except (ValueError, InvalidOperation):
        raise ValidationFailed(
            f"筛选值“{raw[:50]}”的格式不符合信息项类型", errors=[FieldError(field_name, "取值格式不正确")]
        ) from None
    return raw


def _usable_item(scope: Scope, item_id: int, what: str) -> ItemColumn:
    column = scope.column_of(item_id)
    if column is None:
        raise Forbidden(f"{what}只能使用授权范围内的信息项", code="item_not_granted")
    if column.masked:
        raise Forbidden(f"脱敏信息项「{column.name}」不能用于{what}", code="item_masked")
    return column


# cursor: AES-GCM under a key derived from the platform secret; the key value may be an ungranted item


def _cursor_cipher() -> AESGCM:
    secret = get_settings().security.secret_key
    found = _CIPHERS.get(secret)
    if found is None:  # one per platform secret (it follows the settings, which tests change)
        found = _CIPHERS[secret] = AESGCM(hashlib.sha256(("govshare-cursor:" + secret).encode()).digest())
    return found


_CIPHERS: dict[str, AESGCM] = {}


def encode_cursor(payload: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    body = _cursor_cipher().encrypt(nonce, json.dumps(payload, separators=(",", ":")).encode(), b"gs-cursor")
    return base64.urlsafe_b64encode(nonce + body).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    invalid = ValidationFailed(
        "翻页游标无效,请从第一页重新读取", code="cursor_invalid", errors=[FieldError("after", "游标无效")]
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(_cursor_cipher().decrypt(raw[:12], raw[12:], b"gs-cursor"))
    except (ValueError, InvalidTag, json.JSONDecodeError):
        raise invalid from None
    if not isinstance(data, dict):
        raise invalid
    return data


def _key_expression(key_column: str, key_type: str, table: Table, dialect: str) -> tuple[ColumnElement[Any], str, str]:
    """(expression, type, name) of the row key."""
    if key_column:
        return table.c[key_column], key_type, key_column
    if dialect == "sqlite":
        return literal_column("rowid"), "rowid", "rowid"
    if dialect == "postgresql":
        return literal_column("ctid"), "ctid", "ctid"
    raise Conflict("该信息资源未设置键字段,无法分页读取,请联系提供部门在挂载中设置键字段", code="key_missing")


def _key_param(key_expr: ColumnElement[Any], key_type: str) -> ColumnElement[Any]:
    if key_type == "ctid":
        return cast(bindparam("key_after", type_=Text), _Tid())
    return bindparam("key_after", type_=Integer() if key_type == "rowid" else key_expr.type)


_sort_indexes: set[tuple[str, str, str]] = set()


def ensure_sort_index(conn: Connection, table: str, column: str, key: str) -> None:
    """An index on (sort column, key) the first time a column is sorted on; kept for later reads."""
    if (table, column, key) in _sort_indexes or key == "ctid":
        return
    name = f"{table}_s{column[1:]}"
    parts = f'"{column}"' + (f', "{key}"' if key != "rowid" else "")
    try:
        with conn.begin_nested():
            conn.execute(text(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({parts})'))
    except Exception:  # a concurrent creation, or a base that refuses DDL: reading works without it
        return
    _sort_indexes.add((table, column, key))


def _values_for_output(values: Sequence[Any], column: ItemColumn) -> list[Any]:
    if column.masked:
        return masking.mask_column(values, column.sensitivity)
    if column.data_type in _DECIMAL_TYPES:
        return [None if v is None else str(v) for v in values]
    if column.data_type in ("D", "T"):
        return [v.isoformat() if isinstance(v, dt.date) else v for v in values]
    return list(values)


@dataclass(frozen=True)
class PageQuery:
    """One page's statement, with named parameters only, and its ``shape``: everything the statement
    depends on, so that one shape is one statement (built once, compiled once). ``sort_index`` is
    (column, key) to index the first time a column is sorted on."""

    statement: Select[Any]
    params: dict[str, Any]
    shape: tuple[Any, ...]
    sort_index: tuple[str, str] | None = None


def page_query(scope: Scope, query: RowsQuery, dialect: str) -> PageQuery:
    """The statement of one page (filters and sort checked against the scope, the cursor decoded)."""
    params: dict[str, Any] = {"page_limit": query.limit + 1}
    filters: list[tuple[int, str, bool]] = []  # (信息项, column, prefix)
    for item_id, raw in sorted(query.filters.items()):
        column = _usable_item(scope, item_id, "筛选")
        prefix = column.data_type in _TEXT_TYPES and raw.endswith("*") and len(raw) > 1
        if prefix:
            escaped = raw[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params[f"f{item_id}"] = escaped + "%"
        else:
            params[f"f{item_id}"] = _convert(raw, column.data_type, f"i{item_id}")
        filters.append((item_id, column.column, prefix))
    sort: tuple[str, str] | None = None
    if query.sort is not None:
        sort_item = _usable_item(scope, query.sort, "排序")
        sort = (sort_item.column, sort_item.data_type)
    after = ""
    if query.after:
        cursor = decode_cursor(query.after)
        if (
            cursor.get("r") != scope.resource_id
            or cursor.get("s") != (query.sort or 0)
            or cursor.get("o") != query.order
        ):
            raise ValidationFailed(
                "翻页游标与本次查询的资源或排序不一致,请从第一页重新读取",
                code="cursor_invalid",
                errors=[FieldError("after", "游标无效")],
            )
        key_value = base.decode_watermark(cursor.get("k"))
        params["key_after"] = str(key_value) if scope.key_column == "" and dialect == "postgresql" else key_value
        if sort is None:
            after = "key"
        elif cursor.get("n"):
            after = "null"
        else:
            after = "value"
            params["sort_after"] = base.decode_watermark(cursor.get("v"))
    columns = tuple((c.column, c.data_type) for c in scope.columns)
    shape = (
        dialect,
        scope.table_name,
        columns,
        scope.key_column,
        scope.key_type,
        tuple(filters),
        sort,
        query.order,
        after,
    )
    statement, key_name = _page_statement(shape)
    return PageQuery(statement, params, shape, (sort[0], key_name) if sort is not None else None)


@lru_cache(maxsize=256)
def _page_statement(shape: tuple[Any, ...]) -> tuple[Select[Any], str]:
    """The page statement of one shape (see ``page_query``), and the name of its row key."""
    dialect, table_name, columns, key_column, key_type, filters, sort, order, after = shape
    table_shape = columns
    if key_column and key_column not in {c for c, _ in columns}:
        table_shape += ((key_column, key_type),)
    table = _table(table_name, table_shape)
    key_expr, key_type, key_name = _key_expression(key_column, key_type, table, dialect)
    conditions: list[ColumnElement[bool]] = []
    for item_id, column, prefix in filters:
        target = table.c[column]
        if prefix:
            conditions.append(target.like(bindparam(f"f{item_id}"), escape="\\"))
        else:
            conditions.append(target == bindparam(f"f{item_id}", type_=target.type))
    descending = order == "desc"
    sort_column = table.c[sort[0]] if sort is not None else None
    if after:
        key_param = _key_param(key_expr, key_type)
        key_after = key_expr < key_param if descending else key_expr > key_param
        if sort_column is None:
            conditions.append(key_after)
        elif after == "null":
            conditions.append(and_(sort_column.is_(None), key_after))
        else:
            sort_value = bindparam("sort_after", type_=sort_column.type)
            beyond = sort_column < sort_value if descending else sort_column > sort_value
            conditions.append(
                or_(
                    sort_column.is_(None),
                    and_(sort_column.is_not(None), or_(beyond, and_(sort_column == sort_value, key_after))),
                )
            )
    order_by: list[Any] = []
    if sort_column is not None:
        order_by.append(sort_column.desc().nulls_last() if descending else sort_column.asc().nulls_last())
    order_by.append(key_expr.desc() if descending else key_expr.asc())
    statement = (
        select(
            *[table.c[c] for c, _ in columns],
            key_expr.label("__key"),
            *([sort_column.label("__sort")] if sort_column is not None else []),
        )
        .select_from(table)
        .where(*conditions)
        .order_by(*order_by)
        .limit(bindparam("page_limit", type_=Integer))
    )
    return statement, key_name


def page_rows(
    scope: Scope, query: RowsQuery, raw_rows: Sequence[Sequence[Any]]
) -> tuple[Sequence[Sequence[Any]], str | None]:
    """(the page's raw tuples, the next cursor) from what ``page_query`` read (one row more than a page)."""
    more = len(raw_rows) > query.limit
    raw_rows = raw_rows[: query.limit]
    next_cursor: str | None = None
    if more and raw_rows:
        last = raw_rows[-1]
        n = len(scope.columns)
        payload: dict[str, Any] = {
            "r": scope.resource_id,
            "s": query.sort or 0,
            "o": query.order,
            "k": base.encode_watermark(last[n]),
        }
        if query.sort is not None:
            payload["n"] = last[n + 1] is None
            payload["v"] = base.encode_watermark(last[n + 1])
        next_cursor = encode_cursor(payload)
    return raw_rows, next_cursor


def fetch(
    conn: Connection, scope: Scope, query: RowsQuery
) -> tuple[list[dict[str, Any]], str | None, Sequence[Sequence[Any]]]:
    """One page: (rows as output dicts, next cursor, raw tuples)."""
    page = page_query(scope, query, conn.dialect.name)
    if page.sort_index is not None:
        ensure_sort_index(conn, scope.table_name, *page.sort_index)
    raw_page, next_cursor = page_rows(scope, query, conn.execute(page.statement, page.params).all())
    return to_output(scope, raw_page), next_cursor, raw_page


def to_output(scope: Scope, raw_rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Output dicts, converted and masked column by column."""
    if not raw_rows:
        return []
    n = len(scope.columns)
    transposed = list(zip(*raw_rows, strict=False))[:n]
    out_columns = [_values_for_output(values, column) for values, column in zip(transposed, scope.columns, strict=True)]
    keys = [c.key for c in scope.columns]
    return [dict(zip(keys, values, strict=True)) for values in zip(*out_columns, strict=True)]


def read_record(
    reader: Reader,
    scope: Scope,
    *,
    kind: str,
    row_count: int,
    detail: dict[str, Any],
    action: Action = Action.data_read,
) -> ReadRecord:
    """What the access record and the audit record of one read say."""
    item_ids = [c.item_id for c in scope.columns]
    return ReadRecord(
        reader.actor,
        action,
        kind=kind,
        resource_id=scope.resource_id,
        provider_id=scope.provider_id,
        consumer_department_id=reader.department_id,
        consumer_system_id=reader.system_id,
        user_id=reader.user_id,
        grant_id=scope.grant_id,
        purpose=scope.purpose,
        data_item_ids=item_ids,
        row_count=row_count,
        request_id=reader.request_id,
        detail=detail,
        audit_after={
            "resource": scope.resource_code,
            "grant_id": scope.grant_id,
            "system_id": reader.system_id,
            "data_item_ids": item_ids,
            "rows": row_count,
            "kind": kind,
        },
    )


def query_detail(query: RowsQuery) -> dict[str, Any]:
    return {
        "filters": {f"i{k}": v[:100] for k, v in sorted(query.filters.items())},
        "sort": f"i{query.sort}" if query.sort else None,
        "order": query.order,
        "limit": query.limit,
        "page": "next" if query.after else "first",
    }


def read_rows(
    session: Session,
    reader: Reader,
    *,
    resource_code: str,
    grant_id: int | None,
    query: RowsQuery,
    purpose: str = "",
) -> RowsPage:
    """One page of the rows ``reader`` may see, access and audit recorded (not yet committed)."""
    scope = resolve_scope(session, reader, resource_code=resource_code, grant_id=grant_id, purpose=purpose)
    if scope.channel == Channel.api:
        return _read_api(session, reader, scope, query)
    if scope.channel != Channel.table:
        raise Conflict("该资源为文件共享,请通过文件下载获取", code="file_channel")
    reject_upstream_params(query)
    with base_connection(session) as conn:
        rows, next_cursor, _ = fetch(conn, scope, query)
    record_access_and_audit(
        session, read_record(reader, scope, kind="rows", row_count=len(rows), detail=query_detail(query))
    )
    return RowsPage(scope=scope, rows=rows, next=next_cursor)


def reject_upstream_params(query: RowsQuery) -> None:
    """A table-channel resource knows no parameters beyond the reserved ones and its 信息项."""
    if query.upstream:
        names = sorted(query.upstream)
        raise ValidationFailed(
            "未知的查询参数:" + "、".join(names), errors=[FieldError(n, "未知的查询参数") for n in names]
        )


# --- what a person can open ---------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A resource the reader's department can read now: under a grant, or unconditionally."""

    resource_code: str
    resource_name: str
    channel: str
    grant_id: int | None
    purpose: str
    valid_until: dt.date | None


def readable_sources(session: Session, reader: Reader, *, q: str = "", limit: int = 50) -> list[Source]:
    """The department's active grants, then published unconditional resources (``q`` filters both)."""
    reachable = and_(
        Resource.status == ResourceStatus.published,
        Resource.classified.is_(False),
    )
    text_filter = []
    if q.strip():
        pattern = "%" + q.strip().replace("%", "").replace("_", "") + "%"
        text_filter.append(or_(Resource.name.like(pattern), Resource.code.like(pattern)))
    granted = session.execute(
        select(Resource.code, Resource.name, Resource.channel, Grant.id, Grant.purpose, Grant.valid_until)
        .join(Grant, Grant.resource_id == Resource.id)
        .where(
            Grant.consumer_department_id == reader.department_id,
            Grant.status == GrantStatus.active,
            Resource.share_type.in_([ShareType.conditional, ShareType.unconditional]),
            reachable,
            *text_filter,
        )
        .order_by(Grant.id.desc())
        .limit(limit)
    ).all()
    open_ = session.execute(
        select(Resource.code, Resource.name, Resource.channel)
        .where(Resource.share_type == ShareType.unconditional, reachable, *text_filter)
        .order_by(Resource.code)
        .limit(limit)
    ).all()
    return [Source(r[0], r[1], r[2], r[3], r[4], r[5]) for r in granted] + [
        Source(r[0], r[1], r[2], None, "", None) for r in open_
    ]


def _read_api(session: Session, reader: Reader, scope: Scope, query: RowsQuery) -> RowsPage:
    """An API-channel resource: the upstream is called through the gateway with its declared
    parameters, and its JSON answer is read through the mount's data dictionary; only the granted
    信息项 are returned, masked. No filters, sorting or pages: the upstream answers the lookup."""
    if query.filters or query.sort is not None or query.after:
        raise ValidationFailed(
            "接口共享的信息资源不支持筛选、排序和翻页,请使用接口登记的查询参数",
            code="api_channel_query",
            errors=[FieldError("filters", "不支持")],
        )
    from govshare.exchange.api_mounts import call_records  # the gateway is needed only for API resources

    answer = call_records(
        session,
        Actor.system(reader.actor.context, name="sharing"),
        resource_id=scope.resource_id,
        params=query.upstream,
    )
    raw = [[record.get(c.item_id) for c in scope.columns] for record in answer.records[:MAX_LIMIT]]
    rows = to_output(scope, raw)
    detail = {"parameters": sorted(query.upstream), "upstream_status": answer.status}
    record_access_and_audit(session, read_record(reader, scope, kind="gateway", row_count=len(rows), detail=detail))
    return RowsPage(scope=scope, rows=rows, next=None, upstream_status=answer.status)
