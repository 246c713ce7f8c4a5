"""Errors are rendered in one place: problem+json with a stable code and a Chinese detail for the API,
an error page for the pages; never a stack trace, SQL or a connection string."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.identity.permissions import Role
from tests.factories import Factory
from tests.helpers import headers, sign_in

CJK = re.compile(r"[\u4e00-\u9fff]")
LEAKS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "sqlite3", "SELECT ", "postgresql://", "sqlite:///")


def _assert_problem(r: httpx.Response, status: int, code: str | None = None) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "code", "instance"} <= set(body)
    assert body["status"] == status
    assert str(body["type"]).startswith("urn:govshare:problem:")
    assert CJK.search(str(body["detail"])) and CJK.search(str(body["title"]))
    if code is not None:
        assert body["code"] == code
    for leak in LEAKS:
        assert leak not in r.text
    return dict(body)


@pytest.fixture
def staff(client: TestClient, session: Session, factory: Factory) -> TestClient:
    sign_in(client, session, factory.user(Role.dept_user))
    return client


def test_401_when_not_signed_in(client: TestClient) -> None:
    body = _assert_problem(client.get("/api/v1/identity/departments"), 401, "not_signed_in")
    assert body["detail"] == "请先登录"
    _assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer gst_forged"}), 401, "token_invalid")


def test_403_without_the_permission(staff: TestClient) -> None:
    body = _assert_problem(staff.get("/api/v1/audit/records"), 403, "permission_denied")
    assert "audit:read" in str(body["detail"])
    _assert_problem(staff.post("/api/v1/identity/departments", json={}, headers={}), 403, "csrf_failed")


def test_404_for_unknown_paths_and_objects(staff: TestClient) -> None:
    _assert_problem(staff.get("/api/v1/no-such-thing"), 404, "http_404")
    _assert_problem(staff.get("/api/v1/identity/users/987654321"), 404, "user_not_found")
    _assert_problem(staff.get("/api/v1/identity/departments/987654321"), 404, "department_not_found")


def test_405_for_a_wrong_method(staff: TestClient) -> None:
    _assert_problem(staff.delete("/api/v1/me", headers=headers(staff)), 405, "http_405")


def test_422_lists_the_fields_in_chinese(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.bureau_admin))
    r = client.post("/api/v1/identity/departments", json={"name": ""}, headers=headers(client))
    body = _assert_problem(r, 422, "validation_failed")
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert {"name", "uscc", "region_id"} <= fields
    r = client.post(
        "/api/v1/identity/departments",
        json={"name": "某局", "uscc": "123", "region_id": 2},
        headers=headers(client),
    )
    body = _assert_problem(r, 422, "validation_failed")
    assert "统一社会信用代码应为18位" in str(body["detail"])
    assert body["errors"] == [{"field": "uscc", "message": "统一社会信用代码应为18位"}]
    _assert_problem(client.get("/api/v1/identity/users?page=0"), 422, "validation_failed")


@pytest.fixture
def exploding_app(app: FastAPI) -> Iterator[FastAPI]:
    @app.get("/api/v1/_boom")
    @app.get("/_boom")
    def boom() -> None:
        raise RuntimeError("connection to postgresql://admin:secret@db failed: SELECT * FROM app_user")

    yield app


def test_500_hides_the_cause(exploding_app: FastAPI) -> None:
    with TestClient(exploding_app, raise_server_exceptions=False) as c:
        body = _assert_problem(c.get("/api/v1/_boom"), 500, "internal_error")
        assert "secret" not in str(body)
        page = c.get("/_boom")
        assert page.status_code == 500 and "服务器内部错误" in page.text
        for leak in (*LEAKS, "secret"):
            assert leak not in page.text


def test_pages_render_an_error_message(client: TestClient, session: Session, factory: Factory) -> None:
    r = client.get("/identity/departments", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    sign_in(client, session, factory.user(Role.dept_user))
    for url, status, text in (
        ("/audit", 403, "无权执行此操作"),
        ("/identity/users/987654321", 404, "账号不存在"),
        ("/no-such-page", 404, "请求的地址不存在"),
        ("/identity/users?page=abc", 422, "输入有误"),
    ):
        page = client.get(url)
        assert page.status_code == status, url
        assert page.headers["content-type"].startswith("text/html")
        assert text in page.text and "回到工作台" in page.text
        for leak in LEAKS:
            assert leak not in page.text
