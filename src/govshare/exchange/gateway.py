"""The API channel's forwarding core (A24.1): call a provider's upstream interface on a consumer's behalf.

Rules it enforces:
- Only listed provider networks. The upstream host is resolved and *every* address must lie in
  the administrator's allow-list, at registration and again at each call; the call then connects
  to the address just checked (the URL is pinned to that IP, the Host header and TLS SNI keep the
  name), so a DNS answer that changes between check and connect (rebinding) cannot redirect it.
- Redirects are not followed (a redirect could point outside the list) and proxy variables of the
  environment are ignored (the connection goes to the checked address, nowhere else).
- A connect/read timeout per call plus a total deadline while the body streams (a slow-drip
  upstream cannot hold a worker), and a response-size cap: the body is streamed and the call
  stops as soon as the cap is passed.
- Two ways to hand the body on: ``forward`` buffers it (small JSON a service parses), and
  ``open_stream`` returns a ``GatewayStream`` once the status and headers are in, whose
  ``iter_bytes`` yields the body chunk by chunk under the same cap and deadline (a route wraps it in
  a ``StreamingResponse``). Errors found before the first byte (not allowed, down, 5xx, a declared
  length over the cap) are raised by ``open_stream`` and render as problem+json; a cap or deadline
  passed mid-body can only cut the stream short (the client sees an incomplete chunked body).
- The upstream credential is stored encrypted (``kit.crypto``) and decrypted only to be put in a
  header of the outgoing request. Error details never name the upstream address or credential:
  the consumer must not learn them.
- An upstream 5xx is reported as ``UpstreamUnavailable``; other statuses pass through.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography.exceptions import InvalidTag
from sqlalchemy.orm import Session

from govshare.config import get_settings
from govshare.errors import DomainError, FieldError, ValidationFailed
from govshare.exchange import gateway_repository as repo
from govshare.kit.crypto import decrypt

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[IPAddress]]

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
ALLOWED_METHODS = frozenset({"GET", "POST"})
_SCHEMES = {"http": 80, "https": 443}
# Upstream headers a consumer may see; everything else (cookies, server banners) stays behind.
_PASSED_HEADERS = ("content-type",)


class UpstreamUnavailable(DomainError):
    status = 502
    title = "上游接口不可用"
    default_code = "upstream_unavailable"


class UpstreamTimeout(DomainError):
    status = 504
    title = "上游接口超时"
    default_code = "upstream_timeout"


class ResponseTooLarge(DomainError):
    status = 502
    title = "响应超过大小上限"
    default_code = "response_too_large"


class UpstreamNotAllowed(DomainError):
    status = 403
    title = "上游地址不在允许的提供方网络内"
    default_code = "upstream_not_allowed"


@dataclass(frozen=True)
class AllowList:
    """The provider networks an upstream may be in; empty refuses everything (deny by default)."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, cidrs: Iterable[str]) -> AllowList:
        return cls(tuple(ipaddress.ip_network(c, strict=True) for c in cidrs))

    def allows(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
        return any(address.version == net.version and address in net for net in self.networks)


@dataclass(frozen=True)
class Upstream:
    """A registered upstream interface as the gateway needs it.

    ``credential`` is ciphertext (``kit.crypto``); a caller that already holds the decrypted value
    (a channel's ``MountSpec``) passes it as ``credential_value`` instead, kept out of ``repr``.
    """

    url: str
    method: str = "GET"
    credential_header: str = ""
    credential: str = ""
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    credential_value: str = field(default="", repr=False)


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    body: bytes
    latency_ms: float
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    latency_ms: float
    status: int | None
    error: str


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (an IP literal resolves to itself)."""
    try:
        return [_literal(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UpstreamUnavailable("上游接口的主机名无法解析", code="upstream_unresolvable") from exc
    seen: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if addr not in seen:
            seen.append(addr)
    return seen


def _literal(host: str) -> IPAddress:
    return ipaddress.ip_address(host.strip("[]"))


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    address: IPAddress


def _parse(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError("上游接口地址必须以 http:// 或 https:// 开头")
    if parts.username is not None or parts.password is not None:
        raise ValueError("上游接口地址中不能包含账号或密码,请填写在接口凭据中")
    host = parts.hostname or ""
    if not host:
        raise ValueError("上游接口地址缺少主机名")
    try:
        port = parts.port or _SCHEMES[scheme]
    except ValueError as exc:
        raise ValueError("上游接口地址的端口无效") from exc
    return scheme, host, port


def check_address(allow_list: AllowList, url: str, *, resolver: Resolver = system_resolver) -> _Target:
    """Resolve the upstream host and refuse unless every address is in the allow-list; nothing connects."""
    try:
        scheme, host, port = _parse(url)
    except ValueError as exc:
        raise UpstreamNotAllowed(str(exc), code="upstream_address_invalid") from exc
    addresses = resolver(host, port)
    if not addresses:
        raise UpstreamUnavailable("上游接口的主机名无法解析", code="upstream_unresolvable")
    if not all(allow_list.allows(a) for a in addresses):
        raise UpstreamNotAllowed("上游接口地址不在管理员登记的提供方网络白名单内")
    return _Target(scheme=scheme, host=host, port=port, address=addresses[0])


def validate_registration(
    allow_list: AllowList, url: str, method: str, *, resolver: Resolver = system_resolver
) -> None:
    """At registration: the address must parse, resolve and lie in the allow-list; the method must be known."""
    errors: list[FieldError] = []
    if method.upper() not in ALLOWED_METHODS:
        errors.append(FieldError("method", "请求方法只能是 GET 或 POST"))
    try:
        check_address(allow_list, url, resolver=resolver)
    except DomainError as exc:
        errors.append(FieldError("url", exc.detail))
    if errors:
        raise ValidationFailed("上游接口登记信息有误", errors=errors)


def load_allow_list(session: Session) -> AllowList:
    """The allow-list as the administrator keeps it now (read at every call, so a removal takes effect at once)."""
    return AllowList.of(repo.all_cidrs(session))


def _pinned_url(url: str, target: _Target) -> str:
    parts = urlsplit(url)
    ip = str(target.address)
    host = f"[{ip}]" if target.address.version == 6 else ip
    return urlunsplit((target.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def _host_header(target: _Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == _SCHEMES[target.scheme] else f"{host}:{target.port}"


@lru_cache(maxsize=1)
def _shared_client() -> httpx.Client:
    # One client per process: building one loads the CA bundle (about 0.15 s). Keep-alive is off
    # because the pool is keyed by the pinned IP: a kept TLS connection verified for one host name
    # must not carry a request for another name on the same address.
    return httpx.Client(
        trust_env=False,
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _credential_headers(upstream: Upstream, data_key: str | None) -> dict[str, str]:
    if upstream.credential_header and upstream.credential_value:
        return {upstream.credential_header: upstream.credential_value}
    if not upstream.credential_header or not upstream.credential:
        return {}
    key = data_key if data_key is not None else get_settings().security.data_key
    try:
        return {upstream.credential_header: decrypt(upstream.credential, key)}
    except (ValueError, InvalidTag) as exc:  # a rotated key or a damaged value: nothing is sent
        raise UpstreamUnavailable(
            "上游接口凭据无法解密,请数据提供部门重新填写凭据", code="upstream_credential_unreadable"
        ) from exc


class GatewayStream:
    """An upstream response whose status and headers are in and whose body is still to be read.

    ``iter_bytes`` yields the body as it arrives, stopping with ``ResponseTooLarge`` or
    ``UpstreamTimeout`` once the cap or the total deadline is passed, and closes the upstream
    connection when it ends (or when the consumer stops early: ``close`` is idempotent).
    """

    def __init__(self, response: httpx.Response, *, cap: int, deadline: float, started: float, timeout: float) -> None:
        self._response = response
        self._cap = cap
        self._deadline = deadline
        self._timeout = timeout
        self.status = response.status_code
        self.headers = {h: response.headers[h] for h in _PASSED_HEADERS if h in response.headers}
        self.latency_ms = (time.monotonic() - started) * 1000  # time to the status line and headers
        self.bytes_read = 0
        self._started = started

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")

    def iter_bytes(self) -> Iterator[bytes]:
        try:
            for chunk in self._response.iter_bytes():  # decoded: the cap also bounds a compressed bomb
                self.bytes_read += len(chunk)
                if self.bytes_read > self._cap:
                    raise ResponseTooLarge(_too_large(self._cap))
                if time.monotonic() > self._deadline:
                    raise UpstreamTimeout(f"上游接口在 {self._timeout:g} 秒内未传完响应")
                if chunk:
                    yield chunk
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"上游接口在 {self._timeout:g} 秒内未响应") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("上游接口的响应中途中断,请稍后再试或联系数据提供部门") from exc
        finally:
            self.close()

    def read(self) -> GatewayResponse:
        """The whole body (within the cap and deadline) as one buffered response."""
        body = b"".join(self.iter_bytes())
        latency_ms = (time.monotonic() - self._started) * 1000
        return GatewayResponse(status=self.status, body=body, latency_ms=latency_ms, headers=dict(self.headers))

    def close(self) -> None:
        self._response.close()


def open_stream(
    allow_list: AllowList,
    upstream: Upstream,
    *,
    params: httpx.QueryParams | Mapping[str, str] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    data_key: str | None = None,
    resolver: Resolver = system_resolver,
    client: httpx.Client | None = None,
) -> GatewayStream:
    """Call the upstream within the allow-list and timeout; return once its status and headers are in.

    A refusal, a connection failure, a timeout before the headers, a 5xx or a declared length over
    the cap raise here; the body is then read through ``GatewayStream.iter_bytes`` under the cap and
    the total deadline. ``headers`` are extra request headers (declared header parameters); they
    never replace Host or the credential. ``client`` (tests, a custom CA) must not follow redirects
    or keep connections alive, like the shared one.
    """
    target = check_address(allow_list, upstream.url, resolver=resolver)
    outgoing = {k: v for k, v in (headers or {}).items() if k.lower() not in ("host", "content-length")}
    outgoing.update({"Host": _host_header(target), "Accept": "application/json, */*;q=0.5"})
    outgoing.update(_credential_headers(upstream, data_key))
    timeout = httpx.Timeout(upstream.timeout_seconds)
    http = client or _shared_client()
    request = http.build_request(
        upstream.method.upper(),
        _pinned_url(upstream.url, target),
        params=params,
        json=json_body,
        headers=outgoing,
        timeout=timeout,
        extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
    )
    started = time.monotonic()
    deadline = started + upstream.timeout_seconds
    try:
        response = http.send(request, stream=True, follow_redirects=False)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"上游接口在 {upstream.timeout_seconds:g} 秒内未响应") from exc
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable("无法连接上游接口,请稍后再试或联系数据提供部门") from exc
    if response.status_code >= 500:
        response.close()
        raise UpstreamUnavailable(f"上游接口返回错误(状态码 {response.status_code})")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > upstream.max_response_bytes:
        response.close()
        raise ResponseTooLarge(_too_large(upstream.max_response_bytes))
    return GatewayStream(
        response, cap=upstream.max_response_bytes, deadline=deadline, started=started, timeout=upstream.timeout_seconds
    )


def forward(
    allow_list: AllowList,
    upstream: Upstream,
    *,
    params: httpx.QueryParams | Mapping[str, str] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    data_key: str | None = None,
    resolver: Resolver = system_resolver,
    client: httpx.Client | None = None,
) -> GatewayResponse:
    """Call the upstream once, within the allow-list, timeout and size cap; raise a gateway error otherwise.

    The buffered form of ``open_stream``: for small JSON a service parses before answering.
    """
    stream = open_stream(
        allow_list,
        upstream,
        params=params,
        json_body=json_body,
        headers=headers,
        data_key=data_key,
        resolver=resolver,
        client=client,
    )
    return stream.read()


def _too_large(cap: int) -> str:
    return f"上游接口的响应超过大小上限({cap} 字节),已中止"


def probe(
    allow_list: AllowList,
    upstream: Upstream,
    *,
    params: Mapping[str, str] | None = None,
    data_key: str | None = None,
    resolver: Resolver = system_resolver,
    client: httpx.Client | None = None,
) -> ProbeResult:
    """Call the upstream as the gateway would; report (ok, latency_ms, status, error), never raise a gateway error."""
    started = time.monotonic()
    try:
        result = forward(allow_list, upstream, params=params, data_key=data_key, resolver=resolver, client=client)
    except DomainError as exc:
        return ProbeResult(False, (time.monotonic() - started) * 1000, None, f"{exc.code}: {exc.detail}")
    ok = result.status < 400
    error = "" if ok else f"upstream_status: 上游接口返回状态码 {result.status}"
    return ProbeResult(ok, result.latency_ms, result.status, error)
