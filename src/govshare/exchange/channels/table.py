"""库表交换 (A24.2): copy a provider's table or view into the base, full or incremental.

Full: the source is streamed in batches (bounded memory) into ``base_r{id}__staging`` — COPY on
PostgreSQL, executemany elsewhere — and swapped in by one transaction (drop the old table, rename
the staging table, record the state), so readers see the whole old or the whole new table.

Incremental: ``WHERE watermark > :last ORDER BY watermark``, upserted by the key in batches; each
batch commits its rows and the new watermark in one transaction. Rows deleted at the source are
not seen by an incremental sync (there is nothing left to read); a scheduled full refresh removes
them: the worker sets ``MountSpec.full_refresh`` when the mount's last full load is older than its
``full_refresh_days`` (default 7) or its source was edited, and the run loads in full instead.
Rows sharing one watermark value are never split across two commits, so a failed run resumes
without skipping any of them. The provider should index its watermark column, or each
incremental run scans the whole source table. On PostgreSQL a batch is COPYed into a temporary
table and merged by one ``INSERT … ON CONFLICT (key) DO UPDATE``; the row count is carried forward
from the rows it inserted (no ``count(*)``). The key's unique index is created when missing (a
mount that was full without a key, then switched to incremental).

Speed (``bench/exchange_sync.py``): values are converted column by column — a column whose values
the driver already returns in the base type (checked with ``set(map(type, column))``) passes
untouched, so no Python call runs per value; rows go to COPY through ``map``; pymysql leaves DATE
and DATETIME as text, parsed here with ``fromisoformat`` (about 20× faster than its decoders).

Before anything is read the source columns are checked against the mapping: a missing or
renamed column fails the run and changes nothing.

Every batch on its way to the base passes through the run's quality tally (``exchange.quality``,
A25.1); its summary leaves with the outcome and the worker stores it on the run and the base table.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import repeat
from operator import attrgetter, is_not, itemgetter
from typing import Any, Protocol

import psycopg
from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    column,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql.expression import ColumnClause

from govshare.exchange import base
from govshare.exchange.base import ColumnSpec
from govshare.exchange.channels import MountSpec, ProbeOutcome, RunEnv, SyncFailed, SyncOutcome, register
from govshare.exchange.quality import ItemSpec, QualityTally
from govshare.exchange.sources import source_engine
from govshare.kit import clock

Converter = Callable[[Any], Any]
_TYPE_LABELS = {
    "N": "数值",
    "Y": "数值",
    "B": "数值",
    "F": "数值",
    "I": "整数",
    "D": "日期",
    "T": "日期时间",
    "L": "布尔值",
}
_TRUE = {"1", "true", "t", "y", "yes", "是"}
_FALSE = {"0", "false", "f", "n", "no", "否"}


def _to_text(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode()
    return str(v)


def _to_numeric(v: Any) -> Any:
    if v is None or (isinstance(v, (int, Decimal)) and not isinstance(v, bool)):
        return v
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        return Decimal(v.strip()) if v.strip() else None
    raise ValueError(v)


def _to_int(v: Any) -> Any:
    if v is None or (isinstance(v, int) and not isinstance(v, bool)):
        return v
    if isinstance(v, (Decimal, float)) and v == int(v):
        return int(v)
    if isinstance(v, str):
        return int(v.strip()) if v.strip() else None
    raise ValueError(v)


def _to_date(v: Any) -> Any:
    """A date from a date, a datetime, ISO text (``2020-01-02``, ``20200102``, with or without a time),
    ``2020/01/02``, or a ``YYYYMMDD`` integer (SQLite stores ``20200102`` in a DATE column as one)."""
    if v is None:
        return v
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, int) and not isinstance(v, bool) and 10000101 <= v <= 99991231:
        v = str(v)
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        day = s[:10] if s[4:5] in ("-", "/") else s[:8]
        return dt.date.fromisoformat(day.replace("/", "-"))
    raise ValueError(v)


def _to_datetime(v: Any) -> Any:
    if v is None:
        return v
    if isinstance(v, str):
        if not v.strip():
            return None
        v = dt.datetime.fromisoformat(v.strip())
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    raise ValueError(v)


def _to_bool(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, Decimal)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise ValueError(v)


_CONVERTERS: dict[str, Converter] = {
    "N": _to_numeric,
    "Y": _to_numeric,
    "B": _to_numeric,
    "F": _to_numeric,
    "I": _to_int,
    "D": _to_date,
    "T": _to_datetime,
    "L": _to_bool,
}


def converter(data_type: str) -> Converter:
    """The conversion of a source value to the base column type of a 信息项 type (text when unknown)."""
    return _CONVERTERS.get(data_type, _to_text)


def type_label(data_type: str) -> str:
    return _TYPE_LABELS.get(data_type, "文本")


class RowSource(Protocol):
    """What the full-refresh writer reads (``_Reader`` here, the file channel's CSV/XLSX reader)."""

    columns: list[ColumnSpec]
    rows_read: int
    bytes_read: int

    def batches(self, after: Any = None) -> Iterator[list[tuple[list[Any], Any]]]: ...


# Value types each base type takes as they come from the driver; anything else goes through the converter.
_NONE: type = type(None)
_TEXT_TYPES: frozenset[type] = frozenset({str, _NONE})
_NUMERIC_TYPES: frozenset[type] = frozenset({int, Decimal, _NONE})
_ACCEPTED: dict[str, frozenset[type]] = {
    "N": _NUMERIC_TYPES,
    "Y": _NUMERIC_TYPES,
    "B": _NUMERIC_TYPES,
    "F": _NUMERIC_TYPES,
    "I": frozenset({int, _NONE}),
    "D": frozenset({dt.date, _NONE}),
    "T": frozenset({dt.datetime, _NONE}),  # naive only: aware values are checked for and converted
    "L": frozenset({bool, _NONE}),
}
_TEXTUAL = frozenset({str, bytes, _NONE})


def _size(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, (str, bytes)):
        return len(v)
    return 8


class _Reader:
    """Streams the mapped columns (plus the watermark) of one source table, converted to base types."""

    def __init__(self, spec: MountSpec, source: Engine) -> None:
        self.spec = spec
        self.source = source
        self.columns = spec.columns
        self.converters = [_CONVERTERS.get(c.data_type, _to_text) for c in spec.columns]
        self.accepted = [_ACCEPTED.get(c.data_type, _TEXT_TYPES) for c in spec.columns]
        self.rows_read = 0
        self.bytes_read = 0
        self.ordered = False  # by the watermark: incremental runs commit batch by batch in its order
        schema, _, name = str(spec.config.get("table", "")).rpartition(".")
        self.schema = schema or None
        self.table_name = name
        self.text_dates = source.dialect.driver == "pymysql"
        if self.text_dates:
            event.listen(source, "connect", _pymysql_text_dates)
        self.source_types: dict[str, Any] = {}
        self.source_columns = self._check_columns()
        # Selected positions of DATE / DATETIME source columns, parsed here when the driver gives text.
        selected = [self.source_columns[spec.mapping[c.item_id]] for c in self.columns]
        if spec.watermark_column:
            selected.append(self.source_columns[spec.watermark_column])
        parsers = [(i, _date_parser(self.source_types[name])) for i, name in enumerate(selected)]
        self.date_parsers = [(i, parse) for i, parse in parsers if parse is not None and self.text_dates]

    def _check_columns(self) -> dict[str, str]:
        """Map each configured column to its actual name at the source; fail on any missing one."""
        try:
            described = inspect(self.source).get_columns(self.table_name, schema=self.schema)
            actual = [c["name"] for c in described]
            self.source_types = {c["name"]: c["type"] for c in described}
        except NoSuchTableError as exc:
            raise SyncFailed(f"源表 {self.spec.config.get('table')} 不存在或无权读取", code="source_missing") from exc
        except SQLAlchemyError as exc:
            raise SyncFailed("无法连接源数据库,请检查地址、账号与网络", code="source_unreachable") from exc
        by_lower = {name.lower(): name for name in actual}
        wanted = [self.spec.mapping[c.item_id] for c in self.columns]
        if self.spec.watermark_column:
            wanted.append(self.spec.watermark_column)
        found: dict[str, str] = {}
        for name in wanted:
            real = name if name in actual else by_lower.get(name.lower())
            if real is None:
                raise SyncFailed(f"源表缺少字段 {name},与挂载配置不符", code="source_mismatch")
            found[name] = real
        return found

    def _select(self, after: Any) -> Any:
        names = [self.source_columns[self.spec.mapping[c.item_id]] for c in self.columns]
        wm = self.source_columns.get(self.spec.watermark_column) if self.spec.watermark_column else None
        cols: list[ColumnClause[Any]] = [column(n) for n in names] + ([column(wm)] if wm else [])
        stmt = select(*cols).select_from(table(self.table_name, *cols, schema=self.schema))
        if wm is not None and after is not None:
            stmt = stmt.where(column(wm) > after)
        if wm is not None and self.ordered:
            stmt = stmt.order_by(column(wm))  # a full load needs no order: the source need not sort it all
        return stmt

    def batches(self, after: Any = None) -> Iterator[list[tuple[list[Any], Any]]]:
        """Yield lists of (converted row, watermark value); the source is read with a server-side cursor."""
        size = self.spec.batch_size
        has_wm = bool(self.spec.watermark_column)
        width = len(self.columns) + has_wm
        try:
            with self.source.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=size).execute(self._select(after))
                for part in result.partitions(size):
                    columns = [list(map(itemgetter(i), part)) for i in range(width)]
                    for i, parse in self.date_parsers:
                        columns[i] = _parse_iso(columns[i], parse)
                    rows = self._convert(columns)
                    wms = columns[-1] if has_wm else repeat(None, len(part))
                    yield list(zip(rows, wms, strict=False))
        except SyncFailed:
            raise
        except SQLAlchemyError as exc:
            raise SyncFailed(
                f"读取源表时连接中断或出错(已读 {self.rows_read} 行),本次同步未生效", code="source_read"
            ) from exc

    def _convert(self, columns: list[list[Any]]) -> list[Any]:
        """Convert a batch column by column: a column whose values the driver already gives in the base
        type (checked by exact type, in C) is passed through; only the others go through a converter."""
        first = self.rows_read
        self.rows_read += len(columns[0]) if columns else 0
        out: list[Sequence[Any]] = []
        for col, c, convert, accepted in zip(columns, self.columns, self.converters, self.accepted, strict=False):
            types = set(map(type, col))
            self.bytes_read += _column_size(col, types)  # of the values as read
            if not types <= accepted or (dt.datetime in types and _aware(col)):
                try:
                    col = list(map(convert, col))
                except (ValueError, TypeError, InvalidOperation, ArithmeticError) as exc:
                    raise SyncFailed(
                        f"第 {first + _first_failure(col, convert)} 行信息项「{c.name}」的值无法转换为"
                        f"{_TYPE_LABELS.get(c.data_type, '文本')},本次同步未生效",
                        code="value_unconvertible",
                    ) from exc
            out.append(col)
        return list(zip(*out, strict=True))


