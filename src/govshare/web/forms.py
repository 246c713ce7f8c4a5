"""Reading the text of submitted forms and query strings into numbers and dates.

Also the two pieces every page with a form uses: ``FormFields``, the submitted text fields as a dict,
and ``attempt``, the SAVEPOINT a form's service call runs in.

Two kinds of readers: the lenient reader (`int_or_none`) for filters and hidden fields, where anything that is
not a whole number simply means "not given"; and the strict readers (`optional_int`,
`optional_date`, `required_date`) for fields a person typed, which refuse bad input with a Chinese
message next to the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from govshare.errors import FieldError, ValidationFailed

DATE_FORMAT_MESSAGE = "日期格式应为 YYYY-MM-DD"


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]
"""A route parameter: the submitted form's text fields (uploaded files are left out)."""


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """Run a form's service call in a SAVEPOINT, so a refusal shown on the page leaves nothing behind."""
    with session.begin_nested():
        yield


def int_or_none(value: str | None) -> int | None:
    """The whole number written in `value`, or None for an empty or non-numeric value."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def optional_int(value: str, field: str) -> int | None:
    """None for an empty value; refuses anything but a whole number."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationFailed("输入有误", errors=[FieldError(field, "应为整数")])
    return int(value)


def required_date(value: str, field: str) -> dt.date:
    """A YYYY-MM-DD date; refuses anything else, an empty value included."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(DATE_FORMAT_MESSAGE, errors=[FieldError(field, DATE_FORMAT_MESSAGE)]) from None


def optional_date(value: str, field: str) -> dt.date | None:
    """None for an empty value; otherwise a YYYY-MM-DD date."""
    return required_date(value, field) if value.strip() else None


def pager_base(path: str, filters: Mapping[str, object]) -> str:
    """The start of a list page's page links, keeping the filters in force ("…?q=x&" then "page=N")."""
    query = urlencode({k: v for k, v in filters.items() if v not in (None, "")})
    return f"{path}?{query}&" if query else f"{path}?"
