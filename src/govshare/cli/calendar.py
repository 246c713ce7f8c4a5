"""govshare calendar show | load | add | set | unset."""

from __future__ import annotations

from pathlib import Path

import typer

from govshare.calendar import service
from govshare.cli._common import console_actor, open_database
from govshare.errors import DomainError

app = typer.Typer(no_args_is_help=True)


def _fail(exc: DomainError) -> typer.Exit:
    typer.echo(f"失败:{exc.detail}", err=True)
    for error in exc.errors[1:] if len(exc.errors) > 1 else []:
        typer.echo(f"  - {error.message}", err=True)
    return typer.Exit(code=1)


@app.command()
def show(year: int = typer.Argument(..., help="年度,如 2027")) -> None:
    """显示某年度的状态、放假日、调休上班日与更正。"""
    db = open_database()
    try:
        with db.session_scope() as session:
            overview = service.year_overview(session, year)
            typer.echo(f"{year} 年:{overview.status_label}")
            if overview.loaded is not None:
                loaded = overview.loaded
                typer.echo(f"依据:{loaded.source}(由 {loaded.loaded_by_name or '平台'} 载入)")
            typer.echo("放假日(周一至周五):" + (service.describe_days(d.day for d in overview.days_off) or "无"))
            typer.echo(
                "调休上班日(周六、周日):" + (service.describe_days(d.day for d in overview.extra_working_days) or "无")
            )
            for c in overview.corrections:
                typer.echo(f"更正 {c.day.isoformat()} {'班' if c.working else '休'} {c.note}")
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()


@app.command()
def load(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV 或 JSON 年度文件"),
    source: str = typer.Option("", "--source", help="依据,如国务院办公厅通知文号;默认记录文件名"),
    year: int | None = typer.Option(None, "--year", help="核对文件所属年度"),
) -> None:
    """载入一个年度的节假日安排(替换该年度已有的更正)。"""
    db = open_database()
    try:
        with db.session_scope() as session:
            row = service.load_year_file(
                session,
                console_actor(),
                content=file.read_bytes(),
                filename=file.name,
                source=source,
                expected_year=year,
            )
            overview = service.year_overview(session, row.year)
            typer.echo(
                f"已载入 {row.year} 年:放假日 {len(overview.days_off)} 天(周一至周五),"
                f"调休上班日 {len(overview.extra_working_days)} 天;依据:{row.source}"
            )
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()


@app.command()
def add(
    start: str = typer.Argument(..., help="起算日,如 2026-09-28(不计入)"),
    days: int = typer.Argument(..., help="工作日天数"),
) -> None:
    """推算截止日期:起算日之后的第 N 个工作日。"""
    db = open_database()
    try:
        with db.session_scope() as session:
            due = service.add_working_days(session, service.parse_day(start, "start"), days)
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()
    weekday = "一二三四五六日"[due.date.weekday()]
    typer.echo(f"{due.date.isoformat()}(星期{weekday}{',暂定' if due.provisional else ''})")
    if due.provisional:
        typer.echo("注意:计算经过尚未载入节假日安排的年度,仅按周末推算,结果为暂定。", err=True)


@app.command("set")
def set_day(
    day: str = typer.Argument(..., help="日期,如 2027-02-20"),
    kind: str = typer.Argument(..., help="休 或 班"),
    note: str = typer.Option(..., "--note", help="说明,如依据的通知文号"),
) -> None:
    """更正某一天为 休 或 班。"""
    db = open_database()
    try:
        with db.session_scope() as session:
            working = service.parse_day_type(kind, "kind")
            row = service.set_day(session, console_actor(), day=service.parse_day(day), working=working, note=note)
            typer.echo(f"已将 {row.day.isoformat()} 设为{'班' if row.working else '休'}")
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()


@app.command()
def unset(day: str = typer.Argument(..., help="日期,如 2027-02-20")) -> None:
    """撤销某一天的更正。"""
    db = open_database()
    try:
        with db.session_scope() as session:
            parsed = service.parse_day(day)
            service.remove_correction(session, console_actor(), day=parsed)
            typer.echo(f"已撤销 {parsed.isoformat()} 的更正")
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()
