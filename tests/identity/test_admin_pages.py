"""The administration and account pages, driven through real forms (CSRF field, redirects, errors)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.identity import auth
from govshare.identity.actor import RequestContext
from govshare.identity.models import ApiToken, Department, User
from govshare.identity.permissions import Role
from govshare.kit.uscc import make_uscc
from tests.factories import PASSWORD, Factory
from tests.helpers import csrf, login, sign_in


def _post(client: TestClient, url: str, data: dict[str, object] | None = None) -> object:
    return client.post(url, data={"csrf_token": csrf(client), **(data or {})}, follow_redirects=False)


@pytest.fixture
def admin_client(client: TestClient, session: Session, factory: Factory) -> TestClient:
    sign_in(client, session, factory.user(Role.bureau_admin))
    return client


@pytest.mark.article("A2.1")
@pytest.mark.article("A6.1")
def test_bureau_creates_a_department_through_the_form(admin_client: TestClient, session: Session) -> None:
    client = admin_client
    page = client.get("/identity/departments")
    assert page.status_code == 200 and "新增部门" in page.text
    region_id = session.execute(select(Department.region_id).limit(1)).scalar_one()
    bad = client.post(
        "/identity/departments",
        data={
            "csrf_token": csrf(client),
            "name": "市退役军人事务局",
            "uscc": "11620100MB00000000",
            "region_id": region_id,
        },
    )
    assert bad.status_code == 422
    assert "统一社会信用代码校验位错误" in bad.text and 'value="市退役军人事务局"' in bad.text
    r = client.post(
        "/identity/departments",
        data={
            "csrf_token": csrf(client),
            "name": "市退役军人事务局",
            "uscc": make_uscc("11620100MB0099001"),
            "region_id": region_id,
            "sharing_office": "办公室",
            "sharing_contact": "刘洋",
            "sharing_phone": "0931-8123456",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    detail = client.get(r.headers["location"])
    assert detail.status_code == 200 and "市退役军人事务局" in detail.text and "刘洋" in detail.text
    assert "本部门目前没有在任的数据资源管理员" in detail.text


@pytest.mark.article("A44.1")
def test_regions_page_edits_an_authority(admin_client: TestClient, session: Session, factory: Factory) -> None:
    region = factory.region("高新区")
    page = admin_client.get("/identity/regions")
    assert page.status_code == 200 and page.text.count('class="row-form"') == 13
    r = admin_client.post(
        f"/identity/regions/{region.id}",
        data={"csrf_token": csrf(admin_client), "authority_name": "兰州高新区大数据中心", "authority_phone": "坏号码"},
    )
    assert r.status_code == 422 and "电话号码格式不正确" in r.text
    r = admin_client.post(
        f"/identity/regions/{region.id}",
        data={
            "csrf_token": csrf(admin_client),
            "authority_name": "兰州高新区大数据中心",
            "authority_office": "数据资源部",
            "authority_contact": "陈晨",
            "authority_phone": "0931-8500000",
        },
        follow_redirects=True,
    )
    assert "已保存“高新区”" in r.text and "兰州高新区大数据中心" in r.text


@pytest.mark.article("A34.1")
def test_department_admin_registers_through_the_page(client: TestClient, session: Session, factory: Factory) -> None:
    dept = factory.department()
    sign_in(client, session, factory.user(Role.dept_admin, department=dept))
    page = client.get(f"/identity/departments/{dept.id}")
    assert "登记数据资源管理员" in page.text and "修改责任科室与联系人" in page.text
    assert "修改基本信息" not in page.text  # the department's own admin edits contacts, not the department
    r = client.post(
        f"/identity/departments/{dept.id}/data-admins",
        data={"csrf_token": csrf(client), "name": "黄蓉", "phone": ""},
    )
    assert r.status_code == 422 and "请填写联系电话" in r.text
    r = client.post(
        f"/identity/departments/{dept.id}/data-admins",
        data={"csrf_token": csrf(client), "name": "黄蓉", "phone": "13900001111", "office": "科技信息科"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "已登记数据资源管理员“黄蓉”" in r.text
    r = client.post(
        f"/identity/departments/{dept.id}/sharing",
        data={
            "csrf_token": csrf(client),
            "sharing_office": "科技信息科",
            "sharing_contact": "黄蓉",
            "sharing_phone": "13900001111",
        },
        follow_redirects=True,
    )
    assert "共享工作责任科室与联系人已保存" in r.text
    other = factory.department()
    session.commit()
    refused = client.post(
        f"/identity/departments/{other.id}/sharing",
        data={
            "csrf_token": csrf(client),
            "sharing_office": "x",
            "sharing_contact": "y",
            "sharing_phone": "13900001111",
        },
    )
    assert refused.status_code == 403 and "只能维护本部门" in refused.text


@pytest.mark.article("A31.1")
def test_open_an_account_and_disable_it(
    admin_client: TestClient, session: Session, factory: Factory, app: object
) -> None:
    dept = factory.department()
    session.commit()
    form = admin_client.get(f"/identity/users/new?department_id={dept.id}")
    assert form.status_code == 200 and "三类职责不能兼任" in form.text
    refused = admin_client.post(
        "/identity/users",
        data={
            "csrf_token": csrf(admin_client),
            "username": "chen.jing",
            "display_name": "陈静",
            "department_id": dept.id,
            "roles": ["bureau_reviewer"],
        },
    )
    assert refused.status_code == 422 and "市大数据局角色只能授予市大数据局工作人员" in refused.text
    r = admin_client.post(
        "/identity/users",
        data={
            "csrf_token": csrf(admin_client),
            "username": "chen.jing",
            "display_name": "陈静",
            "department_id": dept.id,
            "roles": ["dept_admin", "dept_user"],
        },
    )
    assert r.status_code == 201
    match = re.search(r'data-testid="temporary-password">([^<]+)<', r.text)
    assert match
    temporary = match.group(1).replace("&amp;", "&")
    user = session.execute(select(User).where(User.username == "chen.jing")).scalar_one()
    assert user.must_change_password

    with TestClient(app) as person:  # type: ignore[arg-type]
        r = person.post(
            "/login",
            data={"username": "chen.jing", "password": temporary, "csrf_token": csrf(person)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/account?must_change=1")
        home = person.get("/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"].startswith("/account")
        assert "临时密码" in person.get("/account").text

        page = admin_client.get(f"/identity/users/{user.id}")
        assert "停用账号" in page.text
        r = admin_client.post(
            f"/identity/users/{user.id}/disable", data={"csrf_token": csrf(admin_client), "reason": "调离"}
        )
        assert r.status_code == 200 and "账号已停用" in r.text
        assert person.get("/api/v1/me").status_code == 401


@pytest.mark.article("A31.1")
def test_reset_password_shows_it_once(admin_client: TestClient, session: Session, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    session.commit()
    r = admin_client.post(f"/identity/users/{user.id}/reset-password", data={"csrf_token": csrf(admin_client)})
    assert r.status_code == 200 and "只显示这一次" in r.text
    assert "temporary-password" not in admin_client.get(f"/identity/users/{user.id}").text
    assert login(TestClient(admin_client.app), user.username) == 401


def test_staff_read_the_directory_but_cannot_administer(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_user))
    page = client.get("/identity/departments")
    assert page.status_code == 200 and "新增部门" not in page.text
    assert client.get("/identity/users/new").status_code == 403
    r = client.post("/identity/departments", data={"csrf_token": csrf(client), "name": "x"})
    assert r.status_code == 403 and "无权执行此操作" in r.text
    assert client.get("/identity/alerts").status_code == 403


@pytest.mark.article("A36.1")
def test_account_page_password_tokens_and_alerts(client: TestClient, session: Session, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    auth.login(session, RequestContext(source_ip="10.7.7.7"), user.username, PASSWORD)  # a session elsewhere
    sign_in(client, session, user)
    page = client.get("/account")
    assert page.status_code == 200 and "异地同时使用告警" in page.text and "10.7.7.7" in page.text

    r = client.post("/account/tokens", data={"csrf_token": csrf(client), "name": "日报脚本", "days": "30"})
    assert r.status_code == 201
    match = re.search(r'data-testid="new-token">(gst_[^<]+)<', r.text)
    assert match
    value = match.group(1)
    assert value not in client.get("/account").text  # shown once
    assert TestClient(client.app).get("/api/v1/me", headers={"Authorization": f"Bearer {value}"}).status_code == 200
    token = session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    r = client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf(client)}, follow_redirects=True)
    assert "令牌已撤销" in r.text
    assert TestClient(client.app).get("/api/v1/me", headers={"Authorization": f"Bearer {value}"}).status_code == 401

    r = client.post(
        "/account/password",
        data={
            "csrf_token": csrf(client),
            "current_password": PASSWORD,
            "new_password": "Another-Passw0rd",
            "confirm_password": "Different-Passw0rd",
        },
    )
    assert r.status_code == 422 and "两次输入的新密码不一致" in r.text
    r = client.post(
        "/account/password",
        data={
            "csrf_token": csrf(client),
            "current_password": PASSWORD,
            "new_password": "Another-Passw0rd",
            "confirm_password": "Another-Passw0rd",
        },
        follow_redirects=True,
    )
    assert "密码已修改" in r.text
    trail = " ".join(str(a) for a in session.execute(select(AuditRecord.after)).scalars())
    assert "Another-Passw0rd" not in trail and value not in trail


@pytest.mark.article("A36.1")
def test_bureau_sees_and_acknowledges_alerts(admin_client: TestClient, session: Session, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    auth.login(session, RequestContext(source_ip="10.0.1.1"), user.username, PASSWORD)
    auth.login(session, RequestContext(source_ip="10.0.1.2"), user.username, PASSWORD)
    session.commit()
    home = admin_client.get("/")
    assert "待处理的账号异地同时使用告警" in home.text and "未登记数据资源管理员的部门" in home.text
    page = admin_client.get("/identity/alerts")
    assert user.username in page.text and "10.0.1.1" in page.text
    alert_id = int(re.findall(r"/identity/alerts/(\d+)/acknowledge", page.text)[0])
    r = admin_client.post(
        f"/identity/alerts/{alert_id}/acknowledge",
        data={"csrf_token": csrf(admin_client), "note": "已核实"},
        follow_redirects=True,
    )
    assert "告警已标记为已处理" in r.text


def test_voluntary_second_factor(client: TestClient, session: Session, factory: Factory) -> None:
    import pyotp

    from govshare.config import get_settings
    from govshare.kit.crypto import decrypt

    user = factory.user(Role.dept_user)
    sign_in(client, session, user)
    page = client.get("/account/totp")
    assert page.status_code == 200 and "totp-secret" in page.text
    session.refresh(user)
    secret = decrypt(user.totp_secret or "", get_settings().security.data_key)
    assert client.post("/account/totp", data={"csrf_token": csrf(client), "code": "000000"}).status_code == 422
    r = client.post(
        "/account/totp", data={"csrf_token": csrf(client), "code": pyotp.TOTP(secret).now()}, follow_redirects=True
    )
    assert "动态口令已绑定" in r.text
    assert "已绑定动态口令" in client.get("/account/totp").text  # a second visit does not unbind it
    session.refresh(user)
    assert user.totp_enabled


def test_people_list_roles_form_and_offices(admin_client: TestClient, session: Session, factory: Factory) -> None:
    dept = factory.department("市医疗保障局")
    user = factory.user(Role.dept_user, department=dept, username="wang.fang")
    factory.user(Role.dept_user, username="someone.else")
    session.commit()
    page = admin_client.get("/identity/users", params={"department_id": dept.id, "q": "wang"})
    assert page.status_code == 200 and "wang.fang" in page.text and "someone.else" not in page.text
    assert "共 1 个账号" in page.text
    r = admin_client.post(
        f"/identity/users/{user.id}/roles",
        data={"csrf_token": csrf(admin_client), "roles": ["region_reviewer"], "version": str(user.version)},
    )
    assert r.status_code == 422 and "县区审核员须指定所辖区域" in r.text
    r = admin_client.post(
        f"/identity/users/{user.id}/roles",
        data={"csrf_token": csrf(admin_client), "roles": ["dept_admin"], "version": str(user.version)},
        follow_redirects=True,
    )
    assert "角色已更新" in r.text and "部门数据资源管理员" in r.text
    r = admin_client.post(
        f"/identity/departments/{dept.id}/offices",
        data={"csrf_token": csrf(admin_client), "name": "待遇保障科"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    detail = admin_client.get(f"/identity/departments/{dept.id}")
    office_id = int(re.findall(r"/identity/offices/(\d+)/delete", detail.text)[0])
    r = admin_client.post(
        f"/identity/offices/{office_id}/delete", data={"csrf_token": csrf(admin_client)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/identity/departments/{dept.id}"


@pytest.mark.article("A34.1")
def test_register_overview_page(admin_client: TestClient, session: Session, factory: Factory) -> None:
    from govshare.identity import register

    covered, lacking = factory.department("市商务局"), factory.department("市水务局")
    register.register_data_admin(session, factory.system, department_id=covered.id, name="郑军", phone="13700001111")
    session.commit()
    page = admin_client.get("/identity/data-admins")
    assert page.status_code == 200
    lacking_part, _, current_part = page.text.partition("在任数据资源管理员")
    assert "市水务局" in lacking_part and "市商务局" not in lacking_part
    assert "郑军" in current_part and "市商务局" in current_part
    assert lacking.name in admin_client.get("/").text  # the dashboard panel names it
