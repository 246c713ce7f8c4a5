"""Catalog change requests (article 17) through the service, on the official 2026 calendar.

2026 around 国庆: 09-20 Sun working; 09-25..09-27 中秋 off; 10-01..10-07 off; 10-10 Sat working.
Working days counted from a trigger date start the day after it (day 1 = the next working day).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.calendar import service as calendar
from govshare.catalog import change_requests as cr_service
from govshare.catalog import service as catalog
from govshare.catalog.change_requests import ListScope
from govshare.catalog.enums import ChangeTrigger
from govshare.catalog.models import ChangeRequest, Resource, ResourceVersion
from govshare.catalog.schemas import DataItemIn, ResourceFields
from govshare.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory

D = dt.date


def at(day: dt.date, hour: int = 10) -> None:
    """Freeze "now" at ``hour`` o'clock, China time, on ``day``."""
    clock.set_now(dt.datetime(day.year, day.month, day.day, hour, 0))


def _actions(session: Session, cr: ChangeRequest) -> list[str]:
    return list(
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == "change_request", AuditRecord.object_id == str(cr.id))
            .order_by(AuditRecord.seq)
        ).scalars()
    )


def _published(factory: Factory, department: Department | None = None, **overrides: Any) -> Resource:
    at(D(2026, 9, 1))  # published well before any trigger date used here
    return factory.published_resource(department, **overrides)


def _open(
    factory: Factory,
    resource: Resource,
    *,
    trigger_date: dt.date,
    on: dt.date | None = None,
    actor: Actor | None = None,
) -> ChangeRequest:
    at(on or trigger_date)
    department = factory.session.get(Department, resource.provider_id)
    assert department is not None
    return cr_service.open_change_request(
        factory.session,
        actor or factory.compiler(department),
        resource_id=resource.id,
        trigger=ChangeTrigger.reorganisation,
        trigger_date=trigger_date,
        trigger_description="机构改革:职能划入新组建的部门",
    )


def _admin(factory: Factory, cr: ChangeRequest) -> Actor:
    department = factory.session.get(Department, cr.department_id)
    assert department is not None
    return factory.compiler(department)


def _reviewer(factory: Factory, cr: ChangeRequest) -> Actor:
    department = factory.session.get(Department, cr.department_id)
    assert department is not None
    return factory.reviewer_for(department)


def _file(factory: Factory, cr: ChangeRequest, on: dt.date, **kwargs: Any) -> ChangeRequest:
    at(on)
    return cr_service.file_change_request(factory.session, _admin(factory, cr), cr.id, **kwargs)


def _proposed(factory: Factory, resource: Resource, **changes: Any) -> ResourceFields:
    loaded = factory.session.get(Resource, resource.id)
    assert loaded is not None
    current = catalog.fields_of(factory.session, catalog.get_resource(factory.session, Actor.system(), resource.id))
    return ResourceFields.model_validate(current.model_dump() | changes)


# --- A17.1: the filing clock ---------------------------------------------------------------------


@pytest.mark.article("A17.1")
def test_filed_within_ten_working_days_is_on_time(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    # 9-22,23,24 · (中秋 9-25..27) · 9-28,29,30 · (国庆 10-01..07) · 10-08,09, 10-10 (Sat, 调休), 10-12
    assert cr.filing_due == D(2026, 10, 12)
    assert cr.filing_due_original == D(2026, 10, 12)
    assert cr.filing_due_provisional is False
    assert cr.status == "open"
    assert cr.authority_region_id == resource.reviewing_region_id
    assert cr.proposed["name"] == resource.name  # prefilled with the published content
    filed = _file(factory, cr, D(2026, 10, 12), proposed=_proposed(factory, resource, summary="职能划转后的办件信息"))
    assert filed.status == "filed"
    assert filed.filed_on == D(2026, 10, 12)
    assert filed.filed_late is False
    # decision clock: 10 working days after filing
    assert filed.decision_due == D(2026, 10, 26)
    assert _actions(session, cr) == ["catalog.change_request.opened", "catalog.change_request.filed"]


@pytest.mark.article("A17.1")
def test_filed_on_working_day_eleven_is_accepted_and_flagged(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 21), on=D(2026, 9, 21))
    assert cr.id not in [c.id for c in cr_service.overdue_change_requests(session, D(2026, 10, 12))]
    assert cr.id in [c.id for c in cr_service.overdue_change_requests(session, D(2026, 10, 13))]
    filed = _file(factory, cr, D(2026, 10, 13))  # working day 11
    assert filed.status == "filed"
    assert filed.filed_late is True
    audit_after = session.execute(
        select(AuditRecord.after).where(
            AuditRecord.object_id == str(cr.id), AuditRecord.action == "catalog.change_request.filed"
        )
    ).scalar_one()
    assert audit_after["filed_late"] is True


