"""The sign-in page in a real browser against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from govshare.identity.actor import Actor
from govshare.identity.permissions import Role
from govshare.identity.reference import bureau
from govshare.identity.service import create_user
from tests.browser import LiveServer
from tests.factories import PASSWORD


@pytest.mark.browser
@pytest.mark.article("A31.1")
def test_sign_in_and_out_in_browser(live_server: LiveServer, page: Any) -> None:
    with live_server.db.session_scope() as session:
        create_user(
            session,
            Actor.system(),
            username="browser_auditor",
            display_name="审计员甲",
            department_id=bureau(session).id,
            password=PASSWORD,
            roles=[(Role.auditor, None)],
            must_change_password=False,
        )
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url
    page.fill("input[name=username]", "browser_auditor")
    page.fill("input[name=password]", "wrong-Passw0rd")
    page.click("button[type=submit]")
    assert "账号或密码错误" in page.inner_text("p.error")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "工作台" in page.inner_text("h1")
    page.click("text=退出")
    page.wait_for_url("**/login")
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url
