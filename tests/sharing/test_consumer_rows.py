"""The consumer rows endpoint against a database whose transactions really commit.

The other consumer API tests hand every request the test's one transaction, which only the
synchronous path can share. Here the application has a database of its own, so on PostgreSQL the
endpoint takes its production path (``sharing.consumer_rows``: asynchronous psycopg, the records
committed in groups by ``sharing.group_commit``, nonces and rate windows claimed with them); on
SQLite the same tests run the synchronous path. Both must give the same answers.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import importlib.util
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Column, Table, delete, func, select, text, update
from sqlalchemy.sql import visitors

from govshare import migrate
from govshare.app import create_app
from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.audit.models import AuditRecord
from govshare.config import get_settings
from govshare.db import Database
from govshare.exchange.models import BaseTable
from govshare.identity.actor import Actor
from govshare.kit import clock
from govshare.sharing import client as signing
from govshare.sharing import data, grants, systems
from govshare.sharing.consumer_api import caller_reader
from govshare.sharing.consumer_auth import ConsumerCaller
from govshare.sharing.consumer_rows import ConsumerRowsPath
from govshare.sharing.enums import SystemStatus
from govshare.sharing.models import AccessRecord, AuthzEpoch, GrantItem
from tests.factories import Factory
from tests.own_database import own_platform_database
from tests.sharing.consumer_setup import GRANTED, SECRET_VALUES, World, build, rows_path

ROWS = 120
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(scope="module")
def committed(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, World]]:
    with own_platform_database(database_url, tmp_path_factory.mktemp("rows"), "rows") as db:
        with db.session_scope() as session:
            world = build(Factory(session), session, rows=ROWS)
        yield db, world


@pytest.fixture
def app_client(committed: tuple[Database, World]) -> Iterator[TestClient]:
    db, _ = committed
    with TestClient(create_app(db=db), base_url="http://testserver") as client:
        yield client


def _get(
    client: TestClient,
    world: World,
    params: dict[str, Any] | None = None,
    *,
    app_key: str | None = None,
    secret: str | None = None,
    **sign_kw: Any,
) -> Any:
    pairs = [(k, str(v)) for k, v in ({"grant_id": world.grant.id} | (params or {})).items() if v is not None]
    path = rows_path(world.resource.code)
    key, signing_secret = app_key or world.system.app_key, secret or world.secret
    headers = signing.sign("GET", path, pairs, b"", key, signing_secret, **sign_kw)
    return client.get(path, params=pairs, headers=headers)


def _walk(client: TestClient, world: World, **params: Any) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    after, pages = None, 0
    while True:
        response = _get(client, world, {"limit": 25, "after": after} | params)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["rows"]
        pages += 1
        after = body["next"]
        if after is None:
            return rows, pages


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _at_once(times: int, call: Callable[[], Any]) -> list[Any]:
    """``call`` made ``times`` times concurrently (threads sharing the test client)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(times, 12)) as pool:
        return list(pool.map(lambda _: call(), range(times)))


def _assert_trail_verifies(db: Database) -> None:
    with db.session_scope() as session:
        result = audit.verify(session)
        assert result.ok, result.finding


def test_the_production_path_is_taken_where_it_applies(committed: tuple[Database, World]) -> None:
    db, _ = committed
    assert ConsumerRowsPath.applies(db) == (db.engine.dialect.name == "postgresql")


