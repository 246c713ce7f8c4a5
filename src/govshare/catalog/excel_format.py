"""The national catalog template as a workbook: its columns, reading cells, writing rows.

This module knows the file and nothing of the database; ``catalog/excel.py`` holds the import and
export services that use it.

The workbook (政务信息资源目录编制指南(试行) style) has a sheet "信息资源" (one row per resource) and
a sheet "信息项" (one row per 信息项, linked to its resource by 资源序号 — or, in a file whose first
信息项 column is headed 信息资源代码, by the resource's code). Cells hold the Chinese labels users
read (无条件共享, 库表, 每日, 字符型C …); reading also accepts the codes (``unconditional``,
``table``, ``C`` …), full-width letters and stray spaces. Two more sheets, "填写说明" and "代码表",
explain the columns and hold the lists that the data validations of the enumerated columns point
at; reading ignores them.

Writing is ``write_only`` (rows stream to temporary files, memory stays flat). A text cell that a
spreadsheet would take for a formula (it starts with = + - @, a tab or a carriage return) is written
as a string cell with the "quote prefix" style: Excel shows the text and never evaluates it, and the
stored value is unchanged, so a round trip returns it exactly.

Every problem found while reading is recorded against its sheet, Excel row and column header
(``ErrorList``), so that one import reports all of them together.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError as PydanticValidationError

from govshare.catalog.codes import name_key
from govshare.catalog.enums import (
    Channel,
    DataType,
    FormatClass,
    OpenType,
    ResourceStatus,
    Sensitivity,
    SensitivityLevel,
    ShareType,
    UpdateCycle,
    label,
)
from govshare.catalog.validation import FORMAT_CHANNELS
from govshare.errors import FieldError, ValidationFailed

RESOURCE_SHEET = "信息资源"
ITEM_SHEET = "信息项"
GUIDE_SHEET = "填写说明"
LISTS_SHEET = "代码表"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

YES = "是"
NO = "否"
RELATED_SEPARATOR = "、"
# A cell that starts with one of these is taken for a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_ERRORS_IN_DETAIL = 5
MAX_ERRORS = 2000  # past this many problems the file is plainly not the template; stop listing
VALIDATION_ROWS = 10_000  # data validations cover this many rows below the header


# ----------------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    required: bool = False
    choices: tuple[StrEnum, ...] = ()
    boolean: bool = False
    whole_number: bool = False
    note: str = ""


def _members(enum: type[StrEnum]) -> tuple[StrEnum, ...]:
    return tuple(enum)


RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", 7, required=True, whole_number=True, note="本文件内资源的编号,信息项表以此关联"),
    Column("classification_code", "信息资源分类(分类码)", 14, required=True, note="见“代码表”,如 101(人口)"),
    Column("name", "信息资源名称", 28, required=True),
    Column("code", "信息资源代码", 16, note="平台生成;部门导入新资源时留空"),
    Column("provider_name", "提供方", 22),
    Column("provider_uscc", "提供方代码(统一社会信用代码)", 22, note="18 位统一社会信用代码"),
    Column("provider_office", "提供方内部部门", 16),
    Column("summary", "信息资源摘要", 36),
    Column("scenario", "应用场景", 30, required=True),
    Column("format_class", "信息资源格式分类", 14, required=True, choices=_members(FormatClass)),
    Column("format_type", "信息资源格式类型", 14, note="如 xlsx、MySQL、JSON"),
    Column("share_type", "共享类型", 12, choices=_members(ShareType), note="留空为无条件共享"),
    Column("share_condition", "共享条件", 24, note="有条件共享必填"),
    Column("share_basis", "不予共享依据", 24, note="不予共享必填,须援引法律、法规或政策"),
    Column("channel", "共享方式", 10, required=True, choices=_members(Channel)),
    Column("open_type", "开放类型", 12, choices=_members(OpenType), note="留空为不予开放"),
    Column("open_condition", "开放条件", 20),
    Column("update_cycle", "更新周期", 10, required=True, choices=_members(UpdateCycle)),
    Column("published_on", "发布日期", 12, note="YYYY-MM-DD;仅平台迁移时填写"),
    Column("related_codes", "关联资源代码", 20, note="多个代码以“、”分隔"),
    Column("sensitivity_level", "数据分级", 10, choices=_members(SensitivityLevel), note="留空为一般"),
    Column("classified", "是否涉密", 10, boolean=True, note="涉密资源不得上平台"),
    Column("topic", "所属主题", 16, note="主题资源填写主题名称"),
    Column("status", "状态", 10, choices=_members(ResourceStatus), note="部门导入一律为草稿,留空即可"),
)

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("resource_seq", "资源序号", 9, required=True, whole_number=True, note="“信息资源”表的序号"),
    Column("position", "信息项序号", 10, required=True, whole_number=True),
    Column("name", "信息项名称", 22, required=True),
    Column("data_type", "数据类型", 13, required=True, choices=_members(DataType)),
    Column("length", "数据长度", 10, whole_number=True),
    Column("description", "描述", 30),
    Column("sensitivity", "敏感类别", 12, choices=_members(Sensitivity), note="留空为无"),
    Column("shareable", "是否可共享", 10, boolean=True, note="留空为是"),
    Column("is_basic", "是否基本信息项", 13, boolean=True, note="留空为否"),
)
# The first 信息项 column may instead link rows by the resource's code.
ITEM_CODE_LINK = Column("resource_code", "信息资源代码", 16, required=True)

# Schema field names (as ``validate_resource`` and pydantic report them) → the column holding them.
_RESOURCE_FIELD_COLUMN = {
    "name": "信息资源名称",
    "classification_code": "信息资源分类(分类码)",
    "classification_id": "信息资源分类(分类码)",
    "provider_id": "提供方代码(统一社会信用代码)",
    "provider_office": "提供方内部部门",
    "topic_id": "所属主题",
    "summary": "信息资源摘要",
    "scenario": "应用场景",
    "format_class": "信息资源格式分类",
    "format_type": "信息资源格式类型",
    "share_type": "共享类型",
    "share_condition": "共享条件",
    "share_basis": "不予共享依据",
    "channel": "共享方式",
    "open_type": "开放类型",
    "open_condition": "开放条件",
    "update_cycle": "更新周期",
    "sensitivity_level": "数据分级",
    "classified": "是否涉密",
    "related_codes": "关联资源代码",
    "code": "信息资源代码",
    "status": "状态",
}
_ITEM_FIELD_COLUMN = {
    "name": "信息项名称",
    "data_type": "数据类型",
    "length": "数据长度",
    "description": "描述",
    "sensitivity": "敏感类别",
    "shareable": "是否可共享",
    "is_basic": "是否基本信息项",
}


@dataclass(frozen=True)
class ImportLimits:
    """How large a file may be; anything larger is refused before a row is read."""

    max_bytes: int
    max_resource_rows: int
    max_item_rows: int

    @classmethod
    def from_settings(cls) -> ImportLimits:
        from govshare.config import get_settings

        excel = get_settings().excel
        return cls(excel.max_bytes, excel.max_resource_rows, excel.max_item_rows)


# ------------------------------------------------------------------------------------ cell values


def choice_label(member: StrEnum) -> str:
    """The Chinese label of a vocabulary value, as the template's cells hold it."""
    return label(member)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


