"""Data quality of synced rows (A25.1): completeness, validity and key uniqueness per 信息项.

Pure functions, no database: a sync builds one ``QualityTally`` per run, ``add``s every batch it loads
(or ``merge``s the tallies ``check_batch`` returns), and keeps ``summary()`` — plain JSON with Chinese
labels and sentences — on the run row for the provider's and the bureau's pages.

- Completeness: a value is missing when it is ``None`` or blank (empty or whitespace-only text/bytes).
- Validity by data type: C length in characters; N/Y/B/F/I numbers (finite; I integral; for N, Y and I
  the length bounds the digits of the integer part); D/T dates in ISO, ``YYYYMMDD``, ``YYYY/MM/DD`` or
  ``YYYYMMDDhhmmss`` form within ``QualityRules`` (1900-01-01 to 50 years ahead by default); L boolean
  (true/false, 1/0, y/n, 是/否). M and G are only checked for completeness. By sensitivity: 身份证号
  (18 characters, GB 11643 check character, upper-case X, a real birth date from 1900 up to today),
  手机号 (11-digit mainland mobile number, no +86 or separators), 电子邮箱. A value counts under its first
  problem only, so an item's invalid count is the number of invalid values.
- Uniqueness of a key (one or several columns; a row with a missing key part counts as key-missing):
  the tally keeps a set of the keys' 64-bit hashes, about 70 bytes per distinct key (measured: 69 MB
  for 1,000,000 keys), capped at ``max_keys`` (default 1,000,000). Rows whose key is new once the cap
  is reached are counted as ``untracked`` and the summary says the check was partial; repeats of the
  keys already held are still found. Two different keys share a hash with probability about n²/2⁶⁵
  (≈3×10⁻⁸ at a million keys), which would report one false duplicate. String hashes are salted per
  process, so tallies merge within one process (a run's batches), not across processes. With
  ``track_keys=False`` (a full sync, whose staging table's unique index enforces uniqueness) no
  hashes are kept: present and missing keys are counted, duplicates are not.
- Examples of invalid values (up to three per item, cut to 50 characters) are kept only for items of
  no sensitivity, so no personal value lands in a run record.

Speed (it runs on every synced batch): columns are taken with ``map(itemgetter(i), rows)``; a column
whose first 256 values repeat is counted with ``collections.Counter`` and each distinct value checked
once (values equal in Python — 1, 1.0, True — are then checked as one), any other column is checked
with ``Counter(map(check, column))``, so no Python loop runs per value; 身份证号 check characters use
``int(s, 13)``: 13 ≡ 2 (mod 11) turns the GB 11643 weights 2^(18-i) mod 11 into one C-level parse.
A sync's batches arrive already converted to base types and are nearly always clean, so each column
first goes through ``_clean_count``: one C-level pass (types, min/max, regex and check-character maps)
that either counts the missing values of an all-valid column or hands it to the value checks above,
which then count it exactly as before. ``bench/exchange_quality.py`` measures it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress, repeat
from operator import eq, itemgetter, mod, mul
from typing import Any, Protocol, TypedDict

from govshare.kit import clock

MISSING = "missing"
PROBLEM_LABELS: dict[str, str] = {
    "text": "不是文本",
    "length": "超过数据长度",
    "number": "不是有效数值",
    "integer": "不是整数",
    "date": "不是有效日期",
    "datetime": "不是有效日期时间",
    "date_range": "日期超出合理范围",
    "boolean": "不是有效逻辑值",
    "id_format": "身份证号格式不符(应为18位)",
    "id_check_digit": "身份证号校验位错误",
    "id_birth_date": "身份证号出生日期无效",
    "phone": "手机号格式不符(应为11位大陆手机号)",
    "email": "电子邮箱格式不符",
}
EXAMPLES_PER_ITEM = 3
DEFAULT_MAX_KEYS = 1_000_000

ID_CHECK_CHARACTERS = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9]\d{16}[\dX]", re.ASCII).fullmatch
_PHONE = re.compile(r"1[3-9]\d{9}", re.ASCII).fullmatch
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
).fullmatch
_NUMBER = re.compile(r"[+-]?(\d*)\.?(\d*)(?:[eE][+-]?\d+)?", re.ASCII).fullmatch
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII).fullmatch
_BOOLEANS = frozenset({"0", "1", "true", "false", "t", "f", "y", "n", "yes", "no", "是", "否"})

Check = Callable[[Any], str | None]


class _ItemLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def data_type(self) -> str: ...
    @property
    def length(self) -> int | None: ...
    @property
    def sensitivity(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """What the checks need of one 信息项; rows carry its values in the order of the specs."""

    name: str
    data_type: str
    length: int | None = None
    sensitivity: str = "none"

    @classmethod
    def of(cls, item: _ItemLike) -> ItemSpec:
        """From a catalog ``DataItem`` (or anything with the same four attributes)."""
        return cls(item.name, item.data_type, item.length, item.sensitivity)


@dataclass(frozen=True, slots=True)
class QualityRules:
    earliest: dt.date = dt.date(1900, 1, 1)
    years_ahead: int = 50


def id_check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a 公民身份号码."""
    return ID_CHECK_CHARACTERS[(2 * int(first17, 13)) % 11]


