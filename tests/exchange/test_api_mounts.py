"""接口登记 (A24.1) through the service, the JSON API and the pages, against a real upstream on 127.0.0.1.

The allow-list holds 127.0.0.0/8 (the upstream) and never 10.255.255.1, which is only checked,
never connected to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.catalog.models import Resource
from govshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from govshare.exchange import api_mounts, gateway_networks
from govshare.exchange.gateway import UpstreamUnavailable
from govshare.exchange.models import Mount, SyncRun
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from tests.exchange import api_upstream
from tests.exchange.api_upstream import Upstream
from tests.factories import Factory
from tests.helpers import csrf, headers, sign_in

OUTSIDE = "10.255.255.1"
SECRET = "Bearer lz-mz-token-7f3a9c"
URL = "/api/v1/exchange/api-mounts"


pytestmark = pytest.mark.usefixtures("var_dir")  # upstream, allow_loopback: tests/exchange/conftest.py


@pytest.fixture
def provider(session: Session, factory: Factory, allow_loopback: int) -> tuple[Department, Resource, Actor]:
    department = factory.department()
    resource = factory.resource(
        department,
        channel="api",
        format_class="database",
        items=[("结婚证字号", "C"), ("男方姓名", "C"), ("女方姓名", "C"), ("登记日期", "D")],
    )
    return department, resource, factory.compiler(department)


def _items(resource: Resource) -> list[int]:
    return [i.id for i in sorted(resource.items, key=lambda i: i.position)]


def _document(upstream: Upstream) -> bytes:
    return httpx.get(upstream.url("/openapi.json")).content


def _mount(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream, **overrides: Any
) -> Mount:
    _, resource, actor = provider
    ids = _items(resource)
    args: dict[str, Any] = {
        "resource_id": resource.id,
        "url": upstream.url("/marriage"),
        "parameters": [{"name": "cert_no", "in": "query", "required": "true", "description": "结婚证字号"}],
        "dictionary": {ids[0]: "data.cert_no", ids[1]: "data.man", ids[2]: "data.woman", ids[3]: "data.registered_on"},
        "credential_header": "Authorization",
        "credential_value": SECRET,
        "probe_path": "/health",
    }
    args.update(overrides)
    return api_mounts.mount_api(session, actor, **args)


# -- registration -----------------------------------------------------------------------------


@pytest.mark.article("A24.1")
def test_register_with_document_dictionary_and_credential(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    _, resource, actor = provider
    mount = _mount(
        session, provider, upstream, description_document=_document(upstream), description_filename="婚姻.json"
    )
    assert mount.channel == "api" and mount.status == "active"
    assert mount.config["url"] == upstream.url("/marriage") and mount.config["method"] == "GET"
    assert mount.config["parameters"] == [
        {"name": "cert_no", "in": "query", "required": True, "description": "结婚证字号"}
    ]
    ids = _items(resource)
    assert mount.mapping[str(ids[1])] == "data.man"
    assert SECRET not in json.dumps(mount.config) and SECRET not in mount.secret_encrypted

    view = api_mounts.get_api_mount(session, actor, mount.id)
    assert view.credential_set and view.description is not None
    assert view.description["openapi"].startswith("3.") and view.description["title"] == "兰州市民政局婚姻登记查询接口"
    ops = {(op["method"], op["path"]): op for op in view.operations}
    assert ("GET", "/marriage") in ops and ops[("GET", "/marriage")]["matches"]
    assert not ops[("GET", "/marriages")]["matches"]
    assert [p["name"] for p in ops[("GET", "/marriage/{cert_no}")]["parameters"]] == ["cert_no"]
    chunks, filename, media = api_mounts.read_description(session, actor, mount_id=mount.id)
    assert b"".join(chunks) == _document(upstream) and filename == "婚姻.json" and media == "application/json"

    # a first probe is queued at once; the worker picks it up
    queued = session.scalars(select(SyncRun).where(SyncRun.mount_id == mount.id)).all()
    assert [(r.kind, r.status) for r in queued] == [("probe", "queued")]

    actions = session.scalars(
        select(AuditRecord.action).where(AuditRecord.object_type == "mount", AuditRecord.object_id == str(mount.id))
    ).all()
    assert list(actions) == ["exchange.mount.created", "exchange.api.description_uploaded"]


def test_parameters_come_from_the_document_when_left_out(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    mount = _mount(
        session,
        provider,
        upstream,
        url=upstream.url("/marriage/{cert_no}"),
        parameters=None,
        description_document=_document(upstream),
    )
    assert mount.config["parameters"] == [{"name": "cert_no", "in": "path", "required": True, "description": ""}]


@pytest.mark.article("A24.1")
def test_an_address_outside_the_allow_list_is_refused_at_registration(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _mount(session, provider, upstream, url=f"http://{OUTSIDE}/marriage", probe_path="/health")
    assert [e.field for e in caught.value.errors] == ["url"]
    assert "白名单" in caught.value.errors[0].message
    assert session.scalars(select(Mount).where(Mount.channel == "api")).all() == []


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"method": "DELETE"}, "method", "GET 或 POST"),
        ({"url": "ftp://127.0.0.1/x"}, "url", "http"),
        ({"parameters": [{"name": "a b", "in": "query"}]}, "parameters[0].name", "名称"),
        ({"parameters": [{"name": "x", "in": "cookie"}]}, "parameters[0].in", "位置"),
        ({"parameters": [{"name": "q", "in": "body"}]}, "parameters[0].in", "POST"),
        ({"parameters": [{"name": "Host", "in": "header"}]}, "parameters[0].name", "保留"),
        ({"url": "http://127.0.0.1:9/marriage/{cert_no}", "parameters": []}, "parameters", "未声明"),
        (
            {"url": "http://127.0.0.1:9/m/{id}", "parameters": [{"name": "id", "in": "path"}], "probe_path": ""},
            "probe_path",
            "检测路径",
        ),
        ({"timeout_seconds": 600.0}, "timeout_seconds", "秒"),
        ({"credential_header": "", "credential_value": "x"}, "credential_header", "请求头"),
        ({"credential_value": "a\nb"}, "credential_value", "换行"),
        ({"probe_path": "health"}, "probe_path", "/"),
    ],
)
def test_bad_registrations_are_refused_with_the_field(
    session: Session,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
    overrides: dict[str, Any],
    field: str,
    words: str,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _mount(session, provider, upstream, **overrides)
    matching = [e for e in caught.value.errors if e.field == field]
    assert matching, caught.value.errors
    assert words in matching[0].message


def test_the_dictionary_names_only_the_resources_items(
    session: Session, factory: Factory, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    other = factory.resource(channel="api", format_class="database")
    with pytest.raises(ValidationFailed) as caught:
        _mount(session, provider, upstream, dictionary={other.items[0].id: "data.x"})
    assert caught.value.errors[0].field == "dictionary" and "不属于" in caught.value.errors[0].message
    _, resource, _ = provider
    with pytest.raises(ValidationFailed) as caught:
        _mount(session, provider, upstream, dictionary={resource.items[0].id: "data. name"})
    assert caught.value.errors[0].field == f"dictionary[{resource.items[0].id}]"


def test_only_the_providers_data_administrators_register(
    session: Session, factory: Factory, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    _, resource, _ = provider
    outsider = factory.compiler(factory.department())
    with pytest.raises(Forbidden):
        api_mounts.mount_api(session, outsider, resource_id=resource.id, url=upstream.url("/marriage"))
    with pytest.raises(NotFound):
        api_mounts.mount_api(session, outsider, resource_id=999_999, url=upstream.url("/marriage"))


def test_the_resource_must_be_shared_by_api_and_mounted_once(
    session: Session, factory: Factory, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    department, _, actor = provider
    table_resource = factory.resource(department)  # 库表交换
    with pytest.raises(ValidationFailed, match="接口对接"):
        api_mounts.mount_api(session, actor, resource_id=table_resource.id, url=upstream.url("/marriage"))
    _mount(session, provider, upstream)
    with pytest.raises(Conflict):
        _mount(session, provider, upstream)


# -- the OpenAPI document ---------------------------------------------------------------------

GOOD_YAML = """
openapi: 3.0
info: {title: 不动产登记查询, version: "2.1"}
paths:
  /estate/{unitNo}:
    parameters:
      - $ref: '#/components/parameters/UnitNo'
    get:
      summary: 按不动产单元号查询
      parameters:
        - {name: fields, in: query}
