"""库表交换 against real SQLite, PostgreSQL and MariaDB sources, into a real base."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, text

from govshare.exchange import base
from govshare.exchange.channels import RunEnv, SyncFailed
from govshare.exchange.channels.table import TableChannel
from tests.exchange import table_sources
from tests.exchange.table_sources import Source, base_rows, checksum

ROWS = 3000
RESOURCE_ID = 9001
channel = TableChannel()


@pytest.fixture
def base_engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    yield from table_sources.base_database(tmp_path, database_url)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    if request.param == "sqlite":
        yield from table_sources.sqlite_source(tmp_path)
    elif request.param == "postgresql":
        yield from table_sources.postgres_source()
    else:
        yield from table_sources.mariadb_source()


@pytest.fixture
def sqlite_source(tmp_path: Path) -> Iterator[Source]:
    yield from table_sources.sqlite_source(tmp_path)


def _state(engine: Engine) -> base.SyncState:
    with engine.connect() as conn:
        return base.read_state(conn, base.table_name(RESOURCE_ID))


@pytest.mark.article("A8.1", "A24.2")
def test_full_sync_reaches_equality_with_the_source(source: Source, base_engine: Engine) -> None:
    source.create(ROWS)
    progress: list[int] = []
    outcome = channel.sync(
        source.spec(RESOURCE_ID), RunEnv(base=base_engine, progress=lambda r, _b: progress.append(r))
    )
    assert outcome.rows == ROWS and outcome.row_count == ROWS and outcome.bytes > 0
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(source.rows())
    assert progress and progress[-1] == ROWS and len(progress) >= ROWS // 500  # streamed in batches
    assert _state(base_engine).watermark == ROWS  # the highest ``seq`` read
    # A second full refresh replaces the table (and its key index) cleanly.
    source.execute(f"DELETE FROM {source.table} WHERE id <= 10")
    channel.sync(source.spec(RESOURCE_ID), RunEnv(base=base_engine))
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(source.rows())
    assert not inspect(base_engine).has_table(base.staging_name(RESOURCE_ID))


@pytest.mark.article("A8.1", "A24.2")
def test_incremental_sync_after_inserts_and_updates(source: Source, base_engine: Engine) -> None:
    source.create(ROWS)
    spec = source.spec(RESOURCE_ID, sync_mode="incremental")
    channel.sync(spec, RunEnv(base=base_engine))  # the first incremental run loads everything
    before = _state(base_engine).watermark
    source.update(list(range(1, 200, 7)))
    source.insert(range(ROWS + 1, ROWS + 301))
    outcome = channel.sync(spec, RunEnv(base=base_engine))
    assert outcome.rows == len(range(1, 200, 7)) + 300  # only the changed rows were read
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(source.rows())
    after = _state(base_engine)
    assert after.watermark > before and after.watermark == source.next_seq - 1
    assert after.row_count == ROWS + 300


@pytest.mark.article("A24.2")
def test_incremental_sync_does_not_see_deletes_but_a_full_refresh_does(
    sqlite_source: Source, base_engine: Engine
) -> None:
    sqlite_source.create(500)
    incremental = sqlite_source.spec(RESOURCE_ID, sync_mode="incremental")
    channel.sync(incremental, RunEnv(base=base_engine))
    sqlite_source.execute("DELETE FROM people WHERE id <= 5")
    channel.sync(incremental, RunEnv(base=base_engine))
    assert len(base_rows(base_engine, RESOURCE_ID)) == 500  # documented: deletes are invisible
    channel.sync(sqlite_source.spec(RESOURCE_ID), RunEnv(base=base_engine))
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(sqlite_source.rows())


@pytest.mark.article("A24.2")
def test_renamed_source_column_fails_the_run_and_changes_nothing(sqlite_source: Source, base_engine: Engine) -> None:
    sqlite_source.create(500)
    channel.sync(sqlite_source.spec(RESOURCE_ID), RunEnv(base=base_engine))
    before, state = checksum(base_rows(base_engine, RESOURCE_ID)), _state(base_engine)
    sqlite_source.execute("ALTER TABLE people RENAME COLUMN amount TO amount_yuan")
    sqlite_source.execute("UPDATE people SET name = '改名后'")
    for mode in ("full", "incremental"):
        with pytest.raises(SyncFailed, match="源表缺少字段 amount,与挂载配置不符"):
            channel.sync(sqlite_source.spec(RESOURCE_ID, sync_mode=mode), RunEnv(base=base_engine))
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == before
    assert _state(base_engine) == state


@pytest.mark.article("A8.1", "A24.2")
def test_an_unconvertible_row_leaves_the_previous_table_and_watermark(
    sqlite_source: Source, base_engine: Engine
) -> None:
    sqlite_source.create(ROWS)
    channel.sync(sqlite_source.spec(RESOURCE_ID), RunEnv(base=base_engine))
    before, state = checksum(base_rows(base_engine, RESOURCE_ID)), _state(base_engine)
    sqlite_source.insert(range(ROWS + 1, ROWS + 1001))
    sqlite_source.execute("UPDATE people SET amount = '一百元' WHERE id = :id", {"id": ROWS + 700})
    for mode in ("full", "incremental"):
        with pytest.raises(SyncFailed, match="信息项「金额」的值无法转换为数值"):
            channel.sync(sqlite_source.spec(RESOURCE_ID, sync_mode=mode, batch_size=2000), RunEnv(base=base_engine))
        assert checksum(base_rows(base_engine, RESOURCE_ID)) == before
        assert _state(base_engine) == state
    assert not inspect(base_engine).has_table(base.staging_name(RESOURCE_ID))
    # Once the provider fixes the row, the next run reaches equality.
    sqlite_source.execute("UPDATE people SET amount = 100 WHERE id = :id", {"id": ROWS + 700})
    channel.sync(sqlite_source.spec(RESOURCE_ID, sync_mode="incremental"), RunEnv(base=base_engine))
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(sqlite_source.rows())


@pytest.mark.article("A8.1", "A24.2")
def test_source_connection_cut_mid_stream_keeps_previous_data(base_engine: Engine) -> None:
    gen = table_sources.postgres_source()
    source = next(gen)
    try:
        source.create(ROWS)
        channel.sync(source.spec(RESOURCE_ID), RunEnv(base=base_engine))
        before, state = checksum(base_rows(base_engine, RESOURCE_ID)), _state(base_engine)
        source.update(list(range(1, ROWS + 1, 3)))
        database = source.engine.url.database
        admin = create_engine(source.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")

        def cut(rows: int, _bytes: int) -> None:
            if rows >= 500:  # after the first batch: kill the sync's source connection
                with admin.connect() as conn:
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = :db AND pid <> pg_backend_pid()"
                        ),
                        {"db": database},
                    )

        for mode in ("full", "incremental"):
            with pytest.raises(SyncFailed, match="读取源表时连接中断"):
                channel.sync(source.spec(RESOURCE_ID, sync_mode=mode), RunEnv(base=base_engine, progress=cut))
            if mode == "full":
                assert checksum(base_rows(base_engine, RESOURCE_ID)) == before
                assert _state(base_engine) == state
        admin.dispose()
        source.engine.dispose()
        # An incremental run commits whole batches with their watermark: the next run completes it.
        channel.sync(source.spec(RESOURCE_ID, sync_mode="incremental"), RunEnv(base=base_engine))
        assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(source.rows())
    finally:
        gen.close()


@pytest.mark.article("A24.2")
def test_probe_reads_the_test_table_and_reports_failure(sqlite_source: Source) -> None:
    sqlite_source.create(10)
    ok = channel.probe(sqlite_source.spec(RESOURCE_ID))
    assert ok.ok and ok.latency_ms >= 0 and ok.error == ""
    spec = sqlite_source.spec(RESOURCE_ID)
    missing = channel.probe(type(spec)(**{**spec.__dict__, "test_table": "no_such_table"}))
    assert not missing.ok and missing.error == "无法连接源数据库或读取测试表"


@pytest.mark.article("A8.1", "A24.2")
def test_a_reader_polling_during_a_full_refresh_sees_the_whole_old_or_the_whole_new_table(
    sqlite_source: Source, base_engine: Engine
) -> None:
    sqlite_source.create(ROWS)
    channel.sync(sqlite_source.spec(RESOURCE_ID), RunEnv(base=base_engine))
    old = checksum(base_rows(base_engine, RESOURCE_ID))
    sqlite_source.update(list(range(1, ROWS + 1, 2)))
    sqlite_source.insert(range(ROWS + 1, ROWS + 501))
    new = checksum(sqlite_source.rows())
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                seen.append(checksum(base_rows(base_engine, RESOURCE_ID)))
            except Exception:  # a missing table between a drop and a rename would land here
                seen.append((-1, -1))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        channel.sync(
            sqlite_source.spec(RESOURCE_ID), RunEnv(base=base_engine, progress=lambda _r, _b: time.sleep(0.05))
        )
        time.sleep(0.1)
    finally:
        done.set()
        reader.join()
    assert set(seen) <= {old, new}
    assert seen[0] == old and seen[-1] == new and len(seen) > 3


@pytest.mark.article("A24.2")
def test_switching_a_keyless_full_mount_to_incremental_creates_the_key_index(
    sqlite_source: Source, base_engine: Engine
) -> None:
    sqlite_source.create(500)
    keyless = dataclasses.replace(sqlite_source.spec(RESOURCE_ID), key_column="")
    channel.sync(keyless, RunEnv(base=base_engine))
    assert not [i for i in inspect(base_engine).get_indexes(base.table_name(RESOURCE_ID)) if i["unique"]]
    sqlite_source.update([3, 4])
    sqlite_source.insert(range(501, 511))
    outcome = channel.sync(sqlite_source.spec(RESOURCE_ID, sync_mode="incremental"), RunEnv(base=base_engine))
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(sqlite_source.rows())
    assert outcome.row_count == _state(base_engine).row_count == 510
    unique = [i for i in inspect(base_engine).get_indexes(base.table_name(RESOURCE_ID)) if i["unique"]]
    assert [i["column_names"] for i in unique] == [["c1"]]


@pytest.mark.article("A24.2")
def test_incremental_row_count_is_kept_without_counting_the_table(source: Source, base_engine: Engine) -> None:
    source.create(1000)
    spec = source.spec(RESOURCE_ID, sync_mode="incremental", batch_size=200)
    channel.sync(spec, RunEnv(base=base_engine))
    source.update(list(range(1, 1000, 3)))  # 333 updates, 150 inserts, spread over several batches
    source.insert(range(1001, 1151))
    outcome = channel.sync(spec, RunEnv(base=base_engine))
    assert outcome.rows == 333 + 150 and outcome.row_count == _state(base_engine).row_count == 1150
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(source.rows())


@pytest.mark.article("A24.2")
def test_mariadb_dates_and_a_datetime_watermark_arrive_as_dates(base_engine: Engine) -> None:
    gen = table_sources.mariadb_source()
    source = next(gen)
    try:
        source.create(300)
        source.execute(f"ALTER TABLE {source.table} ADD COLUMN changed DATETIME(6) NULL")
        source.execute(f"UPDATE {source.table} SET changed = TIMESTAMP '2026-01-01 00:00:00' + INTERVAL id MICROSECOND")
        spec = dataclasses.replace(source.spec(RESOURCE_ID, sync_mode="incremental"), watermark_column="changed")
        channel.sync(spec, RunEnv(base=base_engine))
        assert _state(base_engine).watermark == dt.datetime(2026, 1, 1, 0, 0, 0, 300)
        source.execute(
            f"UPDATE {source.table} SET name = '改', changed = TIMESTAMP '2026-02-01 08:00:00' WHERE id <= 5"
        )
        outcome = channel.sync(spec, RunEnv(base=base_engine))
        assert outcome.rows == 5 and _state(base_engine).watermark == dt.datetime(2026, 2, 1, 8, 0)
        assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(source.rows())
        target = base.table_for(base.table_name(RESOURCE_ID), table_sources.COLUMNS)
        with base_engine.connect() as conn:
            born = conn.execute(select(target.c.c4).where(target.c.c1 == 1)).scalar_one()
        assert born == dt.date(1960, 1, 2)
    finally:
        gen.close()


@pytest.mark.article("A25.1")
def test_a_full_load_counts_missing_keys_without_keeping_every_key(sqlite_source: Source, base_engine: Engine) -> None:
    from govshare.exchange.channels.table import quality_tally

    spec = sqlite_source.spec(RESOURCE_ID)
    tally = quality_tally(spec, full_load=True)
    tally.add([(n if n % 10 else None, "王测试", 1, None, True) for n in range(1, 1001)])
    key = tally.summary()["key"]
    assert key is not None and (key["rows"], key["missing"], key["duplicates"]) == (900, 100, 0)
    assert not tally._seen  # no hash per key: the staging table's unique index proves uniqueness
    sqlite_source.create(ROWS)
    outcome = channel.sync(spec, RunEnv(base=base_engine))
    assert outcome.quality["key"]["rows"] == ROWS and outcome.quality["key"]["duplicates"] == 0
    sqlite_source.execute("DROP TABLE people")  # a source with a repeated key fails the whole run
    sqlite_source.execute(
        "CREATE TABLE people (id INTEGER, name TEXT, amount NUMERIC, born DATE, active BOOLEAN, seq INT)"
    )
    sqlite_source.execute(
        "INSERT INTO people VALUES (1, '甲', 1, '2000-01-01', 1, 1), (1, '乙', 2, '2000-01-02', 0, 2)"
    )
    with pytest.raises(SyncFailed, match="源表键字段存在重复值"):
        channel.sync(spec, RunEnv(base=base_engine))


@pytest.mark.article("A24.2")
def test_a_changed_key_column_gets_its_unique_index_before_the_upserts(
    sqlite_source: Source, base_engine: Engine
) -> None:
    sqlite_source.create(300)
    spec = sqlite_source.spec(RESOURCE_ID, sync_mode="incremental")
    channel.sync(spec, RunEnv(base=base_engine))  # the first run: a full load, unique index on id (c1)
    by_name = dataclasses.replace(spec, key_column="name")
    for n in (5, 6):  # the names (the new key) stay, the amounts change
        sqlite_source.execute(
            "UPDATE people SET amount = amount + 1, seq = :s WHERE id = :id", {"s": 1000 + n, "id": n}
        )
    outcome = channel.sync(by_name, RunEnv(base=base_engine))
    assert outcome.rows == 2 and outcome.row_count == 300
    assert checksum(base_rows(base_engine, RESOURCE_ID)) == checksum(sqlite_source.rows())
    unique = [i["column_names"] for i in inspect(base_engine).get_indexes(base.table_name(RESOURCE_ID)) if i["unique"]]
    assert unique == [["c2"]]


@pytest.mark.article("A24.2", "A25.1")
def test_a_sqlite_date_column_holding_text_converts_or_fails_clearly(
    sqlite_source: Source, base_engine: Engine
) -> None:
    # SQLite keeps whatever it is given in a DATE column: here text in several shapes, blanks and NULL.
    sqlite_source.create(ROWS)
    texts = {1: "2020-01-02", 2: "2020-01-02 08:30:00", 3: "20200103", 4: "2020/01/04", 5: "", 6: None}
    for ident, value in texts.items():
        sqlite_source.execute("UPDATE people SET born = :v WHERE id = :id", {"v": value, "id": ident})
    sqlite_source.execute("UPDATE people SET born = '1800-01-01' WHERE id = 7")  # a date, but out of range
    sqlite_source.execute("UPDATE people SET born = 20200105 WHERE id = 8")  # an integer in a DATE column
    outcome = channel.sync(sqlite_source.spec(RESOURCE_ID), RunEnv(base=base_engine))
    assert outcome.rows == ROWS and outcome.bytes > 0
    with base_engine.connect() as conn:
        born = dict(conn.execute(text(f"SELECT c1, c4 FROM {base.table_name(RESOURCE_ID)} WHERE c1 <= 8")).all())
    got = {k: (v if v is None or isinstance(v, dt.date) else dt.date.fromisoformat(str(v))) for k, v in born.items()}
    assert got == {
        1: dt.date(2020, 1, 2),
        2: dt.date(2020, 1, 2),
        3: dt.date(2020, 1, 3),
        4: dt.date(2020, 1, 4),
        5: None,
        6: None,
        7: dt.date(1800, 1, 1),
        8: dt.date(2020, 1, 5),
    }
    item = next(i for i in outcome.quality["items"] if i["name"] == "出生日期")
    assert item["missing"] == 2 and [p["code"] for p in item["problems"]] == ["date_range"]
    before, state = checksum(base_rows(base_engine, RESOURCE_ID)), _state(base_engine)

    # A text that is no date at all fails the run with the row and the 信息项 named; nothing changes.
    sqlite_source.execute("UPDATE people SET born = '2020-13-45', seq = :s WHERE id = 9", {"s": 10 * ROWS})
    for mode, at in (("full", 9), ("incremental", 1)):  # the row's place among those this run read
        with pytest.raises(SyncFailed, match=f"第 {at} 行信息项「出生日期」的值无法转换为日期,本次同步未生效"):
            channel.sync(sqlite_source.spec(RESOURCE_ID, sync_mode=mode, batch_size=ROWS), RunEnv(base=base_engine))
        assert checksum(base_rows(base_engine, RESOURCE_ID)) == before and _state(base_engine) == state
