"""govshare backup / restore (A30.1).

SQLite is copied with SQLite's online backup API, so a running platform keeps serving; PostgreSQL is
dumped with pg_dump in its custom format and restored with pg_restore. Files under ``var/files`` are
archived beside the database.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from govshare.config import get_settings
from govshare.kit.clock import now, to_china


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return [*args, "-d", parsed.database or "postgres"], env


def _run(cmd: list[str], extra_env: dict[str, str]) -> None:
    import os

    if shutil.which(cmd[0]) is None:
        typer.echo(f"未找到 {cmd[0]},请安装 PostgreSQL 客户端工具", err=True)
        raise typer.Exit(2)
    result = subprocess.run(cmd, env=os.environ | extra_env, check=False)  # noqa: S603 - fixed tool, our args
    if result.returncode != 0:
        typer.echo(f"{cmd[0]} 执行失败(退出码 {result.returncode})", err=True)
        raise typer.Exit(result.returncode)


def backup(target_dir: Path = typer.Argument(Path("var/backups"), help="备份存放目录")) -> None:
    """备份平台数据库与文件。"""
    settings = get_settings()
    url = settings.effective_database_url
    stamp = to_china(now()).strftime("%Y%m%d-%H%M%S")
    target = target_dir / f"govshare-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(parsed.database or "")
        dest = sqlite3.connect(target / "govshare.db")
        with dest:
            source.backup(dest)
        dest.close()
        source.close()
    else:
        args, env = _pg_args(url)
        _run(["pg_dump", "-Fc", "-f", str(target / "govshare.pgdump"), *args], env)
    files = settings.files_dir
    if files.exists():
        with tarfile.open(target / "files.tar.gz", "w:gz") as tar:
            tar.add(files, arcname="files")
    typer.echo(f"备份完成:{target}")


def restore(
    source_dir: Path = typer.Argument(..., help="govshare backup 生成的目录"),
    yes: bool = typer.Option(False, "--yes", help="确认覆盖当前数据库"),
) -> None:
    """从备份恢复平台数据库与文件(会覆盖当前数据)。"""
    if not yes:
        typer.echo("恢复会覆盖当前数据库与文件,请加 --yes 确认", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    url = settings.effective_database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        backup_db = source_dir / "govshare.db"
        if not backup_db.exists():
            typer.echo(f"备份中没有 {backup_db.name}", err=True)
            raise typer.Exit(2)
        source = sqlite3.connect(backup_db)
        dest = sqlite3.connect(parsed.database or "")
        with dest:
            source.backup(dest)
        dest.close()
        source.close()
    else:
        dump = source_dir / "govshare.pgdump"
        if not dump.exists():
            typer.echo(f"备份中没有 {dump.name}", err=True)
            raise typer.Exit(2)
        args, env = _pg_args(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(dump)], env)
    archive = source_dir / "files.tar.gz"
    if archive.exists():
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(settings.var_dir, filter="data")
    typer.echo("恢复完成")