_SYNONYMS: dict[StrEnum, tuple[str, ...]] = {
    Channel.api: ("接口对接", "接口共享", "API"),
    Channel.table: ("库表交换", "库表共享", "数据库"),
    Channel.file: ("文件共享", "文件下载"),
    Sensitivity.none: ("不敏感", "非敏感"),
}


def _lookup(enum: type[StrEnum]) -> dict[str, StrEnum]:
    table: dict[str, StrEnum] = {}
    for member in enum:
        names = [member.value, choice_label(member), *_SYNONYMS.get(member, ())]
        if enum is DataType:
            label = choice_label(member)
            names.append(label.rstrip(member.value))  # 字符型C → 字符型
        for name in names:
            table.setdefault(_fold(name), member)
    return table


_LOOKUPS: dict[type[StrEnum], dict[str, StrEnum]] = {}


def parse_choice(enum: type[StrEnum], text: str) -> StrEnum | None:
    """The member whose label or code ``text`` is (full-width, case and spaces ignored)."""
    table = _LOOKUPS.get(enum)
    if table is None:
        table = _LOOKUPS[enum] = _lookup(enum)
    return table.get(_fold(text))


_TRUE = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "t"})
_FALSE = frozenset({"否", "n", "no", "false", "0", "×", "✗", "f"})


