"""Catalog change request pages: the open form from a published resource, the list and detail with
their clocks, the department's and the authority's forms, the proposed-content editor, the dashboard.
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
from govshare.identity.models import User
from govshare.identity.permissions import Role
from tests.catalog.test_change_request_api import at, session_client
from tests.factories import Factory
from tests.helpers import csrf

D = dt.date
BASE = "/catalog/change-requests"


@contextmanager
def as_user(app: Any, session: Session, user: User) -> Iterator[TestClient]:
    with session_client(app, session, user) as c:
        yield c


def _setup(factory: Factory) -> tuple[Resource, User, User]:
    at(D(2026, 9, 1))
    dept = factory.department()
    resource = factory.published_resource(dept)
    return resource, factory.user(Role.dept_admin, department=dept), factory.user(Role.bureau_reviewer)


def _post(c: TestClient, url: str, **data: Any) -> Any:
    return c.post(url, data={"csrf_token": csrf(c), **data}, follow_redirects=False)


def _open(c: TestClient, resource: Resource, trigger_date: dt.date) -> int:
    r = _post(
        c,
        f"{BASE}/new",
        resource_id=resource.id,
        trigger="law",
        trigger_date=trigger_date.isoformat(),
        trigger_description="《兰州市某某条例》修订,数据项口径调整",
        reason="",
    )
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith(f"{BASE}/")
    return int(location.rsplit("/", 1)[1])


def _text(r: Any) -> str:
    assert r.status_code == 200, r.text
    return str(r.text)


@pytest.mark.article("A17.1")
def test_open_from_a_published_resource_and_see_the_filing_clock(app: Any, factory: Factory, session: Session) -> None:
    resource, admin, _ = _setup(factory)
    at(D(2026, 9, 22))
    with as_user(app, session, admin) as c:
        page = _text(c.get(f"/catalog/{resource.id}"))
        assert f"{BASE}/new?resource_id={resource.id}" in page
        form = _text(c.get(f"{BASE}/new", params={"resource_id": resource.id}))
        assert "提出目录变更申请" in form and resource.code in form
        assert 'name="csrf_token"' in form
        cid = _open(c, resource, D(2026, 9, 21))
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "2026-10-12" in detail
        # (9-22, 10-12]: 9-23, 9-24, 9-28..30, 10-08..10, 10-12
        assert "剩余 9 个工作日" in detail
        assert "待提交" in detail and "报送变更申请" in detail and "申请延期" in detail
        listing = _text(c.get(BASE))
        assert f'href="{BASE}/{cid}"' in listing and "剩余 9 个工作日" in listing

    at(D(2026, 10, 13))
    with as_user(app, session, admin) as c:
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "已逾期 1 个工作日" in detail
        assert "报送后将标记为逾期报送" in detail
        r = _post(c, f"{BASE}/{cid}/file", expected_version=1)
        assert r.status_code == 303
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "逾期报送" in detail and "逾期 1 个工作日办结" in detail


def test_open_form_errors_are_shown_in_chinese(app: Any, factory: Factory, session: Session) -> None:
    resource, admin, _ = _setup(factory)
    at(D(2026, 9, 22))
    with as_user(app, session, admin) as c:
        r = _post(
            c,
            f"{BASE}/new",
            resource_id=resource.id,
            trigger="law",
            trigger_date="2026-09-30",
            trigger_description="",
        )
        assert r.status_code == 422
        assert "变化之日不能晚于今天" in r.text and "请说明法律法规调整" in r.text
        r = _post(c, f"{BASE}/new", resource_id=resource.id, trigger="", trigger_date="2026-9-x")
        assert r.status_code == 422 and "请选择变更原因" in r.text
    assert session.execute(select(func.count()).select_from(ChangeRequest)).scalar_one() == 0


@pytest.mark.article("A17.2")
def test_extension_asked_and_consented_through_the_pages(app: Any, factory: Factory, session: Session) -> None:
    resource, admin, reviewer = _setup(factory)
    at(D(2026, 9, 15))
    with as_user(app, session, admin) as c:
        cid = _open(c, resource, D(2026, 9, 14))
        r = _post(c, f"{BASE}/{cid}/extension", days="25", reason="原因", expected_version=1)
        assert r.status_code == 422 and "1 至 20 个工作日" in r.text
        r = _post(c, f"{BASE}/{cid}/extension", days="5", reason="涉及多个处室", expected_version=1)
        assert r.status_code == 303
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "延期待同意" in detail and "2026-09-28" in detail
        assert "提交延期申请" not in detail  # only one extension
        assert "同意延期" not in detail.replace("已同意延期", "")  # the department cannot consent
    with as_user(app, session, reviewer) as c:
        queue = _text(c.get(BASE))  # a reviewer lands on the queue to decide
        assert f'href="{BASE}/{cid}"' in queue
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "延期申请:5 个工作日" in detail
        r = _post(c, f"{BASE}/{cid}/extension/decision", decision="refused", comment="", expected_version=2)
        assert r.status_code == 422 and "不同意延期须说明理由" in r.text
        r = _post(c, f"{BASE}/{cid}/extension/decision", decision="granted", days="5", expected_version=2)
        assert r.status_code == 303
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "2026-10-10" in detail and "原期限 2026-09-28" in detail and "已同意延期" in detail


@pytest.mark.article("A17.3")
def test_edit_proposal_file_and_approve_through_the_pages(app: Any, factory: Factory, session: Session) -> None:
    resource, admin, reviewer = _setup(factory)
    at(D(2026, 9, 22))
    with as_user(app, session, admin) as c:
        cid = _open(c, resource, D(2026, 9, 21))
        form = _text(c.get(f"{BASE}/{cid}/proposed"))
        assert f'action="{BASE}/{cid}/proposed"' in form and resource.name in form
        cr = session.get(ChangeRequest, cid)
        assert cr is not None
        data: dict[str, Any] = {
            k: v for k, v in cr.proposed.items() if k not in ("items", "related_codes", "topic_id", "classified")
        }
        data["summary"] = "条例修订后的办件信息"
        data["item_rows"] = len(cr.proposed["items"])
        for i, item in enumerate(cr.proposed["items"]):
            data |= {f"items-{i}-name": item["name"], f"items-{i}-data_type": item["data_type"]}
            data[f"items-{i}-shareable"] = "1"
        assert cr.version == 1
        bad = _post(c, f"{BASE}/{cid}/proposed", **(data | {"scenario": "", "expected_version": 1}))
        assert bad.status_code == 422 and "应用场景" in bad.text
        r = _post(c, f"{BASE}/{cid}/proposed", **(data | {"expected_version": 1}))
        assert r.status_code == 303, r.text
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "摘要" in detail and "条例修订后的办件信息" in detail
        assert _post(c, f"{BASE}/{cid}/file", expected_version=2).status_code == 303
    at(D(2026, 9, 23))
    with as_user(app, session, reviewer) as c:
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "审核变更申请" in detail and "剩余 9 个工作日" in detail  # due 2026-10-13
        r = _post(c, f"{BASE}/{cid}/decision", decision="rejected", comment="", expected_version=3)
        assert r.status_code == 422 and "不同意变更须填写审核意见" in r.text
        r = _post(c, f"{BASE}/{cid}/decision", decision="approved", comment="同意", expected_version=3)
        assert r.status_code == 303, r.text
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "已同意" in detail and "第 2 版" in detail
    session.refresh(resource)
    assert resource.published_version == 2 and resource.summary == "条例修订后的办件信息"


@pytest.mark.article("A17.3")
def test_late_decision_is_flagged_on_the_page(app: Any, factory: Factory, session: Session) -> None:
    resource, admin, reviewer = _setup(factory)
    at(D(2026, 9, 30))
    with as_user(app, session, admin) as c:
        cid = _open(c, resource, D(2026, 9, 29))
        assert _post(c, f"{BASE}/{cid}/file", expected_version=1).status_code == 303
    at(D(2026, 10, 21))  # the decision was due 2026-10-20
    with as_user(app, session, reviewer) as c:
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "审核后将标记为逾期审核" in detail and "已逾期 1 个工作日" in detail
        r = _post(c, f"{BASE}/{cid}/decision", decision="rejected", comment="依据不足", expected_version=2)
        assert r.status_code == 303
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "逾期审核" in detail and "未同意" in detail


def test_provisional_due_date_is_marked_and_dashboard_lists_the_work(
    app: Any, factory: Factory, session: Session
) -> None:
    resource, admin, reviewer = _setup(factory)
    at(D(2026, 12, 24))
    with as_user(app, session, admin) as c:
        cid = _open(c, resource, D(2026, 12, 24))
        detail = _text(c.get(f"{BASE}/{cid}"))
        assert "2027-01-07(暂定)" in detail
        home = _text(c.get("/"))
        assert "待报送的目录变更申请" in home and f"{BASE}/{cid}" in home
        assert _post(c, f"{BASE}/{cid}/file", expected_version=1).status_code == 303
    with as_user(app, session, reviewer) as c:
        home = _text(c.get("/"))
        assert "待审核的目录变更申请与延期申请" in home and f"{BASE}/{cid}" in home


def test_pages_refuse_without_the_permission(app: Any, factory: Factory, session: Session) -> None:
    resource, admin, _ = _setup(factory)
    at(D(2026, 9, 22))
    with as_user(app, session, admin) as c:
        cid = _open(c, resource, D(2026, 9, 21))
    user = factory.user(Role.dept_user, department=factory.department())
    with as_user(app, session, user) as c:
        assert c.get(f"{BASE}/new", params={"resource_id": resource.id}).status_code == 403
        assert c.get(f"{BASE}/{cid}").status_code == 404
        assert _post(c, f"{BASE}/{cid}/decision", decision="approved").status_code == 403
