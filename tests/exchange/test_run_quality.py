"""Quality on every sync (A25.1): the table channel tallies every batch, the worker stores the summary
on the run and, for a good run, on the base table; sensitive values never land in it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from govshare.db import Database
from govshare.exchange import runs, worker
from govshare.exchange.channels import RunEnv
from govshare.exchange.channels.table import TableChannel
from govshare.exchange.models import BaseTable, SyncRun
from govshare.exchange.quality import ItemSpec, QualityTally
from tests.exchange import table_sources
from tests.exchange.mounting import id_number, mount_people, people_resource, sqlite_source
from tests.factories import Factory

ROWS = 300
BAD_ID = id_number(3)[:17] + ("0" if id_number(3)[17] != "0" else "1")  # wrong check character
TWEAKS: dict[int, dict[str, Any]] = {
    3: {"id_number": BAD_ID},
    4: {"phone": "12345"},
    5: {"name": None},
    6: {"name": "   "},
    7: {"born": "1850-01-01"},
}


@pytest.fixture
def base_engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    yield from table_sources.base_database(tmp_path, database_url)


def _item(summary: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in summary["items"] if i["name"] == name)


def _mounted(session: Session, factory: Factory, tmp_path: Path, *, sync_mode: str = "full") -> Any:
    department = factory.department()
    resource = people_resource(factory, department)
    source = sqlite_source(tmp_path)
    source.create(ROWS, tweak=TWEAKS)
    mount = mount_people(session, factory, department, resource, source, sync_mode=sync_mode)
    return department, resource, mount, source


@pytest.mark.article("A25.1")
def test_a_sync_tallies_completeness_validity_and_key_uniqueness(
    session: Session, factory: Factory, tmp_path: Path, base_engine: Engine
) -> None:
    _department, _resource, mount, _source = _mounted(session, factory, tmp_path)
    outcome = TableChannel().sync(runs.mount_spec(session, mount), RunEnv(base=base_engine))
    q = outcome.quality
    assert q["rows"] == ROWS and outcome.rows == ROWS
    name = _item(q, "姓名")
    assert (name["missing"], name["filled"]) == (2, ROWS - 2)  # None and blank
    ident = _item(q, "公民身份号码")
    assert [(p["code"], p["count"]) for p in ident["problems"]] == [("id_check_digit", 1)]
    phone = _item(q, "手机号码")
    assert [(p["code"], p["count"]) for p in phone["problems"]] == [("phone", 1)]
    born = _item(q, "出生日期")
    assert [(p["code"], p["count"]) for p in born["problems"]] == [("date_range", 1)]
    assert _item(q, "编号")["invalid"] == 0
    assert q["key"] is not None and q["key"]["columns"] == ["编号"] and q["key"]["duplicates"] == 0
    assert q["key"]["uniqueness"] == 1.0
    # examples only for items of no sensitivity: no 身份证号 or 手机号 in the summary
    text = json.dumps(q, ensure_ascii=False)
    assert BAD_ID not in text and "12345" not in text
    assert _item(q, "出生日期")["examples"] == ["1850-01-01"]
    assert "完整率" in q["text"] and "有效率" in q["text"]


@pytest.mark.article("A25.1")
def test_the_worker_stores_the_summary_on_the_run_and_the_base_table(
    app: Any, session: Session, factory: Factory, tmp_path: Path, base_engine: Engine
) -> None:
    department, resource, mount, _source = _mounted(session, factory, tmp_path)
    db: Database = app.state.db
    run = runs.request_run(session, factory.compiler(department), mount_id=mount.id)
    assert worker.claim_run(session, run.id, "worker-q", lease_seconds=60)
    assert worker.execute(db, run.id, "worker-q", base_engine=base_engine) == "succeeded"
    stored = session.get(SyncRun, run.id)
    assert stored is not None
    session.refresh(stored)
    assert stored.quality["rows"] == ROWS
    assert _item(stored.quality, "公民身份号码")["invalid"] == 1
    record = session.scalars(select(BaseTable).where(BaseTable.resource_id == resource.id)).one()
    session.refresh(record)
    assert record.quality == stored.quality and record.row_count == ROWS


@pytest.mark.article("A25.1")
def test_an_incremental_run_tallies_the_rows_it_read(
    session: Session, factory: Factory, tmp_path: Path, base_engine: Engine
) -> None:
    _department, _resource, mount, source = _mounted(session, factory, tmp_path, sync_mode="incremental")
    spec = runs.mount_spec(session, mount)
    channel = TableChannel()
    assert channel.sync(spec, RunEnv(base=base_engine)).quality["rows"] == ROWS
    source_engine = create_engine(source.url)
    with source_engine.begin() as conn:
        conn.exec_driver_sql("UPDATE people SET phone = '110', seq = seq + 1000 WHERE id IN (10, 11)")
    source_engine.dispose()
    second = channel.sync(spec, RunEnv(base=base_engine)).quality
    assert second["rows"] == 2
    assert _item(second, "手机号码")["problems"] == [
        {"code": "phone", "label": "手机号格式不符(应为11位大陆手机号)", "count": 2}
    ]


@pytest.mark.article("A25.1")
def test_a_failed_run_keeps_no_quality_and_the_base_keeps_the_last_good_one(
    app: Any, session: Session, factory: Factory, tmp_path: Path, base_engine: Engine
) -> None:
    department, resource, mount, source = _mounted(session, factory, tmp_path)
    db: Database = app.state.db
    compiler = factory.compiler(department)
    first = runs.request_run(session, compiler, mount_id=mount.id)
    assert worker.claim_run(session, first.id, "worker-q", lease_seconds=60)
    assert worker.execute(db, first.id, "worker-q", base_engine=base_engine) == "succeeded"
    record = session.scalars(select(BaseTable).where(BaseTable.resource_id == resource.id)).one()
    good = dict(record.quality)
    source_engine = create_engine(source.url)
    with source_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE people RENAME COLUMN phone TO mobile")
    source_engine.dispose()
    second = runs.request_run(session, compiler, mount_id=mount.id)
    assert worker.claim_run(session, second.id, "worker-q", lease_seconds=60)
    assert worker.execute(db, second.id, "worker-q", base_engine=base_engine) == "failed"
    failed = session.get(SyncRun, second.id)
    assert failed is not None
    session.refresh(failed)
    assert failed.quality == {} and "phone" in failed.error
    session.refresh(record)
    assert record.quality == good


@pytest.mark.article("A25.1")
@pytest.mark.parametrize(
    ("spec", "column"),
    [
        (ItemSpec("编号", "I"), [1, 2, None, 4]),
        (ItemSpec("编号", "I", 2), [1, 99, 100, None]),
        (ItemSpec("编号", "I"), [1, True, 3]),
        (ItemSpec("金额", "N", 4), [Decimal("12.5"), Decimal("NaN"), 7, None]),
        (ItemSpec("金额", "N", 4), [Decimal("12.5"), Decimal("99999"), None]),
        (ItemSpec("姓名", "C", 4), ["王五", "", "   ", None, "王小二"]),
        (ItemSpec("姓名", "C", 4), ["王五", "欧阳小明同学"]),
        (ItemSpec("备注", "M"), ["说明", " ", None]),
        (ItemSpec("出生日期", "D"), [dt.date(1990, 1, 1), None, dt.date(1850, 1, 1)]),
        (ItemSpec("出生日期", "D"), [dt.date(1990, 1, 1), dt.datetime(1990, 1, 1, 8)]),
        (ItemSpec("登记时间", "T"), [dt.datetime(2020, 5, 1, 8), None, dt.datetime(2200, 1, 1)]),
        (ItemSpec("有效", "L"), [True, None, False, 1]),
        (ItemSpec("身份证号", "C", 18, "id_number"), [id_number(1), id_number(2), None, "", "  "]),
        (ItemSpec("身份证号", "C", 18, "id_number"), [id_number(1), BAD_ID, id_number(3).lower()]),
        (ItemSpec("身份证号", "C", 18, "id_number"), [id_number(1), "620102" + "20991301" + "0017"]),
        (ItemSpec("手机号", "C", 11, "phone"), ["13912345678", None, ""]),
        (ItemSpec("手机号", "C", 11, "phone"), ["13912345678", "1391234567", 13912345678]),
    ],
)
def test_the_whole_column_fast_path_counts_exactly_as_checking_each_value(spec: ItemSpec, column: list[Any]) -> None:
    """The C-level pass over a clean column must agree with the value-by-value checks, clean or not."""
    today = dt.date(2026, 11, 25)
    fast = QualityTally([spec], today=today).add([[v] for v in column])
    slow = QualityTally([spec], today=today)
    slow._clean = [None]
    slow.add([[v] for v in column])
    assert fast.summary() == slow.summary()


def test_the_fast_path_takes_clean_columns_and_leaves_dirty_ones_to_the_checks() -> None:
    today = dt.date(2026, 11, 25)
    ids = QualityTally([ItemSpec("身份证号", "C", 18, "id_number")], today=today)._clean[0]
    assert ids is not None and ids([id_number(1), None, id_number(2)]) == 1
    assert ids([id_number(1), BAD_ID]) is None
    names = QualityTally([ItemSpec("姓名", "C", 4)], today=today)._clean[0]
    assert names is not None and names(["王五", "", " ", None]) == 3 and names(["欧阳小明同学"]) is None
    emails = QualityTally([ItemSpec("邮箱", "C", 50, "email")], today=today)._clean[0]
    assert emails is None  # checked value by value