def parse_bool(text: str) -> bool | None:
    folded = _fold(text)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def cell_text(value: object) -> str:
    """A cell's content as text: numbers without a trailing ``.0``, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = unicodedata.normalize("NFKC", cell_text(value))
    try:
        return int(text)
    except ValueError:
        return None


def parse_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", cell_text(value))
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def split_codes(text: str) -> list[str]:
    """关联资源代码: codes separated by 、 , ; (either width) or white space, in order, no repeats."""
    normalized = unicodedata.normalize("NFKC", text)
    for sep in ("、", ",", ";", ","):
        normalized = normalized.replace(sep, " ")
    out: list[str] = []
    for code in normalized.split():
        if code not in out:
            out.append(code)
    return out


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


# -------------------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class ReferenceLists:
    """The lists behind the data validations that are not closed vocabularies."""

    classifications: Sequence[tuple[str, str]] = ()  # (分类码, 名称)
    topics: Sequence[str] = ()


_HEADER_FONT = Font(bold=True, color="FFFFFF")
_REQUIRED_FONT = Font(bold=True, color="FFF2CC")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_THIN = Side(style="thin", color="BFBFBF")
_HEADER_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_DATE_FORMAT = "yyyy-mm-dd"


class CatalogWriter:
    """Streams a catalog workbook: ``add_resource`` per resource, then ``save``.

    Both data sheets are write-only, so rows go to temporary files as they come and memory stays
    flat whatever the catalog's size.
    """

    def __init__(self, lists: ReferenceLists) -> None:
        self._wb = Workbook(write_only=True)
        self._resources = self._data_sheet(RESOURCE_SHEET, RESOURCE_COLUMNS, "D2")
        self._items = self._data_sheet(ITEM_SHEET, ITEM_COLUMNS, "D2")
        self._validations(self._resources, RESOURCE_COLUMNS, lists)
        self._validations(self._items, ITEM_COLUMNS, lists)
        self._write_guide()
        self._write_lists(lists)
        self.count = 0

    # --- sheets

    def _sheet(self, title: str) -> Any:
        # Typed as Any: the stubs of WriteOnlyWorksheet omit the attributes it copies from Worksheet
        # (column_dimensions, data_validations …), which openpyxl documents for write-only sheets.
        ws = self._wb.create_sheet(title)
        assert isinstance(ws, WriteOnlyWorksheet)
        return ws

    def _data_sheet(self, title: str, columns: Sequence[Column], freeze: str) -> Any:
        ws = self._sheet(title)
        for index, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = freeze  # the header row, and the columns that say which row this is
        ws.row_dimensions[1].height = 32
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, value=column.header)
            cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
            cell.fill = _HEADER_FILL
            cell.alignment = _HEADER_ALIGN
            cell.border = _HEADER_BORDER
            header.append(cell)
        ws.append(header)
        return ws

    def _validations(self, ws: Any, columns: Sequence[Column], lists: ReferenceLists) -> None:
        last = VALIDATION_ROWS + 1
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            target = f"{letter}2:{letter}{last}"
            dv: DataValidation | None = None
            if column.choices:
                labels = ",".join(choice_label(m) for m in column.choices)
                dv = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True)
                dv.error = f"请从下拉列表中选择:{labels.replace(',', '、')}"
            elif column.boolean:
                dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
                dv.error = f"请填写“{YES}”或“{NO}”"
            elif column.whole_number:
                dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="1", allow_blank=True)
                dv.error = "请填写正整数"
            elif column.key == "classification_code" and lists.classifications:
                dv = DataValidation(
                    type="list", formula1=f"'{LISTS_SHEET}'!$A$2:$A${len(lists.classifications) + 1}", allow_blank=True
                )
                dv.error = f"请填写“{LISTS_SHEET}”表中的分类码"
            elif column.key == "topic" and lists.topics:
                dv = DataValidation(
                    type="list", formula1=f"'{LISTS_SHEET}'!$C$2:$C${len(lists.topics) + 1}", allow_blank=True
                )
                dv.error = f"请填写“{LISTS_SHEET}”表中的主题名称"
            elif column.key == "published_on":
                dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
                dv.error = "请填写日期,如 2026-01-31"
            if dv is None:
                continue
            dv.errorTitle = f"“{column.header}”取值无效"
            dv.showErrorMessage = True
            if column.note:
                dv.promptTitle = column.header
                dv.prompt = column.note
                dv.showInputMessage = True
            dv.add(target)
            ws.data_validations.append(dv)

    def _write_guide(self) -> None:
        ws = self._sheet(GUIDE_SHEET)
        for letter, width in zip("ABCD", (14, 28, 8, 60), strict=True):
            ws.column_dimensions[letter].width = width
        ws.append(["表", "列", "必填", "说明"])
        for sheet, columns in ((RESOURCE_SHEET, RESOURCE_COLUMNS), (ITEM_SHEET, ITEM_COLUMNS)):
            for column in columns:
                allowed = ""
                if column.choices:
                    allowed = "可选:" + "、".join(choice_label(m) for m in column.choices)
                elif column.boolean:
                    allowed = f"填写“{YES}”或“{NO}”"
                note = ";".join(x for x in (column.note, allowed) if x)
                ws.append([sheet, column.header, YES if column.required else "", note])
        ws.append([])
        ws.append(["", "", "", "“信息项”表的第一列也可以是“信息资源代码”,按代码关联资源。"])
        ws.append(["", "", "", "文件有任何一行错误时整份文件都不会导入,平台会逐行逐列列出问题。"])

    def _write_lists(self, lists: ReferenceLists) -> None:
        ws = self._sheet(LISTS_SHEET)
        for letter, width in zip("ABC", (12, 24, 24), strict=True):
            ws.column_dimensions[letter].width = width
        ws.append(["分类码", "分类名称", "主题名称"])
        rows = max(len(lists.classifications), len(lists.topics))
        for index in range(rows):
            code, name = lists.classifications[index] if index < len(lists.classifications) else ("", "")
            topic = lists.topics[index] if index < len(lists.topics) else ""
            ws.append([_safe(ws, code), _safe(ws, name), _safe(ws, topic)])

    # --- rows

    def add_resource(self, values: dict[str, object], items: Iterable[dict[str, object]]) -> None:
        """Append one resource (values keyed by ``Column.key``) and its 信息项."""
        self.count += 1
        values = {**values, "seq": self.count}
        self._resources.append([_cell(self._resources, values.get(c.key)) for c in RESOURCE_COLUMNS])
        for item in items:
            item = {**item, "resource_seq": self.count}
            self._items.append([_cell(self._items, item.get(c.key)) for c in ITEM_COLUMNS])

    def save(self, out: IO[bytes]) -> None:
        self._wb.save(out)  # ZipFile takes a binary file object as well as a path


def _safe(ws: Any, value: str) -> Cell | str:
    if value and is_formula_like(value):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # kept as text, never a formula
        cell.quotePrefix = True  # Excel shows it as text and keeps it text when edited
        return cell
    return value


def _cell(ws: Any, value: object) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, StrEnum):
        return choice_label(value)
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell = WriteOnlyCell(ws, value=dt.datetime.combine(value, dt.time()))
        cell.number_format = _DATE_FORMAT
        return cell
    if isinstance(value, int):
        return value
    return _safe(ws, str(value))


# -------------------------------------------------------------------------------------- reading


@dataclass
class ParsedItem:
    row: int
    resource_seq: int | None
    resource_code: str
    position: int | None
    values: dict[str, Any]


@dataclass
class ParsedResource:
    row: int
    seq: int | None
    code: str
    provider_name: str
    provider_uscc: str
    topic_name: str
    status: ResourceStatus | None
    published_on: dt.date | None
    values: dict[str, Any]  # ResourceFields arguments, except items and topic_id
    items: list[ParsedItem] = field(default_factory=list)


@dataclass
class ParsedWorkbook:
    resources: list[ParsedResource]
    items: list[ParsedItem]
    links_by_code: bool


class ErrorList:
    """Problems found in a file, each with its sheet, Excel row and column header.

    ``FieldError.field`` is the column header and ``row`` the Excel row; the message names the
    sheet too, since both sheets are reported together, ordered by sheet and row.
    """

    def __init__(self) -> None:
        self._found: list[tuple[int, int, int, FieldError]] = []
        self._cells: set[tuple[str, int, str]] = set()

    def add(self, sheet: str, row: int, column: str, message: str, *, unless_reported: bool = False) -> None:
        """Record a problem; ``unless_reported`` skips a cell that already has one (a rule re-reporting it)."""
        cell = (sheet, row, column)
        if unless_reported and cell in self._cells:
            return
        self._cells.add(cell)
        if len(self._found) >= MAX_ERRORS:
            return
        where = f"“{sheet}”表第 {row} 行" if row else f"“{sheet}”表"
        error = FieldError(field=column, row=row or None, message=f"{where}“{column}”:{message}")
        self._found.append((0 if sheet == RESOURCE_SHEET else 1, row, len(self._found), error))

    @property
    def errors(self) -> list[FieldError]:
        return [found[3] for found in sorted(self._found, key=lambda f: f[:3])]

    def __bool__(self) -> bool:
        return bool(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def raise_if_any(self) -> None:
        """One ValidationFailed listing every problem, so the file is imported whole or not at all."""
        if not self._found:
            return
        errors = self.errors
        shown = ";".join(e.message for e in errors[:MAX_ERRORS_IN_DETAIL])
        more = f" 等共 {len(errors)} 处" if len(errors) > MAX_ERRORS_IN_DETAIL else ""
        capped = f"(问题过多,只列出前 {MAX_ERRORS} 处)" if len(errors) >= MAX_ERRORS else ""
        raise ValidationFailed(
            f"导入文件有误,未导入任何数据:{shown}{more}{capped}", code="import_invalid", errors=errors
        )


def _refuse(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, errors=[FieldError(field="文件", message=message)])


def read_limited(stream: IO[bytes], max_bytes: int) -> bytes:
    """Read an upload, refusing it as soon as it passes ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(max_bytes: int) -> ValidationFailed:
    return _refuse(f"文件超过 {max_bytes / 1024 / 1024:.0f} MB 的上限,请拆分后分批导入", "import_file_too_large")


