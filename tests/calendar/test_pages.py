"""The calendar pages: the year view, a manager's correction and upload forms, the clock macro."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.calendar import service
from govshare.calendar.models import CalendarCorrection
from govshare.calendar.service import ClockView
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.web.templating import templates
from tests.factories import Factory
from tests.helpers import csrf, sign_in

EXAMPLE = Path(service.__file__).resolve().parent / "examples" / "2027.example.csv"


def _manager(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.bureau_admin))


def _cell(html: str, day: dt.date) -> str:
    """The grid cell of ``day`` (its title starts with the ISO date)."""
    match = re.search(rf'<td class="([^"]*)" title="{day.isoformat()}[^"]*">\s*(.*?)</td>', html, re.S)
    assert match, day
    return f"{match[1]}|{re.sub(r'<[^>]+>', ' ', match[2]).split()}"


def test_a_reader_sees_the_year_without_forms(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_user))
    page = client.get("/calendar?year=2026")
    assert page.status_code == 200
    html = page.text
    assert "工作日历 · 2026 年" in html and "国务院通知(chinese-calendar 内置)" in html
    assert _cell(html, dt.date(2026, 10, 10)) == "extra|['10', '班']"
    assert _cell(html, dt.date(2026, 10, 1)) == "off|['1', '休']"
    assert _cell(html, dt.date(2026, 10, 3)) == "off|['3', '休']"  # Saturday inside 国庆节
    assert _cell(html, dt.date(2026, 10, 17)) == "weekend|['17']"
    assert 'action="/calendar/days"' not in html and 'action="/calendar/years"' not in html
    assert "工作日历" in client.get("/").text  # the nav link


def test_an_unknown_year_is_shown_as_provisional(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_user))
    html = client.get("/calendar?year=2027").text
    assert "暂定(节假日安排尚未载入,仅按周末计算)" in html
    assert "2027 年的节假日安排尚未载入" in html
    assert _cell(html, dt.date(2027, 1, 1)) == "|['1']"  # a plain working Friday until loaded


def test_a_dept_user_is_refused_the_forms(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_user))
    token = csrf(client)
    r = client.post("/calendar/days", data={"day": "2026-10-10", "kind": "休", "note": "x", "csrf_token": token})
    assert r.status_code == 403 and "无权执行此操作" in r.text
    r = client.post(
        "/calendar/years",
        data={"year": "2027", "csrf_token": token},
        files={"file": ("2027.csv", EXAMPLE.read_bytes(), "text/csv")},
    )
    assert r.status_code == 403
    r = client.post("/calendar/days/2026-10-10/delete", data={"csrf_token": token})
    assert r.status_code == 403
    assert session.execute(select(CalendarCorrection)).first() is None


def test_a_manager_corrects_a_day_through_the_form(client: TestClient, session: Session, factory: Factory) -> None:
    _manager(client, session, factory)
    page = client.get("/calendar?year=2026")
    assert 'action="/calendar/days"' in page.text
    r = client.post(
        "/calendar/days",
        data={"day": "2026-10-10", "kind": "休", "note": "测试:取消调休", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/calendar?year=2026#m10"
    html = client.get(r.headers["location"]).text
    assert "已将 2026-10-10 设为休" in html
    assert _cell(html, dt.date(2026, 10, 10)) == "off corrected|['10', '休']"
    assert "测试:取消调休" in html
    assert service.is_working_day(session, dt.date(2026, 10, 10)) is False
    # and back
    r = client.post("/calendar/days/2026-10-10/delete", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    assert "已撤销 2026-10-10 的更正" in client.get(r.headers["location"]).text
    assert service.is_working_day(session, dt.date(2026, 10, 10)) is True


def test_a_bad_correction_is_shown_on_the_form(client: TestClient, session: Session, factory: Factory) -> None:
    _manager(client, session, factory)
    r = client.post("/calendar/days", data={"day": "2026-10-10", "kind": "班", "note": "", "csrf_token": csrf(client)})
    assert r.status_code == 422
    assert "请填写说明" in r.text and 'value="2026-10-10"' in r.text
    r = client.post("/calendar/days", data={"day": "2026-02-30", "kind": "休", "note": "x", "csrf_token": csrf(client)})
    assert r.status_code == 422 and "日期“2026-02-30”无效" in r.text


def test_a_manager_uploads_a_year(client: TestClient, session: Session, factory: Factory) -> None:
    _manager(client, session, factory)
    r = client.post(
        "/calendar/years",
        data={"year": "2027", "source": "测试依据", "csrf_token": csrf(client)},
        files={"file": ("2027.example.csv", EXAMPLE.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    html = client.get(r.headers["location"]).text
    assert "已载入 2027 年节假日安排(依据:测试依据)" in html
    assert "管理员已载入" in html and "依据:测试依据" in html
    assert _cell(html, dt.date(2027, 1, 1)) == "off corrected|['1', '休']"
    assert _cell(html, dt.date(2027, 2, 20)) == "extra corrected|['20', '班']"


def test_a_bad_upload_lists_its_lines(client: TestClient, session: Session, factory: Factory) -> None:
    _manager(client, session, factory)
    r = client.post(
        "/calendar/years",
        data={"year": "2027", "csrf_token": csrf(client)},
        files={"file": ("2027.csv", "2027-01-01,休\n2027-01-01,放假\n".encode(), "text/csv")},
    )
    assert r.status_code == 422
    assert "文件未载入" in r.text and "第 2 行第 2 列:类型“放假”无效" in r.text
    r = client.post("/calendar/years", data={"year": "2027", "csrf_token": csrf(client)})
    assert r.status_code == 422 and "文件为空" in r.text
    assert service.year_status(session, 2027) == "provisional"


def test_the_example_file_can_be_downloaded(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_user))
    r = client.get("/calendar/example.csv")
    assert r.status_code == 200 and "示例文件" in r.text


def test_the_dashboard_reminds_the_manager_to_load_next_year(
    client: TestClient, session: Session, factory: Factory
) -> None:
    clock.set_now(dt.datetime(2026, 11, 25, 9, 0))  # the 2027 notice is due about now
    _manager(client, session, factory)
    html = client.get("/").text
    assert "工作日历待载入" in html and "2027 年节假日安排尚未载入" in html
    r = client.post(
        "/calendar/years",
        data={"year": "2027", "source": "测试依据", "csrf_token": csrf(client)},
        files={"file": ("2027.example.csv", EXAMPLE.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "工作日历待载入" not in client.get("/").text


def test_wd_clock_renders_the_same_everywhere() -> None:
    render = templates.env.from_string("{{ wd_clock(view) }}|{{ wd_due(due, true) }}|{{ wd_due(due) }}").render
    view = ClockView(dt.date(2027, 1, 11), True, -2, True, "已逾期 2 个工作日(暂定)")
    html = render(view=view, due=dt.date(2027, 1, 11))
    clock_html, provisional_due, exact_due = html.split("|")
    assert clock_html.startswith(
        '<span class="clock late provisional" data-due="2027-01-11" title="截止日期 2027-01-11;'
    )
    assert clock_html.endswith(">已逾期 2 个工作日(暂定)</span>")
    assert provisional_due.startswith('<span class="due provisional"') and "2027-01-11(暂定)" in provisional_due
    assert exact_due == '<span class="due">2027-01-11</span>'
