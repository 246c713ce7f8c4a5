from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import Resource
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory
from tests.helpers import headers, sign_in

API = "/api/v1/catalog"


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "城乡居民基本医疗保险参保信息",
        "classification_code": "209",
        "summary": "参保人员及缴费状态",
        "scenario": "医疗救助、社会救助对象认定时核验参保状态",
        "format_class": "database",
        "format_type": "Oracle",
        "channel": "api",
        "update_cycle": "daily",
        "items": [
            {"name": "公民身份号码", "data_type": "C", "length": 18, "sensitivity": "id_number"},
            {"name": "参保状态", "data_type": "C", "length": 2},
        ],
    }
    body.update(overrides)
    return body


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    data: dict[str, Any] = r.json()
    assert data["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["detail"]), data["detail"]
    assert "Traceback" not in r.text
    return data


def _review(client: TestClient, resource_id: int, result: str = "passed") -> Any:
    return client.post(
        f"{API}/resources/{resource_id}/confidentiality-review",
        json={
            "reviewer_name": "李保密",
            "reviewed_on": clock.today().isoformat(),
            "result": result,
            "note": "" if result == "passed" else "含涉密字段",
        },
        headers=headers(client),
    )


@pytest.mark.article("A15.1")
@pytest.mark.article("A32.1")
@pytest.mark.article("A16.1")
def test_compile_review_return_resubmit_publish_over_http(
    client: TestClient, app: Any, factory: Factory, session: Session
) -> None:
    dept = factory.department("兰州市医疗保障局")
    compiler = factory.user(Role.dept_admin, department=dept)
    reviewer = factory.user(Role.bureau_reviewer)
    sign_in(client, session, compiler)

    classes = client.get(f"{API}/classifications").json()
    assert {"code": "209", "name": "社会保障"}.items() <= next(c for c in classes if c["code"] == "209").items()

    r = client.post(f"{API}/resources", json=_body(), headers=headers(client))
    assert r.status_code == 201, r.text
    created = r.json()
    rid = created["id"]
    assert created["status"] == "draft" and created["share_type"] == "unconditional"
    assert created["code"].startswith("209/") and created["provider_id"] == dept.id
    assert [i["name"] for i in created["items"]] == ["公民身份号码", "参保状态"]

    # no 保密审查 yet
    _problem(
        client.post(f"{API}/resources/{rid}/submit", headers=headers(client)), 409, "confidentiality_review_required"
    )
    assert _review(client, rid).status_code == 201
    r = client.post(f"{API}/resources/{rid}/submit", json={"expected_version": 1}, headers=headers(client))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"

    with TestClient(app) as authority:
        sign_in(authority, session, reviewer)
        queue = authority.get(f"{API}/reviews").json()
        assert rid in [q["id"] for q in queue]
        version = next(q for q in queue if q["id"] == rid)["version"]
        _problem(
            authority.post(
                f"{API}/resources/{rid}/decision",
                json={"decision": "returned", "comment": ""},
                headers=headers(authority),
            ),
            422,
            "comment_required",
        )
        r = authority.post(
            f"{API}/resources/{rid}/decision",
            json={"decision": "returned", "comment": "请补充参保险种信息项", "expected_version": version},
            headers=headers(authority),
        )
        assert r.status_code == 200 and r.json()["status"] == "returned"

        # the provider edits, reviews again and resubmits
        items = [*_body()["items"], {"name": "参保险种", "data_type": "C", "length": 10}]
        r = client.put(f"{API}/resources/{rid}", json=_body(items=items), headers=headers(client))
        assert r.status_code == 200, r.text
        assert r.json()["revision"] == 2
        _problem(
            client.post(f"{API}/resources/{rid}/submit", headers=headers(client)),
            409,
            "confidentiality_review_required",
        )
        assert _review(client, rid).status_code == 201
        assert client.post(f"{API}/resources/{rid}/submit", headers=headers(client)).json()["status"] == "submitted"

        r = authority.post(
            f"{API}/resources/{rid}/decision",
            json={"decision": "approved", "comment": "同意"},
            headers=headers(authority),
        )
        assert r.status_code == 200, r.text
        published = r.json()
        assert published["status"] == "published" and published["published_version"] == 1
        assert published["published_at"] is not None

        decisions = client.get(f"{API}/resources/{rid}/decisions").json()
        assert [(d["decision"], d["comment"]) for d in decisions] == [
            ("approved", "同意"),
            ("returned", "请补充参保险种信息项"),
        ]
        reviews = client.get(f"{API}/resources/{rid}/confidentiality-reviews").json()
        assert [rv["revision"] for rv in reviews] == [2, 1]

    versions = client.get(f"{API}/resources/{rid}/versions").json()
    assert [v["number"] for v in versions] == [1]
    snapshot = client.get(f"{API}/resources/{rid}/versions/1").json()["snapshot"]
    assert [i["name"] for i in snapshot["items"]] == ["公民身份号码", "参保状态", "参保险种"]
    assert snapshot["provider_name"] == "兰州市医疗保障局"
    _problem(client.get(f"{API}/resources/{rid}/versions/2"), 404, "version_not_found")
    diff = client.get(f"{API}/resources/{rid}/diff", params={"a": "1", "b": "working"}).json()
    assert diff["fields"] == [] and diff["items"] == []
    _problem(client.get(f"{API}/resources/{rid}/diff", params={"a": "最新"}), 422, "bad_version_ref")

    # published: no more direct edits
    _problem(client.put(f"{API}/resources/{rid}", json=_body(), headers=headers(client)), 409, "invalid_transition")

    actions = (
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == "resource", AuditRecord.object_id == str(rid))
            .order_by(AuditRecord.seq)
        )
        .scalars()
        .all()
    )
    assert actions == [
        "catalog.resource.created",
        "catalog.resource.confidentiality_reviewed",
        "catalog.resource.submitted",
        "catalog.resource.returned",
        "catalog.resource.updated",
        "catalog.resource.confidentiality_reviewed",
        "catalog.resource.submitted",
        "catalog.resource.published",
    ]


