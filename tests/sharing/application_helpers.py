"""Builders shared by the application, coordination and grant tests (H6's tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govshare.catalog import repository
from govshare.catalog.models import Resource
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.sharing import applications
from govshare.sharing.applications import ItemRequest
from govshare.sharing.models import Application
from tests.factories import Factory

POPULATION_ITEMS = [
    {"name": "姓名", "data_type": "C", "sensitivity": "person_name", "is_basic": True},
    {"name": "公民身份号码", "data_type": "C", "sensitivity": "id_number", "is_basic": True},
    {"name": "性别", "data_type": "C"},
    {"name": "出生日期", "data_type": "D"},
    {"name": "户籍地址", "data_type": "C", "sensitivity": "address"},
    {"name": "联系电话", "data_type": "C", "sensitivity": "phone"},
    {"name": "宗教信仰", "data_type": "C", "shareable": False},
]


@dataclass
class Parties:
    provider: Department
    consumer: Department
    resource: Resource
    applicant: Actor  # a dept_user of the consumer
    provider_admin: Actor  # the provider's dept_admin
    authority: Actor  # the bureau's reviewer

    def item_id(self, name: str) -> int:
        return next(i.id for i in self.resource.items if i.name == name)


def conditional_resource(factory: Factory, provider: Department, **overrides: object) -> Resource:
    fields: dict[str, object] = {
        "name": overrides.pop("name", f"人口基本信息{provider.id}"),
        "share_type": "conditional",
        "share_condition": "仅限履行法定职责需要核验人员身份时使用",
        "items": POPULATION_ITEMS,
        "channel": "api",
    }
    fields.update(overrides)
    return factory.published_resource(provider, **fields)


def parties(factory: Factory, **overrides: object) -> Parties:
    provider = factory.department()
    consumer = factory.department()
    resource = conditional_resource(factory, provider, **overrides)
    loaded = repository.readable_resource(factory.session, factory.system, resource.id)
    assert loaded is not None
    return Parties(
        provider=provider,
        consumer=consumer,
        resource=loaded,
        applicant=factory.role_actor(Role.dept_user, department=consumer),
        provider_admin=factory.role_actor(Role.dept_admin, department=provider),
        authority=factory.reviewer_for(provider),
    )


def apply(session: Session, p: Parties, names: list[str] | None = None, **overrides: Any) -> Application:
    """Submit an application for ``names`` (default 姓名 and 联系电话) with reasons where needed."""
    names = names or ["姓名", "联系电话"]
    today = clock.today()
    args: dict[str, Any] = {
        "resource_id": p.resource.id,
        "items": [ItemRequest(p.item_id(n), "" if n in ("姓名", "公民身份号码") else f"核验{n}") for n in names],
        "scenario": "最低生活保障家庭经济状况核对",
        "duty_basis": "《社会救助暂行办法》第十一条",
        "purpose": "核对低保申请人身份及联系方式",
        "period_from": today,
        "period_until": today + dt.timedelta(days=365),
    }
    args.update(overrides)
    return applications.submit_application(session, p.applicant, **args)
