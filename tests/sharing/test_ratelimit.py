"""Rate limits and nonces hold across server processes: two real uvicorn processes share Redis, or
the platform database, and a system's per-minute limit counts the calls of both."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare import migrate
from govshare.audit.models import AuditRecord
from govshare.db import Database
from govshare.identity.reference import ensure_reference_data
from govshare.kit import clock
from govshare.sharing.models import AccessRecord
from govshare.sharing.ratelimit import DatabaseLimiter, RedisLimiter
from tests import pg
from tests.factories import Factory
from tests.sharing.consumer_setup import person, population_resource

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not _redis_available() and os.environ.get("CI", "").lower() not in ("1", "true", "yes"),
    reason="Redis 不可用(127.0.0.1:6379)",
)


def test_database_limiter_counts_per_minute_window(session: Session, factory: Factory) -> None:
    system, _ = factory.consumer_system(rate_limit_per_minute=2)
    limiter = DatabaseLimiter()
    clock.set_now(dt.datetime(2026, 11, 25, 9, 0, 10, tzinfo=dt.UTC))
    assert limiter.hit(session, system.id, system.app_key, 2) is None
    assert limiter.hit(session, system.id, system.app_key, 2) is None
    assert limiter.hit(session, system.id, system.app_key, 2) == 50
    clock.set_now(dt.datetime(2026, 11, 25, 9, 1, 0, tzinfo=dt.UTC))
    assert limiter.hit(session, system.id, system.app_key, 2) is None


def test_database_nonce_is_single_use_until_it_expires(session: Session, factory: Factory) -> None:
    system, _ = factory.consumer_system()
    limiter = DatabaseLimiter()
    clock.set_now(dt.datetime(2026, 11, 25, 9, 0, 0, tzinfo=dt.UTC))
    assert limiter.claim_nonce(session, system.id, system.app_key, "a" * 20, 600)
    assert not limiter.claim_nonce(session, system.id, system.app_key, "a" * 20, 600)
    clock.set_now(dt.datetime(2026, 11, 25, 9, 11, 0, tzinfo=dt.UTC))
    assert limiter.claim_nonce(session, system.id, system.app_key, "a" * 20, 600)


@needs_redis
def test_redis_limiter(session: Session) -> None:
    limiter = RedisLimiter(REDIS_URL)
    key = f"gsk_test_{os.getpid()}_{time.time_ns()}"
    assert limiter.claim_nonce(session, 0, key, "b" * 20, 5)
    assert not limiter.claim_nonce(session, 0, key, "b" * 20, 5)
    results = [limiter.hit(session, 0, key, 3) for _ in range(4)]
    assert results[:3] == [None, None, None] and results[3] is not None


# --- two real server processes ----------------------------------------------------------------


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("postgres"):
        with pg.scratch_database(database_url, "_rl") as url:
            yield url
    else:
        yield f"sqlite:///{(tmp_path / 'ratelimit.db').as_posix()}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str, limit: int) -> tuple[str, str, str]:
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.session_scope() as session:
        ensure_reference_data(session)
        factory = Factory(session)
        provider = factory.department("市公安局")
        resource = population_resource(factory, provider, share_type="unconditional")
        factory.base_rows(resource, [person(n) for n in range(5)], key="公民身份号码")
        system, secret = factory.consumer_system(factory.department("市民政局"), rate_limit_per_minute=limit)
        code, app_key = resource.code, system.app_key
    db.dispose()
    return code, app_key, secret


def _serve(url: str, redis_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, GOVSHARE_DATABASE_URL=url, GOVSHARE_REDIS_URL=redis_url, GOVSHARE_ENVIRONMENT="test")
    env["GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS"] = "false"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "govshare.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


@pytest.mark.parametrize("backend", ["redis", "database"])
def test_the_limit_holds_across_two_server_processes(scratch_url: str, backend: str) -> None:
    if backend == "redis" and not _redis_available():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI 要求 Redis")
        pytest.skip("Redis 不可用")
    from govshare.sharing.client import ConsumerClient

    limit = 10
    code, app_key, secret = _prepare(scratch_url, limit)
    servers = [_serve(scratch_url, REDIS_URL if backend == "redis" else "") for _ in range(2)]
    try:
        if time.time() % 60 > 45:  # keep all calls inside one one-minute window
            time.sleep(61 - time.time() % 60)
        clients = [ConsumerClient(base, app_key, secret) for _, base in servers]
        statuses: list[tuple[int, int]] = []
        for n in range(limit + 4):
            which = n % 2
            r = clients[which].request("GET", f"/api/v1/consumer/resources/{code}/rows", {"limit": 2})
            statuses.append((which, r.status_code))
            if r.status_code == 429:
                assert r.json()["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
        for c in clients:
            c.close()
        ok = [w for w, s in statuses if s == 200]
        assert len(ok) == limit, statuses
        assert set(ok) == {0, 1}  # both processes served part of the limit
        assert [s for _, s in statuses[limit:]] == [429] * 4
        # a nonce spent on one process is refused by the other
        from govshare.sharing.client import sign

        path = f"/api/v1/consumer/resources/{code}/rows"
        headers = sign("GET", path, {}, b"", app_key, secret)
        first = httpx.get(servers[0][1] + path, headers=headers)
        second = httpx.get(servers[1][1] + path, headers=headers)
        assert first.json()["code"] == "rate_limited"  # still over the limit: counted, nonce kept for a retry
        assert second.json()["code"] in ("rate_limited", "nonce_reused")
        # every refusal left its audit record, and every served page its access record
        db = Database(scratch_url)
        with db.session_scope() as session:
            refused = session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == "sharing.consumer_request.refused")
            )
            reads = session.scalar(select(func.count()).select_from(AccessRecord))
        db.dispose()
        assert refused == 6 and reads == limit
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=15)
