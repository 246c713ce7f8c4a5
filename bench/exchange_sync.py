"""库表交换 benchmark: a MariaDB source table into a PostgreSQL base, against a plain copy script.

    .venv/bin/python bench/exchange_sync.py --rows 1000000

The source is a table of 人口基本信息 in MariaDB (``mysql+pymysql://root@127.0.0.1:3306/test``,
``--mysql-url``): id, 公民身份号码, 姓名, 性别, 出生日期, 手机号码, 住址, 月收入, 登记时间 and the
watermark ``updated_at`` (indexed, as a provider must index its watermark column for incremental
sync). It is generated in the server from MariaDB's sequence engine and dropped at the end. The
platform database and the base are one scratch PostgreSQL database (``--pg-url``, created and
dropped), as in the embedded default with PostgreSQL.

Measured in the same run:

(a) baseline: a plain script with the same driver — pymysql with a server-side cursor, ``fetchmany``
    — writing every row with psycopg ``COPY … FROM STDIN`` into a table of the same shape;
(b) the platform: a mount of the table (incremental, key ``id``), its first run (a full load) queued,
    claimed and run by the worker's ``execute`` — channel, type checks, quality tally (when wired),
    staging table, unique key index, swap, run record — in a subprocess that stays up between runs as
    a ``govshare worker`` does; target rate ≥ 0.8 × (a). (a) and (b) alternate ``--repeat`` times (the
    base is dropped between full loads) and the best of each counts: other load on the machine moves
    single runs by ±30 %;
(c) 1 % of the rows changed at the source (0.8 % updated, 0.2 % inserted, newer ``updated_at``),
    then the next run of that worker: incremental; ``--repeat`` rounds (other rows each time), the
    best counts; target time ≤ 5 % of (b);
(d) peak RSS (VmHWM) of a worker process after one full sync of N/4 and of N rows; target: the
    larger within 20 % (or 16 MB) of the smaller.

Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import pymysql  # noqa: E402
import pymysql.cursors  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/govshare_bench_sync"
TABLE = "bench_sync_people"
SMALL_TABLE = "bench_sync_people_small"

# (source column, 信息项 name, data type, sensitivity, MariaDB type, PostgreSQL type of the baseline)
COLUMNS: list[tuple[str, str, str, str, str, str]] = [
    ("id", "人员编号", "I", "none", "BIGINT PRIMARY KEY", "BIGINT"),
    ("id_number", "公民身份号码", "C", "id_number", "CHAR(18)", "TEXT"),
    ("name", "姓名", "C", "none", "VARCHAR(32)", "TEXT"),
    ("gender", "性别", "C", "none", "CHAR(1)", "TEXT"),
    ("birth", "出生日期", "D", "none", "DATE", "DATE"),
    ("phone", "手机号码", "C", "phone", "VARCHAR(11)", "TEXT"),
    ("address", "住址", "C", "none", "VARCHAR(100)", "TEXT"),
    ("income", "月收入", "Y", "none", "DECIMAL(12, 2)", "NUMERIC"),
    ("registered_at", "登记时间", "T", "none", "DATETIME", "TIMESTAMP"),
]
WATERMARK = ("updated_at", "DATETIME(6) NOT NULL", "TIMESTAMP")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
# 公民身份号码 carry a valid GB 11643 check character except for one in 10,007 (realistic for a
# population register); the check sum is computed in SQL from the 17-digit body.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_SUM = " + ".join(f"SUBSTR(body, {i}, 1) * {w}" for i, w in enumerate(_ID_WEIGHTS, start=1))
_ROW_SQL = f"""
SELECT seq,
  CONCAT(body, ELT(1 + MOD({_CHECK_SUM} + IF(seq % 10007 = 0, 1, 0), 11),
                   '1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2')),
  CONCAT(SUBSTR('{SURNAMES}', 1 + seq % 20, 1), SUBSTR('{GIVEN}', 1 + (seq * 7) % 24, 1),
         IF(seq % 5 < 3, SUBSTR('{GIVEN}', 1 + (seq * 13) % 24, 1), '')),
  IF(seq % 2 = 1, '1', '2'),
  birth,
  IF(seq % 100 = 0, NULL, CONCAT('13', LPAD((seq * 104729) % 1000000000, 9, '0'))),
  CONCAT('甘肃省兰州市', ELT(1 + seq % 5, '城关区', '七里河区', '西固区', '安宁区', '红古区'),
         ELT(1 + seq % 4, '雁滩路', '东岗西路', '西津东路', '北滨河路'), seq % 999 + 1, '号'),
  ((seq * 31) % 2850000 + 150000) / 100,
  TIMESTAMP '2000-01-01 00:00:00' + INTERVAL (seq * 9973) % 800000000 SECOND,
  TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND
