from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.config import get_settings
from govshare.identity import auth
from govshare.identity.actor import RequestContext
from govshare.identity.models import LoginAlert
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.kit.crypto import decrypt
from tests.factories import PASSWORD, Factory
from tests.helpers import login


@pytest.mark.article("A31.1")
def test_login_logout_and_session_end(client: TestClient, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    assert login(client, user.username) == 303
    assert client.get("/api/v1/me").json()["username"] == user.username
    token = client.cookies["gs_csrf"]
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.article("A31.1")
def test_lockout_after_five_failures(client: TestClient, factory: Factory, session: Session) -> None:
    user = factory.user(Role.dept_user)
    for _ in range(5):
        assert login(client, user.username, "wrong-Password1") == 401
    assert login(client, user.username) == 401  # locked even with the right password
    actions = (
        session.execute(
            select(AuditRecord.action).where(AuditRecord.object_id == str(user.id), AuditRecord.object_type == "user")
        )
        .scalars()
        .all()
    )
    assert actions.count("identity.login.failed") >= 4
    assert "identity.login.locked" in actions
    clock.set_now(clock.now() + dt.timedelta(minutes=16))
    assert login(client, user.username) == 303


def test_post_without_csrf_is_refused(client: TestClient, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    assert login(client, user.username) == 303
    r = client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403


@pytest.mark.article("A31.1")
def test_idle_timeout_ends_session(client: TestClient, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    assert login(client, user.username) == 303
    clock.set_now(clock.now() + dt.timedelta(minutes=31))
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["code"] == "session_idle"


@pytest.mark.article("A31.1")
def test_password_change_ends_other_sessions(app: object, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    with TestClient(app) as first, TestClient(app) as second:  # type: ignore[arg-type]
        assert login(first, user.username) == 303
        assert login(second, user.username) == 303
        r = second.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "New-Passw0rd-2026"},
            headers={"X-CSRF-Token": second.cookies["gs_csrf"]},
        )
        assert r.status_code == 204
        assert first.get("/api/v1/me").status_code == 401
        assert second.get("/api/v1/me").status_code == 200


def test_weak_password_refused_in_chinese(client: TestClient, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    assert login(client, user.username) == 303
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "abc"},
        headers={"X-CSRF-Token": client.cookies["gs_csrf"]},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "密码不符合复杂度要求" in r.json()["detail"]


@pytest.mark.article("A31.1")
def test_bureau_role_requires_totp(client: TestClient, factory: Factory, session: Session) -> None:
    user = factory.user(Role.bureau_reviewer)
    assert login(client, user.username) == 303
    assert client.get("/api/v1/me").json()["code"] == "mfa_required"
    page = client.get("/login/mfa")
    assert page.status_code == 200 and "密钥" in page.text
    session.refresh(user)
    secret = decrypt(user.totp_secret or "", get_settings().security.data_key)
    assert (
        client.post("/login/mfa", data={"code": "000000", "csrf_token": client.cookies["gs_csrf"]}).status_code == 401
    )
    code = pyotp.TOTP(secret).now()
    r = client.post("/login/mfa", data={"code": code, "csrf_token": client.cookies["gs_csrf"]}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.article("A36.1")
def test_concurrent_use_from_two_places_raises_alert(session: Session, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    assert auth.login(session, RequestContext(source_ip="10.0.0.1"), user.username, PASSWORD).ok
    assert auth.login(session, RequestContext(source_ip="10.0.0.2"), user.username, PASSWORD).ok
    alerts = session.execute(select(LoginAlert).where(LoginAlert.user_id == user.id)).scalars().all()
    assert len(alerts) == 1
    assert alerts[0].detail["other_ips"] == ["10.0.0.1"]


def test_personal_api_token(client: TestClient, factory: Factory, session: Session) -> None:
    user = factory.user(Role.dept_user)
    _, value = auth.create_api_token(session, factory.actor(user), name="脚本")
    fresh = TestClient(client.app)
    r = fresh.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert r.status_code == 200 and r.json()["username"] == user.username
    assert fresh.get("/api/v1/me", headers={"Authorization": "Bearer gst_nope"}).status_code == 401


@pytest.mark.article("A31.1")
def test_temporary_password_allows_nothing_but_changing_it(
    client: TestClient, factory: Factory, session: Session
) -> None:
    user = factory.user(Role.dept_user)
    user.must_change_password = True
    session.flush()
    assert login(client, user.username) == 303
    r = client.get("/api/v1/catalog/resources")
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"
    assert client.get("/catalog", follow_redirects=False).headers["location"].startswith("/account")
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "Fresh-Passw0rd-99"},
        headers={"X-CSRF-Token": client.cookies["gs_csrf"]},
    )
    assert r.status_code == 204
    assert client.get("/api/v1/catalog/resources").status_code == 200
