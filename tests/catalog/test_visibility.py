from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.catalog import repository, service
from govshare.catalog.models import Resource
from govshare.catalog.schemas import ConfidentialityReviewIn, ReviewDecisionIn
from govshare.errors import Forbidden, NotFound
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory
from tests.helpers import sign_in


def _visible(session: Session, actor: Actor, *resources: Resource) -> set[int]:
    ids = [r.id for r in resources]
    stmt = repository.readable(actor).where(Resource.id.in_(ids))
    return {r.id for r in session.execute(stmt).scalars()}


@pytest.mark.article("A31.1")
def test_drafts_are_visible_only_to_their_department_and_responsible_reviewers(
    factory: Factory, session: Session
) -> None:
    city_dept = factory.department()
    county_dept = factory.department(region="皋兰县")
    city_draft = factory.resource(city_dept)
    city_submitted = factory.submitted_resource(city_dept)
    county_draft = factory.resource(county_dept)
    county_submitted = factory.submitted_resource(county_dept)
    published = factory.published_resource(county_dept)
    withdrawn = factory.published_resource(city_dept)
    service.withdraw(session, factory.reviewer_for(city_dept), withdrawn.id, reason="停止采集")
    everything = (city_draft, city_submitted, county_draft, county_submitted, published, withdrawn)
    all_ids = {r.id for r in everything}

    who = factory.role_actor

    city_user = who(Role.dept_user, department=city_dept)
    city_admin = who(Role.dept_admin, department=city_dept)
    county_user = who(Role.dept_user, department=county_dept)
    stranger = who(Role.dept_admin)
    bureau_reviewer = who(Role.bureau_reviewer)
    county_reviewer = who(Role.region_reviewer, region="皋兰县")
    other_county_reviewer = who(Role.region_reviewer, region="永登县")

    assert _visible(session, city_user, *everything) == {city_draft.id, city_submitted.id, published.id, withdrawn.id}
    assert _visible(session, city_admin, *everything) == {city_draft.id, city_submitted.id, published.id, withdrawn.id}
    assert _visible(session, county_user, *everything) == {county_draft.id, county_submitted.id, published.id}
    assert _visible(session, stranger, *everything) == {published.id}
    assert _visible(session, bureau_reviewer, *everything) == {
        city_draft.id,
        city_submitted.id,
        published.id,
        withdrawn.id,
    }
    assert _visible(session, county_reviewer, *everything) == {county_draft.id, county_submitted.id, published.id}
    assert _visible(session, other_county_reviewer, *everything) == {published.id}
    assert _visible(session, who(Role.auditor), *everything) == all_ids
    assert _visible(session, who(Role.bureau_admin), *everything) == all_ids
    assert _visible(session, Actor.anonymous(), *everything) == set()

    with pytest.raises(NotFound):
        service.get_resource(session, stranger, city_draft.id)


