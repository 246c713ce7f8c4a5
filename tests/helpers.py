"""HTTP helpers shared by API and page tests: signing in (with the second factor when the role
needs one) and the CSRF header for unsafe requests."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.config import get_settings
from govshare.identity.models import User
from govshare.kit.crypto import decrypt
from tests.factories import PASSWORD


def csrf(client: TestClient) -> str:
    """The CSRF token of ``client`` (fetching the login page once sets the cookie)."""
    token = client.cookies.get("gs_csrf")
    if not token:
        client.get("/login")
        token = client.cookies["gs_csrf"]
    return str(token)


def login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    """Post the login form; returns the status (303 on success)."""
    token = csrf(client)
    r = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )
    return int(r.status_code)


def sign_in(client: TestClient, session: Session, user: User) -> None:
    """Sign ``user`` in completely: password, then TOTP enrolment and code for roles that need it."""
    r = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    if r.headers.get("location", "").startswith("/login/mfa"):
        assert client.get("/login/mfa").status_code == 200
        session.refresh(user)
        secret = decrypt(user.totp_secret or "", get_settings().security.data_key)
        r = client.post(
            "/login/mfa",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text


def headers(client: TestClient) -> dict[str, str]:
    """Headers for a JSON request that changes something (the CSRF double-submit header)."""
    return {"X-CSRF-Token": csrf(client)}