def _pymysql_text_dates(dbapi_conn: Any, _record: Any) -> None:
    """pymysql decodes DATE and DATETIME with regular expressions, about 2.4 µs a value; leaving them as
    text for ``date.fromisoformat`` / ``datetime.fromisoformat`` (0.1 µs) makes reading a MariaDB table
    of two such columns about 15 % faster. Values they cannot parse (zero dates) stay text, as before."""
    from pymysql.constants import FIELD_TYPE  # type: ignore[import-untyped]
    from pymysql.converters import through  # type: ignore[import-untyped]

    for field in (FIELD_TYPE.DATE, FIELD_TYPE.NEWDATE, FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP):
        dbapi_conn.decoders[field] = through


def _date_parser(source_type: Any) -> Callable[[str], Any] | None:
    if isinstance(source_type, DateTime):
        return dt.datetime.fromisoformat
    if isinstance(source_type, Date):
        return dt.date.fromisoformat
    return None


def _parse_iso(col: list[Any], parse: Callable[[str], Any]) -> list[Any]:
    if None not in col:
        try:
            return list(map(parse, col))
        except (ValueError, TypeError):
            pass
    out: list[Any] = []
    for value in col:
        try:
            out.append(None if value is None else parse(value))
        except (ValueError, TypeError):
            out.append(value)  # what pymysql gives for a value it cannot convert
    return out