FROM (
  SELECT seq, birth, CONCAT(ELT(1 + seq % 8, '620102', '620103', '620104', '620105', '620111', '620121',
                                '620122', '620123'), DATE_FORMAT(birth, '%Y%m%d'), LPAD(seq % 1000, 3, '0')) AS body
  FROM (SELECT seq, DATE '1940-01-01' + INTERVAL (seq * 7919) % 30000 DAY AS birth FROM seq_1_to_{{n}}) AS numbers
) AS people
"""


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not available (Linux only)")


def _names() -> list[str]:
    return [c[0] for c in COLUMNS] + [WATERMARK[0]]


# --- the source -------------------------------------------------------------------------------


def create_source(mysql_url: str, table: str, rows: int) -> None:
    engine = create_engine(mysql_url)
    cols = ", ".join(f"{c[0]} {c[4]}" for c in COLUMNS) + f", {WATERMARK[0]} {WATERMARK[1]}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(text(f"CREATE TABLE {table} ({cols}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"))
        conn.execute(text(f"INSERT INTO {table} ({', '.join(_names())}) " + _ROW_SQL.format(n=rows)))
        # The provider indexes its watermark column: incremental runs read WHERE updated_at > :last.
        conn.execute(text(f"CREATE INDEX ix_{table}_updated_at ON {table} (updated_at)"))
    engine.dispose()


def change_source(mysql_url: str, table: str, rows: int, round_: int = 0) -> tuple[int, int]:
    """Update 0.8 % and insert 0.2 % of ``rows``, all with an ``updated_at`` newer than any before; each
    round changes other rows, a day later than the round before."""
    engine = create_engine(mysql_url)
    updates, inserts = rows * 8 // 1000, rows * 2 // 1000
    day = dt.date(2026, 6, 1) + dt.timedelta(days=2 * round_)
    first = rows + round_ * inserts
    with engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {table} SET name = CONCAT(name, '改'), income = income + 1,"
                f" updated_at = TIMESTAMP '{day} 00:00:00' + INTERVAL id MICROSECOND"
                f" WHERE id % 125 = {7 + round_ % 100} ORDER BY id LIMIT {updates}"
            )
        )
        insert_sql = _ROW_SQL.format(n=first + inserts).replace(
            "TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND",
            f"TIMESTAMP '{day + dt.timedelta(days=1)} 00:00:00' + INTERVAL seq MICROSECOND",
        )
        conn.execute(text(f"INSERT INTO {table} ({', '.join(_names())}) {insert_sql} WHERE seq > {first}"))
    engine.dispose()
    return updates, inserts


def drop_source(mysql_url: str, *tables: str) -> None:
    engine = create_engine(mysql_url)
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


# --- (a) the baseline -------------------------------------------------------------------------


def baseline(mysql_url: str, pg_url: str, table: str, batch: int) -> tuple[float, int]:
    """Stream the table with pymysql's server-side cursor and COPY it into PostgreSQL; (seconds, rows)."""
    u = make_url(mysql_url)
    started = time.perf_counter()
    source = pymysql.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 3306,
        user=u.username or "root",
        password=u.password or "",
        database=u.database,
        charset="utf8mb4",
        cursorclass=pymysql.cursors.SSCursor,
    )
    pg = make_url(pg_url)
    target = psycopg.connect(f"host={pg.host} port={pg.port or 5432} user={pg.username} dbname={pg.database}")
    names = _names()
    rows = 0
    try:
        with target.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS baseline_copy")
            pg_cols = [(c[0], c[5]) for c in COLUMNS] + [(WATERMARK[0], WATERMARK[2])]
            cur.execute(f"CREATE TABLE baseline_copy ({', '.join(f'{n} {t}' for n, t in pg_cols)})")
            with source.cursor() as src, cur.copy(f"COPY baseline_copy ({', '.join(names)}) FROM STDIN") as copy:
                src.execute(f"SELECT {', '.join(names)} FROM {table}")
                while chunk := src.fetchmany(batch):
                    for row in chunk:
                        copy.write_row(row)
                    rows += len(chunk)
        target.commit()
    finally:
        source.close()
        target.close()
    return time.perf_counter() - started, rows


# --- the platform ------------------------------------------------------------------------------


