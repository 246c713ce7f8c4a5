"""Working days (工作日) and deadline arithmetic, plus the administrator's corrections.

How a day is decided, first rule that applies:
1. an administrator's correction of that day (``CalendarCorrection``);
2. a year an administrator loaded (``CalendarYear``): weekends are off, nothing else — its notice
   arrives as corrections, so the loaded data alone describes the year;
3. a year chinese-calendar knows: the State Council's notice as the library carries it;
4. any other year: weekends alone, and every result that depends on it is *provisional*.

The corrections of a year are read once per transaction (kept in ``session.info`` and dropped when
the transaction ends), so computing a hundred due dates costs a handful of queries.

Deliberate choices:
- ``add_working_days`` counts from the next day: day 1 is the first working day after ``start``.
- A due date is provisional when any day examined on the way (counted or skipped) lies in a
  provisional year: a skipped weekend day of 2027 might be a 调休 working day.
- Due dates stored by other domains are not rewritten here; they register ``on_change`` and
  recompute their open clocks when a year is loaded or a day corrected.
"""

from __future__ import annotations

import calendar as std_calendar
import csv
import datetime as dt
import io
import json
import json.decoder
import json.scanner
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import chinese_calendar
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.calendar import repository as repo
from govshare.calendar.models import CalendarCorrection, CalendarYear
from govshare.errors import Conflict, FieldError, NotFound, ValidationFailed, raise_if_errors
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit.clock import now, today

ONE_DAY = dt.timedelta(days=1)
MIN_YEAR = 1990
MAX_YEAR = 2199
MAX_DAYS = 1000  # the longest clock of the measures is 20 working days; this only stops runaway input
MAX_FILE_BYTES = 256 * 1024
_MAX_REPORTED = 20

_CC_HOLIDAYS: dict[dt.date, Any] = chinese_calendar.holidays
_CC_WORKDAYS: dict[dt.date, Any] = chinese_calendar.workdays
OFFICIAL_FIRST_YEAR: int = min(_CC_HOLIDAYS).year
OFFICIAL_LAST_YEAR: int = max(_CC_HOLIDAYS).year


class YearStatus(StrEnum):
    official = "official"  # chinese-calendar carries the State Council's notice
    loaded = "loaded"  # an administrator loaded the notice
    provisional = "provisional"  # nobody knows the year yet: weekends alone


YEAR_STATUS_LABELS: dict[YearStatus, str] = {
    YearStatus.official: "国务院通知(chinese-calendar 内置)",
    YearStatus.loaded: "管理员已载入",
    YearStatus.provisional: "暂定(节假日安排尚未载入,仅按周末计算)",
}

# Accepted words for a day's type in a year file and on the forms.
DAY_TYPES: dict[str, bool] = {
    "休": False,
    "班": True,
    "holiday": False,
    "workday": True,
    "off": False,
    "work": True,
}


@dataclass(frozen=True)
class Due:
    date: dt.date
    provisional: bool  # True when any day counted lies in a year nobody has loaded

    @property
    def label(self) -> str:
        return self.date.isoformat() + ("(暂定)" if self.provisional else "")


@dataclass(frozen=True)
class ClockView:
    """A clock as a page shows it: ``remaining`` is negative when overdue."""

    due: dt.date
    provisional: bool
    remaining: int
    overdue: bool
    label: str
    done: bool = False

    @property
    def css(self) -> str:
        return " ".join(["clock", *(["late"] if self.overdue else []), *(["provisional"] if self.provisional else [])])


# --- the calendar as one transaction sees it ---------------------------------------------------


@dataclass(frozen=True)
class _Year:
    year: int
    status: YearStatus
    corrections: dict[dt.date, CalendarCorrection]

    def base_working(self, day: dt.date) -> bool:
        if self.status is YearStatus.official:
            return day in _CC_WORKDAYS or (day.weekday() < 5 and day not in _CC_HOLIDAYS)
        return day.weekday() < 5

    def is_working(self, day: dt.date) -> bool:
        found = self.corrections.get(day)
        if found is not None:
            return found.working
        return self.base_working(day)


