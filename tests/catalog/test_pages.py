"""The catalog pages through HTTP: every role can browse, forms post and redirect, refusals re-render in
Chinese, and the review queue is scoped to the reviewer's region."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.catalog import change_requests
from govshare.catalog import service as catalog
from govshare.catalog.enums import ChangeTrigger
from govshare.catalog.models import Resource
from govshare.catalog.schemas import ResourceFields
from govshare.identity.models import Department, User
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory
from tests.helpers import csrf, sign_in


def _user(factory: Factory, role: Role, department: Department | None = None, region: str | None = None) -> User:
    return factory.user(role, department=department, region=region)


def _signed_in(client: TestClient, session: Session, user: User) -> TestClient:
    sign_in(client, session, user)
    return client


def _post(client: TestClient, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={"csrf_token": csrf(client), **data}, follow_redirects=False)


def _resource_form(**overrides: Any) -> dict[str, Any]:
    """A complete compile form as a browser would post it, with two 信息项 rows and two blank rows."""
    data: dict[str, Any] = {
        "intent": "save",
        "name": "社保参保人员信息",
        "classification_code": "209",
        "provider_office": "社会保险科",
        "topic_id": "",
        "summary": "本县社会保险参保人员基本信息",
        "scenario": "办理社保转移接续时核验参保状态",
        "format_class": "database",
        "format_type": "MySQL",
        "update_cycle": "daily",
        "sensitivity_level": "important",
        "related_codes": "",
        "share_type": "conditional",
        "share_condition": "仅限办理社保业务的部门使用",
        "share_basis": "",
        "channel": "api",
        "open_type": "closed",
        "open_condition": "",
        "item_rows": "4",
        "items-0-name": "姓名",
        "items-0-data_type": "C",
        "items-0-length": "50",
        "items-0-description": "参保人姓名",
        "items-0-sensitivity": "person_name",
        "items-0-shareable": "1",
        "items-1-name": "社会保障号码",
        "items-1-data_type": "C",
        "items-1-length": "18",
        "items-1-description": "",
        "items-1-sensitivity": "id_number",
        "items-1-shareable": "1",
        "items-1-is_basic": "1",
        "items-2-name": "",
        "items-2-data_type": "C",
        "items-2-length": "",
        "items-2-description": "",
        "items-2-sensitivity": "none",
        "items-2-shareable": "1",
        "items-3-name": "",
        "items-3-data_type": "C",
        "items-3-length": "",
        "items-3-description": "",
        "items-3-sensitivity": "none",
        "items-3-shareable": "1",
    }
    data.update(overrides)
    return data


def _classification_code(session: Session, name: str) -> str:
    return next(c.code for c in catalog.list_classifications(session) if c.name == name)


def _id_from(location: str) -> int:
    match = re.fullmatch(r"/catalog/(\d+)", location)
    assert match, location
    return int(match.group(1))


# --------------------------------------------------------------------------------- browse


@pytest.mark.parametrize(
    ("role", "region"),
    [
        (Role.dept_user, None),
        (Role.dept_admin, None),
        (Role.region_reviewer, "榆中县"),
        (Role.bureau_reviewer, None),
        (Role.bureau_admin, None),
        (Role.auditor, None),
    ],
)
def test_catalog_page_renders_for_each_role(
    client: TestClient, session: Session, factory: Factory, role: Role, region: str | None
) -> None:
    provider = factory.department("兰州市人力资源和社会保障局")
    published = factory.published_resource(provider, name="城镇职工社保缴费信息")
    department = factory.bureau() if role in (Role.bureau_admin, Role.bureau_reviewer, Role.auditor) else None
    _signed_in(client, session, _user(factory, role, department, region))
    r = client.get("/catalog")
    assert r.status_code == 200
    assert "政务数据资源目录" in r.text
    assert published.name in r.text and published.code in r.text
    assert "兰州市人力资源和社会保障局" in r.text  # provider name in the row
    assert client.get(f"/catalog/{published.id}").status_code == 200
    home = client.get("/")
    assert home.status_code == 200


def test_search_by_two_character_word_with_filters(client: TestClient, session: Session, factory: Factory) -> None:
    hr = factory.department("兰州市人力资源和社会保障局")
    police = factory.department("兰州市公安局")
    social = factory.published_resource(hr, name="城乡居民社保参保信息")
    population = factory.published_resource(police, name="常住人口基本信息", channel="api")
    _signed_in(client, session, _user(factory, Role.dept_user))

    r = client.get("/catalog", params={"q": "社保"})
    assert r.status_code == 200
    assert social.name in r.text and population.name not in r.text

    r = client.get("/catalog", params={"q": "人口", "share_type": "", "status": "published"})
    assert population.name in r.text and social.name not in r.text

    r = client.get("/catalog", params={"provider_id": str(hr.id)})
    assert social.name in r.text and population.name not in r.text

    r = client.get("/catalog", params={"q": "人口", "channel": "table"})
    assert population.name not in r.text
    assert "没有找到与“人口”相符的资源" in r.text

    # an unknown filter value is ignored rather than an error page
    assert client.get("/catalog", params={"share_type": "bogus", "page": "x"}).status_code == 200


def test_catalog_pages_need_sign_in(client: TestClient) -> None:
    r = client.get("/catalog", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# --------------------------------------------------------------------------------- compile


@pytest.mark.article("A14.1")
@pytest.mark.article("A5.1")
def test_compile_form_creates_draft_with_items(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department("榆中县人力资源和社会保障局", region="榆中县")
    admin = _user(factory, Role.dept_admin, department)
    _signed_in(client, session, admin)

    form = client.get("/catalog/new")
    assert form.status_code == 200
    assert 'name="items-4-name"' in form.text  # five blank rows without JavaScript
    assert '<option value="unconditional" selected>无条件共享</option>' in form.text  # A5.1 default

    r = _post(client, "/catalog/new", _resource_form(classification_code=_classification_code(session, "社会保障")))
    assert r.status_code == 303, r.text
    resource_id = _id_from(r.headers["location"])
    resource = catalog.get_resource(session, factory.actor(admin), resource_id)
    assert resource.status == "draft" and resource.provider_id == department.id
    assert [(i.name, i.data_type, i.length, i.sensitivity, i.is_basic) for i in resource.items] == [
        ("姓名", "C", 50, "person_name", False),
        ("社会保障号码", "C", 18, "id_number", True),
    ]

    page = client.get(r.headers["location"])
    assert "已保存草稿" in page.text  # the flash message
    assert "社会保障号码" in page.text and "有条件共享" in page.text
    assert "记录保密审查" in page.text and "报送审核" in page.text


@pytest.mark.article("A12.1")
@pytest.mark.article("A14.1")
def test_compile_errors_rerender_in_chinese_with_input_kept(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    _signed_in(client, session, _user(factory, Role.dept_admin, department))
    form = _resource_form(
        name="不动产登记信息",
        share_type="none",
        share_basis="有关规定",
        scenario="",
        **{"items-1-length": "十八"},
    )
    r = _post(client, "/catalog/new", form)
    assert r.status_code == 422
    assert "应为整数" in r.text and "第 2 个信息项" in r.text  # pydantic-level error, in Chinese
    assert 'value="不动产登记信息"' in r.text  # input preserved
    assert 'value="社会保障号码"' in r.text

    r = _post(
        client,
        "/catalog/new",
        _resource_form(name="不动产登记信息", share_type="none", share_basis="有关规定", scenario=""),
    )
    assert r.status_code == 422
    assert "不予共享必须写明法律、行政法规或政策依据" in r.text
    assert "请填写应用场景" in r.text
    assert 'class="field-error"' in r.text  # shown next to the fields too
    assert "有关规定" in r.text
    assert catalog.list_resources(session, factory.compiler(department), provider_id=department.id).total == 0


@pytest.mark.article("A43.1")
def test_classified_resource_refused_on_the_form(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    _signed_in(client, session, _user(factory, Role.dept_admin, department))
    r = _post(client, "/catalog/new", _resource_form(classified="1"))
    assert r.status_code == 422
    assert "涉密政务数据资源不得在共享平台编目和共享" in r.text


def test_add_rows_without_javascript_keeps_input(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    _signed_in(client, session, _user(factory, Role.dept_admin, department))
    r = _post(client, "/catalog/new", _resource_form(intent="add_rows"))
    assert r.status_code == 200
    assert 'name="items-6-name"' in r.text  # two filled rows, then blanks beyond the original four
    assert 'value="社会保障号码"' in r.text
    assert catalog.list_resources(session, factory.compiler(department), provider_id=department.id).total == 0


def test_other_department_cannot_see_or_edit_a_draft(client: TestClient, session: Session, factory: Factory) -> None:
    draft = factory.resource(factory.department(), name="内部草稿资源")
    other = factory.department()
    _signed_in(client, session, _user(factory, Role.dept_admin, other))
    assert client.get(f"/catalog/{draft.id}").status_code == 404
    assert client.get(f"/catalog/{draft.id}/edit").status_code == 404
    assert "内部草稿资源" not in client.get("/catalog", params={"q": "草稿"}).text
    assert _post(client, f"/catalog/{draft.id}/submit", {}).status_code == 404


# --------------------------------------------------------------------------------- workflow


@pytest.mark.article("A32.1")
def test_submit_needs_a_recorded_confidentiality_review(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    admin = _user(factory, Role.dept_admin, department)
    resource = factory.resource(department, name="企业登记注册信息")
    _signed_in(client, session, admin)

    detail = client.get(f"/catalog/{resource.id}")
    assert "报送前须先记录本单位对当前内容的保密审查" in detail.text

    r = _post(client, f"/catalog/{resource.id}/submit", {"expected_version": str(resource.version)})
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "报送前须对当前版本内容完成保密审查" in page.text  # the refusal, as a message
    session.refresh(resource)
    assert resource.status == "draft"

    form = client.get(f"/catalog/{resource.id}/confidentiality-review")
    assert form.status_code == 200 and "第三十二条" in form.text
    r = _post(
        client,
        f"/catalog/{resource.id}/confidentiality-review",
        {"reviewer_name": "", "reviewed_on": "2020-13-01", "result": "passed", "note": ""},
    )
    assert r.status_code == 422 and "日期格式应为" in r.text
    r = _post(
        client,
        f"/catalog/{resource.id}/confidentiality-review",
        {"reviewer_name": "王保密", "reviewed_on": "2026-01-05", "result": "passed", "note": "不含国家秘密"},
    )
    assert r.status_code == 303
    detail = client.get(f"/catalog/{resource.id}")
    assert "王保密" in detail.text and "通过(不涉密)" in detail.text

    session.refresh(resource)
    r = _post(client, f"/catalog/{resource.id}/submit", {"expected_version": str(resource.version)})
    assert r.status_code == 303
    session.refresh(resource)
    assert resource.status == "submitted"


def _county_setup(factory: Factory) -> tuple[Department, User, User]:
    county = factory.department("榆中县医疗保障局", region="榆中县")
    admin = _user(factory, Role.dept_admin, county)
    reviewer = _user(factory, Role.region_reviewer, factory.department("榆中县大数据中心", region="榆中县"), "榆中县")
    return county, admin, reviewer


@pytest.mark.article("A15.2")
def test_review_queue_shows_only_the_reviewers_region(app: Any, session: Session, factory: Factory) -> None:
    county, _admin, yuzhong = _county_setup(factory)
    submitted = factory.submitted_resource(county, name="医保参保登记信息")
    city_resource = factory.submitted_resource(factory.department("兰州市医疗保障局"), name="市本级医保结算信息")
    chengguan = _user(factory, Role.region_reviewer, factory.department(region="城关区"), "城关区")
    bureau = _user(factory, Role.bureau_reviewer, factory.bureau())

    with TestClient(app) as c:
        _signed_in(c, session, yuzhong)
        queue = c.get("/catalog/reviews").text
        assert submitted.name in queue and city_resource.name not in queue
        assert "审核通过并发布" in c.get(f"/catalog/{submitted.id}").text
    with TestClient(app) as c:
        _signed_in(c, session, chengguan)
        queue = c.get("/catalog/reviews").text
        assert submitted.name not in queue and city_resource.name not in queue
        assert c.get(f"/catalog/{submitted.id}").status_code == 404
        r = _post(c, f"/catalog/{submitted.id}/decision", {"decision": "approved", "comment": ""})
        assert r.status_code == 404
    with TestClient(app) as c:
        _signed_in(c, session, bureau)
        queue = c.get("/catalog/reviews").text
        assert city_resource.name in queue and submitted.name not in queue
        r = _post(c, f"/catalog/{submitted.id}/decision", {"decision": "approved", "comment": ""})
        assert r.status_code in (403, 404)
    session.refresh(submitted)
    assert submitted.status == "submitted"


@pytest.mark.article("A15.1")
def test_return_with_comment_correct_resubmit_and_approve(app: Any, session: Session, factory: Factory) -> None:
    county, admin, reviewer = _county_setup(factory)
    resource = factory.submitted_resource(county, name="医保定点机构信息", items=[("机构名称", "C"), ("机构编码", "C")])

    with TestClient(app) as rc:
        _signed_in(rc, session, reviewer)
        home = rc.get("/").text
        assert "待我审核的目录" in home and resource.name in home
        r = _post(rc, f"/catalog/{resource.id}/decision", {"decision": "returned", "comment": ""})
        assert r.status_code == 422 and "退回时必须填写审核意见" in r.text
        r = _post(
            rc,
            f"/catalog/{resource.id}/decision",
            {"decision": "returned", "comment": "请补充机构地址信息项", "expected_version": str(resource.version)},
        )
        assert r.status_code == 303 and r.headers["location"] == "/catalog/reviews"
        assert f'href="/catalog/{resource.id}"' not in rc.get("/catalog/reviews").text

    with TestClient(app) as ac:
        _signed_in(ac, session, admin)
        home = ac.get("/").text
        assert "已退回待修改的资源" in home and resource.name in home
        mine = ac.get("/catalog/mine").text
        assert "请补充机构地址信息项" in mine
        detail = ac.get(f"/catalog/{resource.id}").text
        assert "审核退回意见" in detail and "请补充机构地址信息项" in detail

        edit = ac.get(f"/catalog/{resource.id}/edit")
        assert edit.status_code == 200 and 'value="机构编码"' in edit.text
        version = re.search(r'name="expected_version" value="(\d+)"', edit.text)
        assert version
        fields = _form_from_page(edit.text)
        fields["item_rows"] = str(int(fields["item_rows"]))
        blank = next(i for i in range(int(fields["item_rows"])) if not fields.get(f"items-{i}-name"))
        fields[f"items-{blank}-name"] = "机构地址"
        fields[f"items-{blank}-data_type"] = "C"
        fields[f"items-{blank}-sensitivity"] = "address"
        fields["intent"] = "save"
        r = _post(ac, f"/catalog/{resource.id}/edit", fields)
        assert r.status_code == 303, r.text
        r = _post(
            ac,
            f"/catalog/{resource.id}/confidentiality-review",
            {"reviewer_name": "李审查", "reviewed_on": "2026-01-05", "result": "passed", "note": ""},
        )
        assert r.status_code == 303
        session.refresh(resource)
        assert _post(ac, f"/catalog/{resource.id}/submit", {"expected_version": resource.version}).status_code == 303

    with TestClient(app) as rc:
        _signed_in(rc, session, reviewer)
        session.refresh(resource)
        r = _post(
            rc,
            f"/catalog/{resource.id}/decision",
            {"decision": "approved", "comment": "", "expected_version": str(resource.version)},
        )
        assert r.status_code == 303
        detail = rc.get(r.headers["location"]).text
        assert "已审核通过并发布" in detail
        assert "请补充机构地址信息项" in detail  # the history keeps the return and its comment
        assert "第 1 版" in detail
    final = catalog.get_resource(session, factory.reviewer_for(county), resource.id)
    assert final.status == "published" and [i.name for i in final.items][-1] == "机构地址"


def _form_from_page(html: str) -> dict[str, str]:
    """The values a browser would post from the edit form (inputs, selected options, checked boxes)."""
    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) in ("csrf_token", "intent"):
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio"):
            if " checked" in tag:
                values[name.group(1)] = value.group(1) if value else "on"
            continue
        values[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, flags=re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = selected.group(1) if selected else ""
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', html, flags=re.S):
        values[name] = body
    return values


@pytest.mark.article("A18.1")
def test_duplicate_warnings_shown_to_reviewer_and_provider(
    client: TestClient, session: Session, factory: Factory
) -> None:
    police = factory.department("兰州市公安局")
    factory.published_resource(police, name="户籍人口信息", items=[("公民身份号码", "C"), ("姓名", "C")])
    provider = factory.department("兰州市民政局")
    resource = factory.submitted_resource(
        provider, name="婚姻登记信息", items=[("公民身份号码", "C"), ("登记日期", "D")]
    )
    reviewer = _user(factory, Role.bureau_reviewer, factory.bureau())
    _signed_in(client, session, reviewer)
    queue = client.get("/catalog/reviews").text
    assert resource.name in queue and "1 条" in queue
    detail = client.get(f"/catalog/{resource.id}").text
    assert "重复采集提示" in detail and "兰州市公安局" in detail and "户籍人口信息" in detail


def test_withdraw_by_the_responsible_reviewer(client: TestClient, session: Session, factory: Factory) -> None:
    resource = factory.published_resource(factory.department(), name="已发布待撤销资源")
    _signed_in(client, session, _user(factory, Role.bureau_reviewer, factory.bureau()))
    r = _post(client, f"/catalog/{resource.id}/withdraw", {"reason": "", "expected_version": str(resource.version)})
    assert r.status_code == 303
    assert "撤销时必须写明理由" in client.get(r.headers["location"]).text
    r = _post(
        client,
        f"/catalog/{resource.id}/withdraw",
        {"reason": "数据已停止采集", "expected_version": str(resource.version)},
    )
    assert r.status_code == 303
    session.refresh(resource)
    assert resource.status == "withdrawn"


def test_stale_version_is_reported_not_applied(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    resource = factory.reviewed_resource(department)
    _signed_in(client, session, _user(factory, Role.dept_admin, department))
    r = _post(client, f"/catalog/{resource.id}/submit", {"expected_version": str(resource.version - 1 or 99)})
    assert r.status_code == 303
    assert "请刷新页面后重试" in client.get(r.headers["location"]).text
    session.refresh(resource)
    assert resource.status == "draft"


# --------------------------------------------------------------------------------- own catalog, versions


def test_mine_groups_the_departments_resources(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    draft = factory.resource(department, name="本部门草稿甲")
    submitted = factory.submitted_resource(department, name="本部门已报送乙")
    published = factory.published_resource(department, name="本部门已发布丙")
    elsewhere = factory.published_resource(factory.department(), name="他部门已发布丁")
    _signed_in(client, session, _user(factory, Role.dept_admin, department))
    page = client.get("/catalog/mine").text
    for resource in (draft, submitted, published):
        assert resource.name in page
    assert elsewhere.name not in page
    assert page.index('id="status-draft"') < page.index(draft.name) < page.index('id="status-submitted"')
    assert page.index('id="status-published"') < page.index(published.name)
    home = client.get("/").text
    assert "待保密审查或报送的草稿" in home and draft.name in home


def test_mine_and_reviews_are_refused_to_other_roles(client: TestClient, session: Session, factory: Factory) -> None:
    _signed_in(client, session, _user(factory, Role.dept_user))
    assert client.get("/catalog/mine").status_code == 403
    assert client.get("/catalog/reviews").status_code == 403
    assert client.get("/catalog/new").status_code == 403


@pytest.mark.article("A16.1")
def test_versions_and_diff_pages(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    resource = factory.published_resource(
        department, name="道路运输许可信息", items=[("许可证号", "C"), ("有效期", "D")]
    )
    current = catalog.fields_of(session, resource)
    proposed = current.model_copy(update={"summary": "道路运输经营许可证信息(更新)", "items": current.items[:1]})
    _publish_change(session, factory, department, resource, proposed)
    _signed_in(client, session, _user(factory, Role.dept_user))

    versions = client.get(f"/catalog/{resource.id}/versions")
    assert versions.status_code == 200 and "第 2 版" in versions.text
    diff = client.get(f"/catalog/{resource.id}/diff", params={"a": "1", "b": "2"})
    assert diff.status_code == 200
    assert "<ins>道路运输经营许可证信息(更新)</ins>" in diff.text
    assert "<del>有效期</del>" in diff.text and "删除" in diff.text
    assert "两个版本内容相同" in client.get(f"/catalog/{resource.id}/diff", params={"a": "2", "b": "working"}).text
    assert client.get(f"/catalog/{resource.id}/diff", params={"a": "1", "b": "9"}).status_code == 404


def _publish_change(
    session: Session, factory: Factory, department: Department, resource: Resource, proposed: ResourceFields
) -> None:
    """Publish version 2 the way the measures allow: an approved change request (article 17)."""
    compiler = factory.compiler(department)
    request = change_requests.open_change_request(
        session,
        compiler,
        resource_id=resource.id,
        trigger=ChangeTrigger.duty,
        trigger_date=clock.today(),
        trigger_description="职责调整",
    )
    change_requests.file_change_request(session, compiler, request.id, proposed=proposed)
    change_requests.decide_change_request(session, factory.reviewer_for(department), request.id, approve=True)
