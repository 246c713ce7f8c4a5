from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.exchange.quality import (
    ItemSpec,
    QualityRules,
    QualityTally,
    check_batch,
    id_check_character,
    id_number_problem,
    make_id_number,
)

TODAY = dt.date(2026, 11, 25)
# GB 11643-1999's weights, as printed in the standard.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def weighted_check_character(first17: str) -> str:
    """GB 11643 as the standard writes it: weights 2^(18-i) mod 11, then the 10X98765432 table."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def make_id(area: str = "620102", birth: str = "19900307", order: str = "123") -> str:
    body = area + birth + order
    return body + weighted_check_character(body)


def one(spec: ItemSpec, values: list[Any], **kwargs: Any) -> dict[str, Any]:
    summary = check_batch([spec], [(v,) for v in values], today=TODAY, **kwargs).summary()
    item = summary["items"][0]
    return {
        "missing": item["missing"],
        "invalid": item["invalid"],
        "problems": {p["code"]: p["count"] for p in item["problems"]},
    }


# --- 公民身份号码 -----------------------------------------------------------------------------


def test_weights_are_powers_of_two_mod_11() -> None:
    assert tuple(2 ** (18 - i) % 11 for i in range(1, 18)) == WEIGHTS  # why int(s, 13) works: 13 ≡ 2 (mod 11)


def test_known_id_numbers() -> None:
    # The worked example of GB 11643-1999 (11010519491231002X) and a Lanzhou-style number.
    assert id_check_character("11010519491231002") == "X"
    assert id_number_problem("11010519491231002X", TODAY) is None
    assert make_id_number("11010519491231002") == "11010519491231002X"
    assert id_number_problem("110105194912310021", TODAY) == "id_check_digit"
    assert id_number_problem("11010519491231002x", TODAY) == "id_format"  # GB 11643 prints upper-case X
    assert id_number_problem("110105491231002", TODAY) == "id_format"  # old 15-digit numbers are not accepted
    assert id_number_problem("", TODAY) == "id_format"
    assert id_number_problem("１１０１０５１９４９１２３１００２X", TODAY) == "id_format"  # full-width digits
    assert id_number_problem("1101_5194912310021", TODAY) == "id_format"  # int() would accept the underscore


def test_id_birth_date_must_exist_and_not_be_in_the_future() -> None:
    assert id_number_problem(make_id(birth="20000229"), TODAY) is None  # a leap day
    assert id_number_problem(make_id(birth="19000229"), TODAY) == "id_birth_date"  # 1900 was no leap year
    assert id_number_problem(make_id(birth="19901301"), TODAY) == "id_birth_date"
    assert id_number_problem(make_id(birth="18991231"), TODAY) == "id_birth_date"
    assert id_number_problem(make_id(birth="20261125"), TODAY) is None
    assert id_number_problem(make_id(birth="20261126"), TODAY) == "id_birth_date"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17).filter(lambda s: s[0] != "0"))
def test_check_character_agrees_with_the_weighted_sum(first17: str) -> None:
    assert id_check_character(first17) == weighted_check_character(first17)


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
    st.integers(min_value=0, max_value=17),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_changed_digit_is_caught(birth: dt.date, order: str, position: int, shift: int) -> None:
    number = make_id(birth=f"{birth:%Y%m%d}", order=order)
    assert id_number_problem(number, TODAY) is None
    if position == 17:
        alphabet = "0123456789X"
        changed = alphabet[(alphabet.index(number[17]) + shift) % 11]
    else:
        changed = str((int(number[position]) + shift) % 10)
    wrong = number[:position] + changed + number[position + 1 :]
    # A changed digit is always caught: the weights are all non-zero mod 11, a prime.
    assert id_number_problem(wrong, TODAY) is not None


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17).filter(lambda s: s[0] != "0"),
    st.integers(min_value=0, max_value=15),
)
def test_swapped_neighbours_are_caught_unless_equal(first17: str, position: int) -> None:
    number = first17 + weighted_check_character(first17)
    swapped = first17[:position] + first17[position + 1] + first17[position] + first17[position + 2 :]
    if swapped != first17:
        assert weighted_check_character(swapped) != number[17]
        assert id_number_problem(swapped + number[17], TODAY) is not None


# --- completeness and validity by data type -------------------------------------------------


def test_missing_values_are_none_and_blank_text() -> None:
    got = one(ItemSpec("姓名", "C", 50), ["张三", None, "", "   ", "\t", b"", "李四"])
    assert got == {"missing": 5, "invalid": 0, "problems": {}}


@pytest.mark.parametrize("data_type", ["C", "N", "Y", "B", "F", "I", "D", "T", "L", "M", "G"])
@pytest.mark.parametrize("sensitivity", ["none", "id_number", "phone", "email"])
def test_every_type_counts_the_same_values_missing(data_type: str, sensitivity: str) -> None:
    got = one(ItemSpec("项", data_type, 18, sensitivity), [None, "", "  ", "\n", b"", b" "] * 100)
    assert got == {"missing": 600, "invalid": 0, "problems": {}}
    got = one(ItemSpec("项", data_type, 18, sensitivity), [None, "", "  ", "\n", b"", b" "])
    assert got == {"missing": 6, "invalid": 0, "problems": {}}


def test_text_length_counts_characters_not_bytes() -> None:
    got = one(ItemSpec("单位名称", "C", 4), ["兰州市局", "兰州市大数据局", "abcd", 12345, b"\xff"])
    assert got["problems"] == {"length": 2, "text": 1}


@pytest.mark.parametrize("data_type", ["N", "Y", "B", "F"])
def test_numbers(data_type: str) -> None:
    values = [
        1,
        -2.5,
        Decimal("3.10"),
        "4",
        " 5.5 ",
        "-.5",
        "1e3",
        "abc",
        "",
        ".",
        "e5",
        float("nan"),
        Decimal("Infinity"),
        True,
        dt.date(2020, 1, 1),
    ]
    got = one(ItemSpec("金额", data_type), values)
    assert got == {"missing": 1, "invalid": 7, "problems": {"number": 7}}


def test_integers() -> None:
    values = [1, "-7", "+8", 3.0, Decimal("4"), "2.5", 2.5, Decimal("1.1"), "x", False]
    got = one(ItemSpec("人数", "I"), values)
    assert got["problems"] == {"integer": 5}


def test_number_length_bounds_the_integer_digits() -> None:
    values = [99_999, 100_000, -100_000, "99999.99", "0099999", "100000.0", Decimal("99999.999"), Decimal("123456")]
    got = one(ItemSpec("注册资本", "N", 5), values)
    assert got["problems"] == {"length": 4}
    assert one(ItemSpec("人数", "I", 3), [999, 1000, "-999", "1000"])["problems"] == {"length": 2}
    assert one(ItemSpec("比率", "F", 1), [12345.5])["problems"] == {}  # B/F carry no length


def test_dates_in_every_common_shape_and_the_plausible_range() -> None:
    values = [
        "2024-01-31",
        "20240131",
        "2024/01/31",
        dt.date(2024, 1, 31),
        dt.datetime(2024, 1, 31, 8, 0),
        20240131,
        "2024-01-31 08:00:00",
        "2024-02-30",
        "31/01/2024",
        "明天",
        2024,
        3.5,
        "1899-12-31",
        "9999-12-31",
        dt.date(2076, 11, 25),
        dt.date(2076, 11, 26),
        dt.date(1900, 1, 1),
    ]
    got = one(ItemSpec("登记日期", "D", 8), values)
    assert got["problems"] == {"date": 5, "date_range": 3}


def test_date_range_is_configurable() -> None:
    rules = QualityRules(earliest=dt.date(2000, 1, 1), years_ahead=0)
    got = one(ItemSpec("办理日期", "D"), ["1999-12-31", "2000-01-01", "2026-11-25", "2026-11-26"], rules=rules)
    assert got["problems"] == {"date_range": 2}


def test_datetimes() -> None:
    values = [
        "2024-01-31 08:30:00",
        "2024-01-31T08:30:00+08:00",
        "20240131083000",
        "2024/01/31 08:30",
        dt.datetime(2024, 1, 31, 8, 30),
        dt.date(2024, 1, 31),
        "2024-01-31",
        "2024-01-31 25:00:00",
        "20241331083000",
        20240131,
        "1800-01-01 00:00:00",
    ]
    got = one(ItemSpec("更新时间", "T"), values)
    assert got["problems"] == {"datetime": 3, "date_range": 1}


def test_booleans() -> None:
    values = [True, False, 0, 1, "是", "否", "Y", "n", "TRUE", " false ", "2", 2, "可能", 1.0, Decimal("0")]
    got = one(ItemSpec("是否有效", "L"), values)
    assert got["problems"] == {"boolean": 3}


def test_memo_and_general_items_only_count_missing() -> None:
    got = one(ItemSpec("备注", "M"), ["x" * 10_000, None, 123, b"\x00"])
    assert got == {"missing": 1, "invalid": 0, "problems": {}}
    assert one(ItemSpec("附件", "G"), [b"%PDF", {"json": True}, None]) == {"missing": 1, "invalid": 0, "problems": {}}


# --- validity by sensitivity ----------------------------------------------------------------


def test_id_numbers_in_a_column() -> None:
    good = make_id()
    values = [
        good,
        make_id(order="124"),
        good[:17] + ("0" if good[17] != "0" else "1"),
        make_id(birth="19901301"),
        good[:15],
        good + "1",
        620102199003071234,
        None,
        "",
    ]
    got = one(ItemSpec("公民身份号码", "C", 18, "id_number"), values)
    assert got == {"missing": 2, "invalid": 5, "problems": {"id_check_digit": 1, "id_birth_date": 1, "id_format": 3}}


def test_id_numbers_in_a_shorter_text_item_report_the_length_first() -> None:
    got = one(ItemSpec("证件号码", "C", 15, "id_number"), [make_id(), "110105491231002"])
    assert got["problems"] == {"length": 1, "id_format": 1}


def test_phone_numbers() -> None:
    values = [
        "13912345678",
        "19912345678",
        13912345678,
        "12912345678",
        "1391234567",
        "139123456789",
        "+8613912345678",
        "139-1234-5678",
        "0931-8888888",
        None,
    ]
    got = one(ItemSpec("手机号码", "C", 20, "phone"), values)
    assert got == {"missing": 1, "invalid": 6, "problems": {"phone": 6}}


def test_email_addresses() -> None:
    values = [
        "zhang.san@lanzhou.gov.cn",
        "a+b@example.com",
        "no-at.example.com",
        "a@b",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "张三@example.com",
        "a b@example.com",
        "x" * 250 + "@a.cn",
    ]
    got = one(ItemSpec("电子邮箱", "C", 300, "email"), values)
    assert got["problems"] == {"email": 8}


def test_other_sensitivities_have_no_format_check() -> None:
    got = one(ItemSpec("住址", "C", 100, "address"), ["兰州市城关区", "?"])
    assert got["problems"] == {}


def test_examples_are_kept_for_plain_items_only() -> None:
    plain = check_batch([ItemSpec("性别", "C", 1)], [("男",), ("未知性别",), ("女性",), ("x1",), ("x2",)], today=TODAY)
    assert plain.summary()["items"][0]["examples"] == ["未知性别", "女性", "x1"]  # at most three
    personal = check_batch([ItemSpec("手机号码", "C", 11, "phone")], [("1391234567",)], today=TODAY)
    assert personal.summary()["items"][0]["examples"] == []  # a personal value never lands in a run record


# --- uniqueness of the key ------------------------------------------------------------------


ITEMS = [ItemSpec("统一社会信用代码", "C", 18), ItemSpec("年度", "I", 4), ItemSpec("名称", "C", 100)]


def test_duplicate_and_missing_keys() -> None:
    rows = [
        ("A", 2024, "甲"),
        ("B", 2024, "乙"),
        ("A", 2025, "甲"),
        ("A", 2024, "丙"),
        (None, 2024, "丁"),
        ("", 2024, "戊"),
    ]
    single = check_batch(ITEMS, rows, key=["统一社会信用代码"], today=TODAY).summary()["key"]
    assert single is not None
    assert (single["rows"], single["duplicates"], single["missing"]) == (4, 2, 2)
    assert single["uniqueness"] == 0.5
    composite = check_batch(ITEMS, rows, key=["统一社会信用代码", "年度"], today=TODAY).summary()["key"]
    assert composite is not None
    assert (composite["rows"], composite["duplicates"], composite["missing"]) == (4, 1, 2)
    assert composite["text"] == "主键(统一社会信用代码、年度)重复 1 行,主键缺失 2 行"


def test_uniqueness_spans_batches_added_or_merged() -> None:
    batches = [[(f"K{i}", 2024, "x") for i in range(j, j + 100)] for j in (0, 50, 120)]
    added = QualityTally(ITEMS, key=["统一社会信用代码"], today=TODAY)
    for batch in batches:
        added.add(batch)
    merged = check_batch(ITEMS, batches[0], key=["统一社会信用代码"], today=TODAY)
    for batch in batches[1:]:
        merged.merge(check_batch(ITEMS, batch, key=["统一社会信用代码"], today=TODAY))
    assert added.summary() == merged.summary()
    key = added.summary()["key"]
    assert key is not None
    assert (key["rows"], key["duplicates"]) == (300, 80)  # 220 distinct keys


def test_the_key_set_is_bounded() -> None:
    tally = QualityTally(ITEMS, key=["统一社会信用代码"], today=TODAY, max_keys=10)
    tally.add([(f"K{i}", 2024, "x") for i in range(8)])
    tally.add([(f"K{i}", 2024, "x") for i in range(4, 16)])  # 4 repeats, 2 new keys fit, 6 do not
    key = tally.summary()["key"]
    assert key is not None
    assert (key["duplicates"], key["untracked"], key["complete"]) == (4, 6, False)
    assert len(tally._seen) == 10
    assert "超出唯一性检查上限 10 个主键,6 行未检查" in key["text"]


def test_untracked_keys_are_counted_present_or_missing_but_not_kept() -> None:
    rows = [("A", 2024, "甲"), ("A", 2024, "乙"), (None, 2024, "丙"), ("", None, "丁"), ("B", None, "戊")]
    for key in (["统一社会信用代码"], ["统一社会信用代码", "年度"]):
        tracked = QualityTally(ITEMS, key=key, today=TODAY).add(rows)
        counted = QualityTally(ITEMS, key=key, today=TODAY, track_keys=False).add(rows)
        assert (counted.key_rows, counted.key_missing) == (tracked.key_rows, tracked.key_missing)
        assert counted.key_duplicates == 0 < tracked.key_duplicates and not counted._seen
        assert counted.summary()["items"] == tracked.summary()["items"]
    with pytest.raises(ValueError, match="cannot be merged"):
        QualityTally(ITEMS, key=["年度"], today=TODAY).merge(
            QualityTally(ITEMS, key=["年度"], today=TODAY, track_keys=False)
        )


# --- the tally and its summary --------------------------------------------------------------


def test_rows_as_mappings_equal_rows_as_sequences() -> None:
    rows = [("91620100MB1234567X", 2024, "兰州市大数据局"), ("bad", "二〇二四", None)]
    as_maps = [dict(zip(["统一社会信用代码", "年度", "名称"], row, strict=True)) for row in rows]
    assert check_batch(ITEMS, rows, today=TODAY).summary() == check_batch(ITEMS, as_maps, today=TODAY).summary()


def test_rows_must_match_the_items() -> None:
    with pytest.raises(ValueError, match="rows have"):
        check_batch(ITEMS, [("A", 2024)])
    with pytest.raises(ValueError, match="rows have"):
        check_batch(ITEMS, [("A", 2024, "x"), ("A", 2024, "x", "y")])
    with pytest.raises(ValueError, match="key columns"):
        QualityTally(ITEMS, key=["不存在"])
    with pytest.raises(ValueError, match="cannot be merged"):
        QualityTally(ITEMS).merge(QualityTally(ITEMS[:2]))


def test_low_and_high_cardinality_columns_count_alike() -> None:
    spec = ItemSpec("手机号码", "C", 11, "phone")
    repeated = ["13912345678", "123", None] * 300  # checked once per distinct value
    distinct = [f"139{i:08d}" for i in range(600)] + ["123"] * 300 + [None] * 300
    assert one(spec, repeated) == {"missing": 300, "invalid": 300, "problems": {"phone": 300}}
    assert one(spec, distinct) == {"missing": 300, "invalid": 300, "problems": {"phone": 300}}


def test_unhashable_values_are_still_checked() -> None:
    assert one(ItemSpec("属性", "C", 8), [["list"], {"a": 1}, ["longer"], None])["problems"] == {"length": 1}


def test_summary_is_json_with_chinese_labels() -> None:
    items = [ItemSpec("公民身份号码", "C", 18, "id_number"), ItemSpec("出生日期", "D")]
    rows = [(make_id(), "1990-03-07"), (make_id(order="124")[:17] + "0", "1990-13-07"), (None, None), (make_id(), None)]
    summary = check_batch(items, rows, key=["公民身份号码"], today=TODAY).summary()
    assert json.loads(json.dumps(summary, ensure_ascii=False)) == summary
    assert summary["rows"] == 4 and summary["cells"] == 8
    assert summary["completeness"] == 0.625  # 5 of 8 cells filled
    assert summary["validity"] == 0.6  # 3 of the 5 filled cells valid
    id_item, date_item = summary["items"]
    assert id_item["completeness"] == 0.75
    assert id_item["text"] == "公民身份号码:完整率 75.00%,有效率 66.66%,缺失 1 条(身份证号校验位错误 1 条)"
    assert date_item["problems"] == [{"code": "date", "label": "不是有效日期", "count": 1}]
    assert summary["text"] == (
        "共检查 4 行、2 个信息项:完整率 62.50%,有效率 60.00%;主键(公民身份号码)重复 1 行,主键缺失 1 行。"
    )


def test_percentages_round_down() -> None:
    summary = check_batch([ItemSpec("姓名", "C", 50)], [("张三",)] * 19_999 + [(None,)], today=TODAY).summary()
    assert summary["items"][0]["text"] == "姓名:完整率 99.99%,有效率 100.00%,缺失 1 条"
    summary = check_batch([ItemSpec("姓名", "C", 50)], [("张三",)] * 57 + [(None,)] * 43, today=TODAY).summary()
    assert summary["items"][0]["text"].startswith("姓名:完整率 57.00%")


def test_an_empty_tally_has_no_rates() -> None:
    summary = QualityTally(ITEMS, key=["统一社会信用代码"]).add([]).summary()
    assert summary["completeness"] is None and summary["validity"] is None
    assert summary["items"][0]["text"] == "统一社会信用代码:完整率 —,有效率 —"
    assert summary["key"] is not None and summary["key"]["uniqueness"] is None


def test_specs_come_from_catalog_items() -> None:
    item = SimpleNamespace(name="手机号码", data_type="C", length=11, sensitivity="phone", position=3)
    assert ItemSpec.of(item) == ItemSpec("手机号码", "C", 11, "phone")