def make_id_number(first17: str) -> str:
    """Complete 17 digits (area, birth date, order) with the check character (fixtures and the demo)."""
    return first17 + id_check_character(first17)


def id_number_problem(value: str, today: dt.date | None = None) -> str | None:
    """None for a valid 18-character 公民身份号码, else the problem code (see ``PROBLEM_LABELS``)."""
    problem = _id_checker(today or clock.today())(value)
    return "id_format" if problem == MISSING else problem


def _id_checker(today: dt.date) -> Check:
    births: dict[str, bool] = {}

    def check(value: Any) -> str | None:
        if value is None:
            return MISSING
        if not (value.__class__ is str and _ID_SHAPE(value)):
            blank = isinstance(value, str | bytes) and not value.strip()
            return MISSING if blank else "id_format"
        if ID_CHECK_CHARACTERS[(2 * int(value[:17], 13)) % 11] != value[17]:
            return "id_check_digit"
        birth = value[6:14]
        ok = births.get(birth)
        if ok is None:
            try:
                ok = dt.date(1900, 1, 1) <= dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:])) <= today
            except ValueError:
                ok = False
            births[birth] = ok
        return None if ok else "id_birth_date"

    return check


def _phone(value: Any) -> str | None:
    text = str(value) if value.__class__ is int else value
    return None if text.__class__ is str and _PHONE(text) else "phone"


def _email(value: Any) -> str | None:
    return None if value.__class__ is str and len(value) <= 254 and _EMAIL(value) else "email"


def _text_check(length: int | None) -> Check:
    # Handles missing values itself: C is the commonest type, and this spares a call per value.
    limit = length if length is not None else -1

    def check(value: Any) -> str | None:
        if value.__class__ is str:
            if not value or value.isspace():
                return MISSING
            return "length" if limit >= 0 and len(value) > limit else None
        if value is None:
            return MISSING
        if isinstance(value, bytes):
            return MISSING if not value.strip() else "text"
        return "length" if limit >= 0 and len(str(value)) > limit else None

    return check


def _number_check(length: int | None, *, integer: bool, count_digits: bool) -> Check:
    code = "integer" if integer else "number"
    # The length bounds the integer part's digits: a magnitude test, as cheap on int and Decimal as on text.
    bound = 10**length if count_digits and length is not None else None
    pattern = _INTEGER if integer else _NUMBER

    def check(value: Any) -> str | None:
        kind = value.__class__
        if kind is int:
            return "length" if bound is not None and not -bound < value < bound else None
        if kind is str:
            if not value or value.isspace():
                return MISSING
            match = pattern(value.strip())
            if match is None or not (integer or match.group(1) or match.group(2)):
                return code
            whole = match.group().lstrip("+-") if integer else match.group(1)
            return "length" if bound is not None and len(whole.lstrip("0")) > (length or 0) else None
        if value is None:
            return MISSING
        if kind is bool:
            return code
        if kind is bytes:
            return MISSING if not value.strip() else code
        if isinstance(value, Decimal):
            if not value.is_finite() or (integer and value != value.to_integral_value()):
                return code
            return "length" if bound is not None and not -bound < value < bound else None
        if isinstance(value, float):
            if not math.isfinite(value) or (integer and not value.is_integer()):
                return code
            return "length" if bound is not None and not -bound < value < bound else None
        if isinstance(value, int):  # an int subclass other than bool
            return None
        return code

    return check


