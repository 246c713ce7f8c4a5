from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog import service
from govshare.catalog.models import Classification, DataItem, Resource, ResourceVersion, ReviewDecision
from govshare.catalog.schemas import (
    ConfidentialityReviewIn,
    DataItemIn,
    ResourceFields,
    ReviewDecisionIn,
)
from govshare.db import Database
from govshare.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory
from tests.own_database import own_platform_database

APPROVE = ReviewDecisionIn(decision="approved", comment="同意")


def _actions(session: Session, resource_id: int) -> list[str]:
    return list(
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == "resource", AuditRecord.object_id == str(resource_id))
            .order_by(AuditRecord.seq)
        ).scalars()
    )


def _review(session: Session, actor: Actor, resource_id: int, result: str = "passed") -> None:
    service.record_confidentiality_review(
        session,
        actor,
        resource_id,
        ConfidentialityReviewIn(
            reviewer_name="王审查", reviewed_on=clock.today(), result=result, note="" if result == "passed" else "涉密"
        ),
    )


def _edit(factory: Factory, resource: Resource, **changes: object) -> ResourceFields:
    current = service.fields_of(factory.session, resource)
    return ResourceFields.model_validate(current.model_dump() | changes)


# --- compiling -------------------------------------------------------------------------------


@pytest.mark.article("A5.1")
@pytest.mark.article("A11.1")
def test_new_resource_is_a_draft_shared_unconditionally_by_default(factory: Factory, session: Session) -> None:
    dept = factory.department()
    data = factory.resource_fields()
    assert "share_type" not in data.model_fields_set  # the provider said nothing about sharing
    resource = service.create_resource(session, factory.compiler(dept), data)
    assert resource.status == "draft"
    assert resource.share_type == "unconditional"
    assert resource.provider_id == dept.id
    assert resource.revision == 1 and resource.published_version == 0
    assert [i.name for i in resource.items] == ["办件编号", "办结日期"]
    assert _actions(session, resource.id) == ["catalog.resource.created"]


@pytest.mark.article("A13.1")
def test_code_is_classification_code_plus_sequence_never_reused(factory: Factory, session: Session) -> None:
    dept = factory.department()
    first = factory.resource(dept, classification_code="101")
    second = factory.resource(dept, classification_code="101")
    other = factory.resource(dept, classification_code="205")
    assert re.fullmatch(r"101/\d{6}", first.code)
    assert re.fullmatch(r"205/\d{6}", other.code)
    assert int(second.code[-6:]) == int(first.code[-6:]) + 1
    # re-classifying a draft takes a fresh code under the new class; the old one is not handed out again
    old_code = first.code
    service.update_resource(session, factory.compiler(dept), first.id, _edit(factory, first, classification_code="102"))
    assert first.code.startswith("102/")
    third = factory.resource(dept, classification_code="101")
    assert third.code not in (old_code, second.code)
    assert int(third.code[-6:]) == int(second.code[-6:]) + 1


def test_bureau_admin_and_other_departments_cannot_compile(factory: Factory, session: Session) -> None:
    dept = factory.department()
    other = factory.department()
    admin = factory.role_actor(Role.bureau_admin)
    with pytest.raises(Forbidden):
        service.create_resource(session, admin, factory.resource_fields(), provider_id=dept.id)
    with pytest.raises(Forbidden) as exc:
        service.create_resource(session, factory.compiler(other), factory.resource_fields(), provider_id=dept.id)
    assert exc.value.code == "not_own_department"
    user = factory.role_actor(Role.dept_user, department=dept)
    with pytest.raises(Forbidden):
        service.create_resource(session, user, factory.resource_fields())