def _aware(col: Sequence[Any]) -> bool:
    return any(map(attrgetter("tzinfo"), filter(None, col)))


def _first_failure(col: Sequence[Any], convert: Converter) -> int:
    """The 1-based position of the first value ``convert`` refuses."""
    for n, value in enumerate(col, start=1):
        try:
            convert(value)
        except (ValueError, TypeError, InvalidOperation, ArithmeticError):
            return n
    return len(col)


def _column_size(col: Sequence[Any], types: set[type]) -> int:
    """Bytes read of one column, as ``_size`` sums them, without a Python call per value where possible."""
    if types <= _TEXTUAL:
        return sum(map(len, filter(None, col)))
    if not types & _TEXTUAL:
        return 8 * (len(col) - col.count(None))
    return sum(map(_size, col))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_spec(spec: MountSpec) -> ColumnSpec | None:
    if not spec.key_column:
        return None
    for c in spec.columns:
        if spec.mapping[c.item_id] == spec.key_column:
            return c
    raise SyncFailed(f"键字段 {spec.key_column} 未映射到任何信息项", code="key_unmapped")


def _create_key_index(conn: Connection, name: str, key: ColumnSpec) -> None:
    try:
        conn.execute(
            text(f"CREATE UNIQUE INDEX {_quote(base.key_index_name(name))} ON {_quote(name)} ({_quote(key.column)})")
        )
    except SQLAlchemyError as exc:
        raise SyncFailed("源表键字段存在重复值,无法建立唯一键,本次同步未生效", code="duplicate_key") from exc


