"""The ``govshare`` command. Each domain adds its group in its own module here."""

from __future__ import annotations

import typer

from govshare.cli import audit, backup, core

app = typer.Typer(help="兰州市政务数据共享交换平台 govshare 命令行", no_args_is_help=True, add_completion=False)
core.register(app)
app.add_typer(audit.app, name="audit", help="审计日志")
app.command(name="backup")(backup.backup)
app.command(name="restore")(backup.restore)


def main() -> None:
    app()
