"""Coordination of refused applications and 不予共享 resources (A20.4), and the refusal counts per
provider shown to the bureau (A23.1)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.sharing import applications
from govshare.sharing import coordination as service
from govshare.sharing.applications import ItemDecision
from govshare.sharing.models import Grant, GrantItem
from tests.factories import Factory
from tests.helpers import headers, sign_in
from tests.sharing.application_helpers import Parties, apply, parties

BASIS = "依据《中华人民共和国反恐怖主义法》第四十八条"


def _refused(session: Session, p: Parties) -> int:
    app = apply(session, p, ["姓名", "联系电话"])
    applications.decide_application(
        session,
        p.provider_admin,
        app.id,
        decisions=[ItemDecision(p.item_id("姓名"), True), ItemDecision(p.item_id("联系电话"), False, "超出需要")],
    )
    return app.id


@pytest.mark.article("A20.4")
def test_a_partly_refused_application_goes_to_coordination_and_the_authority_grants(
    session: Session, factory: Factory
) -> None:
    clock.set_now(dt.datetime(2026, 11, 2, 10, 0))
    p = parties(factory)
    app_id = _refused(session, p)
    with pytest.raises(Forbidden):
        service.request_coordination(
            session, factory.role_actor(Role.dept_user, department=p.provider), reason="x", application_id=app_id
        )
    with pytest.raises(ValidationFailed):  # only the refused 信息项 can be coordinated
        service.request_coordination(
            session, p.applicant, reason="履职需要", application_id=app_id, data_item_ids=[p.item_id("姓名")]
        )
    c = service.request_coordination(session, p.applicant, reason="需电话通知低保对象", application_id=app_id)
    assert c.status == "open" and c.data_item_ids == [p.item_id("联系电话")]
    assert c.due_on == dt.date(2026, 11, 16) and c.number == f"XT-2026-{c.id:06d}"
    with pytest.raises(Conflict):
        service.request_coordination(session, p.applicant, reason="再次", application_id=app_id)
    view = applications.get_application(session, p.applicant, app_id)
    assert not view.can_request_coordination and [x.id for x in view.coordinations] == [c.id]
    # the parties see it, the provider cannot decide it, the authority records and decides
    assert service.get_coordination(session, p.provider_admin, c.id).can_decide is False
    with pytest.raises(Forbidden):
        service.add_note(session, p.provider_admin, c.id, body="提供部门意见")
    service.add_note(session, p.authority, c.id, body="2026-11-05 召集双方协商,公安局同意在脱敏条件下提供")
    with pytest.raises(ValidationFailed):
        service.decide_coordination(session, p.authority, c.id, grant=True, reason="")
    decided = service.decide_coordination(session, p.authority, c.id, grant=True, reason="低保核对确需联系申请人")
    assert decided.status == "granted"
    grant = session.scalars(select(Grant).where(Grant.coordination_id == c.id)).one()
    items = list(session.scalars(select(GrantItem.data_item_id).where(GrantItem.grant_id == grant.id)))
    assert items == [p.item_id("联系电话")] and grant.masking == "masked"
    with pytest.raises(InvalidTransition):
        service.decide_coordination(session, p.authority, c.id, grant=False, reason="再决定")
    with pytest.raises(InvalidTransition):
        service.add_note(session, p.authority, c.id, body="办结后记录")
    detail = service.get_coordination(session, p.applicant, c.id)
    assert [n.body[:10] for n in detail.notes] == ["2026-11-05"] and [g.id for g in detail.grants] == [grant.id]


@pytest.mark.article("A20.4")
def test_a_not_shared_resource_can_be_coordinated_and_refused_with_a_reason(session: Session, factory: Factory) -> None:
    provider = factory.department()
    consumer = factory.department()
    resource = factory.published_resource(
        provider, items=[("涉恐人员标识", "C"), ("登记日期", "D")], share_type="none", share_basis=BASIS
    )
    applicant = factory.role_actor(Role.dept_user, department=consumer)
    authority = factory.reviewer_for(provider)
    c = service.request_coordination(session, applicant, reason="综治维稳工作确需", resource_id=resource.id)
    assert c.application_id is None and len(c.data_item_ids) == 2
    with pytest.raises(InvalidTransition) as still_closed:  # no path serves a 不予共享 resource
        service.decide_coordination(session, authority, c.id, grant=True, reason="确需")
    assert still_closed.value.code == "resource_not_shareable"
    refused = service.decide_coordination(session, authority, c.id, grant=False, reason="法律明确规定不予共享")
    assert refused.status == "refused" and refused.outcome_reason == "法律明确规定不予共享"
    assert session.scalars(select(Grant).where(Grant.coordination_id == c.id)).first() is None
    conditional = factory.published_resource(provider, share_type="conditional", share_condition="条件")
    with pytest.raises(InvalidTransition) as not_none:
        service.request_coordination(session, applicant, reason="x", resource_id=conditional.id)
    assert not_none.value.code == "not_refusable_type"
    stranger = factory.role_actor(Role.dept_admin)
    with pytest.raises(NotFound):
        service.get_coordination(session, stranger, c.id)


def test_a_county_authority_decides_its_county_coordinations_only(session: Session, factory: Factory) -> None:
    county_provider = factory.department(region="七里河区")
    consumer = factory.department()
    resource = factory.published_resource(county_provider, items=[("字段", "C")], share_type="none", share_basis=BASIS)
    c = service.request_coordination(
        session, factory.role_actor(Role.dept_user, department=consumer), reason="需要", resource_id=resource.id
    )
    bureau = factory.role_actor(Role.bureau_reviewer)
    assert service.get_coordination(session, bureau, c.id).can_decide is False  # the bureau sees it
    with pytest.raises(Forbidden):
        service.decide_coordination(session, bureau, c.id, grant=False, reason="x")
    county = factory.reviewer_for(county_provider)
    assert service.decide_coordination(session, county, c.id, grant=False, reason="不予共享").status == "refused"


@pytest.mark.article("A23.1")
def test_refusals_are_counted_per_provider_with_and_without_overturning(session: Session, factory: Factory) -> None:
    clock.set_now(dt.datetime(2026, 11, 2, 10, 0))
    p = parties(factory)
    overturned_id = _refused(session, p)  # partly refused, later overturned
    upheld = apply(session, p)
    applications.decide_application(session, p.provider_admin, upheld.id, outcome="refuse_all", reason="无依据")
    approved = apply(session, p)
    applications.decide_application(session, p.provider_admin, approved.id, outcome="approve_all")
    apply(session, p)  # still pending: not counted
    c1 = service.request_coordination(session, p.applicant, reason="确需", application_id=overturned_id)
    service.decide_coordination(session, p.authority, c1.id, grant=True, reason="予以共享")
    c2 = service.request_coordination(session, p.applicant, reason="确需", application_id=upheld.id)
    service.decide_coordination(session, p.authority, c2.id, grant=False, reason="维持")
    [row] = [r for r in service.refusal_counts(session, p.authority) if r.provider_id == p.provider.id]
    assert (row.decided, row.refused, row.partially_refused, row.items_refused) == (3, 1, 1, 3)
    assert (row.refusals, row.coordinated, row.overturned, row.upheld, row.not_overturned) == (2, 2, 1, 1, 1)
    later = service.refusal_counts(session, p.authority, since=dt.date(2026, 11, 3))
    assert all(r.provider_id != p.provider.id for r in later)
    with pytest.raises(Forbidden):
        service.refusal_counts(session, p.provider_admin)
    with pytest.raises(ValidationFailed):
        service.refusal_counts(session, p.authority, since=dt.date(2026, 12, 1), until=dt.date(2026, 11, 1))


@pytest.mark.article("A23.1")
def test_refusal_counts_api_for_the_bureau(client: TestClient, session: Session, factory: Factory) -> None:
    p = parties(factory)
    _refused(session, p)
    reviewer = factory.user(Role.bureau_reviewer)
    sign_in(client, session, reviewer)
    r = client.get("/api/v1/sharing/refusals", params={"since": clock.today().isoformat()})
    assert r.status_code == 200, r.text
    [row] = [x for x in r.json()["providers"] if x["provider_id"] == p.provider.id]
    assert row["partially_refused"] == 1 and row["items_refused"] == 1 and row["overturned"] == 0
    page = client.get("/sharing/refusals")
    assert page.status_code == 200 and p.provider.name in page.text
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_admin, department=p.provider))
    assert client.get("/api/v1/sharing/refusals").status_code == 403
    c = client.post(
        "/api/v1/sharing/coordinations", json={"reason": "x", "resource_id": p.resource.id}, headers=headers(client)
    )
    assert c.status_code in (404, 409)


@pytest.mark.article("A20.4")
def test_the_coordination_clock_is_recomputed_when_2027_is_loaded(session: Session, factory: Factory) -> None:
    from govshare.calendar import service as calendar

    clock.set_now(dt.datetime(2026, 12, 24, 10, 0))
    p = parties(factory)
    app_id = _refused(session, p)
    c = service.request_coordination(session, p.applicant, reason="确需", application_id=app_id)
    assert (c.due_on, c.due_provisional) == (dt.date(2027, 1, 7), True)
    calendar.load_year(session, factory.system, year=2027, holidays=[dt.date(2027, 1, 1)], workdays=[], source="通知")
    session.refresh(c)
    assert (c.due_on, c.due_provisional) == (dt.date(2027, 1, 8), False)
