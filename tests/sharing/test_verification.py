"""Verification (A22.1): match / no match only, on the provider's chosen 信息项, within grants."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.repository import resource_with_items
from govshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from govshare.exchange import base
from govshare.exchange.models import BaseTable
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.sharing import verification
from govshare.sharing.client import sign
from govshare.sharing.grants import change_status, issue_grant
from govshare.sharing.models import AccessRecord, ConsumerSystem, Grant
from govshare.sharing.systems import register_system
from tests.factories import Factory
from tests.helpers import csrf, sign_in

ITEMS = [
    {"name": "公民身份号码", "data_type": "C", "sensitivity": "id_number", "is_basic": True},
    {"name": "姓名", "data_type": "C", "sensitivity": "person_name", "is_basic": True},
    {"name": "联系电话", "data_type": "C", "sensitivity": "phone"},
    {"name": "出生日期", "data_type": "D"},
]
ID_NUMBER = "620102199001011234"


@dataclass
class World:
    police: Department
    civil: Department
    other: Department
    people: Resource  # conditional
    open_res: Resource  # unconditional
    grant: Grant  # civil: 公民身份号码 + 姓名 of people
    system: ConsumerSystem
    secret: str
    id_item: DataItem
    name_item: DataItem
    phone_item: DataItem
    born_item: DataItem
    session: Session

    @property
    def provider(self) -> Actor:
        return Actor(
            user_id=None,
            username="police-admin",
            department_id=self.police.id,
            roles=frozenset({Role.dept_admin}),
        )

    def consumer(self, department: Department | None = None) -> Actor:
        return Actor(
            user_id=None,
            username="civil-user",
            department_id=(department or self.civil).id,
            roles=frozenset({Role.dept_user}),
        )


def _loaded(session: Session, resource: Resource) -> Resource:
    loaded = resource_with_items(session, resource.id)
    assert loaded is not None
    return loaded


def make_base(session: Session, resource: Resource, rows: list[dict[str, Any]]) -> None:
    """The resource's base table, as a sync leaves it, with ``rows`` keyed by 信息项 name."""
    specs = [base.ColumnSpec(item_id=i.id, name=i.name, data_type=i.data_type) for i in resource.items]
    by_name = {i.name: i.id for i in resource.items}
    table = base.table_for(base.table_name(resource.id), specs)
    conn = session.connection()
    table.create(conn)
    conn.execute(table.insert(), [{base.column_name(by_name[k]): v for k, v in row.items()} for row in rows])
    columns = [{"column": s.column, "item_id": s.item_id, "name": s.name, "type": s.data_type} for s in specs]
    session.add(BaseTable(resource_id=resource.id, table_name=base.table_name(resource.id), columns=columns))
    session.flush()


PEOPLE = [
    {"公民身份号码": ID_NUMBER, "姓名": "张三", "联系电话": "13912345678", "出生日期": dt.date(1990, 1, 1)},
    {"公民身份号码": "62010219850505432X", "姓名": "李四", "联系电话": "13800001111", "出生日期": dt.date(1985, 5, 5)},
]


@pytest.fixture
def world(factory: Factory, session: Session) -> World:
    police = factory.department("兰州市公安局")
    civil = factory.department("兰州市民政局")
    other = factory.department("兰州市体育局")
    people = _loaded(
        session,
        factory.published_resource(
            police,
            name="户籍人口基本信息",
            share_type="conditional",
            share_condition="仅限履行法定职责使用",
            items=ITEMS,
        ),
    )
    open_res = _loaded(session, factory.published_resource(police, name="居民身份证签发信息", items=ITEMS))
    make_base(session, people, PEOPLE)
    make_base(session, open_res, PEOPLE)
    id_item, name_item, phone_item, born_item = people.items
    system, secret = register_system(session, factory.compiler(civil), name="民政救助系统", rate_limit_per_minute=1000)
    grant = issue_grant(
        session,
        Actor.system(),
        resource_id=people.id,
        consumer_department_id=civil.id,
        data_item_ids=[id_item.id, name_item.id],
        purpose="社会救助对象资格审核",
        valid_from=dt.date(2026, 1, 1),
        valid_until=dt.date(2027, 12, 31),
        system_ids=[system.id],
    )
    w = World(
        police,
        civil,
        other,
        people,
        open_res,
        grant,
        system,
        secret,
        id_item,
        name_item,
        phone_item,
        born_item,
        session,
    )
    for resource in (people, open_res):
        ids = [i.id for i in resource.items[:2]]
        verification.update_setting(session, w.provider, resource.id, enabled=True, data_item_ids=ids)
    return w


