"""Acceptance (issue 4): the sharing flow in a real browser against a real server, and the consumer
system over real signed HTTP.

A 市民政局 user applies for 2 of the 6 信息项 of a 市公安局 conditional resource; the 市公安局
data administrator approves one and refuses the other with a reason; the 民政局's system then reads
exactly that 信息项, masked; the provider sees the read in the usage history; after the provider
revokes the grant, the system's next call is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from govshare.catalog.models import DataItem
from govshare.exchange import base
from govshare.exchange.models import BaseTable
from govshare.identity.permissions import Role
from govshare.sharing.client import ConsumerClient
from govshare.sharing.masking import mask
from govshare.sharing.systems import register_system
from tests.browser import LiveServer
from tests.factories import PASSWORD, Factory

NAME = "常住人口基本信息(共享流程)"
ITEMS = [
    {"name": "公民身份号码", "data_type": "C", "sensitivity": "id_number", "is_basic": True},
    {"name": "姓名", "data_type": "C", "sensitivity": "person_name", "is_basic": True},
    {"name": "性别", "data_type": "C"},
    {"name": "出生日期", "data_type": "D"},
    {"name": "手机号码", "data_type": "C", "sensitivity": "phone"},
    {"name": "户籍地址", "data_type": "C", "sensitivity": "address"},
]
PEOPLE = [
    ("620102199001011234", "张三", "男", dt.date(1990, 1, 1), "13912345678", "甘肃省兰州市城关区庆阳路1号"),
    ("62010319850505432X", "李四", "女", dt.date(1985, 5, 5), "13800001111", "甘肃省兰州市七里河区西津西路8号"),
    ("620104200002023456", "王五", "男", dt.date(2000, 2, 2), "13609316666", "甘肃省兰州市西固区福利路20号"),
]
REFUSAL = "手机号码不属于社会救助资格审核的必要信息"


def _prepare(live_server: LiveServer) -> dict[str, Any]:
    """Departments, accounts, the published resource with its base table, the consumer system."""
    with live_server.db.session_scope() as session:
        factory = Factory(session)
        police = factory.department("兰州市公安局")
        civil = factory.department("兰州市民政局")
        factory.user(Role.dept_admin, department=police, username="share_police_admin")
        factory.user(Role.dept_user, department=civil, username="share_civil_user")
        resource = factory.published_resource(
            police,
            name=NAME,
            share_type="conditional",
            share_condition="仅限履行法定职责使用",
            channel="table",
            items=ITEMS,
        )
        items = list(
            session.execute(
                select(DataItem).where(DataItem.resource_id == resource.id).order_by(DataItem.position)
            ).scalars()
        )
        specs = [base.ColumnSpec(item_id=i.id, name=i.name, data_type=i.data_type) for i in items]
        table = base.table_for(base.table_name(resource.id), specs)
        table.create(session.connection())
        session.connection().execute(
            table.insert(), [{s.column: v for s, v in zip(specs, row, strict=True)} for row in PEOPLE]
        )
        session.add(
            BaseTable(
                resource_id=resource.id,
                table_name=base.table_name(resource.id),
                row_count=len(PEOPLE),
                columns=[
                    {"column": s.column, "item_id": s.item_id, "name": s.name, "type": s.data_type} for s in specs
                ],
            )
        )
        system, secret = register_system(session, factory.compiler(civil), name="民政社会救助系统")
        return {
            "resource_id": resource.id,
            "code": resource.code,
            "id_item": items[0].id,
            "phone_item": items[4].id,
            "system_id": system.id,
            "app_key": system.app_key,
            "secret": secret,
        }


def _sign_in(page: Any, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.mark.browser
@pytest.mark.article("A20.2", "A20.3", "A26.1", "A26.2", "A35.1")
def test_apply_decide_read_masked_and_revoke_in_browser(live_server: LiveServer, page: Any) -> None:
    base_url = live_server.url
    data = _prepare(live_server)
    id_item, phone_item = data["id_item"], data["phone_item"]

    # the 民政局 user applies for 公民身份号码 and 手机号码, for the 民政局's system
    _sign_in(page, base_url, "share_civil_user")
    page.goto(f"{base_url}/sharing/applications/new?resource_id={data['resource_id']}")
    page.check(f"#item_{id_item}")
    page.check(f"#item_{phone_item}")
    page.fill(f"input[name=reason_{phone_item}]", "联系救助对象")
    page.fill("textarea[name=scenario]", "最低生活保障、特困人员供养资格审核")
    page.fill("textarea[name=duty_basis]", "《社会救助暂行办法》第十一条")
    page.fill("textarea[name=purpose]", "社会救助对象资格审核")
    page.select_option("select[name=consumer_system_id]", str(data["system_id"]))
    page.click("button:has-text('提交申请')")
    page.wait_for_url(re.compile(r".*/sharing/applications/\d+$"))
    application_url = page.url
    assert "已提交" in page.inner_text(".flash")

    # the 公安局 administrator approves 公民身份号码 and refuses 手机号码 with a reason
    _sign_in(page, base_url, "share_police_admin")
    page.goto(application_url)
    page.check(f"input[name=decision_{id_item}][value=approve]")
    page.check(f"input[name=decision_{phone_item}][value=refuse]")
    page.fill(f"input[name=refusal_{phone_item}]", REFUSAL)
    page.click("button:has-text('按上表答复')")
    page.wait_for_url(application_url)
    assert "部分同意" in page.inner_text(".flash")
    assert REFUSAL in page.inner_text("table.items")
    grant_href = page.get_attribute("a[href^='/sharing/grants/']", "href")
    assert grant_href is not None
    grant_id = int(grant_href.rsplit("/", 1)[1])

    # the 民政局's system reads exactly the approved 信息项, masked
    with ConsumerClient(base_url, data["app_key"], data["secret"]) as client:
        body = client.rows(data["code"], grant_id=grant_id, limit=100)
        assert body["data_items"] == [{"id": id_item, "name": "公民身份号码", "masked": True}]
        assert len(body["rows"]) == len(PEOPLE)
        assert all(set(row) == {f"i{id_item}"} for row in body["rows"])
        expected = sorted(mask(p[0], "id_number") for p in PEOPLE)
        assert sorted(row[f"i{id_item}"] for row in body["rows"]) == expected
        assert all(p[0] not in str(body) and p[4] not in str(body) for p in PEOPLE)
        # asking for the refused item is refused, with no hint of its values
        refused = client.request(
            "GET",
            f"/api/v1/consumer/resources/{data['code']}/rows",
            {"grant_id": grant_id, f"i{phone_item}": "13912345678"},
        )
        assert refused.status_code == 403 and refused.json()["code"] == "item_not_granted"

        # the provider sees the read in the usage history
        page.goto(f"{base_url}/sharing/usage")
        history = page.inner_text("table.usage")
        assert "民政社会救助系统" in history and "公民身份号码" in history and "手机号码" not in history

        # the provider revokes the grant; the system's next call is refused
        page.goto(f"{base_url}{grant_href}")
        page.fill("textarea[name=reason]", "救助对象资格审核工作已结束")
        page.click("button:has-text('撤销授权')")
        page.wait_for_url(re.compile(r".*/sharing/grants/\d+$"))
        assert "已撤销" in page.inner_text("main")
        after = client.request("GET", f"/api/v1/consumer/resources/{data['code']}/rows", {"grant_id": grant_id})
        assert after.status_code == 403
        assert after.headers["content-type"].startswith("application/problem+json")
        assert after.json()["code"] == "grant_revoked"