@pytest.mark.article("A17.1")
def test_a_trigger_long_past_opens_already_overdue_and_files_late(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 1), on=D(2026, 10, 20))
    assert cr.filing_due == D(2026, 9, 15)
    assert cr_service.awaiting(session, _admin(factory, cr)).late == [cr]
    assert _file(factory, cr, D(2026, 10, 20)).filed_late is True


def test_open_only_on_own_published_resource_and_once(factory: Factory, session: Session) -> None:
    dept = factory.department()
    at(D(2026, 9, 1))
    draft = factory.resource(dept)
    with pytest.raises(InvalidTransition):
        _open(factory, draft, trigger_date=D(2026, 9, 21))
    resource = _published(factory, dept)
    other = factory.department()
    with pytest.raises(Forbidden) as exc:
        _open(factory, resource, trigger_date=D(2026, 9, 21), actor=factory.compiler(other))
    assert exc.value.code == "not_provider"
    with pytest.raises(Forbidden):
        _open(factory, resource, trigger_date=D(2026, 9, 21), actor=factory.role_actor(Role.dept_user, department=dept))
    at(D(2026, 9, 21))
    with pytest.raises(ValidationFailed) as invalid:
        cr_service.open_change_request(
            session,
            factory.compiler(dept),
            resource_id=resource.id,
            trigger=ChangeTrigger.law,
            trigger_date=D(2026, 9, 22),  # tomorrow
            trigger_description=" ",
        )
    assert {e.field for e in invalid.value.errors} == {"trigger_date", "trigger_description"}
    _open(factory, resource, trigger_date=D(2026, 9, 21))
    with pytest.raises(Conflict) as pending:
        _open(factory, resource, trigger_date=D(2026, 9, 21))
    assert pending.value.code == "change_request_pending"


def test_filing_validates_the_proposed_content(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 21))
    with pytest.raises(ValidationFailed) as exc:
        _file(factory, cr, D(2026, 9, 22), proposed=_proposed(factory, resource, share_type="none", share_basis="不宜"))
    assert [e.field for e in exc.value.errors] == ["share_basis"]
    with pytest.raises(ValidationFailed) as classified:
        _file(factory, cr, D(2026, 9, 22), proposed=_proposed(factory, resource, classified=True))
    assert classified.value.code == "classified_refused"
    session.refresh(cr)
    assert cr.status == "open" and cr.filed_on is None
    # editing the proposal is checked by the same rules, allowed before filing and audited
    at(D(2026, 9, 22))
    with pytest.raises(ValidationFailed):
        cr_service.update_proposed(
            session, _admin(factory, cr), cr.id, proposed=_proposed(factory, resource, classified=True)
        )
    cr_service.update_proposed(
        session, _admin(factory, cr), cr.id, proposed=_proposed(factory, resource, scenario="新的应用场景")
    )
    filed = _file(factory, cr, D(2026, 9, 23))
    assert filed.proposed["scenario"] == "新的应用场景"
    with pytest.raises(InvalidTransition):
        cr_service.update_proposed(session, _admin(factory, cr), cr.id, proposed=_proposed(factory, resource))
    assert "catalog.change_request.proposal_updated" in _actions(session, cr)