def _match(
    w: World, id_number: str = ID_NUMBER, name: str = "张三", resource: Resource | None = None
) -> dict[str, str]:
    ids = _item_ids(w.session, resource or w.people)
    return {f"i{ids[0]}": id_number, f"i{ids[1]}": name}


def _item_ids(session: Session, resource: Resource) -> list[int]:
    stmt = select(DataItem.id).where(DataItem.resource_id == resource.id).order_by(DataItem.position)
    return list(session.execute(stmt).scalars())


@pytest.mark.article("A22.1")
def test_a_grant_holder_learns_match_or_no_match_and_nothing_else(session: Session, world: World) -> None:
    w = world
    found = verification.verify(session, w.consumer(), match=_match(w), resource_id=w.people.id, grant_id=w.grant.id)
    assert found.result == "match"
    wrong_name = verification.verify(
        session, w.consumer(), match=_match(w, name="张四"), resource_id=w.people.id, grant_id=w.grant.id
    )
    assert wrong_name.result == "no_match"
    # the pair must be in one row: 李四's name with 张三's number does not match
    crossed = verification.verify(
        session, w.consumer(), match=_match(w, name="李四"), resource_id=w.people.id, grant_id=w.grant.id
    )
    assert crossed.result == "no_match"
    records = list(
        session.execute(
            select(AccessRecord).where(AccessRecord.resource_id == w.people.id).order_by(AccessRecord.id)
        ).scalars()
    )
    assert [(r.kind, r.row_count, r.detail["result"]) for r in records] == [
        ("verify", 0, "match"),
        ("verify", 0, "no_match"),
        ("verify", 0, "no_match"),
    ]
    assert records[0].grant_id == w.grant.id and records[0].consumer_department_id == w.civil.id
    assert records[0].purpose == "社会救助对象资格审核"
    assert records[0].data_item_ids == [w.id_item.id, w.name_item.id]
    audits = list(session.execute(select(AuditRecord).where(AuditRecord.action == "sharing.data.verified")).scalars())
    assert len(audits) == 3 and audits[0].object_id == str(w.people.id)
    # the values sent are stored nowhere
    stored = json.dumps([a.after for a in audits] + [r.detail for r in records], ensure_ascii=False)
    assert ID_NUMBER not in stored and "张三" not in stored


@pytest.mark.article("A22.1")
def test_only_the_chosen_and_granted_items_can_be_matched(session: Session, world: World) -> None:
    w = world
    ask = {"resource_id": w.people.id, "grant_id": w.grant.id}
    phone = {**_match(w), f"i{w.phone_item.id}": "13912345678"}
    with pytest.raises(Forbidden) as refused:
        verification.verify(session, w.consumer(), match=phone, **ask)  # type: ignore[arg-type]
    assert refused.value.code == "item_not_enabled"
    # the provider enables 联系电话 too, but the grant does not cover it
    ids = [w.id_item.id, w.name_item.id, w.phone_item.id]
    verification.update_setting(session, w.provider, w.people.id, enabled=True, data_item_ids=ids)
    with pytest.raises(Forbidden) as refused:
        verification.verify(session, w.consumer(), match=phone, **ask)  # type: ignore[arg-type]
    assert refused.value.code == "item_not_granted"
    # every chosen item is required: one alone cannot be probed
    verification.update_setting(session, w.provider, w.people.id, enabled=True, data_item_ids=ids[:2])
    with pytest.raises(ValidationFailed) as missing:
        verification.verify(session, w.consumer(), match={f"i{w.id_item.id}": ID_NUMBER}, **ask)  # type: ignore[arg-type]
    assert "姓名" in missing.value.detail
    with pytest.raises(ValidationFailed):
        verification.verify(session, w.consumer(), match={"姓名": "张三"}, **ask)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        verification.verify(session, w.consumer(), match=_match(w, name=" "), **ask)  # type: ignore[arg-type]
    assert session.execute(select(AccessRecord).where(AccessRecord.resource_id == w.people.id)).first() is None


@pytest.mark.article("A22.1")
def test_grants_are_checked_on_every_call(session: Session, world: World) -> None:
    w = world
    with pytest.raises(ValidationFailed):  # conditional: a grant is needed
        verification.verify(session, w.consumer(), match=_match(w), resource_id=w.people.id)
    with pytest.raises(NotFound):  # another department cannot use civil's grant
        verification.verify(session, w.consumer(w.other), match=_match(w), resource_id=w.people.id, grant_id=w.grant.id)
    change_status(session, Actor.system(), w.grant.id, "revoke", reason="超范围使用")
    with pytest.raises(Forbidden) as refused:
        verification.verify(session, w.consumer(), match=_match(w), resource_id=w.people.id, grant_id=w.grant.id)
    assert refused.value.code == "grant_revoked"


