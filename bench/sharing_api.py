"""Consumer data API benchmark: the platform's rows endpoint against a bare endpoint and Datasette.

    .venv/bin/pip install -e '.[bench]'      # Datasette and pyinstrument
    .venv/bin/python bench/sharing_api.py                      # 1,000,000 rows, 32 connections
    .venv/bin/python bench/sharing_api.py --rows 100000 --seconds 5   # a quick look while working

On PostgreSQL (the scratch database ``govshare_bench_sharing``, created and dropped), one base table
of 人口基本信息 with 1,000,000 rows and six 信息项 (公民身份号码, 姓名, 性别, 出生日期, 手机号码,
户籍地址), keyed by 公民身份号码. Six servers, each a real server in its own process(es) (two, a port
each, for a, g, f and b), each driven over real HTTP by the same load generator (a separate process:
asyncio, raw HTTP/1.1 keep-alive, 32 connections spread evenly over the server's processes, each
walking 100-row pages by keyset from its own starting point):

(a) **bare**: one route reading the same two columns of the same table, built like the platform's
    rows path (served on the event loop, psycopg's asynchronous pool of the same size and settings:
    autocommit, one round trip per page), with no authentication, masking or audit; (f) the same rows
    from a FastAPI route through SQLAlchemy;
(b) **platform**: ``GET /api/v1/consumer/resources/{code}/rows`` signed with HMAC (every request
    signed with a fresh nonce), a grant of 公民身份号码 and 手机号码, both masked, the access record
    and the audit record committed before each page leaves;
(g) **floor**, for reference: (a) plus the least the rules ask of every call, as lean as it can be
    written: the same HMAC check and masking windows, one access record per call committed before the
    rows leave (group committed, replays refused); no grant, audit chain, rate limit or framework;
(c) **Datasette** serving the same rows from a SQLite copy as it is normally run (``datasette serve
    bench.db``, default settings), its JSON API with ``_size=100``, the two columns (``_col``) and its
    own ``next`` (it counts the table and tries facet suggestions per page, as it does by default);
(d) the same Datasette tuned, for reference: ``-i`` (immutable), no count, facets or suggestions.

Targets (issue 4): (b) ≥ 0.75 × (a) in throughput; (b) p99 < 100 ms; (b) ≥ 5 × (c). The script
prints the figures and the ratios of this run, and the CPU time per request of each server's processes
and of the database's backends, and exits non-zero when a target is missed.
``--profile`` also runs the platform's request path (authentication, grant, read, mask, records,
commit) in this process under pyinstrument and prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/govshare_bench_sharing"
PYTHON = sys.executable
ITEMS = [
    # (name, type, sensitivity, source column)
    ("公民身份号码", "C", "id_number", "gmsfhm"),
    ("姓名", "C", "person_name", "xm"),
    ("性别", "C", "none", "xb"),
    ("出生日期", "D", "none", "csrq"),
    ("手机号码", "C", "phone", "sjhm"),
    ("户籍地址", "C", "address", "hjdz"),
]
REGIONS = (
    ("620102", "城关区"),
    ("620103", "七里河区"),
    ("620104", "西固区"),
    ("620105", "安宁区"),
    ("620111", "红古区"),
    ("620121", "永登县"),
    ("620122", "皋兰县"),
    ("620123", "榆中县"),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红梅鹏飞斌宇浩凯健俊帆"
STREETS = ("庆阳路", "张掖路", "酒泉路", "武都路", "天水路", "东岗西路", "西津西路", "南滨河路", "北滨河路", "民主西路")
CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


# --- the data --------------------------------------------------------------------------------------


def id_number(n: int) -> str:
    """A valid, unique 18-character 公民身份号码 for row ``n`` (region, birth date, sequence, check)."""
    region, _ = REGIONS[n % len(REGIONS)]
    m = n // len(REGIONS)
    born = dt.date(1940, 1, 1) + dt.timedelta(days=m % 25000)
    seq = (m // 25000) * 100 + n % 97
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + CHECK_CHARS[sum(int(c) * w for c, w in zip(body, CHECK_WEIGHTS, strict=True)) % 11]


def person_row(n: int) -> tuple[str, str, str, dt.date, str, str]:
    number = id_number(n)
    rng = random.Random(n)
    region = REGIONS[n % len(REGIONS)][1]
    return (
        number,
        rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
        "男" if int(number[16]) % 2 else "女",
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        f"1{rng.choice('3589')}{rng.randint(0, 9)}{n:08d}",
        f"甘肃省兰州市{region}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
    )


@dataclass
class Setup:
    """What the load generator and the servers need to know about the prepared data."""

    resource_id: int
    resource_code: str
    grant_id: int
    app_key: str
    secret: str
    table: str
    key_column: str  # c<公民身份号码>
    phone_column: str  # c<手机号码>
    key_item: int
    phone_item: int
    rows: int
    seconds_generate: float


def prepare(url: str, rows: int, *, log: Any = print) -> Setup:
    """Platform data through the services (departments, the published resource, a consumer system
    with its secret, the grant), then the base table filled with COPY."""
    from sqlalchemy import select, text
    from tests.factories import Factory

    from govshare import migrate
    from govshare.catalog.models import DataItem
    from govshare.config import get_settings
    from govshare.db import Database
    from govshare.exchange import base
    from govshare.exchange.models import BaseTable, Mount
    from govshare.identity.actor import Actor
    from govshare.identity.reference import ensure_reference_data
    from govshare.kit.crypto import decrypt
    from govshare.sharing.grants import issue_grant
    from govshare.sharing.systems import register_system

    db = Database(url)
    migrate.upgrade(db.engine)
    started = time.perf_counter()
    with db.session_scope() as session:
        ensure_reference_data(session)
        # plain SQL: a kept database may predate columns added to the models since
        existing = session.execute(text("SELECT resource_id, table_name FROM base_table")).first()
        if existing is not None:  # --reuse
            log("  reusing the prepared data")
            items = list(
                session.execute(
                    select(DataItem.id).where(DataItem.resource_id == existing.resource_id).order_by(DataItem.position)
                ).scalars()
            )
            app_key, encrypted = session.execute(text("SELECT app_key, secret_encrypted FROM consumer_system")).one()
            grant_id = session.execute(text("SELECT max(id) FROM data_grant")).scalar_one()
            code = session.execute(text("SELECT code FROM resource WHERE id = :r"), {"r": existing.resource_id})
            count = session.execute(text(f"SELECT count(*) FROM {existing.table_name}")).scalar_one()
            return Setup(
                existing.resource_id,
                code.scalar_one(),
                int(grant_id),
                app_key,
                decrypt(encrypted, get_settings().security.data_key),
                existing.table_name,
                base.column_name(items[0]),
                base.column_name(items[4]),
                items[0],
                items[4],
                int(count),
                0.0,
            )
        factory = Factory(session)
        police = factory.department("兰州市公安局")
        civil = factory.department("兰州市民政局")
        resource = factory.published_resource(
            police,
            name="人口基本信息",
            share_type="conditional",
            share_condition="仅限履行法定职责使用",
            items=[
                {"name": n, "data_type": t, "sensitivity": s, "is_basic": i < 2} for i, (n, t, s, _) in enumerate(ITEMS)
            ],
        )
        items = list(
            session.execute(
                select(DataItem).where(DataItem.resource_id == resource.id).order_by(DataItem.position)
            ).scalars()
        )
        system, secret = register_system(
            session, factory.compiler(civil), name="民政社会救助系统", rate_limit_per_minute=100_000
        )
        grant = issue_grant(
            session,
            Actor.system(),
            resource_id=resource.id,
            consumer_department_id=civil.id,
            data_item_ids=[items[0].id, items[4].id],
            purpose="社会救助对象资格审核",
            valid_from=dt.date(2020, 1, 1),
            valid_until=dt.date(2099, 12, 31),
            system_ids=[system.id],
        )
        table = base.table_name(resource.id)
        specs = [base.ColumnSpec(item_id=i.id, name=i.name, data_type=i.data_type) for i in items]
        session.add(
            Mount(
                resource_id=resource.id,
                channel="table",
                config={"table": "czrk"},
                key_column="gmsfhm",
                mapping={str(i.id): col for i, (_, _, _, col) in zip(items, ITEMS, strict=True)},
                status="active",
            )
        )
        session.add(
            BaseTable(
                resource_id=resource.id,
                table_name=table,
                row_count=rows,
                columns=[
                    {"column": s.column, "item_id": s.item_id, "name": s.name, "type": s.data_type} for s in specs
                ],
            )
        )
        setup = Setup(
            resource.id,
            resource.code,
            grant.id,
            system.app_key,
            secret,
            table,
            base.column_name(items[0].id),
            base.column_name(items[4].id),
            items[0].id,
            items[4].id,
            rows,
            0.0,
        )
        base.table_for(table, specs).create(session.connection())
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        columns = ", ".join(base.column_name(i.id) for i in items)
        with driver.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for n in range(rows):
                copy.write_row(person_row(n))
                if n and n % 250_000 == 0:
                    log(f"  … {n} rows")
        driver.commit()
    finally:
        raw.close()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX {table}_key ON {table} ({setup.key_column})")
        conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    db.dispose()
    setup.seconds_generate = time.perf_counter() - started
    return setup


def sqlite_copy(url: str, setup: Setup, path: Path) -> float:
    """The same rows in a SQLite file for Datasette, keyed (PRIMARY KEY) by 公民身份号码."""
    from sqlalchemy import create_engine

    started = time.perf_counter()
    pg = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    out = sqlite3.connect(path)
    out.execute(
        f"CREATE TABLE {setup.table} ({setup.key_column} TEXT PRIMARY KEY, xm TEXT, xb TEXT, csrq TEXT,"
        f" {setup.phone_column} TEXT, hjdz TEXT)"
    )
    with pg.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM {setup.table}").yield_per(20_000)
        for part in result.partitions():
            out.executemany(
                f"INSERT INTO {setup.table} VALUES (?, ?, ?, ?, ?, ?)",
                [(r[0], r[1], r[2], r[3].isoformat(), r[4], r[5]) for r in part],
            )
    out.commit()
    out.execute("VACUUM")
    out.close()
    pg.dispose()
    return time.perf_counter() - started


def start_keys(setup: Setup, connections: int) -> list[str]:
    """Each connection's first key: evenly spread over the table's key order."""
    keys = sorted(id_number(n) for n in range(setup.rows))
    step = max(1, len(keys) // connections)
    return [keys[i * step] for i in range(connections)]


# --- (a) the bare endpoint -------------------------------------------------------------------------


def _bare_page(found: Any, limit: int) -> Any:
    """The bare endpoints' answer: the page's two columns and the next key, as JSON."""
    from starlette.responses import Response

    page = found[:limit]
    body = {"rows": [{"i1": r[0], "i5": r[1]} for r in page], "next": page[-1][0] if len(found) > limit else None}
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), media_type="application/json")


def make_bare_app() -> Any:
    """Same rows, same table, built like the platform's rows endpoint on PostgreSQL (a route served
    straight on the event loop, psycopg's asynchronous connection from a pool of the same size and
    settings), with nothing else: no authentication, grant, masking or records (the baseline)."""
    from psycopg_pool import AsyncConnectionPool
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from govshare.sharing.consumer_rows import CONNECTION, POOL_SIZE

    env = json.loads(os.environ["BENCH_BARE"])
    key, phone, table = env["key"], env["phone"], env["table"]
    first = f"SELECT {key}, {phone} FROM {table} ORDER BY {key} LIMIT %(n)s"
    after_stmt = f"SELECT {key}, {phone} FROM {table} WHERE {key} > %(after)s ORDER BY {key} LIMIT %(n)s"
    pools: list[Any] = []

    async def rows(request: Request) -> Response:
        if not pools:
            # the platform's connection settings: autocommit (one round trip per read), statements prepared
            pool = AsyncConnectionPool(env["url"], min_size=1, max_size=POOL_SIZE, open=False, kwargs=CONNECTION)
            pools.append(pool)
            await pools[0].open()
        after = request.query_params.get("after", "")
        limit = int(request.query_params.get("limit", "100"))
        async with pools[0].connection() as conn:
            cur = await conn.execute(after_stmt if after else first, {"after": after, "n": limit + 1})
            found = await cur.fetchall()
        return _bare_page(found, limit)

    return Starlette(routes=[Route("/rows", rows)])


def make_bare_fastapi_app() -> Any:
    """(f) the same rows written the way a route is usually written with this codebase's stack: a FastAPI
    route (a worker thread per call) reading through SQLAlchemy; for reference."""
    from fastapi import FastAPI, Query
    from sqlalchemy import text
    from starlette.responses import Response

    from govshare.db import create_db_engine

    env = json.loads(os.environ["BENCH_BARE"])
    engine = create_db_engine(env["url"])  # the platform's own engine settings (pool, pre-ping)
    key, phone, table = env["key"], env["phone"], env["table"]
    first = text(f"SELECT {key}, {phone} FROM {table} ORDER BY {key} LIMIT :n")
    after_stmt = text(f"SELECT {key}, {phone} FROM {table} WHERE {key} > :after ORDER BY {key} LIMIT :n")
    app = FastAPI()

    @app.get("/rows")
    def rows(after: str = "", limit: int = Query(100, ge=1, le=1000)) -> Response:
        with engine.connect() as conn:
            if after:
                found = conn.execute(after_stmt, {"after": after, "n": limit + 1}).all()
            else:
                found = conn.execute(first, {"n": limit + 1}).all()
        return _bare_page(found, limit)

    return app


# --- (g) the floor, for reference --------------------------------------------------------------------

FLOOR_TABLE = "bench_floor_access"
FLOOR_DDL = (
    f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id bigserial PRIMARY KEY, app_key text NOT NULL,"
    " nonce text NOT NULL, at timestamptz NOT NULL, row_count integer NOT NULL, UNIQUE (app_key, nonce))"
)
_FLOOR_INSERT = (
    f"INSERT INTO {FLOOR_TABLE} (app_key, nonce, at, row_count)"
    " SELECT %(key)s, n, now(), c FROM unnest(%(nonces)s::text[], %(counts)s::integer[]) AS u (n, c)"
    " ON CONFLICT (app_key, nonce) DO NOTHING RETURNING nonce"
)


def make_floor_app() -> Any:
    """(g) the floor: the bare endpoint (a) plus the least every call must do under the rules, written as
    lean as it can be — the platform's signature check (its ``string_to_sign``: key, timestamp window,
    HMAC), its masking windows for the two 信息项, and one access record per call, committed before the
    rows leave (group committed like the platform's, at most two batches in flight, the second once 8
    calls wait; a replayed nonce refused). No grant, audit chain, rate limit, FastAPI or SQLAlchemy.
    What (b) costs beyond (g) is the platform's own machinery, not what the rules ask of a call."""
    import hmac

    import orjson
    from psycopg_pool import AsyncConnectionPool
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from govshare.catalog.enums import Sensitivity
    from govshare.sharing.client import canonical_query, signature, string_to_sign
    from govshare.sharing.consumer_auth import TIMESTAMP_WINDOW_SECONDS
    from govshare.sharing.consumer_rows import CONNECTION, POOL_SIZE
    from govshare.sharing.masking import mask_column

    env = json.loads(os.environ["BENCH_BARE"])
    key, phone, table, app_key, secret = env["key"], env["phone"], env["table"], env["app_key"], env["secret"]
    first = f"SELECT {key}, {phone} FROM {table} ORDER BY {key} LIMIT %(n)s"
    after_stmt = f"SELECT {key}, {phone} FROM {table} WHERE {key} > %(after)s ORDER BY {key} LIMIT %(n)s"
    pools: dict[str, Any] = {}
    waiting: list[tuple[str, int, asyncio.Future[bool]]] = []
    in_flight = [0]
    refused = Response(b'{"code":"unauthorized"}', status_code=401, media_type="application/json")

    async def open_pools() -> None:
        # reads exactly as (a) reads; the records' statements commit as they run (durable when they return)
        pools["read"] = AsyncConnectionPool(env["url"], min_size=1, max_size=POOL_SIZE, open=False, kwargs=CONNECTION)
        pools["write"] = AsyncConnectionPool(env["url"], min_size=1, max_size=2, open=False, kwargs=CONNECTION)
        for pool in pools.values():
            await pool.open()

    def start_batch() -> None:
        if waiting and (in_flight[0] == 0 or (in_flight[0] < 2 and len(waiting) >= 8)):
            in_flight[0] += 1
            asyncio.get_running_loop().create_task(write_batch())

    async def write_batch() -> None:
        batch = waiting[:]
        waiting.clear()
        try:
            values = {"key": app_key, "nonces": [b[0] for b in batch], "counts": [b[1] for b in batch]}
            async with pools["write"].connection() as conn:
                cur = await conn.execute(_FLOOR_INSERT, values)
                fresh = {r[0] for r in await cur.fetchall()}
            for nonce, _, future in batch:
                future.set_result(nonce in fresh)
                fresh.discard(nonce)  # the same nonce twice in one batch: served once
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        finally:
            in_flight[0] -= 1
            start_batch()

    async def rows(request: Request) -> Response:
        if not pools:
            await open_pools()
        h = request.headers
        timestamp, nonce, sent = h.get("x-gs-timestamp", ""), h.get("x-gs-nonce", ""), h.get("x-gs-signature", "")
        if h.get("x-gs-key") != app_key or not timestamp.isdigit():
            return refused
        if abs(int(timestamp) - time.time()) > TIMESTAMP_WINDOW_SECONDS:
            return refused
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        message = string_to_sign("GET", request.url.path, canonical_query(pairs), b"", timestamp, nonce)
        if not hmac.compare_digest(signature(secret, message), sent.lower()):
            return refused
        params = dict(pairs)
        after, limit = params.get("after", ""), int(params.get("limit", "100"))
        async with pools["read"].connection() as conn:
            cur = await conn.execute(after_stmt if after else first, {"after": after, "n": limit + 1})
            found = await cur.fetchall()
        page = found[:limit]
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiting.append((nonce, len(page), future))
        start_batch()
        if not await future:
            return refused
        ids = mask_column([r[0] for r in page], Sensitivity.id_number)
        phones = mask_column([r[1] for r in page], Sensitivity.phone)
        body: dict[str, Any] = {"rows": [{"i1": i, "i5": p} for i, p in zip(ids, phones, strict=True)]}
        body["next"] = page[-1][0] if len(found) > limit else None
        return Response(orjson.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/rows", rows)])


if os.environ.get("BENCH_BARE"):
    bare_app = make_bare_app()
    bare_fastapi_app = make_bare_fastapi_app()
    floor_app = make_floor_app()


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            import httpx

            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
            return
        except OSError:
            time.sleep(0.2)
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


@contextmanager
def server(cmd: list[str], env: dict[str, str], port: int, ready_path: str) -> Iterator[subprocess.Popen[bytes]]:
    # the server's log goes to a file: an undrained pipe would block the server once it is full
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        try:
            wait_ready(port, ready_path)
        except RuntimeError:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
            log.seek(0)
            err = log.read()
            raise RuntimeError(f"{cmd[3]} did not start: {err.decode(errors='replace')[-3000:]}") from None
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.seek(0)
        tail = log.read()[-2000:].decode(errors="replace")
        log.close()
        if "Traceback" in tail or "ERROR" in tail:
            print(f"  server log ({cmd[3]}), last lines:\n{tail}")


@contextmanager
def uvicorn_servers(
    app: str, processes: int, env: dict[str, str], ready_path: str, app_dir: str | None = None
) -> Iterator[tuple[list[int], list[int]]]:
    """``processes`` uvicorn processes of ``app``, each on a port of its own: (ports, process groups).

    Not ``uvicorn --workers N``: there the processes accept from one shared socket, and which one takes
    each of the 32 long-lived keep-alive connections is up to the kernel — runs measured 20/12 to 28/4
    splits, one process saturated while the other idled, and throughput that moved by ×1.5 between runs
    of the same code. A load balancer in front of several processes (how the platform is deployed, see
    the README) spreads connections evenly; so does the load generator here, over the ports."""
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        groups: list[int] = []
        for _ in range(processes):
            port = free_port()
            proc = stack.enter_context(server(uvicorn_cmd(app, port, app_dir), env, port, ready_path))
            ports.append(port)
            groups.append(proc.pid)
        yield ports, groups


def uvicorn_cmd(app: str, port: int, app_dir: str | None = None) -> list[str]:
    cmd = [PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--no-access-log", "--log-level", "warning", "--loop", "uvloop", "--http", "httptools"]
    if app_dir:
        cmd += ["--app-dir", app_dir]
    return cmd


# --- the load generator (run in its own process) -----------------------------------------------------


async def _http_get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str, headers: str
) -> tuple[int, bytes]:
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in fields:
        return status, await reader.readexactly(int(fields["content-length"]))
    body = bytearray()
    while True:  # chunked
        size = int((await reader.readline()).strip(), 16)
        if size == 0:
            await reader.readline()
            return status, bytes(body)
        body += await reader.readexactly(size)
        await reader.readline()


def load(spec: dict[str, Any]) -> dict[str, Any]:
    """Drive one server: ``connections`` connections for ``warmup`` + ``seconds`` seconds."""
    import uvloop

    return uvloop.run(_load(spec))


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    from govshare.sharing.client import sign

    kind, ports = spec["kind"], spec["ports"]
    started = time.monotonic()
    measure_from = started + spec["warmup"]
    until = measure_from + spec["seconds"]
    latencies: list[float] = []
    counts = {"requests": 0, "rows": 0, "errors": 0}
    first_error: list[str] = []

    def request(position: Any) -> tuple[str, str]:
        if kind in ("bare", "floor"):
            params = [("limit", "100")] + ([("after", position)] if position else [])
            if kind == "bare":
                return "/rows?" + urlencode(params, quote_via=quote), ""
            headers = sign("GET", "/rows", params, b"", spec["app_key"], spec["secret"])
            return "/rows?" + urlencode(params, quote_via=quote), "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if kind == "platform":
            path = f"/api/v1/consumer/resources/{spec['code']}/rows"
            pairs = [("grant_id", str(spec["grant_id"])), ("limit", "100")] + (
                [("after", position)] if position else []
            )
            headers = sign("GET", path, pairs, b"", spec["app_key"], spec["secret"])
            return path + "?" + urlencode(pairs, quote_via=quote), "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        # datasette: the first page of a walk starts after the connection's key
        params = [("_size", "100"), ("_col", spec["phone_column"])]
        if spec.get("tuned"):  # no count, facets or facet suggestions per page
            params += [("_nocount", "1"), ("_nofacet", "1"), ("_nosuggest", "1")]
        params += [("_shape", "objects")] + ([("_next", position)] if position else [])
        return f"/bench/{spec['table']}.json?" + urlencode(params, quote_via=quote), ""

    async def worker(index: int) -> None:
        start = spec["starts"][index]
        port = ports[index % len(ports)]  # connections spread evenly over the server's processes
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        position: Any = start
        try:
            while True:
                now = time.monotonic()
                if now >= until:
                    return
                target, headers = request(position)
                t0 = time.perf_counter()
                try:
                    status, body = await _http_get(reader, writer, target, headers)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    # the server closed the connection (e.g. after a 500): count it, reconnect
                    counts["errors"] += 1
                    if not first_error:
                        first_error.append(f"connection closed: {exc!r}")
                    writer.close()
                    await asyncio.sleep(0.05)
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    position = start
                    continue
                elapsed = (time.perf_counter() - t0) * 1000.0
                if status != 200:
                    counts["errors"] += 1
                    if not first_error:
                        first_error.append(f"{status} {body[:300]!r}")
                    position = start
                    continue
                data = json.loads(body)
                position = data.get("next") or start
                if now >= measure_from:
                    latencies.append(elapsed)
                    counts["requests"] += 1
                    counts["rows"] += len(data["rows"])
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(spec["connections"])))
    ordered = sorted(latencies) or [0.0]
    q = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else [ordered[0]] * 99
    return {
        "kind": kind,
        "requests": counts["requests"],
        "errors": counts["errors"],
        "first_error": first_error[0] if first_error else "",
        "rows": counts["rows"],
        "rps": counts["requests"] / spec["seconds"],
        "rows_per_s": counts["rows"] / spec["seconds"],
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "max": ordered[-1],
    }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pids: set[int] | None = None, pgrps: Sequence[int] = ()) -> dict[int, float]:
    """CPU seconds (user + system) so far of the given processes, or of every process in ``pgrps``."""
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or (pids is not None and int(entry) not in pids):
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if pgrps and int(fields[2]) not in pgrps:
            continue
        found[int(entry)] = (int(fields[11]) + int(fields[12])) / _TICK
    return found


