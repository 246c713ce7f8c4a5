"""govshare calendar show | load | add | set | unset, on a fresh SQLite file of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from govshare.calendar import service
from govshare.cli import app
from govshare.config import get_settings

EXAMPLE = Path(service.__file__).resolve().parent / "examples" / "2027.example.csv"


def test_calendar_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", f"sqlite:///{(tmp_path / 'cli.db').as_posix()}")
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["init"]).exit_code == 0

        result = runner.invoke(app, ["calendar", "add", "2026-09-28", "10"])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == "2026-10-16(星期五)"

        result = runner.invoke(app, ["calendar", "add", "2026-12-28", "10"])
        assert result.stdout.strip() == "2027-01-11(星期一,暂定)"
        assert "暂定" in result.stderr

        result = runner.invoke(app, ["calendar", "show", "2027"])
        assert result.exit_code == 0 and "2027 年:暂定" in result.stdout

        bad = tmp_path / "bad.csv"
        bad.write_text("2027-01-01,休\n2027-01-01,班\n", encoding="utf-8")
        result = runner.invoke(app, ["calendar", "load", str(bad)])
        assert result.exit_code == 1 and "第 2 行第 1 列:日期 2027-01-01 重复" in result.stderr

        result = runner.invoke(app, ["calendar", "load", str(EXAMPLE), "--source", "测试依据", "--year", "2027"])
        assert result.exit_code == 0, result.output
        assert "已载入 2027 年" in result.stdout and "依据:测试依据" in result.stdout

        result = runner.invoke(app, ["calendar", "show", "2027"])
        assert "2027 年:管理员已载入" in result.stdout and "2027-02-20" in result.stdout

        result = runner.invoke(app, ["calendar", "add", "2026-12-28", "10"])
        assert result.stdout.strip() == "2027-01-12(星期二)"

        result = runner.invoke(app, ["calendar", "set", "2027-01-12", "休", "--note", "测试更正"])
        assert result.exit_code == 0, result.output
        assert runner.invoke(app, ["calendar", "add", "2026-12-28", "10"]).stdout.strip() == "2027-01-13(星期三)"
        assert runner.invoke(app, ["calendar", "unset", "2027-01-12"]).exit_code == 0
        result = runner.invoke(app, ["calendar", "unset", "2027-01-12"])
        assert result.exit_code == 1 and "没有更正记录" in result.stderr

        result = runner.invoke(app, ["calendar", "add", "2026-13-01", "1"])
        assert result.exit_code == 1 and "无效" in result.stderr
    finally:
        get_settings.cache_clear()
