"""The calendar JSON API, driven with personal API tokens (Bearer) and a signed-in session."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.calendar import service
from govshare.identity import auth
from govshare.identity.permissions import Role
from tests.factories import Factory
from tests.helpers import headers, sign_in

EXAMPLE = Path(service.__file__).resolve().parent / "examples" / "2027.example.csv"


@pytest.fixture
def reader(session: Session, factory: Factory) -> dict[str, str]:
    """A dept_user's personal API token (Bearer)."""
    user = factory.user(Role.dept_user)
    _, value = auth.create_api_token(session, factory.actor(user), name="测试脚本")
    session.commit()  # a refused request rolls back its transaction; the token must outlive it
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def manager(client: TestClient, session: Session, factory: Factory) -> dict[str, str]:
    """A signed-in bureau_admin (password and second factor: the role may not use API tokens);
    returns the CSRF header its changing requests carry."""
    sign_in(client, session, factory.user(Role.bureau_admin))
    return headers(client)


def test_a_year_lists_days_off_and_extra_working_days(client: TestClient, reader: dict[str, str]) -> None:
    r = client.get("/api/v1/calendar/2026", headers=reader)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "official"
    off = {d["day"]: d for d in body["days_off"]}
    assert off["2026-10-01"]["name"] == "国庆节"
    assert "2026-10-03" not in off  # a Saturday: off anyway, not listed
    assert {d["day"] for d in body["extra_working_days"]} == {
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    }
    unknown = client.get("/api/v1/calendar/2027", headers=reader).json()
    assert unknown["status"] == "provisional" and unknown["days_off"] == [] and "暂定" in unknown["status_label"]


def test_add_working_days(client: TestClient, reader: dict[str, str]) -> None:
    r = client.get("/api/v1/calendar/add-working-days", params={"start": "2026-09-28", "days": 10}, headers=reader)
    assert r.json() == {
        "start": "2026-09-28",
        "days": 10,
        "due": "2026-10-16",
        "provisional": False,
        "label": "2026-10-16",
    }
    r = client.get("/api/v1/calendar/add-working-days", params={"start": "2026-12-28", "days": 10}, headers=reader)
    assert (r.json()["due"], r.json()["provisional"], r.json()["label"]) == ("2027-01-11", True, "2027-01-11(暂定)")
    bad = client.get("/api/v1/calendar/add-working-days", params={"start": "2026-12-28", "days": -1}, headers=reader)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_signed_out_is_refused(client: TestClient) -> None:
    assert client.get("/api/v1/calendar/2026").status_code == 401


def test_a_dept_user_cannot_correct(client: TestClient, reader: dict[str, str], session: Session) -> None:
    r = client.put("/api/v1/calendar/days/2026-10-10", json={"working": False, "note": "x"}, headers=reader)
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    assert client.delete("/api/v1/calendar/days/2026-10-10", headers=reader).status_code == 403
    files = {"file": ("2027.csv", EXAMPLE.read_bytes(), "text/csv")}
    assert client.post("/api/v1/calendar/years/2027", files=files, headers=reader).status_code == 403
    assert service.is_working_day(session, service.parse_day("2026-10-10")) is True


def test_correct_and_remove_a_day(client: TestClient, reader: dict[str, str], manager: dict[str, str]) -> None:
    r = client.put(
        "/api/v1/calendar/days/2026-10-10", json={"working": False, "note": "测试:取消调休"}, headers=manager
    )
    assert r.status_code == 200, r.text
    assert r.json()["working"] is False and r.json()["note"] == "测试:取消调休"
    day = client.get("/api/v1/calendar/days/2026-10-10", headers=reader).json()
    assert (day["working"], day["corrected"], day["note"]) == (False, True, "测试:取消调休")
    due = client.get("/api/v1/calendar/add-working-days", params={"start": "2026-09-28", "days": 10}, headers=reader)
    assert due.json()["due"] == "2026-10-19"
    assert client.delete("/api/v1/calendar/days/2026-10-10", headers=manager).status_code == 204
    again = client.delete("/api/v1/calendar/days/2026-10-10", headers=manager)
    assert again.status_code == 404 and again.json()["code"] == "calendar_correction_not_found"
    assert client.get("/api/v1/calendar/days/2026-10-10", headers=reader).json()["working"] is True


def test_a_correction_needs_a_note(client: TestClient, manager: dict[str, str]) -> None:
    r = client.put("/api/v1/calendar/days/2026-10-10", json={"working": False, "note": ""}, headers=manager)
    assert r.status_code == 422


def test_upload_a_year(client: TestClient, reader: dict[str, str], manager: dict[str, str], session: Session) -> None:
    files = {"file": ("2027.example.csv", EXAMPLE.read_bytes(), "text/csv")}
    r = client.post("/api/v1/calendar/years/2027", files=files, data={"source": "测试依据"}, headers=manager)
    assert r.status_code == 200, r.text
    assert (r.json()["year"], r.json()["source"]) == (2027, "测试依据")
    year = client.get("/api/v1/calendar/2027", headers=reader).json()
    assert year["status"] == "loaded" and year["source"] == "测试依据"
    assert "2027-02-20" in {d["day"] for d in year["extra_working_days"]}
    due = client.get("/api/v1/calendar/add-working-days", params={"start": "2026-12-28", "days": 10}, headers=reader)
    assert due.json()["provisional"] is False and due.json()["due"] == "2027-01-12"
    actions = session.execute(select(AuditRecord.action).where(AuditRecord.object_type == "calendar_year")).scalars()
    assert list(actions) == ["calendar.year.loaded"]


def test_upload_errors(client: TestClient, manager: dict[str, str]) -> None:
    files = {"file": ("2027.example.csv", EXAMPLE.read_bytes(), "text/csv")}
    r = client.post("/api/v1/calendar/years/2028", files=files, headers=manager)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "year", "message": "文件中的日期属于 2027 年,与所选的 2028 年不符"}]
    bad = {"file": ("2027.csv", "2027-01-01,休\n2027-01-32,休\n".encode(), "text/csv")}
    r = client.post("/api/v1/calendar/years/2027", files=bad, headers=manager)
    assert r.status_code == 422
    assert r.json()["code"] == "calendar_file_invalid"
    assert r.json()["errors"][0] == {
        "field": "file",
        "message": "第 2 行第 1 列:日期“2027-01-32”无效,应为 YYYY-MM-DD",
        "row": 2,
    }


def test_a_managers_change_needs_the_csrf_header(client: TestClient, manager: dict[str, str]) -> None:
    body = {"working": True, "note": "测试"}
    r = client.put("/api/v1/calendar/days/2026-10-11", json=body)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert client.put("/api/v1/calendar/days/2026-10-11", json=body, headers=manager).status_code == 200
