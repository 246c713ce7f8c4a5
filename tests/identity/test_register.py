"""The register of 数据资源管理员 (A34.1, A16.1): who registers, replacing, ending, the full history,
and the departments that lack one."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from govshare.identity import register
from govshare.identity.models import DataAdminRecord
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory
from tests.helpers import headers, sign_in

TODAY = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen_day() -> None:
    clock.set_now(dt.datetime(2026, 3, 2, 10, 0))


@pytest.mark.article("A34.1")
@pytest.mark.article("A16.1")
def test_a_department_names_its_data_administrator_and_the_bureau_sees_it(session: Session, factory: Factory) -> None:
    dept = factory.department("市民政局")
    admin_user = factory.user(Role.dept_admin, department=dept)
    own_admin = factory.actor(admin_user)
    bureau_admin = factory.actor(factory.user(Role.bureau_admin))
    assert dept.id in {d.id for d in register.departments_lacking_data_admin(session, bureau_admin)}

    record = register.register_data_admin(
        session,
        own_admin,
        department_id=dept.id,
        name="马丽",
        office="信息中心",
        phone="13893112345",
        email="mali@mz.lanzhou.gov.cn",
    )
    assert (record.start_date, record.end_date, record.registered_by_id) == (TODAY, None, admin_user.id)
    assert dept.id not in {d.id for d in register.departments_lacking_data_admin(session, bureau_admin)}
    overview = register.register_overview(session, bureau_admin)
    row = next(r for r in overview.rows if r.department.id == dept.id)
    assert [r.name for r in row.current] == ["马丽"]
    audit = session.execute(
        select(AuditRecord).where(AuditRecord.action == "identity.data_admin.registered")
    ).scalar_one()
    assert audit.department_id == dept.id and audit.after is not None and audit.after["name"] == "马丽"

    # A linked account fills in the name and phone; a second administrator may serve alongside.
    staff = factory.user(Role.dept_user, department=dept)
    staff.phone = "0931-8881234"
    second = register.register_data_admin(session, bureau_admin, department_id=dept.id, user_id=staff.id)
    assert (second.name, second.phone, second.user_id) == (staff.display_name, "0931-8881234", staff.id)
    assert len(register.department_register(session, own_admin, dept.id).current) == 2


@pytest.mark.article("A34.1")
def test_only_the_department_itself_or_the_bureau_may_register(session: Session, factory: Factory) -> None:
    dept, other = factory.department(), factory.department()
    other_admin = factory.actor(factory.user(Role.dept_admin, department=other))
    staff = factory.actor(factory.user(Role.dept_user, department=dept))
    reviewer = factory.actor(factory.user(Role.bureau_reviewer))
    for actor in (other_admin, staff, reviewer):
        with pytest.raises(Forbidden):
            register.register_data_admin(session, actor, department_id=dept.id, name="某人", phone="13800000000")
    assert register.department_register(session, staff, dept.id).history == []


@pytest.mark.article("A34.1")
@pytest.mark.article("A16.1")
def test_replacing_keeps_the_whole_history(session: Session, factory: Factory) -> None:
    dept = factory.department()
    actor = factory.actor(factory.user(Role.dept_admin, department=dept))
    clock.set_now(dt.datetime(2025, 6, 1, 9, 0))
    first = register.register_data_admin(session, actor, department_id=dept.id, name="张伟", phone="13800001111")
    clock.set_now(dt.datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValidationFailed):
        register.replace_data_admin(session, actor, first.id, reason=" ", name="李强", phone="13800002222")
    # A refused successor leaves the predecessor untouched.
    with pytest.raises(ValidationFailed):
        register.replace_data_admin(session, actor, first.id, reason="岗位调整", name="李强", phone="x")
    assert first.end_date is None

    second = register.replace_data_admin(
        session, actor, first.id, reason="岗位调整", name="李强", phone="13800002222", start_date=TODAY
    )
    assert (first.end_date, first.change_reason) == (TODAY, "岗位调整")
    with pytest.raises(InvalidTransition):
        register.replace_data_admin(session, actor, first.id, reason="再换", name="王五", phone="13800003333")
    book = register.department_register(session, actor, dept.id)
    assert [r.id for r in book.current] == [second.id]
    assert [r.name for r in book.history] == ["李强", "张伟"]
    actions = session.execute(
        select(AuditRecord.action, AuditRecord.object_id)
        .where(AuditRecord.object_type == "data_admin")
        .order_by(AuditRecord.seq)
    ).all()
    assert [tuple(a) for a in actions] == [
        ("identity.data_admin.registered", str(first.id)),
        ("identity.data_admin.ended", str(first.id)),
        ("identity.data_admin.registered", str(second.id)),
    ]


@pytest.mark.article("A34.1")
def test_ending_without_successor_leaves_the_department_lacking(session: Session, factory: Factory) -> None:
    dept = factory.department()
    bureau_admin = factory.actor(factory.user(Role.bureau_admin))
    record = register.register_data_admin(
        session, bureau_admin, department_id=dept.id, name="赵敏", phone="13800004444"
    )
    with pytest.raises(ValidationFailed):
        register.end_data_admin(session, bureau_admin, record.id, reason="离职", end_date=TODAY - dt.timedelta(days=1))
    register.end_data_admin(session, bureau_admin, record.id, reason="离职")
    assert dept.id in {d.id for d in register.departments_lacking_data_admin(session, bureau_admin)}
    assert register.department_register(session, bureau_admin, dept.id).history[0].change_reason == "离职"
    # One who starts next week does not count today.
    register.register_data_admin(
        session,
        bureau_admin,
        department_id=dept.id,
        name="钱多",
        phone="13800005555",
        start_date=TODAY + dt.timedelta(days=7),
    )
    assert dept.id in {d.id for d in register.departments_lacking_data_admin(session, bureau_admin)}


def test_register_validation(session: Session, factory: Factory) -> None:
    dept, other = factory.department(), factory.department()
    actor = factory.actor(factory.user(Role.dept_admin, department=dept))
    outsider = factory.user(Role.dept_user, department=other)
    with pytest.raises(ValidationFailed) as bad:
        register.register_data_admin(session, actor, department_id=dept.id, name="", email="not-an-email")
    assert {e.field for e in bad.value.errors} == {"name", "phone", "email"}
    with pytest.raises(ValidationFailed) as linked:
        register.register_data_admin(session, actor, department_id=dept.id, user_id=outsider.id, phone="13800000000")
    assert linked.value.errors[0].field == "user_id"
    register.register_data_admin(session, actor, department_id=dept.id, name="孙丽", phone="13800006666")
    with pytest.raises(Conflict):
        register.register_data_admin(session, actor, department_id=dept.id, name="孙丽", phone="13800006666")


@pytest.mark.article("A34.1")
def test_register_through_the_api(client: TestClient, session: Session, factory: Factory) -> None:
    dept = factory.department()
    sign_in(client, session, factory.user(Role.dept_admin, department=dept))
    r = client.post(
        f"/api/v1/identity/departments/{dept.id}/data-admins",
        json={"name": "周杰", "office": "办公室", "phone": "13800007777", "email": "zj@example.gov.cn"},
        headers=headers(client),
    )
    assert r.status_code == 201, r.text
    record_id = r.json()["id"]
    r = client.post(
        f"/api/v1/identity/data-admins/{record_id}/replace",
        json={"reason": "退休", "name": "吴刚", "phone": "13800008888"},
        headers=headers(client),
    )
    assert r.status_code == 201, r.text
    book = client.get(f"/api/v1/identity/departments/{dept.id}/data-admins").json()
    assert [r["name"] for r in book["current"]] == ["吴刚"]
    assert [(r["name"], r["change_reason"]) for r in book["history"]] == [("吴刚", ""), ("周杰", "退休")]
    other = factory.department()
    session.commit()
    r = client.post(
        f"/api/v1/identity/departments/{other.id}/data-admins",
        json={"name": "某人", "phone": "13800009999"},
        headers=headers(client),
    )
    assert r.status_code == 403 and r.json()["code"] == "other_department"
    assert session.execute(select(DataAdminRecord).where(DataAdminRecord.department_id == other.id)).first() is None
    overview = client.get("/api/v1/identity/data-admins").json()
    assert other.id in {d["id"] for d in overview["lacking"]}