def run_load(spec: dict[str, Any], pg_url: str, server_pgrps: Sequence[int] = ()) -> dict[str, Any]:
    """The load generator in a separate process, so it does not share this one's interpreter; meanwhile
    this process samples PostgreSQL's backends: how many are running a statement, how many wait on a lock;
    and the CPU time the server's processes and the database's backends spend in the measured seconds
    (a figure per request that other work on a shared machine does not move much)."""
    import threading

    from sqlalchemy import create_engine, text

    samples: list[tuple[int, int]] = []
    waiting_on: Counter[str] = Counter()
    cpu: dict[str, dict[int, float]] = {}
    stop = threading.Event()
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    database = pg_url.rsplit("/", 1)[1]

    def sample() -> None:
        query = text(
            "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE wait_event_type = 'Lock')"
            " FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
        )
        backends = text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()")
        with engine.connect() as conn:
            waiters = text(
                "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity"
                " WHERE datname = :d AND wait_event_type = 'Lock'"
            )
            measured = False
            begun = time.monotonic()
            while not stop.wait(0.25):
                if not measured and time.monotonic() - begun >= spec["warmup"] + 0.3:
                    measured = True  # the load generator's measured seconds begin (after its start-up)
                    cpu["server_start"] = _cpu_seconds(pgrps=server_pgrps) if server_pgrps else {}
                    cpu["pg_start"] = _cpu_seconds(set(conn.execute(backends, {"d": database}).scalars()))
                    conn.rollback()
                if measured:
                    cpu["server_end"] = _cpu_seconds(pgrps=server_pgrps) if server_pgrps else {}
                    cpu["pg_end"] = _cpu_seconds(set(conn.execute(backends, {"d": database}).scalars()))
                active, waiting = conn.execute(query, {"d": database}).one()
                samples.append((int(active), int(waiting)))
                waiting_on.update(conn.execute(waiters, {"d": database}).scalars())
                conn.rollback()

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        out = subprocess.run(
            [PYTHON, __file__, "--load-spec", json.dumps(spec)], cwd=ROOT, capture_output=True, text=True, check=False
        )
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    result["pg_active"] = statistics.fmean(a for a, _ in samples) if samples else 0.0
    result["pg_lock_waits"] = statistics.fmean(w for _, w in samples) if samples else 0.0
    result["pg_lock_waiting_statement"] = waiting_on.most_common(1)[0][0] if waiting_on else ""

    def spent(kind: str) -> float:
        start, end = cpu.get(f"{kind}_start", {}), cpu.get(f"{kind}_end", {})
        return sum(v - start.get(pid, 0.0) for pid, v in end.items())

    requests = max(1, result["requests"])
    result["server_cpu_ms"] = spent("server") * 1000.0 / requests
    result["pg_cpu_ms"] = spent("pg") * 1000.0 / requests
    return result


