"""The API channel plugin (A24.1): probes through the gateway, on the worker's schedule, recorded as runs;
probe figures over 24 hours; and the gateway streaming a body in chunks under its cap and deadline.

The upstream is a real FastAPI app under uvicorn on 127.0.0.1 (``tests/exchange/api_upstream.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.errors import ValidationFailed
from govshare.exchange import api_mounts, gateway_networks, runs, worker
from govshare.exchange.channels import SyncFailed, get_channel
from govshare.exchange.channels.api import call_parts, path_placeholders, probe_url
from govshare.exchange.gateway import (
    AllowList,
    ResponseTooLarge,
    Upstream,
    UpstreamNotAllowed,
    UpstreamTimeout,
    open_stream,
)
from govshare.exchange.models import Mount, SyncRun
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.conftest import _TestDatabase
from tests.exchange import api_upstream
from tests.exchange.api_upstream import CHUNK
from tests.exchange.api_upstream import Upstream as UpstreamServer
from tests.factories import Factory
from tests.helpers import headers, sign_in

LOOPBACK = AllowList.of(["127.0.0.0/8"])


pytestmark = pytest.mark.usefixtures("var_dir")  # upstream, allow_loopback: tests/exchange/conftest.py


@pytest.fixture
def provider(factory: Factory, allow_loopback: int) -> tuple[Department, Actor]:
    department = factory.department()
    return department, factory.compiler(department)


def _mount(session: Session, factory: Factory, provider: tuple[Department, Actor], url: str, **extra: Any) -> Mount:
    department, actor = provider
    resource = factory.resource(department, channel="api", format_class="database", items=[("男方姓名", "C")])
    extra.setdefault("probe_path", "/health")
    return api_mounts.mount_api(session, actor, resource_id=resource.id, url=url, **extra)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _run_due_probe(session: Session, database_url: str, engine: Engine, mount: Mount) -> SyncRun:
    """Claim the mount's due probe as a worker would and execute it; return the finished run."""
    db = _TestDatabase(session, database_url)
    owner = worker.new_owner()
    run_id = worker.claim(session, owner, lease_seconds=60)
    assert run_id is not None
    run = session.get(SyncRun, run_id)
    assert run is not None and run.mount_id == mount.id and run.kind == "probe"
    worker.execute(db, run_id, owner, lease_seconds=60, base_engine=engine)
    session.expire_all()
    finished = session.get(SyncRun, run_id)
    assert finished is not None
    return finished


# -- the plugin -------------------------------------------------------------------------------


def test_the_api_channel_is_registered_and_sync_is_not_applicable(
    session: Session, factory: Factory, provider: tuple[Department, Actor], upstream: UpstreamServer
) -> None:
    channel = get_channel("api")
    assert channel.name == "api"
    mount = _mount(session, factory, provider, upstream.url("/marriages"))
    with pytest.raises(SyncFailed) as caught:
        channel.sync(runs.mount_spec(session, mount), None)  # type: ignore[arg-type]
    assert caught.value.code == "sync_not_applicable" and "实时" in caught.value.detail


def test_call_parts_place_each_parameter() -> None:
    config = {
        "url": "http://10.20.1.5:8080/api/{region}/people?v=2",
        "parameters": [
            {"name": "region", "in": "path", "required": True},
            {"name": "id", "in": "query", "required": True},
            {"name": "X-Trace", "in": "header", "required": False},
            {"name": "name", "in": "body", "required": False},
        ],
    }
    parts = call_parts(config, {"region": "城关 区", "id": "6201", "X-Trace": "t1", "name": "张三"})
    assert parts.url == "http://10.20.1.5:8080/api/%E5%9F%8E%E5%85%B3%20%E5%8C%BA/people?v=2"
    assert parts.query == {"id": "6201"} and parts.headers == {"X-Trace": "t1"} and parts.body == {"name": "张三"}
    with pytest.raises(ValidationFailed) as caught:
        call_parts(config, {"region": "", "id": "1"})
    assert [e.field for e in caught.value.errors] == ["region"]
    with pytest.raises(ValidationFailed, match="控制字符"):
        call_parts(config, {"region": "a", "id": "1", "X-Trace": "t\r\nX-Evil: 1"})
    assert path_placeholders(config["url"]) == ["region"]
    assert probe_url({"url": config["url"], "probe_path": "/health?deep=1"}) == "http://10.20.1.5:8080/health?deep=1"
    assert probe_url({"url": config["url"]}) == config["url"]