@pytest.mark.article("A31.1")
def test_other_departments_draft_is_404_not_403_over_http(
    client: TestClient, factory: Factory, session: Session
) -> None:
    owner = factory.department()
    draft = factory.resource(owner, name="不动产登记草稿")
    published = factory.published_resource(owner)
    stranger = factory.user(Role.dept_admin)
    sign_in(client, session, stranger)

    r = client.get(f"/api/v1/catalog/resources/{draft.id}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "resource_not_found"
    assert "不动产" not in r.text
    missing = client.get("/api/v1/catalog/resources/987654321")
    assert (missing.status_code, missing.json()["detail"]) == (404, r.json()["detail"])  # nothing to tell apart
    assert client.get(f"/api/v1/catalog/resources/{draft.id}/versions").status_code == 404
    assert client.get(f"/api/v1/catalog/resources/{published.id}").status_code == 200

    listed = client.get("/api/v1/catalog/resources", params={"provider_id": owner.id}).json()
    assert [i["id"] for i in listed["items"]] == [published.id]


def test_list_filters_apply_on_top_of_visibility(factory: Factory, session: Session) -> None:
    dept = factory.department()
    conditional = factory.published_resource(
        dept, share_type="conditional", share_condition="仅限履职使用", classification_code="101"
    )
    plain = factory.published_resource(dept, classification_code="209")
    factory.resource(dept, classification_code="101")
    reader = factory.role_actor(Role.dept_user)
    page = service.list_resources(session, reader, provider_id=dept.id)
    assert [i.id for i in page.items] == [plain.id, conditional.id] and page.total == 2
    assert [i.id for i in service.list_resources(session, reader, provider_id=dept.id, classification="1").items] == [
        conditional.id
    ]
    assert [
        i.id for i in service.list_resources(session, reader, provider_id=dept.id, share_type="conditional").items
    ] == [conditional.id]
    assert service.list_resources(session, reader, provider_id=dept.id, status="draft").items == []
    first = service.list_resources(session, reader, provider_id=dept.id, page=1, page_size=1)
    second = service.list_resources(session, reader, provider_id=dept.id, page=2, page_size=1)
    assert first.has_next and not second.has_next
    assert [i.id for i in first.items + second.items] == [plain.id, conditional.id]


ACTIONS = ("read_draft", "create", "edit", "confidentiality_review", "submit", "decide", "withdraw")


def _attempt(factory: Factory, session: Session, actor: Actor, action: str, dept: Department) -> bool:
    """Whether ``actor`` may do ``action`` to a fresh resource of ``dept`` in the state the action needs."""
    try:
        if action == "create":
            service.create_resource(session, actor, factory.resource_fields(), provider_id=dept.id)
        elif action == "read_draft":
            service.get_resource(session, actor, factory.resource(dept).id)
        elif action == "edit":
            draft = factory.resource(dept)
            data = service.fields_of(session, draft).model_copy(update={"summary": "新的摘要"})
            service.update_resource(session, actor, draft.id, data)
        elif action == "confidentiality_review":
            service.record_confidentiality_review(
                session,
                actor,
                factory.resource(dept).id,
                ConfidentialityReviewIn(reviewer_name="审查员", reviewed_on=clock.today(), result="passed"),
            )
        elif action == "submit":
            service.submit(session, actor, factory.reviewed_resource(dept).id)
        elif action == "decide":
            decision = ReviewDecisionIn(decision="approved")
            service.decide(session, actor, factory.submitted_resource(dept).id, decision)
        elif action == "withdraw":
            service.withdraw(session, actor, factory.published_resource(dept).id, reason="停止采集")
    except (Forbidden, NotFound):
        return False
    return True


@pytest.mark.article("A15.2")
@pytest.mark.article("A31.1")
@pytest.mark.parametrize("region", ["兰州市", "城关区"])
def test_authorization_matrix(factory: Factory, session: Session, region: str) -> None:
    """Role × action on a city department's and a county department's resources: the full expected matrix."""
    dept = factory.department(region=region)
    other = factory.department()
    actors = {
        "own_admin": factory.role_actor(Role.dept_admin, department=dept),
        "own_user": factory.role_actor(Role.dept_user, department=dept),
        "other_admin": factory.role_actor(Role.dept_admin, department=other),
        "bureau_admin": factory.role_actor(Role.bureau_admin),
        "bureau_reviewer": factory.role_actor(Role.bureau_reviewer),
        "county_reviewer": factory.role_actor(Role.region_reviewer, region="城关区"),
        "other_county_reviewer": factory.role_actor(Role.region_reviewer, region="七里河区"),
        "auditor": factory.role_actor(Role.auditor),
    }
    authority = "bureau_reviewer" if region == "兰州市" else "county_reviewer"
    expected = {
        "read_draft": {"own_admin", "own_user", authority, "bureau_admin", "auditor"},
        "create": {"own_admin"},
        "edit": {"own_admin"},
        "confidentiality_review": {"own_admin"},
        "submit": {"own_admin"},
        "decide": {authority},
        "withdraw": {authority},
    }
    actual = {
        action: {name for name, actor in actors.items() if _attempt(factory, session, actor, action, dept)}
        for action in ACTIONS
    }
    assert actual == expected
