"""The base: generated names, 信息项 types → column types, the engine factory, watermark storage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Numeric, Text, inspect

from govshare.config import Settings
from govshare.exchange import base
from govshare.exchange.base import ColumnSpec


def test_names_are_generated_never_taken_from_input() -> None:
    assert base.table_name(42) == "base_r42"
    assert base.staging_name(42) == "base_r42__staging"
    assert ColumnSpec(item_id=7, name="姓名; DROP TABLE x", data_type="C").column == "c7"
    with pytest.raises(ValueError):
        base.table_name("1; drop table resource")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [
        ("C", Text),
        ("M", Text),
        ("N", Numeric),
        ("Y", Numeric),
        ("B", Numeric),
        ("F", Numeric),
        ("I", BigInteger),
        ("D", Date),
        ("T", DateTime),
        ("L", Boolean),
        ("G", Text),
    ],
)
def test_item_types_map_to_column_types(data_type: str, expected: type[Any]) -> None:
    assert isinstance(base.sql_type(data_type), expected)


@pytest.mark.parametrize(
    "value",
    [None, 17, 2.5, Decimal("10.25"), "20240101", dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 8, 30, 1), True],
)
def test_watermark_round_trips_with_its_type(value: Any) -> None:
    assert base.decode_watermark(base.encode_watermark(value)) == value


@pytest.mark.article("A8.1")
def test_base_engine_is_the_platform_database_unless_base_url_is_set(tmp_path: Path) -> None:
    platform = Settings(var_dir=tmp_path)
    assert str(base.base_engine(platform).url) == platform.effective_database_url
    separate = Settings(var_dir=tmp_path, base_url=f"sqlite:///{(tmp_path / 'base.db').as_posix()}")
    engine = base.base_engine(separate)
    assert engine.url.database == str(tmp_path / "base.db")
    assert base.base_engine(separate) is engine  # one engine per address


@pytest.mark.article("A8.1")
def test_state_is_written_and_read_per_table(tmp_path: Path) -> None:
    engine = base.base_engine(Settings(var_dir=tmp_path))
    base.ensure_state_table(engine)
    with engine.begin() as conn:
        base.write_state(conn, "base_r1", watermark=5, row_count=3, synced_at="2026-01-01T00:00:00+00:00")
        base.write_state(conn, "base_r1", watermark=9, row_count=4, synced_at="2026-01-02T00:00:00+00:00")
    with engine.connect() as conn:
        assert base.read_state(conn, "base_r1") == base.SyncState(9, 4, "2026-01-02T00:00:00+00:00")
        assert base.read_state(conn, "base_r2") == base.SyncState(None, 0, None)
    table = base.table_for("base_r1", [ColumnSpec(3, "金额", "N"), ColumnSpec(4, "日期", "D")])
    table.create(engine)
    assert [c["name"] for c in inspect(engine).get_columns("base_r1")] == ["c3", "c4"]
