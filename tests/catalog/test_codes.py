from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from govshare.catalog import repository as repo
from govshare.catalog.codes import allocate_code, format_code, name_key, parse_code, reserve_code


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("常住人口信息", "常住人口信息"),
        (" 常住 人口\u3000信息 ", "常住人口信息"),
        ("常住人口(2024)", "常住人口2024"),
        ("常住人口(2024)", "常住人口2024"),
        ("《常住人口》信息、目录。", "常住人口信息目录"),
        ("企业——登记“信息”", "企业登记信息"),
        ("ＡＰＩ接口-Data_v2", "api接口datav2"),
        ("!@#$%^&*", ""),
    ],
)
def test_name_key_removes_punctuation_and_spaces(text: str, key: str) -> None:
    assert name_key(text) == key


def test_format_and_parse() -> None:
    assert format_code("101", 123) == "101/000123"
    assert format_code("101001", 7) == "101001/000007"
    assert parse_code("101001/000123") == ("101001", 123)
    assert parse_code(" 205/000001 ") == ("205", 1)
    assert parse_code("101-000123") is None
    assert parse_code("101/123") is None


@pytest.mark.article("A13.1")
def test_allocation_counts_up_under_each_classification(session: Session) -> None:
    people = repo.classification_by_code(session, "101")
    credit = repo.classification_by_code(session, "104")
    assert people is not None and credit is not None
    start = people.next_sequence
    a = allocate_code(session, people.id)
    b = allocate_code(session, people.id)
    c = allocate_code(session, credit.id)
    assert a == format_code("101", start) and b == format_code("101", start + 1)
    assert c.startswith("104/")
    assert people.next_sequence == start + 2


def test_reserving_an_imported_code_moves_the_counter_forward_only(session: Session) -> None:
    item = repo.classification_by_code(session, "303")
    assert item is not None
    start = item.next_sequence
    reserve_code(session, item.id, start + 50)
    assert item.next_sequence == start + 51
    reserve_code(session, item.id, start + 10)  # an older code never moves it back
    assert item.next_sequence == start + 51
    assert allocate_code(session, item.id) == format_code("303", start + 51)