class _Calendar:
    """Years load lazily, once: one query for the loaded years, one per year for its corrections."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[int, CalendarYear] | None = None
        self._years: dict[int, _Year] = {}

    def loaded(self) -> dict[int, CalendarYear]:
        if self._loaded is None:
            self._loaded = {row.year: row for row in repo.loaded_years(self._session)}
        return self._loaded

    def year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            if year in self.loaded():
                status = YearStatus.loaded
            elif OFFICIAL_FIRST_YEAR <= year <= OFFICIAL_LAST_YEAR:
                status = YearStatus.official
            else:
                status = YearStatus.provisional
            rows = repo.corrections_between(self._session, dt.date(year, 1, 1), dt.date(year, 12, 31))
            found = _Year(year, status, {row.day: row for row in rows})
            self._years[year] = found
        return found

    def is_working(self, day: dt.date) -> bool:
        return self.year(day.year).is_working(day)


_CACHE_KEY = "govshare.calendar"


def _calendar(session: Session) -> _Calendar:
    cal = session.info.get(_CACHE_KEY)
    if not isinstance(cal, _Calendar):
        cal = _Calendar(session)
        session.info[_CACHE_KEY] = cal
    return cal


def _forget(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, _transaction: SessionTransaction) -> None:
    # Another process may have corrected the calendar; the next transaction reads it afresh.
    session.info.pop(_CACHE_KEY, None)


# --- who hears of changes ----------------------------------------------------------------------

CalendarListener = Callable[[Session, Actor, dt.date, dt.date], None]
_listeners: list[CalendarListener] = []


def on_change(listener: CalendarListener) -> CalendarListener:
    """Register ``listener(session, actor, first, last)``, called in the changing transaction after
    any day from ``first`` to ``last`` may have changed status, so that a domain can recompute the
    due dates it stored (a provisional 2027 due date becomes exact once 2027 is loaded)."""
    _listeners.append(listener)
    return listener


def _notify(session: Session, actor: Actor, first: dt.date, last: dt.date) -> None:
    for listener in _listeners:
        listener(session, actor, first, last)


# --- arithmetic --------------------------------------------------------------------------------


def _check_day(day: dt.date, name: str) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        message = f"日期须在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间"
        raise ValidationFailed(message, errors=[FieldError(name, message)])


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        message = f"年度须在 {MIN_YEAR} 至 {MAX_YEAR} 之间"
        raise ValidationFailed(message, errors=[FieldError("year", message)])


def is_working_day(session: Session, day: dt.date) -> bool:
    """Whether ``day`` is a 工作日: corrections first, then the loaded or official year, else weekends."""
    _check_day(day, "day")
    return _calendar(session).is_working(day)


def year_status(session: Session, year: int) -> YearStatus:
    """``official`` (chinese-calendar), ``loaded`` (an administrator loaded it) or ``provisional``."""
    _check_year(year)
    return _calendar(session).year(year).status


def add_working_days(session: Session, start: dt.date, days: int) -> Due:
    """The ``days``-th working day after ``start`` (day 1 is the first working day after it);
    provisional when any day on the way lies in a year nobody has loaded."""
    _check_day(start, "start")
    if not 0 <= days <= MAX_DAYS:
        message = f"工作日天数须在 0 至 {MAX_DAYS} 之间"
        raise ValidationFailed(message, errors=[FieldError("days", message)])
    cal = _calendar(session)
    day = start
    counted = 0
    provisional = False
    while counted < days:
        day += ONE_DAY
        year = cal.year(day.year)
        if year.status is YearStatus.provisional:
            provisional = True
        if year.is_working(day):
            counted += 1
    return Due(day, provisional)


def working_days_between(session: Session, start: dt.date, end: dt.date) -> int:
    """The number of working days in (``start``, ``end``]; 0 when ``end`` is not after ``start``."""
    _check_day(start, "start")
    _check_day(end, "end")
    cal = _calendar(session)
    count = 0
    day = start
    while day < end:
        day += ONE_DAY
        if cal.is_working(day):
            count += 1
    return count


def clock(session: Session, due: dt.date, provisional: bool, *, done_on: dt.date | None = None) -> ClockView:
    """How a clock stands today (or stood when the work was done on ``done_on``), in working days."""
    reference = done_on if done_on is not None else today()
    if reference <= due:
        remaining = working_days_between(session, reference, due)
        overdue = False
    else:
        remaining = -working_days_between(session, due, reference)
        overdue = True
    late = f" {-remaining} 个工作日" if remaining else ""
    if done_on is not None:
        label = f"逾期{late}办结" if overdue else "按期办结"
    elif overdue:
        label = f"已逾期{late}"
    elif reference == due:
        label = "今日到期"
    else:
        label = f"剩余 {remaining} 个工作日"
    if provisional:
        label += "(暂定)"
    return ClockView(
        due=due, provisional=provisional, remaining=remaining, overdue=overdue, label=label, done=done_on is not None
    )


# --- the year as pages and the API show it -----------------------------------------------------


@dataclass(frozen=True)
class DayInfo:
    day: dt.date
    working: bool
    corrected: bool
    note: str = ""
    name: str = ""  # the holiday's name, when chinese-calendar knows it
    provisional: bool = False  # the year is known to nobody: weekends alone

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5

    @property
    def mark(self) -> str:
        """休 for a day off that is not a plain weekend, 班 for a working weekend day (调休)."""
        if self.working:
            return "班" if self.weekend else ""
        return "休" if (not self.weekend or self.name or self.corrected) else ""


@dataclass(frozen=True)
class MonthGrid:
    month: int
    weeks: list[list[DayInfo | None]]  # Monday first; None pads the first and last week


@dataclass(frozen=True)
class YearOverview:
    year: int
    status: YearStatus
    loaded: CalendarYear | None
    days: list[DayInfo]
    corrections: list[CalendarCorrection] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return YEAR_STATUS_LABELS[self.status]

    @property
    def days_off(self) -> list[DayInfo]:
        """Weekdays that are off (holidays and their 调休 rest days)."""
        return [d for d in self.days if not d.working and not d.weekend]

    @property
    def extra_working_days(self) -> list[DayInfo]:
        """Weekend days that are working days (调休 上班)."""
        return [d for d in self.days if d.working and d.weekend]

    @property
    def months(self) -> list[MonthGrid]:
        by_day = {d.day: d for d in self.days}
        grids = []
        for month in range(1, 13):
            weeks = [
                [by_day[day] if day.month == month else None for day in week]
                for week in std_calendar.Calendar().monthdatescalendar(self.year, month)
            ]
            grids.append(MonthGrid(month, weeks))
        return grids


# chinese-calendar's values are the English names of its ``Holiday`` enum.
_CHINESE_NAMES: dict[str, str] = {str(h.value): str(h.chinese) for h in chinese_calendar.Holiday}


def _holiday_name(day: dt.date, status: YearStatus) -> str:
    if status is not YearStatus.official:
        return ""
    holiday = _CC_HOLIDAYS.get(day)
    if holiday is not None:
        return _CHINESE_NAMES.get(str(holiday), str(holiday))
    compensated = _CC_WORKDAYS.get(day)
    return f"{_CHINESE_NAMES.get(str(compensated), str(compensated))}调休上班" if compensated is not None else ""


def _day_info(info: _Year, day: dt.date) -> DayInfo:
    found = info.corrections.get(day)
    return DayInfo(
        day=day,
        working=info.is_working(day),
        corrected=found is not None,
        note=found.note if found is not None else "",
        name=_holiday_name(day, info.status),
        provisional=info.status is YearStatus.provisional,
    )


def day_info(session: Session, day: dt.date) -> DayInfo:
    """One day: working or not, whether corrected and why, whether its year is still provisional."""
    _check_day(day, "day")
    return _day_info(_calendar(session).year(day.year), day)


def year_overview(session: Session, year: int) -> YearOverview:
    """Every day of ``year`` with its status, the year's source, and its corrections."""
    _check_year(year)
    info = _calendar(session).year(year)
    days = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        days.append(_day_info(info, day))
        day += ONE_DAY
    corrections = sorted(info.corrections.values(), key=lambda c: c.day)
    return YearOverview(year, info.status, _calendar(session).loaded().get(year), days, corrections)


