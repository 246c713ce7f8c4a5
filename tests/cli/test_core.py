from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from govshare.cli import app
from govshare.config import get_settings
from govshare.db import Database
from govshare.identity.models import User


def test_create_admin_opens_the_first_bureau_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{(tmp_path / 'p.db').as_posix()}"
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        weak = runner.invoke(app, ["create-admin", "admin"], input="short\nshort\n")
        assert weak.exit_code == 1 and "密码不符合复杂度要求" in weak.output
        ok = runner.invoke(
            app, ["create-admin", "admin", "--name", "王管理"], input="Strong-Passw0rd!\nStrong-Passw0rd!\n"
        )
        assert ok.exit_code == 0, ok.output
        db = Database(url)
        with db.session_scope() as s:
            user = s.execute(select(User).where(User.username == "admin")).scalar_one()
            assert [a.role for a in user.roles] == ["bureau_admin"] and user.must_change_password
        db.dispose()
    finally:
        get_settings.cache_clear()
