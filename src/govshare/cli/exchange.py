"""govshare worker / govshare sync: the background worker and a manual sync from the console."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

from govshare.cli._common import console_actor, open_database
from govshare.errors import DomainError
from govshare.exchange import runs, worker


def run_worker(
    poll_seconds: float = typer.Option(5.0, "--poll", help="无作业时的轮询间隔(秒)"),
    lease_seconds: int = typer.Option(60, "--lease", help="作业租约时长(秒),进程失联超过该时长后由其他进程接管"),
) -> None:
    """运行后台作业进程:执行到期的同步与探测。可在多台机器上同时运行多个,同一作业不会被重复执行。"""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db = open_database()
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    owner = worker.new_owner()
    typer.echo(f"作业进程 {owner} 已启动,按 Ctrl+C 停止。")
    try:
        worker.run_forever(db, stop, owner=owner, poll_seconds=poll_seconds, lease_seconds=lease_seconds)
    finally:
        db.dispose()
    typer.echo("作业进程已停止。")


def sync(
    resource_code: str = typer.Argument(..., help="信息资源代码"),
    wait: bool = typer.Option(True, "--wait/--queue-only", help="在本进程中立即执行并显示进度;或仅排入队列"),
) -> None:
    """手动同步一个信息资源的挂载数据源。"""
    db = open_database()
    try:
        try:
            with db.session_scope() as s:
                run_id = runs.request_sync(s, console_actor(), resource_code=resource_code).id
        except DomainError as exc:
            typer.echo(exc.detail, err=True)
            raise typer.Exit(1) from exc
        if not wait:
            typer.echo(f"已排入队列:运行 #{run_id}")
            return
        owner = worker.new_owner()
        with db.session_scope() as s:
            claimed = worker.claim_run(s, run_id, owner, lease_seconds=60)
        if not claimed:
            typer.echo(f"运行 #{run_id} 已由其他作业进程执行。")
            return

        def show(rows: int, nbytes: int) -> None:
            typer.echo(f"已读取 {rows} 行,{nbytes / 1024 / 1024:.1f} MB", err=True)

        status = worker.execute(db, run_id, owner, progress=show)
        run = worker.run_row(db, run_id)
        assert run is not None
        if status != "succeeded":
            typer.echo(f"同步失败:{run.error}", err=True)
            raise typer.Exit(1)
        typer.echo(f"同步完成:{run.rows} 行,{run.bytes} 字节,用时 {run.duration_ms} 毫秒。")
    finally:
        db.dispose()