def test_only_system_may_keep_an_imported_code(factory: Factory, session: Session, system: Actor) -> None:
    dept = factory.department()
    with pytest.raises(Forbidden):
        service.create_resource(
            session, factory.compiler(dept), factory.resource_fields(classification_code="104"), code="104/000900"
        )
    imported = service.create_resource(
        session, system, factory.resource_fields(classification_code="104"), provider_id=dept.id, code="104/000900"
    )
    assert imported.code == "104/000900"
    after = factory.resource(dept, classification_code="104")
    assert int(after.code[-6:]) > 900
    with pytest.raises(Conflict):
        service.create_resource(
            session, system, factory.resource_fields(classification_code="104"), provider_id=dept.id, code="104/000900"
        )
    service.publish_imported(session, system, imported.id)
    assert imported.status == "published" and imported.published_version == 1
    with pytest.raises(Forbidden):
        service.publish_imported(session, factory.compiler(dept), after.id)


@pytest.mark.article("A12.1")
def test_not_shared_without_a_cited_basis_is_refused(factory: Factory, session: Session) -> None:
    dept = factory.department()
    with pytest.raises(ValidationFailed) as exc:
        factory.resource(dept, share_type="none", share_basis="有关法律规定不能共享")
    assert [e.field for e in exc.value.errors] == ["share_basis"]
    assert "书名号" in exc.value.detail
    resource = factory.resource(dept, share_type="none", share_basis="《中华人民共和国保守国家秘密法》第九条")
    assert resource.share_type == "none"


@pytest.mark.article("A43.1")
def test_classified_resource_is_refused(factory: Factory, session: Session) -> None:
    dept = factory.department()
    before = session.execute(select(Resource.id)).scalars().all()
    with pytest.raises(ValidationFailed) as exc:
        factory.resource(dept, classified=True)
    assert exc.value.code == "classified_refused"
    assert "涉密" in exc.value.detail
    assert session.execute(select(Resource.id)).scalars().all() == before


@pytest.mark.article("A14.1")
def test_required_elements_are_enforced_on_create(factory: Factory, session: Session) -> None:
    with pytest.raises(ValidationFailed) as exc:
        factory.resource(scenario=" ", items=[])
    assert {e.field for e in exc.value.errors} == {"scenario", "items"}


def test_edit_bumps_revision_and_keeps_item_ids(factory: Factory, session: Session) -> None:
    dept = factory.department()
    resource = factory.resource(dept, items=[("姓名", "C"), ("公民身份号码", "C"), ("出生日期", "D")])
    ids = {i.name: i.id for i in resource.items}
    data = _edit(
        factory,
        resource,
        name="重命名后的资源",
        items=[
            DataItemIn(name="出生日期", data_type="D"),
            DataItemIn(name="姓名", data_type="C", length=50),
            DataItemIn(name="性别", data_type="C"),
        ],
    )
    service.update_resource(session, factory.compiler(dept), resource.id, data)
    assert resource.revision == 2 and resource.version == 2
    assert resource.name == "重命名后的资源"
    rows = session.execute(select(DataItem).where(DataItem.resource_id == resource.id)).scalars().all()
    by_name = {r.name: r for r in rows}
    assert set(by_name) == {"出生日期", "姓名", "性别"}
    assert by_name["姓名"].id == ids["姓名"] and by_name["出生日期"].id == ids["出生日期"]
    assert by_name["姓名"].length == 50
    assert [r.name for r in sorted(rows, key=lambda r: r.position)] == ["出生日期", "姓名", "性别"]
    assert _actions(session, resource.id)[-1] == "catalog.resource.updated"


@pytest.mark.article("A32.1")
def test_unchanged_save_is_not_a_new_revision(factory: Factory, session: Session) -> None:
    dept = factory.department()
    compiler = factory.compiler(dept)
    resource = factory.reviewed_resource(dept)
    service.update_resource(session, compiler, resource.id, _edit(factory, resource))
    assert (resource.revision, resource.version) == (1, 1)
    service.submit(session, compiler, resource.id)  # the 保密审查 of revision 1 still counts
    assert resource.status == "submitted"


