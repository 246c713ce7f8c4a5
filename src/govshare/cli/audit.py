"""govshare audit verify."""

from __future__ import annotations

import typer

from govshare.audit import service
from govshare.cli._common import open_database

app = typer.Typer(no_args_is_help=True)


@app.command()
def verify() -> None:
    """校验审计日志哈希链;发现被修改、删除、插入或调序的记录时指出第一条并以非零状态退出。"""
    db = open_database()
    with db.session_scope() as session:
        result = service.verify(session)
    db.dispose()
    if result.ok:
        typer.echo(f"审计日志完整:共校验 {result.checked} 条记录,哈希链无误。")
        return
    assert result.finding is not None
    typer.echo(f"审计日志校验失败:{result.finding.message}", err=True)
    raise typer.Exit(code=1)
