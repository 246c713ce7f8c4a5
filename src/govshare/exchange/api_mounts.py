"""接口登记 (A24.1): a provider registers the upstream interface behind an API resource; the gateway calls it.

What a registration holds, and where:
- ``Mount.config`` (no secrets): the address, method, declared parameters (``query``, ``header``,
  ``path``, ``body``), the credential's header *name*, timeout, probe path, and a summary of the
  uploaded OpenAPI document (version, title, operations). The document itself goes to the file
  store (``kit.filestore``, checksummed) and can be downloaded again by whoever sees the mount.
- ``Mount.mapping``: the data dictionary, ``str(data_item_id) -> response field`` (a JSON path like
  ``data.name``; a list on the way means one record per element — see ``extract_records``).
- ``Mount.secret_encrypted``: the credential's value, encrypted like every mount secret
  (``runs._encrypt``); never returned, shown, logged or written to the audit trail, which only
  says whether one is set or was replaced.

Rules: only the provider department's data administrators register and edit (``compiles_for``);
the resource's 共享方式 must be 接口对接; the address must lie in the administrator's allow-list at
registration and again at every call and probe (a network removed later refuses the next call);
the OpenAPI document must parse (JSON or YAML) and have the minimal 3.x shape. Calls go through
``call_api`` (buffered, for services that parse the JSON) or ``stream_api`` (chunks to the client);
both accept only declared parameters and are audited (``exchange.gateway.called``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.permissions import compiles_for
from govshare.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from govshare.exchange import api_mount_repository as repo
from govshare.exchange import run_repository, runs
from govshare.exchange.channels import api as channel
from govshare.exchange.channels import get_channel
from govshare.exchange.gateway import (
    ALLOWED_METHODS,
    DEFAULT_MAX_RESPONSE_BYTES,
    GatewayResponse,
    GatewayStream,
    UpstreamUnavailable,
    forward,
    load_allow_list,
    open_stream,
    validate_registration,
)
from govshare.exchange.models import Mount, SyncRun
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit import clock
from govshare.kit.filestore import default_store

MAX_DESCRIPTION_BYTES = 2 * 1024 * 1024
MAX_OPERATIONS = 500
MAX_PARAMETERS = 50
MAX_URL_LENGTH = 2000
MIN_TIMEOUT_SECONDS = 0.5
MAX_TIMEOUT_SECONDS = 60.0
PROBE_WINDOW = dt.timedelta(hours=24)
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
OBJECT_TYPE = "mount"

_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
_RESERVED_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding", "connection", "accept"})
_FIELD_PATH = re.compile(r"^[^.\s]{1,64}(\.[^.\s]{1,64}){0,15}$")
_TRUE = frozenset({"1", "true", "yes", "on", "是", "必填"})


# ---------------------------------------------------------------------------------------------
# the OpenAPI description document


@dataclass(frozen=True)
class ApiDescription:
    """What the platform keeps of an OpenAPI document besides its bytes."""

    format: str  # json | yaml
    openapi: str
    title: str
    api_version: str
    operations: list[dict[str, Any]]


def _document_error(message: str) -> ValidationFailed:
    return ValidationFailed(f"接口描述文档有误:{message}", errors=[FieldError("description_document", message)])


def _load_document(document: bytes) -> tuple[Any, str]:
    try:
        text = document.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _document_error("文件应为 UTF-8 编码的 JSON 或 YAML") from exc
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text), "json"
        except json.JSONDecodeError as exc:
            raise _document_error(f"JSON 格式错误(第 {exc.lineno} 行第 {exc.colno} 列)") from exc
    try:
        return yaml.safe_load(text), "yaml"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"(第 {mark.line + 1} 行)" if mark is not None else ""
        raise _document_error(f"既不是合法的 JSON 也不是合法的 YAML{where}") from exc


def _text(value: Any, limit: int = 200) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """One level of a local ``$ref`` (``#/components/parameters/X``); anything else as it is."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return target
    return node


def _operation_parameters(doc: dict[str, Any], *lists: Any) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in lists:
        if not isinstance(raw, list):
            continue
        for node in raw[:MAX_PARAMETERS]:
            param = _resolve(doc, node)
            if not isinstance(param, dict):
                continue
            name, location = _text(param.get("name"), 64), _text(param.get("in"), 16)
            if name and location in ("query", "header", "path", "cookie"):
                merged[(name, location)] = {
                    "name": name,
                    "in": location,
                    "required": bool(param.get("required")) or location == "path",
                    "description": _text(param.get("description")),
                }
    return list(merged.values())


def parse_description(document: bytes) -> ApiDescription:
    """Parse an OpenAPI 3.x document (JSON or YAML, at most 2 MB) into its operations; refuse anything else."""
    if len(document) > MAX_DESCRIPTION_BYTES:
        raise _document_error(f"文件超过 {MAX_DESCRIPTION_BYTES // (1024 * 1024)} MB")
    if not document.strip():
        raise _document_error("文件为空")
    doc, fmt = _load_document(document)
    if not isinstance(doc, dict):
        raise _document_error("顶层应为对象,不是 OpenAPI 文档")
    if "swagger" in doc and "openapi" not in doc:
        raise _document_error("这是 Swagger 2.0 文档,请转换为 OpenAPI 3 后上传")
    version = doc.get("openapi")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        version = str(version)  # YAML reads an unquoted 3.0 as a number
    if not isinstance(version, str) or not re.match(r"^3\.\d+(\.\d+)?$", version.strip()):
        raise _document_error("缺少 openapi 版本号,或版本不是 3.x(如 3.0.3、3.1.0)")
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        raise _document_error("缺少 paths(接口路径)或其格式不是对象")
    operations: list[dict[str, Any]] = []
    for path, item in paths.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise _document_error(f"接口路径“{str(path)[:60]}”应以 / 开头")
        if not isinstance(item, dict):
            raise _document_error(f"接口路径“{path[:60]}”的内容应为对象")
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            if len(operations) >= MAX_OPERATIONS:
                raise _document_error(f"接口操作超过 {MAX_OPERATIONS} 个,请只上传本资源相关的接口")
            operations.append(
                {
                    "method": method.upper(),
                    "path": path[:300],
                    "summary": _text(op.get("summary")) or _text(op.get("description")),
                    "operation_id": _text(op.get("operationId"), 100),
                    "parameters": _operation_parameters(doc, item.get("parameters"), op.get("parameters")),
                }
            )
    if not operations:
        raise _document_error("paths 中没有任何接口操作")
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    assert isinstance(info, dict)
    return ApiDescription(
        format=fmt,
        openapi=version.strip(),
        title=_text(info.get("title")),
        api_version=_text(str(info.get("version", "")), 64),
        operations=operations,
    )


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _is_placeholder(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def operation_matches(operation: Mapping[str, Any], url: str, method: str) -> bool:
    """Whether a documented operation is the registered one: same method, and its path template ends the URL's path."""
    if str(operation.get("method", "")).upper() != method.upper():
        return False
    op_parts = _segments(str(operation.get("path", "")))
    url_parts = _segments(urlsplit(url).path)
    if not op_parts or len(op_parts) > len(url_parts):
        return False
    tail = url_parts[len(url_parts) - len(op_parts) :]
    # a documented {x} matches any segment; the URL's own {x} only a documented placeholder
    return all(
        _is_placeholder(a) if _is_placeholder(b) else (a == b or _is_placeholder(a))
        for a, b in zip(op_parts, tail, strict=True)
    )


def matching_operation(operations: list[dict[str, Any]], url: str, method: str) -> dict[str, Any] | None:
    """The documented operation for the registered address: the longest path template that matches."""
    found = [op for op in operations if operation_matches(op, url, method)]
    return max(found, key=lambda op: len(_segments(str(op["path"]))), default=None)


def _store_document(document: bytes, filename: str, description: ApiDescription, actor: Actor) -> dict[str, Any]:
    stored = default_store().put([document], max_bytes=MAX_DESCRIPTION_BYTES)
    return {
        "filename": (filename or f"openapi.{description.format}")[:200],
        "format": description.format,
        "size": stored.size,
        "storage_key": stored.key,
        "checksum": stored.checksum,
        "algorithm": stored.algorithm,
        "openapi": description.openapi,
        "title": description.title,
        "api_version": description.api_version,
        "operations": description.operations,
        "uploaded_at": clock.now().isoformat(),
        "uploaded_by": actor.display_name or actor.username,
    }


# ---------------------------------------------------------------------------------------------
# validating a registration


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _normalise_parameters(
    raw: list[dict[str, Any]], url: str, method: str, credential_header: str, errors: list[FieldError]
) -> list[dict[str, Any]]:
    if len(raw) > MAX_PARAMETERS:
        errors.append(FieldError("parameters", f"参数不能超过 {MAX_PARAMETERS} 个"))
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, param in enumerate(raw):
        where = f"parameters[{i}]"
        name = str(param.get("name", "")).strip()
        location = str(param.get("in", "query")).strip() or "query"
        if not _NAME.match(name):
            errors.append(FieldError(f"{where}.name", f"第 {i + 1} 个参数的名称应为 1–64 个字母、数字或 _ . - 字符"))
            continue
        if name in seen:
            errors.append(FieldError(f"{where}.name", f"参数“{name}”重复"))
            continue
        seen.add(name)
        if location not in channel.PARAMETER_LOCATIONS:
            errors.append(FieldError(f"{where}.in", f"参数“{name}”的位置只能是查询参数、请求头、路径参数或请求体字段"))
            continue
        if location == "header" and (
            not _HEADER_NAME.match(name)
            or name.lower() in _RESERVED_HEADERS
            or name.lower() == credential_header.lower()
        ):
            errors.append(FieldError(f"{where}.name", f"请求头参数“{name}”不可用(保留的请求头或与凭据请求头重名)"))
        if location == "body" and method.upper() != "POST":
            errors.append(FieldError(f"{where}.in", f"参数“{name}”为请求体字段,请求方法须为 POST"))
        out.append(
            {
                "name": name,
                "in": location,
                "required": True if location == "path" else _flag(param.get("required", False)),
                "description": str(param.get("description", "")).strip()[:200],
            }
        )
    declared_path = {p["name"] for p in out if p["in"] == "path"}
    placeholders = channel.path_placeholders(url)
    for name in placeholders:
        if name not in declared_path:
            errors.append(FieldError("parameters", f"接口地址中的路径参数“{{{name}}}”未声明"))
    for name in declared_path - set(placeholders):
        errors.append(FieldError("parameters", f"路径参数“{name}”未出现在接口地址中(应写作 {{{name}}})"))
    return out


def _normalise_dictionary(
    dictionary: Mapping[int, str], items: Mapping[int, DataItem], errors: list[FieldError]
) -> dict[str, str]:
    out: dict[str, str] = {}
    for item_id, path in dictionary.items():
        item = items.get(int(item_id))
        if item is None:
            errors.append(FieldError("dictionary", f"信息项 {item_id} 不属于该信息资源"))
            continue
        text = str(path).strip()
        if not text:
            continue  # an empty field leaves the 信息项 unmapped
        if not _FIELD_PATH.match(text):
            message = f"信息项“{item.name}”的响应字段应为字段名或以 . 分隔的路径,如 data.name"
            errors.append(FieldError(f"dictionary[{item.id}]", message))
            continue
        out[str(item.id)] = text
    return out


def _check_url(url: str, method: str, errors: list[FieldError], session: Session) -> None:
    if len(url) > MAX_URL_LENGTH:
        errors.append(FieldError("url", f"接口地址不能超过 {MAX_URL_LENGTH} 个字符"))
        return
    try:
        validate_registration(load_allow_list(session), url, method)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    except DomainError as exc:  # e.g. the host name does not resolve
        errors.append(FieldError("url", exc.detail))


def _check_method(method: str, errors: list[FieldError]) -> None:
    if method.upper() not in ALLOWED_METHODS:
        errors.append(FieldError("method", "请求方法只能是 GET 或 POST"))


def _check_credential(header: str, value: str, errors: list[FieldError]) -> None:
    if header and not _HEADER_NAME.match(header):
        errors.append(FieldError("credential_header", "凭据请求头名称只能由字母、数字和 - _ 等字符组成"))
    elif header.lower() in _RESERVED_HEADERS:
        errors.append(FieldError("credential_header", f"“{header}”是保留的请求头,不能用来传递凭据"))
    if value and not header:
        errors.append(FieldError("credential_header", "填写了凭据,请同时填写放置凭据的请求头(如 Authorization)"))
    if any(c in value for c in "\r\n\x00") or len(value) > 4096:
        errors.append(FieldError("credential_value", "凭据不能含换行,且不超过 4096 个字符"))


def _check_timeout(timeout_seconds: float, errors: list[FieldError]) -> None:
    if not MIN_TIMEOUT_SECONDS <= timeout_seconds <= MAX_TIMEOUT_SECONDS:
        errors.append(
            FieldError("timeout_seconds", f"超时时间应在 {MIN_TIMEOUT_SECONDS:g}–{MAX_TIMEOUT_SECONDS:g} 秒之间")
        )


def _check_probe_path(probe_path: str, url: str, errors: list[FieldError]) -> None:
    if probe_path and (not probe_path.startswith("/") or "{" in probe_path or len(probe_path) > 500):
        errors.append(FieldError("probe_path", "检测路径应以 / 开头(可带查询串,如 /health 或 /people?id=test)"))
    if not probe_path and channel.path_placeholders(url):
        errors.append(FieldError("probe_path", "接口地址含路径参数,请填写可直接调用的检测路径"))


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed("接口登记信息有误:" + ";".join(e.message for e in errors), errors=errors)


def _endpoint(url: str) -> str:
    """The address as the audit trail keeps it: no query string (it might carry a key)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _snapshot(mount: Mount) -> dict[str, Any]:
    config = mount.config
    description = config.get("description") or {}
    return {
        "resource_id": mount.resource_id,
        "channel": "api",
        "endpoint": _endpoint(str(config.get("url", ""))),
        "method": config.get("method", "GET"),
        "parameters": [p["name"] for p in config.get("parameters", [])],
        "dictionary_items": sorted(int(k) for k in mount.mapping),
        "credential_header": config.get("credential_header", ""),
        "credential_set": bool(mount.secret_encrypted),
        "timeout_seconds": config.get("timeout_seconds"),
        "probe_path": config.get("probe_path", ""),
        "description_checksum": description.get("checksum", ""),
    }


def _resource_for_mounting(session: Session, actor: Actor, resource_id: int) -> Resource:
    resource = run_repository.resource_with_items(session, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在")
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门的数据资源管理员可以登记本部门的上游接口")
    return resource


# ---------------------------------------------------------------------------------------------
# register, edit, upload


def mount_api(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    url: str,
    method: str = "GET",
    parameters: list[dict[str, str]] | None = None,
    description_document: bytes | None = None,
    dictionary: dict[int, str] | None = None,
    credential_header: str = "",
    credential_value: str = "",
    timeout_seconds: float = 10.0,
    probe_path: str = "",
    description_filename: str = "",
) -> Mount:
    """Register the upstream interface behind an API resource (A24.1); only the provider's data administrators.

    The address must be in the allow-list, the OpenAPI document (if given) must parse, the
    dictionary may name only the resource's 信息项; the credential is stored encrypted. Parameters
    left out (None) are taken from the document's operation for this address, when there is one.
    """
    resource = _resource_for_mounting(session, actor, resource_id)
    if resource.channel != "api":
        raise ValidationFailed(
            "接口登记信息有误:该信息资源的共享方式不是接口对接",
            errors=[FieldError("resource_id", "该信息资源的共享方式不是接口对接")],
        )
    if repo.any_api_mount(session, resource.id) is not None:
        raise Conflict("该信息资源已登记上游接口,请编辑(或启用)现有登记", code="api_mount_exists")
    url, method, credential_header = url.strip(), (method or "GET").strip().upper(), credential_header.strip()
    probe_path = probe_path.strip()
    errors: list[FieldError] = []
    _check_url(url, method, errors, session)
    description: ApiDescription | None = None
    if description_document is not None and description_document.strip():
        try:
            description = parse_description(description_document)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if parameters is None and description is not None:
        matching = matching_operation(description.operations, url, method)
        documented = matching["parameters"] if matching else []
        parameters = [p for p in documented if p["in"] != "cookie"]
    declared = _normalise_parameters(list(parameters or []), url, method, credential_header, errors)
    items = {item.id: item for item in resource.items}
    mapping = _normalise_dictionary(dictionary or {}, items, errors)
    _check_credential(credential_header, credential_value, errors)
    _check_timeout(timeout_seconds, errors)
    _check_probe_path(probe_path, url, errors)
    _raise_if(errors)

    config: dict[str, Any] = {
        "url": url,
        "method": method,
        "parameters": declared,
        "credential_header": credential_header,
        "timeout_seconds": float(timeout_seconds),
        "max_response_bytes": DEFAULT_MAX_RESPONSE_BYTES,
        "probe_path": probe_path,
    }
    if description is not None and description_document is not None:
        config["description"] = _store_document(description_document, description_filename, description, actor)
    mount = Mount(
        resource_id=resource.id,
        channel="api",
        config=config,
        secret_encrypted=runs._encrypt({"credential": credential_value}) if credential_value else "",
        mapping=mapping,
        created_by_id=actor.user_id,
    )
    session.add(mount)
    session.flush()
    audit.record(
        session, actor, Action.mount_created, object_type=OBJECT_TYPE, object_id=mount.id, after=_snapshot(mount)
    )
    if description is not None:
        _audit_description(session, actor, mount)
    runs.queue_run(session, mount.id, kind="probe")  # the first availability check, as soon as a worker is free
    return mount


def _audit_description(session: Session, actor: Actor, mount: Mount) -> None:
    meta = mount.config["description"]
    audit.record(
        session,
        actor,
        Action.api_description_uploaded,
        object_type=OBJECT_TYPE,
        object_id=mount.id,
        after={
            "filename": meta["filename"],
            "size": meta["size"],
            "checksum": meta["checksum"],
            "openapi": meta["openapi"],
            "operations": len(meta["operations"]),
        },
    )


def _editable_mount(session: Session, actor: Actor, mount_id: int) -> tuple[Mount, Resource]:
    found = repo.readable_mount(session, actor, mount_id)
    if found is None:
        raise NotFound("接口登记不存在", code="api_mount_not_found")
    mount, resource = found
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门的数据资源管理员可以修改本部门的接口登记")
    return mount, resource


def update_api_mount(
    session: Session,
    actor: Actor,
    *,
    mount_id: int,
    expected_version: int | None = None,
    url: str | None = None,
    method: str | None = None,
    parameters: list[dict[str, str]] | None = None,
    dictionary: dict[int, str] | None = None,
    credential_header: str | None = None,
    credential_value: str | None = None,
    clear_credential: bool = False,
    timeout_seconds: float | None = None,
    probe_path: str | None = None,
) -> Mount:
    """Change a registration; fields left as None keep their value, and so does the credential unless replaced.

    A changed address is checked against the allow-list again. Replacing or clearing the credential
    is audited as such, without its value.
    """
    mount, resource = _editable_mount(session, actor, mount_id)
    if expected_version is not None and expected_version != mount.version:
        raise Conflict("接口登记已被他人修改,请刷新后重试", code="version_conflict")
    before = _snapshot(mount)
    old = mount.config
    new_url = url.strip() if url is not None else str(old["url"])
    new_method = (method or str(old.get("method", "GET"))).strip().upper()
    new_header = credential_header.strip() if credential_header is not None else str(old.get("credential_header", ""))
    new_probe = probe_path.strip() if probe_path is not None else str(old.get("probe_path", ""))
    new_timeout = float(timeout_seconds) if timeout_seconds is not None else float(old.get("timeout_seconds", 10.0))
    errors: list[FieldError] = []
    if new_url != old["url"]:
        _check_url(new_url, new_method, errors, session)
    else:
        _check_method(new_method, errors)
    raw_parameters = parameters if parameters is not None else list(old.get("parameters", []))
    declared = _normalise_parameters(raw_parameters, new_url, new_method, new_header, errors)
    if dictionary is not None:
        items = {item.id: item for item in run_repository.items_of(session, resource.id)}
        mapping = _normalise_dictionary(dictionary, items, errors)
    else:
        mapping = dict(mount.mapping)
    replacing = bool(credential_value)
    keeps_secret = bool(mount.secret_encrypted) and not clear_credential and not replacing
    _check_credential(new_header, credential_value or ("(kept)" if keeps_secret else ""), errors)
    _check_timeout(new_timeout, errors)
    _check_probe_path(new_probe, new_url, errors)
    _raise_if(errors)

    config = dict(old)
    config.update(
        {
            "url": new_url,
            "method": new_method,
            "parameters": declared,
            "credential_header": new_header,
            "timeout_seconds": new_timeout,
            "probe_path": new_probe,
        }
    )
    mount.config = config
    mount.mapping = mapping
    if replacing:
        mount.secret_encrypted = runs._encrypt({"credential": credential_value or ""})
    elif clear_credential:
        mount.secret_encrypted = ""
    mount.version += 1
    session.flush()
    after = _snapshot(mount)
    audit.record(
        session, actor, Action.mount_updated, object_type=OBJECT_TYPE, object_id=mount.id, before=before, after=after
    )
    if replacing or (clear_credential and before["credential_set"]):
        audit.record(
            session,
            actor,
            Action.mount_secret_replaced,
            object_type=OBJECT_TYPE,
            object_id=mount.id,
            after={"credential_set": bool(mount.secret_encrypted)},
        )
    return mount


def upload_description(session: Session, actor: Actor, *, mount_id: int, document: bytes, filename: str = "") -> Mount:
    """Attach (or replace) the OpenAPI description of a registration; the document must have the 3.x shape."""
    mount, _resource = _editable_mount(session, actor, mount_id)
    description = parse_description(document)
    config = dict(mount.config)
    config["description"] = _store_document(document, filename, description, actor)
    if not config.get("parameters"):
        matching = matching_operation(description.operations, config["url"], config["method"])
        if matching:
            errors: list[FieldError] = []
            documented = [p for p in matching["parameters"] if p["in"] != "cookie"]
            declared = _normalise_parameters(
                documented, config["url"], config["method"], config.get("credential_header", ""), errors
            )
            if not errors:
                config["parameters"] = declared
    mount.config = config
    mount.version += 1
    session.flush()
    _audit_description(session, actor, mount)
    return mount


def read_description(session: Session, actor: Actor, *, mount_id: int) -> tuple[Iterator[bytes], str, str]:
    """The uploaded OpenAPI document (chunks, filename, media type), checksum verified as it is read."""
    found = repo.readable_mount(session, actor, mount_id)
    if found is None:
        raise NotFound("接口登记不存在", code="api_mount_not_found")
    meta = found[0].config.get("description")
    if not meta:
        raise NotFound("该接口登记尚未上传接口描述文档", code="api_description_missing")
    media = "application/json" if meta.get("format") == "json" else "application/yaml"
    chunks = default_store().read(meta["storage_key"], checksum=meta["checksum"], algorithm=meta["algorithm"])
    return chunks, str(meta["filename"]), media


# ---------------------------------------------------------------------------------------------
# reading: one registration, the list, probe figures


@dataclass(frozen=True)
class ProbeStats:
    """Availability over the last 24 hours: share of probes that succeeded, median latency, last error."""

    count: int = 0
    available: int = 0
    p50_latency_ms: int | None = None
    last_probe_at: dt.datetime | None = None
    last_ok: bool | None = None
    last_error: str = ""
    last_error_at: dt.datetime | None = None

    @property
    def availability_pct(self) -> float | None:
        return round(100.0 * self.available / self.count, 1) if self.count else None


@dataclass
class DictionaryRow:
    item_id: int
    name: str
    data_type: str
    sensitivity: str
    field: str


@dataclass
class ApiMountView:
    mount: Mount
    resource: Resource
    dictionary: list[DictionaryRow]
    stats: ProbeStats
    probes: list[SyncRun]
    may_edit: bool
    operations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        return self.mount.config

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return list(self.mount.config.get("parameters", []))

    @property
    def description(self) -> dict[str, Any] | None:
        meta = self.mount.config.get("description")
        return meta if isinstance(meta, dict) else None

    @property
    def credential_set(self) -> bool:
        return bool(self.mount.secret_encrypted)


def probe_stats(session: Session, mount_id: int, *, now: dt.datetime | None = None) -> ProbeStats:
    """Figures of the probes finished in the 24 hours before ``now``; the last error whenever it was."""
    at = now or clock.now()
    probes = repo.finished_probes_since(session, mount_id, at - PROBE_WINDOW)
    latencies = sorted(p.latency_ms for p in probes if p.status == "succeeded" and p.latency_ms is not None)
    failed = repo.last_failed_probe(session, mount_id)
    return ProbeStats(
        count=len(probes),
        available=sum(1 for p in probes if p.status == "succeeded"),
        p50_latency_ms=latencies[(len(latencies) - 1) // 2] if latencies else None,
        last_probe_at=probes[0].finished_at if probes else None,
        last_ok=(probes[0].status == "succeeded") if probes else None,
        last_error=failed.error if failed is not None else "",
        last_error_at=failed.finished_at if failed is not None else None,
    )


def get_api_mount(session: Session, actor: Actor, mount_id: int) -> ApiMountView:
    """One registration as its provider or a monitor sees it (never the credential)."""
    found = repo.readable_mount(session, actor, mount_id)
    if found is None:
        raise NotFound("接口登记不存在", code="api_mount_not_found")
    mount, resource = found
    items = {item.id: item for item in run_repository.items_of(session, resource.id)}
    dictionary = [
        DictionaryRow(item.id, item.name, item.data_type, item.sensitivity, mount.mapping.get(str(item.id), ""))
        for item in items.values()
    ]
    meta = mount.config.get("description") or {}
    documented = list(meta.get("operations", []))
    current = matching_operation(documented, str(mount.config["url"]), str(mount.config.get("method", "GET")))
    operations = [{**op, "matches": op is current} for op in documented]
    return ApiMountView(
        mount=mount,
        resource=resource,
        dictionary=dictionary,
        stats=probe_stats(session, mount.id),
        probes=repo.recent_probes(session, mount.id),
        may_edit=compiles_for(actor, resource.provider_id),
        operations=operations,
    )


def list_api_mounts(session: Session, actor: Actor) -> list[tuple[Mount, Resource, ProbeStats]]:
    """The registrations ``actor`` may see, newest first, each with its last-24-hour probe figures."""
    return [(m, r, probe_stats(session, m.id)) for m, r in repo.list_readable(session, actor)]


def resource_for_new_mount(session: Session, actor: Actor, resource_id: int) -> tuple[Resource, list[DataItem]]:
    """The resource a registration form is for, refused unless ``actor`` may register it."""
    resource = _resource_for_mounting(session, actor, resource_id)
    return resource, sorted(resource.items, key=lambda i: i.position)


def mountable_resources(session: Session, actor: Actor) -> list[Resource]:
    """The actor's department's API resources that have no registration yet."""
    if actor.department_id is None or not actor.can(Permission.exchange_mount):
        return []
    return repo.unmounted_api_resources(session, actor.department_id)


# ---------------------------------------------------------------------------------------------
# probing and calling


def probe_now(session: Session, actor: Actor, *, mount_id: int) -> SyncRun:
    """Check the upstream now (the provider's 立即检测) and record the result as a probe run."""
    mount, _resource = _editable_mount(session, actor, mount_id)
    spec = runs.mount_spec(session, mount)
    started = clock.now()
    outcome = get_channel("api").probe(spec)
    run = SyncRun(
        mount_id=mount.id,
        kind="probe",
        trigger="manual",
        status="succeeded" if outcome.ok else "failed",
        scheduled_for=started,
        started_at=started,
        finished_at=clock.now(),
        duration_ms=outcome.latency_ms,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor,
        Action.sync_requested,
        object_type="sync_run",
        object_id=run.id,
        after={"mount_id": mount.id, "kind": "probe", "ok": outcome.ok},
    )
    return run


@dataclass(frozen=True)
class _PreparedCall:
    mount: Mount
    resource: Resource
    parts: channel.CallParts
    credential: str


def _prepare_call(session: Session, actor: Actor, resource_id: int, params: Mapping[str, str]) -> _PreparedCall:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在")
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门可以试调用本部门的接口;其他部门请在获得共享授权后通过消费方接口调用")
    mount = repo.active_api_mount(session, resource.id)
    if mount is None:
        if repo.any_api_mount(session, resource.id) is not None:
            raise Conflict("该信息资源的上游接口登记已暂停,暂不能调用", code="api_mount_paused")
        raise NotFound("该信息资源没有可用的上游接口登记", code="api_mount_missing")
    parts = channel.call_parts(mount.config, {str(k): str(v) for k, v in params.items()})
    credential = runs._decrypt(mount.secret_encrypted).get("credential", "") if mount.secret_encrypted else ""
    return _PreparedCall(mount=mount, resource=resource, parts=parts, credential=credential)


def _audit_call(
    session: Session, actor: Actor, call: _PreparedCall, params: Mapping[str, str], *, status: int, **figures: Any
) -> None:
    audit.record(
        session,
        actor,
        Action.gateway_called,
        object_type=OBJECT_TYPE,
        object_id=call.mount.id,
        after={
            "resource_id": call.resource.id,
            "resource_code": call.resource.code,
            "parameters": sorted(str(k) for k in params),  # names only: values may be personal data
            "status": status,
            **figures,
        },
    )


def call_api(session: Session, actor: Actor, *, resource_id: int, params: Mapping[str, str]) -> GatewayResponse:
    """Call the resource's upstream through the gateway and return its whole (capped) response.

    For the provider (试调用) and for the platform acting for a consumer whose grant the sharing
    layer has checked (an ``Actor.system``). Only declared parameters; the allow-list is read now;
    the call is audited. Gateway errors (403/502/504) never name the upstream address.
    """
    call = _prepare_call(session, actor, resource_id, params)
    upstream = channel.upstream_for(call.mount.config, call.credential, url=call.parts.url)
    result = forward(
        load_allow_list(session),
        upstream,
        params=call.parts.query,
        json_body=call.parts.body,
        headers=call.parts.headers,
    )
    _audit_call(
        session, actor, call, params, status=result.status, bytes=len(result.body), latency_ms=int(result.latency_ms)
    )
    return result


def stream_api(session: Session, actor: Actor, *, resource_id: int, params: Mapping[str, str]) -> GatewayStream:
    """Like ``call_api`` but hand the body on in chunks (``GatewayStream.iter_bytes``) under the same cap and deadline.

    The audit record is written before the first byte leaves; the caller's transaction commits it.
    """
    call = _prepare_call(session, actor, resource_id, params)
    upstream = channel.upstream_for(call.mount.config, call.credential, url=call.parts.url)
    stream = open_stream(
        load_allow_list(session),
        upstream,
        params=call.parts.query,
        json_body=call.parts.body,
        headers=call.parts.headers,
    )
    _audit_call(session, actor, call, params, status=stream.status, streamed=True, latency_ms=int(stream.latency_ms))
    return stream


@dataclass(frozen=True)
class ApiRecords:
    """A call's answer read through the data dictionary: one dict per record, keyed by 信息项 id."""

    status: int
    records: list[dict[int, Any]]
    latency_ms: float


def call_records(session: Session, actor: Actor, *, resource_id: int, params: Mapping[str, str]) -> ApiRecords:
    """``call_api``, then the 信息项 values of its JSON answer per the data dictionary (``extract_records``).

    For the consumer data API: it keeps only granted 信息项 from ``records`` and masks them. An answer
    that is not JSON is an ``UpstreamUnavailable`` (502); a 4xx answer gives no records.
    """
    result = call_api(session, actor, resource_id=resource_id, params=params)
    mount = repo.active_api_mount(session, resource_id)
    assert mount is not None  # call_api found it
    if result.status >= 400:
        return ApiRecords(status=result.status, records=[], latency_ms=result.latency_ms)
    try:
        payload = json.loads(result.body)
    except ValueError as exc:
        raise UpstreamUnavailable("上游接口返回的内容不是 JSON,无法按数据字典读取", code="upstream_not_json") from exc
    return ApiRecords(
        status=result.status, records=extract_records(payload, mount.mapping), latency_ms=result.latency_ms
    )


def _mount_resource_id(session: Session, actor: Actor, mount_id: int) -> int:
    found = repo.readable_mount(session, actor, mount_id)
    if found is None:
        raise NotFound("接口登记不存在", code="api_mount_not_found")
    return found[1].id


def call_mount(session: Session, actor: Actor, *, mount_id: int, params: Mapping[str, str]) -> GatewayResponse:
    """试调用 from a registration's page: ``call_api`` for the registration's resource."""
    return call_api(session, actor, resource_id=_mount_resource_id(session, actor, mount_id), params=params)


def stream_mount(session: Session, actor: Actor, *, mount_id: int, params: Mapping[str, str]) -> GatewayStream:
    """试调用 through the JSON API: ``stream_api`` for the registration's resource."""
    return stream_api(session, actor, resource_id=_mount_resource_id(session, actor, mount_id), params=params)


# ---------------------------------------------------------------------------------------------
# the data dictionary applied to a response


def _walk(node: Any, segments: list[str]) -> Any:
    for segment in segments:
        if isinstance(node, dict):
            node = node.get(segment)
        else:
            return None
    return node


def _list_prefix(payload: Any, segments: list[str]) -> int | None:
    """How many leading segments lead to a list (0: the payload itself is one), or None if none does."""
    node = payload
    for i in range(len(segments) + 1):
        if isinstance(node, list):
            return i
        if i == len(segments) or not isinstance(node, dict):
            return None
        node = node.get(segments[i])
    return None


def extract_records(payload: Any, dictionary: Mapping[int, str] | Mapping[str, str]) -> list[dict[int, Any]]:
    """The 信息项 values in a JSON response, per the data dictionary (``item_id -> field path``).

    When every path runs through the same list (``data.items.name`` with ``data.items`` a list, or
    a payload that is itself a list) each element is one record; otherwise the payload is one record.
    A field missing from the response gives None.
    """
    paths = {int(k): str(v).split(".") for k, v in dictionary.items() if str(v)}
    if not paths:
        return []
    prefixes = {_list_prefix(payload, segments) for segments in paths.values()}
    if len(prefixes) == 1 and (prefix := next(iter(prefixes))) is not None:
        first = next(iter(paths.values()))
        elements = _walk(payload, first[:prefix])
        if isinstance(elements, list):
            return [{i: _walk(element, segments[prefix:]) for i, segments in paths.items()} for element in elements]
    return [{i: _walk(payload, segments) for i, segments in paths.items()}]