def test_stale_edit_is_refused(factory: Factory, session: Session) -> None:
    dept = factory.department()
    resource = factory.resource(dept)
    with pytest.raises(InvalidTransition) as exc:
        service.update_resource(
            session, factory.compiler(dept), resource.id, _edit(factory, resource), expected_version=0
        )
    assert exc.value.code == "stale_version"


# --- 保密审查 and submission ------------------------------------------------------------------


@pytest.mark.article("A32.1")
def test_submission_needs_a_passed_review_of_the_current_revision(factory: Factory, session: Session) -> None:
    dept = factory.department()
    compiler = factory.compiler(dept)
    resource = factory.resource(dept)
    with pytest.raises(Conflict) as exc:
        service.submit(session, compiler, resource.id)
    assert exc.value.code == "confidentiality_review_required"
    assert resource.status == "draft"

    _review(session, compiler, resource.id, "failed")
    with pytest.raises(Conflict) as exc:
        service.submit(session, compiler, resource.id)
    assert exc.value.code == "confidentiality_review_required"
    assert "未通过" in exc.value.detail

    _review(session, compiler, resource.id)
    # an edit makes a new revision: the review of the old one no longer counts
    service.update_resource(session, compiler, resource.id, _edit(factory, resource, summary="改过的摘要"))
    with pytest.raises(Conflict):
        service.submit(session, compiler, resource.id)

    _review(session, compiler, resource.id)
    service.submit(session, compiler, resource.id)
    assert resource.status == "submitted" and resource.submitted_at is not None
    actions = _actions(session, resource.id)
    assert actions.count("catalog.resource.confidentiality_reviewed") == 3
    assert actions[-1] == "catalog.resource.submitted"


@pytest.mark.article("A32.1")
def test_review_is_recorded_with_who_when_and_result(factory: Factory, session: Session) -> None:
    dept = factory.department()
    compiler = factory.actor(factory.user(Role.dept_admin, department=dept))
    resource = factory.resource(dept)
    _review(session, compiler, resource.id)
    reviews = service.confidentiality_reviews(session, compiler, resource.id)
    assert len(reviews) == 1
    assert (reviews[0].reviewer_name, reviews[0].reviewed_on, reviews[0].result, reviews[0].revision) == (
        "王审查",
        clock.today(),
        "passed",
        1,
    )
    assert reviews[0].recorded_by_id == compiler.user_id
    with pytest.raises(ValidationFailed):
        service.record_confidentiality_review(
            session,
            compiler,
            resource.id,
            ConfidentialityReviewIn(
                reviewer_name="王审查", reviewed_on=clock.today().replace(year=2099), result="passed"
            ),
        )


# --- review and routing ----------------------------------------------------------------------


@pytest.mark.article("A15.1")
def test_returned_with_comment_then_resubmitted_and_approved(factory: Factory, session: Session) -> None:
    dept = factory.department()
    compiler = factory.compiler(dept)
    reviewer = factory.reviewer_for(dept)
    resource = factory.submitted_resource(dept)

    with pytest.raises(ValidationFailed) as exc:
        service.decide(session, reviewer, resource.id, ReviewDecisionIn(decision="returned", comment="  "))
    assert exc.value.code == "comment_required"
    service.decide(session, reviewer, resource.id, ReviewDecisionIn(decision="returned", comment="应用场景过于笼统"))
    assert resource.status == "returned"
    assert resource.published_at is None and resource.published_version == 0
    assert service.list_versions(session, compiler, resource.id) == []

    service.update_resource(
        session, compiler, resource.id, _edit(factory, resource, scenario="不动产登记时核验办件信息")
    )
    _review(session, compiler, resource.id)
    service.submit(session, compiler, resource.id)
    clock.set_now(dt.datetime(2026, 12, 1, 9, 30))
    service.decide(session, reviewer, resource.id, APPROVE)
    assert resource.status == "published"
    assert resource.published_at == clock.now()
    assert resource.published_version == 1
    decisions = session.execute(
        select(ReviewDecision.decision, ReviewDecision.comment, ReviewDecision.revision)
        .where(ReviewDecision.resource_id == resource.id)
        .order_by(ReviewDecision.id)
    ).all()
    assert [tuple(d) for d in decisions] == [("returned", "应用场景过于笼统", 1), ("approved", "同意", 2)]
    assert _actions(session, resource.id)[-1] == "catalog.resource.published"