def _header_map(sheet: str, header: Sequence[object], columns: Sequence[Column], errors: ErrorList) -> dict[str, int]:
    """Column key → index, by header text; missing required headers and unknown headers are errors."""
    by_header = {_fold(c.header): c for c in columns}
    found: dict[str, int] = {}
    for index, value in enumerate(header):
        text = cell_text(value)
        if not text:
            continue
        column = by_header.get(_fold(text))
        if column is None:
            errors.add(sheet, 1, text, "无法识别的列,请使用平台提供的模板")
        elif column.key in found:
            errors.add(sheet, 1, column.header, "列重复")
        else:
            found[column.key] = index
    for column in columns:
        if column.key not in found and (column.required or column.choices or column.boolean):
            errors.add(sheet, 1, column.header, "缺少此列,请使用平台提供的模板")
    return found


def _rows(ws: Any, limit: int, sheet: str) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Non-blank rows below the header with their Excel row numbers; refuses more than ``limit``."""
    ws.reset_dimensions()  # a wrong <dimension> in the file must not hide rows
    counted = 0
    for number, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if number > limit * 10 + 1000:
            break  # only blank formatted rows can get here (non-blank ones stopped below)
        if not any(cell_text(v) for v in row):
            continue
        counted += 1
        if counted > limit:
            raise _refuse(f"“{sheet}”表超过 {limit} 行的上限,请拆分后分批导入", "import_too_many_rows")
        yield number, tuple(row)


class _RowReader:
    """Typed access to one row's cells, recording each problem against its column."""

    def __init__(
        self, sheet: str, number: int, row: Sequence[object], index: dict[str, int], errors: ErrorList
    ) -> None:
        self.sheet, self.number, self.row, self.index, self.errors = sheet, number, row, index, errors

    def raw(self, column: Column) -> object:
        position = self.index.get(column.key)
        if position is None or position >= len(self.row):
            return None
        return self.row[position]

    def error(self, column: Column, message: str) -> None:
        self.errors.add(self.sheet, self.number, column.header, message)

    def text(self, column: Column) -> str:
        text = cell_text(self.raw(column))
        if column.required and not text:
            self.error(column, "必填")
        return text

    def integer(self, column: Column) -> int | None:
        raw = self.raw(column)
        if not cell_text(raw):
            if column.required:
                self.error(column, "必填")
            return None
        value = parse_int(raw)
        if value is None or value < 1:
            self.error(column, f"“{cell_text(raw)}”不是正整数")
            return None
        return value

    def choice(self, column: Column, enum: type[StrEnum]) -> StrEnum | None:
        text = self.text(column)
        if not text:
            return None
        member = parse_choice(enum, text)
        if member is None:
            allowed = "、".join(choice_label(m) for m in enum)
            self.error(column, f"“{text}”不是允许的取值,应为 {allowed} 之一")
        return member

    def boolean(self, column: Column) -> bool | None:
        text = self.text(column)
        if not text:
            return None
        value = parse_bool(text)
        if value is None:
            self.error(column, f"“{text}”无法识别,请填写“{YES}”或“{NO}”")
        return value

    def date(self, column: Column) -> dt.date | None:
        raw = self.raw(column)
        if not cell_text(raw):
            return None
        value = parse_date(raw)
        if value is None:
            self.error(column, f"“{cell_text(raw)}”不是日期,请按 YYYY-MM-DD 填写")
        return value