# --- administrator corrections -----------------------------------------------------------------


def _correction_dict(row: CalendarCorrection) -> dict[str, Any]:
    return {"day": row.day, "working": row.working, "note": row.note}


def _clean_note(note: str, name: str = "note", *, what: str = "说明") -> str:
    cleaned = " ".join(note.split())
    if not cleaned:
        message = f"请填写{what}(如依据的国务院办公厅通知文号)"
        raise ValidationFailed(message, errors=[FieldError(name, message)])
    if len(cleaned) > 200:
        message = f"{what}不能超过 200 字"
        raise ValidationFailed(message, errors=[FieldError(name, message)])
    return cleaned


def _flush_or_conflict(session: Session, detail: str) -> None:
    # Two administrators writing the same day (or year) at once: the unique key lets one win.
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(detail, code="calendar_concurrent_change") from exc


def set_day(session: Session, actor: Actor, *, day: dt.date, working: bool, note: str) -> CalendarCorrection:
    """Set one day to 班 (``working``) or 休, overriding chinese-calendar and any loaded year; audited."""
    actor.require(Permission.calendar_manage)
    _check_day(day, "day")
    cleaned = _clean_note(note)
    row = repo.correction(session, day)
    before = _correction_dict(row) if row is not None else None
    if row is None:
        row = CalendarCorrection(day=day)
        session.add(row)
    row.working = working
    row.note = cleaned
    row.set_by_id = actor.user_id
    row.set_by_name = (actor.display_name or actor.username)[:64]
    row.set_at = now()
    _flush_or_conflict(session, f"{day.isoformat()} 刚被其他管理员更正,请刷新后重试")
    _forget(session)
    audit.record(
        session,
        actor,
        Action.calendar_day_corrected,
        object_type="calendar_day",
        object_id=day.isoformat(),
        before=before,
        after=_correction_dict(row),
    )
    _notify(session, actor, day, day)
    return row


