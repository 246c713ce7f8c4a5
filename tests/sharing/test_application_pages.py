"""The application pages end to end through HTML forms: apply from the catalog, answer per 信息项,
coordination, the lists and the dashboard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog.models import DataItem, Resource
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.sharing.models import Application, Coordination, Grant
from tests.factories import Factory
from tests.helpers import csrf, sign_in
from tests.sharing.application_helpers import conditional_resource


def _apply_for_the_name(client: TestClient, session: Session, resource: Resource, *, days: int) -> Response:
    """The signed-in user applies through the page for the resource's 姓名 item, for ``days`` days."""
    name_id = session.scalars(
        select(DataItem.id).where(DataItem.resource_id == resource.id, DataItem.name == "姓名")
    ).one()
    return client.post(
        "/sharing/applications/new",
        data={
            "csrf_token": csrf(client),
            "resource_id": str(resource.id),
            f"item_{name_id}": "1",
            "scenario": "场景",
            "duty_basis": "依据",
            "purpose": "用途",
            "period_from": clock.today().isoformat(),
            "period_until": (clock.today() + dt.timedelta(days=days)).isoformat(),
        },
        follow_redirects=False,
    )


@pytest.mark.article("A20.2")
@pytest.mark.article("A20.3")
@pytest.mark.article("A20.4")
def test_apply_decide_and_coordinate_through_the_pages(client: TestClient, session: Session, factory: Factory) -> None:
    provider = factory.department("测试市公安局")
    consumer = factory.department("测试市民政局")
    resource = conditional_resource(factory, provider, name="人口基本信息(测试)")
    ids = {i.name: i.id for i in session.scalars(select(DataItem).where(DataItem.resource_id == resource.id))}
    applicant = factory.user(Role.dept_user, department=consumer)
    admin = factory.user(Role.dept_admin, department=provider)
    reviewer = factory.user(Role.bureau_reviewer)

    sign_in(client, session, applicant)
    detail = client.get(f"/catalog/{resource.id}")
    assert f"/sharing/applications/new?resource_id={resource.id}" in detail.text and "申请使用" in detail.text
    form = client.get(f"/sharing/applications/new?resource_id={resource.id}")
    assert form.status_code == 200 and "宗教信仰" not in form.text  # 不可共享 items are not offered
    fields = {
        "csrf_token": csrf(client),
        "resource_id": str(resource.id),
        f"item_{ids['姓名']}": "1",
        f"item_{ids['联系电话']}": "1",
        "scenario": "低保家庭经济状况核对",
        "duty_basis": "《社会救助暂行办法》第十一条",
        "purpose": "核对申请人身份",
        "period_from": clock.today().isoformat(),
        "period_until": (clock.today() + dt.timedelta(days=300)).isoformat(),
    }
    missing = client.post("/sharing/applications/new", data=fields)
    assert missing.status_code == 422 and "请说明申请理由" in missing.text
    assert session.scalars(select(Application)).first() is None
    done = client.post(
        "/sharing/applications/new",
        data={**fields, f"reason_{ids['联系电话']}": "通知核对结果"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    app_url = done.headers["location"]
    app_id = int(app_url.rsplit("/", 1)[1])
    page = client.get(app_url)
    assert "待提供部门答复" in page.text and "剩余 10 个工作日" in page.text
    assert "撤回申请" in page.text and "答复共享申请" not in page.text
    assert "我的申请" in client.get("/sharing/applications").text
    client.cookies.clear()

    sign_in(client, session, admin)
    inbox = client.get("/sharing/applications?scope=inbox")
    assert app_url in inbox.text
    assert "待我答复的共享申请" in client.get("/").text
    decision = {
        "csrf_token": csrf(client),
        "outcome": "per_item",
        f"decision_{ids['姓名']}": "approve",
        f"decision_{ids['联系电话']}": "refuse",
        "masking": "masked",
    }
    no_reason = client.post(f"{app_url}/decision", data=decision)
    assert no_reason.status_code == 422 and "须说明理由" in no_reason.text
    decided = client.post(
        f"{app_url}/decision",
        data={**decision, f"refusal_{ids['联系电话']}": "联系电话超出核对需要"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    shown = client.get(app_url).text
    assert "部分同意" in shown and "联系电话超出核对需要" in shown
    grant = session.scalars(select(Grant).where(Grant.application_id == app_id)).one()
    assert f"/sharing/grants/{grant.id}" in shown
    client.cookies.clear()

    sign_in(client, session, applicant)
    assert "申请协调" in client.get(app_url).text
    asked = client.post(
        f"{app_url}/coordination",
        data={"csrf_token": csrf(client), "reason": "需电话通知核对结果"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    coordination_url = asked.headers["location"]
    assert re.fullmatch(r"/sharing/coordinations/\d+", coordination_url)
    client.cookies.clear()

    sign_in(client, session, reviewer)
    assert coordination_url in client.get("/sharing/coordinations").text
    noted = client.post(
        f"{coordination_url}/notes", data={"csrf_token": csrf(client), "body": "双方协商记录"}, follow_redirects=False
    )
    assert noted.status_code == 303
    unreasoned = client.post(f"{coordination_url}/decision", data={"csrf_token": csrf(client), "outcome": "refused"})
    assert unreasoned.status_code == 422
    outcome = client.post(
        f"{coordination_url}/decision",
        data={"csrf_token": csrf(client), "outcome": "refused", "reason": "联系电话可由申请人自行提供"},
        follow_redirects=False,
    )
    assert outcome.status_code == 303
    final = client.get(coordination_url).text
    assert "协调结果:不予共享" in final and "双方协商记录" in final
    coordination = session.scalars(select(Coordination)).one()
    assert coordination.status == "refused"
    overview = client.get("/sharing/applications?scope=oversee")
    assert app_url in overview.text
    assert client.get("/sharing/refusals").status_code == 200


def test_another_department_gets_404_on_the_pages(client: TestClient, session: Session, factory: Factory) -> None:
    provider = factory.department()
    consumer = factory.department()
    resource = conditional_resource(factory, provider)
    applicant = factory.user(Role.dept_user, department=consumer)
    sign_in(client, session, applicant)
    done = _apply_for_the_name(client, session, resource, days=300)
    assert done.status_code == 303
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_admin))
    assert client.get(done.headers["location"]).status_code == 404


@pytest.mark.article("A20.1")
def test_catalog_detail_offers_the_right_path_per_share_type(
    client: TestClient, session: Session, factory: Factory
) -> None:
    provider = factory.department()
    consumer = factory.department()
    conditional = conditional_resource(factory, provider)
    unconditional = factory.published_resource(provider, items=[("办件编号", "C")])
    closed = factory.published_resource(
        provider, items=[("字段", "C")], share_type="none", share_basis="依据《中华人民共和国保守国家秘密法》第九条"
    )
    sign_in(client, session, factory.user(Role.dept_user, department=consumer))
    assert "申请使用" in client.get(f"/catalog/{conditional.id}").text
    page = client.get(f"/catalog/{unconditional.id}").text
    assert "无需申请" in page and "/sharing/applications/new" not in page
    page = client.get(f"/catalog/{closed.id}").text
    assert f"/sharing/coordinations/new?resource_id={closed.id}" in page
    refused = client.get(f"/sharing/applications/new?resource_id={closed.id}")
    assert refused.status_code == 200 and "不予共享,不能申请" in refused.text and "提交申请" not in refused.text
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_user, department=provider))
    assert "申请使用" not in client.get(f"/catalog/{conditional.id}").text  # its own resource


def test_withdraw_through_the_page(client: TestClient, session: Session, factory: Factory) -> None:
    provider = factory.department()
    consumer = factory.department()
    resource = conditional_resource(factory, provider)
    sign_in(client, session, factory.user(Role.dept_user, department=consumer))
    done = _apply_for_the_name(client, session, resource, days=30)
    url = done.headers["location"]
    version = session.scalars(select(Application.version)).one()
    r = client.post(
        f"{url}/withdraw", data={"csrf_token": csrf(client), "expected_version": str(version)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "已撤回" in client.get(url).text
    again = client.post(f"{url}/withdraw", data={"csrf_token": csrf(client)})
    assert again.status_code == 409 and "不能撤回" in again.text