RESOURCE_COLUMN = {c.key: c for c in RESOURCE_COLUMNS}
ITEM_COLUMN = {c.key: c for c in (*ITEM_COLUMNS, ITEM_CODE_LINK)}


def _parse_resource(reader: _RowReader) -> ParsedResource:
    values: dict[str, Any] = {
        "name": reader.text(RESOURCE_COLUMN["name"]),
        "classification_code": reader.text(RESOURCE_COLUMN["classification_code"]).split(" ")[0],
        "provider_office": reader.text(RESOURCE_COLUMN["provider_office"]),
        "summary": reader.text(RESOURCE_COLUMN["summary"]),
        "scenario": reader.text(RESOURCE_COLUMN["scenario"]),
        "format_type": reader.text(RESOURCE_COLUMN["format_type"]),
        "share_condition": reader.text(RESOURCE_COLUMN["share_condition"]),
        "share_basis": reader.text(RESOURCE_COLUMN["share_basis"]),
        "open_condition": reader.text(RESOURCE_COLUMN["open_condition"]),
        "related_codes": split_codes(reader.text(RESOURCE_COLUMN["related_codes"])),
    }
    for key, enum in (
        ("format_class", FormatClass),
        ("share_type", ShareType),
        ("channel", Channel),
        ("open_type", OpenType),
        ("update_cycle", UpdateCycle),
        ("sensitivity_level", SensitivityLevel),
    ):
        member = reader.choice(RESOURCE_COLUMN[key], enum)
        if member is not None:
            values[key] = member
        elif RESOURCE_COLUMN[key].required:
            values[key] = None  # reported already; keeps pydantic from reporting it twice
    classified = reader.boolean(RESOURCE_COLUMN["classified"])
    if classified is not None:
        values["classified"] = classified
    status = reader.choice(RESOURCE_COLUMN["status"], ResourceStatus)
    assert status is None or isinstance(status, ResourceStatus)
    return ParsedResource(
        row=reader.number,
        seq=reader.integer(RESOURCE_COLUMN["seq"]),
        code=reader.text(RESOURCE_COLUMN["code"]),
        provider_name=reader.text(RESOURCE_COLUMN["provider_name"]),
        provider_uscc=unicodedata.normalize("NFKC", reader.text(RESOURCE_COLUMN["provider_uscc"])).upper(),
        topic_name=reader.text(RESOURCE_COLUMN["topic"]),
        status=status,
        published_on=reader.date(RESOURCE_COLUMN["published_on"]),
        values=values,
    )


