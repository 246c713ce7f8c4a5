"""Applications and the provider's decisions, through the services and the JSON API."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.sharing import applications as service
from govshare.sharing.applications import ItemDecision, ItemRequest, ListScope
from govshare.sharing.models import Application, Grant, GrantItem
from tests.factories import Factory
from tests.helpers import headers, sign_in
from tests.sharing.application_helpers import apply, conditional_resource, parties


def _audit_actions(session: Session, application_id: int) -> list[str]:
    return list(
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == "application", AuditRecord.object_id == str(application_id))
            .order_by(AuditRecord.seq)
        ).scalars()
    )


def _grants(session: Session, application_id: int) -> list[Grant]:
    return list(session.execute(select(Grant).where(Grant.application_id == application_id)).scalars())


def _grant_items(session: Session, grant_id: int) -> list[int]:
    return sorted(session.execute(select(GrantItem.data_item_id).where(GrantItem.grant_id == grant_id)).scalars())


# --- applying ----------------------------------------------------------------------------------


@pytest.mark.article("A20.2")
@pytest.mark.article("A21.1")
def test_application_reaches_provider_and_authority_with_a_ten_day_clock(session: Session, factory: Factory) -> None:
    clock.set_now(dt.datetime(2026, 11, 2, 10, 0))  # a Monday
    p = parties(factory)
    app = apply(session, p)
    assert app.status == "submitted"
    assert app.number == f"SQ-2026-{app.id:06d}"
    assert app.due_on == dt.date(2026, 11, 16) and not app.due_provisional
    assert app.authority_region_id == p.resource.reviewing_region_id
    assert _audit_actions(session, app.id) == ["sharing.application.submitted"]
    inbox = service.list_applications(session, p.provider_admin, scope=ListScope.inbox)
    assert [r.application.id for r in inbox] == [app.id]
    overview = service.list_applications(session, p.authority, scope=ListScope.oversee)
    assert app.id in [r.application.id for r in overview]
    mine = service.list_applications(session, p.applicant, scope=ListScope.mine)
    assert [r.application.id for r in mine] == [app.id]


def test_another_department_cannot_see_an_application(session: Session, factory: Factory) -> None:
    p = parties(factory)
    app = apply(session, p)
    stranger = factory.role_actor(Role.dept_admin)
    with pytest.raises(NotFound):
        service.get_application(session, stranger, app.id)
    assert service.list_applications(session, stranger) == []
    county_reviewer = factory.role_actor(Role.region_reviewer, region="七里河区")
    with pytest.raises(NotFound):
        service.get_application(session, county_reviewer, app.id)


@pytest.mark.article("A26.1")
def test_each_non_basic_item_needs_a_reason_and_unshareable_items_cannot_be_asked(
    session: Session, factory: Factory
) -> None:
    p = parties(factory)
    today = clock.today()
    base = {
        "resource_id": p.resource.id,
        "scenario": "场景",
        "duty_basis": "依据",
        "purpose": "用途",
        "period_from": today,
        "period_until": today + dt.timedelta(days=30),
    }
    with pytest.raises(ValidationFailed) as missing:
        service.submit_application(
            session,
            p.applicant,
            items=[ItemRequest(p.item_id("姓名")), ItemRequest(p.item_id("联系电话"))],
            **base,  # type: ignore[arg-type]
        )
    assert [e.field for e in missing.value.errors] == ["items.1.reason"]
    with pytest.raises(ValidationFailed) as unshareable:
        service.submit_application(
            session,
            p.applicant,
            items=[ItemRequest(p.item_id("宗教信仰"), "需要")],
            **base,  # type: ignore[arg-type]
        )
    assert "不可共享" in unshareable.value.errors[0].message
    with pytest.raises(ValidationFailed):
        service.submit_application(session, p.applicant, items=[], **base)  # type: ignore[arg-type]
    assert session.scalar(select(func.count()).select_from(Application)) == 0


@pytest.mark.article("A20.1")
def test_unconditional_and_not_shared_resources_cannot_be_applied_for(session: Session, factory: Factory) -> None:
    provider = factory.department()
    consumer = factory.department()
    applicant = factory.role_actor(Role.dept_user, department=consumer)
    unconditional = factory.published_resource(provider, items=[("办件编号", "C")])
    closed = factory.published_resource(
        provider, items=[("办件编号", "C")], share_type="none", share_basis="依据《中华人民共和国保守国家秘密法》第九条"
    )
    draft = factory.resource(provider, share_type="conditional", share_condition="条件")
    today = clock.today()

    def attempt(resource_id: int, item_id: int) -> None:
        service.submit_application(
            session,
            applicant,
            resource_id=resource_id,
            items=[ItemRequest(item_id, "需要")],
            scenario="场景",
            duty_basis="依据",
            purpose="用途",
            period_from=today,
            period_until=today,
        )

    def first_item(resource_id: int) -> int:
        from govshare.catalog.models import DataItem

        return int(session.scalars(select(DataItem.id).where(DataItem.resource_id == resource_id)).first() or 0)

    with pytest.raises(InvalidTransition) as no_need:
        attempt(unconditional.id, first_item(unconditional.id))
    assert no_need.value.code == "unconditional_no_application"
    assert "无需申请" in no_need.value.detail
    with pytest.raises(InvalidTransition) as refused:
        attempt(closed.id, first_item(closed.id))
    assert refused.value.code == "not_shareable"
    with pytest.raises(NotFound):
        attempt(draft.id, first_item(draft.id))
    own = factory.role_actor(Role.dept_user, department=provider)
    p = parties(factory)
    with pytest.raises(InvalidTransition) as own_resource:
        service.submit_application(
            session,
            factory.role_actor(Role.dept_user, department=p.provider),
            resource_id=p.resource.id,
            items=[ItemRequest(p.item_id("姓名"))],
            scenario="场景",
            duty_basis="依据",
            purpose="用途",
            period_from=today,
            period_until=today,
        )
    assert own_resource.value.code == "own_resource"
    assert own.department_id == provider.id


# --- deciding ----------------------------------------------------------------------------------


@pytest.mark.article("A20.3")
@pytest.mark.article("A26.1")
def test_partial_approval_grants_only_the_approved_item_masked(session: Session, factory: Factory) -> None:
    p = parties(factory)
    app = apply(session, p, ["姓名", "联系电话"])
    name, phone = p.item_id("姓名"), p.item_id("联系电话")
    with pytest.raises(ValidationFailed) as no_reason:
        service.decide_application(
            session, p.provider_admin, app.id, decisions=[ItemDecision(name, True), ItemDecision(phone, False)]
        )
    assert no_reason.value.errors[0].field == f"decisions.{phone}.reason"
    assert session.get(Application, app.id).status == "submitted"  # type: ignore[union-attr]
    decided = service.decide_application(
        session,
        p.provider_admin,
        app.id,
        decisions=[ItemDecision(name, True), ItemDecision(phone, False, "联系电话涉及个人隐私,超出核对需要")],
        conditions="仅用于低保核对",
    )
    assert decided.status == "partially_approved"
    assert {i.data_item_id: i.decision for i in decided.items} == {name: "approved", phone: "refused"}
    assert next(i for i in decided.items if i.data_item_id == phone).refusal_reason.startswith("联系电话")
    [grant] = _grants(session, app.id)
    assert _grant_items(session, grant.id) == [name]
    assert grant.masking == "masked" and grant.status == "active"
    assert grant.conditions == "仅用于低保核对"
    assert grant.valid_until == app.period_until
    assert _audit_actions(session, app.id) == [
        "sharing.application.submitted",
        "sharing.application.partially_approved",
    ]


@pytest.mark.article("A20.3")
def test_refusing_everything_requires_a_reason_and_issues_no_grant(session: Session, factory: Factory) -> None:
    p = parties(factory)
    app = apply(session, p)
    with pytest.raises(ValidationFailed) as missing:
        service.decide_application(session, p.provider_admin, app.id, outcome="refuse_all")
    assert {e.field for e in missing.value.errors} >= {"reason"}
    refused = service.decide_application(
        session, p.provider_admin, app.id, outcome="refuse_all", reason="申请用途与履职依据不符"
    )
    assert refused.status == "refused"
    assert all(i.refusal_reason == "申请用途与履职依据不符" for i in refused.items)
    assert _grants(session, app.id) == []
    with pytest.raises(InvalidTransition):
        service.decide_application(session, p.provider_admin, app.id, outcome="approve_all")


def test_clear_values_need_a_written_reason_and_the_period_may_only_shrink(session: Session, factory: Factory) -> None:
    p = parties(factory)
    app = apply(session, p)
    with pytest.raises(ValidationFailed) as clear:
        service.decide_application(session, p.provider_admin, app.id, outcome="approve_all", masking="clear")
    assert clear.value.errors[0].field == "masking_reason"
    with pytest.raises(ValidationFailed) as longer:
        service.decide_application(
            session,
            p.provider_admin,
            app.id,
            outcome="approve_all",
            granted_until=app.period_until + dt.timedelta(days=1),
        )
    assert longer.value.errors[0].field == "granted_until"
    shorter = app.period_from + dt.timedelta(days=90)
    service.decide_application(
        session,
        p.provider_admin,
        app.id,
        outcome="approve_all",
        masking="clear",
        masking_reason="需比对完整号码,经分管领导批准",
        granted_until=shorter,
    )
    [grant] = _grants(session, app.id)
    assert grant.masking == "clear" and grant.valid_until == shorter
    assert sorted(_grant_items(session, grant.id)) == sorted([p.item_id("姓名"), p.item_id("联系电话")])


def test_only_the_provider_admin_decides(session: Session, factory: Factory) -> None:
    p = parties(factory)
    app = apply(session, p)
    with pytest.raises(Forbidden):
        service.decide_application(
            session, factory.role_actor(Role.dept_user, department=p.provider), app.id, outcome="approve_all"
        )
    with pytest.raises(Forbidden) as consumer_admin:
        service.decide_application(
            session, factory.role_actor(Role.dept_admin, department=p.consumer), app.id, outcome="approve_all"
        )
    assert consumer_admin.value.code == "not_provider"
    with pytest.raises(NotFound):
        service.decide_application(session, factory.role_actor(Role.dept_admin), app.id, outcome="approve_all")
    with pytest.raises(Forbidden):
        service.decide_application(session, p.authority, app.id, outcome="approve_all")


def test_withdraw_before_a_decision_only(session: Session, factory: Factory) -> None:
    p = parties(factory)
    app = apply(session, p)
    with pytest.raises(Forbidden):
        service.withdraw_application(session, factory.role_actor(Role.dept_user, department=p.provider), app.id)
    withdrawn = service.withdraw_application(session, p.applicant, app.id, reason="需求已变化")
    assert withdrawn.status == "withdrawn"
    with pytest.raises(InvalidTransition):
        service.decide_application(session, p.provider_admin, app.id, outcome="approve_all")
    other = apply(session, p)
    service.decide_application(session, p.provider_admin, other.id, outcome="approve_all")
    with pytest.raises(InvalidTransition):
        service.withdraw_application(session, p.applicant, other.id)


@pytest.mark.article("A20.2")
def test_a_late_answer_is_accepted_and_flagged(session: Session, factory: Factory) -> None:
    clock.set_now(dt.datetime(2026, 11, 2, 10, 0))
    p = parties(factory)
    app = apply(session, p)
    assert not service.decide_application(session, p.provider_admin, app.id, outcome="approve_all").decided_late
    late = apply(session, p)
    clock.set_now(dt.datetime(2026, 11, 17, 10, 0))  # the day after the due date
    decided = service.decide_application(session, p.provider_admin, late.id, outcome="refuse_all", reason="无依据")
    assert decided.decided_late
    view = service.get_application(session, p.applicant, late.id)
    assert view.clock is not None and view.clock.overdue and view.clock.done


def test_stale_version_is_refused(session: Session, factory: Factory) -> None:
    p = parties(factory)
    app = apply(session, p)
    with pytest.raises(InvalidTransition) as stale:
        service.decide_application(session, p.provider_admin, app.id, outcome="approve_all", expected_version=99)
    assert stale.value.code == "stale_version"


# --- HTTP --------------------------------------------------------------------------------------


@pytest.mark.article("A20.2")
@pytest.mark.article("A20.3")
@pytest.mark.article("A21.1")
def test_api_apply_decide_and_visibility(client: TestClient, session: Session, factory: Factory) -> None:
    provider = factory.department()
    consumer = factory.department()
    resource = conditional_resource(factory, provider)
    items = {i.name: i.id for i in factory.session.scalars(select_items(resource.id))}
    applicant = factory.user(Role.dept_user, department=consumer)
    provider_admin = factory.user(Role.dept_admin, department=provider)
    stranger = factory.user(Role.dept_admin)
    today = clock.today()

    sign_in(client, session, applicant)
    body = {
        "resource_id": resource.id,
        "items": [
            {"data_item_id": items["姓名"]},
            {"data_item_id": items["户籍地址"], "reason": "核对户籍所在地"},
        ],
        "scenario": "低保核对",
        "duty_basis": "《社会救助暂行办法》",
        "purpose": "核对申请人身份",
        "period_from": today.isoformat(),
        "period_until": (today + dt.timedelta(days=180)).isoformat(),
    }
    bad = client.post("/api/v1/sharing/applications", json={**body, "due_on": "2030-01-01"}, headers=headers(client))
    assert bad.status_code == 422
    r = client.post("/api/v1/sharing/applications", json=body, headers=headers(client))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "submitted" and created["clock"]["remaining"] == 10
    assert [i["decision"] for i in created["items"]] == ["pending", "pending"]
    mine = client.get("/api/v1/sharing/applications", params={"scope": "mine"}).json()
    assert [a["id"] for a in mine] == [created["id"]]
    denied = client.post(
        f"/api/v1/sharing/applications/{created['id']}/decision",
        json={"outcome": "approve_all"},
        headers=headers(client),
    )
    assert denied.status_code == 403
    client.post("/logout", data={"csrf_token": headers(client)["X-CSRF-Token"]})

    client.cookies.clear()
    sign_in(client, session, stranger)
    assert client.get(f"/api/v1/sharing/applications/{created['id']}").status_code == 404
    client.cookies.clear()

    sign_in(client, session, provider_admin)
    inbox = client.get("/api/v1/sharing/applications", params={"scope": "inbox"}).json()
    assert [a["id"] for a in inbox] == [created["id"]]
    refused = client.post(
        f"/api/v1/sharing/applications/{created['id']}/decision",
        json={
            "items": [
                {"data_item_id": items["姓名"], "approve": True},
                {"data_item_id": items["户籍地址"], "approve": False},
            ]
        },
        headers=headers(client),
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    decided = client.post(
        f"/api/v1/sharing/applications/{created['id']}/decision",
        json={
            "items": [
                {"data_item_id": items["姓名"], "approve": True},
                {"data_item_id": items["户籍地址"], "approve": False, "reason": "地址超出核对需要"},
            ],
            "expected_version": created["version"],
        },
        headers=headers(client),
    )
    assert decided.status_code == 200, decided.text
    result = decided.json()
    assert result["status"] == "partially_approved" and len(result["grant_ids"]) == 1
    again = client.post(
        f"/api/v1/sharing/applications/{created['id']}/decision",
        json={"outcome": "approve_all"},
        headers=headers(client),
    )
    assert again.status_code == 409


def select_items(resource_id: int):  # type: ignore[no-untyped-def]
    from govshare.catalog.models import DataItem

    return select(DataItem).where(DataItem.resource_id == resource_id)