@pytest.mark.article("A12.1")
@pytest.mark.article("A43.1")
@pytest.mark.article("A14.1")
def test_refusals_are_chinese_problems_and_write_nothing(
    client: TestClient, factory: Factory, session: Session
) -> None:
    dept = factory.department()
    sign_in(client, session, factory.user(Role.dept_admin, department=dept))

    def counts() -> tuple[int, int]:
        return (
            session.execute(select(func.count(Resource.id))).scalar_one(),
            session.execute(
                select(func.count(AuditRecord.id)).where(AuditRecord.object_type == "resource")
            ).scalar_one(),
        )

    before = counts()
    data = _problem(
        client.post(f"{API}/resources", json=_body(share_type="none", share_basis="不宜共享"), headers=headers(client)),
        422,
        "validation_failed",
    )
    assert [e["field"] for e in data["errors"]] == ["share_basis"]
    assert "不予共享必须写明" in data["detail"]

    data = _problem(
        client.post(f"{API}/resources", json=_body(classified=True), headers=headers(client)), 422, "classified_refused"
    )
    assert [e["field"] for e in data["errors"]] == ["classified"]

    data = _problem(
        client.post(
            f"{API}/resources",
            json=_body(scenario="", items=[{"name": "姓名", "data_type": "C"}, {"name": "姓名", "data_type": "C"}]),
            headers=headers(client),
        ),
        422,
        "validation_failed",
    )
    assert {e["field"] for e in data["errors"]} == {"scenario", "items[1].name"}

    data = _problem(
        client.post(f"{API}/resources", json=_body(share_type="随便"), headers=headers(client)),
        422,
        "validation_failed",
    )
    assert data["errors"][0]["field"] == "share_type"
    assert counts() == before


def test_a_stale_decision_is_a_409(client: TestClient, factory: Factory, session: Session) -> None:
    dept = factory.department(region="安宁区")
    resource = factory.submitted_resource(dept)
    sign_in(client, session, factory.user(Role.region_reviewer, region="安宁区"))
    stale = resource.version - 1
    data = _problem(
        client.post(
            f"{API}/resources/{resource.id}/decision",
            json={"decision": "approved", "expected_version": stale},
            headers=headers(client),
        ),
        409,
        "stale_version",
    )
    assert "刷新" in data["detail"]
    r = client.post(f"{API}/resources/{resource.id}/decision", json={"decision": "approved"}, headers=headers(client))
    assert r.status_code == 200
    _problem(
        client.post(f"{API}/resources/{resource.id}/decision", json={"decision": "approved"}, headers=headers(client)),
        409,
        "invalid_transition",
    )


@pytest.mark.article("A15.2")
def test_reviewer_of_another_region_is_refused_over_http(
    client: TestClient, factory: Factory, session: Session
) -> None:
    dept = factory.department(region="红古区")
    resource = factory.submitted_resource(dept)
    sign_in(client, session, factory.user(Role.region_reviewer, region="西固区"))
    assert client.get(f"{API}/reviews").json() == []
    _problem(
        client.post(f"{API}/resources/{resource.id}/decision", json={"decision": "approved"}, headers=headers(client)),
        404,
        "resource_not_found",
    )


def test_permissions_per_role(client: TestClient, factory: Factory, session: Session) -> None:
    # (first: a refused request rolls back the test session's uncommitted work, as it would a request's)
    assert client.get(f"{API}/resources").status_code == 401
    dept = factory.department()
    resource = factory.submitted_resource(dept)
    sign_in(client, session, factory.user(Role.dept_user, department=dept))
    _problem(client.post(f"{API}/resources", json=_body(), headers=headers(client)), 403, "permission_denied")
    _problem(
        client.post(f"{API}/resources/{resource.id}/decision", json={"decision": "approved"}, headers=headers(client)),
        403,
        "permission_denied",
    )
    _problem(client.get(f"{API}/reviews"), 403, "permission_denied")
    assert client.get(f"{API}/resources/{resource.id}").status_code == 200  # own department's submission


def test_withdraw_and_list_filters(client: TestClient, factory: Factory, session: Session) -> None:
    dept = factory.department()
    kept = factory.published_resource(dept, channel="api")
    gone = factory.published_resource(dept, channel="table")
    sign_in(client, session, factory.user(Role.bureau_reviewer))
    _problem(
        client.post(f"{API}/resources/{gone.id}/withdraw", json={"reason": ""}, headers=headers(client)),
        422,
        "validation_failed",
    )
    r = client.post(f"{API}/resources/{gone.id}/withdraw", json={"reason": "数据已停止采集"}, headers=headers(client))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"

    page = client.get(f"{API}/resources", params={"provider_id": dept.id, "status": "published"}).json()
    assert [i["id"] for i in page["items"]] == [kept.id] and page["total"] == 1
    page = client.get(f"{API}/resources", params={"provider_id": dept.id, "channel": "table"}).json()
    assert [i["id"] for i in page["items"]] == [gone.id]
    page = client.get(f"{API}/resources", params={"provider_id": dept.id, "page_size": 1}).json()
    assert page["has_next"] and len(page["items"]) == 1 and page["total"] == 2
    assert client.get(f"{API}/resources", params={"channel": "传真"}).status_code == 422
    assert client.get(f"{API}/resources", params={"page_size": 1000}).status_code == 422
