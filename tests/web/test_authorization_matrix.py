"""The authorization matrix (A31.1, A40.1): role × scope × action, over real HTTP with real sign-ins.

Each role signs in once per test; every action runs against a target in the actor's *own* scope and
in the *other* scope, and the outcome (``ok`` 2xx/3xx, ``deny`` 403, ``hide`` 404) is compared with
the full expected table — so an unexpected allow fails just as an unexpected refusal does.

Scopes. ``own`` targets belong to department A in 城关区: the department of the dept_admin and
dept_user, in the region of the region_reviewer. ``other`` targets belong to department B, a city
department in 兰州市 (reviewed by the bureau). For the bureau's roles and the auditor the two scopes
simply name the county and the city department.

Adding rows: append a ``Row`` to ``ROWS`` with a ``call(world, scope)`` that prepares its own target
(through the factory) and makes one request, and an ``expect`` giving, per role, one outcome for both
scopes or an ``(own, other)`` pair. Roles missing from ``expect`` are expected to be denied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.identity import register
from govshare.identity.actor import Actor
from govshare.identity.models import Department, User
from govshare.identity.permissions import Role
from govshare.kit import clock
from govshare.kit.uscc import make_uscc
from tests.factories import Factory
from tests.helpers import headers, sign_in

OWN, OTHER = "own", "other"
SCOPES = (OWN, OTHER)
REGIONS = {OWN: "城关区", OTHER: "兰州市"}
Outcome = str | tuple[str, str]


@dataclass
class World:
    session: Session
    factory: Factory
    client: TestClient
    role: Role
    departments: dict[str, Department]
    serial: int = 0

    def dept(self, scope: str) -> Department:
        return self.departments[scope]

    def next(self) -> int:
        self.serial += 1
        return self.serial

    def ready(self) -> None:
        """Commit what the row prepared, so that a refused request (rolled back) cannot undo it."""
        self.session.commit()

    def get(self, url: str, **kw: Any) -> httpx.Response:
        self.ready()
        return self.client.get(url, **kw)

    def send(self, method: str, url: str, json: Any = None) -> httpx.Response:
        self.ready()
        return self.client.request(method, url, json=json, headers=headers(self.client))

    def person(self, scope: str, role: Role = Role.dept_user) -> User:
        return self.factory.user(role, department=self.dept(scope))


@dataclass(frozen=True)
class Row:
    action: str
    call: Callable[[World, str], httpx.Response]
    expect: dict[Role, Outcome]


def everyone(outcome: Outcome) -> dict[Role, Outcome]:
    return dict.fromkeys(Role, outcome)


ALL_OK = everyone("ok")
BUREAU_ADMIN_ONLY: dict[Role, Outcome] = {Role.bureau_admin: "ok"}
AUDITOR_ONLY: dict[Role, Outcome] = {Role.auditor: "ok"}


def _system() -> Actor:
    return Actor.system()


# --- identity -------------------------------------------------------------------------------------


def _department_body(w: World, scope: str) -> dict[str, Any]:
    n = w.next()
    return {
        "name": f"矩阵测试部门{w.role.value}{n}",
        "uscc": make_uscc(f"11620100MC{w.role.value[:2].upper().replace('_', 'X')}{n:05d}"[:17]),
        "region_id": w.dept(scope).region_id,
    }


def _data_admin(w: World, scope: str) -> int:
    record = register.register_data_admin(
        w.session, _system(), department_id=w.dept(scope).id, name=f"管理员{w.next()}", phone="13800000000"
    )
    return record.id


def _audit_record(w: World, scope: str) -> int:
    rec = audit.record(
        w.session, _system(), Action.department_updated, object_type="department", object_id=w.dept(scope).id
    )
    return rec.id


IDENTITY_ROWS = [
    Row("department.read", lambda w, s: w.get(f"/api/v1/identity/departments/{w.dept(s).id}"), ALL_OK),
    Row(
        "department.directory_page",
        lambda w, s: w.get(f"/identity/departments?region_id={w.dept(s).region_id}"),
        ALL_OK,
    ),
    Row("department.page", lambda w, s: w.get(f"/identity/departments/{w.dept(s).id}"), ALL_OK),
    Row(
        "department.create",
        lambda w, s: w.send("POST", "/api/v1/identity/departments", _department_body(w, s)),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "department.update",
        lambda w, s: w.send(
            "PUT",
            f"/api/v1/identity/departments/{w.dept(s).id}",
            {"name": w.dept(s).name, "uscc": w.dept(s).uscc, "region_id": w.dept(s).region_id, "short_name": "简称"},
        ),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "department.sharing_contacts",
        lambda w, s: w.send(
            "PUT",
            f"/api/v1/identity/departments/{w.dept(s).id}/sharing-contacts",
            {"sharing_office": "信息科", "sharing_contact": "李娜", "sharing_phone": "13919001234"},
        ),
        {Role.bureau_admin: "ok", Role.dept_admin: ("ok", "deny")},
    ),
    Row(
        "department.deactivate",
        lambda w, s: w.send(
            "POST",
            f"/api/v1/identity/departments/{w.factory.department(region=REGIONS[s]).id}/deactivate",
            {"reason": "机构改革"},
        ),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "office.add",
        lambda w, s: w.send("POST", f"/api/v1/identity/departments/{w.dept(s).id}/offices", {"name": f"处{w.next()}"}),
        BUREAU_ADMIN_ONLY,
    ),
    Row("region.read", lambda w, s: w.get("/api/v1/identity/regions"), ALL_OK),
    Row(
        "region.update",
        lambda w, s: w.send(
            "PUT", f"/api/v1/identity/regions/{w.dept(s).region_id}", {"authority_name": "共享主管机构"}
        ),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "user.read",
        lambda w, s: w.get(f"/api/v1/identity/users/{w.person(s).id}"),
        {
            Role.bureau_admin: "ok",
            Role.bureau_reviewer: "ok",
            Role.auditor: "ok",
            Role.region_reviewer: ("ok", "hide"),
            Role.dept_admin: ("ok", "hide"),
            Role.dept_user: ("ok", "hide"),
        },
    ),
    Row(
        "user.page",
        lambda w, s: w.get(f"/identity/users/{w.person(s).id}"),
        {
            Role.bureau_admin: "ok",
            Role.bureau_reviewer: "ok",
            Role.auditor: "ok",
            Role.region_reviewer: ("ok", "hide"),
            Role.dept_admin: ("ok", "hide"),
            Role.dept_user: ("ok", "hide"),
        },
    ),
    Row(
        "user.create",
        lambda w, s: w.send(
            "POST",
            "/api/v1/identity/users",
            {
                "username": f"matrix{w.role.value}{w.next()}",
                "display_name": "新人",
                "department_id": w.dept(s).id,
                "password": "Matrix-Passw0rd-1",
                "roles": [{"role": "dept_user"}],
            },
        ),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "user.update",
        lambda w, s: w.send("PUT", f"/api/v1/identity/users/{w.person(s).id}", {"display_name": "改名"}),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "user.roles",
        lambda w, s: w.send(
            "PUT", f"/api/v1/identity/users/{w.person(s).id}/roles", {"roles": [{"role": "dept_admin"}]}
        ),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "user.disable",
        lambda w, s: w.send("POST", f"/api/v1/identity/users/{w.person(s).id}/disable", {"reason": "离职"}),
        BUREAU_ADMIN_ONLY,
    ),
    Row(
        "user.reset_password",
        lambda w, s: w.send("POST", f"/api/v1/identity/users/{w.person(s).id}/reset-password"),
        BUREAU_ADMIN_ONLY,
    ),
    Row("alerts.list", lambda w, s: w.get("/api/v1/identity/alerts"), BUREAU_ADMIN_ONLY),
    Row("data_admin.overview", lambda w, s: w.get("/api/v1/identity/data-admins"), ALL_OK),
    Row("data_admin.history", lambda w, s: w.get(f"/api/v1/identity/departments/{w.dept(s).id}/data-admins"), ALL_OK),
    Row(
        "data_admin.register",
        lambda w, s: w.send(
            "POST",
            f"/api/v1/identity/departments/{w.dept(s).id}/data-admins",
            {"name": f"登记人{w.next()}", "phone": "13800000001"},
        ),
        {Role.bureau_admin: "ok", Role.dept_admin: ("ok", "deny")},
    ),
    Row(
        "data_admin.replace",
        lambda w, s: w.send(
            "POST",
            f"/api/v1/identity/data-admins/{_data_admin(w, s)}/replace",
            {"reason": "岗位调整", "name": f"接任{w.next()}", "phone": "13800000002"},
        ),
        {Role.bureau_admin: "ok", Role.dept_admin: ("ok", "deny")},
    ),
    Row(
        "data_admin.end",
        lambda w, s: w.send("POST", f"/api/v1/identity/data-admins/{_data_admin(w, s)}/end", {"reason": "离职"}),
        {Role.bureau_admin: "ok", Role.dept_admin: ("ok", "deny")},
    ),
    Row("account.me", lambda w, s: w.get("/api/v1/me"), ALL_OK),
    Row("account.page", lambda w, s: w.get("/account"), ALL_OK),
]

# --- audit ----------------------------------------------------------------------------------------

AUDIT_ROWS = [
    Row("audit.records", lambda w, s: w.get(f"/api/v1/audit/records?department_id={w.dept(s).id}"), AUDITOR_ONLY),
    Row("audit.record", lambda w, s: w.get(f"/api/v1/audit/records/{_audit_record(w, s)}"), AUDITOR_ONLY),
    Row("audit.verify", lambda w, s: w.send("POST", "/api/v1/audit/verify"), AUDITOR_ONLY),
    Row("audit.export", lambda w, s: w.get(f"/api/v1/audit/export.csv?department_id={w.dept(s).id}"), AUDITOR_ONLY),
    Row("audit.page", lambda w, s: w.get(f"/audit?department_id={w.dept(s).id}"), AUDITOR_ONLY),
    Row("audit.record_page", lambda w, s: w.get(f"/audit/records/{_audit_record(w, s)}"), AUDITOR_ONLY),
]

# --- catalog --------------------------------------------------------------------------------------


def _resource_body(w: World, scope: str) -> dict[str, Any]:
    fields = w.factory.resource_fields(name=f"矩阵测试资源{w.role.value}{w.next()}")
    return fields.model_dump(mode="json") | {"provider_id": w.dept(scope).id}


def _draft(w: World, scope: str) -> int:
    return w.factory.resource(w.dept(scope), name=f"矩阵草稿{w.role.value}{w.next()}").id


def _reviewed_draft(w: World, scope: str) -> int:
    return w.factory.reviewed_resource(w.dept(scope), name=f"矩阵待报送{w.role.value}{w.next()}").id


def _submitted(w: World, scope: str) -> int:
    return w.factory.submitted_resource(w.dept(scope), name=f"矩阵待审{w.role.value}{w.next()}").id


# Who reviews: the 城关区 reviewer the county department (own), the bureau's reviewer the city one.
_REVIEW: dict[Role, Outcome] = {Role.region_reviewer: ("ok", "hide"), Role.bureau_reviewer: ("hide", "ok")}
_PROVIDER_SEES_DRAFT: dict[Role, Outcome] = {
    Role.bureau_admin: "ok",
    Role.auditor: "ok",
    Role.dept_admin: ("ok", "hide"),
    Role.dept_user: ("ok", "hide"),
    Role.region_reviewer: ("ok", "hide"),
    Role.bureau_reviewer: ("hide", "ok"),
}

CATALOG_ROWS = [
    Row(
        "catalog.resource.create",
        lambda w, s: w.send("POST", "/api/v1/catalog/resources", _resource_body(w, s)),
        {Role.dept_admin: ("ok", "deny")},
    ),
    Row(
        "catalog.resource.read_draft",
        lambda w, s: w.get(f"/api/v1/catalog/resources/{_draft(w, s)}"),
        _PROVIDER_SEES_DRAFT,
    ),
    Row(
        "catalog.resource.edit",
        lambda w, s: w.send(
            "PUT",
            f"/api/v1/catalog/resources/{_draft(w, s)}",
            w.factory.resource_fields(name=f"矩阵改名{w.role.value}{w.next()}").model_dump(mode="json"),
        ),
        {Role.dept_admin: ("ok", "hide")},
    ),
    Row(
        "catalog.resource.submit",
        lambda w, s: w.send("POST", f"/api/v1/catalog/resources/{_reviewed_draft(w, s)}/submit"),
        {Role.dept_admin: ("ok", "hide")},
    ),
    Row(
        "catalog.resource.review",
        lambda w, s: w.send(
            "POST",
            f"/api/v1/catalog/resources/{_submitted(w, s)}/decision",
            {"decision": "approved", "comment": "同意"},
        ),
        _REVIEW,
    ),
]

ROWS: list[Row] = IDENTITY_ROWS + AUDIT_ROWS + CATALOG_ROWS


def _outcome(response: httpx.Response) -> str:
    code = response.status_code
    if 200 <= code < 400:
        return "ok"
    return {403: "deny", 404: "hide"}.get(code, f"http_{code}")


def _expected(row: Row, role: Role, scope: str) -> str:
    outcome = row.expect.get(role, "deny")
    if isinstance(outcome, tuple):
        return outcome[0] if scope == OWN else outcome[1]
    return outcome


def _world(role: Role, client: TestClient, session: Session, factory: Factory) -> World:
    own = factory.department(region=REGIONS[OWN])
    other = factory.department(region=REGIONS[OTHER])
    if role in (Role.bureau_admin, Role.bureau_reviewer, Role.auditor):
        me = factory.user(role, department=factory.bureau())
    elif role == Role.region_reviewer:
        me = factory.user(role, department=own, region="城关区")
    else:
        me = factory.user(role, department=own)
    sign_in(client, session, me)
    return World(session, factory, client, role, {OWN: own, OTHER: other})


@pytest.mark.article("A31.1")
@pytest.mark.article("A40.1")
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_authorization_matrix(role: Role, client: TestClient, session: Session, factory: Factory) -> None:
    clock.set_now(dt.datetime(2026, 5, 6, 10, 0))  # a Wednesday: working-day clocks behave
    world = _world(role, client, session, factory)
    expected: dict[tuple[str, str], str] = {}
    actual: dict[tuple[str, str], str] = {}
    details: dict[tuple[str, str], str] = {}
    for row in ROWS:
        for scope in SCOPES:
            key = (row.action, scope)
            expected[key] = _expected(row, role, scope)
            response = row.call(world, scope)
            actual[key] = _outcome(response)
            if actual[key] != expected[key]:
                details[key] = response.text[:200]
    mismatches = [
        f"{role.value:16} {action:32} {scope:5} expected {expected[(action, scope)]:5} got {actual[(action, scope)]}"
        f"  {details[(action, scope)]}"
        for action, scope in expected
        if expected[(action, scope)] != actual[(action, scope)]
    ]
    assert not mismatches, "authorization matrix differs:\n" + "\n".join(mismatches)


def test_every_row_names_known_roles_and_outcomes() -> None:
    allowed = {"ok", "deny", "hide"}
    for row in ROWS:
        for role, outcome in row.expect.items():
            assert role in Role
            values = outcome if isinstance(outcome, tuple) else (outcome,)
            assert set(values) <= allowed, (row.action, role, outcome)
    assert len({r.action for r in ROWS}) == len(ROWS), "duplicate action names"
