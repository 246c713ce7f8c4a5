"""Minimum necessary (A26.1, A5.2): on every path that serves data — API pages, sorting, filters,
bearer tokens, the people's JSON API and page, CSV and XLSX exports — no ungranted 信息项 value and
no clear value of a masked 信息项 ever leaves the platform, and refused probes are no oracle."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govshare.identity.permissions import Role
from govshare.sharing import client as signing
from tests.factories import Factory
from tests.helpers import sign_in
from tests.sharing.consumer_setup import World, build, person, read

ROWS = 40


@pytest.fixture
def world(factory: Factory, session: Session) -> World:
    return build(factory, session, rows=ROWS)


def _forbidden_fragments() -> list[str]:
    out: list[str] = []
    for n in range(ROWS):
        p = person(n)
        out += [p["联系电话"], p["户籍地址"], p["内部备注"], p["公民身份号码"]]
        if len(p["姓名"]) > 2:
            out.append(p["姓名"])  # a full name; two-character names are covered by the surname-only check
    return out


def _assert_clean(payload: str) -> None:
    leaked = [f for f in _forbidden_fragments() if f in payload]
    assert not leaked, f"leaked: {leaked[:5]}"
    for n in range(ROWS):
        assert person(n)["联系电话"][3:7] not in payload.replace("****", "")  # no middle digits of a phone
    assert "联系电话" not in payload and "户籍地址" not in payload and "内部备注" not in payload


def _xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return "".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())


@pytest.mark.article("A26.1", "A5.2")
def test_no_path_reveals_an_ungranted_or_unmasked_value(
    client: TestClient, factory: Factory, session: Session, world: World
) -> None:
    payloads: list[str] = []
    # API: every page, default order, sorted both ways, filtered
    for params in (
        {"limit": 7},
        {"limit": 7, "sort": world.param("户口类别"), "order": "desc"},
        {"limit": 7, "sort": world.param("出生日期")},
        {"limit": 100, world.param("户口类别"): "居*"},
    ):
        after = None
        while True:
            r = read(client, world, after=after, **params)
            assert r.status_code == 200, r.text
            payloads.append(r.text)
            after = r.json()["next"]
            if after is None:
                break
    # bearer token
    path = "/api/v1/consumer/token"
    token = client.post(path, headers=signing.sign("POST", path, None, b"", world.system.app_key, world.secret)).json()
    r = client.get(
        f"/api/v1/consumer/resources/{world.resource.code}/rows",
        params={"grant_id": world.grant.id, "limit": 1000},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert r.status_code == 200 and len(r.json()["rows"]) == ROWS
    payloads.append(r.text)
    # people: JSON API, page, exports
    sign_in(client, session, factory.user(Role.dept_user, department=world.consumer))
    base = {"grant_id": world.grant.id}
    r = client.get(f"/api/v1/sharing/data/{world.resource.code}/rows", params=base | {"limit": 1000})
    payloads.append(r.text)
    r = client.get("/sharing/data/view", params=base | {"code": world.resource.code, "limit": 1000})
    assert r.status_code == 200
    payloads.append(r.text)
    r = client.get("/sharing/data/export", params=base | {"code": world.resource.code, "format": "csv"})
    payloads.append(r.text)
    r = client.get("/sharing/data/export", params=base | {"code": world.resource.code, "format": "xlsx"})
    payloads.append(_xlsx_text(r.content))
    for payload in payloads:
        _assert_clean(payload)


@pytest.mark.article("A26.1")
@pytest.mark.parametrize("probe", ["filter_hit", "filter_miss", "sort"])
def test_refused_probes_are_no_oracle(client: TestClient, world: World, probe: str) -> None:
    """Filtering on an ungranted item answers the same whether or not the value exists."""
    phone = world.param("联系电话")
    params: dict[str, object] = {
        "filter_hit": {phone: person(3)["联系电话"]},
        "filter_miss": {phone: "10000000000"},
        "sort": {"sort": phone},
    }[probe]  # type: ignore[assignment]
    r = read(client, world, **params)
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "item_not_granted"
    assert body["detail"] in ("筛选只能使用授权范围内的信息项", "排序只能使用授权范围内的信息项")


@pytest.mark.article("A26.1")
def test_only_the_grant_items_are_recorded_as_read(client: TestClient, session: Session, world: World) -> None:
    from govshare.sharing.models import AccessRecord

    read(client, world, limit=5)
    record: Callable[[], AccessRecord] = lambda: session.query(AccessRecord).one()  # noqa: E731
    assert record().data_item_ids == sorted(world.ids("公民身份号码", "姓名", "户口类别", "出生日期"))
