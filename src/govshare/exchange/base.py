"""The base (大数据基座): one generated table per table-shaped resource, its columns the 信息项.

The base lives in the platform database unless ``GOVSHARE_BASE_URL`` names another one. Table and
column names are generated (``base_r{resource_id}``, ``c{data_item_id}``), never taken from user
input; the 信息项 names are kept in ``BaseTable.columns``. Each base database also holds
``base_sync_state``: the watermark and row count of every base table, written in the same
transaction as the rows they describe, so a watermark can never run ahead of the data.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.types import TypeEngine

from govshare.config import Settings, get_settings
from govshare.db import create_db_engine

_TYPES: dict[str, type[TypeEngine[Any]]] = {
    "C": Text,
    "M": Text,
    "N": Numeric,
    "Y": Numeric,
    "B": Numeric,
    "F": Numeric,
    "I": BigInteger,
    "D": Date,
    "T": DateTime,
    "L": Boolean,
}

_state_metadata = MetaData()
sync_state = Table(
    "base_sync_state",
    _state_metadata,
    Column("table_name", String(64), primary_key=True),
    Column("watermark", Text, nullable=True),  # JSON: {"type": ..., "value": ...}
    Column("row_count", BigInteger, nullable=False, default=0),
    Column("synced_at", String(40), nullable=True),
    Column("generation", Integer, nullable=False, default=0),
)


@dataclass(frozen=True)
class ColumnSpec:
    """One base column: generated name, the 信息项 it holds, and the 信息项's data type."""

    item_id: int
    name: str
    data_type: str
    length: int | None = None  # the 信息项's 数据长度 and 敏感类别, for the quality checks (A25.1)
    sensitivity: str = "none"

    @property
    def column(self) -> str:
        return column_name(self.item_id)


def table_name(resource_id: int) -> str:
    return f"base_r{int(resource_id)}"


def staging_name(resource_id: int) -> str:
    return f"{table_name(resource_id)}__staging"


def column_name(item_id: int) -> str:
    return f"c{int(item_id)}"


def sql_type(data_type: str) -> TypeEngine[Any]:
    """The base column type of a 信息项 type (C/M text, N/Y/B/F numeric, I bigint, D date, T timestamp, L boolean)."""
    return _TYPES.get(data_type, Text)()


def table_for(name: str, columns: list[ColumnSpec]) -> Table:
    """A Table object (in its own MetaData) for a base table or its staging table."""
    return Table(name, MetaData(), *[Column(c.column, sql_type(c.data_type)) for c in columns])


def key_index_name(name: str) -> str:
    return f"{name}_key"


@lru_cache
def _engine_for(url: str) -> Engine:
    return create_db_engine(url)


def base_engine(settings: Settings | None = None) -> Engine:
    """The one engine factory of the base: ``GOVSHARE_BASE_URL`` when set, else the platform database."""
    settings = settings or get_settings()
    return _engine_for(settings.base_url or settings.effective_database_url)


def ensure_state_table(engine: Engine) -> None:
    _state_metadata.create_all(engine, checkfirst=True)


def encode_watermark(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return json.dumps({"type": "bool", "value": value})
    if isinstance(value, int):
        return json.dumps({"type": "int", "value": value})
    if isinstance(value, float):
        return json.dumps({"type": "float", "value": value})
    if isinstance(value, Decimal):
        return json.dumps({"type": "decimal", "value": str(value)})
    if isinstance(value, dt.datetime):
        return json.dumps({"type": "datetime", "value": value.isoformat()})
    if isinstance(value, dt.date):
        return json.dumps({"type": "date", "value": value.isoformat()})
    return json.dumps({"type": "str", "value": str(value)})


def decode_watermark(stored: str | None) -> Any:
    if not stored:
        return None
    data = json.loads(stored)
    kind, value = data["type"], data["value"]
    if kind == "decimal":
        return Decimal(value)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    return value


@dataclass(frozen=True)
class SyncState:
    watermark: Any
    row_count: int
    synced_at: str | None


def read_state(conn: Connection, name: str) -> SyncState:
    row = conn.execute(select(sync_state).where(sync_state.c.table_name == name)).first()
    if row is None:
        return SyncState(None, 0, None)
    return SyncState(decode_watermark(row.watermark), int(row.row_count), row.synced_at)


def write_state(conn: Connection, name: str, *, watermark: Any, row_count: int, synced_at: str) -> None:
    """Record a table's watermark and row count; call it inside the transaction that wrote the rows."""
    values = {"watermark": encode_watermark(watermark), "row_count": row_count, "synced_at": synced_at}
    updated = conn.execute(sync_state.update().where(sync_state.c.table_name == name).values(**values))
    if updated.rowcount == 0:
        conn.execute(sync_state.insert().values(table_name=name, generation=0, **values))