components:
  parameters:
    UnitNo: {name: unitNo, in: path, required: true, description: 不动产单元号}
"""


@pytest.mark.article("A24.1")
def test_a_yaml_document_is_parsed() -> None:
    parsed = api_mounts.parse_description(GOOD_YAML.encode())
    assert parsed.format == "yaml" and parsed.openapi == "3.0" and parsed.title == "不动产登记查询"
    [op] = parsed.operations
    assert op["method"] == "GET" and op["path"] == "/estate/{unitNo}" and op["summary"] == "按不动产单元号查询"
    assert [(p["name"], p["in"], p["required"]) for p in op["parameters"]] == [
        ("unitNo", "path", True),
        ("fields", "query", False),
    ]


@pytest.mark.parametrize(
    ("document", "words"),
    [
        (b"", "为空"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b'{"openapi": "3.0.0", "paths": {', "JSON 格式错误"),
        (b"openapi: [3\n  paths: :", "YAML"),
        (b"- just\n- a list\n", "顶层"),
        (json.dumps({"swagger": "2.0", "paths": {}}).encode(), "Swagger 2.0"),
        (json.dumps({"openapi": "2.0", "paths": {"/a": {"get": {}}}}).encode(), "3.x"),
        (json.dumps({"openapi": "3.1.0", "info": {}}).encode(), "paths"),
        (json.dumps({"openapi": "3.1.0", "paths": {}}).encode(), "没有任何接口操作"),
        (json.dumps({"openapi": "3.1.0", "paths": {"a": {"get": {}}}}).encode(), "以 / 开头"),
        (b"{" + b" " * (2 * 1024 * 1024) + b"}", "2 MB"),
    ],
)
def test_bad_documents_are_refused_with_a_clear_message(document: bytes, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        api_mounts.parse_description(document)
    assert caught.value.errors[0].field == "description_document"
    assert words in caught.value.errors[0].message


def test_a_bad_document_refuses_the_registration_and_stores_nothing(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream, tmp_path: Path
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _mount(session, provider, upstream, description_document=b"openapi: 2.0\npaths: {}\n")
    assert [e.field for e in caught.value.errors] == ["description_document"]
    assert not (tmp_path / "var" / "files").exists() or not any((tmp_path / "var" / "files").rglob("*.*"))


def test_a_document_uploaded_later_replaces_the_old_one(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    _, _, actor = provider
    mount = _mount(session, provider, upstream)
    api_mounts.upload_description(session, actor, mount_id=mount.id, document=GOOD_YAML.encode(), filename="a.yaml")
    api_mounts.upload_description(session, actor, mount_id=mount.id, document=_document(upstream), filename="b.json")
    view = api_mounts.get_api_mount(session, actor, mount.id)
    assert view.description is not None and view.description["filename"] == "b.json"
    uploads = session.scalars(
        select(AuditRecord).where(AuditRecord.action == "exchange.api.description_uploaded")
    ).all()
    assert [u.after["filename"] for u in uploads if u.after] == ["a.yaml", "b.json"]


# -- editing and the credential -----------------------------------------------------------------


@pytest.mark.article("A24.1")
def test_an_edit_keeps_the_credential_unless_replaced(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    _, resource, actor = provider
    mount = _mount(session, provider, upstream, url=upstream.url("/auth"), parameters=[])
    stored = mount.secret_encrypted
    api_mounts.update_api_mount(session, actor, mount_id=mount.id, timeout_seconds=5.0, expected_version=1)
    assert mount.secret_encrypted == stored and mount.config["timeout_seconds"] == 5.0 and mount.version == 2
    got = api_mounts.call_api(session, actor, resource_id=resource.id, params={})
    assert json.loads(got.body) == {"authorization": SECRET}

    api_mounts.update_api_mount(session, actor, mount_id=mount.id, credential_value="Bearer new-one")
    assert json.loads(api_mounts.call_api(session, actor, resource_id=resource.id, params={}).body) == {
        "authorization": "Bearer new-one"
    }
    api_mounts.update_api_mount(session, actor, mount_id=mount.id, clear_credential=True)
    assert json.loads(api_mounts.call_api(session, actor, resource_id=resource.id, params={}).body) == {
        "authorization": ""
    }
    with pytest.raises(Conflict):
        api_mounts.update_api_mount(session, actor, mount_id=mount.id, expected_version=1, probe_path="/x")

    trail = session.scalars(
        select(AuditRecord).where(AuditRecord.object_type == "mount", AuditRecord.object_id == str(mount.id))
    ).all()
    assert [a.action for a in trail].count("exchange.mount.secret_replaced") == 2
    dumped = json.dumps([[a.before, a.after] for a in trail], ensure_ascii=False)
    assert "lz-mz-token" not in dumped and "new-one" not in dumped


def test_an_edit_rechecks_a_changed_address(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    _, _, actor = provider
    mount = _mount(session, provider, upstream)
    with pytest.raises(ValidationFailed) as caught:
        api_mounts.update_api_mount(session, actor, mount_id=mount.id, url=f"http://{OUTSIDE}/marriage")
    assert caught.value.errors[0].field == "url"


def test_other_departments_neither_see_nor_edit(
    session: Session, factory: Factory, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    mount = _mount(session, provider, upstream)
    outsider = factory.compiler(factory.department())
    with pytest.raises(NotFound):
        api_mounts.get_api_mount(session, outsider, mount.id)
    with pytest.raises(NotFound):
        api_mounts.update_api_mount(session, outsider, mount_id=mount.id, probe_path="/x")
    assert api_mounts.list_api_mounts(session, outsider) == []
    monitor = factory.role_actor(Role.bureau_reviewer)
    assert api_mounts.get_api_mount(session, monitor, mount.id).may_edit is False
    with pytest.raises(Forbidden):
        api_mounts.update_api_mount(session, monitor, mount_id=mount.id, probe_path="/x")


# -- calling ----------------------------------------------------------------------------------


@pytest.mark.article("A24.1")
def test_a_call_returns_the_upstreams_data_and_is_audited(
    session: Session, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    _, resource, actor = provider
    _mount(session, provider, upstream)
    result = api_mounts.call_api(session, actor, resource_id=resource.id, params={"cert_no": "J620102-2024-000123"})
    assert result.status == 200
    payload = json.loads(result.body)
    assert payload["data"]["man"] == "张伟"
    assert upstream.seen[-1]["headers"]["authorization"] == SECRET
    [record] = session.scalars(select(AuditRecord).where(AuditRecord.action == "exchange.gateway.called")).all()
    assert record.after is not None and record.after["parameters"] == ["cert_no"] and record.after["status"] == 200
    assert "J620102" not in json.dumps(record.after)  # names only: values may be personal data

    ids = _items(resource)
    mount = session.scalars(select(Mount).where(Mount.resource_id == resource.id)).one()
    assert api_mounts.extract_records(payload, mount.mapping) == [
        {ids[0]: "J620102-2024-000123", ids[1]: "张伟", ids[2]: "李娜", ids[3]: "2024-05-20"}
    ]


def test_path_header_and_body_parameters_reach_the_upstream(
    session: Session, factory: Factory, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    department, resource, actor = provider
    _mount(
        session,
        provider,
        upstream,
        url=upstream.url("/marriage/{cert_no}"),
        parameters=[{"name": "cert_no", "in": "path"}],
    )
    got = api_mounts.call_api(session, actor, resource_id=resource.id, params={"cert_no": "J 1?x=2#y"})
    assert json.loads(got.body)["asked"] == "J 1?x=2#y"  # encoded into the path segment: no query, no fragment
    assert upstream.seen[-1]["query"] == {}

    other = factory.resource(department, channel="api", format_class="database")
    api_mounts.mount_api(
        session,
        actor,
        resource_id=other.id,
        url=upstream.url("/search"),
        method="POST",
        parameters=[
            {"name": "name", "in": "body", "required": "true"},
            {"name": "X-Region", "in": "header"},
        ],
        probe_path="/health",
    )
    got = api_mounts.call_api(session, actor, resource_id=other.id, params={"name": "张伟", "X-Region": "620102"})
    assert json.loads(got.body) == {"received": {"name": "张伟"}, "region": "620102"}


@pytest.mark.parametrize(
    ("params", "words"),
    [({}, "缺少必填参数"), ({"cert_no": "1", "extra": "x"}, "未在接口登记中声明"), ({"cert_no": "x" * 2001}, "过长")],
)
def test_undeclared_missing_or_overlong_parameters_are_refused(
    session: Session,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
    params: dict[str, str],
    words: str,
) -> None:
    _, resource, actor = provider
    _mount(session, provider, upstream)
    before = len(upstream.seen)
    with pytest.raises(ValidationFailed, match=words):
        api_mounts.call_api(session, actor, resource_id=resource.id, params=params)
    assert len(upstream.seen) == before


def test_only_the_provider_or_the_platform_calls(
    session: Session, factory: Factory, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    _, resource, _ = provider
    _mount(session, provider, upstream)
    with pytest.raises(Forbidden):
        api_mounts.call_api(
            session, factory.compiler(factory.department()), resource_id=resource.id, params={"cert_no": "1"}
        )
    got = api_mounts.call_api(session, Actor.system(), resource_id=resource.id, params={"cert_no": "1"})
    assert got.status == 200


def test_extract_records_walks_lists() -> None:
    payload = {"code": 0, "data": {"items": api_upstream.RECORDS}}
    assert api_mounts.extract_records(payload, {1: "data.items.man", 2: "data.items.woman"}) == [
        {1: "张伟", 2: "李娜"},
        {1: "王强", 2: "赵敏"},
    ]
    assert api_mounts.extract_records(api_upstream.RECORDS, {"1": "man"}) == [{1: "张伟"}, {1: "王强"}]
    assert api_mounts.extract_records({"data": None}, {1: "data.man"}) == [{1: None}]
    assert api_mounts.extract_records({"a": 1}, {}) == []


# -- the JSON API -----------------------------------------------------------------------------


def _admin_of(session: Session, factory: Factory, client: TestClient, department: Department) -> None:
    sign_in(client, session, factory.user(Role.dept_admin, department=department))


@pytest.mark.article("A24.1")
def test_the_json_api_registers_reads_and_never_returns_the_credential(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
) -> None:
    department, resource, _ = provider
    _admin_of(session, factory, client, department)
    h = headers(client)
    ids = _items(resource)
    body = {
        "resource_id": resource.id,
        "url": upstream.url("/marriage"),
        "parameters": [{"name": "cert_no", "in": "query", "required": True}],
        "description_document": GOOD_YAML,
        "dictionary": {str(ids[1]): "data.man"},
        "credential_header": "Authorization",
        "credential_value": SECRET,
        "probe_path": "/health",
    }
    created = client.post(URL, json=body, headers=h)
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["credential_set"] is True and "credential_value" not in data
    assert (
        data["description"]["openapi"] == "3.0" and data["description"]["operations"][0]["path"] == "/estate/{unitNo}"
    )
    assert [d["field"] for d in data["dictionary"]] == ["", "data.man", "", ""]
    mount_id = data["id"]

    listed = client.get(URL, headers=h).json()
    assert [m["id"] for m in listed] == [mount_id]
    detail = client.get(f"{URL}/{mount_id}", headers=h)
    patched = client.patch(f"{URL}/{mount_id}", json={"timeout_seconds": 3, "expected_version": 1}, headers=h)
    assert patched.status_code == 200 and patched.json()["timeout_seconds"] == 3.0
    assert patched.json()["credential_set"] is True

    upload = client.put(
        f"{URL}/{mount_id}/description",
        files={"file": ("marriage.json", _document(upstream), "application/json")},
        headers=h,
    )
    assert upload.status_code == 200 and upload.json()["description"]["filename"] == "marriage.json"
    download = client.get(f"{URL}/{mount_id}/description", headers=h)
    assert download.status_code == 200 and download.content == _document(upstream)

    probe = client.post(f"{URL}/{mount_id}/probes", headers=h)
    assert probe.status_code == 201 and probe.json()["status"] == "succeeded", probe.text
    assert client.get(f"{URL}/{mount_id}", headers=h).json()["probes"]["availability_pct"] == 100.0

    call = client.post(f"{URL}/{mount_id}/call", json={"params": {"cert_no": "J620102-2024-000124"}}, headers=h)
    assert call.status_code == 200 and call.json()["data"]["woman"] == "赵敏"

    other = factory.resource(department, channel="api", format_class="database")
    bad = client.post(URL, json={**body, "resource_id": other.id, "url": f"http://{OUTSIDE}/x"}, headers=h)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")

    for response in (created, detail, patched, upload, probe, call, download):
        assert "lz-mz-token" not in response.text
    trail = json.dumps([[a.before, a.after] for a in session.scalars(select(AuditRecord)).all()], ensure_ascii=False)
    assert "lz-mz-token" not in trail


@pytest.mark.article("A24.1")
def test_a_call_to_a_down_upstream_is_a_clear_problem(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
) -> None:
    department, _, _ = provider
    port = api_upstream.closed_port()
    mount = _mount(session, provider, upstream, url=f"http://127.0.0.1:{port}/marriage")
    _admin_of(session, factory, client, department)
    r = client.post(f"{URL}/{mount.id}/call", json={"params": {"cert_no": "1"}}, headers=headers(client))
    assert r.status_code == 502 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["title"] == "上游接口不可用" and re.search(r"[\u4e00-\u9fff]", problem["detail"])
    assert "127.0.0.1" not in r.text and str(port) not in r.text


@pytest.mark.article("A24.1")
def test_a_network_removed_after_registration_is_refused_at_call_time(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
    allow_loopback: int,
) -> None:
    department, _, _ = provider
    mount = _mount(session, provider, upstream)
    gateway_networks.remove_network(session, factory.role_actor(Role.bureau_admin), network_id=allow_loopback)
    _admin_of(session, factory, client, department)
    before = len(upstream.seen)
    r = client.post(f"{URL}/{mount.id}/call", json={"params": {"cert_no": "1"}}, headers=headers(client))
    assert r.status_code == 403 and r.json()["code"] == "upstream_not_allowed"
    assert len(upstream.seen) == before and "127.0.0.1" not in r.text


def test_the_json_api_refuses_others(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
) -> None:
    mount = _mount(session, provider, upstream)
    sign_in(client, session, factory.user(Role.dept_admin))  # another department
    h = headers(client)
    assert client.get(f"{URL}/{mount.id}", headers=h).status_code == 404
    assert client.post(f"{URL}/{mount.id}/call", json={"params": {}}, headers=h).status_code == 404
    client.cookies.clear()
    sign_in(client, session, factory.user(Role.dept_user))
    assert client.post(f"{URL}/{mount.id}/probes", headers=headers(client)).status_code == 403


# -- the pages --------------------------------------------------------------------------------


def _form(resource: Resource, upstream: Upstream, **extra: str) -> dict[str, str]:
    ids = _items(resource)
    data = {
        "resource_id": str(resource.id),
        "url": upstream.url("/marriage"),
        "method": "GET",
        "timeout_seconds": "8",
        "probe_path": "/health",
        "credential_header": "Authorization",
        "credential_value": SECRET,
        "param_rows": "4",
        "param-0-name": "cert_no",
        "param-0-in": "query",
        "param-0-required": "1",
        "param-0-description": "结婚证字号",
        f"dict-{ids[0]}": "data.cert_no",
        f"dict-{ids[1]}": "data.man",
    }
    data.update(extra)
    return data


@pytest.mark.article("A24.1")
def test_the_pages_register_show_edit_probe_and_try_a_call(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
) -> None:
    department, resource, _ = provider
    _admin_of(session, factory, client, department)
    listing = client.get("/exchange/api-mounts")
    assert listing.status_code == 200 and resource.name in listing.text  # offered for registration
    form = client.get(f"/exchange/api-mounts/new?resource_id={resource.id}")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text

    bad = client.post(
        "/exchange/api-mounts/new",
        data={**_form(resource, upstream, url=f"http://{OUTSIDE}/m"), "csrf_token": csrf(client)},
        files={"description_file": ("bad.yaml", b"swagger: '2.0'\npaths: {}\n", "application/yaml")},
    )
    assert bad.status_code == 422 and "白名单" in bad.text and "Swagger 2.0" in bad.text
    assert "lz-mz-token" not in bad.text  # the credential is never echoed back

    created = client.post(
        "/exchange/api-mounts/new",
        data={**_form(resource, upstream), "csrf_token": csrf(client)},
        files={"description_file": ("marriage.json", _document(upstream), "application/json")},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    page = client.get(location)
    assert page.status_code == 200
    for words in ("按证号查询婚姻登记", "本登记", "data.man", "已设置", "近 24 小时", "结婚证字号"):
        assert words in page.text
    assert "lz-mz-token" not in page.text

    probed = client.post(f"{location}/probe", data={"csrf_token": csrf(client)})
    assert probed.status_code == 200 and "检测通过" in probed.text and "100.0%" in probed.text

    called = client.post(f"{location}/call", data={"csrf_token": csrf(client), "p-cert_no": "J620102-2024-000123"})
    assert called.status_code == 200 and "张伟" in called.text and "状态码" in called.text

    edit = client.get(f"{location}/edit")
    assert edit.status_code == 200 and "已设置;留空则保留原凭据" in edit.text and "lz-mz-token" not in edit.text
    saved = client.post(
        f"{location}/edit",
        data={
            **_form(resource, upstream, credential_value="", timeout_seconds="4", expected_version="1"),
            "csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    mount = session.scalars(select(Mount).where(Mount.resource_id == resource.id)).one()
    assert mount.config["timeout_seconds"] == 4.0 and mount.secret_encrypted  # kept
    auth = api_mounts.update_api_mount(
        session, Actor.system(), mount_id=mount.id, url=upstream.url("/auth"), parameters=[]
    )
    assert json.loads(api_mounts.call_api(session, Actor.system(), resource_id=resource.id, params={}).body) == {
        "authorization": SECRET
    }
    assert auth.version == 3


def test_a_try_call_to_a_down_upstream_shows_the_error_on_the_page(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
) -> None:
    department, _, _ = provider
    port = api_upstream.closed_port()
    mount = _mount(session, provider, upstream, url=f"http://127.0.0.1:{port}/marriage")
    _admin_of(session, factory, client, department)
    r = client.post(f"/exchange/api-mounts/{mount.id}/call", data={"csrf_token": csrf(client), "p-cert_no": "1"})
    assert r.status_code == 502 and "上游接口不可用" in r.text and "无法连接上游接口" in r.text
    probed = client.post(f"/exchange/api-mounts/{mount.id}/probe", data={"csrf_token": csrf(client)})
    assert "检测未通过" in probed.text and "无法连接上游接口" in probed.text


def test_yaml_module_is_safe_loader_only() -> None:
    with pytest.raises(ValidationFailed):
        api_mounts.parse_description(b"!!python/object/apply:os.system ['true']\n")
    assert yaml.safe_load("a: 1") == {"a": 1}


def test_a_paused_registration_is_not_called_and_cannot_be_registered_twice(
    client: TestClient,
    session: Session,
    factory: Factory,
    provider: tuple[Department, Resource, Actor],
    upstream: Upstream,
) -> None:
    department, resource, actor = provider
    mount = _mount(session, provider, upstream)
    _admin_of(session, factory, client, department)
    paused = client.post(
        f"/exchange/api-mounts/{mount.id}/status", data={"csrf_token": csrf(client), "status": "paused", "version": "1"}
    )
    assert paused.status_code == 200 and "已暂停" in paused.text
    assert mount.status == "paused"
    before = len(upstream.seen)
    with pytest.raises(Conflict) as caught:
        api_mounts.call_api(session, actor, resource_id=resource.id, params={"cert_no": "1"})
    assert caught.value.code == "api_mount_paused" and len(upstream.seen) == before
    with pytest.raises(Conflict):
        _mount(session, provider, upstream)
    assert api_mounts.mountable_resources(session, actor) == []
    resumed = client.post(
        f"/exchange/api-mounts/{mount.id}/status", data={"csrf_token": csrf(client), "status": "active", "version": "2"}
    )
    assert resumed.status_code == 200 and mount.status == "active"
    assert api_mounts.call_api(session, actor, resource_id=resource.id, params={"cert_no": "1"}).status == 200


def test_call_records_reads_the_answer_through_the_dictionary(
    session: Session, factory: Factory, provider: tuple[Department, Resource, Actor], upstream: Upstream
) -> None:
    department, resource, actor = provider
    ids = _items(resource)
    _mount(
        session,
        provider,
        upstream,
        url=upstream.url("/marriages"),
        parameters=[],
        dictionary={ids[1]: "data.items.man", ids[3]: "data.items.registered_on"},
    )
    got = api_mounts.call_records(session, Actor.system(), resource_id=resource.id, params={})
    assert got.status == 200
    assert got.records == [{ids[1]: "张伟", ids[3]: "2024-05-20"}, {ids[1]: "王强", ids[3]: "2024-05-21"}]

    bulk = factory.resource(department, channel="api", format_class="database", items=[("x", "C")])
    api_mounts.mount_api(
        session,
        actor,
        resource_id=bulk.id,
        url=upstream.url("/bulk?chunks=1"),
        probe_path="/health",
        dictionary={bulk.items[0].id: "x"},
    )
    with pytest.raises(UpstreamUnavailable) as caught:
        api_mounts.call_records(session, actor, resource_id=bulk.id, params={})
    assert caught.value.code == "upstream_not_json"
