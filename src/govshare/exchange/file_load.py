"""CSV and XLSX file versions loaded into the base as a table (A24.3 with A8.1).

A ``FileRows`` reads one version's bytes as they stream from the store (checksum verified at the
end) and yields batches the table channel's full-refresh writer takes (``TableChannel.load_full``):
the same staging table, the same one-transaction swap, the same conversion to the 信息项 types. So a
file load can never leave the base table half old and half new, and a failed load changes nothing.

- The header row names the columns; the mount's mapping says which header holds which 信息项
  (exact name first, then ignoring case and surrounding spaces). A mapped header missing from the
  file fails the run before any row is read.
- CSV: UTF-8 with or without BOM; a file whose first megabyte is not valid UTF-8 is read as GB18030
  (what Excel on Chinese Windows writes). The delimiter is a comma, or a tab when the header has
  tabs and no comma. An empty cell is NULL. If bytes after the first megabyte are not valid in the
  detected encoding the run fails and changes nothing.
- XLSX: the first worksheet (or the one named in the mount), read with openpyxl in read-only mode,
  row by row. openpyxl needs a seekable file, so the version is first streamed to a temporary file
  (disk, not memory). An integral number in a text 信息项 (a 身份证号 typed as a number) is written
  without ``.0``.

The watermark recorded with the rows is the version number, so a scheduled run can see whether the
newest version is already in the base.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from govshare.errors import DomainError
from govshare.exchange.base import ColumnSpec
from govshare.exchange.channels import MountSpec, SyncFailed
from govshare.exchange.channels.table import converter, type_label

SNIFF_BYTES = 1024 * 1024
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_XLSX_MAGIC = b"PK\x03\x04"
_DECODE_ERROR = "文件中有无法按 {encoding} 解码的内容,请以 UTF-8 或 GB18030 编码保存后重新提供,本次装载未生效"


def file_format(filename: str, head: bytes) -> str:
    """``xlsx`` or ``csv`` from the name, falling back to the first bytes; refuses anything else."""
    lower = filename.lower()
    if lower.endswith(XLSX_SUFFIXES):
        return "xlsx"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    if head.startswith(_XLSX_MAGIC):
        return "xlsx"
    if head and b"\x00" not in head[:4096]:
        return "csv"
    raise SyncFailed("只有 CSV 与 XLSX 文件可以装载为基座中的表", code="file_format_unsupported")


def detect_encoding(head: bytes) -> str:
    """``utf-8-sig`` (with or without BOM: the BOM is dropped) or ``gb18030``, from a file's first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # final=False: a character cut at the end of the sample is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


class _ChunkStream(io.RawIOBase):
    """A readable binary stream over an iterator of chunks (with the already-read head pushed back)."""

    def __init__(self, head: bytes, chunks: Iterator[bytes]) -> None:
        self._buffer = head
        self._chunks = chunks
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        self.consumed += n
        return n