@pytest.mark.article("A24.1")
def test_probe_reports_availability_and_latency(
    session: Session, factory: Factory, provider: tuple[Department, Actor], upstream: UpstreamServer
) -> None:
    channel = get_channel("api")
    up = _mount(session, factory, provider, upstream.url("/marriages"))
    ok = channel.probe(runs.mount_spec(session, up))
    assert ok.ok and ok.latency_ms >= 0 and ok.error == ""
    assert upstream.seen[-1]["path"] == "/health"  # the probe path, not the data path

    down = _mount(session, factory, provider, f"http://127.0.0.1:{api_upstream.closed_port()}/m")
    result = channel.probe(runs.mount_spec(session, down))
    assert not result.ok and "无法连接上游接口" in result.error

    broken = _mount(session, factory, provider, upstream.url("/marriages"), probe_path="/broken")
    result = channel.probe(runs.mount_spec(session, broken))
    assert not result.ok and "503" in result.error

    missing = _mount(session, factory, provider, upstream.url("/marriages"), probe_path="/nothing")
    result = channel.probe(runs.mount_spec(session, missing))
    assert not result.ok and "404" in result.error and "检测路径" in result.error


@pytest.mark.article("A24.1")
def test_probe_refuses_a_network_removed_after_registration(
    session: Session,
    factory: Factory,
    provider: tuple[Department, Actor],
    upstream: UpstreamServer,
    allow_loopback: int,
) -> None:
    mount = _mount(session, factory, provider, upstream.url("/marriages"))
    gateway_networks.remove_network(session, factory.role_actor(Role.bureau_admin), network_id=allow_loopback)
    before = len(upstream.seen)
    result = get_channel("api").probe(runs.mount_spec(session, mount))
    assert not result.ok and "白名单" in result.error
    assert len(upstream.seen) == before


# -- probes on the worker's schedule ----------------------------------------------------------


@pytest.mark.article("A24.1")
def test_the_worker_probes_on_schedule_and_records_each_probe(
    session: Session,
    factory: Factory,
    provider: tuple[Department, Actor],
    upstream: UpstreamServer,
    database_url: str,
    engine: Engine,
) -> None:
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    clock.set_now(start)
    mount = _mount(session, factory, provider, upstream.url("/marriages"))
    run = _run_due_probe(session, database_url, engine, mount)
    assert run.status == "succeeded" and run.latency_ms is not None and run.error == ""

    # the next probe is queued PROBE_INTERVAL later, and no sync is ever queued for an API mount
    pending = session.scalars(select(SyncRun).where(SyncRun.mount_id == mount.id, SyncRun.status == "queued")).all()
    assert [(p.kind, _utc(p.scheduled_for)) for p in pending] == [("probe", start + worker.PROBE_INTERVAL)]
    worker.schedule_unscheduled(session)
    assert session.scalars(select(SyncRun).where(SyncRun.mount_id == mount.id, SyncRun.kind == "sync")).all() == []

    # an hour later the upstream goes down (the registration now points at a closed port)
    clock.set_now(start + worker.PROBE_INTERVAL)
    config = dict(mount.config)
    config["url"] = f"http://127.0.0.1:{api_upstream.closed_port()}/marriages"
    mount.config = config
    session.flush()
    failed = _run_due_probe(session, database_url, engine, mount)
    assert failed.status == "failed" and "无法连接上游接口" in failed.error
    assert "127.0.0.1" not in failed.error

    stats = api_mounts.probe_stats(session, mount.id, now=start + worker.PROBE_INTERVAL)
    assert stats.count == 2 and stats.available == 1 and stats.availability_pct == 50.0
    assert stats.p50_latency_ms == run.latency_ms and stats.last_ok is False
    assert "无法连接上游接口" in stats.last_error


def test_the_scheduler_queues_probes_for_api_mounts_and_no_syncs(
    session: Session, factory: Factory, provider: tuple[Department, Actor], upstream: UpstreamServer
) -> None:
    mount = _mount(session, factory, provider, upstream.url("/marriages"))
    for run in session.scalars(select(SyncRun).where(SyncRun.mount_id == mount.id)):
        run.status = "succeeded"  # the first probe has run: nothing is pending
    session.flush()
    worker.schedule_unscheduled(session)
    queued = session.scalars(select(SyncRun).where(SyncRun.mount_id == mount.id, SyncRun.status == "queued")).all()
    assert [r.kind for r in queued] == ["probe"]


