"""Identity administration through the services: regions, departments, offices, people and roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.errors import Conflict, Forbidden, InvalidTransition, NotFound, Unauthorized, ValidationFailed
from govshare.identity import auth, service
from govshare.identity.actor import RequestContext
from govshare.identity.models import UserSession
from govshare.identity.permissions import Role
from govshare.kit.uscc import make_uscc
from tests.factories import PASSWORD, Factory


def _actions(session: Session, object_type: str, object_id: int) -> list[str]:
    return list(
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == object_type, AuditRecord.object_id == str(object_id))
            .order_by(AuditRecord.seq)
        ).scalars()
    )


def _live_sessions(session: Session, user_id: int) -> int:
    rows = session.execute(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    ).scalars()
    return len(list(rows))


# --- regions --------------------------------------------------------------------------------------


@pytest.mark.article("A44.1")
@pytest.mark.article("A6.1")
def test_thirteen_regions_each_with_an_editable_authority(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    regions = service.list_regions(session, admin)
    assert len(regions) == 13
    names = {r.name for r in regions}
    assert {"高新区", "经济区", "榆中县", "城关区", "兰州新区"} <= names
    assert all(r.authority_name for r in regions)
    yuzhong = next(r for r in regions if r.name == "榆中县")
    service.update_region(
        session,
        admin,
        yuzhong.id,
        authority_name="榆中县数据局",
        authority_office="数据资源科",
        authority_contact="王敏",
        authority_phone="0931-5221234",
    )
    assert yuzhong.authority_office == "数据资源科"
    assert _actions(session, "region", yuzhong.id) == ["identity.region.updated"]
    with pytest.raises(ValidationFailed) as bad:
        service.update_region(session, admin, yuzhong.id, authority_name="", authority_phone="电话")
    assert {e.field for e in bad.value.errors} == {"authority_name", "authority_phone"}
    dept_admin = factory.actor(factory.user(Role.dept_admin))
    with pytest.raises(Forbidden):
        service.update_region(session, dept_admin, yuzhong.id, authority_name="x")


# --- departments ----------------------------------------------------------------------------------


@pytest.mark.article("A2.1")
def test_department_needs_a_valid_credit_code_and_is_in_everyones_directory(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    region = factory.region("七里河区")
    with pytest.raises(ValidationFailed) as bad:
        service.create_department(session, admin, name="七里河区民政局", uscc="11620103MB0000000X", region_id=region.id)
    assert bad.value.errors[0].field == "uscc" and "校验位" in bad.value.errors[0].message
    dept = service.create_department(
        session, admin, name="七里河区民政局", uscc=make_uscc("11620103MB0000001"), region_id=region.id
    )
    with pytest.raises(Conflict):
        service.create_department(
            session, admin, name="七里河区民政局", uscc=make_uscc("11620103MB0000002"), region_id=region.id
        )
    reader = factory.actor(factory.user(Role.dept_user))  # a person of another department
    listed = service.list_departments(session, reader, region_id=region.id)
    assert [d.name for d in listed] == ["七里河区民政局"]
    assert service.get_department(session, reader, dept.id).region.name == "七里河区"
    with pytest.raises(Forbidden):
        service.create_department(
            session, reader, name="某局", uscc=make_uscc("11620103MB0000003"), region_id=region.id
        )


@pytest.mark.article("A6.1")
def test_sharing_contacts_by_the_bureau_or_the_departments_own_admin(session: Session, factory: Factory) -> None:
    dept, other = factory.department(), factory.department()
    own_admin = factory.actor(factory.user(Role.dept_admin, department=dept))
    other_admin = factory.actor(factory.user(Role.dept_admin, department=other))
    staff = factory.actor(factory.user(Role.dept_user, department=dept))
    bureau_admin = factory.actor(factory.user(Role.bureau_admin))
    contacts = {
        "sharing_office": "信息科",
        "sharing_leader": "张副局长",
        "sharing_contact": "李娜",
        "sharing_phone": "13919001234",
    }
    service.update_sharing_contacts(session, own_admin, dept.id, **contacts)
    assert (dept.sharing_office, dept.sharing_contact, dept.version) == ("信息科", "李娜", 2)
    with pytest.raises(Forbidden):
        service.update_sharing_contacts(session, other_admin, dept.id, **contacts)
    with pytest.raises(Forbidden):
        service.update_sharing_contacts(session, staff, dept.id, **contacts)
    service.update_sharing_contacts(session, bureau_admin, dept.id, **(contacts | {"sharing_contact": "赵强"}))
    assert dept.sharing_contact == "赵强"
    with pytest.raises(ValidationFailed) as bad:
        service.update_sharing_contacts(session, own_admin, dept.id, sharing_office="", sharing_phone="12")
    assert {e.field for e in bad.value.errors} == {"sharing_office", "sharing_contact", "sharing_phone"}
    records = session.execute(
        select(AuditRecord).where(AuditRecord.object_type == "department", AuditRecord.object_id == str(dept.id))
    ).scalars()
    updates = [r for r in records if r.action == "identity.department.updated"]
    assert len(updates) == 2
    assert updates[1].before == {"sharing_contact": "李娜"} and updates[1].after == {"sharing_contact": "赵强"}


def test_stale_version_loses(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    dept = factory.department()
    seen = dept.version
    service.update_department(
        session, admin, dept.id, name=dept.name + "(新)", uscc=dept.uscc, region_id=dept.region_id, version=seen
    )
    with pytest.raises(Conflict) as lost:
        service.update_department(
            session, admin, dept.id, name="又一个名字", uscc=dept.uscc, region_id=dept.region_id, version=seen
        )
    assert lost.value.code == "stale_version"
    assert dept.name.endswith("(新)") and dept.version == seen + 1


@pytest.mark.article("A31.1")
def test_deactivating_a_department_disables_and_signs_out_its_people(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    dept = factory.department()
    user = factory.user(Role.dept_user, department=dept)
    result = auth.login(session, RequestContext(source_ip="10.9.0.1"), user.username, PASSWORD)
    assert result.ok and _live_sessions(session, user.id) == 1
    with pytest.raises(ValidationFailed):
        service.deactivate_department(session, admin, dept.id, reason=" ")
    service.deactivate_department(session, admin, dept.id, reason="机构改革撤并")
    assert not dept.is_active and not user.is_active
    assert _live_sessions(session, user.id) == 0
    with pytest.raises(Unauthorized):
        auth.resolve_session(session, result.token, RequestContext())
    assert _actions(session, "user", user.id)[-1] == "identity.user.disabled"
    with pytest.raises(ValidationFailed) as closed:
        service.create_user(
            session,
            admin,
            username="newcomer",
            display_name="新人",
            department_id=dept.id,
            password=PASSWORD,
            roles=[],
        )
    assert closed.value.code == "department_inactive"
    with pytest.raises(ValidationFailed):
        service.enable_user(session, admin, user.id)
    service.reactivate_department(session, admin, dept.id)
    assert dept.is_active and not user.is_active  # accounts come back one by one
    with pytest.raises(ValidationFailed):
        service.deactivate_department(session, admin, factory.bureau().id, reason="x")


def test_offices_add_rename_remove(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    dept = factory.department()
    office = service.add_office(session, admin, dept.id, "户政处")
    second = service.add_office(session, admin, dept.id, "治安处")
    with pytest.raises(Conflict):
        service.rename_office(session, admin, second.id, "户政处")
    service.rename_office(session, admin, office.id, "户政管理处")
    assert service.remove_office(session, admin, second.id) == dept.id
    assert [o.name for o in service.get_department(session, admin, dept.id).offices] == ["户政管理处"]
    assert _actions(session, "office", office.id) == ["identity.office.created", "identity.office.updated"]
    assert _actions(session, "office", second.id)[-1] == "identity.office.removed"


# --- people and roles -----------------------------------------------------------------------------


@pytest.mark.article("A31.1")
def test_separation_of_duties_and_role_scopes(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    bureau = factory.bureau()
    dept = factory.department()

    def create(department_id: int, roles: list[tuple[Role, int | None]]) -> str:
        with pytest.raises(ValidationFailed) as refused:
            service.create_user(
                session,
                admin,
                username=f"u{len(roles)}x{department_id}",
                display_name="某人",
                department_id=department_id,
                password=PASSWORD,
                roles=roles,
            )
        return refused.value.code

    assert create(bureau.id, [(Role.bureau_admin, None), (Role.auditor, None)]) == "separation_of_duties"
    assert create(bureau.id, [(Role.bureau_admin, None), (Role.bureau_reviewer, None)]) == "separation_of_duties"
    assert create(dept.id, [(Role.bureau_reviewer, None)]) == "bureau_role_outside_bureau"
    assert create(dept.id, [(Role.region_reviewer, None)]) == "region_required"
    assert create(dept.id, [(Role.dept_admin, factory.region("城关区").id)]) == "region_not_applicable"
    user = factory.user(Role.dept_user, department=dept)
    with pytest.raises(ValidationFailed):
        service.set_roles(session, admin, user.id, [(Role.auditor, None), (Role.region_reviewer, 3)])


@pytest.mark.article("A31.1")
def test_role_change_is_audited_and_ends_sessions(session: Session, factory: Factory) -> None:
    admin_user = factory.user(Role.bureau_admin)
    admin = factory.actor(admin_user)
    user = factory.user(Role.dept_user)
    auth.login(session, RequestContext(source_ip="10.9.0.2"), user.username, PASSWORD)
    service.set_roles(session, admin, user.id, [(Role.dept_admin, None), (Role.dept_user, None)])
    session.refresh(user)
    assert sorted(a.role for a in user.roles) == ["dept_admin", "dept_user"]
    assert _live_sessions(session, user.id) == 0
    record = session.execute(
        select(AuditRecord).where(AuditRecord.action == "identity.user.roles_changed")
    ).scalar_one()
    assert record.before == {"roles": [["dept_user", None]]}
    assert record.after is not None and record.after["roles"] == [["dept_admin", None], ["dept_user", None]]
    with pytest.raises(ValidationFailed) as own:
        service.set_roles(session, admin, admin_user.id, [(Role.dept_user, None)])
    assert own.value.code == "own_admin_role"


@pytest.mark.article("A31.1")
def test_disabling_ends_every_session_and_token_at_once(session: Session, factory: Factory) -> None:
    admin_user = factory.user(Role.bureau_admin)
    admin = factory.actor(admin_user)
    user = factory.user(Role.dept_user)
    first = auth.login(session, RequestContext(source_ip="10.9.0.3"), user.username, PASSWORD)
    second = auth.login(session, RequestContext(source_ip="10.9.0.4"), user.username, PASSWORD)
    _, token = auth.create_api_token(session, factory.actor(user), name="脚本")
    service.disable_user(session, admin, user.id, reason="离职")
    for result in (first, second):
        with pytest.raises(Unauthorized):
            auth.resolve_session(session, result.token, RequestContext())
    with pytest.raises(Unauthorized):
        auth.resolve_api_token(session, token, RequestContext())
    assert not auth.login(session, RequestContext(), user.username, PASSWORD).ok
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "identity.user.disabled")).scalar_one()
    assert record.after == {"is_active": False, "reason": "离职", "sessions_ended": 2}
    with pytest.raises(InvalidTransition):
        service.disable_user(session, admin, user.id, reason="again")
    with pytest.raises(ValidationFailed):
        service.disable_user(session, admin, admin_user.id, reason="self")
    service.enable_user(session, admin, user.id)
    assert auth.login(session, RequestContext(), user.username, PASSWORD).ok


@pytest.mark.article("A31.1")
def test_unlock_and_password_reset(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    user = factory.user(Role.dept_user)
    for _ in range(5):
        auth.login(session, RequestContext(), user.username, "Wrong-Passw0rd")
    assert user.locked_until is not None
    service.unlock_user(session, admin, user.id)
    assert user.locked_until is None
    with pytest.raises(InvalidTransition):
        service.unlock_user(session, admin, user.id)
    kept = auth.login(session, RequestContext(source_ip="10.9.0.5"), user.username, PASSWORD)
    temporary = service.reset_password(session, admin, user.id)
    with pytest.raises(Unauthorized):
        auth.resolve_session(session, kept.token, RequestContext())
    assert not auth.login(session, RequestContext(), user.username, PASSWORD).ok
    fresh = auth.login(session, RequestContext(), user.username, temporary)
    assert fresh.ok and fresh.must_change_password
    # The temporary password is in no audit record.
    afters = session.execute(select(AuditRecord.after)).scalars().all()
    assert all(temporary not in str(a) for a in afters)


def test_mfa_reset_clears_the_binding(session: Session, factory: Factory) -> None:
    admin = factory.actor(factory.user(Role.bureau_admin))
    reviewer = factory.user(Role.bureau_reviewer)
    auth.start_totp_enrolment(session, factory.actor(reviewer))
    reviewer.totp_enabled = True
    service.reset_mfa(session, admin, reviewer.id)
    assert reviewer.totp_secret is None and not reviewer.totp_enabled
    with pytest.raises(InvalidTransition):
        service.reset_mfa(session, admin, reviewer.id)


@pytest.mark.article("A31.1")
def test_people_are_visible_by_department_and_region(session: Session, factory: Factory) -> None:
    city_dept = factory.department()
    county_dept = factory.department(region="城关区")
    colleague = factory.user(Role.dept_user, department=city_dept)
    stranger = factory.user(Role.dept_user, department=county_dept)
    me = factory.actor(factory.user(Role.dept_admin, department=city_dept))
    visible = {u.id for u in service.list_users(session, me, page_size=200).items}
    assert colleague.id in visible and stranger.id not in visible
    with pytest.raises(NotFound):
        service.get_user(session, me, stranger.id)
    reviewer = factory.actor(factory.user(Role.region_reviewer, region="城关区"))
    page = service.list_users(session, reviewer, department_id=county_dept.id)
    assert [u.id for u in page.items] == [stranger.id]
    auditor = factory.actor(factory.user(Role.auditor, department=factory.bureau()))
    assert service.get_user(session, auditor, stranger.id).id == stranger.id


@pytest.mark.article("A36.1")
def test_concurrent_use_alerts_for_the_person_and_the_bureau(session: Session, factory: Factory) -> None:
    user = factory.user(Role.dept_user)
    admin = factory.actor(factory.user(Role.bureau_admin))
    auth.login(session, RequestContext(source_ip="10.0.0.1"), user.username, PASSWORD)
    auth.login(session, RequestContext(source_ip="10.0.0.9"), user.username, PASSWORD)
    mine = service.my_login_alerts(session, factory.actor(user))
    assert len(mine) == 1 and mine[0].detail["new_ip"] == "10.0.0.9"
    rows = service.list_login_alerts(session, admin, unacknowledged_only=True)
    assert [r.user.id for r in rows if r.user.id == user.id] == [user.id]
    with pytest.raises(Forbidden):
        service.list_login_alerts(session, factory.actor(user))
    service.acknowledge_alert(session, admin, mine[0].id, note="已电话核实为本人")
    assert all(r.alert.id != mine[0].id for r in service.list_login_alerts(session, admin, unacknowledged_only=True))
    with pytest.raises(InvalidTransition):
        service.acknowledge_alert(session, admin, mine[0].id)
