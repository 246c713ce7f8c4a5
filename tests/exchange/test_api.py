"""The exchange JSON API: table mounts with write-only secrets, pause/resume, runs and probes (A24.2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.exchange import base, mounts, runs, worker
from govshare.exchange.channels import RunEnv
from govshare.exchange.channels.table import TableChannel
from govshare.exchange.models import Mount, SyncRun
from govshare.exchange.schemas import TableMountUpdate
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from tests.exchange import table_sources
from tests.exchange.mounting import SOURCE_PASSWORD, mapping_of, mount_people, people_resource, sqlite_source
from tests.factories import Factory
from tests.helpers import headers, sign_in

REMOTE_URL = "postgresql://reader@10.20.1.5:5432/population"


def _admin(client: TestClient, session: Session, factory: Factory, department: Department) -> None:
    sign_in(client, session, factory.user(Role.dept_admin, department=department))


def _body(session: Session, resource: Any, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resource_id": resource.id,
        "url": REMOTE_URL,
        "password": SOURCE_PASSWORD,
        "table": "public.people",
        "mapping": {str(k): v for k, v in mapping_of(session, resource).items()},
        "sync_mode": "incremental",
        "watermark_column": "seq",
        "key_column": "id",
        "test_url": "postgresql://probe@10.20.1.5:5432/population",
        "test_password": "probe-口令-2",
        "test_table": "public.people_sample",
    }
    body.update(overrides)
    return body


def _audit_text(session: Session) -> str:
    rows = session.scalars(select(AuditRecord)).all()
    return json.dumps([[r.action, r.before, r.after] for r in rows], ensure_ascii=False, default=str)


@pytest.mark.article("A24.2")
def test_a_provider_mounts_a_table_and_the_password_is_never_returned_or_audited(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    _admin(client, session, factory, department)
    r = client.post("/api/v1/exchange/mounts", json=_body(session, resource), headers=headers(client))
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["has_password"] and data["has_test_password"] and data["status"] == "active"
    assert data["url"] == "postgresql+psycopg://reader@10.20.1.5:5432/population"
    assert data["mapping"] == {str(k): v for k, v in mapping_of(session, resource).items()}
    for path in ("/api/v1/exchange/mounts", f"/api/v1/exchange/mounts/{data['id']}"):
        got = client.get(path)
        assert got.status_code == 200
        assert SOURCE_PASSWORD not in got.text and "probe-口令-2" not in got.text and 'password":"' not in got.text
    assert SOURCE_PASSWORD not in r.text
    mount = session.get(Mount, data["id"])
    assert mount is not None and SOURCE_PASSWORD not in mount.secret_encrypted
    assert runs.mount_spec(session, mount).secret == {"password": SOURCE_PASSWORD, "test_password": "probe-口令-2"}
    audit = _audit_text(session)
    assert "exchange.mount.created" in audit and SOURCE_PASSWORD not in audit and "probe-口令-2" not in audit
    # one table mount per resource
    again = client.post("/api/v1/exchange/mounts", json=_body(session, resource), headers=headers(client))
    assert again.status_code == 409 and again.json()["code"] == "mount_exists"


@pytest.mark.article("A24.2")
def test_bad_mounts_are_refused_with_chinese_field_errors(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    _admin(client, session, factory, department)
    r = client.post(
        "/api/v1/exchange/mounts",
        json=_body(session, resource, watermark_column="", key_column="x"),
        headers=headers(client),
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"watermark_column", "key_column"} <= fields
    api_resource = people_resource(factory, department, channel="api")
    r = client.post("/api/v1/exchange/mounts", json=_body(session, api_resource), headers=headers(client))
    assert r.status_code == 422 and "共享方式不是库表交换" in r.text
    assert session.scalars(select(Mount)).first() is None  # bad input changes nothing


@pytest.mark.article("A24.2")
def test_another_department_cannot_see_or_edit_and_a_dept_user_cannot_mount(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    mount = runs.mount_table(
        session,
        factory.compiler(department),
        resource_id=resource.id,
        url=REMOTE_URL,
        table="people",
        mapping=mapping_of(session, resource),
    )
    other = factory.department()
    _admin(client, session, factory, other)
    assert client.get(f"/api/v1/exchange/mounts/{mount.id}").status_code == 404
    assert client.get("/api/v1/exchange/mounts").json() == []
    patch = client.patch(f"/api/v1/exchange/mounts/{mount.id}", json={"table": "x"}, headers=headers(client))
    assert patch.status_code == 404
    assert client.get(f"/api/v1/exchange/mounts/{mount.id}/runs").status_code == 404
    run = client.post(f"/api/v1/exchange/mounts/{mount.id}/runs", json={"kind": "sync"}, headers=headers(client))
    assert run.status_code == 404
    stolen = client.post("/api/v1/exchange/mounts", json=_body(session, resource), headers=headers(client))
    assert stolen.status_code == 403
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_user, department=department))
    refused = client.post("/api/v1/exchange/mounts", json=_body(session, resource), headers=headers(client))
    assert refused.status_code == 403
    assert client.get(f"/api/v1/exchange/mounts/{mount.id}").status_code == 404


@pytest.mark.article("A24.2")
def test_editing_keeps_the_secret_unless_a_new_one_is_typed(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    _admin(client, session, factory, department)
    created = client.post("/api/v1/exchange/mounts", json=_body(session, resource), headers=headers(client)).json()
    url = f"/api/v1/exchange/mounts/{created['id']}"
    assert (created["full_refresh_days"], created["full_refresh_pending"]) == (7, False)
    r = client.patch(url, json={"table": "public.people_v2", "expected_version": 1}, headers=headers(client))
    assert r.status_code == 200, r.text
    assert r.json()["table"] == "public.people_v2" and r.json()["has_password"] and r.json()["version"] == 2
    assert r.json()["full_refresh_pending"]  # a new source table: the next run loads in full
    bad = client.patch(url, json={"full_refresh_days": 400}, headers=headers(client))
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["full_refresh_days"]
    assert "0 至 366 天" in bad.text
    r = client.patch(url, json={"full_refresh_days": 30}, headers=headers(client))
    assert r.status_code == 200 and r.json()["full_refresh_days"] == 30
    mount = session.get(Mount, created["id"])
    assert mount is not None
    assert runs.mount_spec(session, mount).secret["password"] == SOURCE_PASSWORD
    stale = client.patch(url, json={"table": "x", "expected_version": 1}, headers=headers(client))
    assert stale.status_code == 409
    r = client.patch(url, json={"password": "新口令-2026"}, headers=headers(client))
    assert r.status_code == 200
    assert runs.mount_spec(session, mount).secret["password"] == "新口令-2026"
    audit = _audit_text(session)
    assert "exchange.mount.updated" in audit and "exchange.mount.secret_replaced" in audit
    assert "新口令-2026" not in audit and SOURCE_PASSWORD not in audit


@pytest.mark.article("A24.2")
def test_pause_cancels_queued_runs_and_refuses_new_ones_until_resumed(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    _admin(client, session, factory, department)
    created = client.post("/api/v1/exchange/mounts", json=_body(session, resource), headers=headers(client)).json()
    mount_id = created["id"]
    first = client.post(f"/api/v1/exchange/mounts/{mount_id}/runs", json={"kind": "sync"}, headers=headers(client))
    assert first.status_code == 202 and first.json()["status"] == "queued" and first.json()["trigger"] == "manual"
    same = client.post(f"/api/v1/exchange/mounts/{mount_id}/runs", json={"kind": "sync"}, headers=headers(client))
    assert same.json()["id"] == first.json()["id"]  # one due run of a kind at a time
    probe = client.post(f"/api/v1/exchange/mounts/{mount_id}/runs", json={"kind": "probe"}, headers=headers(client))
    assert probe.status_code == 202 and probe.json()["kind"] == "probe"
    bad = client.post(f"/api/v1/exchange/mounts/{mount_id}/runs", json={"kind": "delete"}, headers=headers(client))
    assert bad.status_code == 422
    paused = client.patch(f"/api/v1/exchange/mounts/{mount_id}", json={"status": "paused"}, headers=headers(client))
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    statuses = {r.status for r in session.scalars(select(SyncRun).where(SyncRun.mount_id == mount_id))}
    assert statuses == {"cancelled"}
    refused = client.post(f"/api/v1/exchange/mounts/{mount_id}/runs", json={"kind": "sync"}, headers=headers(client))
    assert refused.status_code == 409 and refused.json()["code"] == "mount_paused"
    resumed = client.patch(f"/api/v1/exchange/mounts/{mount_id}", json={"status": "active"}, headers=headers(client))
    assert resumed.json()["status"] == "active"
    audit = _audit_text(session)
    assert "exchange.mount.paused" in audit and "exchange.mount.resumed" in audit
    listed = client.get(f"/api/v1/exchange/mounts/{mount_id}/runs").json()
    assert [r["status"] for r in listed] == ["cancelled", "cancelled"]
    detail = client.get(f"/api/v1/exchange/runs/{listed[0]['id']}")
    assert detail.status_code == 200 and detail.json()["error"] == "挂载已暂停,作业已取消"


@pytest.mark.article("A24.2")
def test_check_connection_probes_the_test_table_and_records_the_result(
    client: TestClient, session: Session, factory: Factory, tmp_path: Path
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    source = sqlite_source(tmp_path)
    source.create(5)
    _admin(client, session, factory, department)
    body = _body(session, resource, url=source.url, table="people", test_url="", test_password="", test_table="")
    created = client.post("/api/v1/exchange/mounts", json=body, headers=headers(client)).json()
    assert created["has_password"] is False  # a SQLite file has none
    ok = client.post(f"/api/v1/exchange/mounts/{created['id']}/probe", headers=headers(client))
    assert ok.status_code == 200
    assert ok.json()["status"] == "succeeded" and ok.json()["latency_ms"] >= 0 and ok.json()["kind"] == "probe"
    client.patch(f"/api/v1/exchange/mounts/{created['id']}", json={"test_table": "missing"}, headers=headers(client))
    failed = client.post(f"/api/v1/exchange/mounts/{created['id']}/probe", headers=headers(client)).json()
    assert failed["status"] == "failed" and failed["error"] == "无法连接源数据库或读取测试表"
    assert str(tmp_path) not in json.dumps(failed)


def test_monitors_read_mounts_and_runs_but_cannot_change_them(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    mount = runs.mount_table(
        session,
        factory.compiler(department),
        resource_id=resource.id,
        url=REMOTE_URL,
        table="people",
        mapping=mapping_of(session, resource),
    )
    sign_in(client, session, factory.user(Role.auditor))
    assert client.get(f"/api/v1/exchange/mounts/{mount.id}").status_code == 200
    assert client.get(f"/api/v1/exchange/mounts/{mount.id}/runs").status_code == 200
    assert client.patch(f"/api/v1/exchange/mounts/{mount.id}", json={}, headers=headers(client)).status_code == 403


@pytest.mark.article("A24.2")
def test_an_edited_mapping_makes_the_next_incremental_run_a_full_load(
    session: Session, factory: Factory, tmp_path: Path, database_url: str
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    source = sqlite_source(tmp_path)
    source.create(50)
    mount = mount_people(session, factory, department, resource, source, sync_mode="incremental")
    engines = table_sources.base_database(tmp_path, database_url)
    base_engine = next(engines)
    try:
        channel = TableChannel()
        assert channel.sync(runs.mount_spec(session, mount), RunEnv(base=base_engine)).rows == 50
        assert channel.sync(runs.mount_spec(session, mount), RunEnv(base=base_engine)).rows == 0  # nothing new
        mapping = mapping_of(session, resource)
        phone_id = next(i for i, column in mapping.items() if column == "phone")
        del mapping[phone_id]
        mounts.update_table_mount(session, factory.compiler(department), mount.id, TableMountUpdate(mapping=mapping))
        outcome = channel.sync(runs.mount_spec(session, mount), RunEnv(base=base_engine))
        assert outcome.rows == 50  # a full load into the new shape
        columns = {c["name"] for c in inspect(base_engine).get_columns(base.table_name(resource.id))}
        assert base.column_name(phone_id) not in columns and len(columns) == len(mapping)
    finally:
        engines.close()


@pytest.mark.article("A24.2")
def test_a_mount_paused_while_its_run_works_gets_no_next_run(
    app: Any, session: Session, factory: Factory, tmp_path: Path, database_url: str
) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    source = sqlite_source(tmp_path)
    source.create(20)
    mount = mount_people(session, factory, department, resource, source)
    compiler = factory.compiler(department)
    run = runs.request_run(session, compiler, mount_id=mount.id)
    assert worker.claim_run(session, run.id, "worker-x", lease_seconds=60)
    mounts.set_status(session, compiler, mount.id, "paused")
    engines = table_sources.base_database(tmp_path, database_url)
    try:
        assert worker.execute(app.state.db, run.id, "worker-x", base_engine=next(engines)) == "succeeded"
    finally:
        engines.close()
    left = session.scalars(select(SyncRun).where(SyncRun.mount_id == mount.id, SyncRun.status == "queued")).all()
    assert left == []
