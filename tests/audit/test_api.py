"""The auditor's JSON API and pages: filtered keyset listing, a record's detail, the CSV export
(streamed, formula-safe, itself recorded) and the hash-chain check (A31.2, A40.1)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from govshare.audit import service
from govshare.audit.actions import Action
from govshare.audit.export import safe_cell
from govshare.audit.models import AuditRecord
from govshare.identity.actor import Actor, RequestContext
from govshare.identity.permissions import Role
from tests.factories import Factory
from tests.helpers import csrf, headers, sign_in


@pytest.fixture
def auditor_client(client: TestClient, session: Session, factory: Factory) -> TestClient:
    sign_in(client, session, factory.user(Role.auditor, department=factory.bureau()))
    return client


def _seed(session: Session, n: int) -> list[AuditRecord]:
    actor = Actor.system(RequestContext(source_ip="10.5.5.5"), name="seeder")
    records = [
        service.record(
            session, actor, Action.office_created, object_type="office", object_id=i, after={"name": f"处{i}"}
        )
        for i in range(n)
    ]
    session.commit()
    return records


@pytest.mark.article("A40.1")
def test_records_api_filters_and_cursor(auditor_client: TestClient, session: Session) -> None:
    records = _seed(session, 5)
    r = auditor_client.get("/api/v1/audit/records", params={"action": "identity.office", "limit": 2})
    assert r.status_code == 200
    body = r.json()
    assert [i["id"] for i in body["items"]] == [records[4].id, records[3].id]
    assert body["newer_cursor"] is None
    r = auditor_client.get(
        "/api/v1/audit/records", params={"action": "identity.office", "limit": 2, "before": body["older_cursor"]}
    )
    assert [i["id"] for i in r.json()["items"]] == [records[2].id, records[1].id]
    one = auditor_client.get(f"/api/v1/audit/records/{records[0].id}").json()
    assert one["after"] == {"name": "处0"} and one["hash"] == records[0].hash
    r = auditor_client.get("/api/v1/audit/records", params={"since": "2020-13-01"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.article("A40.1")
@pytest.mark.article("A31.1")
def test_system_administrator_cannot_read_the_trail_and_the_denial_is_recorded(
    client: TestClient, session: Session, factory: Factory
) -> None:
    admin = factory.user(Role.bureau_admin)
    sign_in(client, session, admin)
    for url in ("/api/v1/audit/records", "/api/v1/audit/export.csv", "/audit"):
        assert client.get(url).status_code == 403
    assert client.post("/api/v1/audit/verify", headers=headers(client)).status_code == 403
    denials = (
        session.execute(
            select(AuditRecord).where(AuditRecord.action == "identity.access.denied", AuditRecord.actor_id == admin.id)
        )
        .scalars()
        .all()
    )
    assert {d.object_id for d in denials} >= {"GET /api/v1/audit/records", "POST /api/v1/audit/verify"}
    assert all(d.outcome == "denied" for d in denials)


@pytest.mark.article("A40.1")
def test_nothing_writes_records_through_the_api(auditor_client: TestClient, session: Session) -> None:
    records = _seed(session, 1)
    url = f"/api/v1/audit/records/{records[0].id}"
    for method in ("PUT", "PATCH", "DELETE"):
        assert auditor_client.request(method, url, headers=headers(auditor_client)).status_code == 405
    assert auditor_client.post("/api/v1/audit/records", json={}, headers=headers(auditor_client)).status_code == 405


def test_csv_cells_cannot_become_formulas() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [safe_cell(v) for v in ("+1", "-2", "@SUM(A1)", "\tx", "\rx")] == ["'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx"]
    assert safe_cell("市民政局") == "市民政局" and safe_cell(None) == "" and safe_cell(12) == "12"


@pytest.mark.article("A40.1")
def test_export_streams_csv_and_is_recorded(auditor_client: TestClient, session: Session) -> None:
    actor = Actor.system(RequestContext(source_ip="10.5.5.6"), name="=cmd|' /C calc'!A0")
    service.record(session, actor, Action.office_created, object_type="office", object_id="=1+1", after={"n": 1})
    _seed(session, 3)
    r = auditor_client.get("/api/v1/audit/export.csv", params={"action": "identity.office"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "时间(北京时间)", "操作人账号"]
    assert len(rows) == 1 + 4
    assert rows[1][2] == "'=cmd|' /C calc'!A0" and rows[1][8] == "'=1+1"
    exported = session.execute(select(AuditRecord).where(AuditRecord.action == "audit.trail.exported")).scalar_one()
    assert exported.after is not None and exported.after["filters"] == {"action_prefix": "identity.office"}
    # The export's own record came after the rows it covers and is not in the file.
    assert int(rows[-1][0]) < exported.seq


@pytest.mark.article("A31.2")
def test_verify_api_and_page(auditor_client: TestClient, session: Session) -> None:
    records = _seed(session, 4)
    r = auditor_client.post("/api/v1/audit/verify", headers=headers(auditor_client))
    assert r.status_code == 200 and r.json()["ok"] is True
    session.execute(text("UPDATE audit_record SET actor_name = 'x' WHERE id = :i"), {"i": records[1].id})
    session.commit()
    r = auditor_client.post("/api/v1/audit/verify", headers=headers(auditor_client))
    body = r.json()
    assert body["ok"] is False and body["finding"]["record_id"] == records[1].id
    page = auditor_client.post("/audit/verify", data={"csrf_token": csrf(auditor_client)})
    assert page.status_code == 200 and "校验失败" in page.text and f"/audit/records/{records[1].id}" in page.text
    outcomes = (
        session.execute(
            select(AuditRecord.outcome).where(AuditRecord.action == "audit.trail.verified").order_by(AuditRecord.seq)
        )
        .scalars()
        .all()
    )
    assert outcomes == ["success", "alert", "alert"]


@pytest.mark.article("A40.1")
def test_audit_pages(auditor_client: TestClient, session: Session) -> None:
    records = _seed(session, 60)
    page = auditor_client.get("/audit", params={"action": "identity.office"})
    assert page.status_code == 200 and "校验哈希链" in page.text and "下一页(较早)" in page.text
    assert f"/audit/records/{records[-1].id}" in page.text and f"/audit/records/{records[5].id}" not in page.text
    older = auditor_client.get("/audit", params={"action": "identity.office", "before": records[10].id})
    assert f"/audit/records/{records[5].id}" in older.text and "上一页(较新)" in older.text
    detail = auditor_client.get(f"/audit/records/{records[3].id}")
    assert detail.status_code == 200 and "处3" in detail.text and records[3].hash in detail.text
    home = auditor_client.get("/")
    assert "近 7 日拒绝访问与登录失败" in home.text


@pytest.mark.article("A31.2")
def test_no_route_writes_the_trail(app: object) -> None:
    """The only unsafe audit route is the verification, which appends its own record via record()."""
    from fastapi.routing import iter_route_contexts

    unsafe = sorted(
        (method, str(ctx.path))
        for ctx in iter_route_contexts(app.routes)  # type: ignore[attr-defined]
        if str(ctx.path or "").startswith(("/api/v1/audit", "/audit"))
        for method in (ctx.methods or ())
        if method not in ("GET", "HEAD")
    )
    assert unsafe == [("POST", "/api/v1/audit/verify"), ("POST", "/audit/verify")]
