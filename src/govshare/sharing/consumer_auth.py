"""Authenticating consumer systems: HMAC-signed requests and short-lived bearer tokens.

A request carries either the four ``X-GS-*`` headers (see ``sharing.client`` for the exact
string to sign) or ``Authorization: Bearer gsa_…`` from ``POST /api/v1/consumer/token``. With the
database limiter the checks run in one short transaction of their own, committed before the
request's work starts, so the nonce is spent and the request counted even if the read is refused
later; with Redis (which keeps nonces and counters itself) they run in the request's transaction.
Either way a refusal's audit record is committed on its own and survives the refusal. Each
refusal is problem+json with a stable code — ``key_unknown``, ``timestamp_stale``,
``signature_invalid``, ``nonce_reused``, ``token_expired`` (401), ``system_disabled`` (403),
``rate_limited`` (429 with ``Retry-After``) — and an ``Action.consumer_request_refused`` record.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, cast
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.config import get_settings
from govshare.db import Database
from govshare.deps import SessionDep
from govshare.errors import DomainError, TooManyRequests, Unauthorized
from govshare.identity.actor import Actor, RequestContext
from govshare.kit import clock
from govshare.kit.crypto import decrypt, new_token, token_hash
from govshare.sharing import client as signing
from govshare.sharing.enums import SystemStatus
from govshare.sharing.models import ConsumerSystem, ConsumerToken
from govshare.sharing.ratelimit import RedisLimiter, limiter

TIMESTAMP_WINDOW_SECONDS = 300
TOKEN_MINUTES = 15
TOKEN_PREFIX = "gsa_"
NONCE_TTL_SECONDS = 2 * TIMESTAMP_WINDOW_SECONDS
_NONCE = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")


class ConsumerUnauthorized(Unauthorized):
    title = "应用系统身份验证失败"


class SystemDisabled(DomainError):
    """403 without being a ``Forbidden``: it is audited here as a refused consumer request, not twice."""

    status = 403
    title = "应用系统已停用"
    default_code = "system_disabled"


class RateLimited(TooManyRequests):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, code="rate_limited")
        self.headers = {"Retry-After": str(max(1, retry_after))}


@dataclass(frozen=True)
class ConsumerCaller:
    """The system behind an authenticated request, as services need it (an ``Actor``-like value)."""

    system_id: int
    department_id: int
    app_key: str
    request_id: str
    source_ip: str
    system_name: str = ""

    @property
    def actor(self) -> Actor:
        """The caller as the audit trail records it (kind ``consumer``)."""
        return consumer_actor(self.app_key, self.department_id, RequestContext(self.source_ip, self.request_id))


def consumer_actor(app_key: str, department_id: int | None, context: RequestContext) -> Actor:
    return Actor(
        user_id=None,
        username=app_key[:64] or "unknown",
        display_name="应用系统",
        department_id=department_id,
        kind="consumer",
        context=context,
    )


@dataclass(frozen=True)
class SignedRequest:
    """What authentication needs of an HTTP request, as plain values."""

    method: str
    path: str
    query: str
    body: bytes
    headers: dict[str, str]
    context: RequestContext


SYSTEM_COLUMNS = (
    ConsumerSystem.id,
    ConsumerSystem.department_id,
    ConsumerSystem.name,
    ConsumerSystem.app_key,
    ConsumerSystem.secret_encrypted,
    ConsumerSystem.status,
    ConsumerSystem.rate_limit_per_minute,
    ConsumerSystem.secret_rotated_at,
)


SystemRow = Row[int, int, str, str, str, str, int, dt.datetime]


_SYSTEMS = cast(Table, ConsumerSystem.__table__)
# built once, plain Core on the connection (no ORM statement): this runs on every call of the data API
SYSTEM_BY_KEY = select(*(_SYSTEMS.c[c.key] for c in SYSTEM_COLUMNS)).where(_SYSTEMS.c.app_key == bindparam("app_key"))


_TOKENS = cast(Table, ConsumerToken.__table__)
# a bearer token's system, with the token's times, in one statement
SYSTEM_BY_TOKEN = (
    select(*(_SYSTEMS.c[c.key] for c in SYSTEM_COLUMNS), _TOKENS.c.issued_at, _TOKENS.c.expires_at)
    .join_from(_TOKENS, _SYSTEMS, _SYSTEMS.c.id == _TOKENS.c.consumer_system_id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)
TokenRow = Row[int, int, str, str, str, str, int, dt.datetime, dt.datetime, dt.datetime]


def _system_by_key(session: Session, app_key: str) -> SystemRow | None:
    return cast("SystemRow | None", session.connection().execute(SYSTEM_BY_KEY, {"app_key": app_key}).first())


def app_key_of(req: SignedRequest) -> str:
    app_key = req.headers.get("x-gs-key", "")
    if not app_key:
        raise ConsumerUnauthorized("缺少应用系统身份:请携带 X-GS-Key 等签名请求头,或 Bearer 令牌", code="key_unknown")
    return app_key


def verify_signature(system: SystemRow | None, req: SignedRequest, secret: str | None = None) -> str:
    """The checks of a signed request that need no storage: the key is known, the timestamp fresh, the
    signature right and the system active. Returns the nonce, still to be claimed. ``secret``: the
    system's secret already decrypted (``system_secret``)."""
    if system is None:
        raise ConsumerUnauthorized("应用系统标识(X-GS-Key)无效", code="key_unknown")
    h = req.headers
    timestamp, nonce, sent = h.get("x-gs-timestamp", ""), h.get("x-gs-nonce", ""), h.get("x-gs-signature", "")
    if not timestamp.isdigit() or abs(int(timestamp) - clock.now().timestamp()) > TIMESTAMP_WINDOW_SECONDS:
        raise ConsumerUnauthorized(
            f"请求时间戳(X-GS-Timestamp)与平台时间相差超过 {TIMESTAMP_WINDOW_SECONDS} 秒,请校准系统时钟",
            code="timestamp_stale",
        )
    if not _NONCE.match(nonce):
        raise ConsumerUnauthorized("X-GS-Nonce 须为 16 至 64 位字母、数字、下划线或连字符", code="signature_invalid")
    pairs = parse_qsl(req.query, keep_blank_values=True)
    message = signing.string_to_sign(req.method, req.path, signing.canonical_query(pairs), req.body, timestamp, nonce)
    expected = signing.signature(secret if secret is not None else system_secret(system), message)
    if not hmac.compare_digest(expected, sent.lower()):
        raise ConsumerUnauthorized("请求签名(X-GS-Signature)不正确", code="signature_invalid")
    if system.status != SystemStatus.active:
        raise SystemDisabled("应用系统已停用,请联系本部门数据资源管理员")
    return nonce