@pytest.mark.article("A15.1")
def test_only_approved_resources_are_published(factory: Factory, session: Session) -> None:
    dept = factory.department()
    resource = factory.submitted_resource(dept)
    other_dept_user = factory.role_actor(Role.dept_user)
    with pytest.raises(NotFound):
        service.get_resource(session, other_dept_user, resource.id)
    service.decide(session, factory.reviewer_for(dept), resource.id, APPROVE)
    assert service.get_resource(session, other_dept_user, resource.id).status == "published"


@pytest.mark.article("A15.2")
def test_county_resource_goes_to_its_county_not_the_bureau(factory: Factory, session: Session) -> None:
    county_dept = factory.department(region="城关区")
    city_dept = factory.department()
    county_res = factory.submitted_resource(county_dept)
    city_res = factory.submitted_resource(city_dept)
    chengguan = factory.region("城关区")
    assert county_res.reviewing_region_id == chengguan.id
    assert city_res.reviewing_region_id == factory.region("兰州市").id

    county_reviewer = factory.role_actor(Role.region_reviewer, region="城关区")
    other_county_reviewer = factory.role_actor(Role.region_reviewer, region="七里河区")
    bureau_reviewer = factory.role_actor(Role.bureau_reviewer)

    assert [r.id for r in service.review_queue(session, county_reviewer)] == [county_res.id]
    bureau_queue = [r.id for r in service.review_queue(session, bureau_reviewer)]
    assert city_res.id in bureau_queue and county_res.id not in bureau_queue
    assert service.review_queue(session, other_county_reviewer) == []

    for outsider in (bureau_reviewer, other_county_reviewer):
        with pytest.raises(NotFound):
            service.decide(session, outsider, county_res.id, APPROVE)
    with pytest.raises(NotFound):
        service.decide(session, county_reviewer, city_res.id, APPROVE)
    assert county_res.status == "submitted"

    service.decide(session, county_reviewer, county_res.id, APPROVE)
    assert county_res.status == "published"
    # published, the bureau's reviewer can read it but still cannot act on it
    with pytest.raises(Forbidden) as exc:
        service.withdraw(session, bureau_reviewer, county_res.id, reason="重复")
    assert exc.value.code == "not_responsible_reviewer"


@pytest.mark.article("A15.1")
def test_invalid_transitions_are_refused(factory: Factory, session: Session) -> None:
    dept = factory.department()
    compiler = factory.compiler(dept)
    reviewer = factory.reviewer_for(dept)
    draft = factory.reviewed_resource(dept)
    with pytest.raises(InvalidTransition):
        service.decide(session, reviewer, draft.id, APPROVE)
    with pytest.raises(InvalidTransition):
        service.withdraw(session, reviewer, draft.id, reason="不再提供")
    service.submit(session, compiler, draft.id)
    with pytest.raises(InvalidTransition):
        service.submit(session, compiler, draft.id)
    with pytest.raises(InvalidTransition):
        service.update_resource(session, compiler, draft.id, _edit(factory, draft))
    with pytest.raises(InvalidTransition):
        _review(session, compiler, draft.id)
    service.decide(session, reviewer, draft.id, APPROVE)
    with pytest.raises(InvalidTransition) as exc:
        service.decide(session, reviewer, draft.id, APPROVE)
    assert "已发布" in exc.value.detail
    with pytest.raises(InvalidTransition):
        service.update_resource(session, compiler, draft.id, _edit(factory, draft))


