"""Backup and restore round trip on the database kind under test (A30.1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from govshare.cli import app
from govshare.config import get_settings
from govshare.db import Database
from govshare.identity.models import Department
from tests import pg


@contextmanager
def _platform_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    if not database_url.startswith("postgres"):
        yield f"sqlite:///{(tmp_path / 'platform.db').as_posix()}"
        return
    with pg.scratch_database(database_url, "_backup") as url:
        yield url


@pytest.mark.article("A30.1")
def test_backup_then_restore_brings_back_the_data(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _platform_database(database_url, tmp_path) as url:
        _round_trip(url, tmp_path, monkeypatch)


def _round_trip(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["init"]).exit_code == 0
        db = Database(url)

        def departments() -> int:
            with db.session_scope() as s:
                return int(s.execute(select(func.count()).select_from(Department)).scalar_one())

        before = departments()
        result = runner.invoke(app, ["backup", str(tmp_path / "backups")])
        assert result.exit_code == 0, result.output
        backup_dir = next((tmp_path / "backups").iterdir())
        with db.session_scope() as s:
            s.execute(text("DELETE FROM department WHERE is_bureau = :f"), {"f": True})
        assert departments() == before - 1
        db.dispose()
        assert runner.invoke(app, ["restore", str(backup_dir)]).exit_code == 2  # needs --yes
        result = runner.invoke(app, ["restore", str(backup_dir), "--yes"])
        assert result.exit_code == 0, result.output
        db = Database(url)
        assert departments() == before
        db.dispose()
    finally:
        get_settings.cache_clear()
