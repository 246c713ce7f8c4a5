"""The consumer rows call on PostgreSQL: asynchronous, on the server's event loop.

The platform's hottest path. The rules are the functions the synchronous path uses —
``consumer_auth.verify_signature`` / ``check_token``, ``data.scope_from_rows``, ``data.page_query``,
``access.records_params`` (the audit service's ``record_values``) — and the statements are the same
SQLAlchemy Core statements, compiled once for psycopg (``kit.pgsql``). Only the I/O differs: psycopg's
asynchronous connections from a pool of this path's own, no worker thread and no ORM session:

1. the resource with its 信息项 and the grant, and the calling system (by app key or by token) on the
   same rows: one prepared statement, outside any transaction;
2. the signature checked (with Redis: the nonce and the rate counter there, one round trip);
3. the page: one prepared statement;
4. the access and audit records, committed with those of concurrent calls (``group_commit``; without
   Redis the nonce and the rate window are claimed in the same batch). The call waits for that commit.

A signed call that the same system made for the same resource and grant before skips step 1: what that
statement read is kept with the authorisation epoch it read in the same snapshot (migration 0003: the
epoch moves with every committed change of any of those rows), every check is run again on it (the
signature, the system's status, the grant's status and period, the 信息项), and the page is read on the
condition that the epoch has not moved since — in the page's own statement, so in its snapshot. A page
that comes back empty, or any refusal, is decided afresh from step 1: a revoked grant, a disabled
system or a rotated secret is seen by the next call exactly as if everything were read again.

Masking and JSON happen after the commit; nothing leaves before it. Refusals are the same exceptions as
on the synchronous path, audited the same way. What this path does not cover runs the synchronous code
in a worker thread: SQLite, a base in a database of its own (``GOVSHARE_BASE_URL``), API-channel
resources (the gateway), a bearer call's counter in the database, and the first sort on a column (its
index).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import parse_qsl

from psycopg import AsyncConnection
from psycopg.rows import dict_row, namedtuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, Select, Table, bindparam, select
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool

from govshare.audit import service as audit
from govshare.catalog.enums import Channel
from govshare.config import get_settings
from govshare.db import Database
from govshare.errors import DomainError
from govshare.kit import clock
from govshare.kit.pgsql import PgStatement
from govshare.sharing import access, data
from govshare.sharing.access import ReadRecord
from govshare.sharing.consumer_auth import (
    NONCE_TTL_SECONDS,
    REFUSALS,
    SYSTEM_BY_KEY,
    SYSTEM_BY_TOKEN,
    SYSTEM_COLUMNS,
    SignedRequest,
    SystemRow,
    TokenRow,
    app_key_of,
    caller_of,
    check_claim,
    check_token,
    claim_apart,
    record_refusal,
    refuse_over_limit,
    system_secret,
    token_hash_of,
    verify_signature,
)
from govshare.sharing.data import Reader, RowsPage, RowsQuery, Scope
from govshare.sharing.group_commit import WORKERS, Claim, RecordWriter
from govshare.sharing.models import AuthzEpoch, ConsumerSystem, ConsumerToken
from govshare.sharing.ratelimit import AsyncRedisLimiter

# autocommit: the reads need no transaction, the writer's are explicit (BEGIN … COMMIT); the few
# statements of this path are prepared on a connection at their first use, and planned once
CONNECTION = {"autocommit": True, "prepare_threshold": 0, "options": "-c plan_cache_mode=force_generic_plan"}
POOL_SIZE = 16  # connections per server process: 32 concurrent calls over two processes rarely wait
KNOWN_MAX = 4096  # authorisations kept per server process (system, resource, grant)
SCOPES_MAX = 8  # scopes kept per authorisation (one per purpose given and day)


_SYSTEMS = cast(Table, ConsumerSystem.__table__)
_TOKENS = cast(Table, ConsumerToken.__table__)
_EPOCH = cast(Table, AuthzEpoch.__table__)
_EPOCH_NOW = select(_EPOCH.c.value).where(_EPOCH.c.id == 1).scalar_subquery()


def _with_caller(statement: Select[Any], by_token: bool) -> Select[Any]:
    """The resource statement with the calling system's columns (``s_*``) on every row: by app key, or
    by bearer token (with the token's times)."""
    columns = [_SYSTEMS.c[c.key].label("s_" + c.key) for c in SYSTEM_COLUMNS]
    statement = statement.add_columns(_EPOCH_NOW.label("authz_epoch"))
    if not by_token:
        return statement.add_columns(*columns).outerjoin(_SYSTEMS, _SYSTEMS.c.app_key == bindparam("app_key"))
    times = (_TOKENS.c.issued_at.label("s_issued_at"), _TOKENS.c.expires_at.label("s_expires_at"))
    return (
        statement.add_columns(*columns, *times)
        .outerjoin(_TOKENS, _TOKENS.c.token_hash == bindparam("token_hash"))
        .outerjoin(_SYSTEMS, _SYSTEMS.c.id == _TOKENS.c.consumer_system_id)
    )


class _Statements:
    """The path's statements for one engine. The two writes go as one simple-protocol round trip
    each with client-side binding: ``BEGIN`` + the head's lock, and the records + ``COMMIT``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.system_by_key = PgStatement(SYSTEM_BY_KEY, engine)
        self.system_by_token = PgStatement(SYSTEM_BY_TOKEN, engine)
        # [with grant][by token]
        self.resource = [
            [PgStatement(_with_caller(data.resource_rows_stmt(g), t), engine) for t in (False, True)]
            for g in (False, True)
        ]
        self.lock_free_head = PgStatement(audit.LOCK_FREE_HEAD, engine)
        self.lock_head = PgStatement(audit.LOCK_HEAD, engine)
        self.records = PgStatement(access.records_statement(), engine)
        self._pages: dict[tuple[Any, bool], PgStatement] = {}

    def page(self, page: data.PageQuery, *, guarded: bool) -> PgStatement:
        """The page's statement; ``guarded``: on the condition that the epoch is ``authz_epoch``."""
        found = self._pages.get((page.shape, guarded))
        if found is None:
            statement = page.statement.where(bindparam("authz_epoch") == _EPOCH_NOW) if guarded else page.statement
            found = PgStatement(statement, self.engine)
            if len(self._pages) < 1024:
                self._pages[page.shape, guarded] = found
        return found


@dataclass(frozen=True)
class _Known:
    """What the resource statement read for a signed call (its rows, the calling system from them and its
    secret decrypted) and the epoch it read with them."""

    rows: list[dict[str, Any]]
    system: SystemRow
    secret: str
    epoch: int
    # the scopes derived from ``rows`` for this system, by (purpose given, day): ``data.scope_from_rows``
    # is a function of exactly these (the grant's period is checked against the day), so a kept scope
    # is the one it would derive again
    scopes: dict[tuple[str, dt.date], Scope] = field(default_factory=dict, compare=False)

    def scope(self, reader: Reader, grant_id: int | None, purpose: str) -> Scope:
        key = (purpose, clock.today())
        found = self.scopes.get(key)
        if found is None:
            found = data.scope_from_rows(self.rows, reader, grant_id=grant_id, purpose=purpose)  # or refused
            if len(self.scopes) >= SCOPES_MAX:
                self.scopes.clear()
            self.scopes[key] = found
        return found


@dataclass(frozen=True)
class _Page:
    """A page read, its records still to commit."""

    scope: Scope
    raw_page: Sequence[Sequence[Any]]
    next_cursor: str | None
    record: ReadRecord
    claim: Claim | None


@dataclass
class _LoopResources:
    pool: AsyncConnectionPool[AsyncConnection[Any]]
    writer_pool: AsyncConnectionPool[AsyncConnection[Any]]
    limiter: AsyncRedisLimiter | None
    writer: RecordWriter


class ConsumerRowsPath:
    """The asynchronous path of one application: its statements, and a connection pool and Redis
    client per event loop (a server process has one loop; a test client may start several)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.statements = _Statements(db.engine)
        self._known: dict[tuple[str, str, int | None], _Known] = {}  # (app key, resource, grant)
        self._resources: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[_LoopResources]] = (
            weakref.WeakKeyDictionary()
        )

    @staticmethod
    def applies(db: Database) -> bool:
        return db.own_connections and db.engine.dialect.name == "postgresql" and not get_settings().base_url

    async def _loop_resources(self) -> _LoopResources:
        loop = asyncio.get_running_loop()
        found = self._resources.get(loop)
        if found is not None and found.done() and not found.cancelled() and found.exception() is None:
            return found.result()  # started: every call but the first few of a loop
        if found is None:  # the first call of this loop starts them; concurrent first calls wait for it
            found = self._resources[loop] = loop.create_task(self._start())
        try:
            return await asyncio.shield(found)
        except Exception:
            if self._resources.get(loop) is found:  # a failed start is tried again by the next call
                del self._resources[loop]
            raise

    async def _start(self) -> _LoopResources:
        # every read chain exists before the first read, so a read never has to start one
        await run_in_threadpool(_start_read_chains, self.db.engine)
        conninfo = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo, min_size=1, max_size=POOL_SIZE, open=False, name="govshare-rows", kwargs=CONNECTION
        )
        # the writer's own connections: a call waiting for its records' commit holds none of the readers'
        writer_pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo, min_size=1, max_size=WORKERS, open=False, name="govshare-records", kwargs=CONNECTION
        )
        await pool.open()
        await writer_pool.open()
        url = get_settings().redis_url
        heads = (self.statements.lock_free_head, self.statements.lock_head)
        writer = RecordWriter(writer_pool, self.statements.records, heads)
        return _LoopResources(pool, writer_pool, AsyncRedisLimiter(url) if url else None, writer)

    async def close(self) -> None:
        """Close the current event loop's pool and Redis client (at the application's shutdown)."""
        task = self._resources.pop(asyncio.get_running_loop(), None)
        if task is not None:
            found = await task
            await found.writer.close()
            await found.writer_pool.close()
            await found.pool.close()
            if found.limiter is not None:
                await found.limiter.close()

    async def serve(self, req: SignedRequest, code: str, state: Any) -> RowsPage:
        """One page for the calling system, its records committed; refusals raised (and audited)."""
        resources = await self._loop_resources()
        query, grant_id, purpose = data.rows_query(parse_qsl(req.query, keep_blank_values=True))
        try:
            digest = token_hash_of(req)
            app_key = app_key_of(req) if digest is None else ""
        except REFUSALS as exc:
            await run_in_threadpool(record_refusal, self.db, req, cast(DomainError, exc))
            raise
        # the reads run outside any transaction; the connection goes back before the records' commit
        async with resources.pool.connection() as conn:
            done = await self._read(conn, resources, req, code, state, query, grant_id, purpose, digest, app_key)
        if isinstance(done, RowsPage):
            return done
        # 4. the records, committed with those of concurrent calls: durable before any row leaves
        await resources.writer.commit(done.record, done.claim, req.method, req.path)
        return RowsPage(scope=done.scope, rows=data.to_output(done.scope, done.raw_page), next=done.next_cursor)

    async def _read(
        self,
        conn: AsyncConnection[Any],
        resources: _LoopResources,
        req: SignedRequest,
        code: str,
        state: Any,
        query: RowsQuery,
        grant_id: int | None,
        purpose: str,
        digest: str | None,
        app_key: str,
    ) -> RowsPage | _Page:
        # kept for signed calls in key order (a sort on a column may first have to index it: afresh)
        known_key = (app_key, code, grant_id) if digest is None and query.sort is None else None
        known = self._known.get(known_key) if known_key is not None else None
        if known is not None and known_key is not None:
            try:
                done = await self._read_known(conn, known, req, query, grant_id, purpose)
            except (DomainError, ValueError):
                # refused on what was kept: decided afresh (and audited) below. What was kept stays: a
                # badly signed call must not evict it, and a fresh success replaces it anyway
                pass
            else:
                if done is None:  # the epoch moved (or the rows ended)
                    self._known.pop(known_key, None)
                else:
                    system, nonce, reader, scope, raw = done
                    if state is not None:
                        state.actor = reader.actor
                    claim = await self._claim(resources, req, system, nonce)
                    return self._page(reader, scope, query, raw, claim)
        s = self.statements
        caller_param = {"app_key": app_key} if digest is None else {"token_hash": digest}
        # 1. the resource, its 信息项 and the grant, with the calling system on every row
        what = conn.cursor(row_factory=dict_row)
        statement = s.resource[grant_id is not None][digest is not None]
        await what.execute(*statement.bind(data.resource_rows_params(code, grant_id) | caller_param))
        rows = await what.fetchall()
        found = _system_of(rows[0]) if rows else await self._system_alone(conn, caller_param)
        system, claim = await self._authenticate(resources, req, found, digest is None)
        reader = self._reader(system, req, state)
        data.check_reachable(rows)
        scope = data.scope_from_rows(rows, reader, grant_id=grant_id, purpose=purpose)
        if scope.channel != Channel.table:
            return await run_in_threadpool(read_as, self.db, reader, code, grant_id, query, purpose)
        data.reject_upstream_params(query)
        page = data.page_query(scope, query, "postgresql")
        if page.sort_index is not None:
            await run_in_threadpool(_ensure_sort_index, self.db.engine, scope.table_name, page.sort_index)
        # 3. the page
        rows_cursor = conn.cursor()
        await rows_cursor.execute(*s.page(page, guarded=False).bind(page.params))
        raw = await rows_cursor.fetchall()
        if known_key is not None:
            if len(self._known) >= KNOWN_MAX:
                self._known.pop(next(iter(self._known)))
            kept = self._known[known_key] = _Known(rows, system, system_secret(system), rows[0]["authz_epoch"])
            kept.scopes[purpose, clock.today()] = scope  # derived above from the same rows, for this system
        return self._page(reader, scope, query, raw, claim)

    async def _read_known(
        self,
        conn: AsyncConnection[Any],
        known: _Known,
        req: SignedRequest,
        query: RowsQuery,
        grant_id: int | None,
        purpose: str,
    ) -> tuple[SystemRow, str, Reader, Scope, list[Any]] | None:
        """The call checked against what was kept, and its page read on the condition that the epoch has
        not moved; None (decide afresh) when the page comes back empty. Refusals are raised unaudited;
        nothing is claimed or written here."""
        system = known.system
        nonce = verify_signature(system, req, known.secret)
        data.check_reachable(known.rows)
        reader = self._reader(system, req, None)
        scope = known.scope(reader, grant_id, purpose)
        if scope.channel != Channel.table:
            return None
        data.reject_upstream_params(query)
        page = data.page_query(scope, query, "postgresql")
        if page.sort_index is not None:
            return None
        rows_cursor = conn.cursor()
        await rows_cursor.execute(
            *self.statements.page(page, guarded=True).bind(page.params | {"authz_epoch": known.epoch})
        )
        raw = await rows_cursor.fetchall()
        if not raw:  # the end of the rows, or the epoch moved: either way, afresh
            return None
        return system, nonce, reader, scope, raw

    @staticmethod
    def _reader(system: SystemRow, req: SignedRequest, state: Any) -> Reader:
        caller = caller_of(system, req)
        if state is not None:
            state.actor = caller.actor  # a later refusal (e.g. a revoked grant) is audited as this system
        return Reader(actor=caller.actor, department_id=caller.department_id, system_id=caller.system_id)

    @staticmethod
    def _page(
        reader: Reader, scope: Scope, query: RowsQuery, raw: Sequence[Sequence[Any]], claim: Claim | None
    ) -> _Page:
        raw_page, next_cursor = data.page_rows(scope, query, raw)
        read = data.read_record(reader, scope, kind="rows", row_count=len(raw_page), detail=data.query_detail(query))
        return _Page(scope, raw_page, next_cursor, read, claim)

    async def _system_alone(self, conn: AsyncConnection[Any], caller_param: dict[str, str]) -> Any:
        """The calling system when the resource does not exist (to authenticate before saying so)."""
        statement = self.statements.system_by_key if "app_key" in caller_param else self.statements.system_by_token
        cursor = conn.cursor(row_factory=namedtuple_row)
        await cursor.execute(*statement.bind(caller_param))
        return await cursor.fetchone()

    async def _authenticate(
        self, resources: _LoopResources, req: SignedRequest, found: Any, signed: bool
    ) -> tuple[SystemRow, Claim | None]:
        """The signature or the token, then the nonce and the rate counter (``_claim``). A refusal is
        audited apart."""
        try:
            if signed:
                system = cast(SystemRow, found)
                nonce: str | None = verify_signature(system, req)
            else:
                system = check_token(cast("TokenRow | None", found))
                nonce = None
        except REFUSALS as exc:
            await run_in_threadpool(record_refusal, self.db, req, cast(DomainError, exc))
            raise
        return system, await self._claim(resources, req, system, nonce)

    async def _claim(
        self, resources: _LoopResources, req: SignedRequest, system: SystemRow, nonce: str | None
    ) -> Claim | None:
        """With Redis, the nonce and the rate counter there (one round trip); without, a signed call's
        claim goes with its records (``group_commit``). A refusal is audited apart."""
        try:
            if resources.limiter is None:
                if nonce is not None:
                    return Claim(system.id, nonce, system.rate_limit_per_minute)
                refuse_over_limit(system, (await run_in_threadpool(claim_apart, self.db, system, None))[1])
            elif nonce is None:
                refuse_over_limit(system, await resources.limiter.hit(system.app_key, system.rate_limit_per_minute))
            else:
                fresh, retry_after = await resources.limiter.claim_nonce_and_hit(
                    system.app_key, nonce, NONCE_TTL_SECONDS, system.rate_limit_per_minute
                )
                check_claim(system, fresh, retry_after)
            return None
        except REFUSALS as exc:
            await run_in_threadpool(record_refusal, self.db, req, cast(DomainError, exc))
            raise


def _system_of(row: Mapping[str, Any]) -> Any:
    """The ``s_*`` columns of a row as the system (None: no such system)."""
    if row["s_id"] is None:
        return None
    return SimpleNamespace(**{k[2:]: v for k, v in row.items() if k.startswith("s_")})


def read_as(db: Database, reader: Reader, code: str, grant_id: int | None, query: RowsQuery, purpose: str) -> RowsPage:
    """The synchronous read for an already authenticated caller, in a transaction of its own."""
    with db.session_scope() as session:
        page = data.read_rows(session, reader, resource_code=code, grant_id=grant_id, query=query, purpose=purpose)
        session.commit()
    return page


def _start_read_chains(engine: Engine) -> None:
    with engine.begin() as conn:
        audit.start_read_chains(conn)


def _ensure_sort_index(engine: Engine, table: str, sort_index: tuple[str, str]) -> None:
    with engine.begin() as conn:
        data.ensure_sort_index(conn, table, *sort_index)