def test_probe_figures_cover_the_last_24_hours(
    session: Session, factory: Factory, provider: tuple[Department, Actor], upstream: UpstreamServer
) -> None:
    mount = _mount(session, factory, provider, upstream.url("/marriages"))
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    samples = [(1, "succeeded", 30), (2, "succeeded", 10), (3, "failed", 5000), (5, "succeeded", 20), (30, "failed", 1)]
    for hours_ago, status, latency in samples:
        at = now - dt.timedelta(hours=hours_ago)
        session.add(
            SyncRun(
                mount_id=mount.id,
                kind="probe",
                status=status,
                scheduled_for=at,
                finished_at=at,
                latency_ms=latency,
                error="" if status == "succeeded" else f"无法连接上游接口({hours_ago})",
            )
        )
    session.flush()
    stats = api_mounts.probe_stats(session, mount.id, now=now)
    assert stats.count == 4 and stats.available == 3 and stats.availability_pct == 75.0
    assert stats.p50_latency_ms == 20  # of the successful probes: 10, 20, 30
    assert stats.last_ok is True and stats.last_error == "无法连接上游接口(3)"


def test_a_manual_probe_is_recorded_and_audited(
    session: Session, factory: Factory, provider: tuple[Department, Actor], upstream: UpstreamServer
) -> None:
    _, actor = provider
    mount = _mount(session, factory, provider, upstream.url("/marriages"))
    run = api_mounts.probe_now(session, actor, mount_id=mount.id)
    assert run.kind == "probe" and run.trigger == "manual" and run.status == "succeeded"
    view = api_mounts.get_api_mount(session, actor, mount.id)
    assert view.stats.count == 1 and view.probes[0].id == run.id


# -- streaming --------------------------------------------------------------------------------


def test_the_gateway_streams_before_the_upstream_has_finished(upstream: UpstreamServer) -> None:
    upstream.release.clear()
    upstream.first_chunk_sent.clear()
    stream = open_stream(LOOPBACK, Upstream(url=upstream.url("/gated"), timeout_seconds=10))
    assert stream.status == 200 and stream.content_type.startswith("application/x-ndjson")
    chunks = stream.iter_bytes()
    first = next(chunks)
    assert first == b'{"part": 1}\n'
    assert not upstream.release.is_set()  # the upstream is still holding the rest back
    upstream.release.set()
    assert b"".join(chunks) == b'{"part": 2}\n'


def test_a_stream_is_cut_at_the_cap_and_the_deadline(upstream: UpstreamServer) -> None:
    stream = open_stream(LOOPBACK, Upstream(url=upstream.url("/bulk?chunks=40"), max_response_bytes=5 * CHUNK))
    received = 0
    with pytest.raises(ResponseTooLarge):
        for chunk in stream.iter_bytes():
            received += len(chunk)
    assert received <= 5 * CHUNK

    upstream.release.clear()
    stream = open_stream(LOOPBACK, Upstream(url=upstream.url("/gated"), timeout_seconds=0.5))
    with pytest.raises(UpstreamTimeout):
        b"".join(stream.iter_bytes())
    upstream.release.set()

    with pytest.raises(UpstreamNotAllowed):
        open_stream(AllowList.of(["10.20.0.0/16"]), Upstream(url=upstream.url("/bulk")))


@pytest.mark.article("A24.1")
def test_the_try_call_route_streams_a_large_body_intact(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Actor],
    upstream: UpstreamServer,
) -> None:
    department, _ = provider
    mount = _mount(
        session,
        factory,
        provider,
        upstream.url("/bulk"),
        parameters=[{"name": "chunks", "in": "query", "required": "true"}],
    )
    sign_in(client, session, factory.user(Role.dept_admin, department=department))
    with client.stream(
        "POST",
        f"/api/v1/exchange/api-mounts/{mount.id}/call",
        json={"params": {"chunks": "64"}},
        headers=headers(client),
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert "content-length" not in response.headers  # sent in chunks, not buffered first
        size = 0
        for i, piece in enumerate(response.iter_bytes()):
            size += len(piece)
            assert i < 10_000
    assert size == 64 * CHUNK


def test_resource_lookup_for_calls(
    session: Session, factory: Factory, provider: tuple[Department, Actor], upstream: UpstreamServer
) -> None:
    _, actor = provider
    mount = _mount(session, factory, provider, upstream.url("/marriages"))
    resource = session.get(Resource, mount.resource_id)
    assert resource is not None
    got = api_mounts.call_api(session, actor, resource_id=resource.id, params={})
    assert json.loads(got.body)["data"]["items"][0]["man"] == "张伟"
    stream = api_mounts.stream_api(session, actor, resource_id=resource.id, params={})
    assert json.loads(b"".join(stream.iter_bytes()))["code"] == 0
