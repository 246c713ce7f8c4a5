"""Consumer systems (A26.2): registration with a secret shown once, rotation, disable/enable,
audit of each, and another department seeing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.config import get_settings
from govshare.errors import Forbidden, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.kit.crypto import decrypt
from govshare.sharing import grants, systems
from govshare.sharing.enums import SystemStatus
from govshare.sharing.models import ConsumerSystem
from tests.factories import Factory
from tests.helpers import csrf, headers, sign_in
from tests.sharing.application_helpers import parties


def _actions(session: Session, object_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == "consumer_system", AuditRecord.object_id == str(object_id))
            .order_by(AuditRecord.id)
        )
    )


@pytest.mark.article("A26.2")
def test_register_rotate_disable_enable_are_audited(session: Session, factory: Factory) -> None:
    department = factory.department("市民政局")
    admin = factory.compiler(department)
    system, secret = systems.register_system(session, admin, name="社会救助信息系统", rate_limit_per_minute=120)
    assert system.app_key.startswith("gsk_") and secret.startswith("gss_")
    assert system.secret_hint == secret[-4:] and secret not in system.secret_encrypted
    assert decrypt(system.secret_encrypted, get_settings().security.data_key) == secret
    _, rotated = systems.rotate_secret(session, admin, system.id)
    assert rotated != secret and systems.secret_of(system) == rotated
    systems.set_status(session, admin, system.id, SystemStatus.disabled)
    with pytest.raises(Exception, match="已停用"):
        systems.set_status(session, admin, system.id, SystemStatus.disabled)
    systems.set_status(session, admin, system.id, SystemStatus.active)
    systems.update_system(
        session, admin, system.id, name="社会救助系统", description="低保审核", rate_limit_per_minute=60
    )
    assert _actions(session, system.id) == [
        "sharing.consumer_system.registered",
        "sharing.consumer_system.secret_rotated",
        "sharing.consumer_system.disabled",
        "sharing.consumer_system.enabled",
        "sharing.consumer_system.updated",
    ]
    trail = " ".join(str(r.after) for r in session.scalars(select(AuditRecord)))
    assert secret not in trail and rotated not in trail


def test_bad_input_is_refused_and_changes_nothing(session: Session, factory: Factory) -> None:
    admin = factory.compiler(factory.department())
    with pytest.raises(ValidationFailed) as caught:
        systems.register_system(session, admin, name=" ", rate_limit_per_minute=0)
    assert {e.field for e in caught.value.errors} == {"name", "rate_limit_per_minute"}
    assert session.scalar(select(ConsumerSystem.id)) is None


def test_another_department_sees_and_manages_nothing(session: Session, factory: Factory) -> None:
    mine = factory.compiler(factory.department("市民政局"))
    theirs = factory.compiler(factory.department("市教育局"))
    system, _ = systems.register_system(session, mine, name="社会救助信息系统")
    assert systems.list_systems(session, theirs) == []
    with pytest.raises(NotFound):
        systems.get_system(session, theirs, system.id)
    with pytest.raises(NotFound):
        systems.rotate_secret(session, theirs, system.id)
    user = factory.role_actor(Role.dept_user, department=factory.department("市民政局"))
    with pytest.raises(Forbidden):
        systems.register_system(session, user, name="x")


def test_api_shows_the_secret_only_at_registration_and_rotation(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department("市民政局")
    sign_in(client, session, factory.user(Role.dept_admin, department=department))
    r = client.post(
        "/api/v1/sharing/systems",
        json={"name": "社会救助信息系统", "rate_limit_per_minute": 100},
        headers=headers(client),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("gss_") and created["secret_hint"] == created["secret"][-4:]
    listed = client.get("/api/v1/sharing/systems").json()
    assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]
    one = client.get(f"/api/v1/sharing/systems/{created['id']}").json()
    assert "secret" not in one and created["secret"] not in str(one)
    rotated = client.post(f"/api/v1/sharing/systems/{created['id']}/rotate-secret", headers=headers(client)).json()
    assert rotated["secret"] != created["secret"]
    r = client.post(f"/api/v1/sharing/systems/{created['id']}/disable", headers=headers(client))
    assert r.json()["status"] == "disabled"
    r = client.put(
        f"/api/v1/sharing/systems/{created['id']}",
        json={"name": "改名", "rate_limit_per_minute": 0},
        headers=headers(client),
    )
    assert r.status_code == 422


def test_pages_register_show_the_secret_once_and_rotate(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department("市民政局")
    sign_in(client, session, factory.user(Role.dept_admin, department=department))
    assert client.get("/sharing/systems").status_code == 200
    r = client.post(
        "/sharing/systems",
        data={
            "name": "社会救助信息系统",
            "description": "",
            "rate_limit_per_minute": "abc",
            "csrf_token": csrf(client),
        },
    )
    assert r.status_code == 422 and "每分钟调用上限应为整数" in r.text
    r = client.post(
        "/sharing/systems",
        data={
            "name": "社会救助信息系统",
            "description": "低保",
            "rate_limit_per_minute": "300",
            "csrf_token": csrf(client),
        },
    )
    assert r.status_code == 200 and "密钥只显示这一次" in r.text
    system = session.scalars(select(ConsumerSystem)).one()
    secret = systems.secret_of(system)
    assert secret in r.text
    page = client.get(f"/sharing/systems/{system.id}")
    assert page.status_code == 200 and secret not in page.text and system.app_key in page.text
    assert secret not in client.get("/sharing/systems").text
    r = client.post(f"/sharing/systems/{system.id}/rotate", data={"csrf_token": csrf(client)})
    session.refresh(system)
    assert systems.secret_of(system) in r.text and "原密钥及其签发的访问令牌已立即失效" in r.text
    r = client.post(f"/sharing/systems/{system.id}/disable", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    session.refresh(system)
    assert system.status == "disabled"
    r = client.post(
        f"/sharing/systems/{system.id}",
        data={"name": "救助系统", "description": "", "rate_limit_per_minute": "50", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    session.refresh(system)
    assert system.name == "救助系统" and system.rate_limit_per_minute == 50


def test_pages_refuse_other_departments_and_people_without_the_permission(
    client: TestClient, session: Session, factory: Factory
) -> None:
    system, _ = factory.consumer_system(factory.department("市民政局"))
    sign_in(client, session, factory.user(Role.dept_admin, department=factory.department("市教育局")))
    assert client.get(f"/sharing/systems/{system.id}").status_code == 404
    assert system.app_key not in client.get("/sharing/systems").text
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_user, department=factory.department("市民政局")))
    assert client.get("/sharing/systems").status_code == 403


@pytest.mark.article("A26.2")
def test_a_system_page_lists_the_grants_that_name_it_with_the_call_each_takes(
    client: TestClient, session: Session, factory: Factory
) -> None:
    """What the engineer connecting the system needs: which grants, on which resource, called how."""
    p = parties(factory)
    admin = factory.user(Role.dept_admin, department=p.consumer)
    system, _ = factory.consumer_system(p.consumer, name="低保审核系统")
    named = grants.issue_grant(
        session,
        Actor.system(),
        resource_id=p.resource.id,
        consumer_department_id=p.consumer.id,
        data_item_ids=[p.item_id("姓名")],
        purpose="低保核对",
        valid_from=clock.today(),
        valid_until=clock.today() + dt.timedelta(days=30),
        system_ids=[system.id],
    )
    other, _ = factory.consumer_system(p.consumer, name="另一系统")
    assert [g.grant_id for g in systems.grants_of(session, system)] == [named.id]
    assert systems.grants_of(session, other) == []
    sign_in(client, session, admin)
    page = client.get(f"/sharing/systems/{system.id}")
    assert page.status_code == 200
    assert f"/api/v1/consumer/resources/{p.resource.code}/rows?grant_id={named.id}" in page.text
    assert f'href="/sharing/usage?consumer_system_id={system.id}"' in page.text
    assert "尚无授权指定本系统" in client.get(f"/sharing/systems/{other.id}").text
