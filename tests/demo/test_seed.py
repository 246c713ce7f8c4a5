"""The demo: realistic volumes and variety, made through the services, with the audit chain intact;
and the ``govshare demo`` command that builds its own database and refuses to wipe anyone else's."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govshare.audit import service as audit
from govshare.audit.models import AuditRecord
from govshare.catalog.enums import ChangeRequestStatus, ExtensionStatus, ResourceStatus, ShareType
from govshare.catalog.models import (
    ChangeRequest,
    Classification,
    ConfidentialityReview,
    DataItem,
    Resource,
    ResourceVersion,
    Topic,
)
from govshare.catalog.validation import cites_basis
from govshare.cli import app
from govshare.config import get_settings
from govshare.demo import data
from govshare.demo.seed import featured_accounts, is_seeded, seed
from govshare.identity import auth
from govshare.identity import repository as identity_repo
from govshare.identity.actor import RequestContext
from govshare.identity.models import DataAdminRecord, Department, Office, Region, RegionLevel, User
from govshare.identity.permissions import Role
from govshare.kit.clock import today
from govshare.kit.crypto import decrypt
from govshare.kit.uscc import uscc_problem
from tests import pg


def test_demo_seeds_a_realistic_platform_through_the_services(session: Session) -> None:
    assert not is_seeded(session)
    summary = seed(session)
    assert is_seeded(session)

    # Departments: the city's and at least three counties', with valid fake 统一社会信用代码 and A6.1 contacts.
    regions = {r.id: r for r in session.scalars(select(Region))}
    departments = list(session.scalars(select(Department)))
    city = next(r for r in regions.values() if r.code == "620100")
    city_departments = [d for d in departments if d.region_id == city.id and not d.is_bureau]
    assert len(city_departments) >= 20
    for name in ("兰州市公安局", "兰州市民政局", "兰州市人力资源和社会保障局", "国家税务总局兰州市税务局"):
        assert name in {d.name for d in city_departments}
    counties = {regions[d.region_id].name for d in departments if regions[d.region_id].level == RegionLevel.county}
    assert {"城关区", "七里河区", "榆中县", "兰州新区"} <= counties
    for dept in departments:
        assert uscc_problem(dept.uscc) is None, dept.name
        assert dept.sharing_office and dept.sharing_contact and dept.sharing_phone, dept.name
        if not dept.is_bureau:
            assert dept.uscc.startswith("11" + regions[dept.region_id].code), dept.name
    office_counts = Counter(session.scalars(select(Office.department_id)))
    assert all(office_counts[d.id] >= 1 for d in departments)
    assert summary.city_departments == len(city_departments)

    # Accounts: one per role, signing in with the printed password; bureau roles with the printed TOTP secret.
    accounts = {a.username: a for a in featured_accounts()}
    users = {u.username: u for u in session.scalars(select(User))}
    roles = {r for name in accounts for r in (a.role for a in users[name].roles)}
    assert roles == {r.value for r in Role}
    chengguan = identity_repo.region_by_code(session, "620102")
    assert chengguan is not None and users["chengguan_reviewer"].roles[0].region_id == chengguan.id
    result = auth.login(session, RequestContext(source_ip="10.0.0.1"), "bureau_reviewer", data.DEMO_PASSWORD)
    assert result.ok and result.needs_mfa and not result.needs_mfa_enrolment
    secret = accounts["bureau_reviewer"].totp_secret
    assert secret and decrypt(users["bureau_reviewer"].totp_secret or "", get_settings().security.data_key) == secret
    assert pyotp.TOTP(secret).now().isdigit()
    assert accounts["auditor"].totp_secret is None
    assert auth.login(session, RequestContext(source_ip="10.0.0.1"), "cg_civil_admin", data.DEMO_PASSWORD).ok

    # The 数据资源管理员 register: filled in, with history, one department deliberately lacking.
    lacking = identity_repo.departments_without_data_admin(session, today())
    assert [d.name for d in lacking] == ["兰州市林业和草原局"]
    ended = session.scalars(select(DataAdminRecord).where(DataAdminRecord.end_date.is_not(None))).all()
    assert len(ended) == len(data.PREVIOUS_ADMINS) and all(r.change_reason for r in ended)

    # Resources: ≥ 80, every status and class, each with its 信息项, 保密审查 before every submission.
    resources = list(session.scalars(select(Resource)))
    assert len(resources) >= 80
    statuses = Counter(r.status for r in resources)
    assert set(statuses) == {s.value for s in ResourceStatus}
    assert statuses == Counter({str(k): v for k, v in summary.resources.items()})
    codes = {c.id: c.code for c in session.scalars(select(Classification))}
    assert {codes[r.classification_id][0] for r in resources} == {"1", "2", "3"}
    item_counts = Counter(session.scalars(select(DataItem.resource_id)))
    assert all(item_counts[r.id] >= 3 for r in resources)
    assert {r.share_type for r in resources} == {s.value for s in ShareType}
    assert all(cites_basis(r.share_basis) for r in resources if r.share_type == ShareType.none)
    assert all(r.share_condition for r in resources if r.share_type == ShareType.conditional)
    reviewed = set(session.scalars(select(ConfidentialityReview.resource_id)))
    assert all(r.id in reviewed for r in resources if r.status != ResourceStatus.draft)
    by_name = {r.name: r for r in resources}
    county_resource = by_name["城关区城乡低保对象名册"]
    assert regions[county_resource.reviewing_region_id].name == "城关区"  # reviewed by its own county (A15.2)
    assert by_name["人口基本信息"].code.startswith("101/")

    # 一数一源: 市民政局 collecting 公民身份号码 is told that 市公安局 already provides it.
    warnings = by_name["低保对象信息"].duplicate_warnings
    assert any(w["item_name"] == "公民身份号码" and w["department_name"] == "兰州市公安局" for w in warnings)

    # Topics with lead and contributors, and resources under each.
    topic_ids = {t.name: t.id for t in session.scalars(select(Topic))}
    assert set(topic_ids) == {t.name for t in data.TOPICS}
    assert all(any(r.topic_id == tid for r in resources) for tid in topic_ids.values())

    # Article 17: change requests in every state, clocks running, late and on time, versions republished.
    crs = list(session.scalars(select(ChangeRequest)))
    assert {c.status for c in crs} == {s.value for s in ChangeRequestStatus}
    assert {c.extension_status for c in crs} == {s.value for s in ExtensionStatus}
    assert any(c.filed_late for c in crs) and any(c.status == "filed" and not c.filed_late for c in crs)
    open_crs = [c for c in crs if c.status == ChangeRequestStatus.open]
    assert any(c.filing_due < today() for c in open_crs) and any(c.filing_due >= today() for c in open_crs)
    granted = next(c for c in crs if c.extension_status == ExtensionStatus.granted)
    assert granted.filing_due_original is not None and granted.filing_due > granted.filing_due_original
    versions = Counter(session.scalars(select(ResourceVersion.resource_id)))
    republished = [rid for rid, n in versions.items() if n >= 2]
    assert len(republished) >= 3
    linked = session.scalars(select(ResourceVersion).where(ResourceVersion.change_request_id.is_not(None))).all()
    assert {v.resource_id for v in linked} == set(republished)

    # Everything was recorded, by the people who did it, and the chain holds.
    actors = Counter(session.scalars(select(AuditRecord.actor_name)))
    assert actors["bureau_admin"] > 50 and actors["police_admin"] > 5 and actors["chengguan_reviewer"] > 0
    assert session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.source_ip != "demo")) == 2
    verified = audit.verify(session)
    assert verified.ok, verified.finding
    assert verified.checked == sum(actors.values())


@contextmanager
def _demo_database(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """Where the command under test writes: its own SQLite file by default (the SQLite run), or,
    in the PostgreSQL run, a fresh PostgreSQL database of its own, reset with --force."""
    url = os.environ.get("GOVSHARE_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield "", []
        return
    with pg.scratch_database(url, "_demo") as target:
        yield target, ["--reset", "--force"]


def test_demo_command_seeds_its_own_database_and_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    with _demo_database(tmp_path) as (url, reset_args), monkeypatch.context() as env:
        env.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
        env.setenv("GOVSHARE_DATABASE_URL", url)  # restored afterwards; the command sets it for its own process
        get_settings.cache_clear()
        if url:  # a server database that already holds a platform: --force resets it (migrations undone)
            assert runner.invoke(app, ["init"]).exit_code == 0
            get_settings.cache_clear()
        first = runner.invoke(
            app, ["demo", "--no-serve", "--people", "2000", "--mariadb-url", "", "--postgres-url", "", *reset_args]
        )
        env.setenv("GOVSHARE_DATABASE_URL", url)
        get_settings.cache_clear()
        again = runner.invoke(
            app, ["demo", "--no-serve", "--no-reset", "--people", "2000", "--mariadb-url", "", "--postgres-url", ""]
        )
    get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "已重建演示数据库" in first.stdout
    if not url:
        assert (tmp_path / "var" / "demo.db").exists() and not (tmp_path / "var" / "govshare.db").exists()
    assert f"信息资源 {len(data.RESOURCES)} 条" in first.stdout
    for account in featured_accounts():
        assert account.username in first.stdout
    assert data.DEMO_PASSWORD in first.stdout
    assert data.totp_secret("bureau_admin") in first.stdout and "pyotp.TOTP(" in first.stdout
    assert "使用记录:市民政局自授权生效以来的" in first.stdout  # the usage pages are not empty
    assert again.exit_code == 0, again.output
    assert "已有演示数据,未重复写入" in again.stdout and "bureau_admin" in again.stdout


def test_demo_command_refuses_to_wipe_a_server_database(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as env:
        env.setenv("GOVSHARE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/somebody_elses")
        get_settings.cache_clear()
        result = CliRunner().invoke(app, ["demo", "--reset", "--no-serve"])
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "拒绝重建非 SQLite 数据库" in result.stderr


def test_demo_command_refuses_production(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as env:
        env.setenv("GOVSHARE_ENVIRONMENT", "production")
        env.setenv("GOVSHARE_SECURITY__SECRET_KEY", "a-production-secret-for-this-test")
        env.setenv("GOVSHARE_SECURITY__DATA_KEY", "cHJvZHVjdGlvbi1kYXRhLWtleS1mb3ItdGhpcy10ZXN0IQ==")
        get_settings.cache_clear()
        result = CliRunner().invoke(app, ["demo", "--no-serve"])
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "生产环境" in result.stderr