def setup_platform(pg_url: str, mysql_url: str, tables: list[str]) -> dict[str, int]:
    """Migrate the scratch database and mount each source table behind a resource; {table: mount id}."""
    from tests.factories import Factory

    from govshare import migrate
    from govshare.catalog.schemas import DataItemIn
    from govshare.db import Database
    from govshare.exchange import runs
    from govshare.identity.actor import Actor
    from govshare.identity.reference import ensure_reference_data

    db = Database(pg_url)
    migrate.upgrade(db.engine)
    mounts: dict[str, int] = {}
    with db.session_scope() as s:
        ensure_reference_data(s)
        factory = Factory(s)
        department = factory.department("兰州市公安局(基准测试)")
        for table in tables:
            items = [DataItemIn(name=c[1], data_type=c[2], sensitivity=c[3]) for c in COLUMNS]  # type: ignore[arg-type]
            resource = factory.resource(department, name=f"人口基本信息({table})", items=items)
            by_name = {item.name: item.id for item in resource.items}
            mount = runs.mount_table(
                s,
                Actor.system(),
                resource_id=resource.id,
                url=mysql_url,
                table=table,
                mapping={by_name[c[1]]: c[0] for c in COLUMNS},
                sync_mode="incremental",
                watermark_column=WATERMARK[0],
                key_column="id",
            )
            mounts[table] = mount.id
    db.dispose()
    return mounts


class Worker:
    """A subprocess that runs syncs of one mount as a long-lived worker does: each ``run()`` queues one run,
    claims it and times the worker's ``execute``; its peak RSS (VmHWM) is reported after every run."""

    def __init__(self, pg_url: str, mount_id: int) -> None:
        command = [sys.executable, __file__, "--child", str(mount_id), "--pg-url", pg_url]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the worker subprocess ended (status {self.process.wait()})")
        result: dict[str, Any] = json.loads(line)
        if result["status"] != "succeeded":
            raise SystemExit(f"sync failed: {result}")
        return result

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def child(pg_url: str, mount_id: int) -> None:
    from govshare.db import Database, create_db_engine
    from govshare.exchange import runs, worker

    db = Database(pg_url)
    engine = create_db_engine(pg_url)  # the base, as ``base.base_engine()`` gives it to a worker
    for _ in sys.stdin:
        with db.session_scope() as s:
            run_id = runs.queue_run(s, mount_id, trigger="manual").id
        owner = worker.new_owner()
        with db.session_scope() as s:
            assert worker.claim_run(s, run_id, owner, lease_seconds=60)
        started = time.perf_counter()
        status = worker.execute(db, run_id, owner, base_engine=engine)
        seconds = time.perf_counter() - started
        run = worker.run_row(db, run_id)
        assert run is not None
        result = {"status": status, "error": run.error, "rows": run.rows, "seconds": seconds}
        result |= {"peak_rss_mb": peak_rss_mb(), "quality": bool(run.quality)}
        print(json.dumps(result), flush=True)


def reset_base(pg_url: str, mount_id: int) -> None:
    """Drop the mount's base table and its sync state, so that its next run is a full load again."""
    from govshare.exchange import base

    engine = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        resource_id = conn.execute(text("SELECT resource_id FROM mount WHERE id = :id"), {"id": mount_id}).scalar_one()
        name = base.table_name(int(resource_id))
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        conn.execute(text("DELETE FROM base_sync_state WHERE table_name = :t"), {"t": name})
    engine.dispose()


