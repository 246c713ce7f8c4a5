"""The exchange pages through HTTP: the mount form (password never shown again), 我的挂载, 测试连接,
立即同步 with a run page that refreshes itself while the run is under way, and the quality per run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from govshare.db import Database
from govshare.exchange import runs, worker
from govshare.exchange.models import Mount, SyncRun
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from tests.exchange import table_sources
from tests.exchange.mounting import ITEMS, mapping_of, people_resource, sqlite_source
from tests.factories import Factory
from tests.helpers import csrf, sign_in

PASSWORD = "页面-源库口令-9"


@pytest.fixture
def base_engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    yield from table_sources.base_database(tmp_path, database_url)


def _post(client: TestClient, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={"csrf_token": csrf(client), **data}, follow_redirects=False)


def _form(session: Session, resource: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resource_id": str(resource.id),
        "url": "mysql://reader@10.20.1.9:3306/population",
        "password": PASSWORD,
        "table": "people",
        "sync_mode": "full",
        "watermark_column": "",
        "key_column": "id",
        "test_url": "",
        "test_password": "",
        "test_table": "",
    }
    for item_id, column in mapping_of(session, resource).items():
        data[f"map-{item_id}"] = column
    data.update(overrides)
    return data


def _provider(client: TestClient, session: Session, factory: Factory) -> tuple[Department, Any]:
    department = factory.department()
    resource = people_resource(factory, department)
    sign_in(client, session, factory.user(Role.dept_admin, department=department))
    return department, resource


@pytest.mark.article("A24.2")
def test_mount_form_creates_a_mount_and_never_shows_the_password_again(
    client: TestClient, session: Session, factory: Factory
) -> None:
    _department, resource = _provider(client, session, factory)
    mine = client.get("/exchange/mounts")
    assert mine.status_code == 200 and resource.name in mine.text
    assert f"/exchange/mounts/new?resource_id={resource.id}" in mine.text
    form = client.get(f"/exchange/mounts/new?resource_id={resource.id}")
    assert form.status_code == 200 and 'type="password" name="password" value=""' in form.text
    for name, *_ in ITEMS:
        assert name in form.text
    r = _post(client, "/exchange/mounts/new", _form(session, resource))
    assert r.status_code == 303, r.text
    detail_url = r.headers["location"]
    detail = client.get(detail_url)
    assert detail.status_code == 200
    assert "已设置(加密保存,不再显示)" in detail.text and PASSWORD not in detail.text
    assert "mysql+pymysql://reader@10.20.1.9:3306/population" in detail.text
    edit = client.get(detail_url + "/edit")
    assert edit.status_code == 200 and PASSWORD not in edit.text and "已设置;留空则保留原密码" in edit.text
    mount_id = int(detail_url.rsplit("/", 1)[1])
    version = re.search(r'name="expected_version" value="(\d+)"', edit.text)
    assert version is not None
    saved = _post(
        client,
        detail_url + "/edit",
        _form(session, resource, password="", table="people_v2", expected_version=version.group(1)),
    )
    assert saved.status_code == 303, saved.text
    mount = session.get(Mount, mount_id)
    assert mount is not None and mount.config["table"] == "people_v2"
    assert runs.mount_spec(session, mount).secret["password"] == PASSWORD  # kept
    mine = client.get("/exchange/mounts")
    assert f"/exchange/mounts/{mount_id}" in mine.text


@pytest.mark.article("A24.2")
def test_a_bad_form_is_shown_again_with_chinese_messages_and_no_password(
    client: TestClient, session: Session, factory: Factory
) -> None:
    _department, resource = _provider(client, session, factory)
    r = _post(
        client,
        "/exchange/mounts/new",
        _form(session, resource, sync_mode="incremental", key_column="nothing", table=""),
    )
    assert r.status_code == 422
    assert "源表或视图" in r.text and "必填" in r.text and PASSWORD not in r.text
    r = _post(client, "/exchange/mounts/new", _form(session, resource, sync_mode="incremental", key_column="nothing"))
    assert r.status_code == 422
    assert "增量同步须填写单调递增的增量字段" in r.text and "键字段须是已映射的源字段" in r.text
    assert session.scalars(select(Mount).where(Mount.resource_id == resource.id)).first() is None


@pytest.mark.article("A8.1", "A24.2")
def test_the_form_sets_the_full_refresh_interval_and_explains_the_watermark_index(
    client: TestClient, session: Session, factory: Factory
) -> None:
    _department, resource = _provider(client, session, factory)
    form = client.get(f"/exchange/mounts/new?resource_id={resource.id}")
    assert 'name="full_refresh_days"' in form.text and 'value="7"' in form.text
    assert "请在源库为它建立索引" in form.text and "扫描并排序整张表" in form.text
    incremental = {"sync_mode": "incremental", "watermark_column": "seq"}
    for bad, message in (("-1", "定期全量刷新间隔须为 0 至 366 天"), ("每周", "定期全量刷新间隔取值无效")):
        r = _post(client, "/exchange/mounts/new", _form(session, resource, **incremental, full_refresh_days=bad))
        assert r.status_code == 422 and message in r.text, r.text
    assert session.scalars(select(Mount).where(Mount.resource_id == resource.id)).first() is None
    r = _post(client, "/exchange/mounts/new", _form(session, resource, **incremental, full_refresh_days="14"))
    assert r.status_code == 303, r.text
    detail_url = r.headers["location"]
    mount = session.scalars(select(Mount).where(Mount.resource_id == resource.id)).one()
    assert mount.full_refresh_days == 14 and not mount.full_refresh_pending
    assert "每 14 天一次" in client.get(detail_url).text
    edit = client.get(detail_url + "/edit")
    assert 'name="full_refresh_days" type="number" min="0" max="366" step="1" value="14"' in edit.text
    version = re.search(r'name="expected_version" value="(\d+)"', edit.text)
    assert version is not None
    changed = _form(session, resource, **incremental, url="mysql://reader@10.20.1.10:3306/population", password="") | {
        "expected_version": version.group(1),
        "full_refresh_days": "0",
    }
    assert _post(client, detail_url + "/edit", changed).status_code == 303
    session.refresh(mount)
    assert mount.full_refresh_days == 0 and mount.full_refresh_pending  # the address changed: next run is full
    assert "不定期刷新;源已修改,下次同步将全量刷新" in client.get(detail_url).text


@pytest.mark.article("A24.2", "A25.1")
def test_check_connection_sync_now_and_the_run_page_with_progress_and_quality(
    app: Any, client: TestClient, session: Session, factory: Factory, tmp_path: Path, base_engine: Engine
) -> None:
    _department, resource = _provider(client, session, factory)
    source = sqlite_source(tmp_path)
    source.create(120, tweak={2: {"phone": "000"}})
    r = _post(client, "/exchange/mounts/new", _form(session, resource, url=source.url, password=""))
    detail_url = r.headers["location"]
    mount_id = int(detail_url.rsplit("/", 1)[1])
    probed = _post(client, f"{detail_url}/probe", {})
    assert probed.status_code == 303
    page = client.get(detail_url)
    assert "连接成功" in page.text
    queued = _post(client, f"{detail_url}/runs", {"kind": "sync"})
    assert queued.status_code == 303 and queued.headers["location"].startswith("/exchange/runs/")
    run_url = queued.headers["location"]
    run_id = int(run_url.rsplit("/", 1)[1])
    waiting = client.get(run_url)
    assert waiting.status_code == 200
    assert '<meta http-equiv="refresh" content="3">' in waiting.text and "排队中" in waiting.text
    # the worker takes it: while it runs the page shows the rows read so far
    assert worker.claim_run(session, run_id, "worker-p", lease_seconds=60)
    run = session.get(SyncRun, run_id)
    assert run is not None
    session.refresh(run)  # the claim was a plain UPDATE
    run.progress = 40
    session.flush()
    running = client.get(run_url)
    assert "运行中" in running.text and "已读取 <strong>40</strong> 行" in running.text
    db: Database = app.state.db
    assert worker.execute(db, run_id, "worker-p", base_engine=base_engine) == "succeeded"
    done = client.get(run_url)
    assert 'http-equiv="refresh"' not in done.text and "成功" in done.text
    assert "本次同步的数据质量" in done.text and "手机号格式不符" in done.text
    assert "<code>000</code>" not in done.text  # no example values of a sensitive 信息项
    listing = client.get(f"/exchange/mounts/{mount_id}/runs")
    assert listing.status_code == 200 and f"#{run_id}" in listing.text
    catalog_page = client.get(f"/catalog/{resource.id}")
    assert "最近一次成功同步的数据质量" in catalog_page.text and "按时" in catalog_page.text


@pytest.mark.article("A24.2")
def test_pause_and_resume_from_the_page(client: TestClient, session: Session, factory: Factory) -> None:
    _department, resource = _provider(client, session, factory)
    r = _post(client, "/exchange/mounts/new", _form(session, resource))
    detail_url = r.headers["location"]
    page = client.get(detail_url)
    version = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert version is not None and "暂停" in page.text and "立即同步" in page.text
    paused = _post(client, f"{detail_url}/pause", {"expected_version": version.group(1)})
    assert paused.status_code == 303
    page = client.get(detail_url)
    assert "已暂停" in page.text and "立即同步" not in page.text and "恢复" in page.text
    again = _post(client, f"{detail_url}/pause", {})
    assert again.status_code == 303  # refused with a message, not an error page
    assert "挂载已暂停" in client.get(detail_url).text
    resumed = _post(client, f"{detail_url}/resume", {})
    assert resumed.status_code == 303 and "立即同步" in client.get(detail_url).text


def test_other_departments_and_dept_users_are_kept_out(client: TestClient, session: Session, factory: Factory) -> None:
    department = factory.department()
    resource = people_resource(factory, department)
    mount = runs.mount_table(
        session,
        factory.compiler(department),
        resource_id=resource.id,
        url="postgresql://reader@10.20.1.5/population",
        table="people",
        mapping=mapping_of(session, resource),
    )
    sign_in(client, session, factory.user(Role.dept_admin, department=factory.department()))
    assert client.get(f"/exchange/mounts/{mount.id}").status_code == 404
    assert client.get(f"/exchange/mounts/{mount.id}/edit").status_code == 404
    assert _post(client, f"/exchange/mounts/{mount.id}/runs", {"kind": "sync"}).status_code == 404
    assert resource.name not in client.get("/exchange/mounts").text
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_user, department=department))
    assert client.get("/exchange/mounts").status_code == 403
    assert client.get(f"/exchange/mounts/new?resource_id={resource.id}").status_code == 403
    home = client.get("/")
    assert "我的挂载" not in home.text and "数据更新监测" not in home.text


def test_the_nav_shows_the_exchange_pages_by_role(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_admin))
    assert 'href="/exchange/mounts"' in client.get("/").text
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.auditor))
    home = client.get("/")
    assert 'href="/exchange/freshness"' in home.text and 'href="/exchange/mounts"' not in home.text
