"""Working-day arithmetic pinned to the State Council's 2025 and 2026 notices, provisional years,
administrator corrections and loads, and the per-transaction cache.

2025 (国办发明电〔2024〕12号): 春节 01-28..02-04 off, 01-26 Sun and 02-08 Sat working;
国庆节、中秋节 10-01..10-08 off, 09-28 Sun and 10-11 Sat working.
2026 (国办发明电〔2025〕7号): 元旦 01-01..01-03 off, 01-04 Sun working; 春节 02-15..02-23 off,
02-14 Sat and 02-28 Sat working; 国庆节 10-01..10-07 off, 09-20 Sun and 10-10 Sat working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.calendar import service
from govshare.calendar.models import CalendarCorrection
from govshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory

D = dt.date
EXAMPLES = Path(service.__file__).resolve().parent / "examples"


def _actions(session: Session, object_id: str) -> list[str]:
    rows = session.execute(
        select(AuditRecord.action).where(AuditRecord.object_id == object_id).order_by(AuditRecord.seq)
    ).scalars()
    return list(rows)


def _load_2027(session: Session, actor: Actor) -> None:
    content = (EXAMPLES / "2027.example.csv").read_bytes()
    service.load_year_file(session, actor, content=content, filename="2027.csv", source="测试用示例")


# --- pinned official dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 26), True),  # Sun, 春节调休上班
        (D(2025, 1, 27), True),
        (D(2025, 1, 28), False),  # 除夕
        (D(2025, 2, 4), False),
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),  # Sat, 春节调休上班
        (D(2025, 9, 28), True),  # Sun, 国庆调休上班
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Sat, 国庆调休上班
        (D(2025, 10, 12), False),
        (D(2026, 1, 2), False),
        (D(2026, 1, 4), True),  # Sun, 元旦调休上班
        (D(2026, 2, 14), True),  # Sat
        (D(2026, 2, 23), False),  # Mon, still 春节
        (D(2026, 2, 28), True),  # Sat
        (D(2026, 9, 20), True),  # Sun
        (D(2026, 10, 7), False),
        (D(2026, 10, 10), True),  # Sat
        (D(2026, 10, 11), False),
        (D(2026, 10, 12), True),
    ],
)
def test_official_days(session: Session, day: dt.date, working: bool) -> None:
    assert service.is_working_day(session, day) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (D(2026, 9, 28), 10, D(2026, 10, 16)),  # 10-01..10-07 off, 10-10 Sat working
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 10, 9), 1, D(2026, 10, 10)),  # the 调休 Saturday counts
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),  # 02-15..02-23 off
        (D(2026, 1, 2), 1, D(2026, 1, 4)),  # 元旦调休 Sunday
        (D(2025, 1, 24), 1, D(2025, 1, 26)),  # Fri -> the working Sunday
        (D(2025, 1, 27), 1, D(2025, 2, 5)),  # 春节 01-28..02-04 off
        (D(2025, 2, 7), 1, D(2025, 2, 8)),  # the working Saturday
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # 10-01..10-08 off
        (D(2025, 9, 30), 2, D(2025, 10, 10)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),  # 10-11 Sat working
        (D(2025, 9, 26), 10, D(2025, 10, 16)),  # 09-28 Sun and 10-11 Sat count
        (D(2026, 9, 28), 0, D(2026, 9, 28)),
    ],
)
def test_add_working_days_pinned(session: Session, start: dt.date, days: int, due: dt.date) -> None:
    result = service.add_working_days(session, start, days)
    assert result == service.Due(due, provisional=False)


def test_day_one_is_the_first_working_day_after_start(session: Session) -> None:
    # Start on a holiday Saturday: day 1 is the next working day, not the start itself.
    assert service.add_working_days(session, D(2026, 10, 3), 1).date == D(2026, 10, 8)
    # Start on a working day: that day is not counted.
    assert service.add_working_days(session, D(2026, 10, 8), 1).date == D(2026, 10, 9)


def test_working_days_between_counts_the_half_open_interval(session: Session) -> None:
    assert service.working_days_between(session, D(2026, 9, 28), D(2026, 10, 16)) == 10
    assert service.working_days_between(session, D(2025, 9, 30), D(2025, 10, 9)) == 1
    assert service.working_days_between(session, D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert service.working_days_between(session, D(2026, 10, 16), D(2026, 9, 28)) == 0
    assert service.working_days_between(session, D(2026, 10, 16), D(2026, 10, 16)) == 0


def test_year_status(session: Session) -> None:
    assert service.year_status(session, 2025) == "official"
    assert service.year_status(session, 2026) == "official"
    assert service.year_status(session, 2027) == "provisional"


def test_days_and_span_are_bounded(session: Session) -> None:
    with pytest.raises(ValidationFailed):
        service.add_working_days(session, D(2026, 1, 1), -1)
    with pytest.raises(ValidationFailed):
        service.add_working_days(session, D(2026, 1, 1), service.MAX_DAYS + 1)
    with pytest.raises(ValidationFailed):
        service.is_working_day(session, D(1900, 1, 1))


# --- provisional years and loading -------------------------------------------------------------


def test_a_clock_running_into_an_unknown_year_is_provisional(session: Session) -> None:
    # 2027 is not in chinese-calendar: weekends alone, so 2027-01-01 (Fri) counts as day 4.
    due = service.add_working_days(session, D(2026, 12, 28), 10)
    assert due == service.Due(D(2027, 1, 11), provisional=True)
    assert due.label == "2027-01-11(暂定)"
    assert service.add_working_days(session, D(2026, 12, 1), 5).provisional is False
    assert service.day_info(session, D(2027, 3, 1)).provisional is True


def test_a_skipped_unknown_day_makes_the_due_date_provisional(session: Session) -> None:
    # The due date is still in 2026 but on the way nothing was skipped into 2027: exact.
    assert service.add_working_days(session, D(2026, 12, 30), 1) == service.Due(D(2026, 12, 31), False)
    # 2026-12-31 (Thu) -> 2027-01-01 (Fri) is examined: provisional.
    assert service.add_working_days(session, D(2026, 12, 31), 1) == service.Due(D(2027, 1, 1), True)


def test_loading_2027_makes_it_exact(session: Session, system: Actor) -> None:
    before = service.add_working_days(session, D(2026, 12, 28), 10)
    service.load_year(
        session,
        system,
        year=2027,
        holidays=[D(2027, 1, 1), D(2027, 2, 8), D(2027, 2, 9)],
        workdays=[D(2027, 2, 20)],
        source="国办发明电〔2026〕测试号",
    )
    assert service.year_status(session, 2027) == "loaded"
    after = service.add_working_days(session, D(2026, 12, 28), 10)
    assert before == service.Due(D(2027, 1, 11), True)
    assert after == service.Due(D(2027, 1, 12), False)  # 2027-01-01 is off now
    assert service.is_working_day(session, D(2027, 2, 20)) is True  # Sat, 调休
    assert service.is_working_day(session, D(2027, 2, 9)) is False
    assert "calendar.year.loaded" in _actions(session, "2027")


def test_loading_replaces_the_years_corrections(session: Session, system: Actor) -> None:
    service.set_day(session, system, day=D(2027, 3, 1), working=False, note="临时更正")
    service.set_day(session, system, day=D(2028, 3, 1), working=False, note="另一年度")
    _load_2027(session, system)
    assert service.is_working_day(session, D(2027, 3, 1)) is True  # replaced
    assert service.is_working_day(session, D(2028, 3, 1)) is False  # other years untouched
    overview = service.year_overview(session, 2027)
    assert overview.status == "loaded"
    assert overview.loaded is not None and overview.loaded.source == "测试用示例"
    assert D(2027, 2, 20) in {d.day for d in overview.extra_working_days}
    assert D(2027, 10, 1) in {d.day for d in overview.days_off}
    # Loading again replaces once more, and stays loaded.
    service.load_year(session, system, year=2027, holidays=[D(2027, 1, 1)], workdays=[], source="第二次")
    assert service.is_working_day(session, D(2027, 10, 1)) is True
    assert service.is_working_day(session, D(2027, 1, 1)) is False
    assert _actions(session, "2027").count("calendar.year.loaded") == 2


def test_load_refuses_bad_input(session: Session, system: Actor) -> None:
    with pytest.raises(ValidationFailed, match="不属于 2027 年"):
        service.load_year(session, system, year=2027, holidays=[D(2026, 12, 31)], workdays=[], source="x")
    with pytest.raises(ValidationFailed, match="既标为休又标为班"):
        service.load_year(session, system, year=2027, holidays=[D(2027, 1, 1)], workdays=[D(2027, 1, 1)], source="x")
    with pytest.raises(ValidationFailed, match="至少应有一天"):
        service.load_year(session, system, year=2027, holidays=[], workdays=[D(2027, 2, 20)], source="x")
    with pytest.raises(ValidationFailed, match="依据"):
        service.load_year(session, system, year=2027, holidays=[D(2027, 1, 1)], workdays=[], source=" ")
    with pytest.raises(ValidationFailed, match="与所选的 2028 年不符"):
        content = (EXAMPLES / "2027.example.csv").read_bytes()
        service.load_year_file(session, system, content=content, filename="a.csv", expected_year=2028)
    assert service.year_status(session, 2027) == "provisional"


# --- corrections -------------------------------------------------------------------------------


def test_a_correction_overrides_chinese_calendar_and_is_audited(session: Session, system: Actor) -> None:
    row = service.set_day(session, system, day=D(2026, 10, 10), working=False, note="测试:取消调休上班")
    assert row.working is False
    assert service.add_working_days(session, D(2026, 9, 28), 10).date == D(2026, 10, 19)
    service.set_day(session, system, day=D(2026, 10, 5), working=True, note="测试:改为上班")
    assert service.add_working_days(session, D(2026, 9, 28), 10).date == D(2026, 10, 16)
    service.remove_correction(session, system, day=D(2026, 10, 5))
    service.remove_correction(session, system, day=D(2026, 10, 10))
    assert service.add_working_days(session, D(2026, 9, 28), 10).date == D(2026, 10, 16)
    assert _actions(session, "2026-10-10") == ["calendar.day.corrected", "calendar.day.correction_removed"]
    with pytest.raises(NotFound):
        service.remove_correction(session, system, day=D(2026, 10, 10))


def test_a_correction_replaces_the_previous_one(session: Session, system: Actor) -> None:
    service.set_day(session, system, day=D(2026, 3, 2), working=False, note="第一次")
    service.set_day(session, system, day=D(2026, 3, 2), working=True, note="第二次")
    rows = session.execute(select(CalendarCorrection).where(CalendarCorrection.day == D(2026, 3, 2))).scalars().all()
    assert [(r.working, r.note) for r in rows] == [(True, "第二次")]
    record = session.execute(
        select(AuditRecord).where(AuditRecord.object_id == "2026-03-02").order_by(AuditRecord.seq.desc()).limit(1)
    ).scalar_one()
    assert record.before == {"day": "2026-03-02", "working": False, "note": "第一次"}
    assert record.after == {"day": "2026-03-02", "working": True, "note": "第二次"}


def test_a_correction_in_an_unknown_year_applies_but_stays_provisional(session: Session, system: Actor) -> None:
    service.set_day(session, system, day=D(2027, 1, 1), working=False, note="预计元旦放假")
    due = service.add_working_days(session, D(2026, 12, 28), 10)
    assert due == service.Due(D(2027, 1, 12), provisional=True)


def test_only_the_calendar_manager_may_correct(session: Session, factory: Factory) -> None:
    user = factory.actor(factory.user(Role.dept_user))
    reviewer = factory.actor(factory.user(Role.bureau_reviewer))
    admin = factory.actor(factory.user(Role.bureau_admin))
    for actor in (user, reviewer):
        with pytest.raises(Forbidden):
            service.set_day(session, actor, day=D(2026, 3, 2), working=False, note="x")
        with pytest.raises(Forbidden):
            service.load_year(session, actor, year=2027, holidays=[D(2027, 1, 1)], workdays=[], source="x")
    row = service.set_day(session, admin, day=D(2026, 3, 2), working=False, note="管理员更正")
    assert row.set_by_id == admin.user_id
    with pytest.raises(Forbidden):
        service.remove_correction(session, user, day=D(2026, 3, 2))


def test_two_managers_correcting_one_day_at_once(
    session: Session, system: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.set_day(session, system, day=D(2026, 3, 2), working=False, note="先到的更正")
    # The later writer read "no correction" before the first one committed.
    monkeypatch.setattr(service.repo, "correction", lambda _s, _d: None)
    with pytest.raises(Conflict) as info:
        service.set_day(session, system, day=D(2026, 3, 2), working=True, note="后到的更正")
    assert info.value.code == "calendar_concurrent_change"


def test_a_correction_needs_a_note(session: Session, system: Actor) -> None:
    with pytest.raises(ValidationFailed, match="请填写说明"):
        service.set_day(session, system, day=D(2026, 3, 2), working=False, note="  ")


def test_listeners_hear_of_every_change(session: Session, system: Actor) -> None:
    heard: list[tuple[dt.date, dt.date]] = []

    def listener(_s: Session, _a: Actor, first: dt.date, last: dt.date) -> None:
        heard.append((first, last))

    service.on_change(listener)
    try:
        service.set_day(session, system, day=D(2026, 3, 2), working=False, note="x")
        service.remove_correction(session, system, day=D(2026, 3, 2))
        service.load_year(session, system, year=2027, holidays=[D(2027, 1, 1)], workdays=[], source="x")
    finally:
        service._listeners.remove(listener)
    assert heard == [(D(2026, 3, 2), D(2026, 3, 2))] * 2 + [(D(2027, 1, 1), D(2027, 12, 31))]


# --- the clock ---------------------------------------------------------------------------------


def test_clock_labels(session: Session) -> None:
    clock.set_now(dt.datetime(2026, 10, 9, 10, 0))  # Fri
    view = service.clock(session, D(2026, 10, 16), False)
    assert (view.remaining, view.overdue, view.label) == (6, False, "剩余 6 个工作日")  # 10-10 Sat counts
    assert view.css == "clock"
    assert service.clock(session, D(2026, 10, 9), False).label == "今日到期"
    late = service.clock(session, D(2026, 9, 29), False)
    assert (late.remaining, late.overdue, late.label) == (-3, True, "已逾期 3 个工作日")
    assert late.css == "clock late"
    provisional = service.clock(session, D(2027, 1, 11), True)
    assert provisional.label.endswith("(暂定)") and "provisional" in provisional.css


def test_clock_of_finished_work(session: Session) -> None:
    on_time = service.clock(session, D(2026, 10, 16), False, done_on=D(2026, 10, 15))
    assert (on_time.done, on_time.overdue, on_time.label) == (True, False, "按期办结")
    late = service.clock(session, D(2026, 10, 16), False, done_on=D(2026, 10, 20))
    assert (late.remaining, late.label) == (-2, "逾期 2 个工作日办结")


def test_clock_overdue_over_a_weekend_only(session: Session) -> None:
    clock.set_now(dt.datetime(2026, 10, 17, 10, 0))  # Sat after a Friday due date
    view = service.clock(session, D(2026, 10, 16), False)
    assert (view.remaining, view.overdue, view.label) == (0, True, "已逾期")


# --- cache -------------------------------------------------------------------------------------


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    bind: Any = session.get_bind()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(bind, "before_cursor_execute", count)
    yield seen
    event.remove(bind, "before_cursor_execute", count)


def test_a_hundred_due_dates_cost_a_few_queries(session: Session, statements: list[str]) -> None:
    session.commit()  # a fresh transaction: nothing cached yet
    statements.clear()
    starts = [D(2026, 9, 1) + dt.timedelta(days=i) for i in range(100)]
    dues = [service.add_working_days(session, s, 20) for s in starts]
    assert dues[-1].provisional is True  # the last ones run into 2027
    assert len(statements) <= 4, statements  # loaded years + corrections of 2026 and 2027


def test_the_cache_ends_with_the_transaction(session: Session) -> None:
    assert service.is_working_day(session, D(2026, 3, 3)) is True
    session.add(CalendarCorrection(day=D(2026, 3, 3), working=False, note="另一进程写入"))
    session.commit()
    assert service.is_working_day(session, D(2026, 3, 3)) is False


# --- property ----------------------------------------------------------------------------------


def test_add_and_between_agree(session: Session, system: Actor) -> None:
    """For any start and count: the result is a working day and exactly ``days`` working days away,
    across official, loaded, corrected and provisional years."""
    _load_2027(session, system)
    service.set_day(session, system, day=D(2026, 6, 6), working=True, note="测试:周六上班")
    service.set_day(session, system, day=D(2025, 3, 3), working=False, note="测试:周一放假")

    @settings(max_examples=150, deadline=None)
    @given(start=st.dates(min_value=D(2024, 11, 1), max_value=D(2028, 12, 31)), days=st.integers(0, 45))
    def check(start: dt.date, days: int) -> None:
        due = service.add_working_days(session, start, days)
        assert service.working_days_between(session, start, due.date) == days
        if days:
            assert service.is_working_day(session, due.date)
            # nothing earlier would do: the day before the due date is one working day short
            assert service.working_days_between(session, start, due.date - dt.timedelta(days=1)) == days - 1
        touches_2028 = due.date.year >= 2028 and days > 0
        assert due.provisional is touches_2028

    check()
