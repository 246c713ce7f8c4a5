"""Shared set-up of the consumer data API tests: a 市公安局 population resource in the base, a
市民政局 system with a grant on part of it, and signed calls through the TestClient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import DataItem, Resource
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.kit import clock
from govshare.sharing import client as signing
from govshare.sharing.grants import issue_grant
from govshare.sharing.models import AccessRecord, ConsumerSystem, Grant
from tests.factories import Factory

ITEMS: list[dict[str, Any]] = [
    {"name": "公民身份号码", "data_type": "C", "sensitivity": "id_number"},
    {"name": "姓名", "data_type": "C", "sensitivity": "person_name"},
    {"name": "联系电话", "data_type": "C", "sensitivity": "phone"},
    {"name": "户籍地址", "data_type": "C", "sensitivity": "address"},
    {"name": "户口类别", "data_type": "C"},
    {"name": "出生日期", "data_type": "D"},
    {"name": "内部备注", "data_type": "C", "shareable": False},
]
GRANTED = ["公民身份号码", "姓名", "户口类别", "出生日期"]
SECRET_VALUES = ("1390931", "七里河区西津西路", "内部备注")  # fragments of ungranted or unshareable values


def person(n: int) -> dict[str, Any]:
    return {
        "公民身份号码": f"62010219{80 + n % 20:02d}0101{n:04d}",
        "姓名": ["张伟", "王芳", "李娜", "欧阳修远"][n % 4] + ("" if n < 4 else str(n)),
        "联系电话": f"1390931{n:04d}",
        "户籍地址": f"甘肃省兰州市七里河区西津西路{n}号",
        "户口类别": ["非农业", "农业", "居民"][n % 3],
        "出生日期": dt.date(1980 + n % 20, 1, 1 + n % 28),
        "内部备注": f"内部备注{n}",
    }


@dataclass
class World:
    provider: Department
    consumer: Department
    resource: Resource
    items: dict[str, DataItem]
    system: ConsumerSystem
    secret: str
    grant: Grant

    def ids(self, *names: str) -> list[int]:
        return [self.items[n].id for n in names]

    def param(self, name: str) -> str:
        return f"i{self.items[name].id}"


def population_resource(
    factory: Factory, provider: Department, *, share_type: str = "conditional", **kw: Any
) -> Resource:
    fields: dict[str, Any] = {
        "name": kw.pop("name", "人口基本信息"),
        "classification_code": "101",
        "items": ITEMS,
        "share_type": share_type,
    }
    if share_type == "conditional":
        fields["share_condition"] = "仅限履行法定职责使用"
    if share_type == "none":
        fields["share_basis"] = "《中华人民共和国居民身份证法》第十三条"
    fields.update(kw)
    return factory.published_resource(provider, **fields)


def build(factory: Factory, session: Session, *, rows: int = 250, masking: str = "masked") -> World:
    provider = factory.department("市公安局")
    consumer = factory.department("市民政局")
    resource = population_resource(factory, provider)
    factory.base_rows(resource, [person(n) for n in range(rows)], key="公民身份号码")
    items = {i.name: i for i in session.scalars(select(DataItem).where(DataItem.resource_id == resource.id))}
    system, secret = factory.consumer_system(consumer)
    grant = issue_grant(
        session,
        Actor.system(),
        resource_id=resource.id,
        consumer_department_id=consumer.id,
        data_item_ids=[items[n].id for n in GRANTED],
        purpose="最低生活保障资格核验",
        valid_from=clock.today(),
        valid_until=clock.today() + dt.timedelta(days=365),
        masking=masking,
        system_ids=[system.id],
    )
    return World(provider, consumer, resource, items, system, secret, grant)


def rows_path(code: str) -> str:
    return f"/api/v1/consumer/resources/{code}/rows"


def signed_get(
    client: TestClient,
    path: str,
    params: dict[str, Any] | list[tuple[str, Any]],
    app_key: str,
    secret: str,
    **sign_kw: Any,
) -> Any:
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    pairs = [(k, str(v)) for k, v in pairs if v is not None]
    headers = signing.sign("GET", path, pairs, b"", app_key, secret, **sign_kw)
    return client.get(path, params=pairs, headers=headers)


def read(client: TestClient, world: World, **params: Any) -> Any:
    params.setdefault("grant_id", world.grant.id)
    return signed_get(client, rows_path(world.resource.code), params, world.system.app_key, world.secret)


def count_access(session: Session, **where: Any) -> int:
    stmt = select(func.count()).select_from(AccessRecord)
    for key, value in where.items():
        stmt = stmt.where(getattr(AccessRecord, key) == value)
    return int(session.scalar(stmt) or 0)


def audit_actions(session: Session, action: str) -> list[AuditRecord]:
    return list(session.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)))