def test_withdraw_by_the_authority_with_a_reason(factory: Factory, session: Session) -> None:
    dept = factory.department()
    reviewer = factory.reviewer_for(dept)
    resource = factory.published_resource(dept)
    with pytest.raises(ValidationFailed):
        service.withdraw(session, reviewer, resource.id, reason=" ")
    with pytest.raises(Forbidden):
        service.withdraw(session, factory.compiler(dept), resource.id, reason="不再提供")
    service.withdraw(session, reviewer, resource.id, reason="该数据已停止采集")
    assert resource.status == "withdrawn"
    assert _actions(session, resource.id)[-1] == "catalog.resource.withdrawn"
    outsider = factory.role_actor(Role.dept_user)
    with pytest.raises(NotFound):
        service.get_resource(session, outsider, resource.id)
    # a withdrawn resource's name may be used again
    factory.resource(factory.department(), name=resource.name)


# --- concurrency -----------------------------------------------------------------------------


def test_a_decision_on_a_stale_copy_loses(factory: Factory, session: Session) -> None:
    """Reviewer B read the resource before reviewer A's decision committed: B's UPDATE matches no row."""
    dept = factory.department()
    resource = factory.submitted_resource(dept)
    reviewer = factory.reviewer_for(dept)
    version = resource.version
    # reviewer A's decision lands in the database behind the ORM's back (another transaction)
    session.execute(
        update(Resource)
        .where(Resource.id == resource.id)
        .values(status="returned", version=version + 1)
        .execution_options(synchronize_session=False)
    )
    assert resource.status == "submitted" and resource.version == version  # B still holds the old copy
    with pytest.raises(InvalidTransition) as exc:
        service.decide(session, reviewer, resource.id, APPROVE)
    assert exc.value.code == "concurrent_update"
    assert session.execute(select(ResourceVersion).where(ResourceVersion.resource_id == resource.id)).first() is None


def test_expected_version_guards_decisions(factory: Factory, session: Session) -> None:
    dept = factory.department()
    resource = factory.submitted_resource(dept)
    reviewer = factory.reviewer_for(dept)
    seen = resource.version
    service.decide(
        session, reviewer, resource.id, ReviewDecisionIn(decision="returned", comment="补充", expected_version=seen)
    )
    with pytest.raises(InvalidTransition):
        service.decide(session, reviewer, resource.id, ReviewDecisionIn(decision="approved", expected_version=seen))


# --- versions and change requests ------------------------------------------------------------


@pytest.mark.article("A16.1")
def test_every_published_version_is_kept(factory: Factory, session: Session, system: Actor) -> None:
    dept = factory.department()
    reviewer = factory.reviewer_for(dept)
    resource = factory.published_resource(dept, items=[("姓名", "C"), ("住址", "C")])
    first_published_at = resource.published_at
    proposed = _edit(
        factory,
        resource,
        update_cycle="weekly",
        items=[DataItemIn(name="姓名", data_type="C", length=30), DataItemIn(name="联系电话", data_type="C")],
    )
    service.apply_proposed(
        session, reviewer, resource.id, proposed, change_request_id=_change_request(factory, resource)
    )
    assert resource.status == "published" and resource.published_version == 2 and resource.revision == 2
    assert resource.published_at == first_published_at
    versions = service.list_versions(session, reviewer, resource.id)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].snapshot["update_cycle"] == "daily"
    assert [i["name"] for i in versions[0].snapshot["items"]] == ["姓名", "住址"]
    assert versions[1].snapshot["update_cycle"] == "weekly"
    assert versions[1].change_request_id is not None and versions[0].change_request_id is None
    assert versions[0].snapshot["code"] == resource.code


def _change_request(factory: Factory, resource: Resource) -> int:
    from govshare.catalog.models import ChangeRequest

    cr = ChangeRequest(
        resource_id=resource.id,
        department_id=resource.provider_id,
        authority_region_id=resource.reviewing_region_id,
        trigger="duty",
        trigger_date=clock.today(),
        filing_due=clock.today(),
        status="approved",
    )
    factory.session.add(cr)
    factory.session.flush()
    return cr.id