def _ensure_key_index(engine: Engine, name: str, key: ColumnSpec) -> None:
    """The unique index on the key column that incremental upserts need (a full sync without a key
    column, or with another one, left none or another)."""
    for index in inspect(engine).get_indexes(name):
        if index.get("unique") and index.get("column_names") == [key.column]:
            return
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX IF EXISTS {_quote(base.key_index_name(name))}"))
        _create_key_index(conn, name, key)


Upsert = Callable[[Connection, str, list[str], str, list[Any]], int]


def _pg_upsert(conn: Connection, final: str, names: list[str], key: str, rows: list[Any]) -> int:
    """COPY the rows into a temporary table, then one INSERT … ON CONFLICT DO UPDATE; returns how many
    rows were new (``xmax = 0`` marks an inserted row), so the base's row count needs no count(*)."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    incoming = _quote(f"{final}__incoming")
    cols = ", ".join(_quote(n) for n in names)
    updates = ", ".join(f"{_quote(n)} = EXCLUDED.{_quote(n)}" for n in names if n != key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    with dbapi.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {incoming} (LIKE {_quote(final)}) ON COMMIT DROP")
        with cur.copy(f"COPY {incoming} ({cols}) FROM STDIN") as copy:
            deque(map(copy.write_row, rows), maxlen=0)
        cur.execute(  # generated table and column names only
            f"WITH up AS (INSERT INTO {_quote(final)} ({cols}) SELECT {cols} FROM {incoming}"  # noqa: S608
            f" ON CONFLICT ({_quote(key)}) {action} RETURNING (xmax = 0) AS inserted)"
            " SELECT count(*) FILTER (WHERE inserted) FROM up"
        )
        found = cur.fetchone()
    return int(found[0]) if found else 0


def _sqlite_upsert(spec: MountSpec, final: str, key_spec: ColumnSpec) -> Upsert:
    target = base.table_for(final, spec.columns)
    stmt = sqlite.insert(target)
    upsert = stmt.on_conflict_do_update(
        index_elements=[key_spec.column],
        set_={c.column: stmt.excluded[c.column] for c in spec.columns if c.column != key_spec.column},
    )
    key_col = target.c[key_spec.column]

    def write(conn: Connection, _final: str, names: list[str], key: str, rows: list[Any]) -> int:
        at = names.index(key)
        keys = {row[at] for row in rows}
        new = len(keys) - (None in keys) + sum(1 for row in rows if row[at] is None)
        present = [k for k in keys if k is not None]
        for i in range(0, len(present), 500):
            chunk = present[i : i + 500]
            new -= conn.execute(select(func.count()).where(key_col.in_(chunk))).scalar_one()
        conn.execute(upsert, [dict(zip(names, row, strict=True)) for row in rows])
        return new

    return write


def _columns_match(engine: Engine, name: str, spec: MountSpec) -> bool:
    """Whether the base table exists with exactly the mount's columns; an edited mapping needs a full load."""
    insp = inspect(engine)
    if not insp.has_table(name):
        return False
    return {c["name"] for c in insp.get_columns(name)} == {c.column for c in spec.columns}


def quality_tally(spec: MountSpec, *, full_load: bool = False) -> QualityTally:
    """The run's quality tally (A25.1): every 信息项 of the mount, and its key when it has one.

    A full load with a key keeps no key hashes (``track_keys=False``): the staging table's unique index
    is built before the swap and a duplicate key fails the run, so every run that completes has unique
    keys; keeping a hash of every key (about 70 bytes each, 69 MB at a million rows) would only ever
    confirm that. Missing keys are still counted, and the peak memory of a sync stays independent of
    the table's size."""
    items = [ItemSpec(c.name, c.data_type, c.length, c.sensitivity) for c in spec.columns]
    key = [c.name for c in spec.columns if spec.key_column and spec.mapping.get(c.item_id) == spec.key_column]
    return QualityTally(items, key=key[:1], track_keys=not (full_load and key))