def remove_correction(session: Session, actor: Actor, *, day: dt.date) -> None:
    """Remove a day's correction: the day falls back to the loaded or official year, else weekends; audited."""
    actor.require(Permission.calendar_manage)
    row = repo.correction(session, day)
    if row is None:
        raise NotFound(f"{day.isoformat()} 没有更正记录", code="calendar_correction_not_found")
    before = _correction_dict(row)
    session.delete(row)
    session.flush()
    _forget(session)
    audit.record(
        session,
        actor,
        Action.calendar_correction_removed,
        object_type="calendar_day",
        object_id=day.isoformat(),
        before=before,
    )
    _notify(session, actor, day, day)


def load_year(
    session: Session, actor: Actor, *, year: int, holidays: list[dt.date], workdays: list[dt.date], source: str
) -> CalendarYear:
    """Load a year's holiday arrangement: its corrections are replaced by ``holidays`` (休) and
    ``workdays`` (班) and the year is no longer provisional; audited."""
    actor.require(Permission.calendar_manage)
    _check_year(year)
    cleaned = _clean_note(source, "source", what="依据")
    errors: list[FieldError] = []
    outside = sorted({d for d in [*holidays, *workdays] if d.year != year})
    if outside:
        errors.append(FieldError("file", f"以下日期不属于 {year} 年:" + "、".join(d.isoformat() for d in outside[:10])))
    both = sorted(set(holidays) & set(workdays))
    if both:
        errors.append(FieldError("file", "以下日期既标为休又标为班:" + "、".join(d.isoformat() for d in both[:10])))
    if not holidays:
        errors.append(FieldError("file", f"没有任何放假日期;{year} 年的节假日安排至少应有一天休息日"))
    raise_if_errors("年度节假日安排有误:", errors)

    previous = repo.year_row(session, year)
    before = {
        "status": year_status(session, year),
        "source": previous.source if previous is not None else None,
        "corrections": len(_calendar(session).year(year).corrections),
    }
    repo.delete_corrections_between(session, dt.date(year, 1, 1), dt.date(year, 12, 31))
    who = (actor.display_name or actor.username)[:64]
    stamp = now()
    note = f"载入:{cleaned}"[:200]
    for day in sorted(set(holidays)):
        session.add(CalendarCorrection(day=day, working=False, note=note, set_by_id=actor.user_id, set_by_name=who))
    for day in sorted(set(workdays)):
        session.add(CalendarCorrection(day=day, working=True, note=note, set_by_id=actor.user_id, set_by_name=who))
    row = previous or CalendarYear(year=year)
    if previous is None:
        session.add(row)
    row.source = cleaned
    row.loaded_by_id = actor.user_id
    row.loaded_by_name = who
    row.loaded_at = stamp
    _flush_or_conflict(session, f"{year} 年的节假日安排正由其他管理员载入,请刷新后重试")
    _forget(session)
    audit.record(
        session,
        actor,
        Action.calendar_year_loaded,
        object_type="calendar_year",
        object_id=year,
        before=before,
        after={
            "source": cleaned,
            "holidays": sorted(set(holidays)),
            "workdays": sorted(set(workdays)),
        },
    )
    _notify(session, actor, dt.date(year, 1, 1), dt.date(year, 12, 31))
    return row