# --- A17.2: one extension, only with consent -------------------------------------------------------


@pytest.mark.article("A17.2")
@pytest.mark.parametrize(
    ("days", "due"),
    [
        (5, D(2026, 10, 10)),  # 9-29, 9-30, (国庆), 10-08, 10-09, 10-10 (Sat, 调休上班)
        (20, D(2026, 10, 30)),
    ],
)
def test_granted_extension_moves_the_due_date_across_national_day(
    factory: Factory, session: Session, days: int, due: dt.date
) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 14), on=D(2026, 9, 15))
    # 9-15..18, 9-20 (Sun, 调休上班), 9-21..24, (中秋 9-25..27), 9-28
    assert cr.filing_due == D(2026, 9, 28)
    at(D(2026, 9, 22))
    cr_service.request_extension(
        session, _admin(factory, cr), cr.id, days=days, reason="机构改革涉及多个处室,需重新梳理信息项"
    )
    assert cr.extension_status == "requested"
    assert cr.filing_due == D(2026, 9, 28)  # asking changes nothing
    at(D(2026, 9, 23))
    decided = cr_service.decide_extension(session, _reviewer(factory, cr), cr.id, grant=True, comment="同意延期")
    assert decided.extension_status == "granted"
    assert decided.extension_days == days
    assert decided.filing_due == due
    assert decided.filing_due_original == D(2026, 9, 28)
    assert decided.filing_due_provisional is False
    filed = _file(factory, cr, due)
    assert filed.filed_late is False
    assert _actions(session, cr) == [
        "catalog.change_request.opened",
        "catalog.change_request.extension_requested",
        "catalog.change_request.extension_decided",
        "catalog.change_request.filed",
    ]


@pytest.mark.article("A17.2")
def test_authority_may_grant_fewer_days_but_not_more(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 14), on=D(2026, 9, 15))
    cr_service.request_extension(session, _admin(factory, cr), cr.id, days=5, reason="需要征求上级部门意见")
    with pytest.raises(ValidationFailed):
        cr_service.decide_extension(session, _reviewer(factory, cr), cr.id, grant=True, days=6)
    decided = cr_service.decide_extension(session, _reviewer(factory, cr), cr.id, grant=True, days=2)
    assert decided.extension_days == 2
    assert decided.filing_due == D(2026, 9, 30)


@pytest.mark.article("A17.2")
def test_pending_extension_changes_nothing_and_late_filing_is_flagged(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 14), on=D(2026, 9, 15))
    cr_service.request_extension(session, _admin(factory, cr), cr.id, days=20, reason="需要征求上级部门意见")
    # filing after the unchanged due date, "counting on" an extension nobody consented to
    filed = _file(factory, cr, D(2026, 9, 29))
    assert filed.filing_due == D(2026, 9, 28)
    assert filed.extension_status == "requested"
    assert filed.filed_late is True
    # once filed, the extension can no longer be decided
    with pytest.raises(InvalidTransition):
        cr_service.decide_extension(session, _reviewer(factory, cr), cr.id, grant=True)


@pytest.mark.article("A17.2")
def test_refused_extension_leaves_the_due_date(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 14), on=D(2026, 9, 15))
    cr_service.request_extension(session, _admin(factory, cr), cr.id, days=10, reason="需要征求上级部门意见")
    with pytest.raises(ValidationFailed):  # a refusal states its reason
        cr_service.decide_extension(session, _reviewer(factory, cr), cr.id, grant=False)
    refused = cr_service.decide_extension(
        session, _reviewer(factory, cr), cr.id, grant=False, comment="理由不充分,请按期报送"
    )
    assert refused.extension_status == "refused"
    assert refused.filing_due == D(2026, 9, 28)
    assert _file(factory, cr, D(2026, 10, 8)).filed_late is True


