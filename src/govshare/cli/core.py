"""init and serve."""

from __future__ import annotations

import typer

from govshare import migrate
from govshare.cli._common import open_database
from govshare.config import get_settings
from govshare.identity.reference import ensure_reference_data


def init_database() -> None:
    """Migrate the database to the newest schema and add the reference data."""
    db = open_database()
    migrate.upgrade(db.engine)
    with db.session_scope() as session:
        ensure_reference_data(session)
    db.dispose()


def register(app: typer.Typer) -> None:
    @app.command()
    def init() -> None:
        """建库:执行数据库迁移并写入区域、市大数据局等基础数据。"""
        init_database()
        typer.echo(f"数据库已就绪:{get_settings().effective_database_url}")

    @app.command("create-admin")
    def create_admin(
        username: str = typer.Argument(..., help="账号"),
        display_name: str = typer.Option("系统管理员", "--name", help="姓名"),
        password: str = typer.Option(..., prompt="初始密码", hide_input=True, confirmation_prompt=True),
    ) -> None:
        """开设第一个市大数据局系统管理员账号(首次登录须修改密码并绑定动态口令)。"""
        from govshare.cli._common import console_actor
        from govshare.errors import DomainError
        from govshare.identity.permissions import Role
        from govshare.identity.reference import bureau
        from govshare.identity.service import create_user

        init_database()
        db = open_database()
        try:
            with db.session_scope() as session:
                create_user(
                    session,
                    console_actor(),
                    username=username,
                    display_name=display_name,
                    department_id=bureau(session).id,
                    password=password,
                    roles=[(Role.bureau_admin, None)],
                )
        except DomainError as exc:
            typer.echo(f"未能创建:{exc.detail}", err=True)
            raise typer.Exit(1) from exc
        finally:
            db.dispose()
        typer.echo(f"已创建系统管理员 {username};首次登录须修改密码并绑定动态口令。")

    @app.command()
    def serve(
        host: str = typer.Option(None, help="监听地址,默认取 GOVSHARE_SERVER__HOST"),
        port: int = typer.Option(None, help="端口,默认取 GOVSHARE_SERVER__PORT"),
        workers: int = typer.Option(1, help="进程数(PostgreSQL 时可多于 1)"),
    ) -> None:
        """启动网页与 API 服务。"""
        import uvicorn

        settings = get_settings()
        init_database()
        h = host or settings.server.host
        p = port or settings.server.port
        typer.echo(f"govshare 已启动:http://{h}:{p}/  (接口文档 http://{h}:{p}/api/docs)")
        from govshare.exchange.worker import runs_in_process

        if runs_in_process(settings):
            typer.echo("后台作业(同步、探测、定期任务)在本服务进程中运行;另行运行 govshare worker 时可设")
            typer.echo("GOVSHARE_SERVER__RUN_WORKER_IN_PROCESS=false 关闭。")
        uvicorn.run("govshare.asgi:app", host=h, port=p, workers=workers, log_level="warning", proxy_headers=True)