def test_apply_proposed_is_for_the_responsible_authority_and_published_resources(
    factory: Factory, session: Session
) -> None:
    county = factory.department(region="榆中县")
    resource = factory.published_resource(county)
    cr_id = _change_request(factory, resource)
    bureau_reviewer = factory.role_actor(Role.bureau_reviewer)
    with pytest.raises(Forbidden):
        service.apply_proposed(session, bureau_reviewer, resource.id, _edit(factory, resource), change_request_id=cr_id)
    with pytest.raises(ValidationFailed):
        service.apply_proposed(
            session,
            factory.reviewer_for(county),
            resource.id,
            _edit(factory, resource, classified=True),
            change_request_id=cr_id,
        )
    draft = factory.resource(county)
    with pytest.raises(InvalidTransition):
        service.apply_proposed(
            session, factory.reviewer_for(county), draft.id, _edit(factory, draft), change_request_id=cr_id
        )


# --- duplicate collection --------------------------------------------------------------------


@pytest.mark.article("A18.1")
def test_duplicate_collection_warns_naming_the_other_department(factory: Factory, session: Session) -> None:
    police = factory.department("兰州市公安局")
    civil = factory.department("兰州市民政局")
    census = factory.published_resource(police, name="常住人口信息", items=[("公民身份号码", "C"), ("姓名", "C")])
    factory.submitted_resource(police, name="暂住人口信息", items=[("暂住地址", "C")])
    factory.resource(police, name="户籍草稿", items=[("曾用名", "C")])  # drafts are not "provided"
    resource = factory.reviewed_resource(
        civil,
        name="低保对象信息",
        items=[("公民 身份号码", "C"), ("姓名", "N"), ("暂住地址", "C"), ("曾用名", "C"), ("救助金额", "Y")],
    )
    own = factory.reviewed_resource(civil, name="民政内部名册", items=[("救助金额", "Y")])
    service.submit(session, factory.compiler(civil), own.id)

    service.submit(session, factory.compiler(civil), resource.id)  # a warning, not a refusal
    assert resource.status == "submitted"
    warnings = resource.duplicate_warnings
    assert {(w["item_name"], w["department_name"]) for w in warnings} == {
        ("公民 身份号码", "兰州市公安局"),
        ("暂住地址", "兰州市公安局"),
    }
    census_warning = next(w for w in warnings if w["item_name"] == "公民 身份号码")
    assert census_warning["resource_code"] == census.code
    assert "兰州市公安局" in census_warning["message"] and "常住人口信息" in census_warning["message"]
    # the reviewer sees them in the queue
    queue = service.review_queue(session, factory.reviewer_for(civil))
    assert next(r for r in queue if r.id == resource.id).duplicate_warnings == warnings


@pytest.mark.article("A18.1")
def test_duplicate_warnings_are_one_per_item_and_skip_generic_fields(factory: Factory, session: Session) -> None:
    police = factory.department("兰州市公安局")
    hrss = factory.department("兰州市人力资源和社会保障局")
    factory.published_resource(police, name="常住人口信息", items=[("公民身份号码", "C"), ("备注", "C")])
    factory.published_resource(police, name="暂住人口信息", items=[("公民身份号码", "C")])
    factory.published_resource(hrss, name="社保参保信息", items=[("公民身份号码", "C"), ("备注", "C")])
    mine = factory.resource(factory.department(), items=[("公民身份号码", "C"), ("备注", "C")])

    warnings = service.duplicate_warnings(session, mine)

    assert [w["item_name"] for w in warnings] == ["公民身份号码"]  # 备注 is descriptive, not collected data
    providers = {p["department_name"] for p in warnings[0]["providers"]}
    assert providers == {"兰州市公安局", "兰州市人力资源和社会保障局"}  # one entry per department
    assert "兰州市公安局" in warnings[0]["message"] and "兰州市人力资源和社会保障局" in warnings[0]["message"]


