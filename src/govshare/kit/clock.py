"""The one source of "now". Tests freeze it; nothing else calls ``datetime.now``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in China, where the working-day clocks run."""
    return now().astimezone(CHINA).date()


def set_now(value: dt.datetime | None) -> None:
    global _frozen
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    _frozen = value.astimezone(dt.UTC) if value is not None else None


@contextmanager
def frozen(value: dt.datetime) -> Iterator[None]:
    previous = _frozen
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)


def to_china(value: dt.datetime) -> dt.datetime:
    return value.astimezone(CHINA)
