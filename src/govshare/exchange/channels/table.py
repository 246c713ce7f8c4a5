"""库表交换 (A24.2): copy a provider's table or view into the base, full or incremental.

Full: the source is streamed in batches (bounded memory) into ``base_r{id}__staging`` — COPY on
PostgreSQL, executemany elsewhere — and swapped in by one transaction (drop the old table, rename
the staging table, record the state), so readers see the whole old or the whole new table.

Incremental: ``WHERE watermark > :last ORDER BY watermark``, upserted by the key in batches; each
batch commits its rows and the new watermark in one transaction. Rows deleted at the source are
not seen by an incremental sync (there is nothing left to read); a scheduled full refresh removes
them. Rows sharing one watermark value are never split across two commits, so a failed run
resumes without skipping any of them.

Before anything is read the source columns are checked against the mapping: a missing or
renamed column fails the run and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, column, func, insert, inspect, literal, select, table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql.expression import ColumnClause

from govshare.exchange import base
from govshare.exchange.base import ColumnSpec
from govshare.exchange.channels import MountSpec, ProbeOutcome, RunEnv, SyncFailed, SyncOutcome, register
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
    if v is None:
        return v
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        return dt.date.fromisoformat(v.strip()[:10]) if v.strip() else None
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
        self.rows_read = 0
        self.bytes_read = 0
        schema, _, name = str(spec.config.get("table", "")).rpartition(".")
        self.schema = schema or None
        self.table_name = name
        self.source_columns = self._check_columns()

    def _check_columns(self) -> dict[str, str]:
        """Map each configured column to its actual name at the source; fail on any missing one."""
        try:
            actual = [c["name"] for c in inspect(self.source).get_columns(self.table_name, schema=self.schema)]
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
            stmt = stmt.where(column(wm) > after).order_by(column(wm))
        elif wm is not None and self.spec.sync_mode == "incremental":
            stmt = stmt.order_by(column(wm))
        return stmt

    def batches(self, after: Any = None) -> Iterator[list[tuple[list[Any], Any]]]:
        """Yield lists of (converted row, watermark value); the source is read with a server-side cursor."""
        size = self.spec.batch_size
        has_wm = bool(self.spec.watermark_column)
        n_cols = len(self.columns)
        try:
            with self.source.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=size).execute(self._select(after))
                for part in result.partitions(size):
                    out: list[tuple[list[Any], Any]] = []
                    for raw in part:
                        self.rows_read += 1
                        row = self._convert(raw, n_cols)
                        out.append((row, raw[n_cols] if has_wm else None))
                    yield out
        except SyncFailed:
            raise
        except SQLAlchemyError as exc:
            raise SyncFailed(
                f"读取源表时连接中断或出错(已读 {self.rows_read} 行),本次同步未生效", code="source_read"
            ) from exc

    def _convert(self, raw: Sequence[Any], n_cols: int) -> list[Any]:
        row: list[Any] = []
        for i in range(n_cols):
            v = raw[i]
            self.bytes_read += _size(v)
            try:
                row.append(self.converters[i](v))
            except (ValueError, TypeError, InvalidOperation, ArithmeticError) as exc:
                c = self.columns[i]
                label = _TYPE_LABELS.get(c.data_type, "文本")
                raise SyncFailed(
                    f"第 {self.rows_read} 行信息项「{c.name}」的值无法转换为{label},本次同步未生效",
                    code="value_unconvertible",
                ) from exc
        return row


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
            if spec.sync_mode == "incremental" and inspect(env.base).has_table(final):
                with env.base.connect() as conn:
                    state = base.read_state(conn, final)
                if state.synced_at is not None:
                    return self._incremental(spec, env, reader, state.watermark)
            return self._full(spec, env, reader)
        except (SQLAlchemyError, psycopg.Error) as exc:
            # e.g. a value the base column cannot hold; the transaction was rolled back whole.
            raise SyncFailed("写入大数据基座失败,本次同步未生效,请检查源数据与信息项类型", code="base_write") from exc
        finally:
            source.dispose()

    def _full(self, spec: MountSpec, env: RunEnv, reader: _Reader) -> SyncOutcome:
        final = base.table_name(spec.resource_id)
        staging = base.staging_name(spec.resource_id)
        key = _key_spec(spec)
        is_pg = env.base.dialect.name == "postgresql"
        watermark: Any = None
        with env.base.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {_quote(staging)}"))
            base.table_for(staging, spec.columns).create(conn)
        staging_table = base.table_for(staging, spec.columns)
        names = [c.column for c in spec.columns]
        conn = env.base.connect()
        try:
            trans = conn.begin()
            if is_pg:
                dbapi = conn.connection.driver_connection
                assert dbapi is not None
                cols = ", ".join(_quote(n) for n in names)
                with dbapi.cursor() as cur, cur.copy(f"COPY {_quote(staging)} ({cols}) FROM STDIN") as copy:
                    for batch in reader.batches():
                        for row, wm in batch:
                            copy.write_row(row)
                            watermark = wm if wm is not None and (watermark is None or wm > watermark) else watermark
                        env.progress(reader.rows_read, reader.bytes_read)
            else:
                for batch in reader.batches():
                    conn.execute(insert(staging_table), [dict(zip(names, row, strict=True)) for row, _ in batch])
                    for _, wm in batch:
                        watermark = wm if wm is not None and (watermark is None or wm > watermark) else watermark
                    # SQLite: commit the staging load per batch so the platform's other writers are not
                    # locked out; readers keep reading the old table until the swap below.
                    trans.commit()
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
        return SyncOutcome(reader.rows_read, reader.bytes_read, reader.rows_read, watermark, synced_at)

    def _incremental(self, spec: MountSpec, env: RunEnv, reader: _Reader, last: Any) -> SyncOutcome:
        final = base.table_name(spec.resource_id)
        key = _key_spec(spec)
        assert key is not None
        target = base.table_for(final, spec.columns)
        dialect = postgresql if env.base.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(target)
        upsert = stmt.on_conflict_do_update(
            index_elements=[key.column],
            set_={c.column: stmt.excluded[c.column] for c in spec.columns if c.column != key.column},
        )
        names = [c.column for c in spec.columns]
        watermark = last
        carry: list[tuple[list[Any], Any]] = []

        def commit(rows: list[tuple[list[Any], Any]], new_watermark: Any) -> None:
            with env.base.begin() as conn:
                conn.execute(upsert, [dict(zip(names, row, strict=True)) for row, _ in rows])
                count = conn.execute(select(func.count()).select_from(target)).scalar_one()
                base.write_state(conn, final, watermark=new_watermark, row_count=int(count), synced_at=_now_text())

        for batch in reader.batches(after=last):
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
        return SyncOutcome(reader.rows_read, reader.bytes_read, state.row_count, watermark, state.synced_at or "")

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
