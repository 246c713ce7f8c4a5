"""库表交换 against real SQLite, PostgreSQL and MariaDB sources, into a real base."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

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
