"""Masking windows (A5.2): one window per sensitivity, platform-wide, never revealing lengths."""

from __future__ import annotations

import datetime as dt

import pytest

from govshare.sharing.masking import mask, mask_column


@pytest.mark.article("A5.2")
@pytest.mark.parametrize(
    ("sensitivity", "value", "masked"),
    [
        ("id_number", "620102198001011234", "620102********1234"),
        ("id_number", "62010219800101123X", "620102********123X"),
        ("id_number", "12345", "****"),
        ("phone", "13909311234", "139****1234"),
        ("phone", "0931-8888888", "093****8888"),
        ("phone", "110", "****"),
        ("person_name", "张伟", "张**"),
        ("person_name", "王小明", "王**"),
        ("person_name", "欧阳修远", "欧阳**"),
        ("person_name", "欧阳", "欧**"),
        ("address", "甘肃省兰州市城关区张掖路街道100号", "甘肃省兰州市城关区****"),
        ("address", "兰州市七里河区西津西路16号", "兰州市七里河区****"),
        ("address", "甘肃省兰州市榆中县城关镇", "甘肃省兰州市榆中县****"),
        ("address", "宁夏回族自治区银川市兴庆区解放街", "宁夏回族自治区银川市兴庆区****"),
        ("address", "兰州市某某路1号", "兰州市****"),
        ("address", "某某路1号", "****"),
        ("bank_account", "6222021234567890123", "****0123"),
        ("email", "zhangwei@lanzhou.gov.cn", "z****@lanzhou.gov.cn"),
        ("other_personal", "高血压", "****"),
        ("trade_secret", "配方A", "****"),
        ("none", "原样", "原样"),
        ("unknown_kind", "原样", "****"),
    ],
)
def test_windows(sensitivity: str, value: str, masked: str) -> None:
    assert mask(value, sensitivity) == masked


def test_none_stays_none_and_non_text_is_masked_as_text() -> None:
    assert mask(None, "id_number") is None
    assert mask(13909311234, "phone") == "139****1234"
    assert mask(dt.date(1980, 1, 1), "other_personal") == "****"
    assert mask(42, "none") == 42


def test_column_masking_equals_cell_masking() -> None:
    values = ["620102198001011234", None, "62010219900101567X", "123"]
    assert mask_column(values, "id_number") == [mask(v, "id_number") for v in values]
    assert mask_column(values, "none") == values


@pytest.mark.article("A5.2")
def test_two_views_reveal_the_same_characters() -> None:
    """The window is one per sensitivity: masking a masked value reveals nothing new."""
    value = "620102198001011234"
    once = mask(value, "id_number")
    assert mask(once, "id_number") == once
