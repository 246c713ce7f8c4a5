"""统一社会信用代码 (unified social credit code) validation, per GB 32100-2015."""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """None when ``code`` is a valid 统一社会信用代码, else a Chinese explanation."""
    if len(code) != 18:
        return "统一社会信用代码应为18位"
    if not _SHAPE.match(code):
        return "统一社会信用代码含有不允许的字符(不使用 I、O、Z、S、V)"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误,应为 {expected}"
    return None


def make_uscc(prefix17: str) -> str:
    """Complete a 17-character body with its check character (used by fixtures and the demo)."""
    return prefix17 + check_character(prefix17)