@pytest.mark.article("A22.1", "A20.1")
def test_unconditional_resources_need_no_grant(session: Session, world: World) -> None:
    w = world
    found = verification.verify(
        session, w.consumer(w.other), match=_match(w, resource=w.open_res), resource_id=w.open_res.id
    )
    assert found.result == "match"
    rec = session.execute(select(AccessRecord).where(AccessRecord.resource_id == w.open_res.id)).scalar_one()
    assert rec.grant_id is None and rec.consumer_department_id == w.other.id and rec.kind == "verify"


@pytest.mark.article("A22.1")
def test_unshared_unpublished_and_disabled_resources_are_refused(
    factory: Factory, session: Session, world: World
) -> None:
    w = world
    closed = _loaded(
        session,
        factory.published_resource(
            w.police, name="涉案人员信息", share_type="none", share_basis="《中华人民共和国刑事诉讼法》", items=ITEMS
        ),
    )
    draft = _loaded(session, factory.resource(w.police, name="流动人口信息草稿", items=ITEMS))
    for resource in (closed, draft):
        with pytest.raises(NotFound):
            verification.verify(session, w.consumer(), match=_match(w, resource=resource), resource_id=resource.id)
        with pytest.raises(NotFound):
            verification.update_setting(session, w.provider, resource.id, enabled=True, data_item_ids=[])
    verification.update_setting(session, w.provider, w.open_res.id, enabled=False, data_item_ids=[])
    with pytest.raises(Forbidden) as refused:
        verification.verify(session, w.consumer(), match=_match(w, resource=w.open_res), resource_id=w.open_res.id)
    assert refused.value.code == "verification_disabled"


def test_only_the_provider_configures_and_the_choice_is_audited(session: Session, world: World) -> None:
    w = world
    civil_admin = Actor(
        user_id=None, username="civil-admin", department_id=w.civil.id, roles=frozenset({Role.dept_admin})
    )
    with pytest.raises(Forbidden):
        verification.update_setting(session, civil_admin, w.people.id, enabled=True, data_item_ids=[w.id_item.id])
    with pytest.raises(ValidationFailed):
        verification.update_setting(session, w.provider, w.people.id, enabled=True, data_item_ids=[])
    with pytest.raises(ValidationFailed):
        verification.update_setting(
            session, w.provider, w.people.id, enabled=True, data_item_ids=[w.open_res.items[0].id]
        )
    view = verification.get_setting(session, w.consumer(), w.people.id)
    with pytest.raises(Conflict):
        verification.update_setting(
            session, w.provider, w.people.id, enabled=True, data_item_ids=[w.id_item.id], expected_version=99
        )
    verification.update_setting(
        session,
        w.provider,
        w.people.id,
        enabled=True,
        data_item_ids=[w.id_item.id, w.born_item.id],
        expected_version=view.setting.version if view.setting else None,
    )
    rec = session.execute(
        select(AuditRecord)
        .where(AuditRecord.action == "sharing.verification.setting_changed")
        .order_by(AuditRecord.seq.desc())
    ).scalar()
    assert rec is not None and rec.after == {"enabled": True, "data_item_ids": [w.id_item.id, w.born_item.id]}
    assert rec.before == {"enabled": True, "data_item_ids": [w.id_item.id, w.name_item.id]}
    # a date item is compared as a date; a value that is not one is refused
    id_number, _, _, born = _item_ids(session, w.open_res)
    verification.update_setting(session, w.provider, w.open_res.id, enabled=True, data_item_ids=[id_number, born])
    open_match = {f"i{id_number}": ID_NUMBER, f"i{born}": "1990-01-01"}
    assert verification.verify(session, w.consumer(), match=open_match, resource_id=w.open_res.id).matched
    open_match[f"i{born}"] = "1985-05-05"
    assert not verification.verify(session, w.consumer(), match=open_match, resource_id=w.open_res.id).matched
    open_match[f"i{born}"] = "1990-13-01"
    with pytest.raises(ValidationFailed):
        verification.verify(session, w.consumer(), match=open_match, resource_id=w.open_res.id)


def _signed_post(client: TestClient, path: str, body: dict[str, Any], key: str, secret: str) -> Any:
    raw = json.dumps(body).encode()
    headers = sign("POST", path, None, raw, key, secret) | {"Content-Type": "application/json"}
    return client.post(path, content=raw, headers=headers)