def base_count(pg_url: str, mount_id: int) -> int:
    """Rows in the base table of the mount's resource."""
    from govshare.exchange import base

    engine = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        resource_id = conn.execute(text("SELECT resource_id FROM mount WHERE id = :id"), {"id": mount_id}).scalar_one()
        n = int(conn.execute(text(f"SELECT count(*) FROM {base.table_name(int(resource_id))}")).scalar_one())
    engine.dispose()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--mysql-url", default=os.environ.get("GOVSHARE_BENCH_MYSQL_URL", DEFAULT_MYSQL_URL))
    parser.add_argument("--pg-url", default=os.environ.get("GOVSHARE_BENCH_SYNC_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--batch", type=int, default=0, help="baseline fetchmany size (default: the channel's)")
    parser.add_argument("--no-rss", action="store_true", help="skip (d), the second full sync at rows/4")
    parser.add_argument("--keep", action="store_true", help="keep the source tables and the scratch database")
    parser.add_argument("--repeat", type=int, default=2, help="runs of (a), (b) and (c), best of each")
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.pg_url, args.child)
        return

    from tests import pg

    from govshare.exchange.channels import MountSpec

    batch = args.batch or MountSpec.__dataclass_fields__["batch_size"].default
    n, small = args.rows, args.rows // 4
    pg_url = pg.create_database(args.pg_url)
    failures: list[str] = []
    try:
        t = time.perf_counter()
        create_source(args.mysql_url, TABLE, n)
        if not args.no_rss:
            create_source(args.mysql_url, SMALL_TABLE, small)
        print(f"source: {n:,} rows in MariaDB generated in {time.perf_counter() - t:.1f} s")
        mounts = setup_platform(pg_url, args.mysql_url, [TABLE] + ([] if args.no_rss else [SMALL_TABLE]))

        # (a) and (b) alternately, best of --repeat each: the machine's other load moves both.
        best_a, best_b, first_b = float("inf"), None, None
        worker = Worker(pg_url, mounts[TABLE])
        for i in range(args.repeat):
            seconds, base_rows = baseline(args.mysql_url, pg_url, TABLE, batch)
            print(f"    (a) {base_rows:,} rows in {seconds:.2f} s = {base_rows / seconds:,.0f} rows/s")
            best_a = min(best_a, seconds)
            if i:
                reset_base(pg_url, mounts[TABLE])
            full = worker.run()
            rate = full["rows"] / full["seconds"]
            print(f"    (b) {full['rows']:,} rows in {full['seconds']:.2f} s = {rate:,.0f} rows/s")
            first_b = first_b or full
            best_b = full if best_b is None or full["seconds"] < best_b["seconds"] else best_b
        assert best_b is not None and first_b is not None
        base_rate = n / best_a
        print(
            f"(a) baseline pymysql SSCursor → psycopg COPY: {n:,} rows, best {best_a:.2f} s = {base_rate:,.0f} rows/s"
        )
        rate = best_b["rows"] / best_b["seconds"]
        ratio = rate / base_rate
        print(
            f"(b) platform full sync (worker execute, quality {'on' if best_b['quality'] else 'off'}): "
            f"{best_b['rows']:,} rows, best {best_b['seconds']:.2f} s = {rate:,.0f} rows/s; "
            f"ratio to (a) {ratio:.2f} (target ≥ 0.80)"
        )
        if ratio < 0.8:
            failures.append(f"(b) rate ratio {ratio:.2f} < 0.80")

        # (c) as often, each time other rows changed; the best counts, as for (a) and (b).
        inc: dict[str, Any] | None = None
        for r in range(args.repeat):
            updates, inserts = change_source(args.mysql_url, TABLE, n, r)
            this = worker.run()
            print(f"    (c) {this['rows']:,} rows in {this['seconds']:.2f} s")
            if this["rows"] != updates + inserts:
                failures.append(f"(c) read {this['rows']} rows, expected {updates + inserts}")
            inc = this if inc is None or this["seconds"] < inc["seconds"] else inc
        worker.close()
        assert inc is not None
        share = inc["seconds"] / best_b["seconds"]
        print(
            f"(c) incremental after {updates:,} updates + {inserts:,} inserts: {inc['rows']:,} rows, best "
            f"{inc['seconds']:.2f} s = {share:.1%} of (b) (target ≤ 5 %)"
        )
        if share > 0.05:
            failures.append(f"(c) incremental took {share:.1%} of the full sync")
        count = base_count(pg_url, mounts[TABLE])
        if count != n + inserts * args.repeat:
            failures.append(f"base holds {count} rows, expected {n + inserts * args.repeat}")

        if not args.no_rss:
            small_worker = Worker(pg_url, mounts[SMALL_TABLE])
            small_run = small_worker.run()
            small_worker.close()
            low, high = small_run["peak_rss_mb"], first_b["peak_rss_mb"]
            print(
                f"(d) peak RSS of a worker process after one full sync: {small:,} rows {low:.0f} MB, "
                f"{n:,} rows {high:.0f} MB ({high - low:+.0f} MB, ×{high / low:.2f}; target within 20 % or 16 MB)"
            )
            if high - low > max(0.2 * low, 16):
                failures.append(f"(d) peak RSS grew from {low:.0f} MB to {high:.0f} MB")
    finally:
        if not args.keep:
            drop_source(args.mysql_url, TABLE, SMALL_TABLE)
            pg.drop_database(pg_url)
    if failures:
        print("MISSED: " + "; ".join(failures))
        raise SystemExit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
