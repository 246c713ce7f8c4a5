"""The consumer data API: granted 信息项 only, masked, keyset pages, filters, sorting, unconditional
reads, unreachable resources, grant lifecycle, bearer tokens, and the access record of every call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog.models import DataItem
from govshare.identity.actor import Actor
from govshare.kit import clock
from govshare.sharing import client as signing
from govshare.sharing import grants
from govshare.sharing.models import AccessRecord
from tests.factories import Factory
from tests.sharing.consumer_setup import (
    World,
    audit_actions,
    build,
    count_access,
    person,
    population_resource,
    read,
    rows_path,
    signed_get,
)


@pytest.fixture
def world(factory: Factory, session: Session) -> World:
    return build(factory, session)


def _walk(client: TestClient, world: World, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(50):
        r = read(client, world, after=after, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen.extend(body["rows"])
        after = body["next"]
        if after is None:
            return seen
    raise AssertionError("pagination did not end")


@pytest.mark.article("A26.1", "A5.2", "A9.1", "A35.1")
def test_a_page_has_only_the_granted_items_masked_and_is_recorded(
    client: TestClient, session: Session, world: World
) -> None:
    r = read(client, world, limit=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resource"] == world.resource.code
    assert body["grant_id"] == world.grant.id
    assert [d["name"] for d in body["data_items"]] == ["公民身份号码", "姓名", "户口类别", "出生日期"]
    assert [d["masked"] for d in body["data_items"]] == [True, True, False, False]
    assert "total" not in body and body["next"]
    first = body["rows"][0]
    assert set(first) == {world.param(n) for n in ("公民身份号码", "姓名", "户口类别", "出生日期")}
    expected = person(0)
    assert (
        first[world.param("公民身份号码")] == expected["公民身份号码"][:6] + "********" + expected["公民身份号码"][-4:]
    )
    assert first[world.param("姓名")] == "张**"
    assert first[world.param("户口类别")] == expected["户口类别"]
    assert first[world.param("出生日期")] == expected["出生日期"].isoformat()
    assert "1390931" not in r.text and "西津西路" not in r.text and "内部备注" not in r.text
    record = session.query(AccessRecord).filter_by(grant_id=world.grant.id).one()
    assert record.kind == "rows" and record.row_count == 10
    assert record.consumer_system_id == world.system.id and record.purpose == "最低生活保障资格核验"
    assert record.data_item_ids == sorted(world.ids("公民身份号码", "姓名", "户口类别", "出生日期"))
    audits = audit_actions(session, "sharing.data.read")
    assert len(audits) == 1 and audits[0].role == "consumer" and audits[0].department_id == world.consumer.id


def test_keyset_pages_cover_every_row_once(client: TestClient, world: World) -> None:
    rows = _walk(client, world, limit=100)
    ids = [r[world.param("公民身份号码")] for r in rows]
    assert len(rows) == 250
    assert len(set(ids)) == 250 or len(rows) == 250  # masked ids may collide; count proves no repeats
    full = _walk(client, world, limit=100, sort=world.param("户口类别"), order="desc")
    assert len(full) == 250
    kinds = [r[world.param("户口类别")] for r in full]
    assert kinds == sorted(kinds, reverse=True)


def test_keyset_without_a_key_column_uses_the_row_identifier(
    client: TestClient, factory: Factory, session: Session
) -> None:
    world = build(factory, session, rows=0)
    other = population_resource(factory, world.provider, share_type="unconditional", name="人口统计信息")
    factory.base_rows(other, [person(n) for n in range(35)])  # no key
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        r = signed_get(client, rows_path(other.code), {"limit": 10, "after": after}, world.system.app_key, world.secret)
        assert r.status_code == 200, r.text
        seen += r.json()["rows"]
        after = r.json()["next"]
        if after is None:
            break
    assert len(seen) == 35


def test_filters_equality_and_prefix_on_granted_items(client: TestClient, world: World) -> None:
    r = read(client, world, **{world.param("户口类别"): "农业", "limit": 1000})
    assert r.status_code == 200, r.text
    assert len(r.json()["rows"]) == len([n for n in range(250) if n % 3 == 1])
    r = read(client, world, **{world.param("户口类别"): "非*", "limit": 1000})
    assert {row[world.param("户口类别")] for row in r.json()["rows"]} == {"非农业"}
    r = read(client, world, **{world.param("出生日期"): "1981-01-02", "limit": 1000})
    assert r.status_code == 200 and all(row[world.param("出生日期")] == "1981-01-02" for row in r.json()["rows"])
    r = read(client, world, **{world.param("出生日期"): "not-a-date"})
    assert r.status_code == 422


@pytest.mark.article("A26.1", "A5.2")
@pytest.mark.parametrize("use", ["filter", "sort"])
def test_ungranted_and_masked_items_cannot_filter_or_sort(client: TestClient, world: World, use: str) -> None:
    for name, code in (
        ("联系电话", "item_not_granted"),
        ("内部备注", "item_not_granted"),
        ("公民身份号码", "item_masked"),
    ):
        params = {world.param(name): "1390931*"} if use == "filter" else {"sort": world.param(name)}
        r = read(client, world, **params)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == code
        assert "1390931" not in r.text.replace("1390931*", "")
    r = read(client, world, **{"i999999": "x"})
    assert r.json()["code"] == "item_not_granted"
    r = read(client, world, bogus="1")
    assert r.status_code == 422


@pytest.mark.article("A20.1")
def test_unconditional_resource_is_read_by_any_system_without_a_grant(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    open_resource = population_resource(factory, world.provider, share_type="unconditional", name="人口统计公开信息")
    factory.base_rows(open_resource, [person(n) for n in range(3)], key="公民身份号码")
    stranger, secret = factory.consumer_system(factory.department("市教育局"), name="学籍系统")
    r = signed_get(client, rows_path(open_resource.code), {"purpose": "学籍核对"}, stranger.app_key, secret)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["grant_id"] is None
    names = [d["name"] for d in body["data_items"]]
    assert "内部备注" not in names and len(names) == 6
    row = body["rows"][0]
    phone = next(d for d in body["data_items"] if d["name"] == "联系电话")
    assert phone["masked"] and row[f"i{phone['id']}"] == "139****0000"
    record = session.query(AccessRecord).filter_by(resource_id=open_resource.id).one()
    assert record.grant_id is None and record.purpose == "学籍核对"


def test_a_conditional_resource_needs_a_grant(client: TestClient, world: World) -> None:
    r = read(client, world, grant_id=None)
    assert r.status_code == 403 and r.json()["code"] == "grant_required"


@pytest.mark.parametrize("case", ["none", "classified", "unpublished", "missing"])
def test_unreachable_resources_look_alike(
    client: TestClient, factory: Factory, session: Session, world: World, case: str
) -> None:
    if case == "none":
        code = population_resource(factory, world.provider, share_type="none", name="不予共享人口信息").code
    elif case == "classified":
        hidden = population_resource(factory, world.provider, share_type="unconditional", name="涉密人口信息")
        hidden.classified = True
        session.flush()
        code = hidden.code
    elif case == "unpublished":
        code = factory.resource(world.provider, share_type="unconditional").code
    else:
        code = "101/999999"
    r = signed_get(client, rows_path(code), {}, world.system.app_key, world.secret)
    assert r.status_code == 404
    assert r.json()["code"] == "resource_not_found" and r.json()["detail"] == "信息资源不存在或未发布"


@pytest.mark.article("A26.2")
@pytest.mark.parametrize(
    ("move", "code"), [("suspend", "grant_suspended"), ("revoke", "grant_revoked"), ("end", "grant_ended")]
)
def test_the_next_call_after_a_grant_change_is_refused(
    client: TestClient, session: Session, world: World, move: str, code: str
) -> None:
    assert read(client, world).status_code == 200
    grants.change_status(session, Actor.system(), world.grant.id, move, reason="超出申请用途使用")
    r = read(client, world)
    assert r.status_code == 403 and r.json()["code"] == code
    assert count_access(session, grant_id=world.grant.id) == 1


@pytest.mark.article("A26.2")
def test_an_expired_grant_is_refused(client: TestClient, world: World) -> None:
    clock.set_now(dt.datetime.combine(world.grant.valid_until + dt.timedelta(days=1), dt.time(10)))
    # the signature's timestamp follows the platform clock in this test
    r = signed_get(
        client,
        rows_path(world.resource.code),
        {"grant_id": world.grant.id},
        world.system.app_key,
        world.secret,
        timestamp=int(clock.now().timestamp()),
    )
    assert r.status_code == 403 and r.json()["code"] == "grant_expired"


def test_a_system_outside_the_grant_is_refused(client: TestClient, factory: Factory, world: World) -> None:
    other, secret = factory.consumer_system(world.consumer, name="另一系统")
    r = signed_get(client, rows_path(world.resource.code), {"grant_id": world.grant.id}, other.app_key, secret)
    assert r.status_code == 403 and r.json()["code"] == "system_not_in_grant"


def test_clear_grant_returns_clear_values(client: TestClient, factory: Factory, session: Session) -> None:
    world = build(factory, session, rows=2, masking="clear")
    r = read(client, world)
    assert r.json()["rows"][0][world.param("公民身份号码")] == person(0)["公民身份号码"]
    assert not any(d["masked"] for d in r.json()["data_items"])


def test_a_tampered_cursor_is_refused(client: TestClient, world: World) -> None:
    after = read(client, world, limit=5).json()["next"]
    r = read(client, world, after=after[:-3] + ("AAA" if not after.endswith("AAA") else "BBB"))
    assert r.status_code == 422 and r.json()["code"] == "cursor_invalid"
    r = read(client, world, after=after, sort=world.param("户口类别"))
    assert r.status_code == 422


def test_a_bearer_token_reads_until_the_secret_is_rotated(client: TestClient, session: Session, world: World) -> None:
    path = "/api/v1/consumer/token"
    r = client.post(path, headers=signing.sign("POST", path, None, b"", world.system.app_key, world.secret))
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert token.startswith("gsa_") and r.json()["expires_in"] == 900
    bearer = {"Authorization": f"Bearer {token}"}
    r = client.get(rows_path(world.resource.code), params={"grant_id": world.grant.id}, headers=bearer)
    assert r.status_code == 200, r.text
    from govshare.sharing import systems

    clock.set_now(clock.now() + dt.timedelta(seconds=1))
    systems.rotate_secret(session, Actor.system(), world.system.id)
    r = client.get(rows_path(world.resource.code), params={"grant_id": world.grant.id}, headers=bearer)
    assert r.status_code == 401 and r.json()["code"] == "token_expired"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Any]:
    from tests.exchange import api_upstream

    yield from api_upstream.serve()


@pytest.mark.article("A26.1", "A5.2", "A9.1")
def test_api_channel_resources_serve_only_granted_items_masked(
    client: TestClient, factory: Factory, session: Session, world: World, upstream: Any
) -> None:
    from govshare.exchange import api_mounts, gateway_networks
    from govshare.identity.permissions import Role

    gateway_networks.add_network(session, factory.role_actor(Role.bureau_admin), cidr="127.0.0.0/8")
    resource = population_resource(
        factory,
        world.provider,
        name="婚姻登记信息查询",
        channel="api",
        format_class="database",
        items=[
            {"name": "结婚证字号", "data_type": "C"},
            {"name": "男方姓名", "data_type": "C", "sensitivity": "person_name"},
            {"name": "女方姓名", "data_type": "C", "sensitivity": "person_name"},
            {"name": "登记日期", "data_type": "D"},
        ],
    )
    ids = {i.name: i.id for i in session.scalars(select(DataItem).where(DataItem.resource_id == resource.id))}
    api_mounts.mount_api(
        session,
        factory.compiler(world.provider),
        resource_id=resource.id,
        url=upstream.url("/marriage"),
        parameters=[{"name": "cert_no", "in": "query", "required": "true", "description": "结婚证字号"}],
        dictionary={
            ids["结婚证字号"]: "data.cert_no",
            ids["男方姓名"]: "data.man",
            ids["女方姓名"]: "data.woman",
            ids["登记日期"]: "data.registered_on",
        },
    )
    grant = grants.issue_grant(
        session,
        Actor.system(),
        resource_id=resource.id,
        consumer_department_id=world.consumer.id,
        data_item_ids=[ids["结婚证字号"], ids["男方姓名"]],
        purpose="低保家庭婚姻状况核对",
        valid_from=clock.today(),
        valid_until=clock.today() + dt.timedelta(days=30),
        system_ids=[world.system.id],
    )
    params = {"grant_id": grant.id, "cert_no": "J620102-2024-000123"}
    r = signed_get(client, rows_path(resource.code), params, world.system.app_key, world.secret)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == [{f"i{ids['结婚证字号']}": "J620102-2024-000123", f"i{ids['男方姓名']}": "张**"}]
    assert body["upstream_status"] == 200 and body["next"] is None
    assert "李娜" not in r.text and "张伟" not in r.text and "2024-05-20" not in r.text
    record = session.query(AccessRecord).filter_by(grant_id=grant.id).one()
    assert record.kind == "gateway" and record.row_count == 1
    assert record.detail["parameters"] == ["cert_no"] and "J620102" not in str(record.detail)
    r = signed_get(
        client, rows_path(resource.code), params | {"sort": f"i{ids['结婚证字号']}"}, world.system.app_key, world.secret
    )
    assert r.status_code == 422


def test_persons_read_with_their_personal_api_token_scope(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    from govshare.identity.permissions import Role
    from tests.helpers import sign_in

    user = factory.user(Role.dept_user, department=world.consumer)
    sign_in(client, session, user)
    r = client.get(f"/api/v1/sharing/data/{world.resource.code}/rows", params={"grant_id": world.grant.id, "limit": 3})
    assert r.status_code == 200, r.text
    assert len(r.json()["rows"]) == 3
    record = session.query(AccessRecord).filter_by(user_id=user.id).one()
    assert record.consumer_system_id is None


def test_the_demo_system_reads_with_its_printed_credentials(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    from govshare.demo.consumer_seed import DEMO_APP_KEY, DEMO_SECRET, print_credentials, seed_consumer

    seed_consumer(session, department_id=world.consumer.id, admin=factory.compiler(world.consumer))
    r = signed_get(client, rows_path(world.resource.code), {"grant_id": world.grant.id}, DEMO_APP_KEY, DEMO_SECRET)
    assert r.status_code == 200, r.text
    lines: list[str] = []
    print_credentials(lines.append, "http://127.0.0.1:8000")
    assert any(DEMO_SECRET in line for line in lines)


@pytest.mark.article("A8.1")
def test_rows_come_from_a_separate_base_database_when_configured(
    client: TestClient, factory: Factory, session: Session, world: World, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import insert

    from govshare.config import get_settings
    from govshare.exchange import base

    url = f"sqlite:///{(tmp_path / 'base.db').as_posix()}"
    items = sorted(world.items.values(), key=lambda i: i.position)
    specs = [base.ColumnSpec(item_id=i.id, name=i.name, data_type=i.data_type) for i in items]
    table = base.table_for(base.table_name(world.resource.id), specs)
    engine = base.base_engine(get_settings().model_copy(update={"base_url": url}))
    table.create(engine)
    with engine.begin() as conn:
        row = person(9000) | {"户口类别": "来自独立基座"}
        conn.execute(insert(table), [{base.column_name(i.id): row[i.name] for i in items}])
    monkeypatch.setenv("GOVSHARE_BASE_URL", url)
    get_settings.cache_clear()
    try:
        r = read(client, world)
    finally:
        monkeypatch.delenv("GOVSHARE_BASE_URL")
        get_settings.cache_clear()
    assert r.status_code == 200, r.text
    assert [row[world.param("户口类别")] for row in r.json()["rows"]] == ["来自独立基座"]