def load_year_file(
    session: Session,
    actor: Actor,
    *,
    content: bytes,
    filename: str,
    source: str = "",
    expected_year: int | None = None,
) -> CalendarYear:
    """Parse a year file and load it (page, API and CLI share this); the file's year must be
    ``expected_year`` when one is given. Without a ``source`` the file's name is recorded."""
    actor.require(Permission.calendar_manage)
    year, holidays, workdays = parse_year_file(content, filename)
    if expected_year is not None and year != expected_year:
        message = f"文件中的日期属于 {year} 年,与所选的 {expected_year} 年不符"
        raise ValidationFailed(message, errors=[FieldError("year", message)])
    return load_year(
        session,
        actor,
        year=year,
        holidays=holidays,
        workdays=workdays,
        source=source.strip() or f"文件 {filename or '(未命名)'}",
    )


# --- reading typed input -----------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(text: str) -> dt.date | None:
    """``2027-01-01``, ``2027/1/1``, ``2027.1.1`` or ``2027年1月1日``; None when it is no date."""
    match = _DATE_RE.match(text.strip())
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_day(text: str, name: str = "day") -> dt.date:
    """A date typed into a form or a command, or ValidationFailed in Chinese."""
    day = parse_date(text)
    if day is None:
        message = f"日期“{text.strip()}”无效,应为 YYYY-MM-DD"
        raise ValidationFailed(message, errors=[FieldError(name, message)])
    return day


def parse_day_type(text: str, name: str = "working") -> bool:
    """休/班 (or holiday/workday) as typed; True means a working day."""
    found = DAY_TYPES.get(text.strip().lower())
    if found is None:
        message = f"类型“{text.strip()}”无效,应为 休 或 班"
        raise ValidationFailed(message, errors=[FieldError(name, message)])
    return found


# --- year files --------------------------------------------------------------------------------


