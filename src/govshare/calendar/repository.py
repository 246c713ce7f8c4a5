"""Every calendar query. The calendar is public within the platform: ``readable`` filters nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from govshare.calendar.models import CalendarCorrection, CalendarYear
from govshare.identity.actor import Actor


def readable(actor: Actor) -> Select[CalendarCorrection]:
    """Every signed-in person (``calendar:read``) sees every correction: deadlines concern everyone."""
    return select(CalendarCorrection).order_by(CalendarCorrection.day)


def correction(session: Session, day: dt.date) -> CalendarCorrection | None:
    return session.execute(select(CalendarCorrection).where(CalendarCorrection.day == day)).scalar_one_or_none()


def corrections_between(session: Session, first: dt.date, last: dt.date) -> list[CalendarCorrection]:
    stmt = (
        select(CalendarCorrection)
        .where(CalendarCorrection.day >= first, CalendarCorrection.day <= last)
        .order_by(CalendarCorrection.day)
    )
    return list(session.execute(stmt).scalars())


def delete_corrections_between(session: Session, first: dt.date, last: dt.date) -> int:
    result = session.execute(
        delete(CalendarCorrection)
        .where(CalendarCorrection.day >= first, CalendarCorrection.day <= last)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def year_row(session: Session, year: int) -> CalendarYear | None:
    return session.execute(select(CalendarYear).where(CalendarYear.year == year)).scalar_one_or_none()


def loaded_years(session: Session) -> list[CalendarYear]:
    return list(session.execute(select(CalendarYear).order_by(CalendarYear.year)).scalars())
