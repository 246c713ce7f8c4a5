"""接口对接 (A24.1): the API channel. An API resource is read live through the gateway, never copied.

``probe`` calls the registered upstream through the gateway (allow-list, timeout, size cap) at its
probe path and reports availability and latency; ``sync`` is not applicable and says so.

The helpers here turn a mount's plain configuration (``Mount.config`` / ``MountSpec.config``) and a
call's parameters into a gateway request; ``exchange.api_mounts`` (registration, the provider's
试调用 and the consumers' calls) uses the same ones, so a probe and a call reach the upstream alike.

``MountSpec.config`` of an API mount carries ``allow_list`` (the administrator's networks as they
stand when the run starts, put there by ``runs.mount_spec``): a network removed since registration
makes the next probe fail, like the next call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from govshare.errors import DomainError, FieldError, ValidationFailed
from govshare.exchange.channels import MountSpec, ProbeOutcome, RunEnv, SyncFailed, SyncOutcome, register
from govshare.exchange.gateway import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    AllowList,
    Upstream,
    forward,
)

PARAMETER_LOCATIONS = ("query", "header", "path", "body")
LOCATION_LABELS = {"query": "查询参数", "header": "请求头", "path": "路径参数", "body": "请求体字段"}
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True)
class CallParts:
    """One call's request as the gateway sends it: the URL with its path filled in, and the rest."""

    url: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] | None = None


def path_placeholders(url: str) -> list[str]:
    """The ``{name}`` placeholders in the path of ``url``, in order."""
    path = urlsplit(url).path
    names: list[str] = []
    rest = path
    while "{" in rest:
        _, _, after = rest.partition("{")
        name, closed, rest = after.partition("}")
        if not closed:
            break
        names.append(name)
    return names


def call_parts(config: Mapping[str, Any], params: Mapping[str, str]) -> CallParts:
    """Place each parameter where the registration declares it; refuse undeclared, missing or overlong ones."""
    declared = {str(p["name"]): p for p in config.get("parameters", [])}
    errors: list[FieldError] = []
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    body: dict[str, str] = {}
    path_values: dict[str, str] = {}
    for name, value in params.items():
        spec = declared.get(name)
        if spec is None:
            errors.append(FieldError(name, f"参数“{name}”未在接口登记中声明"))
            continue
        text = str(value)
        if len(text) > MAX_VALUE_LENGTH:
            errors.append(FieldError(name, f"参数“{name}”过长(不超过 {MAX_VALUE_LENGTH} 个字符)"))
            continue
        if spec["in"] == "header" and any(ord(c) < 32 or ord(c) == 127 for c in text):
            errors.append(FieldError(name, f"请求头参数“{name}”不能含控制字符或换行"))
            continue
        target = {"query": query, "header": headers, "path": path_values, "body": body}[str(spec["in"])]
        target[name] = text
    for name, spec in declared.items():
        if spec.get("required") and name not in params:
            errors.append(FieldError(name, f"缺少必填参数“{name}”"))
        elif spec["in"] == "path" and name in path_values and not path_values[name]:
            errors.append(FieldError(name, f"路径参数“{name}”不能为空"))
    if errors:
        raise ValidationFailed("调用参数有误:" + ";".join(e.message for e in errors), errors=errors)
    url = str(config["url"])
    parts = urlsplit(url)
    path = parts.path
    for name in path_placeholders(url):
        path = path.replace("{" + name + "}", quote(path_values.get(name, ""), safe=""))
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return CallParts(url=url, query=query, headers=headers, body=body or None)


def probe_url(config: Mapping[str, Any]) -> str:
    """The address a probe calls: the registered URL with its path (and query) replaced by the probe path."""
    url = str(config["url"])
    probe_path = str(config.get("probe_path") or "")
    if not probe_path:
        return url
    parts = urlsplit(url)
    path, _, query = probe_path.partition("?")
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def upstream_for(config: Mapping[str, Any], credential: str, *, url: str | None = None) -> Upstream:
    """The gateway's view of a mount; ``credential`` is the decrypted value (never logged)."""
    return Upstream(
        url=url or str(config["url"]),
        method=str(config.get("method", "GET")),
        credential_header=str(config.get("credential_header", "")) if credential else "",
        timeout_seconds=float(config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
        max_response_bytes=int(config.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)),
        credential_value=credential,
    )


class ApiChannel:
    name = "api"

    def sync(self, spec: MountSpec, env: RunEnv) -> SyncOutcome:
        raise SyncFailed(
            "接口共享的信息资源由接口网关实时调用上游接口,无需同步;可运行可用性检测", code="sync_not_applicable"
        )

    def probe(self, spec: MountSpec) -> ProbeOutcome:
        """Call the upstream at its probe path through the gateway; available when it answers below 400."""
        started = time.monotonic()
        allow_list = AllowList.of(spec.config.get("allow_list", []))
        upstream = upstream_for(spec.config, spec.secret.get("credential", ""), url=probe_url(spec.config))
        try:
            result = forward(allow_list, upstream)
        except DomainError as exc:
            return ProbeOutcome(False, int((time.monotonic() - started) * 1000), exc.detail)
        latency = max(int(result.latency_ms), 0)
        if result.status >= 400:
            return ProbeOutcome(False, latency, f"上游接口返回状态码 {result.status},请检查检测路径与接口状态")
        return ProbeOutcome(True, latency)


register(ApiChannel())
