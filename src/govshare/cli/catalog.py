"""govshare import / export: the catalog as a workbook in the national template.

``import`` is the platform's migration (codes and status kept, providers by 统一社会信用代码);
departments import their own drafts through the page or the API instead.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from govshare.catalog import excel
from govshare.catalog.enums import Channel, ResourceStatus, ShareType
from govshare.cli._common import console_actor, open_database
from govshare.errors import DomainError, ValidationFailed
from govshare.identity import repository as identity_repo


def import_catalog(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="国家目录模板格式的 .xlsx 文件"),
    create_departments: bool = typer.Option(
        False, "--create-departments", help="提供方代码在平台中不存在时自动登记该部门(区域按代码第 3–8 位推断)"
    ),
    max_rows: int = typer.Option(0, "--max-rows", help="信息资源行数上限,默认取 GOVSHARE_EXCEL__MAX_RESOURCE_ROWS"),
    max_mb: int = typer.Option(0, "--max-mb", help="文件大小上限(MB),默认取 GOVSHARE_EXCEL__MAX_BYTES"),
) -> None:
    """平台迁移导入:按国家目录模板导入信息资源目录,保留代码与状态。任何一行有误则整份不导入。"""
    limits = excel.ImportLimits.from_settings()
    limits = excel.ImportLimits(
        max_bytes=max_mb * 1024 * 1024 if max_mb > 0 else limits.max_bytes,
        max_resource_rows=max_rows if max_rows > 0 else limits.max_resource_rows,
        max_item_rows=max(limits.max_item_rows, max_rows * 50) if max_rows > 0 else limits.max_item_rows,
    )
    db = open_database()
    try:
        with db.session_scope() as session, file.open("rb") as source:
            result = excel.migrate_catalog(
                session,
                console_actor(),
                source,
                filename=file.name,
                create_departments=create_departments,
                limits=limits,
                progress=typer.echo,
            )
    except ValidationFailed as exc:
        typer.echo(exc.detail if not exc.errors else f"未导入任何数据,共 {len(exc.errors)} 处问题:", err=True)
        for error in exc.errors:
            typer.echo(f"  {error.message}", err=True)
        raise typer.Exit(code=1) from None
    except DomainError as exc:
        typer.echo(f"未导入任何数据:{exc.detail}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        db.dispose()
    for note in result.notes:
        typer.echo(f"提示:{note}")
    if result.created_departments:
        typer.echo("新登记的部门:" + "、".join(result.created_departments))
    typer.echo(f"已导入 {result.count} 个信息资源。")


def export_catalog(
    file: Path = typer.Argument(..., dir_okay=False, help="写出的 .xlsx 文件"),
    classification: str = typer.Option("", help="分类码(含下级分类)"),
    provider: str = typer.Option("", help="提供方的统一社会信用代码"),
    share_type: ShareType | None = typer.Option(None, help="共享类型"),
    channel: Channel | None = typer.Option(None, help="共享方式"),
    status: ResourceStatus | None = typer.Option(None, help="状态"),
) -> None:
    """按国家目录模板导出信息资源目录(全部信息资源及信息项)。"""
    db = open_database()
    target = file.resolve()
    handle, temporary = tempfile.mkstemp(prefix=".govshare-export-", suffix=".xlsx", dir=target.parent)
    try:
        with db.session_scope() as session, os.fdopen(handle, "wb") as out:
            provider_id = None
            if provider:
                department = identity_repo.department_by_uscc(session, provider.strip().upper())
                if department is None:
                    typer.echo(f"平台中没有统一社会信用代码为 {provider} 的部门", err=True)
                    raise typer.Exit(code=1)
                provider_id = department.id
            filters = excel.ExportFilters(
                classification=classification or None,
                provider_id=provider_id,
                share_type=share_type,
                channel=channel,
                status=status,
            )
            count = excel.export_catalog(session, console_actor(), out, filters=filters, progress=typer.echo)
        Path(temporary).replace(target)  # a failed export never leaves half a file behind
    finally:
        Path(temporary).unlink(missing_ok=True)
        db.dispose()
    typer.echo(f"已导出 {count} 个信息资源:{target}")


def register(app: typer.Typer) -> None:
    app.command(name="import")(import_catalog)
    app.command(name="export")(export_catalog)
