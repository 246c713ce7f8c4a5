"""The allow-list's JSON API: the bureau's system administrator keeps it; nobody else reads or changes it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.identity.permissions import Role
from tests.factories import Factory
from tests.helpers import headers, sign_in

URL = "/api/v1/exchange/provider-networks"


def test_admin_adds_lists_and_removes_a_network(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.bureau_admin))
    h = headers(client)
    r = client.post(URL, json={"cidr": "10.20.0.0/16", "description": "市电子政务外网"}, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["cidr"] == "10.20.0.0/16" and created["description"] == "市电子政务外网"

    assert [n["cidr"] for n in client.get(URL, headers=h).json()] == ["10.20.0.0/16"]

    bad = client.post(URL, json={"cidr": "10.20.1.0/16"}, headers=h)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "cidr"
    assert client.post(URL, json={"cidr": "10.20.0.0/16"}, headers=h).status_code == 409

    assert client.delete(f"{URL}/{created['id']}", headers=h).status_code == 204
    assert client.get(URL, headers=h).json() == []
    assert client.delete(f"{URL}/{created['id']}", headers=h).status_code == 404
    actions = session.execute(
        select(AuditRecord.action).where(AuditRecord.object_type == "provider_network").order_by(AuditRecord.seq)
    ).scalars()
    assert list(actions) == ["exchange.provider_network.added", "exchange.provider_network.removed"]


def test_a_department_cannot_read_or_change_the_list(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_admin))
    h = headers(client)
    assert client.get(URL, headers=h).status_code == 403
    assert client.post(URL, json={"cidr": "10.0.0.0/8"}, headers=h).status_code == 403


def test_anonymous_is_refused(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