@dataclass
class _Problems:
    found: list[FieldError] = field(default_factory=list)

    def add(self, line: int | None, column: int | None, message: str) -> None:
        where = ""
        if line is not None:
            where = f"第 {line} 行" + (f"第 {column} 列" if column is not None else "") + ":"
        self.found.append(FieldError("file", where + message, row=line))

    def raise_any(self) -> None:
        if not self.found:
            return
        self.found.sort(key=lambda e: e.row if e.row is not None else 0)
        shown = self.found[:_MAX_REPORTED]
        more = len(self.found) - len(shown)
        detail = "年度文件有误:" + ";".join(e.message for e in shown) + (f";另有 {more} 处错误" if more else "")
        raise ValidationFailed(detail, code="calendar_file_invalid", errors=shown)


class _Collector:
    """Checks the dates of one file: one year (the stated one, else the one most dates fall in), no
    date twice. Entries are gathered first so that one stray date is reported, not all the others."""

    def __init__(self, problems: _Problems, year: int | None = None) -> None:
        self.problems = problems
        self.year = year
        self.entries: list[tuple[dt.date, bool, int | None, int | None]] = []
        self.holidays: list[dt.date] = []
        self.workdays: list[dt.date] = []

    def add(self, day: dt.date, working: bool, line: int | None, column: int | None) -> None:
        self.entries.append((day, working, line, column))

    def finish(self) -> None:
        if self.year is None and self.entries:
            self.year = Counter(day.year for day, *_ in self.entries).most_common(1)[0][0]
        seen: dict[dt.date, int | None] = {}
        for day, working, line, column in self.entries:
            if day.year != self.year:
                self.problems.add(
                    line, column, f"日期 {day.isoformat()} 不属于 {self.year} 年(一个文件只能载入一个年度)"
                )
                continue
            if day in seen:
                earlier = seen[day]
                where = f"(已见于第 {earlier} 行)" if earlier is not None else ""
                self.problems.add(line, column, f"日期 {day.isoformat()} 重复{where}")
                continue
            seen[day] = line
            (self.workdays if working else self.holidays).append(day)


def _decode(content: bytes, problems: _Problems) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    problems.add(None, None, "文件编码无法识别,请保存为 UTF-8 编码")
    return None


def parse_year_file(content: bytes, filename: str) -> tuple[int, list[dt.date], list[dt.date]]:
    """Read a year file: CSV lines ``date,type[,note]`` (type 休/班 or holiday/workday; ``#`` starts a
    comment; an optional header) or JSON ``{"year": 2027, "holidays": [...], "workdays": [...]}``.
    Returns (year, holidays, workdays); every problem is reported with its line and column."""
    problems = _Problems()
    if len(content) > MAX_FILE_BYTES:
        problems.add(None, None, f"文件过大(超过 {MAX_FILE_BYTES // 1024} KB),不像是一年的节假日安排")
        problems.raise_any()
    text = _decode(content, problems)
    problems.raise_any()
    assert text is not None
    if not text.strip():
        problems.add(None, None, "文件为空")
        problems.raise_any()
    name = filename.lower()
    is_json = name.endswith(".json") or (not name.endswith((".csv", ".txt")) and text.lstrip().startswith("{"))
    collector = _parse_json(text, problems) if is_json else _parse_csv(text, problems)
    if collector is not None:
        collector.finish()
    if collector is not None and not collector.entries and not problems.found:
        problems.add(None, None, "文件中没有任何日期")
    problems.raise_any()
    assert collector is not None and collector.year is not None
    return collector.year, sorted(collector.holidays), sorted(collector.workdays)