def _parse_date_text(text: str, *, with_time: bool) -> dt.date | None:
    text = text.strip().replace("/", "-")
    try:
        if len(text) == 14 and text.isdigit():
            return dt.datetime.fromisoformat(f"{text[:8]}T{text[8:]}")
        if not with_time:
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _date_check(rules: QualityRules, today: dt.date, *, with_time: bool) -> Check:
    code = "datetime" if with_time else "date"
    latest = dt.date(today.year + rules.years_ahead, today.month, min(today.day, 28 if today.month == 2 else 31))
    earliest = rules.earliest

    def check(value: Any) -> str | None:
        if isinstance(value, dt.date):
            day = value.date() if isinstance(value, dt.datetime) else value
        elif value.__class__ is str:
            if not value or value.isspace():
                return MISSING
            parsed = _parse_date_text(value, with_time=with_time)
            if parsed is None:
                return code
            day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        elif value.__class__ is int and not with_time and 10_000_000 <= value <= 99_999_999:
            parsed = _parse_date_text(str(value), with_time=False)
            if parsed is None:
                return code
            day = parsed
        elif value is None or (value.__class__ is bytes and not value.strip()):
            return MISSING
        else:
            return code
        return None if earliest <= day <= latest else "date_range"

    return check


def _boolean(value: Any) -> str | None:
    kind = value.__class__
    if kind is bool:
        return None
    if kind is str:
        return None if value.strip().lower() in _BOOLEANS else "boolean"
    if isinstance(value, int | float | Decimal):  # 1, 1.0 and True are equal, and counted alike
        return None if value in (0, 1) else "boolean"
    return "boolean"


def _no_check(value: Any) -> str | None:
    return None


def _compile(spec: ItemSpec, rules: QualityRules, today: dt.date) -> Check:
    kind = spec.data_type
    type_check: Check
    if kind == "C":
        type_check = _text_check(spec.length)
    elif kind in ("N", "Y", "B", "F", "I"):
        type_check = _number_check(spec.length, integer=kind == "I", count_digits=kind in ("N", "Y", "I"))
    elif kind in ("D", "T"):
        type_check = _date_check(rules, today, with_time=kind == "T")
    elif kind == "L":
        type_check = _boolean
    else:  # M 备注型, G 通用型: anything goes
        type_check = _no_check
    sensitive: Check | None = {
        "id_number": _id_checker(today),
        "phone": _phone,
        "email": _email,
    }.get(spec.sensitivity)

    # Three shapes, to spare a Python call per value where the checks allow it.
    if sensitive is None and kind in ("C", "N", "Y", "B", "F", "I", "D", "T"):
        return type_check  # these checks tell missing values themselves
    if sensitive is None:

        def check(value: Any) -> str | None:
            if value is None:
                return MISSING
            kind = value.__class__
            if (kind is str or kind is bytes) and (not value or value.isspace()):
                return MISSING
            return type_check(value)

        return check
    if kind == "C" and spec.sensitivity == "id_number" and (spec.length is None or spec.length >= 18):
        # An 18-character text cannot exceed the length, and the ID check refuses everything else.
        return sensitive

    def check_both(value: Any) -> str | None:
        if value is None:
            return MISSING
        kind = value.__class__
        if (kind is str or kind is bytes) and (not value or value.isspace()):
            return MISSING
        problem = type_check(value)
        return problem if problem is not None else sensitive(value)

    return check_both


CleanCount = Callable[[Sequence[Any]], int | None]
_NONE_TYPE = type(None)


