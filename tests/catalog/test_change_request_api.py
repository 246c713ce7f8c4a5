"""Catalog change requests over the JSON API (/api/v1/catalog/change-requests), 2026 calendar.

The clock is frozen per step, and every step starts a fresh signed-in session (sessions idle out as
days pass). Sessions are opened directly (``session_client``): the password and
second-factor login is proven in tests/identity, and argon2 costs most of a second per check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.catalog.models import ChangeRequest, Resource
from govshare.config import get_settings
from govshare.deps import SESSION_COOKIE
from govshare.identity.models import User, UserSession
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.kit.crypto import new_token, token_hash
from tests.factories import Factory
from tests.helpers import csrf, headers

API = "/api/v1/catalog/change-requests"
D = dt.date


def at(day: dt.date) -> None:
    clock.set_now(dt.datetime(day.year, day.month, day.day, 10, 0))


@contextmanager
def session_client(app: Any, session: Session, user: User) -> Iterator[TestClient]:
    """A client signed in as ``user`` (both factors passed) through a session row opened directly."""
    token = new_token()
    session.add(
        UserSession(
            token_hash=token_hash(token, get_settings().security.secret_key),
            user_id=user.id,
            source_ip="testclient",
            mfa_passed=True,
        )
    )
    # Keep what the test built so far: a refused request rolls the request's savepoint back, which
    # would otherwise take the uncommitted session row (and the factory data) with it.
    session.commit()
    with TestClient(app) as c:
        c.cookies.set(SESSION_COOKIE, token)
        csrf(c)
        yield c


@contextmanager
def as_user(app: Any, session: Session, user: User) -> Iterator[TestClient]:
    with session_client(app, session, user) as c:
        yield c


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    data: dict[str, Any] = r.json()
    assert data["code"] == code, data
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["detail"]), data["detail"]
    return data


def _setup(factory: Factory, region: str = "兰州市") -> tuple[Resource, User]:
    at(D(2026, 9, 1))
    dept = factory.department(region=region)
    resource = factory.published_resource(dept)
    return resource, factory.user(Role.dept_admin, department=dept)


def _open(c: TestClient, resource_id: int, trigger_date: dt.date, **extra: Any) -> Any:
    body = {
        "resource_id": resource_id,
        "trigger": "duty",
        "trigger_date": trigger_date.isoformat(),
        "trigger_description": "市政府批准调整部门法定职责",
        **extra,
    }
    return c.post(API, json=body, headers=headers(c))


@pytest.mark.article("A17.1")
@pytest.mark.article("A17.2")
@pytest.mark.article("A17.3")
def test_open_extend_file_and_approve_over_http(app: Any, factory: Factory, session: Session) -> None:
    resource, admin = _setup(factory)
    reviewer = factory.user(Role.bureau_reviewer)

    at(D(2026, 9, 15))
    with as_user(app, session, admin) as c:
        r = _open(c, resource.id, D(2026, 9, 14))
        assert r.status_code == 201, r.text
        opened = r.json()
        cid = opened["id"]
        assert opened["status"] == "open"
        assert opened["filing_due"] == "2026-09-28"
        assert opened["filing_clock"] == {
            "due": "2026-09-28",
            "provisional": False,
            "remaining": 9,  # 9-16..18, 9-20 (Sun, 调休), 9-21..24, 9-28
            "overdue": False,
            "done": False,
            "label": "剩余 9 个工作日",
        }
        assert opened["decision_clock"] is None
        proposed = dict(opened["proposed"])
        proposed["summary"] = "职责调整后的办件过程信息"
        r = c.put(f"{API}/{cid}/proposed", json={"proposed": proposed, "reason": "职责调整"}, headers=headers(c))
        assert r.status_code == 200, r.text
        assert r.json()["proposed"]["summary"] == "职责调整后的办件过程信息"
        r = c.post(f"{API}/{cid}/extension", json={"days": 5, "reason": "涉及多个处室"}, headers=headers(c))
        assert r.status_code == 200, r.text
        assert r.json()["extension_status"] == "requested"
        assert r.json()["filing_due"] == "2026-09-28"
        # the department cannot consent to its own extension
        _problem(
            c.post(f"{API}/{cid}/extension/decision", json={"decision": "granted"}, headers=headers(c)),
            403,
            "permission_denied",
        )

    with as_user(app, session, reviewer) as c:
        queue = c.get(API, params={"scope": "to_decide"}).json()
        assert [q["id"] for q in queue] == [cid]
        r = c.post(
            f"{API}/{cid}/extension/decision", json={"decision": "granted", "comment": "同意"}, headers=headers(c)
        )
        assert r.status_code == 200, r.text
        assert r.json()["extension_status"] == "granted"
        assert r.json()["filing_due"] == "2026-10-10"  # across 国庆, onto the 调休 Saturday
        assert r.json()["filing_due_original"] == "2026-09-28"

    at(D(2026, 10, 10))
    with as_user(app, session, admin) as c:
        r = c.post(f"{API}/{cid}/file", json={}, headers=headers(c))
        assert r.status_code == 200, r.text
        filed = r.json()
        assert filed["status"] == "filed" and filed["filed_late"] is False
        assert filed["decision_due"] == "2026-10-23"
        assert filed["filing_clock"]["done"] is True and filed["filing_clock"]["label"] == "按期办结"

    at(D(2026, 10, 12))
    with as_user(app, session, reviewer) as c:
        current = c.get(f"{API}/{cid}").json()
        assert current["decision_clock"]["remaining"] == 9
        r = c.post(
            f"{API}/{cid}/decision",
            json={"decision": "approved", "comment": "同意", "expected_version": current["version"]},
            headers=headers(c),
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved" and r.json()["decided_late"] is False
        published = c.get(f"/api/v1/catalog/resources/{resource.id}").json()
        assert published["published_version"] == 2
        assert published["summary"] == "职责调整后的办件过程信息"


@pytest.mark.article("A17.2")
def test_the_department_cannot_set_its_own_due_date(app: Any, factory: Factory, session: Session) -> None:
    resource, admin = _setup(factory)
    at(D(2026, 9, 15))
    with as_user(app, session, admin) as c:
        r = _open(c, resource.id, D(2026, 9, 14), filing_due="2026-12-31")
        assert r.status_code == 422, r.text
        assert any(e["field"] == "filing_due" for e in r.json()["errors"])
        assert session.execute(select(func.count()).select_from(ChangeRequest)).scalar_one() == 0
        cid = _open(c, resource.id, D(2026, 9, 14)).json()["id"]
        # nor grant itself an extension, nor file as if one had been granted
        r = c.post(
            f"{API}/{cid}/extension",
            json={"days": 20, "reason": "原因", "extension_status": "granted"},
            headers=headers(c),
        )
        assert r.status_code == 422
        assert c.post(f"{API}/{cid}/file", json={"filed_late": False}, headers=headers(c)).status_code == 422
        assert (
            c.post(f"{API}/{cid}/extension", json={"days": 21, "reason": "原因"}, headers=headers(c)).status_code == 422
        )
        assert c.get(f"{API}/{cid}").json()["filing_due"] == "2026-09-28"
        assert (
            c.post(f"{API}/{cid}/extension", json={"days": 20, "reason": "原因"}, headers=headers(c)).status_code == 200
        )
        _problem(
            c.post(f"{API}/{cid}/extension", json={"days": 3, "reason": "再次申请"}, headers=headers(c)),
            409,
            "extension_already_requested",
        )

    at(D(2026, 9, 29))  # the extension is still pending: the due date has not moved
    with as_user(app, session, admin) as c:
        r = c.post(f"{API}/{cid}/file", json={}, headers=headers(c))
        assert r.status_code == 200, r.text
        assert r.json()["filed_late"] is True
        assert r.json()["filing_clock"]["label"] == "逾期 1 个工作日办结"


@pytest.mark.article("A17.3")
@pytest.mark.article("A15.2")
def test_reviewer_of_another_region_is_refused_over_http(app: Any, factory: Factory, session: Session) -> None:
    resource, admin = _setup(factory, region="榆中县")
    at(D(2026, 9, 22))
    with as_user(app, session, admin) as c:
        cid = _open(c, resource.id, D(2026, 9, 21)).json()["id"]
        assert c.post(f"{API}/{cid}/file", json={}, headers=headers(c)).status_code == 200
    stranger = factory.user(Role.region_reviewer, department=factory.department(region="皋兰县"), region="皋兰县")
    with as_user(app, session, stranger) as c:
        assert cid not in [r["id"] for r in c.get(API).json()]
        _problem(c.get(f"{API}/{cid}"), 404, "change_request_not_found")
        _problem(
            c.post(f"{API}/{cid}/decision", json={"decision": "approved"}, headers=headers(c)),
            403,
            "not_responsible_authority",
        )
    bureau = factory.user(Role.bureau_reviewer)
    with as_user(app, session, bureau) as c:
        _problem(
            c.post(f"{API}/{cid}/decision", json={"decision": "approved"}, headers=headers(c)),
            403,
            "not_responsible_authority",
        )
    at(D(2026, 10, 20))  # past the decision due date: 9-23, 9-24, 9-28..30, 10-08..10, 10-12, 10-13
    own = factory.user(Role.region_reviewer, department=factory.department(region="榆中县"), region="榆中县")
    with as_user(app, session, own) as c:
        _problem(
            c.post(f"{API}/{cid}/decision", json={"decision": "rejected", "comment": ""}, headers=headers(c)),
            422,
            "validation_failed",
        )
        r = c.post(f"{API}/{cid}/decision", json={"decision": "rejected", "comment": "依据不足"}, headers=headers(c))
        assert r.status_code == 200, r.text
        assert r.json()["decision_due"] == "2026-10-13"
        assert r.json()["decided_late"] is True
        assert r.json()["status"] == "rejected"


def test_reading_needs_sign_in_and_lists_only_what_the_reader_may_see(
    app: Any, client: TestClient, factory: Factory, session: Session
) -> None:
    resource, admin = _setup(factory)
    at(D(2026, 9, 22))
    with as_user(app, session, admin) as c:
        cid = _open(c, resource.id, D(2026, 9, 21)).json()["id"]
        assert [r["id"] for r in c.get(API, params={"scope": "mine"}).json()] == [cid]
        assert c.get(API, params={"scope": "mine", "status": "filed"}).json() == []
    other = factory.user(Role.dept_admin, department=factory.department())
    with as_user(app, session, other) as c:
        assert c.get(API).json() == []
        _problem(c.get(f"{API}/{cid}"), 404, "change_request_not_found")
        _problem(_open(c, resource.id, D(2026, 9, 21)), 403, "not_provider")
    auditor = factory.user(Role.auditor)
    with as_user(app, session, auditor) as c:
        assert [r["id"] for r in c.get(API).json()] == [cid]
        _problem(_open(c, resource.id, D(2026, 9, 21)), 403, "permission_denied")
    _problem(client.get(API), 401, "not_signed_in")
