"""The ``govshare`` command. Each domain adds its group in its own module here."""

from __future__ import annotations

import typer

from govshare.cli import audit, backup, calendar, core, demo
from govshare.cli import catalog as catalog_cli
from govshare.cli import exchange as exchange_cli
from govshare.cli import search as search_cli

app = typer.Typer(help="兰州市政务数据共享交换平台 govshare 命令行", no_args_is_help=True, add_completion=False)
core.register(app)
catalog_cli.register(app)  # govshare import / export
app.add_typer(audit.app, name="audit", help="审计日志")
app.add_typer(calendar.app, name="calendar", help="工作日历:查看、载入、更正与推算截止日期")
app.command(name="backup")(backup.backup)
app.command(name="restore")(backup.restore)
app.command(name="demo")(demo.demo)
app.command(name="reindex")(search_cli.reindex)
app.command(name="worker")(exchange_cli.run_worker)
app.command(name="sync")(exchange_cli.sync)


def main() -> None:
    app()