@pytest.mark.article("A17.2")
def test_only_one_extension_of_at_most_twenty_days(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 14), on=D(2026, 9, 15))
    admin = _admin(factory, cr)
    for days in (0, 21):
        with pytest.raises(ValidationFailed):
            cr_service.request_extension(session, admin, cr.id, days=days, reason="原因")
    with pytest.raises(ValidationFailed):
        cr_service.request_extension(session, admin, cr.id, days=5, reason="  ")
    cr_service.request_extension(session, admin, cr.id, days=5, reason="原因")
    with pytest.raises(InvalidTransition):  # a second request while the first is pending
        cr_service.request_extension(session, admin, cr.id, days=5, reason="再次申请")
    cr_service.decide_extension(session, _reviewer(factory, cr), cr.id, grant=True)
    with pytest.raises(InvalidTransition) as second:  # and after it was granted
        cr_service.request_extension(session, admin, cr.id, days=5, reason="再次申请")
    assert second.value.code == "extension_already_requested"
    assert cr.filing_due == D(2026, 10, 10)
    # a refused extension is the one extension too
    other = _open(factory, _published(factory), trigger_date=D(2026, 9, 14), on=D(2026, 9, 15))
    cr_service.request_extension(session, _admin(factory, other), other.id, days=5, reason="原因")
    cr_service.decide_extension(session, _reviewer(factory, other), other.id, grant=False, comment="不同意")
    with pytest.raises(InvalidTransition):
        cr_service.request_extension(session, _admin(factory, other), other.id, days=5, reason="再次申请")


@pytest.mark.article("A17.2")
def test_the_department_cannot_consent_to_its_own_extension(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 14), on=D(2026, 9, 15))
    admin = _admin(factory, cr)
    cr_service.request_extension(session, admin, cr.id, days=20, reason="原因")
    with pytest.raises(Forbidden):
        cr_service.decide_extension(session, admin, cr.id, grant=True)
    assert cr.filing_due == D(2026, 9, 28)
    assert cr.extension_status == "requested"


# --- A17.3: the decision clock, the authority, the outcome ----------------------------------------


