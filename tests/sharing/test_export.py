"""People's reads and exports (CSV, XLSX): the same rules as the API, formula-injection safe, each
leaving an access record of kind ``export`` and an ``Action.data_exported`` record."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from govshare.identity.permissions import Role
from govshare.sharing.export import safe_cell
from govshare.sharing.models import AccessRecord
from tests.factories import Factory
from tests.helpers import sign_in
from tests.sharing.consumer_setup import World, audit_actions, build, person, population_resource


@pytest.fixture
def world(factory: Factory, session: Session, client: TestClient) -> World:
    built = build(factory, session, rows=30)
    sign_in(client, session, factory.user(Role.dept_user, department=built.consumer))
    return built


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("正常", "正常"),
        (-3, -3),
        (None, None),
    ],
)
def test_safe_cell(value: object, safe: object) -> None:
    assert safe_cell(value) == safe


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.article("A26.1", "A9.1")
def test_csv_export_has_granted_items_masked_and_is_recorded(
    client: TestClient, session: Session, world: World
) -> None:
    r = client.get(
        "/sharing/data/export", params={"code": world.resource.code, "grant_id": world.grant.id, "format": "csv"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _csv(r.text)
    assert rows[0] == ["公民身份号码", "姓名", "户口类别", "出生日期"]
    assert len(rows) == 31
    assert rows[1][0].count("*") == 8 and rows[1][1].endswith("**")
    assert "1390931" not in r.text and "西津西路" not in r.text and "内部备注" not in r.text
    record = session.query(AccessRecord).filter_by(kind="export").one()
    assert record.row_count == 30 and record.detail["format"] == "csv" and record.grant_id == world.grant.id
    assert len(audit_actions(session, "sharing.data.exported")) == 1


def test_xlsx_export_with_a_filter(client: TestClient, session: Session, world: World) -> None:
    r = client.get(
        "/sharing/data/export",
        params={
            "code": world.resource.code,
            "grant_id": world.grant.id,
            "format": "xlsx",
            world.param("户口类别"): "农业",
        },
    )
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["公民身份号码", "姓名", "户口类别", "出生日期"]
    assert {row[2] for row in values[1:]} == {"农业"} and len(values) - 1 == len([n for n in range(30) if n % 3 == 1])
    assert session.query(AccessRecord).filter_by(kind="export").one().row_count == len(values) - 1


def test_export_cells_that_look_like_formulas_are_neutralised(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    evil = population_resource(factory, world.provider, share_type="unconditional", name="户口类别公开信息")
    row = person(1) | {"户口类别": '=HYPERLINK("http://x")', "姓名": "+王"}
    factory.base_rows(evil, [row], key="公民身份号码")
    r = client.get("/sharing/data/export", params={"code": evil.code, "format": "csv"})
    assert r.status_code == 200, r.text
    data = _csv(r.text)
    kind = data[0].index("户口类别")
    assert data[1][kind] == '\'=HYPERLINK("http://x")'
    r = client.get("/sharing/data/export", params={"code": evil.code, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    assert sheet.cell(row=2, column=kind + 1).value == '\'=HYPERLINK("http://x")'
    assert sheet.cell(row=2, column=kind + 1).data_type == "s"


def test_export_refuses_an_unknown_format_and_ungranted_filters(client: TestClient, world: World) -> None:
    r = client.get(
        "/sharing/data/export", params={"code": world.resource.code, "grant_id": world.grant.id, "format": "pdf"}
    )
    assert r.status_code == 422
    r = client.get(
        "/sharing/data/export",
        params={
            "code": world.resource.code,
            "grant_id": world.grant.id,
            "format": "csv",
            world.param("联系电话"): "139*",
        },
    )
    assert r.status_code == 403 and "1390931" not in r.text


def test_people_page_lists_sources_and_shows_rows(client: TestClient, session: Session, world: World) -> None:
    r = client.get("/sharing/data")
    assert r.status_code == 200 and world.resource.name in r.text
    r = client.get("/sharing/data/view", params={"code": world.resource.code, "grant_id": world.grant.id, "limit": 10})
    assert r.status_code == 200, r.text
    assert "下一页" in r.text and "1390931" not in r.text and "张**" in r.text
    assert session.query(AccessRecord).filter_by(kind="rows").count() == 1
    link = re.search(r'href="(/sharing/data/view\?[^"]+after=[^"]+)">下一页', r.text)
    assert link is not None
    r = client.get(html.unescape(link.group(1)))
    assert r.status_code == 200 and "下一页" in r.text and "张**" not in r.text.split("<tbody>")[1][:200]
    r = client.get("/sharing/data/view", params={"code": world.resource.code, "grant_id": world.grant.id, "limit": 0})
    assert r.status_code == 422 and "每页条数" in r.text
    r = client.get("/sharing/data/view", params={"code": "101/999999"})
    assert r.status_code == 404
