"""Group commit of the consumer data API's records on PostgreSQL.

Every page read through the API leaves an access record and an audit record, committed before the
page leaves. Committing each call on its own costs two round trips, a chain-head lock and a WAL flush
per page; under load the calls of one server process are instead committed together, as PostgreSQL
itself groups commits: each call hands its records to the writer and waits for the commit of the batch
that carries them. Nothing changes for the call (its rows still leave only after their records are
durable; a failed batch fails every call in it, and none of them sends rows) or for the audit trail
(each batch appends to one free read chain, in order, hash-linked as ``audit.record`` would).

When nonces and rate counters live in the platform database (no ``GOVSHARE_REDIS_URL``), they are
claimed in the same transaction: the batch inserts its calls' nonces (a replay is refused with
``nonce_reused`` and is not counted), adds each system's fresh calls to its one-minute window (calls
over the limit are refused with 429), and writes a ``consumer_request_refused`` audit record for every
refused call instead of its access record. One batch is four round trips in all:

1. the nonces and the rate windows, one statement committed at once (only when the batch claims nonces);
2. ``BEGIN`` and a free read chain's head locked (``SKIP LOCKED``);
3. the access records, the audit records and the head's move: one statement;
4. ``COMMIT``.

The statements of 1 and 3 have a fixed text whatever the batch's size, so that each is parsed and
planned once per connection and its values are sent bound, not quoted into the text: the claims go as
two arrays (``unnest``), the records as one JSON array per table (``json_to_recordset``; JSON is
written in C on both sides, where psycopg builds arrays value by value in Python).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from psycopg import AsyncClientCursor, AsyncConnection, AsyncCursor
from psycopg.pq import TransactionStatus
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.errors import DomainError
from govshare.kit import clock
from govshare.kit.pgsql import PgStatement
from govshare.sharing import access
from govshare.sharing.consumer_auth import NONCE_TTL_SECONDS, ConsumerUnauthorized, RateLimited
from govshare.sharing.ratelimit import WINDOW_SECONDS

MAX_BATCH = 64
WORKERS = 2  # batches in flight per server process at most, each on its own connection and read chain
# A second batch starts while one is committing only once this many calls wait; fewer wait for that
# commit and go with the next batch. Small batches cost round trips per call (measured: batches of
# 2.5 calls on average when a batch started as soon as a writer was free, against 16 with one writer),
# one batch at a time makes the calls advance in step (read, wait, write, answer) and leaves the
# processors idle in between.
OVERLAP_AT = 8
_SWEEP_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Claim:
    """A call's nonce and its system's limit, when the database keeps them."""

    system_id: int
    nonce: str
    limit_per_minute: int


@dataclass
class _Pending:
    read: access.ReadRecord
    claim: Claim | None
    method: str
    path: str
    future: asyncio.Future[None]
    refusal: DomainError | None = field(default=None)


class RecordWriter:
    """Commits the records of concurrent calls of one server process (one event loop) in batches."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], records: PgStatement, heads: Any) -> None:
        self.pool = pool
        self.records = records  # access.records_statement(): its parameters' names and processors
        self.heads = heads  # (lock a free read head, lock one head), compiled
        self._queue: collections.deque[_Pending] = collections.deque()
        self._ready = asyncio.Event()  # set when a call is queued or a batch is done
        self._in_flight = 0
        self._workers: list[asyncio.Task[None]] = []
        self._swept = 0.0
        self._write_sql = ""  # built at the first batch, from the tables' column types (``_write_statement``)

    async def commit(self, read: access.ReadRecord, claim: Claim | None, method: str, path: str) -> None:
        """Return once ``read``'s records are committed; raise the call's refusal (nonce, rate limit)."""
        if not self._workers:
            self._workers = [asyncio.create_task(self._work()) for _ in range(WORKERS)]
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(read, claim, method, path, future))
        self._ready.set()
        await future

    async def close(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def _work(self) -> None:
        while True:
            while not (self._queue and (self._in_flight == 0 or len(self._queue) >= OVERLAP_AT)):
                self._ready.clear()
                await self._ready.wait()
            batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
            self._in_flight += 1
            try:
                await self._commit_and_answer(batch)
            finally:
                self._in_flight -= 1
                self._ready.set()

    async def _commit_and_answer(self, batch: Sequence[_Pending]) -> None:
        """Commit one batch, then answer each of its calls (done, refused, or failed with the batch)."""
        try:
            async with self.pool.connection() as conn:
                try:
                    await self._commit_batch(conn, batch)
                except BaseException:
                    if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                        await conn.execute("ROLLBACK")
                    raise
        except asyncio.CancelledError:
            for pending in batch:
                if not pending.future.done():
                    pending.future.cancel()
            raise
        except Exception as exc:  # every call of the failed batch fails; none sends rows
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        for pending in batch:
            if pending.future.done():
                continue
            if pending.refusal is not None:
                pending.future.set_exception(pending.refusal)
            else:
                pending.future.set_result(None)

    async def _commit_batch(self, conn: AsyncConnection[Any], batch: Sequence[_Pending]) -> None:
        at = clock.now()
        cursor = AsyncClientCursor(conn)
        if not self._write_sql:
            self._write_sql = await _write_statement(cursor)
        claims = [p for p in batch if p.claim is not None]
        if claims:
            await self._claim(conn, cursor, claims, at)
        lock_free, lock_one = self.heads
        chain = audit.chain_for(Action.data_read)
        # BEGIN and a free read chain's head
        await cursor.execute(_BEGIN + lock_free.sql, lock_free.params(audit.free_head_params(chain)))
        cursor.nextset()
        head = await cursor.fetchone()
        if head is None:  # every read chain is held: wait for the drawn one
            await cursor.execute(*lock_one.bind({"chain": chain}))
            head = await cursor.fetchone()
            assert head is not None
        # the records and the head; COMMIT
        await self._write(conn.cursor(), batch, audit.ChainPosition(head[0], head[1], head[2]), at)
        await cursor.execute("COMMIT")

    async def _claim(
        self, conn: AsyncConnection[Any], cursor: AsyncClientCursor[Any], claims: Sequence[_Pending], at: dt.datetime
    ) -> None:
        """The nonces and the rate windows, in one statement of its own (committed at once, so that
        the windows' row locks are held for microseconds, not for the records' commit): each fresh
        nonce is counted in its system's window; a replayed one is neither claimed nor counted."""
        seconds = int(at.timestamp())
        window, left = seconds // WINDOW_SECONDS, WINDOW_SECONDS - seconds % WINDOW_SECONDS
        if self._sweep_due():
            await cursor.execute(_SWEEP, [_naive(at), window - 1])
        systems: list[int] = []
        nonces: list[str] = []
        for p in claims:
            assert p.claim is not None
            systems.append(p.claim.system_id)
            nonces.append(p.claim.nonce)
        claimed = await conn.execute(
            _CLAIM_SQL, [systems, nonces, _naive(at + dt.timedelta(seconds=NONCE_TTL_SECONDS)), window]
        )
        fresh: dict[tuple[int, str], int] = {(int(r[0]), r[1]): int(r[2]) for r in await claimed.fetchall()}
        per_system = collections.Counter(system for system, _ in fresh)
        seen: collections.Counter[int] = collections.Counter()
        used: set[tuple[int, str]] = set()
        for p in claims:
            assert p.claim is not None
            key = (p.claim.system_id, p.claim.nonce)
            if key not in fresh or key in used:  # a replay, in an earlier batch or in this one
                p.refusal = ConsumerUnauthorized(
                    "该请求已处理过(X-GS-Nonce 重复使用),请勿重放请求", code="nonce_reused"
                )
                continue
            used.add(key)
            seen[key[0]] += 1
            # this batch's fresh calls of the system are the last ``per_system`` of its window's count
            if fresh[key] - per_system[key[0]] + seen[key[0]] > p.claim.limit_per_minute:
                p.refusal = RateLimited(f"调用过于频繁:每分钟最多 {p.claim.limit_per_minute} 次,请稍后重试", left)

    async def _write(
        self, cursor: AsyncCursor[Any], batch: Sequence[_Pending], position: audit.ChainPosition, at: dt.datetime
    ) -> None:
        access_rows: list[dict[str, Any]] = []
        audit_rows: list[dict[str, Any]] = []
        for p in batch:
            if p.refusal is None:
                values = self.records.params(access.records_params(p.read, position, at))
                access_rows.append({c: values["r_" + c] for c in access.ACCESS_COLUMNS})
            else:
                refused = audit.record_values_at(
                    position,
                    p.read.actor,
                    Action.consumer_request_refused,
                    at=at,
                    object_type="consumer_system",
                    object_id=p.read.consumer_system_id or "",
                    outcome="denied",
                    after={"code": p.refusal.code, "path": p.path[:200], "method": p.method},
                )
                values = self.records.params({"a_" + k: v for k, v in refused.items()})
            audit_rows.append({c: values["a_" + c] for c in access.AUDIT_COLUMNS})
            position = audit.ChainPosition(position.chain, position.last_seq + 1, values["a_hash"])
        # the values as the engine binds them (UTC datetimes without a zone, JSON columns as their text)
        rows = [orjson.dumps(r, default=_json_text).decode() for r in (access_rows, audit_rows)]
        await cursor.execute(self._write_sql, [*rows, position.last_seq, position.last_hash, position.chain])

    def _sweep_due(self) -> bool:
        now = asyncio.get_running_loop().time()
        if now - self._swept < _SWEEP_EVERY_SECONDS or random.random() > 0.5:
            return False
        self._swept = now
        return True


# Every SQL text below is made of constants of this module, the models' column names and their types as
# PostgreSQL reports them, and ``%s`` placeholders: values are always parameters, never pasted into the text.
_BEGIN = "BEGIN; "
# the (system, nonce) pairs as two arrays; then the expiry and the window
_CLAIM_SQL = (
    "WITH claimed AS (SELECT * FROM unnest(%s::integer[], %s::text[]) AS c (consumer_system_id, nonce)),"
    " fresh AS (INSERT INTO consumer_nonce (consumer_system_id, nonce, expires_at)"
    " SELECT consumer_system_id, nonce, %s FROM claimed"
    " ON CONFLICT (consumer_system_id, nonce) DO NOTHING RETURNING consumer_system_id, nonce),"
    ' counted AS (INSERT INTO consumer_rate_window (consumer_system_id, "window", count)'
    " SELECT consumer_system_id, %s, count(*) FROM fresh GROUP BY consumer_system_id"
    ' ON CONFLICT (consumer_system_id, "window") DO UPDATE SET count = consumer_rate_window.count + excluded.count'
    " RETURNING consumer_system_id, count)"
    " SELECT fresh.consumer_system_id, fresh.nonce, counted.count FROM fresh JOIN counted USING (consumer_system_id)"
)
_SWEEP = 'DELETE FROM consumer_nonce WHERE expires_at < %s; DELETE FROM consumer_rate_window WHERE "window" < %s'
_COLUMN_TYPES = (
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
    " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped"
)


async def _write_statement(cursor: AsyncClientCursor[Any]) -> str:
    """The access records and the audit records (a JSON array of objects each) and the head's move, as
    one statement: the two arrays, then the head's last seq, last hash and chain. Each column is read
    from the JSON as its table's type; JSON columns as the text the engine's JSON type wrote."""

    async def insert(table: str, columns: Sequence[str]) -> str:
        await cursor.execute(_COLUMN_TYPES, [table])
        types = dict(await cursor.fetchall())
        json_columns = {c for c in columns if types[c] in ("json", "jsonb")}
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f'r."{c}"::{types[c]}' if c in json_columns else f'r."{c}"' for c in columns)
        shape = ", ".join(f'"{c}" ' + ("text" if c in json_columns else types[c]) for c in columns)
        return f"INSERT INTO {table} ({names}) SELECT {values} FROM json_to_recordset(%s::json) AS r ({shape})"  # noqa: S608 (see above)

    add_access = await insert("access_record", access.ACCESS_COLUMNS)
    add_audit = await insert("audit_record", access.AUDIT_COLUMNS)
    return (
        f"WITH add_access AS ({add_access}), add_audit AS ({add_audit})"  # noqa: S608 (see above)
        " UPDATE audit_chain_head SET last_seq = %s, last_hash = %s WHERE id = %s"
    )


def _json_text(value: Any) -> str:
    """A JSON column's value as the engine writes it (psycopg's ``Json`` wrapper, ``json.dumps``)."""
    if isinstance(value, Json):
        text = (value.dumps or json.dumps)(value.obj)
        return text.decode() if isinstance(text, bytes) else text
    raise TypeError(f"{type(value).__name__} 不能写入记录")


def _naive(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None)