def _clean_count(spec: ItemSpec, rules: QualityRules, today: dt.date) -> CleanCount | None:
    """A whole-column check for the common case of values already in their base type (a sync's
    converted batches): it returns the number of missing values when every other value is valid, and
    None when it cannot tell (then each value is checked). Only C-level passes over the column."""
    kind = spec.data_type
    if spec.sensitivity == "id_number" and kind == "C" and (spec.length is None or spec.length >= 18):
        return _clean_id_numbers(today)
    if spec.sensitivity == "phone" and kind == "C" and (spec.length is None or spec.length >= 11):

        def phones(column: Sequence[Any]) -> int | None:
            if not set(map(type, column)) <= {str, _NONE_TYPE}:
                return None
            values = [v for v in column if v]
            return None if None in map(_PHONE, values) else len(column) - len(values)

        return phones
    if spec.sensitivity in ("id_number", "phone", "email"):
        return None
    if kind in ("C", "M", "G"):
        limit = spec.length if kind == "C" else None

        def text(column: Sequence[Any]) -> int | None:
            if not set(map(type, column)) <= {str, _NONE_TYPE}:
                return None
            values = [v for v in column if v]
            if limit is not None and values and max(map(len, values)) > limit:
                return None
            return len(column) - len(values) + sum(map(str.isspace, values))

        return text
    if kind in ("I", "N", "Y", "B", "F"):
        bound = 10**spec.length if kind in ("N", "Y", "I") and spec.length is not None else None
        allowed = {int, _NONE_TYPE} if kind == "I" else {int, Decimal, _NONE_TYPE}

        def number(column: Sequence[Any]) -> int | None:
            types = set(map(type, column))
            if not types <= allowed:
                return None
            values = [v for v in column if v is not None]
            if Decimal in types and not all(map(Decimal.is_finite, filter(Decimal.__instancecheck__, values))):
                return None
            if bound is not None and values and not (-bound < min(values) and max(values) < bound):
                return None
            return len(column) - len(values)

        return number
    if kind in ("D", "T"):
        latest = dt.date(today.year + rules.years_ahead, today.month, min(today.day, 28 if today.month == 2 else 31))
        value_type = dt.date if kind == "D" else dt.datetime

        def dates(column: Sequence[Any]) -> int | None:
            if not set(map(type, column)) <= {value_type, _NONE_TYPE}:
                return None
            values = [v for v in column if v is not None]
            if values:
                low, high = min(values), max(values)
                if kind == "T":
                    low, high = low.date(), high.date()
                if not (rules.earliest <= low and high <= latest):
                    return None
            return len(column) - len(values)

        return dates
    if kind == "L":

        def flags(column: Sequence[Any]) -> int | None:
            return column.count(None) if set(map(type, column)) <= {bool, _NONE_TYPE} else None

        return flags
    return None


def _clean_id_numbers(today: dt.date) -> CleanCount:
    """身份证号 a column at a time: shape by regex, check characters and birth dates by C-level maps
    (the same GB 11643 arithmetic as ``_id_checker``), each distinct birth date checked once."""
    births: dict[str, bool] = {}

    def ids(column: Sequence[Any]) -> int | None:
        if not set(map(type, column)) <= {str, _NONE_TYPE}:
            return None
        values = [v for v in column if v]
        if None in map(_ID_SHAPE, values):  # also blank values: the checks of each value tell them apart
            return None
        firsts = map(int, map(itemgetter(slice(0, 17)), values), repeat(13))
        expected = map(ID_CHECK_CHARACTERS.__getitem__, map(mod, map(mul, firsts, repeat(2)), repeat(11)))
        if not all(map(eq, expected, map(itemgetter(17), values))):
            return None
        for birth in set(map(itemgetter(slice(6, 14)), values)):
            ok = births.get(birth)
            if ok is None:
                try:
                    ok = dt.date(1900, 1, 1) <= dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:])) <= today
                except ValueError:
                    ok = False
                births[birth] = ok
            if not ok:
                return None
        return len(column) - len(values)

    return ids


@dataclass(slots=True)
class ItemTally:
    spec: ItemSpec
    filled: int = 0
    missing: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return sum(self.problems.values())


class ProblemCount(TypedDict):
    code: str
    label: str
    count: int


class ItemSummary(TypedDict):
    name: str
    data_type: str
    sensitivity: str
    filled: int
    missing: int
    invalid: int
    completeness: float | None
    validity: float | None
    problems: list[ProblemCount]
    examples: list[str]
    text: str


class KeySummary(TypedDict):
    columns: list[str]
    rows: int
    missing: int
    duplicates: int
    untracked: int
    complete: bool
    uniqueness: float | None
    text: str


class QualitySummary(TypedDict):
    rows: int
    cells: int
    completeness: float | None
    validity: float | None
    items: list[ItemSummary]
    key: KeySummary | None
    text: str


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _percent(rate: float | None) -> str:
    # Rounded down, so that 19,999 of 20,000 never reads as 100.00%.
    return "—" if rate is None else f"{math.floor(rate * 10_000 + 1e-6) / 100:.2f}%"