@pytest.mark.article("A26.1")
def test_pages_are_those_of_the_synchronous_path_and_each_is_recorded(
    app_client: TestClient, committed: tuple[Database, World]
) -> None:
    db, world = committed
    records_before = _count(db, AccessRecord)
    rows, pages = _walk(app_client, world)
    assert len(rows) == ROWS and len({r[f"i{world.items['公民身份号码'].id}"] for r in rows}) == ROWS
    granted = {f"i{world.items[n].id}" for n in GRANTED}
    assert all(set(r) == granted for r in rows)
    text = str(rows)
    assert not any(secret in text for secret in SECRET_VALUES)
    assert all("********" in r[f"i{world.items['公民身份号码'].id}"] for r in rows)
    # the synchronous path, for the same system, reads the same rows in the same order
    caller = ConsumerCaller(world.system.id, world.consumer.id, world.system.app_key, "t", "127.0.0.1")
    expected: list[dict[str, Any]] = []
    after = None
    with db.session_scope() as session:
        while True:
            query = data.RowsQuery(limit=25, after=after)
            page = data.read_rows(
                session, caller_reader(caller), resource_code=world.resource.code, grant_id=world.grant.id, query=query
            )
            expected += page.rows
            after = page.next
            if after is None:
                break
    assert rows == expected
    assert _count(db, AccessRecord) == records_before + 2 * pages
    with db.session_scope() as session:
        assert audit.verify(session).ok


def test_filters_and_sorting_follow_the_grant(app_client: TestClient, committed: tuple[Database, World]) -> None:
    _, world = committed
    kind, born = world.param("户口类别"), world.param("出生日期")
    rows, _ = _walk(app_client, world, **{kind: "农业", "sort": born, "order": "desc"})
    assert rows and all(r[kind] == "农业" for r in rows)
    assert [r[born] for r in rows] == sorted((r[born] for r in rows), reverse=True)
    prefix, _ = _walk(app_client, world, **{kind: "非*"})
    assert prefix and all(r[kind] == "非农业" for r in prefix)
    masked = _get(app_client, world, {world.param("公民身份号码"): "62*"})
    assert masked.status_code == 403 and masked.json()["code"] == "item_masked"
    ungranted = _get(app_client, world, {"sort": world.param("联系电话")})
    assert ungranted.status_code == 403 and ungranted.json()["code"] == "item_not_granted"


