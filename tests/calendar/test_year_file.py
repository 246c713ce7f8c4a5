"""Reading a year file (CSV or JSON): what is accepted, and errors that name the line and column."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from govshare.calendar import service
from govshare.calendar.service import parse_year_file
from govshare.errors import ValidationFailed

D = dt.date
EXAMPLES = Path(service.__file__).resolve().parent / "examples"


def _errors(content: str | bytes, filename: str = "2027.csv") -> list[str]:
    raw = content.encode() if isinstance(content, str) else content
    with pytest.raises(ValidationFailed) as info:
        parse_year_file(raw, filename)
    assert info.value.code == "calendar_file_invalid"
    return [e.message for e in info.value.errors]


def test_csv_with_header_comments_and_both_vocabularies() -> None:
    text = (
        "# 2027 年安排\ndate,type,note\n2027-01-01,休,元旦\n2027/2/20,班\n\n"
        "2027-10-01,holiday,国庆\n2027-10-09,WORKDAY,\n"
    )
    year, holidays, workdays = parse_year_file(("\ufeff" + text).encode(), "2027.csv")
    assert year == 2027
    assert holidays == [D(2027, 1, 1), D(2027, 10, 1)]
    assert workdays == [D(2027, 2, 20), D(2027, 10, 9)]


def test_csv_saved_by_excel_in_gbk() -> None:
    content = "日期,类型,说明\n2027年1月1日,休,元旦\n".encode("gb18030")
    assert parse_year_file(content, "2027.csv") == (2027, [D(2027, 1, 1)], [])


def test_csv_errors_name_line_and_column() -> None:
    text = "\n".join(
        [
            "date,type,note",  # 1
            "2027-01-01,休,元旦",  # 2
            "2027-13-01,休",  # 3: bad date
            "2027-01-02,放假",  # 4: bad type
            "2027-01-03",  # 5: no type
            "2027-01-01,班",  # 6: duplicate of line 2
            "2026-12-31,休",  # 7: another year
            "2027-02-20,班,说明,多余",  # 8: extra column
        ]
    )
    assert _errors(text) == [
        "第 3 行第 1 列:日期“2027-13-01”无效,应为 YYYY-MM-DD",
        "第 4 行第 2 列:类型“放假”无效,应为 休、班、holiday 或 workday",
        "第 5 行第 2 列:缺少类型,应为 休 或 班",
        "第 6 行第 1 列:日期 2027-01-01 重复(已见于第 2 行)",
        "第 7 行第 1 列:日期 2026-12-31 不属于 2027 年(一个文件只能载入一个年度)",
        "第 8 行第 4 列:多余的列:每行应为 日期,类型[,说明]",
    ]


def test_the_year_is_the_one_most_dates_fall_in() -> None:
    text = "2026-12-31,休\n2027-01-01,休\n2027-02-20,班\n"
    assert _errors(text) == ["第 1 行第 1 列:日期 2026-12-31 不属于 2027 年(一个文件只能载入一个年度)"]


def test_the_detail_summarises_in_chinese() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_year_file(b"2027-01-01,x\n", "a.csv")
    assert info.value.detail.startswith("年度文件有误:第 1 行第 2 列")


def test_many_errors_are_capped() -> None:
    text = "\n".join(f"2027-01-{i:02d},?" for i in range(1, 31))
    with pytest.raises(ValidationFailed) as info:
        parse_year_file(text.encode(), "a.csv")
    assert len(info.value.errors) == 20
    assert info.value.detail.endswith("另有 10 处错误")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件为空"),
        (b"  \n", "文件为空"),
        (b"# only a comment\ndate,type\n", "文件中没有任何日期"),
        (b"\xff\xfe\x00\xd8\x00", "文件编码无法识别,请保存为 UTF-8 编码"),
        (b"2027-01-01,\xe4\xbc\x91\n" * 20000, "文件过大(超过 256 KB),不像是一年的节假日安排"),
    ],
)
def test_empty_unreadable_or_huge_files(content: bytes, message: str) -> None:
    assert _errors(content) == [message]


def test_json_accepted() -> None:
    data = {"year": 2027, "holidays": ["2027-01-01", "2027-10-01"], "workdays": ["2027-10-09"], "source": "x"}
    assert parse_year_file(json.dumps(data).encode(), "2027.json") == (
        2027,
        [D(2027, 1, 1), D(2027, 10, 1)],
        [D(2027, 10, 9)],
    )
    # recognised by its content when the name says nothing
    assert parse_year_file(json.dumps(data).encode(), "upload")[0] == 2027


def test_json_syntax_error_names_line_and_column() -> None:
    text = '{\n  "year": 2027,\n  "holidays": ["2027-01-01",, "2027-01-02"]\n}'
    assert _errors(text, "2027.json") == ["第 3 行第 29 列:JSON 格式错误,请检查括号、逗号和引号"]


def test_json_bad_values_name_line_and_column() -> None:
    text = "\n".join(
        [
            "{",
            '  "year": 2027,',
            '  "holidays": [',
            '    "2027-01-01",',
            '    "2027-02-30",',
            '    "2026-12-31",',
            '    "2027-01-01"',
            "  ],",
            '  "workday": []',
            "}",
        ]
    )
    assert _errors(text, "2027.json") == [
        "第 5 行第 5 列:日期“2027-02-30”无效,应为 YYYY-MM-DD",
        "第 6 行第 5 列:日期 2026-12-31 不属于 2027 年(一个文件只能载入一个年度)",
        "第 7 行第 5 列:日期 2027-01-01 重复(已见于第 4 行)",
        "第 9 行第 3 列:未知字段“workday”,应为 year、holidays、workdays",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], '第 1 行第 1 列:应为一个对象,如 {"year": 2027, "holidays": [...], "workdays": [...]}'),
        ({"holidays": ["2027-01-01"]}, "缺少或无效的“year”字段,应为年份数字,如 2027"),
        ({"year": 2027}, "缺少“holidays”字段(放假日期列表)"),
        ({"year": 2027, "holidays": "2027-01-01"}, "第 1 行第 16 列:“holidays”应为日期列表"),
        ({"year": 2027, "holidays": [20270101]}, '“holidays”第 1 项应为日期字符串,如 "2027-01-01"'),
    ],
)
def test_json_shape_errors(data: object, message: str) -> None:
    assert message in _errors(json.dumps(data), "2027.json")


def test_the_shipped_examples_agree_and_say_they_are_examples() -> None:
    csv_bytes = (EXAMPLES / "2027.example.csv").read_bytes()
    json_bytes = (EXAMPLES / "2027.example.json").read_bytes()
    assert "示例" in csv_bytes.decode().splitlines()[0] and "EXAMPLE" in csv_bytes.decode()
    assert "示例" in json.loads(json_bytes)["_comment"]
    from_csv = parse_year_file(csv_bytes, "2027.example.csv")
    assert from_csv == parse_year_file(json_bytes, "2027.example.json")
    year, holidays, workdays = from_csv
    assert year == 2027 and D(2027, 10, 1) in holidays and D(2027, 10, 9) in workdays
    assert all(d.weekday() >= 5 for d in workdays)
