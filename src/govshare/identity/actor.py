"""Who is acting, and from where. Services take an ``Actor``; they never see the HTTP request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from govshare.errors import Forbidden
from govshare.identity.permissions import ROLE_LABELS, Permission, Role, permissions_for


@dataclass(frozen=True)
class RequestContext:
    source_ip: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    user_agent: str = ""


@dataclass(frozen=True)
class Actor:
    """A person (or the platform itself) with resolved roles and scopes."""

    user_id: int | None
    username: str
    display_name: str = ""
    department_id: int | None = None
    department_region_id: int | None = None
    roles: frozenset[Role] = frozenset()
    reviewer_region_ids: frozenset[int] = frozenset()
    context: RequestContext = field(default_factory=RequestContext)
    session_id: int | None = None
    kind: str = "person"
    must_change_password: bool = False

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.kind == "system":
            return frozenset(Permission)
        return permissions_for(set(self.roles))

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if self.must_change_password and permission != Permission.own_account:
            # A temporary password set by an administrator is good for changing itself, nothing else.
            raise Forbidden("请先修改管理员设置的临时密码", code="password_change_required")
        if not self.can(permission):
            raise Forbidden(f"当前账号无“{permission}”权限", code="permission_denied")

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def role_label(self) -> str:
        """The role written to audit records: the most privileged one held."""
        for role in Role:
            if role in self.roles:
                return role.value
        return self.kind

    @property
    def role_names(self) -> list[str]:
        return [ROLE_LABELS[r] for r in Role if r in self.roles]

    @classmethod
    def system(cls, context: RequestContext | None = None, name: str = "system") -> Actor:
        return cls(user_id=None, username=name, display_name="平台", kind="system", context=context or RequestContext())

    @classmethod
    def anonymous(cls, context: RequestContext | None = None) -> Actor:
        return cls(
            user_id=None,
            username="anonymous",
            display_name="匿名",
            kind="anonymous",
            context=context or RequestContext(),
        )