def _parse_item(reader: _RowReader, links_by_code: bool) -> ParsedItem:
    values: dict[str, Any] = {
        "name": reader.text(ITEM_COLUMN["name"]),
        "description": reader.text(ITEM_COLUMN["description"]),
        "length": reader.integer(ITEM_COLUMN["length"]),
    }
    data_type = reader.choice(ITEM_COLUMN["data_type"], DataType)
    values["data_type"] = data_type
    sensitivity = reader.choice(ITEM_COLUMN["sensitivity"], Sensitivity)
    if sensitivity is not None:
        values["sensitivity"] = sensitivity
    for key in ("shareable", "is_basic"):
        flag = reader.boolean(ITEM_COLUMN[key])
        if flag is not None:
            values[key] = flag
    return ParsedItem(
        row=reader.number,
        resource_seq=None if links_by_code else reader.integer(ITEM_COLUMN["resource_seq"]),
        resource_code=reader.text(ITEM_COLUMN["resource_code"]) if links_by_code else "",
        position=reader.integer(ITEM_COLUMN["position"]),
        values=values,
    )


def read_workbook(data: bytes, limits: ImportLimits, errors: ErrorList) -> ParsedWorkbook:
    """Parse both sheets; cell-level problems go to ``errors``, a file that is not the template raises."""
    if len(data) > limits.max_bytes:
        raise too_large(limits.max_bytes)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is not a workbook
        raise _refuse("文件不是有效的 Excel 工作簿(.xlsx),请使用平台提供的模板", "import_not_xlsx") from exc
    try:
        missing = [name for name in (RESOURCE_SHEET, ITEM_SHEET) if name not in wb.sheetnames]
        if missing:
            raise _refuse(f"工作簿缺少工作表“{'”“'.join(missing)}”,请使用平台提供的模板", "import_sheet_missing")
        resources = _read_resources(wb[RESOURCE_SHEET], limits, errors)
        items, links_by_code = _read_items(wb[ITEM_SHEET], limits, errors)
    finally:
        wb.close()
    return ParsedWorkbook(resources, items, links_by_code)