class QualityTally:
    """The running quality figures of one run; ``add`` a batch at a time, ``merge`` another tally."""

    def __init__(
        self,
        items: Sequence[ItemSpec],
        *,
        key: Sequence[str] = (),
        rules: QualityRules | None = None,
        today: dt.date | None = None,
        max_keys: int = DEFAULT_MAX_KEYS,
        track_keys: bool = True,
    ) -> None:
        """``track_keys=False``: count the key's present and missing rows but keep no key hashes, for a
        load whose target enforces uniqueness itself (a full sync builds a unique index before its swap
        and fails on a duplicate, so every completed run has unique keys); memory stays independent of
        the number of rows. Duplicates are then not counted here."""
        self.items = [ItemTally(spec) for spec in items]
        names = [spec.name for spec in items]
        unknown = [name for name in key if name not in names]
        if unknown:
            raise ValueError(f"key columns not among the items: {unknown}")
        self.key = tuple(key)
        self._key_positions = [names.index(name) for name in key]
        self.rules = rules or QualityRules()
        self.today = today or clock.today()
        self.max_keys = max_keys
        self.track_keys = track_keys
        self.rows = 0
        self.key_rows = 0
        self.key_missing = 0
        self.key_duplicates = 0
        self.key_untracked = 0
        self._seen: set[int] = set()
        self._checks = [_compile(spec, self.rules, self.today) for spec in items]
        self._clean = [_clean_count(spec, self.rules, self.today) for spec in items]

    def add(self, rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]) -> QualityTally:
        """Count one batch: rows are sequences in the items' order, or mappings by item name."""
        if not rows:
            return self
        columns = self._columns(rows)
        self.rows += len(rows)
        for tally, check, clean, column in zip(self.items, self._checks, self._clean, columns, strict=True):
            missing = clean(column) if clean is not None else None
            if missing is not None:  # every value valid: only the missing ones to count
                tally.missing += missing
                tally.filled += len(column) - missing
                continue
            self._add_column(tally, check, column)
        if self.key:
            self._add_keys([columns[i] for i in self._key_positions])
        return self

    def _columns(self, rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]) -> list[Sequence[Any]]:
        if isinstance(rows[0], Mapping):
            return [[row.get(t.spec.name) for row in rows] for t in self.items]  # type: ignore[union-attr]
        widths = set(map(len, rows))
        if widths != {len(self.items)}:
            raise ValueError(f"rows have {sorted(widths)} values, the items are {len(self.items)}")
        # One C-level pass per column; zip(*rows) would build an iterator per row.
        return [list(map(itemgetter(i), rows)) for i in range(len(self.items))]

    def _add_column(self, tally: ItemTally, check: Check, column: Sequence[Any]) -> None:
        # Low-cardinality columns (codes, dates, flags) are checked once per distinct value; the rest
        # per value, with map() driving the check from C.
        sample = column[:256]
        try:
            distinct = len(set(sample)) * 2 < len(sample)
            counts = Counter(column) if distinct else None
        except TypeError:  # unhashable values (JSON columns)
            counts = None
        if counts is not None:
            results: Counter[str | None] = Counter()
            for value, n in counts.items():
                results[check(value)] += n
        else:
            results = Counter(map(check, column))
        missing = results.pop(MISSING, 0)
        results.pop(None, 0)
        tally.missing += missing
        tally.filled += len(column) - missing
        if not results:
            return
        tally.problems.update(results)  # type: ignore[arg-type]
        if tally.spec.sensitivity == "none" and len(tally.examples) < EXAMPLES_PER_ITEM:
            for value in column:
                problem = check(value)
                if problem is not None and problem != MISSING:
                    tally.examples.append(str(value)[:50])
                    if len(tally.examples) >= EXAMPLES_PER_ITEM:
                        break

    def _add_keys(self, columns: list[Sequence[Any]]) -> None:
        total = len(columns[0])
        if not self.track_keys and len(columns) == 1:  # counted in C, no list of keys built
            missing = columns[0].count(None) + columns[0].count("")
            self.key_missing += missing
            self.key_rows += total - missing
            return
        present: list[bool] | None = None
        for column in columns:
            if None in column or "" in column:
                mask = [value is not None and value != "" for value in column]
                present = mask if present is None else [a and b for a, b in zip(present, mask, strict=True)]
        keys: Iterable[Any] = columns[0] if len(columns) == 1 else zip(*columns, strict=True)
        keys = list(compress(keys, present)) if present is not None else list(keys)
        self.key_missing += total - len(keys)
        self.key_rows += len(keys)
        if not self.track_keys:
            return
        seen = self._seen
        if len(seen) + len(keys) <= self.max_keys:
            before = len(seen)
            seen.update(map(hash, keys))
            self.key_duplicates += len(keys) - (len(seen) - before)
            return
        for hashed in map(hash, keys):
            if hashed in seen:
                self.key_duplicates += 1
            elif len(seen) < self.max_keys:
                seen.add(hashed)
            else:
                self.key_untracked += 1

    def merge(self, other: QualityTally) -> QualityTally:
        """Add another tally of the same items and key (another batch of the same run) into this one."""
        if (
            [t.spec for t in other.items] != [t.spec for t in self.items]
            or other.key != self.key
            or other.track_keys != self.track_keys
        ):
            raise ValueError("tallies of different items or keys cannot be merged")
        self.rows += other.rows
        for mine, theirs in zip(self.items, other.items, strict=True):
            mine.filled += theirs.filled
            mine.missing += theirs.missing
            mine.problems.update(theirs.problems)
            room = EXAMPLES_PER_ITEM - len(mine.examples)
            mine.examples.extend(theirs.examples[: max(room, 0)])
        self.key_rows += other.key_rows
        self.key_missing += other.key_missing
        self.key_untracked += other.key_untracked
        before = len(self._seen) + len(other._seen)
        self._seen |= other._seen
        self.key_duplicates += other.key_duplicates + before - len(self._seen)
        return self

    def summary(self) -> QualitySummary:
        """Plain JSON figures with Chinese labels and sentences, for the run row and the pages."""
        items = [self._item_summary(t) for t in self.items]
        cells = self.rows * len(self.items)
        filled = sum(t.filled for t in self.items)
        invalid = sum(t.invalid for t in self.items)
        completeness = _rate(filled, cells)
        validity = _rate(filled - invalid, filled)
        key = self._key_summary() if self.key else None
        text = (
            f"共检查 {self.rows:,} 行、{len(self.items)} 个信息项:完整率 {_percent(completeness)},"
            f"有效率 {_percent(validity)}"
        )
        if key is not None:
            text += f";{key['text']}"
        return {
            "rows": self.rows,
            "cells": cells,
            "completeness": completeness,
            "validity": validity,
            "items": items,
            "key": key,
            "text": text + "。",
        }

    def _item_summary(self, tally: ItemTally) -> ItemSummary:
        problems: list[ProblemCount] = [
            {"code": code, "label": PROBLEM_LABELS[code], "count": count}
            for code, count in sorted(tally.problems.items(), key=lambda pair: (-pair[1], pair[0]))
            if count
        ]
        invalid = tally.invalid
        completeness = _rate(tally.filled, self.rows)
        validity = _rate(tally.filled - invalid, tally.filled)
        text = f"{tally.spec.name}:完整率 {_percent(completeness)},有效率 {_percent(validity)}"
        if tally.missing:
            text += f",缺失 {tally.missing:,} 条"
        if problems:
            text += "(" + "、".join(f"{p['label']} {p['count']:,} 条" for p in problems) + ")"
        return {
            "name": tally.spec.name,
            "data_type": tally.spec.data_type,
            "sensitivity": tally.spec.sensitivity,
            "filled": tally.filled,
            "missing": tally.missing,
            "invalid": invalid,
            "completeness": completeness,
            "validity": validity,
            "problems": problems,
            "examples": list(tally.examples),
            "text": text,
        }

    def _key_summary(self) -> KeySummary:
        columns = "、".join(self.key)
        duplicates = self.key_duplicates
        text = f"主键({columns})重复 {duplicates:,} 行" if duplicates else f"主键({columns})无重复"
        if self.key_missing:
            text += f",主键缺失 {self.key_missing:,} 行"
        if self.key_untracked:
            text += f",超出唯一性检查上限 {self.max_keys:,} 个主键,{self.key_untracked:,} 行未检查"
        return {
            "columns": list(self.key),
            "rows": self.key_rows,
            "missing": self.key_missing,
            "duplicates": self.key_duplicates,
            "untracked": self.key_untracked,
            "complete": self.key_untracked == 0,
            "uniqueness": _rate(self.key_rows - self.key_duplicates, self.key_rows),
            "text": text,
        }


def check_batch(
    items: Sequence[ItemSpec],
    rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str] = (),
    rules: QualityRules | None = None,
    today: dt.date | None = None,
) -> QualityTally:
    """The quality tally of one batch; merge batches' tallies with ``QualityTally.merge``."""
    return QualityTally(items, key=key, rules=rules, today=today).add(rows)