def _checked(
    batches: Iterator[list[tuple[list[Any], Any]]], tally: QualityTally
) -> Iterator[list[tuple[list[Any], Any]]]:
    """Pass each batch through the quality tally on its way to the base."""
    for batch in batches:
        tally.add([row for row, _ in batch])
        yield batch


def _highest(current: Any, batch: list[tuple[Any, Any]]) -> Any:
    """The highest watermark value so far, given a batch of (row, watermark) pairs."""
    values = list(filter(_is_value, map(itemgetter(1), batch)))
    if not values:
        return current
    top = max(values)
    return top if current is None or top > current else current


_is_value = partial(is_not, None)


def _now_text() -> str:
    return clock.now().isoformat()


class TableChannel:
    name = "table"

    def sync(self, spec: MountSpec, env: RunEnv) -> SyncOutcome:
        """Run one full or incremental sync of a table mount into the base."""
        if spec.sync_mode == "incremental" and (not spec.watermark_column or not spec.key_column):
            raise SyncFailed("增量同步须配置增量字段与键字段", code="incremental_unconfigured")
        source = source_engine(str(spec.config.get("url", "")), spec.secret.get("password", ""))
        try:
            reader = _Reader(spec, source)
            base.ensure_state_table(env.base)
            final = base.table_name(spec.resource_id)
            if spec.sync_mode != "incremental":
                return self._full(spec, env, reader)
            if spec.full_refresh:  # scheduled full refresh, or the source was edited: see the deletes
                return self._full(spec, env, reader, mode=f"full_{spec.full_refresh}")
            if _columns_match(env.base, final, spec):
                with env.base.connect() as conn:
                    state = base.read_state(conn, final)
                if state.synced_at is not None:
                    reader.ordered = True
                    return self._incremental(spec, env, reader, state)
            return self._full(spec, env, reader, mode="full_initial")  # nothing (matching) loaded yet
        except (SQLAlchemyError, psycopg.Error) as exc:
            # e.g. a value the base column cannot hold; the transaction was rolled back whole.
            raise SyncFailed("写入大数据基座失败,本次同步未生效,请检查源数据与信息项类型", code="base_write") from exc
        finally:
            source.dispose()

    def _full(self, spec: MountSpec, env: RunEnv, reader: RowSource, *, mode: str = "full") -> SyncOutcome:
        final = base.table_name(spec.resource_id)
        staging = base.staging_name(spec.resource_id)
        key = _key_spec(spec)
        is_pg = env.base.dialect.name == "postgresql"
        watermark: Any = None
        tally = quality_tally(spec, full_load=True)
        with env.base.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {_quote(staging)}"))
            base.table_for(staging, spec.columns).create(conn)
        staging_table = base.table_for(staging, spec.columns)
        names = [c.column for c in spec.columns]
        conn = env.base.connect()
        try:
            if is_pg:
                trans = conn.begin()
                dbapi = conn.connection.driver_connection
                assert dbapi is not None
                cols = ", ".join(_quote(n) for n in names)
                with dbapi.cursor() as cur, cur.copy(f"COPY {_quote(staging)} ({cols}) FROM STDIN") as copy:
                    for batch in _checked(reader.batches(), tally):
                        deque(map(copy.write_row, map(itemgetter(0), batch)), maxlen=0)  # no Python loop per row
                        watermark = _highest(watermark, batch)
                        env.progress(reader.rows_read, reader.bytes_read)
            else:
                for batch in _checked(reader.batches(), tally):
                    # SQLite: one short transaction per batch, begun only once the batch has been read,
                    # so the platform's other writers (the run's lease renewals among them) are not
                    # locked out while the source is read; readers keep the old table until the swap.
                    with conn.begin():
                        conn.execute(insert(staging_table), [dict(zip(names, row, strict=True)) for row, _ in batch])
                    watermark = _highest(watermark, batch)
                    env.progress(reader.rows_read, reader.bytes_read)
                trans = conn.begin()
            if key is not None:
                _create_key_index(conn, staging, key)
            # The swap: one transaction, so readers see the whole old or the whole new table.
            conn.execute(text(f"DROP TABLE IF EXISTS {_quote(final)}"))
            conn.execute(text(f"ALTER TABLE {_quote(staging)} RENAME TO {_quote(final)}"))
            if key is not None:
                if is_pg:
                    conn.execute(
                        text(
                            f"ALTER INDEX {_quote(base.key_index_name(staging))} "
                            f"RENAME TO {_quote(base.key_index_name(final))}"
                        )
                    )
                else:
                    conn.execute(text(f"DROP INDEX {_quote(base.key_index_name(staging))}"))
                    _create_key_index(conn, final, key)
            synced_at = _now_text()
            base.write_state(conn, final, watermark=watermark, row_count=reader.rows_read, synced_at=synced_at)
            trans.commit()
        except BaseException:
            conn.rollback()
            with env.base.begin() as cleanup:
                cleanup.execute(text(f"DROP TABLE IF EXISTS {_quote(staging)}"))
            raise
        finally:
            conn.close()
        outcome = SyncOutcome(reader.rows_read, reader.bytes_read, reader.rows_read, watermark, synced_at, mode=mode)
        outcome.quality = dict(tally.summary())
        return outcome

    def load_full(self, spec: MountSpec, env: RunEnv, reader: RowSource) -> SyncOutcome:
        """Full refresh by staging swap from any row source (the file channel loads CSV/XLSX with it)."""
        base.ensure_state_table(env.base)
        return self._full(spec, env, reader)

    def _incremental(self, spec: MountSpec, env: RunEnv, reader: _Reader, state: base.SyncState) -> SyncOutcome:
        final = base.table_name(spec.resource_id)
        key = _key_spec(spec)
        assert key is not None
        _ensure_key_index(env.base, final, key)  # e.g. the mount was full without a key before
        names = [c.column for c in spec.columns]
        upsert = _pg_upsert if env.base.dialect.name == "postgresql" else _sqlite_upsert(spec, final, key)
        last = state.watermark
        watermark = last
        row_count = state.row_count
        carry: list[tuple[list[Any], Any]] = []

        def commit(rows: list[tuple[list[Any], Any]], new_watermark: Any) -> None:
            nonlocal row_count
            with env.base.begin() as conn:
                inserted = upsert(conn, final, names, key.column, [row for row, _ in rows])
                row_count += inserted
                base.write_state(conn, final, watermark=new_watermark, row_count=row_count, synced_at=_now_text())

        tally = quality_tally(spec)
        for batch in _checked(reader.batches(after=last), tally):
            pending = carry + batch
            tail_value = pending[-1][1]
            # Rows that share the batch's last watermark value wait for the next batch, so a failure
            # between two commits can never skip some of them.
            split = len(pending)
            while split > 0 and pending[split - 1][1] == tail_value:
                split -= 1
            if split == 0:
                carry = pending
                continue
            commit(pending[:split], pending[split - 1][1])
            watermark = pending[split - 1][1]
            carry = pending[split:]
            env.progress(reader.rows_read, reader.bytes_read)
        if carry:
            commit(carry, carry[-1][1])
            watermark = carry[-1][1]
        with env.base.connect() as conn:
            state = base.read_state(conn, final)
        env.progress(reader.rows_read, reader.bytes_read)
        outcome = SyncOutcome(
            reader.rows_read, reader.bytes_read, state.row_count, watermark, state.synced_at or "", mode="incremental"
        )
        outcome.quality = dict(tally.summary())
        return outcome

    def probe(self, spec: MountSpec) -> ProbeOutcome:
        """Connect with the test account and read one row of the test table; record the latency."""
        url = str(spec.config.get("test_url") or spec.config.get("url", ""))
        password = (
            spec.secret.get("test_password", "") if spec.config.get("test_url") else spec.secret.get("password", "")
        )
        name = spec.test_table or str(spec.config.get("table", ""))
        schema, _, tname = name.rpartition(".")
        started = time.perf_counter()
        engine = source_engine(url, password)
        try:
            with engine.connect() as conn:
                conn.execute(select(literal(1)).select_from(table(tname, schema=schema or None)).limit(1)).all()
        except SQLAlchemyError:
            return ProbeOutcome(False, int((time.perf_counter() - started) * 1000), "无法连接源数据库或读取测试表")
        finally:
            engine.dispose()
        return ProbeOutcome(True, int((time.perf_counter() - started) * 1000))


register(TableChannel())