def system_secret(system: SystemRow) -> str:
    """The system's signing secret, decrypted."""
    return decrypt(system.secret_encrypted, get_settings().security.data_key)


def check_claim(system: SystemRow, fresh: bool, retry_after: int | None) -> None:
    """Refuse a replayed nonce, then a call over the system's limit (what the limiter answered)."""
    if not fresh:
        raise ConsumerUnauthorized("该请求已处理过(X-GS-Nonce 重复使用),请勿重放请求", code="nonce_reused")
    refuse_over_limit(system, retry_after)


def _check_hmac(session: Session, req: SignedRequest) -> SystemRow:
    system = _system_by_key(session, app_key_of(req))
    nonce = verify_signature(system, req)
    assert system is not None
    fresh, retry_after = limiter().claim_nonce_and_hit(
        session, system.id, system.app_key, nonce, NONCE_TTL_SECONDS, system.rate_limit_per_minute
    )
    check_claim(system, fresh, retry_after)
    return system


def refuse_over_limit(system: SystemRow, retry_after: int | None) -> None:
    if retry_after is not None:
        raise RateLimited(f"调用过于频繁:每分钟最多 {system.rate_limit_per_minute} 次,请稍后重试", retry_after)


def token_hash_of(req: SignedRequest) -> str | None:
    """The keyed hash of the request's bearer token (None: no bearer token; a malformed one is refused)."""
    header = req.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    if not token.startswith(TOKEN_PREFIX):
        raise _token_expired()
    return token_hash(token, get_settings().security.secret_key)


