"""CSV and XLSX versions loaded into the base as a table, with the table channel's staging swap."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, inspect, select

from govshare.exchange import base
from govshare.exchange.base import ColumnSpec
from govshare.exchange.channels import MountSpec, RunEnv, SyncFailed
from govshare.exchange.channels.table import TableChannel
from govshare.exchange.file_load import FileRows, detect_encoding
from tests.exchange import table_sources

RESOURCE_ID = 9301
COLUMNS = [
    ColumnSpec(item_id=11, name="身份证号", data_type="C"),
    ColumnSpec(item_id=12, name="姓名", data_type="C"),
    ColumnSpec(item_id=13, name="出生日期", data_type="D"),
    ColumnSpec(item_id=14, name="补贴金额", data_type="N"),
]
MAPPING = {11: "身份证号", 12: "姓名", 13: "出生日期", 14: "补贴金额"}
ROWS = [
    ("620102199001011234", "张三", "1990-01-01", "1200.50"),
    ("62010219920202123X", "李四", "1992-02-02", ""),
    ("620102198512310021", "王五,小名阿五", "1985-12-31", "88"),
]


@pytest.fixture
def base_engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    yield from table_sources.base_database(tmp_path, database_url)


def _spec(**config: Any) -> MountSpec:
    return MountSpec(
        mount_id=1,
        resource_id=RESOURCE_ID,
        channel="file",
        config={"source": "upload", "load_into_base": True, **config},
        secret={},
        columns=COLUMNS,
        mapping=dict(MAPPING),
        batch_size=2,
    )


def _csv(rows: list[tuple[str, ...]], *, header: str = "序号,姓名,身份证号,出生日期,补贴金额") -> str:
    lines = [header]
    for i, (id_number, name, born, amount) in enumerate(rows, 1):
        quoted = f'"{name}"' if "," in name else name
        lines.append(f"{i},{quoted},{id_number},{born},{amount}")
    return "\r\n".join(lines) + "\r\n"


def _chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    # Small chunks: multi-byte characters are cut between chunks, as they are when streamed.
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _load(engine: Engine, data: bytes, filename: str, *, version: int = 1, **config: Any) -> Any:
    spec = _spec(**config)
    reader = FileRows(spec, _chunks(data), filename=filename, version_number=version)
    return TableChannel().load_full(spec, RunEnv(base=engine), reader)


def _base(engine: Engine) -> list[tuple[Any, ...]]:
    table = base.table_for(base.table_name(RESOURCE_ID), COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.c11)).all()
    return [tuple(r) for r in rows]


def _expected() -> list[tuple[Any, ...]]:
    out = [
        (i, n, dt.date.fromisoformat(b), Decimal(a) if a else None) for i, n, b, a in sorted(ROWS, key=lambda r: r[0])
    ]
    return out


def _state(engine: Engine) -> base.SyncState:
    with engine.connect() as conn:
        return base.read_state(conn, base.table_name(RESOURCE_ID))


@pytest.mark.article("A24.3", "A8.1")
@pytest.mark.parametrize(
    ("encoding", "label"), [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("gb18030", "GB18030")]
)
def test_a_csv_version_is_loaded_whatever_its_encoding(base_engine: Engine, encoding: str, label: str) -> None:
    data = _csv(ROWS).encode(encoding)
    assert detect_encoding(data) == ("gb18030" if encoding == "gb18030" else "utf-8-sig"), label
    outcome = _load(base_engine, data, "人口.csv", version=3)
    assert outcome.rows == 3 and outcome.row_count == 3
    assert _base(base_engine) == _expected()
    state = _state(base_engine)
    assert state.watermark == 3 and state.row_count == 3  # the version number is the watermark
    assert outcome.quality["rows"] == 3  # the table channel's quality tally ran on the rows


@pytest.mark.article("A24.3", "A8.1")
def test_an_xlsx_version_is_loaded_row_by_row(base_engine: Engine) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "名单"
    sheet.append(["姓名", "身份证号", "出生日期", "补贴金额", "备注"])
    for id_number, name, born, amount in ROWS:
        sheet.append([name, id_number, dt.datetime.fromisoformat(born), float(amount) if amount else None, "无"])
    sheet.append([None, None, None, None, None])  # an empty trailing row is skipped
    out = io.BytesIO()
    workbook.save(out)
    outcome = _load(base_engine, out.getvalue(), "人口.xlsx", sheet="名单")
    assert outcome.rows == 3
    assert _base(base_engine) == _expected()


@pytest.mark.article("A24.3")
def test_an_integral_number_in_a_text_item_keeps_its_digits(base_engine: Engine) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["身份证号", "姓名", "出生日期", "补贴金额"])
    sheet.append([13912345678, "张三", "1990-01-01", 5])  # a number typed where text is expected
    out = io.BytesIO()
    workbook.save(out)
    _load(base_engine, out.getvalue(), "no-extension")  # recognised by its first bytes
    assert _base(base_engine)[0][0] == "13912345678"


@pytest.mark.article("A24.3", "A8.1")
def test_a_missing_header_fails_the_run_and_changes_nothing(base_engine: Engine) -> None:
    _load(base_engine, _csv(ROWS).encode(), "人口.csv", version=1)
    before, state = _base(base_engine), _state(base_engine)
    renamed = _csv(ROWS[:1], header="序号,名字,身份证号,出生日期,金额").encode()
    with pytest.raises(SyncFailed, match="文件表头缺少列 「姓名」、「补贴金额」,与挂载配置不符"):
        _load(base_engine, renamed, "人口.csv", version=2)
    assert _base(base_engine) == before and _state(base_engine) == state
    assert not inspect(base_engine).has_table(base.staging_name(RESOURCE_ID))


@pytest.mark.article("A24.3", "A8.1")
def test_a_bad_value_late_in_the_file_leaves_the_previous_table(base_engine: Engine) -> None:
    _load(base_engine, _csv(ROWS).encode(), "人口.csv", version=1)
    before, state = _base(base_engine), _state(base_engine)
    rows = ROWS * 3 + [("620102199001011234", "赵六", "不是日期", "1")]
    with pytest.raises(SyncFailed, match=r"第 10 行.*信息项「出生日期」的值无法转换为日期"):
        _load(base_engine, _csv(rows).encode(), "人口.csv", version=2)
    assert _base(base_engine) == before and _state(base_engine) == state


@pytest.mark.article("A24.3")
def test_bytes_that_are_not_utf8_after_the_sniffed_head_fail_cleanly(base_engine: Engine) -> None:
    head = _csv(ROWS).encode()
    padding = f"9,{'张' * 15000},620102199001011234,1990-01-01,1\r\n".encode() * 30  # > 1 MiB of valid UTF-8
    data = head + padding + "10,赵六,620102199001011234,1990-01-01,1\r\n".encode("gb18030")
    with pytest.raises(SyncFailed, match="无法按 UTF-8 解码"):
        _load(base_engine, data, "人口.csv")


@pytest.mark.article("A24.3")
def test_other_files_are_refused_for_loading(base_engine: Engine) -> None:
    with pytest.raises(SyncFailed, match="只有 CSV 与 XLSX 文件可以装载"):
        _load(base_engine, b"\x00\x01\x02binary", "图片.png")
    with pytest.raises(SyncFailed, match="文件为空"):
        _load(base_engine, b"", "空.csv")