@pytest.mark.article("A22.1")
def test_consumer_systems_verify_over_signed_http(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    w = world
    path = f"/api/v1/consumer/resources/{w.people.code}/verify"
    r = _signed_post(client, path, {"grant_id": w.grant.id, "match": _match(w)}, w.system.app_key, w.secret)
    assert r.status_code == 200, r.text
    assert r.json() == {"result": "match"}
    r = _signed_post(
        client, path, {"grant_id": w.grant.id, "match": _match(w, name="王五")}, w.system.app_key, w.secret
    )
    assert r.json() == {"result": "no_match"}
    rec = session.execute(
        select(AccessRecord).where(AccessRecord.consumer_system_id == w.system.id).order_by(AccessRecord.id.desc())
    ).scalar()
    assert rec is not None and rec.kind == "verify" and rec.detail == {"result": "no_match"}
    # an ungranted item: 403 problem+json, and no hint of the data
    verification.update_setting(
        session, w.provider, w.people.id, enabled=True, data_item_ids=[w.id_item.id, w.name_item.id, w.phone_item.id]
    )
    body = {"grant_id": w.grant.id, "match": {**_match(w), f"i{w.phone_item.id}": "13912345678"}}
    r = _signed_post(client, path, body, w.system.app_key, w.secret)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "item_not_granted" and "13912345678" not in r.text
    # a system of the department that the grant does not name
    other_system, other_secret = register_system(session, factory.compiler(w.civil), name="民政办公系统")
    r = _signed_post(client, path, {"grant_id": w.grant.id, "match": _match(w)}, other_system.app_key, other_secret)
    assert r.status_code == 403 and r.json()["code"] == "system_not_in_grant"
    # a bad signature never reaches the check
    r = _signed_post(client, path, {"grant_id": w.grant.id, "match": _match(w)}, w.system.app_key, "wrong")
    assert r.status_code == 401 and r.json()["code"] == "signature_invalid"


@pytest.mark.article("A22.1")
def test_people_use_the_api_and_the_pages(client: TestClient, factory: Factory, session: Session, world: World) -> None:
    w = world
    provider = factory.user(Role.dept_admin, department=w.police)
    sign_in(client, session, provider)
    r = client.get(f"/sharing/verification/{w.people.id}")
    assert r.status_code == 200 and "保存核验设置" in r.text and "公民身份号码" in r.text
    r = client.post(
        f"/sharing/verification/{w.people.id}/setting",
        data={"enabled": "on", "data_item_ids": [str(w.id_item.id), str(w.name_item.id)], "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    r = client.get(f"/api/v1/sharing/resources/{w.people.id}/verification")
    assert [i["name"] for i in r.json()["items"]] == ["公民身份号码", "姓名"] and r.json()["enabled"] is True

    consumer = TestClient(client.app, base_url="http://testserver")
    sign_in(consumer, session, factory.user(Role.dept_user, department=w.civil))
    r = consumer.post(
        f"/api/v1/sharing/resources/{w.people.id}/verify",
        json={"grant_id": w.grant.id, "match": _match(w)},
        headers={"X-CSRF-Token": csrf(consumer)},
    )
    assert r.status_code == 200 and r.json() == {"result": "match"}
    assert f'href="/sharing/verification/{w.people.id}"' in consumer.get(f"/catalog/{w.people.id}").text
    r = consumer.get(f"/sharing/verification/{w.people.id}")
    assert r.status_code == 200 and "保存核验设置" not in r.text and 'name="values"' in r.text
    r = consumer.post(
        f"/sharing/verification/{w.people.id}/check",
        data={
            "grant_id": str(w.grant.id),
            "item_ids": [str(w.id_item.id), str(w.name_item.id)],
            "values": [ID_NUMBER, "张三"],
            "csrf_token": csrf(consumer),
        },
    )
    assert r.status_code == 200 and "核验结果:一致" in r.text and ID_NUMBER not in r.text
    r = consumer.post(
        f"/sharing/verification/{w.people.id}/check",
        data={
            "grant_id": str(w.grant.id),
            "item_ids": [str(w.id_item.id)],
            "values": [ID_NUMBER],
            "csrf_token": csrf(consumer),
        },
    )
    assert r.status_code == 422 and "姓名" in r.text
    # the consumer cannot change the setting
    r = consumer.put(
        f"/api/v1/sharing/resources/{w.people.id}/verification",
        json={"enabled": False},
        headers={"X-CSRF-Token": csrf(consumer)},
    )
    assert r.status_code == 403