def _first_row(ws: Any) -> tuple[object, ...]:
    for row in ws.iter_rows(min_row=1, max_row=1, values_only=True):
        return tuple(row)
    return ()


def _read_resources(ws: Any, limits: ImportLimits, errors: ErrorList) -> list[ParsedResource]:
    index = _header_map(RESOURCE_SHEET, _first_row(ws), RESOURCE_COLUMNS, errors)
    return [
        _parse_resource(_RowReader(RESOURCE_SHEET, number, row, index, errors))
        for number, row in _rows(ws, limits.max_resource_rows, RESOURCE_SHEET)
    ]


def _read_items(ws: Any, limits: ImportLimits, errors: ErrorList) -> tuple[list[ParsedItem], bool]:
    header = _first_row(ws)
    links_by_code = bool(header) and _fold(cell_text(header[0])) == _fold(ITEM_CODE_LINK.header)
    columns = (ITEM_CODE_LINK, *ITEM_COLUMNS[1:]) if links_by_code else ITEM_COLUMNS
    index = _header_map(ITEM_SHEET, header, columns, errors)
    items = [
        _parse_item(_RowReader(ITEM_SHEET, number, row, index, errors), links_by_code)
        for number, row in _rows(ws, limits.max_item_rows, ITEM_SHEET)
    ]
    return items, links_by_code


# ----------------------------------------------------------------------------- checks in the file


