"""Masking (A5.2): one window per sensitivity, platform-wide.

Every view of a sensitive 信息项 — the consumer API, people's pages, exports — keeps the same
characters (身份证号 first 6 + last 4, 手机号 first 3 + last 4, 姓名 the surname, 地址 up to the
district), so two views can never be combined to recover more. The hidden part is a fixed run of
``*`` that does not reveal its length. ``mask_column`` masks a whole column at once: the window
function is chosen once, not per value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from govshare.catalog.enums import Sensitivity

STARS = "****"
_COMPOUND_SURNAMES = frozenset(
    {
        *("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文"),
        *("司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "赫连"),
    }
)
# up to the first 区/县/旗 that is not the 区 of 自治区; else up to the city
_DISTRICT = re.compile(r"^.+?(?<!自治)[区县旗]")
_CITY = re.compile(r"^.+?(?:市|自治州|盟|地区)")


def _id_number(text: str) -> str:
    return text[:6] + "********" + text[-4:] if len(text) > 10 else STARS


def _phone(text: str) -> str:
    return text[:3] + STARS + text[-4:] if len(text) >= 8 else STARS


def _person_name(text: str) -> str:
    if len(text) >= 3 and text[:2] in _COMPOUND_SURNAMES:
        return text[:2] + "**"
    return text[:1] + "**" if text else text


def _address(text: str) -> str:
    match = _DISTRICT.match(text) or _CITY.match(text)
    return match.group(0) + STARS if match else STARS


def _bank_account(text: str) -> str:
    return STARS + text[-4:] if len(text) > 8 else STARS


def _email(text: str) -> str:
    local, at, domain = text.partition("@")
    return (local[:1] + STARS + at + domain) if at else STARS


def _hidden(text: str) -> str:
    return STARS


_WINDOWS: dict[str, Callable[[str], str]] = {
    Sensitivity.id_number: _id_number,
    Sensitivity.phone: _phone,
    Sensitivity.person_name: _person_name,
    Sensitivity.address: _address,
    Sensitivity.bank_account: _bank_account,
    Sensitivity.email: _email,
    Sensitivity.other_personal: _hidden,
    Sensitivity.trade_secret: _hidden,
}


def is_sensitive(sensitivity: str) -> bool:
    """Whether a 信息项 of this sensitivity is masked unless a grant allows clear values."""
    return sensitivity != Sensitivity.none


def mask(value: Any, sensitivity: str) -> Any:
    """The value as every masked view shows it; None stays None, ``none`` sensitivity passes through."""
    if value is None or not is_sensitive(sensitivity):
        return value
    window = _WINDOWS.get(sensitivity, _hidden)  # an unknown sensitivity hides everything
    return window(str(value).strip())


def mask_column(values: Sequence[Any], sensitivity: str) -> list[Any]:
    """``mask`` applied to a whole column, the window looked up once."""
    if not is_sensitive(sensitivity):
        return list(values)
    window = _WINDOWS.get(sensitivity, _hidden)
    return [None if v is None else window(str(v).strip()) for v in values]
