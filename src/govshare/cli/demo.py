"""govshare demo: (re)create a demo database, seed realistic Lanzhou data, print the accounts, serve.

The demo uses its own SQLite file, ``<var_dir>/demo.db``, which it recreates on every run unless
``--no-reset``; the platform's own embedded database (``<var_dir>/govshare.db``) is never touched.
When ``GOVSHARE_DATABASE_URL`` is set, the demo uses that database instead and resets nothing unless
asked; a non-SQLite database is reset only with ``--force``. A production environment is refused.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from govshare.config import Environment, get_settings
from govshare.db import Database
from govshare.demo import exchange_seed as demo_exchange
from govshare.demo import seed as demo_seed
from govshare.demo.data import DEMO_PASSWORD, DEPARTMENTS
from govshare.errors import DomainError


def demo(
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(8000, help="端口"),
    reset: bool | None = typer.Option(
        None,
        "--reset/--no-reset",
        help="重建演示数据库(演示专用库默认重建;GOVSHARE_DATABASE_URL 指定的库默认不重建)",
    ),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="写入演示数据后启动服务;--no-serve 写完即退出"),
    force: bool = typer.Option(False, "--force", help="允许重建非 SQLite 数据库(会删除其中全部数据)"),
    people: int = typer.Option(100_000, "--people", min=100, help="演示提供方库中的人口数"),
    mariadb_url: str = typer.Option(
        "mysql://root@127.0.0.1:3306/test", envvar="GOVSHARE_DEMO_MARIADB_URL", help="演示 MariaDB 数据源(空则不用)"
    ),
    postgres_url: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/govshare_demo_source",
        envvar="GOVSHARE_DEMO_POSTGRES_URL",
        help="演示 PostgreSQL 数据源库(空则不用)",
    ),
) -> None:
    """写入兰州市演示数据(部门、账号、目录、变更申请)并启动平台。"""
    settings = get_settings()
    if settings.environment == Environment.production:
        _fail("生产环境(GOVSHARE_ENVIRONMENT=production)不能写入演示数据")
    configured = settings.database_url
    url = configured or f"sqlite:///{(settings.var_dir / 'demo.db').as_posix()}"
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if reset is None:
        reset = not configured
    if reset and not is_sqlite and not force:
        _fail("拒绝重建非 SQLite 数据库:重建会删除其中全部数据。确需重建请加 --force,或使用 --no-reset")

    # Everything in this process (migrations, the server) must use the demo database.
    os.environ["GOVSHARE_DATABASE_URL"] = url
    get_settings.cache_clear()
    shown = make_url(url).render_as_string(hide_password=True)
    if reset:
        _reset(url)
        typer.echo(f"已重建演示数据库:{shown}")

    from govshare.cli.core import init_database

    init_database()
    db = Database(url)
    try:
        with db.session_scope() as session:
            if demo_seed.is_seeded(session):
                summary = None
            else:
                typer.echo("正在写入演示数据(部门、账号、目录、变更申请)……")
                summary = demo_seed.seed(session)
    finally:
        db.dispose()
    if summary is None:
        typer.echo(f"数据库中已有演示数据,未重复写入:{shown}")
    else:
        _print_summary(summary, shown)
    demo_exchange.run_for_demo(
        url,
        get_settings().var_dir,
        fresh=summary is not None,
        serve=serve,
        people=people,
        mariadb_url=mariadb_url,
        postgres_url=postgres_url,
        echo=typer.echo,
    )
    if summary is not None:
        _seed_usage(url)
    _print_accounts()
    from govshare.demo.consumer_seed import print_credentials, table_grant_example

    db = Database(url)
    try:
        with db.session_scope() as session:
            example = table_grant_example(session)
    finally:
        db.dispose()
    print_credentials(typer.echo, f"http://{host}:{port}", example)
    if not serve:
        return
    import uvicorn

    typer.echo(f"\ngovshare 演示已启动:http://{host}:{port}/")
    typer.echo("按 Ctrl+C 停止。")
    uvicorn.run("govshare.asgi:app", host=host, port=port, log_level="warning")


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code=2)


def _reset(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(database + suffix).unlink(missing_ok=True)
        return
    # Forced reset of a server database: undo every migration (the migrations know their own objects).
    from alembic import command

    from govshare import migrate

    db = Database(url)
    try:
        cfg = migrate.alembic_config()
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
    finally:
        db.dispose()


_STATUS_LABELS = {
    "published": "已发布",
    "submitted": "待审核",
    "returned": "已退回",
    "draft": "草稿",
    "withdrawn": "已撤销",
}
_CR_LABELS = {
    "open": "待提交",
    "filed": "待审核",
    "approved": "已同意",
    "rejected": "未同意",
    "filed_late": "其中逾期提交",
    "extension_requested": "延期待同意",
    "extension_granted": "已同意延期",
    "extension_refused": "延期未同意",
}


def _print_summary(summary: demo_seed.DemoSummary, shown: str) -> None:
    statuses = "、".join(f"{_STATUS_LABELS[k]} {summary.resources[k]}" for k in _STATUS_LABELS if summary.resources[k])
    changes = "、".join(
        f"{_CR_LABELS[k]} {summary.change_requests[k]}" for k in _CR_LABELS if summary.change_requests[k]
    )
    typer.echo(f"演示数据已写入 {shown}(用时 {summary.seconds:.1f} 秒):")
    typer.echo(
        f"  部门 {summary.departments} 个(含市大数据局;市直 {summary.city_departments} 个,"
        f"县区 {summary.county_departments} 个)"
    )
    typer.echo(f"  信息资源 {summary.resource_total} 条:{statuses}")
    total = sum(summary.change_requests[k] for k in ("open", "filed", "approved", "rejected"))
    typer.echo(f"  目录变更申请 {total} 件:{changes}")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _print_accounts() -> None:
    accounts = demo_seed.featured_accounts()
    typer.echo(f"\n演示账号(密码均为 {DEMO_PASSWORD}):")
    rows = [["账号", "密码", "姓名", "角色", "所在部门", "可以试试"]]
    rows += [[a.username, a.password, a.display_name, a.role, a.department, a.note] for a in accounts]
    for line in _table(rows):
        typer.echo(line)
    with_mfa = [a for a in accounts if a.totp_secret]
    if with_mfa:
        typer.echo("\n市大数据局角色须双因素登录:把下列密钥添加到手机验证器(如 Google/Microsoft Authenticator、")
        typer.echo("FreeOTP,类型“基于时间”),登录时输入其 6 位动态口令。密钥固定,重建演示库后仍然有效:")
        for line in _table([[a.username, a.totp_secret or ""] for a in with_mfa]):
            typer.echo(line)
        typer.echo("没有验证器时,用下面的命令查看当前动态口令(30 秒内有效):")
        for a in with_mfa:
            typer.echo(f"  {sys.executable} -c \"import pyotp; print(pyotp.TOTP('{a.totp_secret}').now())\"")
    others = demo_seed.other_admin_usernames()
    if others:
        typer.echo(f"\n其余 {len(others)} 个部门的数据资源管理员账号(密码相同):")
        short = {f"{d.key}_admin": d.short_name for d in DEPARTMENTS}
        line = " "
        for username in others:
            entry = f" {username}({short[username]})"
            if _width(line + entry) > 110:
                typer.echo(line)
                line = " "
            line += entry
        typer.echo(line)


def _seed_usage(url: str) -> None:
    """The usage history of the demo's grant on the 库表 resource, once its rows are in the base."""
    from govshare.demo.usage_seed import seed_usage

    db = Database(url)
    try:
        with db.session_scope() as session:
            reads = seed_usage(session)
    except DomainError as exc:  # the demo still starts; say why its usage pages are empty
        typer.echo(f"未写入演示使用记录:{exc}")
        return
    finally:
        db.dispose()
    if reads:
        typer.echo(f"使用记录:市民政局自授权生效以来的 {reads} 次读取、核验与导出(见“使用记录”页面)")