# --- profile ------------------------------------------------------------------------------------


def profile(url: str, setup: Setup, starts: list[str], n: int, redis_url: str) -> None:
    """The platform's request path without HTTP, in this process, under pyinstrument; and the
    statements one request sends to PostgreSQL."""
    from pyinstrument import Profiler
    from sqlalchemy import event

    from govshare.config import get_settings
    from govshare.db import Database
    from govshare.exchange.base import encode_watermark
    from govshare.identity.actor import RequestContext
    from govshare.sharing import consumer_auth, data
    from govshare.sharing.client import sign
    from govshare.sharing.consumer_api import serve_rows

    os.environ["GOVSHARE_REDIS_URL"] = redis_url
    get_settings.cache_clear()
    db = Database(url)
    path = f"/api/v1/consumer/resources/{setup.resource_code}/rows"
    statements: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split())[:90])

    @event.listens_for(db.engine, "commit")
    def _commit(conn: Any) -> None:
        statements.append("COMMIT")

    def one(i: int) -> None:
        after = data.encode_cursor(
            {"r": setup.resource_id, "s": 0, "o": "asc", "k": encode_watermark(starts[i % len(starts)])}
        )
        pairs = [("grant_id", str(setup.grant_id)), ("limit", "100"), ("after", after)]
        headers = {k.lower(): v for k, v in sign("GET", path, pairs, b"", setup.app_key, setup.secret).items()}
        req = consumer_auth.SignedRequest(
            "GET", path, urlencode(pairs, quote_via=quote), b"", headers, RequestContext("127.0.0.1")
        )
        serve_rows(db, req, setup.resource_code)  # what the route runs in its worker thread

    for i in range(20):
        one(i)
    statements.clear()
    one(0)
    print(f"\none request: {len(statements)} round trips to PostgreSQL (the bare endpoint: 2, ping and SELECT)")
    for statement in statements:
        print(f"  {statement}")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    t0 = time.perf_counter()
    for i in range(n):
        one(i)
    seconds = time.perf_counter() - t0
    profiler.stop()
    print(f"\nprofile: {n} requests in one thread, {seconds / n * 1000:.2f} ms each (no HTTP), wall time:")
    print(profiler.output_text(unicode=True, color=False, show_all=False, timeline=False)[:12000])
    # CPU time only (on a shared machine the wall time above includes waiting for a core)
    import cProfile
    import io
    import pstats

    cpu = cProfile.Profile(time.process_time)
    started = time.process_time()
    cpu.enable()
    for i in range(n):
        one(i)
    cpu.disable()
    print(f"CPU time per request in this process: {(time.process_time() - started) / n * 1000:.2f} ms; by function:")
    out = io.StringIO()
    stats = pstats.Stats(cpu, stream=out)
    stats.sort_stats("cumulative").print_stats(r"govshare|sqlalchemy/orm/session|psycopg/cursor", 30)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:8000])
    db.dispose()


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per server")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="server processes for (a), (f) and (b), a port each")
    parser.add_argument(
        "--limiter",
        choices=("redis", "database"),
        default="database",
        help="where the platform keeps nonces and rate counters (GOVSHARE_REDIS_URL or the database)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--pg-url", default=os.environ.get("GOVSHARE_BENCH_SHARING_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    parser.add_argument("--only", default="a,g,b,c,d,f", help="which servers to run, e.g. a,b")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile N platform requests")
    parser.add_argument("--load-spec", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_spec:
        print(json.dumps(load(json.loads(args.load_spec))))
        return 0

    from _common import bench_database

    only = set(args.only.split(","))
    print(f"sharing API benchmark: {args.rows} rows, {args.connections} connections, {args.seconds:.0f} s per server")
    with bench_database("postgresql", args.pg_url, keep=args.keep, reuse=args.reuse) as url:
        setup = prepare(url, args.rows)
        print(f"  data ready in {setup.seconds_generate:.1f} s ({setup.rows} rows in {setup.table})")
        starts = start_keys(setup, args.connections)
        env = os.environ | {
            "GOVSHARE_DATABASE_URL": url,
            "GOVSHARE_ENVIRONMENT": "development",
            "PYTHONPATH": str(ROOT / "src"),
        }
        env.pop("GOVSHARE_BASE_URL", None)
        env["GOVSHARE_REDIS_URL"] = args.redis_url if args.limiter == "redis" else ""
        if args.limiter == "redis":
            import redis

            redis.Redis.from_url(args.redis_url).flushdb()
        results: dict[str, dict[str, Any]] = {}
        common = {"connections": args.connections, "seconds": args.seconds, "warmup": args.warmup}

        bare_env = env | {
            "BENCH_BARE": json.dumps(
                {"url": url, "key": setup.key_column, "phone": setup.phone_column, "table": setup.table}
                | {"app_key": setup.app_key, "secret": setup.secret}
            )
        }
        for key, bare in (("a", "bare_app"), ("f", "bare_fastapi_app")):
            if key in only:
                with uvicorn_servers(f"sharing_api:{bare}", args.workers, bare_env, "/rows", "bench") as (
                    ports,
                    groups,
                ):
                    results[key] = run_load({"kind": "bare", "ports": ports, "starts": starts} | common, url, groups)
        if "g" in only:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(FLOOR_DDL)
            with uvicorn_servers("sharing_api:floor_app", args.workers, bare_env, "/rows", "bench") as (ports, groups):
                spec = {"kind": "floor", "ports": ports, "starts": starts} | common
                results["g"] = run_load(spec | {"app_key": setup.app_key, "secret": setup.secret}, url, groups)
        if "b" in only:
            from govshare.exchange.base import encode_watermark
            from govshare.sharing.data import encode_cursor

            cursors = [
                encode_cursor({"r": setup.resource_id, "s": 0, "o": "asc", "k": encode_watermark(k)}) for k in starts
            ]
            with uvicorn_servers("govshare.asgi:app", args.workers, env, "/login") as (ports, groups):
                spec = {"kind": "platform", "ports": ports, "starts": cursors, "code": setup.resource_code}
                spec |= {"grant_id": setup.grant_id, "app_key": setup.app_key, "secret": setup.secret} | common
                results["b"] = run_load(spec, url, groups)
            results["b"] |= verify_records(url, results["b"])
        if "c" in only or "d" in only:
            with tempfile.TemporaryDirectory(prefix="govshare-bench-") as tmp:
                db_path = Path(tmp) / "bench.db"
                seconds = sqlite_copy(url, setup, db_path)
                print(f"  SQLite copy for Datasette in {seconds:.1f} s")
                # (c) Datasette as it is normally run: ``datasette serve file.db``, default settings, the
                # JSON of a table page; (d) tuned: immutable (-i), no count, facets or suggestions per page
                for key, tuned in (("c", False), ("d", True)):
                    if key not in only:
                        continue
                    port = free_port()
                    cmd = [PYTHON, "-m", "datasette", "serve"] + (["-i"] if tuned else []) + [str(db_path)]
                    cmd += ["--host", "127.0.0.1", "--port", str(port)]
                    with server(cmd, env, port, "/-/versions.json") as proc:
                        spec = {"kind": "datasette", "ports": [port], "starts": starts, "table": setup.table}
                        spec |= {"phone_column": setup.phone_column, "tuned": tuned} | common
                        results[key] = run_load(spec, url, [proc.pid])
        if args.profile:
            profile(url, setup, starts, args.profile, args.redis_url if args.limiter == "redis" else "")

    return report(results, args)


def verify_records(url: str, result: dict[str, Any]) -> dict[str, Any]:
    """After the platform's run: every read chain of the audit trail verifies, and there is an access
    record for every page served (the load counts only measured pages: at least that many)."""
    from sqlalchemy import func, select

    from govshare.audit import service as audit
    from govshare.db import Database
    from govshare.sharing.models import AccessRecord

    db = Database(url)
    try:
        with db.session_scope() as session:
            verified = audit.verify(session)
            records = int(session.scalar(select(func.count()).select_from(AccessRecord)) or 0)
    finally:
        db.dispose()
    print(f"  audit trail verified: {verified.ok} ({verified.checked} records); access records: {records}")
    return {"audit_ok": verified.ok, "access_records": records}


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> int:
    labels = {
        "a": f"(a) bare endpoint, same stack, {args.workers} process(es)",
        "g": f"(g) floor: bare + HMAC + mask + 1 record, {args.workers} process(es)",
        "f": f"(f) bare FastAPI + SQLAlchemy route, {args.workers} process(es)",
        "b": f"(b) platform, HMAC + grant + mask + records, {args.workers} process(es)",
        "c": "(c) Datasette on SQLite, 1 process, default settings",
        "d": "(d) Datasette tuned: -i, no count/facets/suggestions",
    }
    print(
        f"\n{'':<58} {'req/s':>8} {'rows/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
    )
    for key in ("a", "g", "f", "b", "c", "d"):
        r = results.get(key)
        if r is None:
            continue
        print(
            f"{labels[key]:<58} {r['rps']:>8.0f} {r['rows_per_s']:>9.0f} {r['p50']:>8.1f} {r['p95']:>8.1f}"
            f" {r['p99']:>8.1f} {r['max']:>8.1f} {r['errors']:>6}"
        )
        backends = f"running a statement {r['pg_active']:.1f}, waiting on a lock {r['pg_lock_waits']:.1f}"
        print(f"    PostgreSQL backends (mean): {backends}")
        cpu_line = f"server processes {r['server_cpu_ms']:.2f} ms, PostgreSQL backends {r['pg_cpu_ms']:.2f} ms"
        print(f"    CPU time per request: {cpu_line}")
        if r.get("pg_lock_waiting_statement"):
            print(f"    most lock waits in: {r['pg_lock_waiting_statement']}")
        if r["first_error"]:
            print(f"    first error: {r['first_error']}")
    failures: list[str] = []
    a, b, c = results.get("a"), results.get("b"), results.get("c")
    if b is not None:
        if b["errors"] or not b["requests"]:
            failures.append("the platform answered with errors")
        if b["p99"] >= 100.0:
            failures.append(f"platform p99 {b['p99']:.1f} ms ≥ 100 ms")
        else:
            print(f"platform p99 {b['p99']:.1f} ms (target < 100 ms)")
    if a is not None and b is not None and a["rps"]:
        ratio = b["rps"] / a["rps"]
        print(f"platform / bare throughput: ×{ratio:.2f} (target ≥ ×0.75)")
        if ratio < 0.75:
            failures.append(f"platform / bare ×{ratio:.2f} < ×0.75")
    if c is not None and b is not None and c["rps"]:
        ratio = b["rps"] / c["rps"]
        print(f"platform / Datasette throughput: ×{ratio:.2f} (target ≥ ×5)")
        if ratio < 5:
            failures.append(f"platform / Datasette ×{ratio:.2f} < ×5")
    d = results.get("d")
    if d is not None and b is not None and d["rps"]:
        print(f"platform / tuned Datasette throughput: ×{b['rps'] / d['rps']:.2f} (for reference, no target)")
    g = results.get("g")
    if g is not None and a is not None and a["rps"]:
        print(f"floor / bare throughput: ×{g['rps'] / a['rps']:.2f} (reference: what the rules cost at their leanest)")
    if "b" in results and "f" in results:
        print(f"platform / bare FastAPI route throughput: ×{results['b']['rps'] / results['f']['rps']:.2f} (reference)")
    if a is not None and b is not None and a["server_cpu_ms"]:
        spent_a, spent_b = a["server_cpu_ms"] + a["pg_cpu_ms"], b["server_cpu_ms"] + b["pg_cpu_ms"]
        print(f"CPU per request, servers + PostgreSQL: bare {spent_a:.2f} ms, platform {spent_b:.2f} ms")
    print(
        json.dumps(
            {"results": results, "args": {k: v for k, v in vars(args).items() if k != "load_spec"}}, ensure_ascii=False
        )
    )
    if failures:
        print("MISSED: " + "; ".join(failures))
        return 1
    if b is not None and a is not None and c is not None:
        print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