def _token_expired() -> ConsumerUnauthorized:
    return ConsumerUnauthorized("访问令牌无效或已过期,请重新获取", code="token_expired")


def check_token(row: TokenRow | None) -> SystemRow:
    """The system of a bearer token read by ``SYSTEM_BY_TOKEN``, or a refusal."""
    if row is None or _aware(row.expires_at) <= clock.now():
        raise _token_expired()
    if row.issued_at < row.secret_rotated_at:
        raise _token_expired()  # the secret was rotated after the token was issued
    if row.status != SystemStatus.active:
        raise SystemDisabled("应用系统已停用,请联系本部门数据资源管理员")
    return cast(SystemRow, row)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _check_bearer(session: Session, digest: str) -> SystemRow:
    found = session.connection().execute(SYSTEM_BY_TOKEN, {"token_hash": digest}).first()
    return check_token(cast("TokenRow | None", found))


def authenticate(session: Session, req: SignedRequest, *, allow_bearer: bool = True) -> ConsumerCaller:
    """The calling system, or a refusal; counts the request against the system's rate limit."""
    digest = token_hash_of(req) if allow_bearer else None
    if digest is not None:
        system = _check_bearer(session, digest)
        refuse_over_limit(system, limiter().hit(session, system.id, system.app_key, system.rate_limit_per_minute))
    else:
        system = _check_hmac(session, req)  # the nonce is spent and the call counted in one step
    return caller_of(system, req)


def caller_of(system: SystemRow, req: SignedRequest) -> ConsumerCaller:
    """The authenticated system of ``req`` as services see it."""
    return ConsumerCaller(
        system_id=system.id,
        department_id=system.department_id,
        app_key=system.app_key,
        request_id=req.context.request_id,
        source_ip=req.context.source_ip,
        system_name=system.name,
    )


def issue_token(session: Session, caller: ConsumerCaller) -> tuple[str, dt.datetime]:
    """A bearer token for the caller, valid 15 minutes; only its keyed hash is stored."""
    token = TOKEN_PREFIX + new_token()
    at = clock.now()
    expires = at + dt.timedelta(minutes=TOKEN_MINUTES)
    session.add(
        ConsumerToken(
            token_hash=token_hash(token, get_settings().security.secret_key),
            consumer_system_id=caller.system_id,
            issued_at=at,
            expires_at=expires,
        )
    )
    session.flush()
    audit.record(
        session,
        caller.actor,
        Action.consumer_token_issued,
        object_type="consumer_system",
        object_id=caller.system_id,
        after={"expires_at": expires},
    )
    return token, expires


_REFUSALS = (ConsumerUnauthorized, SystemDisabled, RateLimited)
REFUSALS = _REFUSALS


def record_refusal(db: Database, req: SignedRequest, exc: DomainError) -> None:
    """The refusal's audit record, committed in a transaction of its own."""
    with db.session_scope() as session:
        _audit_refusal(session, req, exc)


def claim_apart(db: Database, system: SystemRow, nonce: str | None) -> tuple[bool, int | None]:
    """The database limiter in a short transaction of its own: claim ``nonce`` (None: a bearer call,
    nothing to claim) and count the call; committed before the request's work goes on."""
    with db.session_scope() as session:
        if nonce is None:
            return True, limiter().hit(session, system.id, system.app_key, system.rate_limit_per_minute)
        return limiter().claim_nonce_and_hit(
            session, system.id, system.app_key, nonce, NONCE_TTL_SECONDS, system.rate_limit_per_minute
        )


def _audit_refusal(session: Session, req: SignedRequest, exc: DomainError) -> None:
    app_key = req.headers.get("x-gs-key", "")[:64]
    system = _system_by_key(session, app_key) if app_key else None
    audit.record(
        session,
        consumer_actor(app_key, system.department_id if system else None, req.context),
        Action.consumer_request_refused,
        object_type="consumer_system",
        object_id=system.id if system else "",
        outcome="denied",
        after={"code": exc.code, "path": req.path[:200], "method": req.method},
    )