def link_items(parsed: ParsedWorkbook, errors: ErrorList) -> None:
    """Attach 信息项 to their resources; duplicates inside the file are errors."""
    by_seq: dict[int, ParsedResource] = {}
    by_code: dict[str, ParsedResource] = {}
    by_name: dict[str, ParsedResource] = {}
    for resource in parsed.resources:
        if resource.seq is not None:
            first = by_seq.setdefault(resource.seq, resource)
            if first is not resource:
                errors.add(
                    RESOURCE_SHEET,
                    resource.row,
                    RESOURCE_COLUMN["seq"].header,
                    f"序号 {resource.seq} 与第 {first.row} 行重复",
                )
        if resource.code:
            first = by_code.setdefault(resource.code, resource)
            if first is not resource:
                errors.add(RESOURCE_SHEET, resource.row, RESOURCE_COLUMN["code"].header, f"代码与第 {first.row} 行重复")
        key = name_key(str(resource.values["name"]))
        # A withdrawn resource's name is free again (the catalog's own rule), so it is no duplicate.
        if key and resource.status != ResourceStatus.withdrawn:
            first = by_name.setdefault(key, resource)
            if first is not resource:
                errors.add(
                    RESOURCE_SHEET,
                    resource.row,
                    RESOURCE_COLUMN["name"].header,
                    f"与第 {first.row} 行的“{first.values['name']}”重名(去除标点和空格后相同)",
                )
    link_column = ITEM_COLUMN["resource_code"] if parsed.links_by_code else ITEM_COLUMN["resource_seq"]
    for item in parsed.items:
        if parsed.links_by_code:
            owner = by_code.get(item.resource_code) if item.resource_code else None
            missing = f"“{RESOURCE_SHEET}”表中没有代码为“{item.resource_code}”的资源"
            known = bool(item.resource_code)
        else:
            owner = by_seq.get(item.resource_seq) if item.resource_seq is not None else None
            missing = f"“{RESOURCE_SHEET}”表中没有序号为 {item.resource_seq} 的资源"
            known = item.resource_seq is not None
        if owner is None:
            if known:
                errors.add(ITEM_SHEET, item.row, link_column.header, missing)
            continue
        owner.items.append(item)
    for resource in parsed.resources:
        seen: dict[int, ParsedItem] = {}
        for item in resource.items:
            if item.position is None:
                continue
            earlier = seen.setdefault(item.position, item)
            if earlier is not item:
                errors.add(
                    ITEM_SHEET,
                    item.row,
                    ITEM_COLUMN["position"].header,
                    f"信息项序号 {item.position} 与第 {earlier.row} 行重复",
                )
        resource.items.sort(key=lambda i: (i.position is None, i.position or 0, i.row))


# Values put in place of a broken or missing cell so that the domain rules can still check the rest
# of the row; the broken cell itself has been reported, and no rule can fire because of these.
def fill_gaps(values: dict[str, Any]) -> dict[str, Any]:
    filled = dict(values)
    format_class, channel = filled.get("format_class"), filled.get("channel")
    if format_class is None and channel is None:
        filled["format_class"], filled["channel"] = FormatClass.database, Channel.table
    elif format_class is None:
        filled["format_class"] = next(f for f, allowed in FORMAT_CHANNELS.items() if channel in allowed)
    elif channel is None:
        filled["channel"] = sorted(FORMAT_CHANNELS[FormatClass(format_class)])[0]
    filled.setdefault("share_type", ShareType.unconditional)
    if filled.get("share_type") is None:
        filled["share_type"] = ShareType.unconditional
    for key, default in (("update_cycle", UpdateCycle.other), ("open_type", OpenType.closed)):
        if filled.get(key) is None:
            filled[key] = default
    return filled


_PYDANTIC_MESSAGES = {
    "missing": "必填",
    "string_too_short": "必填",
    "string_too_long": "内容过长",
    "too_long": "内容过长",
    "int_parsing": "应为整数",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "enum": "不是允许的取值",
}


def report_schema_errors(errors: ErrorList, resource: ParsedResource, exc: PydanticValidationError) -> None:
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        kind = str(err.get("type"))
        message = _PYDANTIC_MESSAGES.get(kind, "取值无效")
        limit = (err.get("ctx") or {}).get("max_length")
        if kind == "string_too_long" and limit:
            message = f"内容过长,最多 {limit} 个字"
        if len(loc) >= 3 and loc[0] == "items":
            report(errors, resource, f"items[{loc[1]}].{loc[2]}", message)
        else:
            report(errors, resource, loc[0] if loc else "", message)


_ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.(\w+)$")


def report(errors: ErrorList, resource: ParsedResource, field_name: str, message: str) -> None:
    """Put a schema or domain-rule problem on the cell it is about; a cell reported already keeps its first."""
    match = _ITEM_FIELD.match(field_name)
    if match is not None:
        index = int(match[1])
        if index < len(resource.items):
            column = _ITEM_FIELD_COLUMN.get(match[2], match[2])
            errors.add(ITEM_SHEET, resource.items[index].row, column, message, unless_reported=True)
            return
    base = field_name.split("[", 1)[0]
    column = _RESOURCE_FIELD_COLUMN.get(base, ITEM_SHEET if base == "items" else base or RESOURCE_SHEET)
    errors.add(RESOURCE_SHEET, resource.row, column, message, unless_reported=True)