def _parse_csv(text: str, problems: _Problems) -> _Collector:
    collector = _Collector(problems)
    reader = csv.reader(io.StringIO(text))
    first = True
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells or cells[0].startswith("#"):
            continue
        if first and cells[0].lower() in ("date", "日期"):
            first = False
            continue
        first = False
        day = parse_date(cells[0])
        if day is None:
            problems.add(line, 1, f"日期“{cells[0]}”无效,应为 YYYY-MM-DD")
        if len(cells) < 2 or not cells[1]:
            problems.add(line, 2, "缺少类型,应为 休 或 班")
            continue
        working = DAY_TYPES.get(cells[1].lower())
        if working is None:
            problems.add(line, 2, f"类型“{cells[1]}”无效,应为 休、班、holiday 或 workday")
            continue
        if len(cells) > 3:
            problems.add(line, 4, "多余的列:每行应为 日期,类型[,说明]")
            continue
        if day is not None:
            collector.add(day, working, line, 1)
    return collector


# Neither is in typeshed, both are public in CPython's json package: the pure-Python scanner asks
# ``context.parse_string`` for every string value, which lets a value remember its position.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_py_make_scanner: Callable[[json.JSONDecoder], Any] = json.scanner.py_make_scanner  # type: ignore[attr-defined]


class _Located(str):
    """A JSON string that remembers where it began in the text."""

    position: int


def _scan_located(text: str, end: int, strict: bool = True) -> tuple[str, int]:
    value, after = _scanstring(text, end, strict)
    located = _Located(value)
    located.position = end - 1
    return located, after


class _LocatingDecoder(json.JSONDecoder):
    """The standard decoder with the pure-Python scanner, so that string values carry positions."""

    def __init__(self) -> None:
        super().__init__()
        self.parse_string = _scan_located
        self.scan_once = _py_make_scanner(self)


def _line_col(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - text.rfind("\n", 0, position)


def _key_position(text: str, key: str) -> tuple[int | None, int | None]:
    match = re.search(re.escape(json.dumps(key)) + r"\s*:", text)
    if match is None:
        return None, None
    return _line_col(text, match.start())


_IGNORED_KEYS = frozenset({"source", "note", "comment", "name", "description"})


def _parse_json(text: str, problems: _Problems) -> _Collector | None:
    try:
        data = _LocatingDecoder().decode(text)
    except json.JSONDecodeError as exc:
        problems.add(exc.lineno, exc.colno, "JSON 格式错误,请检查括号、逗号和引号")
        return None
    if not isinstance(data, dict):
        problems.add(1, 1, '应为一个对象,如 {"year": 2027, "holidays": [...], "workdays": [...]}')
        return None
    for key in data:
        if key not in ("year", "holidays", "workdays") and key not in _IGNORED_KEYS and not key.startswith("_"):
            line, column = _key_position(text, key)
            problems.add(line, column, f"未知字段“{key}”,应为 year、holidays、workdays")
    year = data.get("year")
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year)
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        line, column = _key_position(text, "year")
        problems.add(line, column, "缺少或无效的“year”字段,应为年份数字,如 2027")
        year = None
    if "holidays" not in data:
        problems.add(None, None, "缺少“holidays”字段(放假日期列表)")
    collector = _Collector(problems, year)
    for key, working in (("holidays", False), ("workdays", True)):
        values = data.get(key, [])
        if not isinstance(values, list):
            line, column = _key_position(text, key)
            problems.add(line, column, f"“{key}”应为日期列表")
            continue
        for index, value in enumerate(values, start=1):
            _json_date(text, key, index, value, working, collector)
    return collector


def _json_date(text: str, key: str, index: int, value: Any, working: bool, collector: _Collector) -> None:
    problems = collector.problems
    if not isinstance(value, _Located):
        problems.add(None, None, f'“{key}”第 {index} 项应为日期字符串,如 "2027-01-01"')
        return
    line, column = _line_col(text, value.position)
    day = parse_date(value)
    if day is None:
        problems.add(line, column, f"日期“{value}”无效,应为 YYYY-MM-DD")
        return
    collector.add(day, working, line, column)


def describe_days(days: Iterable[dt.date]) -> str:
    """``2027-01-01、2027-01-02`` for messages and the console."""
    return "、".join(d.isoformat() for d in days)