@pytest.mark.article("A17.3")
def test_decision_on_working_day_eleven_after_filing_is_flagged_late(factory: Factory, session: Session) -> None:
    on_time = _open(factory, _published(factory), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    late = _open(factory, _published(factory), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    for cr in (on_time, late):
        _file(factory, cr, D(2026, 9, 30))
        # 10-08, 10-09, 10-10 (Sat), 10-12..16, 10-19, 10-20
        assert cr.decision_due == D(2026, 10, 20)
    assert [c.id for c in cr_service.overdue_change_requests(session, D(2026, 10, 21))] == [on_time.id, late.id]
    at(D(2026, 10, 20))
    decided = cr_service.decide_change_request(session, _reviewer(factory, on_time), on_time.id, approve=True)
    assert decided.decided_late is False
    at(D(2026, 10, 21))
    flagged = cr_service.decide_change_request(
        session, _reviewer(factory, late), late.id, approve=False, comment="拟变更内容与职责调整不符"
    )
    assert flagged.status == "rejected"
    assert flagged.decided_late is True
    assert flagged.decided_on == D(2026, 10, 21)
    assert cr_service.overdue_change_requests(session, D(2026, 10, 21)) == []


@pytest.mark.article("A17.3")
@pytest.mark.article("A15.2")
def test_reviewer_of_another_region_is_refused(factory: Factory, session: Session) -> None:
    county = factory.department(region="榆中县")
    cr = _open(factory, _published(factory, county), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    assert cr.authority_region_id == factory.region("榆中县").id
    _file(factory, cr, D(2026, 9, 23))
    strangers = [
        factory.role_actor(Role.region_reviewer, region="皋兰县"),
        factory.role_actor(Role.bureau_reviewer),  # the bureau does not decide a county's catalog
        factory.role_actor(Role.bureau_admin),
        factory.role_actor(Role.auditor),
    ]
    for stranger in strangers:
        with pytest.raises(Forbidden):
            cr_service.decide_change_request(session, stranger, cr.id, approve=True)
    assert cr.status == "filed"
    own = factory.role_actor(Role.region_reviewer, region="榆中县")
    assert cr_service.decide_change_request(session, own, cr.id, approve=True).status == "approved"

    city_cr = _open(factory, _published(factory), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    city_cr = _file(factory, city_cr, D(2026, 9, 23))
    with pytest.raises(Forbidden) as exc:
        cr_service.decide_change_request(session, own, city_cr.id, approve=True)
    assert exc.value.code == "not_responsible_authority"


@pytest.mark.article("A17.3")
def test_approval_publishes_a_new_version_linked_to_the_request(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    assert resource.published_version == 1
    cr = _open(factory, resource, trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    items = [DataItemIn(name="办件编号", data_type="C"), DataItemIn(name="办结日期", data_type="D")]
    items.append(DataItemIn(name="承办机构", data_type="C", length=100))
    proposed = _proposed(factory, resource, name=resource.name + "(机构改革后)", items=items)
    _file(factory, cr, D(2026, 9, 23), proposed=proposed)
    view = cr_service.get_change_request(session, _reviewer(factory, cr), cr.id)
    assert [c.field for c in view.field_changes] == ["name"]
    assert [(c.name, c.change) for c in view.item_changes] == [("承办机构", "added")]
    assert view.can_decide and not view.can_file
    at(D(2026, 9, 24))
    cr_service.decide_change_request(session, _reviewer(factory, cr), cr.id, approve=True, comment="同意")
    session.refresh(resource)
    assert cr.status == "approved" and cr.decided_late is False
    assert resource.status == "published"
    assert resource.published_version == 2
    assert resource.name.endswith("(机构改革后)")
    version = session.execute(
        select(ResourceVersion).where(ResourceVersion.resource_id == resource.id, ResourceVersion.number == 2)
    ).scalar_one()
    assert version.change_request_id == cr.id
    assert [i["name"] for i in version.snapshot["items"]] == ["办件编号", "办结日期", "承办机构"]
    assert _actions(session, cr)[-1] == "catalog.change_request.approved"
    # the resource may be changed again: a new request can be opened now
    assert _open(factory, resource, trigger_date=D(2026, 9, 24)).status == "open"


@pytest.mark.article("A17.3")
def test_rejection_needs_a_comment_and_publishes_nothing(factory: Factory, session: Session) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    _file(factory, cr, D(2026, 9, 23), proposed=_proposed(factory, resource, summary="新摘要"))
    with pytest.raises(ValidationFailed):
        cr_service.decide_change_request(session, _reviewer(factory, cr), cr.id, approve=False, comment=" ")
    rejected = cr_service.decide_change_request(
        session, _reviewer(factory, cr), cr.id, approve=False, comment="请补充法规依据"
    )
    assert rejected.status == "rejected" and rejected.decision_comment == "请补充法规依据"
    session.refresh(resource)
    assert resource.published_version == 1 and resource.summary != "新摘要"
    with pytest.raises(InvalidTransition):
        cr_service.decide_change_request(session, _reviewer(factory, cr), cr.id, approve=True)


def test_a_decision_on_a_stale_copy_loses(factory: Factory, session: Session) -> None:
    cr = _open(factory, _published(factory), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    _file(factory, cr, D(2026, 9, 23))
    seen = cr.version
    cr_service.decide_change_request(
        session, _reviewer(factory, cr), cr.id, approve=False, comment="退回", expected_version=seen
    )
    with pytest.raises(Conflict):
        cr_service.decide_change_request(session, _reviewer(factory, cr), cr.id, approve=True, expected_version=seen)
    # and the transition table refuses a decision on a request that is no longer filed
    with pytest.raises(InvalidTransition):
        cr_service.decide_change_request(session, _reviewer(factory, cr), cr.id, approve=True)


# --- visibility, lists and the provisional clock -----------------------------------------------------


def test_visibility_department_authority_auditor_and_bureau_admin(factory: Factory, session: Session) -> None:
    county = factory.department(region="榆中县")
    cr = _open(factory, _published(factory, county), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    readers = [
        factory.compiler(county),
        factory.role_actor(Role.dept_user, department=county),
        factory.role_actor(Role.region_reviewer, region="榆中县"),
        factory.role_actor(Role.auditor),
        factory.role_actor(Role.bureau_admin),
    ]
    for reader in readers:
        assert cr_service.get_change_request(session, reader, cr.id).request.id == cr.id
        assert cr.id in [r.request.id for r in cr_service.list_change_requests(session, reader)]
    outsiders = [
        factory.compiler(factory.department()),
        factory.role_actor(Role.region_reviewer, region="皋兰县"),
        factory.role_actor(Role.bureau_reviewer),
    ]
    for outsider in outsiders:
        with pytest.raises(NotFound):
            cr_service.get_change_request(session, outsider, cr.id)
        assert cr.id not in [r.request.id for r in cr_service.list_change_requests(session, outsider)]
    with pytest.raises(NotFound):  # another department cannot file it either
        cr_service.file_change_request(session, factory.compiler(factory.department()), cr.id)


def test_reviewer_queue_and_dashboard_counts(factory: Factory, session: Session) -> None:
    dept = factory.department()
    filed = _open(factory, _published(factory, dept), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    _file(factory, filed, D(2026, 9, 23))
    asking = _open(factory, _published(factory, dept), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    cr_service.request_extension(session, _admin(factory, asking), asking.id, days=3, reason="原因")
    quiet = _open(factory, _published(factory, dept), trigger_date=D(2026, 9, 21), on=D(2026, 9, 22))
    reviewer = factory.reviewer_for(dept)
    queue = [r.request.id for r in cr_service.list_change_requests(session, reviewer, scope=ListScope.to_decide)]
    assert filed.id in queue and asking.id in queue and quiet.id not in queue
    mine = [
        r.request.id for r in cr_service.list_change_requests(session, factory.compiler(dept), scope=ListScope.mine)
    ]
    assert sorted(mine) == sorted([filed.id, asking.id, quiet.id])
    rows = cr_service.list_change_requests(session, factory.compiler(dept), scope=ListScope.mine)
    quiet_row = next(r for r in rows if r.request.id == quiet.id)
    assert quiet_row.filing_clock.due == D(2026, 10, 12)
    assert quiet_row.filing_clock.remaining > 0 and not quiet_row.filing_clock.overdue
    waiting = cr_service.awaiting(session, reviewer, D(2026, 9, 23))
    assert filed in waiting.to_decide and asking in waiting.extensions_to_decide
    own = cr_service.awaiting(session, factory.compiler(dept), D(2026, 10, 13))
    assert {c.id for c in own.to_file} == {asking.id, quiet.id}
    assert {c.id for c in own.late} == {asking.id, quiet.id}


@pytest.mark.article("A17.1")
def test_clock_into_an_unknown_year_is_provisional_and_recomputed_when_loaded(
    factory: Factory, session: Session
) -> None:
    resource = _published(factory)
    cr = _open(factory, resource, trigger_date=D(2026, 12, 24), on=D(2026, 12, 24))
    # 12-25, 12-28..31, then 2027 by weekends alone: 01-01, 01-04..07
    assert cr.filing_due == D(2027, 1, 7)
    assert cr.filing_due_provisional is True
    view = cr_service.get_change_request(session, _admin(factory, cr), cr.id)
    assert view.filing_clock.provisional
    admin = factory.role_actor(Role.bureau_admin)
    calendar.load_year(
        session,
        admin,
        year=2027,
        holidays=[D(2027, 1, 1), D(2027, 1, 4)],
        workdays=[],
        source="测试:2027 年节假日安排",
    )
    session.refresh(cr)
    assert cr.filing_due == D(2027, 1, 11)
    assert cr.filing_due_provisional is False
    assert _actions(session, cr)[-1] == "catalog.change_request.clock_recomputed"
