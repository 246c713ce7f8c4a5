"""Grant lists, detail with history, and suspend / resume / revoke / end with a reason (A26.2)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.permissions import Role
from govshare.sharing import applications, grant_views, grants
from govshare.sharing.grant_views import GrantScope
from govshare.sharing.models import Grant
from tests.factories import Factory
from tests.helpers import headers, sign_in
from tests.sharing.application_helpers import Parties, apply, parties


def _granted(session: Session, p: Parties) -> Grant:
    app = apply(session, p)
    applications.decide_application(session, p.provider_admin, app.id, outcome="approve_all")
    return session.scalars(select(Grant).where(Grant.application_id == app.id)).one()


def test_who_sees_which_grant(session: Session, factory: Factory) -> None:
    p = parties(factory)
    grant = _granted(session, p)
    consumer_user = p.applicant
    assert [r.grant.id for r in grant_views.list_grants(session, consumer_user, scope=GrantScope.consumer)] == [
        grant.id
    ]
    assert grant_views.list_grants(session, consumer_user, scope=GrantScope.provider) == []
    assert [r.grant.id for r in grant_views.list_grants(session, p.provider_admin, scope=GrantScope.provider)] == [
        grant.id
    ]
    assert grant.id in [r.grant.id for r in grant_views.list_grants(session, p.authority)]
    stranger = factory.role_actor(Role.dept_admin)
    assert grant_views.list_grants(session, stranger) == []
    with pytest.raises(NotFound):
        grant_views.get_grant(session, stranger, grant.id)
    county = factory.role_actor(Role.region_reviewer, region="七里河区")
    assert grant_views.list_grants(session, county) == []
    view = grant_views.get_grant(session, consumer_user, grant.id)
    assert view.moves == []  # the consumer cannot manage its grant
    assert [h.what for h in view.history] == ["签发授权"]
    assert {m for m, _ in grant_views.get_grant(session, p.provider_admin, grant.id).moves} == {
        "suspend",
        "revoke",
        "end",
    }


@pytest.mark.article("A26.2")
def test_suspend_resume_revoke_with_reasons_and_history(session: Session, factory: Factory) -> None:
    p = parties(factory)
    grant = _granted(session, p)
    with pytest.raises(ValidationFailed):
        grant_views.change_grant_status(session, p.provider_admin, grant.id, "suspend", reason=" ")
    with pytest.raises(NotFound):
        grant_views.change_grant_status(session, factory.role_actor(Role.dept_admin), grant.id, "revoke", reason="x")
    with pytest.raises(Forbidden):
        grant_views.change_grant_status(
            session, factory.role_actor(Role.dept_admin, department=p.consumer), grant.id, "end", reason="x"
        )
    grant_views.change_grant_status(session, p.provider_admin, grant.id, "suspend", reason="发现超范围使用,暂停核查")
    with pytest.raises(Forbidden) as refused:
        grants.usable_grant(session, grant_id=grant.id, consumer_department_id=p.consumer.id, system_id=None)
    assert refused.value.code == "grant_suspended"
    grant_views.change_grant_status(session, p.authority, grant.id, "resume", reason="核查完毕")
    grants.usable_grant(session, grant_id=grant.id, consumer_department_id=p.consumer.id, system_id=None)
    grant_views.change_grant_status(session, p.provider_admin, grant.id, "revoke", reason="违规对外提供数据")
    with pytest.raises(InvalidTransition):
        grant_views.change_grant_status(session, p.provider_admin, grant.id, "resume", reason="x")
    view = grant_views.get_grant(session, p.applicant, grant.id)
    assert [(h.what, h.reason) for h in view.history] == [
        ("签发授权", ""),
        ("暂停", "发现超范围使用,暂停核查"),
        ("恢复", "核查完毕"),
        ("撤销", "违规对外提供数据"),
    ]
    assert view.grant.status == "revoked" and view.moves == []


@pytest.mark.article("A26.2")
def test_grant_api_and_pages(client: TestClient, session: Session, factory: Factory) -> None:
    p = parties(factory)
    grant = _granted(session, p)
    admin = factory.user(Role.dept_admin, department=p.provider)
    sign_in(client, session, admin)
    listed = client.get("/api/v1/sharing/grants", params={"scope": "provider"}).json()
    assert [g["id"] for g in listed] == [grant.id]
    missing = client.post(
        f"/api/v1/sharing/grants/{grant.id}/status", json={"move": "end", "reason": ""}, headers=headers(client)
    )
    assert missing.status_code == 422
    ended = client.post(
        f"/api/v1/sharing/grants/{grant.id}/status",
        json={"move": "end", "reason": "低保核对工作已结束", "expected_version": grant.version},
        headers=headers(client),
    )
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert body["status"] == "ended" and body["history"][-1]["reason"] == "低保核对工作已结束"
    page = client.get(f"/sharing/grants/{grant.id}")
    assert page.status_code == 200 and "低保核对工作已结束" in page.text and "已终止" in page.text
    assert f'href="/sharing/usage?grant_id={grant.id}"' in page.text  # who read what under it (A35.1)
    assert client.get("/sharing/grants?scope=provider").status_code == 200
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_user))
    assert client.get(f"/api/v1/sharing/grants/{grant.id}").status_code == 404
    assert client.get(f"/sharing/grants/{grant.id}").status_code == 404