@pytest.mark.article("A18.1")
def test_duplicate_detection_is_one_query_whatever_the_item_count(factory: Factory, session: Session) -> None:
    other = factory.department()
    factory.published_resource(other, items=[(f"字段{i}", "C") for i in range(40)])
    dept = factory.department()
    small = factory.resource(dept, items=[("字段1", "C")])
    large = factory.resource(dept, items=[(f"字段{i}", "C") for i in range(40)])

    def count_queries(resource: Resource) -> tuple[int, int]:
        statements: list[str] = []

        def listener(*args: object) -> None:
            statements.append(str(args[2]))

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            warnings = service.duplicate_warnings(session, resource)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements), len(warnings)

    assert count_queries(small) == (1, 1)
    assert count_queries(large) == (1, 40)


def test_reference_classifications_exist(session: Session) -> None:
    codes = {c.code: c.name for c in session.execute(select(Classification)).scalars()}
    assert codes["1"] == "基础信息资源" and codes["101"] == "人口" and codes["105"] == "电子证照"
    assert [codes[f"2{i:02d}"] for i in range(1, 11)] == [
        "综合政务",
        "社会发展",
        "经济发展",
        "交通运行",
        "公共安全",
        "生态环保",
        "文化旅游",
        "卫生健康",
        "社会保障",
        "市场监管",
    ]
    assert codes["3"] == "部门信息资源"


# --- real concurrency: two reviewers in two transactions ---------------------------------------


@pytest.fixture
def isolated_db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, because two real transactions must commit (the usual test rolls back)."""
    with own_platform_database(database_url, tmp_path, "race") as db:
        yield db


@pytest.mark.article("A15.1")
def test_two_concurrent_decisions_exactly_one_wins(isolated_db: Database) -> None:
    with isolated_db.session_scope() as s:
        f = Factory(s)
        dept = f.department()
        resource_id = f.submitted_resource(dept).id
        reviewer = f.reviewer_for(dept)
    # On PostgreSQL both transactions read the submitted resource before either writes; the loser's
    # conditional UPDATE then matches no row. SQLite serialises whole transactions (BEGIN IMMEDIATE),
    # so there the loser reads the winner's result and the transition table refuses it.
    barrier = threading.Barrier(2) if isolated_db.url.startswith("postgres") else None
    outcomes: list[tuple[str, str]] = []

    def review(decision: str) -> None:
        try:
            with isolated_db.session_scope() as s:
                service.get_resource(s, reviewer, resource_id)
                if barrier is not None:
                    barrier.wait(timeout=20)
                service.decide(s, reviewer, resource_id, ReviewDecisionIn(decision=decision, comment="意见"))
            outcomes.append(("won", decision))
        except InvalidTransition as exc:
            outcomes.append(("lost", exc.code))

    threads = [threading.Thread(target=review, args=(d,)) for d in ("approved", "returned")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o[0] for o in outcomes) == ["lost", "won"], outcomes
    winner = next(d for kind, d in outcomes if kind == "won")
    loser_code = next(code for kind, code in outcomes if kind == "lost")
    assert loser_code == ("concurrent_update" if barrier is not None else "invalid_transition")
    with isolated_db.session_scope() as s:
        resource = s.get(Resource, resource_id)
        assert resource is not None
        assert resource.status == ("published" if winner == "approved" else "returned")
        assert resource.version == 3  # created 1 → submitted 2 → decided 3, once
        decisions = s.execute(select(ReviewDecision).where(ReviewDecision.resource_id == resource_id)).all()
        assert len(decisions) == 1
        versions = s.execute(select(ResourceVersion).where(ResourceVersion.resource_id == resource_id)).all()
        assert len(versions) == (1 if winner == "approved" else 0)