@pytest.mark.article("A26.1")
def test_refusals_have_their_codes_and_audit_records(app_client: TestClient, committed: tuple[Database, World]) -> None:
    db, world = committed
    refused = AuditRecord.action == str(Action.consumer_request_refused)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"secret": "gss_wrong"}, "signature_invalid"),
        ({"timestamp": int(time.time()) - 400}, "timestamp_stale"),
        ({"app_key": "gsk_unknown"}, "key_unknown"),
    ]
    for sign_kw, code in cases:
        before = _count(db, AuditRecord, refused)
        response = _get(app_client, world, **sign_kw)
        assert response.status_code == 401 and response.json()["code"] == code
        assert response.headers["content-type"].startswith("application/problem+json")
        assert _count(db, AuditRecord, refused) == before + 1
    # the same nonce twice: the second call is refused, audited, and reads nothing
    before, reads = _count(db, AuditRecord, refused), _count(db, AccessRecord)
    assert _get(app_client, world, nonce="r" * 32).status_code == 200
    replay = _get(app_client, world, nonce="r" * 32)
    assert replay.status_code == 401 and replay.json()["code"] == "nonce_reused"
    assert _count(db, AuditRecord, refused) == before + 1
    assert _count(db, AccessRecord) == reads + 1
    # a resource that does not exist, after a correct signature
    path = rows_path("999/999999")
    headers = signing.sign("GET", path, [], b"", world.system.app_key, world.secret)
    missing = app_client.get(path, headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "resource_not_found"
    with db.session_scope() as session:
        assert audit.verify(session).ok


def test_a_bearer_token_reads(app_client: TestClient, committed: tuple[Database, World]) -> None:
    _, world = committed
    headers = signing.sign("POST", "/api/v1/consumer/token", [], b"", world.system.app_key, world.secret)
    token = app_client.post("/api/v1/consumer/token", headers=headers).json()["access_token"]
    path = rows_path(world.resource.code)
    response = app_client.get(path, params={"grant_id": world.grant.id}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json()["rows"]) == 100
    wrong = app_client.get(path, params={"grant_id": world.grant.id}, headers={"Authorization": "Bearer gsa_x"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "token_expired"


def test_concurrent_calls_are_each_recorded_and_the_chains_verify(
    app_client: TestClient, committed: tuple[Database, World]
) -> None:
    """24 calls at once: on PostgreSQL their records are committed in groups, on free read chains."""
    db, world = committed
    reads = _count(db, AccessRecord)
    answers = _at_once(24, lambda: _get(app_client, world, {"limit": 10}))
    assert [a.status_code for a in answers] == [200] * 24
    assert _count(db, AccessRecord) == reads + 24
    _assert_trail_verifies(db)


def test_the_rate_limit_holds(committed: tuple[Database, World]) -> None:
    db, world = committed
    limited = _own_system(db, world, "限流测试系统", rate_limit_per_minute=3)
    with TestClient(create_app(db=db), base_url="http://testserver") as client:
        statuses = [_get(client, limited, {"limit": 5}) for _ in range(4)]
    codes = [r.status_code for r in statuses]
    if int(time.time()) % 60 != 0:  # the four calls may straddle a minute's end only at its last second
        assert codes == [200, 200, 200, 429], codes
        assert int(statuses[3].headers["Retry-After"]) >= 1
        assert statuses[3].json()["code"] == "rate_limited"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_with_redis_keeping_nonces_and_counters(
    committed: tuple[Database, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _redis_available() and os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        pytest.skip("Redis 未运行(127.0.0.1:6379),跳过")
    db, world = committed
    redis.Redis.from_url(REDIS_URL).flushdb()
    monkeypatch.setenv("GOVSHARE_REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    try:
        with TestClient(create_app(db=db), base_url="http://testserver") as client:
            rows, _ = _walk(client, world)
            assert len(rows) == ROWS
            assert _get(client, world, nonce="x" * 32).status_code == 200
            replay = _get(client, world, nonce="x" * 32)
            assert replay.status_code == 401 and replay.json()["code"] == "nonce_reused"
    finally:
        monkeypatch.delenv("GOVSHARE_REDIS_URL")
        get_settings.cache_clear()
    _assert_trail_verifies(db)


def test_a_nonce_replayed_concurrently_is_served_once(
    app_client: TestClient, committed: tuple[Database, World]
) -> None:
    """The same signed call sent 8 times at once (on PostgreSQL several of them share a batch): one page."""
    db, world = committed
    reads = _count(db, AccessRecord)
    answers = _at_once(8, lambda: _get(app_client, world, {"limit": 3}, nonce="z" * 40))
    assert sorted(a.status_code for a in answers) == [200] + [401] * 7
    assert all(a.json()["code"] == "nonce_reused" for a in answers if a.status_code == 401)
    assert _count(db, AccessRecord) == reads + 1
    _assert_trail_verifies(db)


def _keeps_authorisations(db: Database) -> bool:
    """PostgreSQL: the rows path keeps what authorised a call, under the epoch. SQLite: it reads everything
    afresh on every call, and the epoch stays where the migration put it."""
    if db.engine.dialect.name == "postgresql":
        return True
    assert not ConsumerRowsPath.applies(db) and _epoch(db) == 0
    return False


def _epoch(db: Database) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(AuthzEpoch.value).where(AuthzEpoch.id == 1)) or 0)


def _own_system(db: Database, world: World, name: str, *, rate_limit_per_minute: int = 600) -> World:
    """A system of the consumer with a grant of its own (the tests that change them leave the module's alone)."""
    with db.session_scope() as session:
        system, secret = Factory(session).consumer_system(
            world.consumer, name=name, rate_limit_per_minute=rate_limit_per_minute
        )
        grant = grants.issue_grant(
            session,
            Actor.system(),
            resource_id=world.resource.id,
            consumer_department_id=world.consumer.id,
            data_item_ids=world.ids(*GRANTED),
            purpose=f"{name}的测试",
            valid_from=world.grant.valid_from,
            valid_until=world.grant.valid_until,
            system_ids=[system.id],
        )
    return World(world.provider, world.consumer, world.resource, world.items, system, secret, grant)


def test_the_epoch_moves_once_per_committed_change_of_what_authorises_a_call(
    committed: tuple[Database, World],
) -> None:
    db, world = committed
    if not _keeps_authorisations(db):
        return
    before = _epoch(db)
    with db.session_scope() as session:  # two watched tables, several rows: one move, at COMMIT
        system, _ = Factory(session).consumer_system(world.consumer, name="纪元测试系统")
        system.description = "改一次"
        session.flush()
        system.description = "再改一次"
        session.flush()
        assert _epoch(db) == before  # not before it commits
    moved = _epoch(db)
    assert moved > before
    with db.session_scope() as session:  # rolled back: no move
        Factory(session).consumer_system(world.consumer, name="回滚的系统")
        session.rollback()
    assert _epoch(db) == moved
    with db.engine.begin() as conn:  # what every sync writes does not move it; the table's shape does
        conn.execute(update(BaseTable).where(BaseTable.resource_id == world.resource.id).values(row_count=7))
    assert _epoch(db) == moved
    with db.engine.begin() as conn:
        conn.execute(
            update(BaseTable).where(BaseTable.resource_id == world.resource.id).values(columns=BaseTable.columns)
        )
    assert _epoch(db) > moved
    with db.engine.begin() as conn:  # a restored backup's older epoch: the next change still moves past all
        conn.execute(update(AuthzEpoch).where(AuthzEpoch.id == 1).values(value=before))
    with db.session_scope() as session:
        Factory(session).consumer_system(world.consumer, name="恢复后的系统")
    assert _epoch(db) > moved


def test_every_column_that_authorises_a_call_moves_the_epoch(committed: tuple[Database, World]) -> None:
    """The resource statement of the rows path reads only columns whose change moves the epoch
    (migration 0003's list), so that nothing it kept can change unseen."""
    db, _ = committed
    if not _keeps_authorisations(db):
        return
    watched = _migration_0003().WATCHED
    path = ConsumerRowsPath(db)
    read: set[tuple[str, str]] = set()
    for by_grant in path.statements.resource:
        for statement in by_grant:
            for element in visitors.iterate(statement.statement):
                if isinstance(element, Column) and isinstance(element.table, Table):
                    read.add((element.table.name, element.name))
    assert read, "no columns found"
    unwatched = {
        (table, column)
        for table, column in read
        if table != "authz_epoch"
        and table != "consumer_token"  # bearer calls are not kept: read afresh every time
        and (table not in watched or (watched[table] is not None and column not in (watched[table] or ())))
    }
    assert not unwatched, f"columns read to authorise a call that do not move the epoch: {sorted(unwatched)}"
    with db.engine.connect() as conn:
        triggers = set(conn.execute(text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'authz_epoch_%'")).scalars())
    assert {f"authz_epoch_{t}" for t in watched} <= triggers


def test_a_rotated_secret_and_a_disabled_system_are_seen_at_the_next_call(committed: tuple[Database, World]) -> None:
    db, world = committed
    own = _own_system(db, world, "轮换测试系统")
    with TestClient(create_app(db=db), base_url="http://testserver") as client:
        assert _get(client, own, {"limit": 2}).status_code == 200
        assert _get(client, own, {"limit": 2}).status_code == 200  # kept (PostgreSQL)
        with db.session_scope() as session:
            _, new_secret = systems.rotate_secret(session, Actor.system(), own.system.id)
        assert _get(client, own, {"limit": 2}, secret=new_secret).status_code == 200
        old = _get(client, own, {"limit": 2})
        assert old.status_code == 401 and old.json()["code"] == "signature_invalid"
        with db.session_scope() as session:
            systems.set_status(session, Actor.system(), own.system.id, SystemStatus.disabled)
        disabled = _get(client, own, {"limit": 2}, secret=new_secret)
    assert disabled.status_code in (401, 403) and disabled.json()["code"] == "system_disabled"


def test_a_badly_signed_call_is_refused_and_leaves_what_was_kept(committed: tuple[Database, World]) -> None:
    db, world = committed
    own = _own_system(db, world, "错误签名测试系统")
    app = create_app(db=db)
    with TestClient(app, base_url="http://testserver") as client:
        assert _get(client, own, {"limit": 2}).status_code == 200
        path: ConsumerRowsPath | None = app.state.consumer_rows
        kept = dict(path._known) if path is not None else {}
        bad = _get(client, own, {"limit": 2}, secret="gss_" + "x" * 43)
        assert bad.status_code == 401 and bad.json()["code"] == "signature_invalid"
        if path is not None:  # PostgreSQL: nothing evicted by a call anyone can send
            assert path._known == kept and kept
        assert _get(client, own, {"limit": 2}).status_code == 200


def test_a_grant_narrowed_or_suspended_is_seen_at_the_next_call(committed: tuple[Database, World]) -> None:
    db, world = committed
    own = _own_system(db, world, "收窄测试系统")
    with TestClient(create_app(db=db), base_url="http://testserver") as client:
        first = _get(client, own, {"limit": 2})
        assert first.status_code == 200 and len(first.json()["rows"][0]) == len(GRANTED)
        with db.session_scope() as session:  # one 信息项 leaves the grant
            session.execute(
                delete(GrantItem).where(
                    GrantItem.grant_id == own.grant.id, GrantItem.data_item_id == world.items[GRANTED[0]].id
                )
            )
        narrowed = _get(client, own, {"limit": 2})
        assert narrowed.status_code == 200
        assert set(narrowed.json()["rows"][0]) == {f"i{world.items[n].id}" for n in GRANTED[1:]}
        with db.session_scope() as session:
            grants.change_status(session, Actor.system(), own.grant.id, "suspend", reason="核查中")
        suspended = _get(client, own, {"limit": 2})
    assert suspended.status_code == 403 and suspended.json()["code"] == "grant_suspended"


@pytest.mark.article("A26.2")
def test_a_grant_is_refused_the_day_after_it_ends_with_nothing_changed(committed: tuple[Database, World]) -> None:
    """No row changes when a grant's period ends, so the epoch does not move: the day is checked again on
    every call, and the scope kept for a day is not used the next."""
    db, world = committed
    own = _own_system(db, world, "到期测试系统")
    last_day = dt.datetime.combine(own.grant.valid_until, dt.time(23, 59, 50), clock.CHINA)

    def call(at: dt.datetime) -> Any:
        clock.set_now(at)
        return _get(client, own, {"limit": 2}, timestamp=int(at.timestamp()))

    try:
        with TestClient(create_app(db=db), base_url="http://testserver") as client:
            assert [call(last_day).status_code, call(last_day).status_code] == [200, 200]
            refused = call(last_day + dt.timedelta(seconds=20))
    finally:
        clock.set_now(None)
    assert refused.status_code == 403 and refused.json()["code"] == "grant_expired", refused.text


def _migration_0003() -> Any:
    folder = Path(migrate.__file__).parent / "migrations" / "versions"
    spec = importlib.util.spec_from_file_location("m0003", folder / "2026_11_25_0003_authz_epoch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# last: it revokes the module's grant
def test_a_revoked_grant_is_refused_at_the_next_call(committed: tuple[Database, World], tmp_path: Path) -> None:
    db, world = committed
    with TestClient(create_app(db=db), base_url="http://testserver") as client:
        assert _get(client, world, {"limit": 1}).status_code == 200
        with db.session_scope() as session:
            grants.change_status(session, Actor.system(), world.grant.id, "revoke", reason="项目结束")
        refused = _get(client, world, {"limit": 1})
    assert refused.status_code == 403 and refused.json()["code"] == "grant_revoked"
    denied = AuditRecord.action == str(Action.access_denied)
    assert _count(db, AuditRecord, denied) >= 1
