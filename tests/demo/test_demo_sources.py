"""The demo's provider sources: synthetic data that is well-formed, and the exchange seed that mounts,
syncs and probes it through the platform (the base then equals each source).

The exchange test needs committed data read by the worker's sessions, so it uses a platform
database of its own (a SQLite file, or a sibling PostgreSQL database when the suite runs on
PostgreSQL) with the base in it. MariaDB and PostgreSQL sources are used when those servers
answer; under CI (CI=true) they must.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, table, text
from sqlalchemy.engine import make_url

from govshare import migrate
from govshare.audit import service as audit
from govshare.catalog.models import Resource
from govshare.config import get_settings
from govshare.db import Database
from govshare.demo import data, exchange_seed, provider_api, sources
from govshare.demo.seed import seed
from govshare.exchange import api_mounts, base
from govshare.exchange import run_repository as run_repo
from govshare.exchange.file_models import FileVersion
from govshare.exchange.quality import id_number_problem
from govshare.identity.actor import RequestContext
from govshare.identity.reference import ensure_reference_data
from govshare.kit.uscc import uscc_problem
from tests import pg

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MARIADB_URL = os.environ.get("GOVSHARE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
PEOPLE = 3_000
TODAY = sources.REFERENCE_DATE


def _server_url(kind: str, url: str) -> str:
    """``url`` when its server answers; under CI an unreachable one fails the run, elsewhere it is skipped."""
    probe = make_url(url).set(database="postgres").render_as_string(hide_password=False) if kind == "pg" else url
    engine, why = sources.reachable(probe)
    if engine is not None:
        engine.dispose()
        return url
    if IN_CI:
        pytest.fail(f"CI 要求 {kind} 数据源可用:{why}")
    return ""


@dataclass
class Seeded:
    db: Database
    summary: exchange_seed.ExchangeSummary
    sqlite_path: Path
    mariadb_url: str
    postgres_url: str
    prefix: str


@pytest.fixture(scope="module")
def seeded(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    root = tmp_path_factory.mktemp("demo_sources")
    if database_url.startswith("postgres"):
        url = pg.create_database(pg.sibling_url(database_url, "_demo_sources"))
        pg_source = pg.sibling_url(database_url, "_demo_source_db")
    else:
        url = f"sqlite:///{(root / 'platform.db').as_posix()}"
        pg_source = f"postgresql://postgres@127.0.0.1:5432/govshare_demo_source_t{os.getpid()}"
    mariadb_url = _server_url("MariaDB", MARIADB_URL)
    postgres_url = _server_url("pg", pg_source)
    prefix = f"demo_t{os.getpid()}_"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GOVSHARE_VAR_DIR", str(root / "var"))  # the file store of the uploaded versions
        get_settings.cache_clear()
        database = Database(url)
        migrate.upgrade(database.engine)
        with database.session_scope() as s:
            ensure_reference_data(s)
            seed(s)
        summary = exchange_seed.seed_exchange(
            database,
            var_dir=root / "var",
            people=PEOPLE,
            mariadb_url=mariadb_url,
            postgres_url=postgres_url,
            table_prefix=prefix,
            api_port=None,
            base_engine=database.engine,
        )
        try:
            yield Seeded(
                database, summary, root / "var" / "demo-sources" / "provider.db", mariadb_url, postgres_url, prefix
            )
        finally:
            if summary.api is not None:
                summary.api.stop()
            if mariadb_url:
                maria = create_engine(mariadb_url)
                with maria.begin() as conn:
                    conn.execute(text(f"DROP TABLE IF EXISTS {prefix}enterprise"))
                maria.dispose()
            if postgres_url:
                pg.drop_database(postgres_url)
            database.dispose()
            if url.startswith("postgres"):
                pg.drop_database(url)
    get_settings.cache_clear()


def _source_engine(kind: str, seeded: Seeded) -> Engine:
    if kind == "MariaDB":
        return create_engine(seeded.mariadb_url)
    if kind == "PostgreSQL":
        return create_engine(make_url(seeded.postgres_url).set(drivername="postgresql+psycopg"))
    return create_engine(f"sqlite:///{seeded.sqlite_path.as_posix()}")


def _resource(seeded: Seeded, key: str) -> Resource:
    name = next(s.name for s in data.RESOURCES if s.key == key)
    with seeded.db.session_scope() as s:
        found = s.scalars(select(Resource).where(Resource.name == name)).one()
    return found


@pytest.mark.article("A8.1", "A24.2")
def test_every_table_source_is_mounted_synced_and_probed_and_the_base_equals_it(seeded: Seeded) -> None:
    lines = {m.resource: m for m in seeded.summary.mounts}
    kinds = {name: lines[name].kind for name in lines}
    assert kinds["人口基本信息(库表)"] == "SQLite"
    assert kinds["企业登记信息(库表)"] == ("MariaDB" if seeded.mariadb_url else "SQLite")
    assert kinds["社保参保信息(库表)"] == ("PostgreSQL" if seeded.postgres_url else "SQLite")
    plans = {
        "population_table": ("id_number", "公民身份号码"),
        "enterprise_table": ("uscc", "统一社会信用代码"),
        "social_insurance_table": ("id", None),
    }
    for key, (source_key, item_name) in plans.items():
        resource = _resource(seeded, key)
        line = lines[resource.name]
        assert (line.sync_status, line.probe_status, line.error) == ("succeeded", "succeeded", ""), line
        source = _source_engine(line.kind, seeded)
        try:
            with source.connect() as conn:
                source_rows = conn.execute(select(func.count()).select_from(table(line.where))).scalar_one()
                source_keys = set(conn.execute(text(f"SELECT {source_key} FROM {line.where}")).scalars())
        finally:
            source.dispose()
        with seeded.db.session_scope() as s:
            record = run_repo.base_table(s, resource.id)
            assert record is not None and record.last_good_sync_at is not None
            item_ids = {i.name: i.id for i in run_repo.items_of(s, resource.id)}
        with seeded.db.engine.connect() as conn:
            base_rows = conn.execute(select(func.count()).select_from(table(record.table_name))).scalar_one()
            if item_name is not None:
                column = base.column_name(item_ids[item_name])
                base_keys = set(conn.execute(text(f"SELECT {column} FROM {record.table_name}")).scalars())
                assert base_keys == source_keys
        assert source_rows == base_rows == record.row_count == line.source_rows == line.base_rows > 0
    assert lines["人口基本信息(库表)"].source_rows == PEOPLE


@pytest.mark.article("A24.1")
def test_the_provider_api_is_registered_probed_and_answers_through_the_gateway(seeded: Seeded) -> None:
    line = next(m for m in seeded.summary.mounts if m.kind == "接口")
    assert line.probe_status == "succeeded" and line.probe_ms is not None
    resource = _resource(seeded, "real_estate")
    id_number = seeded.summary.sample_id_numbers[0]
    context = RequestContext(source_ip="10.0.0.1")
    with seeded.db.session_scope() as s:
        admin = exchange_seed._actor(s, context, data.admin_username("natres"))
        result = api_mounts.call_api(s, admin, resource_id=resource.id, params={"qlrzjhm": id_number})
        mount = run_repo.active_mount_for(s, resource.id)
        assert mount is not None
        secret_in_config = json.dumps(mount.config, ensure_ascii=False)
    assert result.status == 200
    payload = json.loads(result.body)
    assert payload["data"] and all(r["qlrzjhm"] == id_number for r in payload["data"])
    assert provider_api.DEMO_API_KEY not in secret_in_config


@pytest.mark.article("A24.3")
def test_the_file_resource_holds_the_csv_and_xlsx_versions_and_its_base_table(seeded: Seeded) -> None:
    line = next(m for m in seeded.summary.mounts if m.kind == "文件")
    resource = _resource(seeded, "elderly_care")
    with seeded.db.session_scope() as s:
        versions = s.scalars(select(FileVersion).where(FileVersion.resource_id == resource.id)).all()
        record = run_repo.base_table(s, resource.id)
        verified = audit.verify(s)
    assert sorted(v.filename for v in versions) == ["养老机构信息.csv", "养老机构信息.xlsx"]
    assert line.sync_status == "succeeded", line
    assert record is not None and record.row_count == line.base_rows == sources.ELDERLY_CARE_ROWS
    assert verified.ok, verified.finding


def test_the_people_source_holds_100000_valid_lanzhou_people(tmp_path: Path) -> None:
    built = sources.build_sources(tmp_path, mariadb_url="", postgres_url="")
    assert built.people.rows >= 100_000
    conn = sqlite3.connect(built.sqlite_path)
    try:
        people = conn.execute("SELECT id_number, gender, birth_date, mobile, hukou_address FROM person").fetchall()
        insured = conn.execute("SELECT DISTINCT id_number FROM social_insurance").fetchall()
        employers = conn.execute("SELECT DISTINCT employer_uscc FROM social_insurance").fetchall()
        enterprises = conn.execute("SELECT uscc FROM enterprise").fetchall()
    finally:
        conn.close()
    assert len(people) == built.people.rows
    ids = [p[0] for p in people]
    assert len(set(ids)) == len(ids)
    problems = Counter(id_number_problem(i, TODAY) for i in ids)
    assert problems == Counter({None: len(ids)})
    for id_number, gender, born, _mobile, address in people:
        assert id_number[:4] == "6201" and id_number[:6] in sources.DISTRICTS
        assert id_number[6:14] == born.replace("-", "")
        assert int(id_number[16]) % 2 == (1 if gender == "1" else 0)
        assert address.startswith("甘肃省兰州市")
    phones = [p[3] for p in people if p[3] is not None]
    assert 0.8 < len(phones) / len(people) < 1
    assert sum(1 for p in phones if len(p) == 11) / len(phones) > 0.99
    births = [dt.date.fromisoformat(p[2]) for p in people]
    assert min(births) > dt.date(1925, 1, 1) and max(births) < TODAY
    assert {i for (i,) in insured} <= set(ids) and len(insured) > len(people) // 4
    assert all(uscc_problem(u) is None for (u,) in enterprises)
    assert {u for (u,) in employers} <= {u for (u,) in enterprises}


@pytest.mark.article("A8.1", "A26.1")
def test_the_demo_consumer_system_reads_masked_rows_of_the_synced_table_with_its_printed_credentials(
    seeded: Seeded,
) -> None:
    from fastapi.testclient import TestClient

    from govshare.app import create_app
    from govshare.demo.consumer_seed import DEMO_APP_KEY, DEMO_SECRET, print_credentials, table_grant_example
    from govshare.sharing import client as signing
    from govshare.sharing.models import Grant

    resource = _resource(seeded, "population_table")
    with seeded.db.session_scope() as s:
        example = table_grant_example(s)
        assert example is not None and example[0] == resource.code
        grant = s.get(Grant, example[1])
        assert grant is not None and grant.status == "active" and grant.masking == "masked"
        items = {i.id: i for i in run_repo.items_of(s, resource.id)}
    lines: list[str] = []
    print_credentials(lines.append, "http://127.0.0.1:8000", example)
    assert any(f'c.rows("{resource.code}", grant_id={example[1]}' in line for line in lines)

    path = f"/api/v1/consumer/resources/{resource.code}/rows"
    pairs = [("grant_id", str(example[1])), ("limit", "10")]
    with TestClient(create_app(db=seeded.db), base_url="http://testserver") as client:
        r = client.get(path, params=pairs, headers=signing.sign("GET", path, pairs, b"", DEMO_APP_KEY, DEMO_SECRET))
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert len(rows) == 10
    granted = ("公民身份号码", "姓名", "性别", "出生日期", "人员状态")
    by_name = {item.name: item for item in items.values()}
    assert set(rows[0]) == {f"i{by_name[n].id}" for n in granted}
    assert [n for n in granted if by_name[n].sensitivity != "none"] == ["公民身份号码", "姓名"]  # the masked two
    sample = set(seeded.summary.sample_id_numbers)
    for row in rows:
        shown = row[f"i{by_name['公民身份号码'].id}"]
        assert shown and "*" in shown and shown not in sample  # masked, never the whole number
        assert "*" in row[f"i{by_name['姓名'].id}"]
        assert row[f"i{by_name['性别'].id}"] in ("1", "2") and row[f"i{by_name['人员状态'].id}"]


@pytest.mark.article("A35.1")
def test_the_demo_usage_history_is_left_by_real_reads_of_the_synced_table(seeded: Seeded) -> None:
    """The usage pages of a fresh demo are not empty: the demo's system and two of 市民政局's people read
    and verify the 库表 resource through the services, on working days since the grant took effect."""
    from govshare.audit.models import AuditRecord
    from govshare.demo.consumer_seed import DEMO_APP_KEY, table_grant_example
    from govshare.demo.usage_seed import seed_usage
    from govshare.identity.models import User
    from govshare.kit import clock
    from govshare.sharing.models import AccessRecord, ConsumerSystem, Grant, VerificationSetting

    with seeded.db.session_scope() as s:
        first_id = int(s.scalar(select(func.max(AccessRecord.id))) or 0)
        reads_before = int(s.scalar(select(func.count()).select_from(AuditRecord).where(_read_actions())) or 0)
        reads = seed_usage(s)
    with seeded.db.session_scope() as s:
        example = table_grant_example(s)
        assert example is not None
        grant = s.get(Grant, example[1])
        assert grant is not None
        system_id = s.scalar(select(ConsumerSystem.id).where(ConsumerSystem.app_key == DEMO_APP_KEY))
        consumers = select(User.id, User.username).where(User.department_id == grant.consumer_department_id)
        people = {int(i): str(name) for i, name in s.execute(consumers)}
        records = list(s.scalars(select(AccessRecord).where(AccessRecord.id > first_id).order_by(AccessRecord.id)))
        audited = int(s.scalar(select(func.count()).select_from(AuditRecord).where(_read_actions())) or 0)
        verified = audit.verify(s)
    assert reads == len(records) >= 8
    assert audited == reads_before + reads  # each read audited, as a real one is
    assert verified.ok, verified.finding
    assert {r.kind for r in records} == {"rows", "export", "verify"}
    checks = [r.detail.get("result") for r in records if r.kind == "verify"]
    assert "match" in checks and "no_match" in checks  # a true pair, and one with another name
    by_system = [r for r in records if r.consumer_system_id == system_id]
    by_people = {people[r.user_id] for r in records if r.user_id is not None}
    assert len(by_system) >= 4 and by_people == {"civil_user", "civil_admin"}
    assert all(r.grant_id == grant.id and r.purpose == grant.purpose for r in records)
    days = {clock.to_china(r.at).date() for r in records}
    assert all(grant.valid_from <= day < clock.today() for day in days)
    assert all(r.row_count > 0 for r in records if r.kind in ("rows", "export"))
    assert [r.at for r in records] == sorted(r.at for r in records)  # numbered in the order they happened
    with seeded.db.session_scope() as s:
        setting = s.scalar(select(VerificationSetting).where(VerificationSetting.resource_id == grant.resource_id))
    assert setting is not None and setting.enabled and len(setting.data_item_ids) == 2


def _read_actions() -> Any:
    from govshare.audit.actions import Action
    from govshare.audit.models import AuditRecord

    return AuditRecord.action.in_((Action.data_read, Action.data_exported, Action.data_verified))
