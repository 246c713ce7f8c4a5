"""Factories that build realistic Lanzhou data through the services, for tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from govshare.identity import auth, repository
from govshare.identity.actor import Actor, RequestContext
from govshare.identity.models import Department, Region, User
from govshare.identity.permissions import Role
from govshare.identity.reference import bureau
from govshare.identity.service import create_department, create_user
from govshare.kit.uscc import make_uscc

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
