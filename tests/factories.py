"""Factories that build realistic Lanzhou data through the services, for tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govshare.catalog import service as catalog
from govshare.catalog.models import Resource
from govshare.catalog.schemas import ConfidentialityReviewIn, DataItemIn, ResourceFields, ReviewDecisionIn
from govshare.identity import auth, repository
from govshare.identity.actor import Actor, RequestContext
from govshare.identity.models import Department, Region, RegionLevel, User
from govshare.identity.permissions import Role
from govshare.identity.reference import bureau
from govshare.identity.service import create_department, create_user
from govshare.kit import clock
from govshare.kit.uscc import make_uscc
from govshare.sharing.models import ConsumerSystem

PASSWORD = "Lz-Test-Passw0rd!"
_seq = itertools.count(1)


@dataclass
class Factory:
    session: Session

    @property
    def system(self) -> Actor:
        return Actor.system()

    def region(self, name: str) -> Region:
        for region in repository.regions(self.session):
            if region.name == name:
                return region
        raise LookupError(name)

    def department(self, name: str | None = None, region: str = "兰州市") -> Department:
        n = next(_seq)
        name = name or f"测试部门{n}"
        existing = repository.department_by_name(self.session, name)
        if existing is not None:
            return existing
        body = f"11620100MB{n:07d}"
        return create_department(
            self.session,
            self.system,
            name=name,
            uscc=make_uscc(body),
            region_id=self.region(region).id,
            sharing_office="信息中心",
        )

    def bureau(self) -> Department:
        return bureau(self.session)

    def user(
        self,
        role: Role | None = Role.dept_user,
        *,
        department: Department | None = None,
        region: str | None = None,
        username: str | None = None,
    ) -> User:
        n = next(_seq)
        if department is None:
            department = self.bureau() if role in (Role.bureau_admin, Role.bureau_reviewer) else self.department()
        roles: list[tuple[Role, int | None]] = []
        if role is not None:
            roles.append((role, self.region(region).id if region else None))
        return create_user(
            self.session,
            self.system,
            username=username or f"user{n}",
            display_name=f"测试用户{n}",
            department_id=department.id,
            password=PASSWORD,
            roles=roles,
            must_change_password=False,
        )

    def actor(self, user: User) -> Actor:
        loaded = repository.user_with_roles(self.session, user.id)
        assert loaded is not None
        return auth.actor_for(loaded, RequestContext(source_ip="10.1.2.3"))

    # --- catalog -------------------------------------------------------------------------------

    def compiler(self, department: Department) -> Actor:
        """A 数据资源管理员 (dept_admin) of ``department``, without a login account."""
        return Actor(
            user_id=None,
            username=f"compiler-{department.id}",
            display_name="数据资源管理员",
            department_id=department.id,
            department_region_id=department.region_id,
            roles=frozenset({Role.dept_admin}),
            context=RequestContext(source_ip="10.1.2.3"),
        )

    def reviewer_for(self, department: Department) -> Actor:
        """The authority responsible for ``department``'s catalog (A15.2), without a login account."""
        region = repository.region(self.session, department.region_id)
        assert region is not None
        if region.level == RegionLevel.county:
            return Actor(
                user_id=None,
                username=f"region-reviewer-{region.id}",
                display_name="县区审核员",
                department_id=department.id,
                department_region_id=region.id,
                roles=frozenset({Role.region_reviewer}),
                reviewer_region_ids=frozenset({region.id}),
                context=RequestContext(source_ip="10.1.2.4"),
            )
        bureau_dept = self.bureau()
        return Actor(
            user_id=None,
            username="bureau-reviewer",
            display_name="市大数据局审核员",
            department_id=bureau_dept.id,
            department_region_id=bureau_dept.region_id,
            roles=frozenset({Role.bureau_reviewer}),
            context=RequestContext(source_ip="10.1.2.5"),
        )

    def role_actor(self, role: Role, *, department: Department | None = None, region: str | None = None) -> Actor:
        """An actor holding ``role`` without a login account (no password hashing: fast)."""
        if department is None:
            department = self.bureau() if role in (Role.bureau_admin, Role.bureau_reviewer) else self.department()
        return Actor(
            user_id=None,
            username=f"{role.value}-{next(_seq)}",
            department_id=department.id,
            department_region_id=department.region_id,
            roles=frozenset({role}),
            reviewer_region_ids=frozenset({self.region(region).id}) if region else frozenset(),
            context=RequestContext(source_ip="10.1.2.6"),
        )

    def resource_fields(self, **overrides: Any) -> ResourceFields:
        """Valid content for a resource; any ResourceFields field may be overridden.

        ``items`` may be DataItemIn objects, dicts, or (name, data_type) pairs.
        """
        n = next(_seq)
        data: dict[str, Any] = {
            "name": f"测试信息资源{n}",
            "classification_code": "301",
            "summary": "办件过程信息",
            "scenario": "政务服务事项办理时核验办件信息",
            "format_class": "database",
            "format_type": "MySQL",
            "channel": "table",
            "update_cycle": "daily",
            "items": [("办件编号", "C"), ("办结日期", "D")],
        }
        data.update(overrides)
        items: list[DataItemIn] = []
        for item in data["items"]:
            if isinstance(item, DataItemIn):
                items.append(item)
            elif isinstance(item, dict):
                items.append(DataItemIn(**item))
            else:
                items.append(DataItemIn(name=item[0], data_type=item[1]))
        data["items"] = items
        return ResourceFields(**data)

    def resource(
        self, department: Department | None = None, *, actor: Actor | None = None, **overrides: Any
    ) -> Resource:
        """A draft of ``department`` (a new city department when omitted), created through the service."""
        department = department or self.department()
        return catalog.create_resource(
            self.session,
            actor or self.compiler(department),
            self.resource_fields(**overrides),
            provider_id=department.id,
        )

    def reviewed_resource(self, department: Department | None = None, **overrides: Any) -> Resource:
        """A draft with a passed 保密审查 of its current revision, ready to submit."""
        department = department or self.department()
        resource = self.resource(department, **overrides)
        self.confidentiality_review(resource)
        return resource

    def confidentiality_review(self, resource: Resource, result: str = "passed") -> None:
        department = repository.department(self.session, resource.provider_id)
        assert department is not None
        catalog.record_confidentiality_review(
            self.session,
            self.compiler(department),
            resource.id,
            ConfidentialityReviewIn(
                reviewer_name="保密审查员",
                reviewed_on=clock.today(),
                result=result,
                note="" if result == "passed" else "含涉密内容",
            ),
        )

    def submitted_resource(self, department: Department | None = None, **overrides: Any) -> Resource:
        """A resource submitted for review (保密审查 recorded)."""
        department = department or self.department()
        resource = self.reviewed_resource(department, **overrides)
        return catalog.submit(self.session, self.compiler(department), resource.id)

    def published_resource(
        self, department: Department | None = None, *, reviewer: Actor | None = None, **overrides: Any
    ) -> Resource:
        """A published resource (version 1), through compile → 保密审查 → submit → approve."""
        department = department or self.department()
        resource = self.submitted_resource(department, **overrides)
        return catalog.decide(
            self.session,
            reviewer or self.reviewer_for(department),
            resource.id,
            ReviewDecisionIn(decision="approved", comment="同意发布"),
        )

    # --- sharing: consumer systems and the base ----------------------------------------------------

    def consumer_system(
        self, department: Department | None = None, *, name: str = "一网通办业务系统", rate_limit_per_minute: int = 600
    ) -> tuple[ConsumerSystem, str]:
        """A registered consumer system of ``department`` and its secret."""
        from govshare.sharing import systems

        department = department or self.department()
        return systems.register_system(
            self.session, self.compiler(department), name=name, rate_limit_per_minute=rate_limit_per_minute
        )

    def base_rows(self, resource: Resource, rows: list[dict[str, Any]], *, key: str | None = None) -> str:
        """Fill the base table of ``resource`` (one column per 信息项) with rows keyed by 信息项 name.

        With ``key`` (a 信息项 name) the table gets the unique key index and an active table mount
        naming it, as a table sync would leave them. Returns the table name.
        """
        from sqlalchemy import insert, select, text

        from govshare.catalog.models import DataItem
        from govshare.exchange import base
        from govshare.exchange.models import BaseTable, Mount

        stmt = select(DataItem).where(DataItem.resource_id == resource.id).order_by(DataItem.position)
        items = list(self.session.scalars(stmt))
        specs = [base.ColumnSpec(item_id=i.id, name=i.name, data_type=i.data_type) for i in items]
        name = base.table_name(resource.id)
        conn = self.session.connection()
        table = base.table_for(name, specs)
        table.create(conn)
        by_name = {i.name: base.column_name(i.id) for i in items}
        if rows:
            conn.execute(insert(table), [{by_name[k]: v for k, v in row.items()} for row in rows])
        mapping = {str(i.id): i.name for i in items}
        if key is not None:
            conn.execute(text(f'CREATE UNIQUE INDEX "{base.key_index_name(name)}" ON "{name}" ("{by_name[key]}")'))
        self.session.add(
            Mount(resource_id=resource.id, channel="table", config={}, key_column=key or "", mapping=mapping)
        )
        self.session.add(
            BaseTable(
                resource_id=resource.id,
                table_name=name,
                row_count=len(rows),
                columns=[
                    {"column": base.column_name(i.id), "item_id": i.id, "name": i.name, "type": i.data_type}
                    for i in items
                ],
            )
        )
        self.session.flush()
        return name
