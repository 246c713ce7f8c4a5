"""Topic resources (主题, A12.2): the bureau sets the lead and contributors, the lead keeps the topic's
own entry, contributors compile 类 2 resources under it; API and pages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog import topics
from govshare.catalog.models import Classification
from govshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from tests.catalog.test_change_request_api import session_client
from tests.factories import Factory
from tests.helpers import csrf, headers

API = "/api/v1/catalog/topics"


def _class_id(session: Session, code: str) -> int:
    return session.execute(select(Classification.id).where(Classification.code == code)).scalar_one()


def _topic(factory: Factory, lead: Department, *contributors: Department, name: str = "交通运行") -> topics.TopicView:
    return topics.create_topic(
        factory.session,
        factory.role_actor(Role.bureau_admin),
        name=name,
        lead_department_id=lead.id,
        contributor_ids=[d.id for d in contributors],
        classification_id=_class_id(factory.session, "204"),
        description="城市交通运行监测数据",
    )


@pytest.mark.article("A12.2")
def test_the_bureau_creates_a_topic_with_its_lead_and_contributors(factory: Factory, session: Session) -> None:
    lead = factory.department("兰州市交通运输局")
    police = factory.department("兰州市公安局交通警察支队")
    rail = factory.department("兰州市轨道交通有限公司")
    view = topics.create_topic(
        session,
        factory.role_actor(Role.bureau_reviewer),
        name="交通运行",
        lead_department_id=lead.id,
        contributor_ids=[police.id, rail.id, lead.id, police.id],  # the lead and duplicates drop out
        classification_id=_class_id(session, "204"),
    )
    assert view.lead.id == lead.id
    assert [d.id for d in view.contributors] == sorted([police.id, rail.id])
    assert view.classification is not None and view.classification.code == "204"
    after = session.execute(select(AuditRecord.after).where(AuditRecord.action == "catalog.topic.created")).scalar_one()
    assert after["lead_department_id"] == lead.id and after["contributor_ids"] == sorted([police.id, rail.id])
    rows = topics.list_topics(session, factory.role_actor(Role.dept_user))
    assert [(r.topic.name, r.lead.name) for r in rows] == [("交通运行", "兰州市交通运输局")]
    with pytest.raises(Conflict):
        _topic(factory, lead)  # the same name twice
    with pytest.raises(ValidationFailed):  # a topic is filed under 类 2 only
        topics.create_topic(
            session,
            factory.role_actor(Role.bureau_admin),
            name="政务服务",
            lead_department_id=lead.id,
            classification_id=_class_id(session, "301"),
        )
    with pytest.raises(ValidationFailed):
        topics.create_topic(
            session,
            factory.role_actor(Role.bureau_admin),
            name="社会保障",
            lead_department_id=lead.id,
            contributor_ids=[999999],
        )


@pytest.mark.article("A12.2")
def test_only_the_bureau_manages_topics(factory: Factory, session: Session) -> None:
    lead = factory.department()
    for role in (Role.dept_admin, Role.region_reviewer, Role.auditor, Role.dept_user):
        with pytest.raises(Forbidden):
            topics.create_topic(
                session, factory.role_actor(role, department=lead), name="生态环保", lead_department_id=lead.id
            )
    view = _topic(factory, lead)
    with pytest.raises(Forbidden):
        topics.update_topic(
            session,
            factory.compiler(lead),
            view.topic.id,
            name="交通运行",
            lead_department_id=lead.id,
            contributor_ids=[],
        )


@pytest.mark.article("A12.2")
def test_only_the_lead_departments_admin_maintains_the_topic_entry(factory: Factory, session: Session) -> None:
    lead = factory.department()
    contributor = factory.department()
    view = _topic(factory, lead, contributor)
    topic_id = view.topic.id
    changed = topics.update_topic_description(
        session, factory.compiler(lead), topic_id, description="牵头部门维护的说明"
    )
    assert changed.topic.description == "牵头部门维护的说明"
    assert topics.is_lead_admin(factory.compiler(lead), changed.topic)
    with pytest.raises(Forbidden) as exc:
        topics.update_topic_description(session, factory.compiler(contributor), topic_id, description="共建部门改的")
    assert exc.value.code == "not_topic_lead"
    for outsider in (
        factory.role_actor(Role.dept_user, department=lead),
        factory.role_actor(Role.bureau_admin),
        factory.role_actor(Role.bureau_reviewer),
    ):
        with pytest.raises(Forbidden):
            topics.update_topic_description(session, outsider, topic_id, description="越权修改")
    with pytest.raises(Conflict):  # an edit made on a stale copy loses
        topics.update_topic_description(
            session, factory.compiler(lead), topic_id, description="旧版本上的修改", expected_version=1
        )
    assert (
        topics.get_topic(session, factory.role_actor(Role.dept_user), topic_id).topic.description
        == "牵头部门维护的说明"
    )
    # the bureau hands the lead to another department: the new lead maintains it, the old one no longer
    topics.update_topic(
        session,
        factory.role_actor(Role.bureau_admin),
        topic_id,
        name="交通运行",
        lead_department_id=contributor.id,
        contributor_ids=[lead.id],
        classification_id=_class_id(session, "204"),
    )
    topics.update_topic_description(session, factory.compiler(contributor), topic_id, description="新牵头部门的说明")
    with pytest.raises(Forbidden):
        topics.update_topic_description(session, factory.compiler(lead), topic_id, description="原牵头部门")
    actions = session.execute(
        select(AuditRecord.action).where(AuditRecord.object_type == "topic", AuditRecord.object_id == str(topic_id))
    ).scalars()
    assert list(actions).count("catalog.topic.updated") == 3


@pytest.mark.article("A12.2")
def test_lead_and_contributors_compile_topic_resources_others_cannot(factory: Factory, session: Session) -> None:
    lead = factory.department()
    contributor = factory.department()
    outsider = factory.department()
    topic_id = _topic(factory, lead, contributor).topic.id
    by_lead = factory.resource(lead, classification_code="204", topic_id=topic_id)
    by_contributor = factory.published_resource(contributor, classification_code="204", topic_id=topic_id)
    assert by_lead.topic_id == by_contributor.topic_id == topic_id
    with pytest.raises(ValidationFailed) as exc:
        factory.resource(outsider, classification_code="204", topic_id=topic_id)
    assert [e.field for e in exc.value.errors] == ["topic_id"]
    with pytest.raises(ValidationFailed):  # only 类 2 (主题) resources belong to a topic
        factory.resource(contributor, classification_code="301", topic_id=topic_id)
    assert topics.can_compile_under(session, contributor.id, topic_id)
    assert not topics.can_compile_under(session, outsider.id, topic_id)
    assert [t.id for t in topics.topics_of_department(session, contributor.id)] == [topic_id]
    # the topic's page lists the published resource to everyone, the lead's draft only to its own people
    reader = factory.role_actor(Role.dept_user, department=outsider)
    assert [r.id for r in topics.get_topic(session, reader, topic_id).resources] == [by_contributor.id]
    own = factory.role_actor(Role.dept_user, department=lead)
    assert {r.id for r in topics.get_topic(session, own, topic_id).resources} == {by_lead.id, by_contributor.id}
    with pytest.raises(NotFound):
        topics.get_topic(session, reader, 999999)


@pytest.mark.article("A12.2")
def test_topics_over_the_api(app: Any, factory: Factory, session: Session) -> None:
    lead = factory.department()
    contributor = factory.department()
    admin = factory.user(Role.bureau_admin)
    lead_admin = factory.user(Role.dept_admin, department=lead)
    with session_client(app, session, admin) as c:
        r = c.post(
            API,
            json={"name": "卫生健康", "lead_department_id": lead.id, "contributor_ids": [contributor.id]},
            headers=headers(c),
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["lead"]["id"] == lead.id and [d["id"] for d in created["contributors"]] == [contributor.id]
        assert created["resources"] == []
        tid = created["id"]
        r = c.put(f"{API}/{tid}/description", json={"description": "系统管理员改说明"}, headers=headers(c))
        assert r.status_code == 403
    with session_client(app, session, lead_admin) as c:
        assert [t["id"] for t in c.get(API).json()] == [tid]
        r = c.post(API, json={"name": "社会保障", "lead_department_id": lead.id}, headers=headers(c))
        assert r.status_code == 403
        r = c.put(f"{API}/{tid}/description", json={"description": "卫生健康主题说明"}, headers=headers(c))
        assert r.status_code == 200, r.text
        assert r.json()["description"] == "卫生健康主题说明" and r.json()["version"] == 2
        r = c.put(f"{API}/{tid}/description", json={"description": "x", "expected_version": 1}, headers=headers(c))
        assert r.status_code == 409 and r.json()["code"] == "stale_version"
        assert c.get(f"{API}/{tid}").json()["description"] == "卫生健康主题说明"


@pytest.mark.article("A12.2")
def test_topic_pages(app: Any, factory: Factory, session: Session) -> None:
    lead = factory.department("兰州市生态环境局")
    contributor = factory.department("兰州市水务局")
    admin = factory.user(Role.bureau_admin)
    lead_admin = factory.user(Role.dept_admin, department=lead)
    with session_client(app, session, admin) as c:
        page = c.get("/catalog/topics")
        assert page.status_code == 200 and "新建主题" in page.text
        r = c.post(
            "/catalog/topics",
            data={"csrf_token": csrf(c), "name": "", "lead_department_id": str(lead.id)},
            follow_redirects=False,
        )
        assert r.status_code == 422 and "请填写主题名称" in r.text
        r = c.post(
            "/catalog/topics",
            data={
                "csrf_token": csrf(c),
                "name": "生态环保",
                "lead_department_id": str(lead.id),
                "contributor_ids": [str(contributor.id)],
                "classification_id": str(_class_id(session, "206")),
                "description": "",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        tid = int(r.headers["location"].rsplit("/", 1)[1])
        detail = c.get(f"/catalog/topics/{tid}").text
        assert "兰州市生态环境局" in detail and "兰州市水务局" in detail and "设置牵头部门与共建部门" in detail
        assert "维护主题目录说明" not in detail
    at_resource = factory.published_resource(contributor, classification_code="206", topic_id=tid)
    with session_client(app, session, lead_admin) as c:
        listing = c.get("/catalog/topics").text
        assert f'href="/catalog/topics/{tid}"' in listing and "新建主题" not in listing
        detail = c.get(f"/catalog/topics/{tid}").text
        assert at_resource.name in detail and f'href="/catalog/{at_resource.id}"' in detail
        assert "维护主题目录说明" in detail and "设置牵头部门与共建部门" not in detail
        r = c.post(
            f"/catalog/topics/{tid}/description",
            data={"csrf_token": csrf(c), "description": "水、大气、土壤监测数据", "expected_version": "1"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert "水、大气、土壤监测数据" in c.get(f"/catalog/topics/{tid}").text
        r = c.post(
            f"/catalog/topics/{tid}",
            data={"csrf_token": csrf(c), "name": "生态环保", "lead_department_id": str(contributor.id)},
            follow_redirects=False,
        )
        assert r.status_code == 403
