"""The 10-working-day answer clock of applications (A20.2) on the official calendar, its
recomputation when a year is loaded, and the reminder / escalation task."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.calendar import service as calendar
from govshare.identity.actor import Actor
from govshare.kit import clock
from govshare.sharing import applications as service
from govshare.sharing import tasks
from govshare.sharing.application_pages import application_panels
from govshare.sharing.models import Application
from tests.factories import Factory
from tests.sharing.application_helpers import apply, parties

D = dt.date


def _actions(session: Session, app_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == "application", AuditRecord.object_id == str(app_id))
            .order_by(AuditRecord.seq)
        )
    )


@pytest.mark.article("A20.2")
def test_submitted_before_national_day_is_due_on_16_october(session: Session, factory: Factory) -> None:
    clock.set_now(dt.datetime(2026, 9, 28, 9, 30))
    p = parties(factory)
    app = apply(session, p)
    assert (app.due_on, app.due_provisional) == (D(2026, 10, 16), False)


@pytest.mark.article("A20.2")
def test_due_date_is_provisional_until_2027_is_loaded_then_exact(
    session: Session, factory: Factory, system: Actor
) -> None:
    clock.set_now(dt.datetime(2026, 12, 24, 9, 30))
    p = parties(factory)
    app = apply(session, p)
    assert app.due_provisional
    assert app.due_on == D(2027, 1, 7)  # weekends alone: 1 January would count as a working day
    view = service.get_application(session, p.applicant, app.id)
    assert view.clock is not None and "暂定" in view.clock.label
    calendar.load_year(
        session,
        system,
        year=2027,
        holidays=[D(2027, 1, 1)],
        workdays=[],
        source="国务院办公厅关于2027年部分节假日安排的通知",
    )
    session.refresh(app)
    assert (app.due_on, app.due_provisional) == (D(2027, 1, 8), False)
    assert _actions(session, app.id)[-1] == "sharing.application.clock_recomputed"
    decided = apply(session, p)
    service.decide_application(session, p.provider_admin, decided.id, outcome="approve_all")
    before = decided.due_on
    calendar.load_year(session, system, year=2027, holidays=[D(2027, 1, 1), D(2027, 1, 4)], workdays=[], source="更正")
    session.refresh(decided)
    assert decided.due_on == before  # a decided application's clock is done; it is not moved


@pytest.mark.article("A20.2")
def test_reminder_two_working_days_before_and_overdue_flag_to_the_authority(
    session: Session, factory: Factory, system: Actor
) -> None:
    clock.set_now(dt.datetime(2026, 11, 2, 10, 0))  # Monday; due Monday 16 November
    p = parties(factory)
    app = apply(session, p)
    assert app.due_on == D(2026, 11, 16)
    assert tasks.remind_and_escalate(session, system, today=D(2026, 11, 11)) == 0
    assert tasks.remind_and_escalate(session, system, today=D(2026, 11, 12)) == 1  # Thu: due in 2 working days
    assert tasks.remind_and_escalate(session, system, today=D(2026, 11, 12)) == 0  # once only
    session.refresh(app)
    assert app.reminded_at is not None and app.overdue_flagged_at is None
    clock.set_now(dt.datetime(2026, 11, 13, 9, 0))
    [inbox] = [pl for pl in application_panels(session, p.provider_admin) if pl.title == "待我答复的共享申请"]
    assert inbox.lines[0][0].startswith("【即将到期】")
    assert tasks.remind_and_escalate(session, system, today=D(2026, 11, 16)) == 0  # due today: not yet overdue
    assert tasks.remind_and_escalate(session, system, today=D(2026, 11, 17)) == 1
    assert tasks.remind_and_escalate(session, system, today=D(2026, 11, 18)) == 0
    assert _actions(session, app.id) == [
        "sharing.application.submitted",
        "sharing.application.reminded",
        "sharing.application.overdue_flagged",
    ]
    clock.set_now(dt.datetime(2026, 11, 17, 9, 0))
    panels = {pl.title: pl for pl in application_panels(session, p.authority)}
    assert panels["提供部门逾期未答复的共享申请"].count == 1
    assert panels["提供部门逾期未答复的共享申请"].tone == "late"
    inbox_rows = service.list_applications(session, p.provider_admin, scope=service.ListScope.inbox)
    assert inbox_rows[0].overdue_flagged and inbox_rows[0].clock is not None and inbox_rows[0].clock.overdue
    # the decision stops the clock: nothing more to remind or flag
    service.decide_application(session, p.provider_admin, app.id, outcome="approve_all")
    assert session.get(Application, app.id).decided_late  # type: ignore[union-attr]
    assert tasks.remind_and_escalate(session, system, today=D(2026, 11, 30)) == 0


def test_inbox_lists_overdue_first(session: Session, factory: Factory) -> None:
    p = parties(factory)
    clock.set_now(dt.datetime(2026, 11, 16, 10, 0))
    newer = apply(session, p)
    clock.set_now(dt.datetime(2026, 11, 2, 10, 0))
    older = apply(session, p)
    clock.set_now(dt.datetime(2026, 11, 20, 10, 0))
    rows = service.list_applications(session, p.provider_admin, scope=service.ListScope.inbox)
    assert [r.application.id for r in rows] == [older.id, newer.id]
    assert rows[0].clock is not None and rows[0].clock.overdue
    overdue = service.list_applications(session, p.authority, scope=service.ListScope.oversee, overdue=True)
    assert [r.application.id for r in overdue] == [older.id]
