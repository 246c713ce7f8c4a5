"""Calendar tables: the administrator's day corrections and the years loaded from a notice.

A year with a ``CalendarYear`` row is "loaded": its days are weekends plus its corrections, and
chinese-calendar is no longer consulted for it. A year without one uses chinese-calendar when the
library knows it ("official"), else weekends alone ("provisional"); corrections apply in every case.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from govshare.db import Base
from govshare.kit.clock import now


class CalendarCorrection(Base):
    """One day whose status the administrator set: ``working`` True is 班, False is 休."""

    __tablename__ = "calendar_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    set_by_name: Mapped[str] = mapped_column(String(64), default="")
    set_at: Mapped[dt.datetime] = mapped_column(default=now)


class CalendarYear(Base):
    """A year whose holiday arrangement an administrator loaded from the State Council's notice."""

    __tablename__ = "calendar_year"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    source: Mapped[str] = mapped_column(String(200))
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    loaded_by_name: Mapped[str] = mapped_column(String(64), default="")
    loaded_at: Mapped[dt.datetime] = mapped_column(default=now)
