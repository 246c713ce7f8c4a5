"""Freshness of the base (A8.2): last good sync, row count and lateness against the 更新周期, in a list
for the bureau sorted by lateness, per resource on the catalog page, and scoped by who monitors what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.exchange import freshness, runs
from govshare.exchange.models import BaseTable, Mount
from govshare.exchange.repository import FreshnessRow
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.exchange.mounting import mapping_of, people_resource
from tests.factories import Factory
from tests.helpers import sign_in

T0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


def _row(**overrides: Any) -> FreshnessRow:
    values: dict[str, Any] = {
        "resource_id": 1,
        "code": "301/000001",
        "name": "人口基本信息",
        "provider_id": 1,
        "provider_name": "市公安局",
        "update_cycle": "daily",
        "status": "published",
        "published_at": T0 - dt.timedelta(days=30),
        "last_good_sync_at": T0,
        "row_count": 10,
        "quality": None,
        "mount_id": 1,
        "mount_status": "active",
        "mount_created_at": T0 - dt.timedelta(days=30),
    }
    values.update(overrides)
    return FreshnessRow(**values)


@pytest.mark.article("A8.2")
def test_late_means_no_good_sync_within_the_cycle_plus_its_grace() -> None:
    daily = _row()
    assert freshness.assess(daily, T0 + dt.timedelta(days=2) - dt.timedelta(minutes=1)).state == "fresh"
    late = freshness.assess(daily, T0 + dt.timedelta(days=2, hours=3))
    assert late.state == "late" and late.late and late.due_at == T0 + dt.timedelta(days=2)
    assert late.late_text == "超期 3 小时" and late.state_label == "已超期"
    weekly = freshness.assess(_row(update_cycle="weekly"), T0 + dt.timedelta(days=7, hours=23))
    assert weekly.state == "fresh"
    monthly = freshness.assess(_row(update_cycle="monthly"), T0 + dt.timedelta(days=40))
    assert monthly.late and monthly.late_text == "超期 7 天"
    # never synced counts from the mount; unmounted from publication
    never = freshness.assess(_row(last_good_sync_at=None, mount_created_at=T0), T0 + dt.timedelta(days=3))
    assert never.state == "never" and never.late
    assert not freshness.assess(_row(last_good_sync_at=None, mount_created_at=T0), T0 + dt.timedelta(hours=5)).late
    unmounted = freshness.assess(
        _row(last_good_sync_at=None, mount_id=None, mount_status=None, published_at=T0), T0 + dt.timedelta(days=5)
    )
    assert unmounted.state == "unmounted" and unmounted.late_text == "超期 3 天"


def _mounted(session: Session, factory: Factory, department: Department, **overrides: Any) -> tuple[Any, Mount]:
    resource = people_resource(factory, department, **overrides)
    mount = runs.mount_table(
        session,
        factory.compiler(department),
        resource_id=resource.id,
        url="postgresql://reader@10.20.1.5/population",
        table="people",
        mapping=mapping_of(session, resource),
    )
    return resource, mount


def _synced(
    session: Session, resource_id: int, at: dt.datetime, rows: int, quality: dict[str, Any] | None = None
) -> None:
    record = session.scalars(select(BaseTable).where(BaseTable.resource_id == resource_id)).one()
    record.last_good_sync_at = at
    record.row_count = rows
    record.quality = quality or {}
    session.flush()


def _scenario(session: Session, factory: Factory, *, real_time: bool = False) -> dict[str, Any]:
    """Two departments: a fresh, a very late and a slightly late resource, plus an unmounted one,
    at T0 (or at the real time, for HTTP tests whose sign-in needs it)."""
    t0 = clock.now() if real_time else T0
    clock.set_now(t0 - dt.timedelta(days=60))
    police, civil = factory.department(), factory.department()
    fresh, _ = _mounted(session, factory, police)
    very_late, _ = _mounted(session, factory, police)
    slightly_late, _ = _mounted(session, factory, civil)
    unmounted = people_resource(factory, civil)
    clock.set_now(None if real_time else T0)
    _synced(session, fresh.id, t0 - dt.timedelta(hours=6), 100, {"rows": 100, "completeness": 0.99, "validity": 1.0})
    _synced(session, very_late.id, t0 - dt.timedelta(days=10), 50)
    _synced(session, slightly_late.id, t0 - dt.timedelta(days=2, hours=1), 70)
    return {
        "police": police,
        "civil": civil,
        "fresh": fresh,
        "very_late": very_late,
        "slightly_late": slightly_late,
        "unmounted": unmounted,
    }


@pytest.mark.article("A8.2")
def test_the_bureau_list_is_sorted_by_lateness_and_filters_by_department_and_late_only(
    session: Session, factory: Factory
) -> None:
    s = _scenario(session, factory)
    bureau = factory.reviewer_for(s["police"])
    mine = {s[k].id for k in ("fresh", "very_late", "slightly_late", "unmounted")}
    rows, _total = freshness.list_freshness(session, bureau, page_size=500)
    ours = [f for f in rows if f.row.resource_id in mine]
    assert [f.row.resource_id for f in ours] == [
        s["unmounted"].id,  # published 60 days ago, never mounted
        s["very_late"].id,
        s["slightly_late"].id,
        s["fresh"].id,
    ]
    assert [f.state for f in ours] == ["unmounted", "late", "late", "fresh"]
    assert ours[-1].row.row_count == 100 and ours[-1].quality is not None
    late, _ = freshness.list_freshness(session, bureau, late_only=True, page_size=500)
    assert s["fresh"].id not in {f.row.resource_id for f in late} and s["very_late"].id in {
        f.row.resource_id for f in late
    }
    police_only, total = freshness.list_freshness(session, bureau, department_id=s["police"].id)
    assert {f.row.resource_id for f in police_only} == {s["fresh"].id, s["very_late"].id} and total == 2


@pytest.mark.article("A8.2")
def test_a_provider_sees_only_its_own_resources_and_a_region_reviewer_only_its_region(
    session: Session, factory: Factory
) -> None:
    s = _scenario(session, factory)
    police_admin = factory.compiler(s["police"])
    seen = {f.row.resource_id for f in freshness.assess_all(session, police_admin)}
    assert seen == {s["fresh"].id, s["very_late"].id}
    county = factory.department(region="榆中县")
    county_resource, _ = _mounted(session, factory, county)
    reviewer = factory.reviewer_for(county)
    assert {f.row.resource_id for f in freshness.assess_all(session, reviewer)} == {county_resource.id}
    dept_user = factory.role_actor(Role.dept_user, department=s["police"])
    assert freshness.assess_all(session, dept_user) == []
    assert {f.row.resource_id for f in freshness.assess_all(session, Actor.system())} >= {
        s["fresh"].id,
        county_resource.id,
    }


@pytest.mark.article("A8.2")
def test_the_freshness_api_and_page_for_the_bureau(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.bureau_reviewer))
    s = _scenario(session, factory, real_time=True)
    r = client.get("/api/v1/exchange/freshness", params={"department_id": s["police"].id, "late_only": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["resource_id"] for i in body["items"]] == [s["very_late"].id]
    assert all(i["late"] and i["late_seconds"] > 0 for i in body["items"])
    page = client.get("/exchange/freshness", params={"department_id": s["police"].id, "late": "1"})
    assert page.status_code == 200
    assert s["very_late"].name in page.text and "已超期" in page.text and s["slightly_late"].name not in page.text
    one = client.get(f"/api/v1/exchange/freshness/{s['fresh'].id}")
    assert one.status_code == 200 and one.json()["row_count"] == 100


@pytest.mark.article("A8.2")
def test_a_dept_user_cannot_list_freshness(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    sign_in(client, session, factory.user(Role.dept_user, department=department))
    assert client.get("/api/v1/exchange/freshness").status_code == 403
    assert client.get("/exchange/freshness").status_code == 403


@pytest.mark.article("A8.2", "A25.1")
def test_the_catalog_detail_page_shows_freshness_to_readers_and_quality_to_monitors(
    client: TestClient, session: Session, factory: Factory
) -> None:
    department = factory.department()
    resource, mount = _mounted(session, factory, department)
    quality = {
        "rows": 100,
        "completeness": 0.5,
        "validity": 1.0,
        "items": [],
        "key": None,
        "text": "共检查 100 行,质量摘要。",
    }
    _synced(session, resource.id, clock.now() - dt.timedelta(days=5), 100, quality)
    reader = factory.user(Role.dept_user)  # another department's staff: the resource is published
    sign_in(client, session, reader)
    page = client.get(f"/catalog/{resource.id}")
    assert page.status_code == 200
    assert "数据同步情况" in page.text and "已超期" in page.text and "共检查 100 行" not in page.text
    assert f"/exchange/mounts/{mount.id}" not in page.text
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_admin, department=department))
    page = client.get(f"/catalog/{resource.id}")
    assert "共检查 100 行,质量摘要。" in page.text and f"/exchange/mounts/{mount.id}" in page.text