def _authenticate_apart(db: Database, req: SignedRequest, allow_bearer: bool) -> ConsumerCaller:
    """In a short transaction of its own (the database limiter writes nonces and counters there)."""
    refusal: DomainError | None = None
    with db.session_scope() as session:
        try:
            return authenticate(session, req, allow_bearer=allow_bearer)
        except _REFUSALS as exc:
            refusal = exc
            _audit_refusal(session, req, exc)
    assert refusal is not None
    raise refusal


def _authenticate_within(db: Database, session: Session, req: SignedRequest, allow_bearer: bool) -> ConsumerCaller:
    """In the request's own transaction: with Redis keeping nonces and counters nothing here writes,
    so a separate transaction would only cost a connection checkout and a commit per call."""
    try:
        return authenticate(session, req, allow_bearer=allow_bearer)
    except _REFUSALS as exc:
        session.rollback()  # the request's transaction ends here; the refusal is recorded on its own
        with db.session_scope() as apart:
            _audit_refusal(apart, req, exc)
        raise


def _authenticate_and_record(db: Database, session: Session, req: SignedRequest, allow_bearer: bool) -> ConsumerCaller:
    # SQLite takes its write lock at BEGIN, so a second transaction must never wait on the request's
    if isinstance(limiter(), RedisLimiter) and db.engine.dialect.name != "sqlite":
        return _authenticate_within(db, session, req, allow_bearer)
    return _authenticate_apart(db, req, allow_bearer)


async def signed_request(request: Request) -> SignedRequest:
    ctx = getattr(request.state, "context", None)
    if not isinstance(ctx, RequestContext):
        ctx = RequestContext(source_ip=request.client.host if request.client else "")
    return SignedRequest(
        method=request.method,
        path=request.url.path,
        query=request.url.query,
        body=await request.body(),
        headers={k.lower(): v for k, v in request.headers.items()},
        context=ctx,
    )


async def consumer(request: Request, session: SessionDep) -> ConsumerCaller:
    """The dependency: a signed request or a bearer token."""
    req = await signed_request(request)
    caller = await run_in_threadpool(_authenticate_and_record, request.app.state.db, session, req, True)
    request.state.actor = caller.actor
    return caller


async def consumer_signed(request: Request, session: SessionDep) -> ConsumerCaller:
    """The dependency for getting a token: a signed request only."""
    req = await signed_request(request)
    caller = await run_in_threadpool(_authenticate_and_record, request.app.state.db, session, req, False)
    request.state.actor = caller.actor
    return caller


async def consumer_request(request: Request) -> SignedRequest:
    """The dependency for routes that authenticate inside their own transaction (``consumer_session``):
    the request as plain values; the route must open ``consumer_session`` before anything else."""
    return await signed_request(request)


@contextmanager
def consumer_session(
    db: Database, req: SignedRequest, *, allow_bearer: bool = True
) -> Iterator[tuple[Session, ConsumerCaller]]:
    """One transaction for a whole consumer call, in one worker thread: the caller authenticated first
    (a refusal is audited on its own and raised), committed when the block ends, rolled back on error."""
    with db.session_scope() as session:
        caller = _authenticate_and_record(db, session, req, allow_bearer)
        yield session, caller


# the route-inventory test reads this marker: consumer routes are protected by system authentication
consumer.__permission__ = "consumer_system"  # type: ignore[attr-defined]
consumer_signed.__permission__ = "consumer_system"  # type: ignore[attr-defined]
consumer_request.__permission__ = "consumer_system"  # type: ignore[attr-defined]

ConsumerDep = Annotated[ConsumerCaller, Depends(consumer)]
SignedConsumerDep = Annotated[ConsumerCaller, Depends(consumer_signed)]
ConsumerRequestDep = Annotated[SignedRequest, Depends(consumer_request)]
