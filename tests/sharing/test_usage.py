"""Usage history (A35.1): visibility, filters, keyset pages, summaries, CSV export, the API and page."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import Resource
from govshare.catalog.repository import resource_with_items
from govshare.errors import Forbidden, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.sharing import usage
from govshare.sharing.grants import issue_grant
from govshare.sharing.models import AccessRecord, ConsumerSystem, Grant
from govshare.sharing.usage import UsageFilter
from tests.factories import Factory
from tests.helpers import sign_in

PEOPLE_ITEMS = [
    {"name": "公民身份号码", "data_type": "C", "sensitivity": "id_number", "is_basic": True},
    {"name": "姓名", "data_type": "C", "sensitivity": "person_name", "is_basic": True},
    {"name": "联系电话", "data_type": "C", "sensitivity": "phone"},
    {"name": "户籍地址", "data_type": "C", "sensitivity": "address"},
]


@dataclass
class World:
    police: Department  # provider, city
    civil: Department  # consumer, city
    health: Department  # consumer, city
    county: Department  # provider in 皋兰县
    other: Department  # unrelated
    people: Resource
    county_res: Resource
    grant: Grant
    system: ConsumerSystem


def _with_items(session: Session, resource: Resource) -> Resource:
    loaded = resource_with_items(session, resource.id)
    assert loaded is not None
    return loaded


def _system(session: Session, department: Department, name: str) -> ConsumerSystem:
    system = ConsumerSystem(
        department_id=department.id, name=name, app_key=f"gsk_{name}_{department.id}", secret_encrypted="x"
    )
    session.add(system)
    session.flush()
    return system


def _record(session: Session, w: World, resource: Resource, consumer: Department, **kw: object) -> AccessRecord:
    values: dict[str, object] = {
        "kind": "rows",
        "resource_id": resource.id,
        "provider_id": resource.provider_id,
        "consumer_department_id": consumer.id,
        "purpose": "社会救助对象资格审核",
        "data_item_ids": [resource.items[0].id, resource.items[1].id] if resource.items else [],
        "row_count": 100,
    }
    values.update(kw)
    rec = AccessRecord(**values)
    session.add(rec)
    session.flush()
    return rec


@pytest.fixture
def world(factory: Factory, session: Session) -> World:
    police = factory.department("兰州市公安局")
    civil = factory.department("兰州市民政局")
    health = factory.department("兰州市卫生健康委员会")
    county = factory.department("皋兰县公安分局", region="皋兰县")
    other = factory.department("兰州市体育局")
    people = _with_items(
        session,
        factory.published_resource(
            police,
            name="户籍人口基本信息",
            share_type="conditional",
            share_condition="仅限履行法定职责使用",
            items=PEOPLE_ITEMS,
        ),
    )
    county_res = _with_items(session, factory.published_resource(county, name="皋兰县暂住人口信息", items=PEOPLE_ITEMS))
    system = _system(session, civil, "民政救助系统")
    grant = issue_grant(
        session,
        Actor.system(),
        resource_id=people.id,
        consumer_department_id=civil.id,
        data_item_ids=[people.items[0].id, people.items[1].id],
        purpose="社会救助对象资格审核",
        valid_from=dt.date(2026, 1, 1),
        valid_until=dt.date(2027, 12, 31),
        system_ids=[system.id],
    )
    return World(police, civil, health, county, other, people, county_res, grant, system)


def _ids(session: Session, actor: Actor, f: UsageFilter | None = None) -> list[int]:
    page = usage.search(session, actor, f or UsageFilter(), limit=500)
    return [row.record.id for row in page.items]


@pytest.mark.article("A35.1")
def test_each_side_sees_only_its_own_history(factory: Factory, session: Session, world: World) -> None:
    w = world
    civil_read = _record(session, w, w.people, w.civil, grant_id=w.grant.id, consumer_system_id=w.system.id)
    health_read = _record(session, w, w.people, w.health, kind="verify", row_count=0)
    county_read = _record(session, w, w.county_res, w.civil, kind="export", row_count=12)
    everything = {civil_read.id, health_read.id, county_read.id}

    provider = factory.role_actor(Role.dept_admin, department=w.police)
    consumer = factory.role_actor(Role.dept_admin, department=w.civil)
    unrelated = factory.role_actor(Role.dept_admin, department=w.other)
    county_reviewer = factory.role_actor(Role.region_reviewer, department=w.county, region="皋兰县")
    bureau = factory.role_actor(Role.bureau_reviewer)
    auditor = factory.role_actor(Role.auditor)

    assert set(_ids(session, provider)) == {civil_read.id, health_read.id}
    assert set(_ids(session, consumer)) == {civil_read.id, county_read.id}
    assert _ids(session, unrelated) == []
    assert set(_ids(session, county_reviewer)) == {county_read.id}
    assert everything <= set(_ids(session, bureau))
    assert everything <= set(_ids(session, auditor))
    # a department's ordinary staff hold no usage_read; the system administrator neither
    with pytest.raises(Forbidden):
        usage.search(session, factory.role_actor(Role.dept_user, department=w.civil), UsageFilter())
    with pytest.raises(Forbidden):
        usage.search(session, factory.role_actor(Role.bureau_admin), UsageFilter())
    # the filter form only offers what the actor can see
    options = usage.filter_options(session, unrelated)
    assert options.resources == [] and options.departments == [] and options.systems == []


@pytest.mark.article("A35.1")
def test_rows_name_who_read_what_when_and_why(factory: Factory, session: Session, world: World) -> None:
    w = world
    clock.set_now(dt.datetime(2026, 11, 20, 9, 30))
    _record(session, w, w.people, w.civil, grant_id=w.grant.id, consumer_system_id=w.system.id, request_id="req-1")
    auditor = factory.role_actor(Role.auditor)
    (row,) = usage.search(session, auditor, UsageFilter(resource_id=w.people.id)).items
    assert row.kind_label == "接口读取"
    assert row.resource_name == "户籍人口基本信息" and row.resource_code == w.people.code
    assert row.provider_name == "兰州市公安局" and row.consumer_name == "兰州市民政局"
    assert row.system_name == "民政救助系统"
    assert row.item_names == ["公民身份号码", "姓名"]
    assert row.record.purpose == "社会救助对象资格审核" and row.record.row_count == 100
    assert row.record.at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)


@pytest.mark.article("A35.1")
def test_filters_by_period_resource_consumer_grant_system_and_kind(
    factory: Factory, session: Session, world: World
) -> None:
    w = world
    clock.set_now(dt.datetime(2026, 11, 2, 23, 50))  # Beijing time: still 2 November
    early = _record(session, w, w.people, w.civil, grant_id=w.grant.id, consumer_system_id=w.system.id)
    clock.set_now(dt.datetime(2026, 11, 3, 0, 10))
    verify = _record(session, w, w.people, w.health, kind="verify", row_count=0)
    clock.set_now(dt.datetime(2026, 11, 5, 8, 0))
    county = _record(session, w, w.county_res, w.civil, kind="export")
    auditor = factory.role_actor(Role.auditor)

    def ids(**kw: object) -> set[int]:
        return set(_ids(session, auditor, UsageFilter(**kw)))  # type: ignore[arg-type]

    assert ids(until=dt.date(2026, 11, 2)) >= {early.id} and verify.id not in ids(until=dt.date(2026, 11, 2))
    assert ids(since=dt.date(2026, 11, 3), until=dt.date(2026, 11, 3)) == {verify.id}
    assert ids(resource_id=w.county_res.id) == {county.id}
    assert ids(consumer_department_id=w.health.id) == {verify.id}
    assert ids(grant_id=w.grant.id) == {early.id}
    assert ids(consumer_system_id=w.system.id) == {early.id}
    assert ids(kind="export") >= {county.id} and early.id not in ids(kind="export")
    assert ids(provider_id=w.county.id) == {county.id}
    with pytest.raises(ValidationFailed):
        usage.search(session, auditor, UsageFilter(kind="peek"))
    with pytest.raises(ValidationFailed):
        usage.search(session, auditor, UsageFilter(since=dt.date(2026, 11, 5), until=dt.date(2026, 11, 1)))


def test_keyset_pages_walk_both_ways(factory: Factory, session: Session, world: World) -> None:
    w = world
    made = [_record(session, w, w.people, w.civil, grant_id=w.grant.id).id for _ in range(7)]
    provider = factory.role_actor(Role.dept_admin, department=w.police)
    f = UsageFilter(grant_id=w.grant.id)
    first = usage.search(session, provider, f, limit=3)
    assert [r.record.id for r in first.items] == made[::-1][:3]
    assert first.newer_cursor is None and first.older_cursor == made[4]
    second = usage.search(session, provider, f, before=first.older_cursor, limit=3)
    assert [r.record.id for r in second.items] == made[::-1][3:6]
    third = usage.search(session, provider, f, before=second.older_cursor, limit=3)
    assert [r.record.id for r in third.items] == [made[0]] and third.older_cursor is None
    back = usage.search(session, provider, f, after=second.newer_cursor, limit=3)
    assert [r.record.id for r in back.items] == made[::-1][:3] and back.newer_cursor is None


@pytest.mark.article("A35.1")
def test_summaries_per_resource_consumer_grant_and_system(factory: Factory, session: Session, world: World) -> None:
    w = world
    for _ in range(3):
        _record(session, w, w.people, w.civil, grant_id=w.grant.id, consumer_system_id=w.system.id, row_count=100)
    _record(session, w, w.people, w.health, kind="verify", row_count=0)
    provider = factory.role_actor(Role.dept_admin, department=w.police)
    f = UsageFilter(resource_id=w.people.id)
    by_consumer = usage.summary(session, provider, f, by="consumer")
    assert [(g.label, g.reads, g.rows) for g in by_consumer] == [
        ("兰州市民政局", 3, 300),
        ("兰州市卫生健康委员会", 1, 0),
    ]
    assert by_consumer[0].last_at is not None and by_consumer[0].last_at.tzinfo is not None
    by_grant = usage.summary(session, provider, f, by="grant")
    assert [(g.key, g.reads) for g in by_grant] == [(w.grant.id, 3), (None, 1)]
    assert by_grant[1].label == "无条件共享(无需授权)"
    by_system = usage.summary(session, provider, f, by="system")
    assert [(g.label, g.reads) for g in by_system] == [("民政救助系统", 3), ("人员操作(非应用系统)", 1)]
    (by_resource,) = usage.summary(session, provider, f, by="resource")
    assert by_resource.label == f"户籍人口基本信息({w.people.code})" and by_resource.reads == 4
    unrelated = factory.role_actor(Role.dept_admin, department=w.other)
    assert usage.summary(session, unrelated, f, by="consumer") == []
    with pytest.raises(ValidationFailed):
        usage.summary(session, provider, f, by="password")


def _signed_in(client: TestClient, session: Session, factory: Factory, role: Role, department: Department) -> None:
    sign_in(client, session, factory.user(role, department=department))


@pytest.mark.article("A35.1")
def test_api_lists_and_exports_csv_with_the_export_audited(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    w = world
    _record(session, w, w.people, w.civil, grant_id=w.grant.id, consumer_system_id=w.system.id)
    _record(session, w, w.people, w.health, kind="verify", row_count=0, purpose='=HYPERLINK("http://x")')
    _record(session, w, w.county_res, w.civil, kind="export")
    _signed_in(client, session, factory, Role.dept_admin, w.police)

    r = client.get("/api/v1/sharing/usage", params={"limit": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["items"]) == 1 and body["older_cursor"] is not None
    assert body["items"][0]["consumer_name"] == "兰州市卫生健康委员会"
    r = client.get("/api/v1/sharing/usage", params={"before": body["older_cursor"]})
    assert [i["consumer_name"] for i in r.json()["items"]] == ["兰州市民政局"]
    assert r.json()["items"][0]["data_item_names"] == ["公民身份号码", "姓名"]

    r = client.get("/api/v1/sharing/usage/summary", params={"by": "consumer"})
    assert {g["label"]: g["reads"] for g in r.json()} == {"兰州市民政局": 1, "兰州市卫生健康委员会": 1}

    r = client.get("/api/v1/sharing/usage", params={"kind": "nope"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")

    r = client.get("/api/v1/sharing/usage/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["记录号", "时间(北京时间)", "使用方式"]
    assert len(rows) == 3  # the county's record is not the provider's
    purposes = [row[10] for row in rows[1:]]
    assert purposes[1].startswith("'=HYPERLINK")  # formula injection defused
    assert rows[1][11] == "公民身份号码、姓名"
    exported = session.execute(
        select(AuditRecord).where(AuditRecord.action == "sharing.usage.exported").order_by(AuditRecord.seq.desc())
    ).scalar()
    assert exported is not None and exported.object_type == "usage_history"


def test_people_without_usage_read_are_refused(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    _signed_in(client, session, factory, Role.dept_user, world.civil)
    assert client.get("/api/v1/sharing/usage").status_code == 403
    assert client.get("/api/v1/sharing/usage/export.csv").status_code == 403


@pytest.mark.article("A35.1")
def test_the_page_shows_the_history_and_a_summary(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    w = world
    _record(session, w, w.people, w.civil, grant_id=w.grant.id, consumer_system_id=w.system.id)
    _signed_in(client, session, factory, Role.dept_admin, w.civil)
    r = client.get("/sharing/usage")
    assert r.status_code == 200, r.text
    assert "户籍人口基本信息" in r.text and "民政救助系统" in r.text and "公民身份号码、姓名" in r.text
    assert 'href="/sharing/usage"' in r.text  # the nav link
    r = client.get("/sharing/usage", params={"by": "grant", "resource_id": w.people.id})
    assert r.status_code == 200 and f"授权 #{w.grant.id}" in r.text
    # another department's administrator sees an empty history
    other = TestClient(client.app, base_url="http://testserver")
    sign_in(other, session, factory.user(Role.dept_admin, department=w.other))
    r = other.get("/sharing/usage")
    assert r.status_code == 200 and "户籍人口基本信息" not in r.text and "没有符合条件的记录" in r.text