def _read_head(chunks: Iterator[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        chunk = next(chunks, None)
        if chunk is None:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _match_headers(spec: MountSpec, header: list[str]) -> list[int]:
    """For each base column (in ``spec.columns`` order) the index of its header; fails on a missing one."""
    cleaned = [h.strip() if isinstance(h, str) else "" if h is None else str(h).strip() for h in header]
    exact = {name: i for i, name in reversed(list(enumerate(cleaned)))}
    folded = {name.casefold(): i for i, name in reversed(list(enumerate(cleaned)))}
    positions: list[int] = []
    missing: list[str] = []
    for column in spec.columns:
        wanted = spec.mapping[column.item_id].strip()
        index = exact.get(wanted, folded.get(wanted.casefold()))
        if index is None:
            missing.append(wanted)
        else:
            positions.append(index)
    if missing:
        names = "、".join(f"「{m}」" for m in missing)
        raise SyncFailed(f"文件表头缺少列 {names},与挂载配置不符,本次装载未生效", code="source_mismatch")
    return positions


class FileRows:
    """One CSV or XLSX version as batches of converted rows for ``TableChannel.load_full``."""

    def __init__(
        self,
        spec: MountSpec,
        chunks: Iterator[bytes],
        *,
        filename: str,
        version_number: int,
        batch_size: int | None = None,
    ) -> None:
        self.spec = spec
        self.columns: list[ColumnSpec] = spec.columns
        self.rows_read = 0
        self.bytes_read = 0
        self.version_number = version_number
        self.batch_size = batch_size or spec.batch_size
        self.converters = [converter(c.data_type) for c in spec.columns]
        self.encoding = ""
        self._spool: IO[bytes] | None = None
        self._stream: _ChunkStream | None = None
        head = _read_head(chunks, SNIFF_BYTES)
        self.format = file_format(filename, head)
        if self.format == "csv":
            self._rows = self._csv_rows(head, chunks)
        else:
            self._rows = self._xlsx_rows(head, chunks)
        header = next(self._rows, None)
        if header is None:
            raise SyncFailed("文件为空,没有表头行,本次装载未生效", code="file_empty")
        self.positions = _match_headers(spec, header)

    # -- CSV ---------------------------------------------------------------------------------------

    def _csv_rows(self, head: bytes, chunks: Iterator[bytes]) -> Iterator[list[Any]]:
        self.encoding = detect_encoding(head)
        self._stream = _ChunkStream(head, chunks)
        text = io.TextIOWrapper(io.BufferedReader(self._stream, 256 * 1024), encoding=self.encoding, newline="")
        first = text.readline()
        delimiter = "\t" if "\t" in first and "," not in first else ","

        def lines() -> Iterator[str]:
            yield first
            yield from text

        try:
            for row in csv.reader(lines(), delimiter=delimiter):
                if row:  # csv gives [] for a blank line
                    yield [None if v == "" else v for v in row]
        except UnicodeDecodeError as exc:
            label = "GB18030" if self.encoding == "gb18030" else "UTF-8"
            raise SyncFailed(_DECODE_ERROR.format(encoding=label), code="file_encoding") from exc
        except csv.Error as exc:
            raise SyncFailed(f"CSV 文件第 {self.rows_read + 2} 行格式有误,本次装载未生效", code="file_csv") from exc

    # -- XLSX --------------------------------------------------------------------------------------

    def _xlsx_rows(self, head: bytes, chunks: Iterator[bytes]) -> Iterator[list[Any]]:
        from openpyxl import load_workbook

        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._spool = spool
        spool.write(head)
        size = len(head)
        for chunk in chunks:
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        self.bytes_read = size
        try:
            workbook = load_workbook(spool, read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
            raise SyncFailed("XLSX 文件无法打开,可能已损坏或不是 Excel 工作簿", code="file_xlsx") from exc
        return self._sheet_rows(workbook)

    def _sheet_rows(self, workbook: Any) -> Iterator[list[Any]]:
        try:
            name = str(self.spec.config.get("sheet", "") or "")
            if name and name not in workbook.sheetnames:
                raise SyncFailed(f"工作簿中没有名为「{name}」的工作表", code="file_sheet_missing")
            sheet = workbook[name] if name else workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                if any(v is not None and v != "" for v in values):
                    yield list(values)
        finally:
            workbook.close()

    # -- rows --------------------------------------------------------------------------------------

    def _convert(self, raw: list[Any]) -> list[Any]:
        row: list[Any] = []
        for i, position in enumerate(self.positions):
            v = raw[position] if position < len(raw) else None
            column = self.columns[i]
            if isinstance(v, str):
                v = v.strip() or None
            elif isinstance(v, float) and column.data_type in ("C", "M") and v.is_integer():
                v = str(int(v))
            try:
                row.append(self.converters[i](v))
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise SyncFailed(
                    f"第 {self.rows_read + 1} 行(不含表头)信息项「{column.name}」的值无法转换为"
                    f"{type_label(column.data_type)},本次装载未生效",
                    code="value_unconvertible",
                ) from exc
        return row

    def batches(self, after: Any = None) -> Iterator[list[tuple[list[Any], Any]]]:
        """Yield lists of (converted row, version number); ``after`` is ignored (a file is always loaded whole)."""
        batch: list[tuple[list[Any], Any]] = []
        try:
            for raw in self._rows:
                row = self._convert(raw)
                self.rows_read += 1
                batch.append((row, self.version_number))
                if len(batch) >= self.batch_size:
                    self._count_bytes()
                    yield batch
                    batch = []
            self._count_bytes()
            if batch:
                yield batch
        except SyncFailed:
            raise
        except DomainError as exc:  # the store's checksum check at the last chunk, a missing object
            raise SyncFailed(f"{exc.detail},本次装载未生效", code=exc.code) from exc
        finally:
            self.close()

    def _count_bytes(self) -> None:
        if self._stream is not None:
            self.bytes_read = self._stream.consumed

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
