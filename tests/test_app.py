"""The application shell: every response carries the request id and the security headers, and the
request's context (source IP, request id) reaches the services and the audit trail."""

from __future__ import annotations

import warnings

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from tests.helpers import csrf


def test_responses_carry_the_request_id_and_security_headers(client: TestClient) -> None:
    page = client.get("/login", headers={"X-Request-ID": "req-from-the-proxy"})
    assert page.status_code == 200
    assert page.headers["X-Request-ID"] == "req-from-the-proxy"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != client.get("/healthz").headers["X-Request-ID"]
    problem = client.get("/api/v1/no-such-thing")
    assert problem.status_code == 404 and problem.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_may_be_cached(client: TestClient) -> None:
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")
    assert css.headers["X-Frame-Options"] == "DENY"


def test_the_request_context_reaches_the_audit_trail(client: TestClient, session: Session) -> None:
    client.post(
        "/login",
        data={"username": "nobody-here", "password": "wrong-password-1", "csrf_token": csrf(client)},
        headers={"X-Request-ID": "trace-4711"},
        follow_redirects=False,
    )
    record = session.execute(select(AuditRecord).where(AuditRecord.request_id == "trace-4711")).scalar_one_or_none()
    assert record is not None and record.source_ip == "testclient"


def test_the_openapi_document_has_one_operation_id_per_operation(client: TestClient) -> None:
    """Client generators name a method after each operation id: no two operations may share one."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns about a duplicate operation id
        document = client.get("/api/openapi.json").json()
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values() if "operationId" in op]
    assert ids and len(ids) == len(set(ids))


def test_the_api_docs_say_how_a_consumer_system_signs_its_calls(client: TestClient) -> None:
    """The engineer connecting a system finds the signing rules with the consumer API's operations."""
    tags = {t["name"]: t.get("description", "") for t in client.get("/api/openapi.json").json().get("tags", [])}
    described = tags.get("数据共享接口(应用系统)", "")
    headers = ("X-GS-Key", "X-GS-Timestamp", "X-GS-Nonce", "X-GS-Signature")
    for needed in (*headers, "HMAC-SHA256", "/api/v1/consumer/token"):
        assert needed in described
