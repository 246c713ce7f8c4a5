"""Pieces the JSON routes of several domains share: the base of input schemas that refuse unknown
fields, the read-out of a working-day clock, and filling a read schema from a row.

``ClockRead`` would sit best in ``calendar/schemas.py`` beside ``ClockView``; it lives here until
that module is free to change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from govshare.calendar.service import ClockView

Read = TypeVar("Read", bound=BaseModel)


def read_model(schema: type[Read], row: object, **joined: Any) -> Read:
    """``schema`` filled from the same-named attributes of ``row``, except the fields given in ``joined``
    (names from related rows, computed values), which are taken from there; a field with a default that
    ``row`` lacks keeps its default. Validation converts the stored strings to their enums."""
    values = {
        name: getattr(row, name)
        for name, spec in schema.model_fields.items()
        if name not in joined and (spec.is_required() or hasattr(row, name))
    }
    return schema.model_validate({**values, **joined})


class StrictInput(BaseModel):
    """Input that forbids unknown fields: nobody can send a due date, a status or any other value the
    platform sets itself."""

    model_config = ConfigDict(extra="forbid")


class ClockRead(BaseModel):
    due: dt.date
    provisional: bool = Field(description="期限经过尚未载入节假日安排的年度,按周末推算(暂定)")
    remaining: int = Field(description="剩余工作日;逾期为负数")
    overdue: bool
    done: bool
    label: str

    @classmethod
    def of(cls, view: ClockView | None) -> ClockRead | None:
        if view is None:
            return None
        return cls(
            due=view.due,
            provisional=view.provisional,
            remaining=view.remaining,
            overdue=view.overdue,
            done=view.done,
            label=view.label,
        )
