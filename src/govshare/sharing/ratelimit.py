"""Nonce store and rate limits of consumer systems, shared by every server process.

Two backends, chosen by ``GOVSHARE_REDIS_URL``:
- Redis (keys carry the system's app key, unique across platforms sharing one Redis): a nonce is
  ``SET key 1 NX EX ttl`` (atomic: exactly one caller sets it); the rate limit is a
  fixed one-minute window counted with ``INCR`` + ``EXPIRE`` in one MULTI/EXEC.
- the platform database: ``consumer_nonce`` with a unique (system, nonce) and ``INSERT … ON CONFLICT
  DO NOTHING``; ``consumer_rate_window`` with one row per system and minute, incremented by an
  upsert that returns the new count. Row locks make both hold across processes; expired nonces and
  old windows are swept now and then.

Both are called inside the short transaction of request authentication, which commits before the
request's own work starts (a nonce is spent even if the read later fails).
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare.config import get_settings
from govshare.kit import clock
from govshare.sharing.models import ConsumerNonce, ConsumerRateWindow

WINDOW_SECONDS = 60
_SWEEP_PROBABILITY = 0.01


class Limiter(Protocol):
    def claim_nonce(self, session: Session, system_id: int, app_key: str, nonce: str, ttl_seconds: int) -> bool:
        """True the first time (system, nonce) is seen within ``ttl_seconds``; False for a replay."""
        ...

    def hit(self, session: Session, system_id: int, app_key: str, limit_per_minute: int) -> int | None:
        """Count one request; None if within the limit, else the seconds until the window ends."""
        ...

    def claim_nonce_and_hit(
        self, session: Session, system_id: int, app_key: str, nonce: str, ttl_seconds: int, limit_per_minute: int
    ) -> tuple[bool, int | None]:
        """(nonce fresh, ``hit``'s answer); a replayed nonce is not counted."""
        ...


def _window(at: dt.datetime) -> tuple[int, int]:
    seconds = int(at.timestamp())
    return seconds // WINDOW_SECONDS, WINDOW_SECONDS - seconds % WINDOW_SECONDS


class DatabaseLimiter:
    def claim_nonce_and_hit(
        self, session: Session, system_id: int, app_key: str, nonce: str, ttl_seconds: int, limit_per_minute: int
    ) -> tuple[bool, int | None]:
        if not self.claim_nonce(session, system_id, app_key, nonce, ttl_seconds):
            return False, None
        return True, self.hit(session, system_id, app_key, limit_per_minute)

    def claim_nonce(self, session: Session, system_id: int, app_key: str, nonce: str, ttl_seconds: int) -> bool:
        at = clock.now()
        values = {"consumer_system_id": system_id, "nonce": nonce, "expires_at": at + dt.timedelta(seconds=ttl_seconds)}
        dialect = session.get_bind().dialect.name
        if random.random() < _SWEEP_PROBABILITY:
            session.execute(delete(ConsumerNonce).where(ConsumerNonce.expires_at < at))
        if dialect in ("postgresql", "sqlite"):
            module: Any = postgresql if dialect == "postgresql" else sqlite
            nonces = ConsumerNonce.__table__
            stmt = module.insert(nonces).values(**values).on_conflict_do_nothing().returning(nonces.c.id)
            if session.execute(stmt).first() is not None:
                return True
            # an expired entry of the same nonce may still be there: reuse after expiry is allowed
            swept = cast(
                CursorResult[Any],
                session.execute(
                    delete(ConsumerNonce).where(
                        ConsumerNonce.consumer_system_id == system_id,
                        ConsumerNonce.nonce == nonce,
                        ConsumerNonce.expires_at < at,
                    )
                ),
            )
            if swept.rowcount:
                return session.execute(stmt).first() is not None
            return False
        try:
            with session.begin_nested():
                session.add(ConsumerNonce(**values))
            return True
        except IntegrityError:
            return False

    def hit(self, session: Session, system_id: int, app_key: str, limit_per_minute: int) -> int | None:
        window, left = _window(clock.now())
        dialect = session.get_bind().dialect.name
        if random.random() < _SWEEP_PROBABILITY:
            session.execute(delete(ConsumerRateWindow).where(ConsumerRateWindow.window < window - 1))
        if dialect in ("postgresql", "sqlite"):
            module: Any = postgresql if dialect == "postgresql" else sqlite
            windows = ConsumerRateWindow.__table__
            stmt = module.insert(windows).values(consumer_system_id=system_id, window=window, count=1)
            stmt = stmt.on_conflict_do_update(
                index_elements=["consumer_system_id", "window"],
                set_={"count": windows.c.count + 1},
            ).returning(windows.c.count)
            count = int(session.execute(stmt).scalar_one())
        else:  # e.g. MariaDB: lock the row, then count
            row = session.get(ConsumerRateWindow, (system_id, window), with_for_update=True)
            if row is None:
                row = ConsumerRateWindow(consumer_system_id=system_id, window=window, count=0)
                session.add(row)
            row.count += 1
            session.flush()
            count = row.count
        return left if count > limit_per_minute else None


# one round trip for a signed call: spend the nonce; only if it was fresh, count the call in its window
_CLAIM_AND_HIT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return -1 end
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return count
"""


class RedisLimiter:
    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._claim_and_hit: Any = self.client.register_script(_CLAIM_AND_HIT)

    def claim_nonce_and_hit(
        self, session: Session, system_id: int, app_key: str, nonce: str, ttl_seconds: int, limit_per_minute: int
    ) -> tuple[bool, int | None]:
        """``claim_nonce`` then, for a fresh nonce, ``hit``: atomically, in one round trip (a Lua script)."""
        window, left = _window(clock.now())
        count = int(
            self._claim_and_hit(keys=_claim_keys(app_key, nonce, window), args=[ttl_seconds, WINDOW_SECONDS * 2])
        )
        return _claim_answer(count, left, limit_per_minute)

    def claim_nonce(self, session: Session, system_id: int, app_key: str, nonce: str, ttl_seconds: int) -> bool:
        return bool(self.client.set(f"gs:nonce:{app_key}:{nonce}", b"1", nx=True, ex=ttl_seconds))

    def hit(self, session: Session, system_id: int, app_key: str, limit_per_minute: int) -> int | None:
        window, left = _window(clock.now())
        key = f"gs:rate:{app_key}:{window}"
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS * 2)
        count, _ = pipe.execute()
        return left if int(count) > limit_per_minute else None


def _claim_keys(app_key: str, nonce: str, window: int) -> list[str]:
    return [f"gs:nonce:{app_key}:{nonce}", f"gs:rate:{app_key}:{window}"]


def _claim_answer(count: int, left: int, limit_per_minute: int) -> tuple[bool, int | None]:
    if count < 0:
        return False, None
    return True, (left if count > limit_per_minute else None)


class AsyncRedisLimiter:
    """The Redis limiter for asynchronous callers (the consumer data API on its event loop): the same
    keys and the same script, so both kinds of server process share nonces and counters. One client per
    event loop."""

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self.client: Any = redis.asyncio.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._claim_and_hit: Any = self.client.register_script(_CLAIM_AND_HIT)

    async def claim_nonce_and_hit(
        self, app_key: str, nonce: str, ttl_seconds: int, limit_per_minute: int
    ) -> tuple[bool, int | None]:
        window, left = _window(clock.now())
        keys = _claim_keys(app_key, nonce, window)
        count = int(await self._claim_and_hit(keys=keys, args=[ttl_seconds, WINDOW_SECONDS * 2]))
        return _claim_answer(count, left, limit_per_minute)

    async def hit(self, app_key: str, limit_per_minute: int) -> int | None:
        window, left = _window(clock.now())
        key = f"gs:rate:{app_key}:{window}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return left if int(count) > limit_per_minute else None

    async def close(self) -> None:
        await self.client.aclose()


@lru_cache
def _redis(url: str) -> RedisLimiter:
    return RedisLimiter(url)


def limiter() -> Limiter:
    """The configured backend: Redis when ``GOVSHARE_REDIS_URL`` is set, else the platform database."""
    url = get_settings().redis_url
    return _redis(url) if url else DatabaseLimiter()
