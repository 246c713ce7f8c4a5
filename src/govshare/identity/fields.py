"""Checks of the contact fields the identity forms share (accounts, departments, regions, the
data administrator register): phone numbers and maximum lengths."""

from __future__ import annotations

import re
from typing import Any

from govshare.errors import FieldError

_PHONE = re.compile(r"^[0-9+()\- ]{5,20}$")


def phone_errors(field: str, value: str, *, required: bool = False) -> list[FieldError]:
    """The problem with a phone number, if any; an empty one is a problem only when ``required``."""
    if not value:
        return [FieldError(field, "请填写联系电话")] if required else []
    if not _PHONE.match(value) or sum(c.isdigit() for c in value) < 5:
        return [FieldError(field, "电话号码格式不正确")]
    return []


def check_lengths(errors: list[FieldError], values: dict[str, Any], limits: dict[str, int]) -> None:
    """Append a "不超过 N 字" error for each value longer than its limit."""
    for key, limit in limits.items():
        if len(str(values.get(key, ""))) > limit:
            errors.append(FieldError(key, f"不超过 {limit} 字"))
