"""Acceptance: the catalog review flow in a real browser against a real server.

A 榆中县 department's 数据资源管理员 compiles a resource with 信息项 through the form, records the
保密审查 and submits; the resource reaches the 榆中县 reviewer's queue and not the bureau's; the
county reviewer returns it with a comment; the administrator reads the comment, corrects, reviews
again and resubmits; the reviewer approves; a person of another department finds it by a
two-character word.
"""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from govshare.catalog import service as catalog
from govshare.identity import repository
from govshare.identity.actor import Actor
from govshare.identity.permissions import Role
from govshare.identity.reference import bureau
from govshare.identity.service import create_department, create_user
from govshare.kit.uscc import make_uscc
from tests.browser import LiveServer
from tests.factories import PASSWORD

NAME = "榆中县城乡居民社保参保信息"
COMMENT = "请补充参保状态信息项,并写明更新方式"


def _people(live_server: LiveServer) -> str:
    """The departments and accounts of the flow, committed to the live server's database."""
    with live_server.db.session_scope() as session:
        system = Actor.system()

        def department(name: str, region: str, body: str) -> int:
            region_id = next(r.id for r in repository.regions(session) if r.name == region)
            return create_department(
                session, system, name=name, uscc=make_uscc(body), region_id=region_id, sharing_office="信息中心"
            ).id

        def person(username: str, department_id: int, role: Role, region: str | None = None) -> None:
            region_id = next(r.id for r in repository.regions(session) if r.name == region) if region else None
            create_user(
                session,
                system,
                username=username,
                display_name=username,
                department_id=department_id,
                password=PASSWORD,
                roles=[(role, region_id)],
                must_change_password=False,
            )

        hr = department("榆中县人力资源和社会保障局", "榆中县", "11620123MB0000101")
        authority = department("榆中县数据资源服务中心", "榆中县", "11620123MB0000102")
        police = department("兰州市公安局", "兰州市", "11620100MB0000103")
        person("flow_yz_admin", hr, Role.dept_admin)
        person("flow_yz_reviewer", authority, Role.region_reviewer, "榆中县")
        person("flow_bureau_reviewer", bureau(session).id, Role.bureau_reviewer)
        person("flow_police_user", police, Role.dept_user)
        return next(c.code for c in catalog.list_classifications(session) if c.name == "社会保障")


def _sign_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/login/mfa" in page.url:  # bureau roles: enrol the authenticator and give the code
        secret = page.inner_text("[data-testid=totp-secret]").strip()
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.click("section.login button[type=submit]")
    page.wait_for_url(f"{base}/")


def _record_review_and_submit(page: Any, reviewer_name: str) -> None:
    page.click("a:has-text('记录保密审查')")
    page.fill("input[name=reviewer_name]", reviewer_name)
    page.check("input[name=result][value=passed]")
    page.click("button:has-text('保存审查记录')")
    assert "已记录保密审查" in page.inner_text(".flash")
    page.click("button:has-text('报送审核')")
    assert "已报送审核" in page.inner_text(".flash")


@pytest.mark.browser
@pytest.mark.article("A15.1")
@pytest.mark.article("A15.2")
@pytest.mark.article("A32.1")
def test_county_resource_review_flow_in_browser(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    classification_code = _people(live_server)

    # the county department's data administrator compiles the resource through the form
    _sign_in(page, base, "flow_yz_admin")
    page.goto(f"{base}/catalog/new")
    page.fill("input[name=name]", NAME)
    page.select_option("select[name=classification_code]", classification_code)
    page.fill("textarea[name=summary]", "全县城乡居民养老保险参保人员信息")
    page.fill("textarea[name=scenario]", "办理社保转移接续、待遇资格认证时核验参保状态")
    page.select_option("select[name=format_class]", "database")
    page.select_option("select[name=channel]", "api")
    page.select_option("select[name=update_cycle]", "daily")
    page.fill("input[name=items-0-name]", "姓名")
    page.select_option("select[name=items-0-sensitivity]", "person_name")
    page.fill("input[name=items-1-name]", "公民身份号码")
    page.fill("input[name=items-1-length]", "18")
    page.select_option("select[name=items-1-sensitivity]", "id_number")
    page.click("button:has-text('保存为草稿')")
    page.wait_for_url(re.compile(r".*/catalog/\d+$"))
    resource_url = page.url
    assert "已保存草稿" in page.inner_text(".flash")
    assert "公民身份号码" in page.inner_text("table.items")

    # submitting without a 保密审查 is refused (A32.1); with one recorded it goes through
    page.click("button:has-text('报送审核')")
    assert "保密审查" in page.inner_text(".flash.error")
    _record_review_and_submit(page, "县人社局保密员")
    assert "待审核" in page.inner_text("h1")

    # the bureau's reviewer does not see a county resource (A15.2)
    _sign_in(page, base, "flow_bureau_reviewer")
    page.goto(f"{base}/catalog/reviews")
    assert NAME not in page.inner_text("main")

    # the 榆中县 authority sees it and returns it with a comment
    _sign_in(page, base, "flow_yz_reviewer")
    page.goto(f"{base}/catalog/reviews")
    page.click(f"text={NAME}")
    page.fill("textarea[name=comment]", COMMENT)
    page.click("button:has-text('退回修改')")
    page.wait_for_url(f"{base}/catalog/reviews")
    assert "已退回" in page.inner_text(".flash")
    assert page.locator(f"main table >> text={NAME}").count() == 0

    # the data administrator reads the comment, corrects, reviews again and resubmits
    _sign_in(page, base, "flow_yz_admin")
    page.goto(f"{base}/catalog/mine")
    assert COMMENT in page.inner_text("#status-returned")
    page.goto(resource_url)
    assert COMMENT in page.inner_text(".returned-comment")
    page.click("a:has-text('编辑')")
    page.fill("input[name=items-2-name]", "参保状态")
    page.fill("textarea[name=summary]", "全县城乡居民养老保险参保人员信息,每日从业务系统接口同步")
    page.click("button:has-text('保存修改')")
    page.wait_for_url(resource_url)
    assert "参保状态" in page.inner_text("table.items")
    _record_review_and_submit(page, "县人社局保密员")

    # the authority approves: the resource is published
    _sign_in(page, base, "flow_yz_reviewer")
    page.goto(resource_url)
    page.click("button:has-text('审核通过并发布')")
    assert "已审核通过并发布" in page.inner_text(".flash")
    assert "已发布" in page.inner_text("h1")

    # a person of another department finds it by a two-character word
    _sign_in(page, base, "flow_police_user")
    page.goto(f"{base}/catalog")
    page.fill("input[name=q]", "社保")
    page.click("button:has-text('查询')")
    assert NAME in page.inner_text("table.results")
    page.click(f"text={NAME}")
    assert "参保状态" in page.inner_text("table.items")
    assert "榆中县人力资源和社会保障局" in page.inner_text("dl.meta")
