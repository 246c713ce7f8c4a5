"""Request authentication of consumer systems: the signature, replay protection, tokens, and one
problem+json code plus one audit record for every kind of refusal."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.identity.actor import Actor
from govshare.kit import clock
from govshare.sharing import client as signing
from govshare.sharing import systems
from govshare.sharing.enums import SystemStatus
from tests.factories import Factory
from tests.sharing.consumer_setup import World, audit_actions, build, count_access, rows_path

REFUSED = "sharing.consumer_request.refused"


@pytest.fixture
def world(factory: Factory, session: Session) -> World:
    return build(factory, session, rows=3)


def _get(client: TestClient, world: World, headers: dict[str, str], params: dict[str, str] | None = None) -> object:
    params = params if params is not None else {"grant_id": str(world.grant.id)}
    return client.get(rows_path(world.resource.code), params=params, headers=headers)


def _headers(world: World, **kw: object) -> dict[str, str]:
    path = kw.pop("path", rows_path(world.resource.code))
    query = kw.pop("query", {"grant_id": str(world.grant.id)})
    secret = kw.pop("secret", world.secret)
    return signing.sign("GET", str(path), query, b"", world.system.app_key, str(secret), **kw)  # type: ignore[arg-type]


def test_canonical_query_sorts_and_percent_encodes() -> None:
    pairs = [("b", "2"), ("a", "x y"), ("a", "中"), ("i12", "非*")]
    assert signing.canonical_query(pairs) == "a=x%20y&a=%E4%B8%AD&b=2&i12=%E9%9D%9E%2A"


def test_a_correctly_signed_request_passes(client: TestClient, world: World) -> None:
    r = _get(client, world, _headers(world))
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]


def _refused(
    session: Session, client: TestClient, world: World, headers: dict[str, str], status: int, code: str
) -> None:
    before = len(audit_actions(session, REFUSED))
    reads = count_access(session)
    r = _get(client, world, headers)
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert body["code"] == code
    records = audit_actions(session, REFUSED)
    assert len(records) == before + 1
    assert records[-1].outcome == "denied" and records[-1].after is not None and records[-1].after["code"] == code
    assert count_access(session) == reads  # nothing was read


@pytest.mark.article("A26.1")
def test_each_refusal_has_its_code_and_audit_record(client: TestClient, session: Session, world: World) -> None:
    # unknown key
    headers = _headers(world)
    headers["X-GS-Key"] = "gsk_unknown"
    _refused(session, client, world, headers, 401, "key_unknown")
    # no credentials at all
    _refused(session, client, world, {}, 401, "key_unknown")
    # stale timestamp, both directions
    _refused(session, client, world, _headers(world, timestamp=int(time.time()) - 301), 401, "timestamp_stale")
    _refused(session, client, world, _headers(world, timestamp=int(time.time()) + 400), 401, "timestamp_stale")
    # wrong secret; a signed query that differs from the one sent; a short nonce
    _refused(session, client, world, _headers(world, secret="gss_wrong"), 401, "signature_invalid")
    _refused(session, client, world, _headers(world, query={"grant_id": "999"}), 401, "signature_invalid")
    _refused(session, client, world, _headers(world, nonce="short"), 401, "signature_invalid")
    # the same nonce twice
    replay = _headers(world, nonce="n" * 32)
    assert _get(client, world, replay).status_code == 200  # type: ignore[attr-defined]
    _refused(session, client, world, replay, 401, "nonce_reused")
    # an expired or unknown bearer token
    _refused(session, client, world, {"Authorization": "Bearer gsa_nothing"}, 401, "token_expired")


@pytest.mark.article("A26.2")
def test_a_disabled_system_is_refused_at_its_next_call(client: TestClient, session: Session, world: World) -> None:
    assert _get(client, world, _headers(world)).status_code == 200  # type: ignore[attr-defined]
    systems.set_status(session, Actor.system(), world.system.id, SystemStatus.disabled)
    _refused(session, client, world, _headers(world), 403, "system_disabled")
    systems.set_status(session, Actor.system(), world.system.id, SystemStatus.active)
    assert _get(client, world, _headers(world)).status_code == 200  # type: ignore[attr-defined]


def test_rotation_stops_the_old_secret_at_once(client: TestClient, session: Session, world: World) -> None:
    _, new_secret = systems.rotate_secret(session, Actor.system(), world.system.id)
    _refused(session, client, world, _headers(world), 401, "signature_invalid")
    assert _get(client, world, _headers(world, secret=new_secret)).status_code == 200  # type: ignore[attr-defined]


def test_rate_limit_gives_429_with_retry_after(client: TestClient, factory: Factory, session: Session) -> None:
    # frozen before the grant is issued: its first day is the frozen one, whatever the hour of the run
    clock.set_now(dt.datetime(2026, 11, 25, 10, 0, 5, tzinfo=dt.UTC))
    world = build(factory, session, rows=1)
    world.system.rate_limit_per_minute = 3
    session.flush()
    ts = int(clock.now().timestamp())
    for _ in range(3):
        assert _get(client, world, _headers(world, timestamp=ts)).status_code == 200  # type: ignore[attr-defined]
    r = _get(client, world, _headers(world, timestamp=ts))
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"  # type: ignore[attr-defined]
    assert r.headers["Retry-After"] == "55"  # type: ignore[attr-defined]
    assert audit_actions(session, REFUSED)[-1].after["code"] == "rate_limited"  # type: ignore[index]
    clock.set_now(dt.datetime(2026, 11, 25, 10, 1, 0, tzinfo=dt.UTC))  # the next window
    ts = int(clock.now().timestamp())
    assert _get(client, world, _headers(world, timestamp=ts)).status_code == 200  # type: ignore[attr-defined]


def test_token_needs_a_signature_and_expires(client: TestClient, session: Session, world: World) -> None:
    path = "/api/v1/consumer/token"
    r = client.post(path, headers={"Authorization": "Bearer gsa_x"})
    assert r.status_code == 401
    r = client.post(path, headers=signing.sign("POST", path, None, b"", world.system.app_key, world.secret))
    token = r.json()["access_token"]
    assert audit_actions(session, "sharing.consumer_token.issued")
    bearer = {"Authorization": f"Bearer {token}"}
    assert _get(client, world, bearer).status_code == 200  # type: ignore[attr-defined]
    clock.set_now(clock.now() + dt.timedelta(minutes=16))
    _refused(session, client, world, bearer, 401, "token_expired")


def test_the_signed_body_is_checked(client: TestClient, world: World) -> None:
    path = "/api/v1/consumer/token"
    headers = signing.sign("POST", path, None, b'{"a":1}', world.system.app_key, world.secret)
    assert client.post(path, headers=headers, content=b'{"a":2}').status_code == 401
    headers = signing.sign("POST", path, None, b'{"a":1}', world.system.app_key, world.secret)
    assert client.post(path, headers=headers, content=b'{"a":1}').status_code == 200
