"""Exports of shared rows by people (CSV and XLSX) under the same rules as every read.

The rows are read and the access record (``kind="export"``) and ``Action.data_exported`` are
written first; the route commits, and only then does the file stream out. Every text cell that
a spreadsheet could take for a formula (starting with = + - @ tab or CR) is prefixed with ``'``.
An export is capped at ``EXPORT_MAX_ROWS``; a larger one is refused with a request to filter.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from govshare.audit.actions import Action
from govshare.catalog.enums import Channel
from govshare.errors import Conflict, FieldError, ValidationFailed
from govshare.sharing import data
from govshare.sharing.access import record_access_and_audit
from govshare.sharing.data import Reader, RowsQuery, Scope

EXPORT_MAX_ROWS = 100_000
_BATCH = 5000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will not run: text that could start a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass
class Export:
    scope: Scope
    header: list[str]
    rows: list[list[Any]]
    fmt: str

    @property
    def filename(self) -> str:
        return f"{self.scope.resource_code.replace('/', '-')}.{self.fmt}"


def export_rows(
    session: Session,
    reader: Reader,
    *,
    resource_code: str,
    grant_id: int | None,
    query: RowsQuery,
    fmt: str,
    purpose: str = "",
) -> Export:
    """Every row the reader may see under ``query``'s filters and sort, access and audit recorded."""
    if fmt not in FORMATS:
        raise ValidationFailed("导出格式只能是 CSV 或 XLSX", errors=[FieldError("format", "只能是 csv 或 xlsx")])
    scope = data.resolve_scope(session, reader, resource_code=resource_code, grant_id=grant_id, purpose=purpose)
    if scope.channel != Channel.table:
        raise Conflict("只有库表共享的信息资源可以导出", code="export_unsupported")
    keys = [c.key for c in scope.columns]
    rows: list[list[Any]] = []
    after: str | None = None
    with data.base_connection(session) as conn:
        while True:
            page = RowsQuery(limit=_BATCH, after=after, sort=query.sort, order=query.order, filters=query.filters)
            out, after, _ = data.fetch(conn, scope, page)
            rows.extend([safe_cell(row[k]) for k in keys] for row in out)
            if len(rows) > EXPORT_MAX_ROWS:
                raise ValidationFailed(
                    f"导出超过 {EXPORT_MAX_ROWS} 行,请先设置筛选条件缩小范围",
                    code="export_too_large",
                    errors=[FieldError("filters", "导出范围过大")],
                )
            if after is None:
                break
    detail = data.query_detail(query) | {"format": fmt}
    record = data.read_record(
        reader, scope, kind="export", row_count=len(rows), detail=detail, action=Action.data_exported
    )
    record_access_and_audit(session, record)
    header = [safe_cell(c.name) for c in scope.columns]
    return Export(scope=scope, header=header, rows=rows, fmt=fmt)


def stream_csv(export: Export) -> Iterator[bytes]:
    """UTF-8 with a BOM (so that Excel reads the Chinese), a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(export.header)
    for n, row in enumerate(export.rows, 1):
        writer.writerow(["" if v is None else v for v in row])
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def stream_xlsx(export: Export) -> Iterator[bytes]:
    """A write-only workbook spooled to a temporary file, then sent in chunks."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="数据")
    sheet.append(export.header)
    for row in export.rows:
        sheet.append(row)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(64 * 1024):
            yield chunk
