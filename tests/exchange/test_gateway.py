"""The API channel's gateway against a real upstream on 127.0.0.1 (started here).

Addresses outside the allow-list (192.0.2.1, a documentation address) are refused by the check
before anything connects; a recording transport proves no request was even attempted.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditRecord
from govshare.config import DEV_DATA_KEY, CryptoProfile
from govshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from govshare.exchange import gateway_networks as networks
from govshare.exchange.gateway import (
    AllowList,
    IPAddress,
    ResponseTooLarge,
    Upstream,
    UpstreamNotAllowed,
    UpstreamTimeout,
    UpstreamUnavailable,
    check_address,
    forward,
    load_allow_list,
    probe,
    validate_registration,
)
from govshare.identity.permissions import Role
from govshare.kit.crypto import encrypt
from tests.factories import Factory

LOOPBACK = AllowList.of(["127.0.0.0/8"])
OUTSIDE = "192.0.2.1"  # TEST-NET-1: never connected to, only checked
CAP = 64 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: _Upstream

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "upstream_session=secret")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers.items())))
        path = self.path.split("?", 1)[0]
        try:
            if path == "/people":
                self._json(200, {"姓名": "张三", "query": self.path, "host": self.headers.get("Host")})
            elif path == "/auth":
                self._json(200, {"authorization": self.headers.get("Authorization", "")})
            elif path == "/slow":
                time.sleep(1.5)
                self._json(200, {})
            elif path == "/drip":  # each byte well inside the read timeout, the whole far beyond the deadline
                self.send_response(200)
                self.send_header("Content-Length", "40")
                self.end_headers()
                for _ in range(40):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif path == "/big-declared":
                self.send_response(200)
                self.send_header("Content-Length", str(CAP * 10))
                self.end_headers()
                self.wfile.write(b"x" * 1024)
            elif path == "/big-streamed":  # no length: the client must count and stop
                self.send_response(200)
                self.end_headers()
                for _ in range(200):
                    self.wfile.write(b"y" * 16 * 1024)
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/people")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/broken":
                self._json(503, {"error": "maintenance"})
            else:
                self._json(404, {"error": "no such path"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway hung up at its cap or deadline, as it should

    do_POST = do_GET


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, dict[str, str]]]

    def server_bind(self) -> None:  # HTTPServer's own looks the host name up; nothing here may resolve
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any name lookup or connection to a non-loopback address fails the test instead of leaving the machine."""

    def guarded(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            loopback = ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise AssertionError(f"test tried to resolve or reach {host!r}")
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture(scope="module")
def upstream() -> Iterator[_Upstream]:
    server = _Upstream(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _Upstream, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _NoNetwork:
    """An httpx client whose transport records and fails: proof that nothing was sent."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            self.calls.append(request)
            raise AssertionError(f"the gateway connected to {request.url}")

        self.client = httpx.Client(transport=httpx.MockTransport(handler))


# -- the allow-list ---------------------------------------------------------------------------


def test_allow_list_matches_only_listed_networks() -> None:
    allow = AllowList.of(["10.20.0.0/16", "127.0.0.0/8", "2001:db8:1::/48"])
    assert allow.allows(ipaddress.ip_address("10.20.3.4"))
    assert not allow.allows(ipaddress.ip_address("10.21.0.1"))
    assert not allow.allows(ipaddress.ip_address(OUTSIDE))
    assert allow.allows(ipaddress.ip_address("::ffff:10.20.0.9"))  # IPv4-mapped counts as its IPv4
    assert allow.allows(ipaddress.ip_address("2001:db8:1::5"))
    assert not allow.allows(ipaddress.ip_address("2001:db8:2::5"))
    assert not AllowList().allows(ipaddress.ip_address("127.0.0.1"))  # empty list: deny by default


@pytest.mark.article("A24.1")
def test_address_outside_the_list_is_refused_at_registration_without_connecting() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_registration(LOOPBACK, f"http://{OUTSIDE}/api/people", "GET")
    assert [e.field for e in caught.value.errors] == ["url"]
    assert "白名单" in caught.value.errors[0].message


def test_registration_refuses_bad_addresses_and_methods() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_registration(LOOPBACK, "ftp://127.0.0.1/x", "DELETE")
    assert {e.field for e in caught.value.errors} == {"url", "method"}
    with pytest.raises(ValidationFailed, match="登记信息有误") as caught:
        validate_registration(LOOPBACK, "http://user:pw@127.0.0.1/x", "GET")
    assert "凭据" in caught.value.errors[0].message
    validate_registration(LOOPBACK, "http://127.0.0.1:8080/x", "post")  # inside the list: accepted


@pytest.mark.article("A24.1")
def test_address_outside_the_list_is_refused_at_call_time_before_any_connection() -> None:
    net = _NoNetwork()
    with pytest.raises(UpstreamNotAllowed) as caught:
        forward(LOOPBACK, Upstream(url=f"http://{OUTSIDE}/api/people"), client=net.client)
    assert caught.value.status == 403
    assert OUTSIDE not in caught.value.detail  # the consumer never learns the upstream address
    assert net.calls == []


@pytest.mark.article("A24.1")
def test_dns_rebinding_is_refused_at_call_time() -> None:
    answers: list[list[IPAddress]] = [[ipaddress.ip_address("127.0.0.1")], [ipaddress.ip_address(OUTSIDE)]]

    def rebinding(host: str, port: int) -> list[IPAddress]:
        return answers.pop(0)

    url = "http://api.provider.lanzhou.gov.cn/people"
    validate_registration(LOOPBACK, url, "GET", resolver=rebinding)  # first answer: inside
    net = _NoNetwork()
    with pytest.raises(UpstreamNotAllowed):
        forward(LOOPBACK, Upstream(url=url), resolver=rebinding, client=net.client)  # second: outside
    assert net.calls == [] and answers == []


def test_a_mixed_dns_answer_is_refused() -> None:
    def mixed(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address(OUTSIDE)]

    with pytest.raises(UpstreamNotAllowed):
        check_address(LOOPBACK, "http://api.provider.lanzhou.gov.cn/x", resolver=mixed)


@pytest.mark.article("A24.1")
def test_the_call_connects_to_the_checked_address_and_keeps_the_host_name(upstream: _Upstream) -> None:
    port = upstream.server_address[1]
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    result = forward(LOOPBACK, Upstream(url=f"http://api.provider.lanzhou.gov.cn:{port}/people"), resolver=resolver)
    assert asked == ["api.provider.lanzhou.gov.cn"]
    assert json.loads(result.body)["host"] == f"api.provider.lanzhou.gov.cn:{port}"


# -- forwarding -------------------------------------------------------------------------------


@pytest.mark.article("A24.1")
def test_a_call_returns_the_upstream_data(upstream: _Upstream) -> None:
    result = forward(LOOPBACK, Upstream(url=_url(upstream, "/people")), params={"id": "620102"})
    assert result.status == 200
    payload = json.loads(result.body)
    assert payload["姓名"] == "张三" and payload["query"] == "/people?id=620102"
    assert result.content_type.startswith("application/json")
    assert "set-cookie" not in result.headers  # upstream headers beyond the content type stay behind
    assert result.latency_ms > 0


@pytest.mark.parametrize("profile", [CryptoProfile.standard, CryptoProfile.gm])
def test_the_encrypted_credential_is_sent_upstream(upstream: _Upstream, profile: CryptoProfile) -> None:
    secret = encrypt("Bearer provider-token-7", DEV_DATA_KEY, profile)
    assert "provider-token-7" not in secret
    up = Upstream(url=_url(upstream, "/auth"), credential_header="Authorization", credential=secret)
    result = forward(LOOPBACK, up, data_key=DEV_DATA_KEY)
    assert json.loads(result.body) == {"authorization": "Bearer provider-token-7"}


def test_an_unreadable_credential_sends_nothing() -> None:
    other_key = "b3RoZXIta2V5LW9mLXRoaXJ0eS10d28tYnl0ZXMhISE="  # base64 of another 32-byte key
    up = Upstream(url="http://127.0.0.1:9/auth", credential_header="Authorization", credential=encrypt("x", other_key))
    net = _NoNetwork()
    with pytest.raises(UpstreamUnavailable) as caught:
        forward(LOOPBACK, up, data_key=DEV_DATA_KEY, client=net.client)
    assert caught.value.code == "upstream_credential_unreadable" and net.calls == []


def test_redirects_are_not_followed(upstream: _Upstream) -> None:
    before = len(upstream.seen)
    result = forward(LOOPBACK, Upstream(url=_url(upstream, "/redirect")))
    assert result.status == 302 and "location" not in result.headers
    assert [p for p, _ in upstream.seen[before:]] == ["/redirect"]


@pytest.mark.article("A24.1")
def test_an_upstream_that_is_down_is_unavailable() -> None:
    up = Upstream(url=f"http://127.0.0.1:{_closed_port()}/people")
    with pytest.raises(UpstreamUnavailable) as caught:
        forward(LOOPBACK, up)
    assert caught.value.status == 502 and caught.value.title == "上游接口不可用"
    assert "127.0.0.1" not in caught.value.detail


def test_an_upstream_server_error_is_unavailable(upstream: _Upstream) -> None:
    with pytest.raises(UpstreamUnavailable, match="503"):
        forward(LOOPBACK, Upstream(url=_url(upstream, "/broken")))


def test_a_client_error_passes_through(upstream: _Upstream) -> None:
    assert forward(LOOPBACK, Upstream(url=_url(upstream, "/nothing"))).status == 404


def test_a_slow_upstream_times_out(upstream: _Upstream) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        forward(LOOPBACK, Upstream(url=_url(upstream, "/slow"), timeout_seconds=0.3))
    assert time.monotonic() - started < 1.2
    assert caught.value.status == 504 and caught.value.title == "上游接口超时"


def test_a_slow_drip_is_stopped_by_the_total_deadline(upstream: _Upstream) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        forward(LOOPBACK, Upstream(url=_url(upstream, "/drip"), timeout_seconds=0.5))
    assert time.monotonic() - started < 1.5  # the whole body would take 2 s


@pytest.mark.parametrize("path", ["/big-declared", "/big-streamed"])
def test_a_response_over_the_cap_is_refused(upstream: _Upstream, path: str) -> None:
    with pytest.raises(ResponseTooLarge) as caught:
        forward(LOOPBACK, Upstream(url=_url(upstream, path), max_response_bytes=CAP))
    assert caught.value.title == "响应超过大小上限"
    assert forward(LOOPBACK, Upstream(url=_url(upstream, "/people"), max_response_bytes=CAP)).status == 200


@pytest.mark.article("A24.1")
def test_gateway_errors_render_as_problem_json(app: FastAPI) -> None:
    port = _closed_port()

    def call() -> dict[str, str]:
        forward(LOOPBACK, Upstream(url=f"http://127.0.0.1:{port}/people"))
        return {}

    app.add_api_route("/api/v1/test-gateway", call)
    with TestClient(app) as client:
        response = client.get("/api/v1/test-gateway")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "upstream_unavailable" and body["title"] == "上游接口不可用"
    assert str(port) not in response.text


# -- the probe --------------------------------------------------------------------------------


@pytest.mark.article("A24.1")
def test_probe_reports_availability_and_latency(upstream: _Upstream) -> None:
    ok = probe(LOOPBACK, Upstream(url=_url(upstream, "/people")))
    assert ok.ok and ok.status == 200 and ok.latency_ms > 0 and ok.error == ""

    down = probe(LOOPBACK, Upstream(url=f"http://127.0.0.1:{_closed_port()}/people"))
    assert not down.ok and down.status is None and down.error.startswith("upstream_unavailable")

    slow = probe(LOOPBACK, Upstream(url=_url(upstream, "/slow"), timeout_seconds=0.2))
    assert not slow.ok and slow.error.startswith("upstream_timeout")

    missing = probe(LOOPBACK, Upstream(url=_url(upstream, "/nothing")))
    assert not missing.ok and missing.status == 404

    refused = probe(LOOPBACK, Upstream(url=f"http://{OUTSIDE}/x"), client=_NoNetwork().client)
    assert not refused.ok and refused.error.startswith("upstream_not_allowed")


# -- the administrator's list -----------------------------------------------------------------


@pytest.mark.article("A24.1")
def test_admin_keeps_the_list_and_each_change_is_audited(session: Session, factory: Factory) -> None:
    admin = factory.role_actor(Role.bureau_admin)
    row = networks.add_network(session, admin, cidr=" 10.20.0.0/16 ", description="市电子政务外网 · 人社局")
    assert row.cidr == "10.20.0.0/16"
    assert load_allow_list(session).allows(ipaddress.ip_address("10.20.1.1"))
    assert [n.cidr for n in networks.list_networks(session, admin)] == ["10.20.0.0/16"]

    networks.remove_network(session, admin, network_id=row.id)
    assert not load_allow_list(session).allows(ipaddress.ip_address("10.20.1.1"))

    trail = session.execute(
        select(AuditRecord.action, AuditRecord.object_id).where(AuditRecord.object_type == "provider_network")
    ).all()
    assert [(a, o) for a, o in trail] == [
        ("exchange.provider_network.added", str(row.id)),
        ("exchange.provider_network.removed", str(row.id)),
    ]


def test_a_removed_network_is_refused_at_the_next_call(session: Session, factory: Factory, upstream: _Upstream) -> None:
    admin = factory.role_actor(Role.bureau_admin)
    row = networks.add_network(session, admin, cidr="127.0.0.0/8")
    up = Upstream(url=_url(upstream, "/people"))
    assert forward(load_allow_list(session), up).status == 200
    networks.remove_network(session, admin, network_id=row.id)
    with pytest.raises(UpstreamNotAllowed):
        forward(load_allow_list(session), up, client=_NoNetwork().client)


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("10.20.1.0/16", "主机位"),
        ("10.20.0.0/33", "CIDR"),
        ("内网", "CIDR"),
        ("0.0.0.0/0", "全部地址"),
        ("::/0", "全部地址"),
    ],
)
def test_bad_networks_are_refused(session: Session, factory: Factory, cidr: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        networks.add_network(session, factory.role_actor(Role.bureau_admin), cidr=cidr)
    assert caught.value.errors[0].field == "cidr" and message in caught.value.errors[0].message


def test_a_network_listed_twice_is_a_conflict(session: Session, factory: Factory) -> None:
    admin = factory.role_actor(Role.bureau_admin)
    networks.add_network(session, admin, cidr="2001:db8:1::/48")
    with pytest.raises(Conflict):
        networks.add_network(session, admin, cidr="2001:DB8:1:0::/48")
    with pytest.raises(NotFound):
        networks.remove_network(session, admin, network_id=999_999)


@pytest.mark.parametrize("role", [Role.dept_admin, Role.bureau_reviewer, Role.auditor])
def test_only_the_system_administrator_keeps_the_list(session: Session, factory: Factory, role: Role) -> None:
    actor = factory.role_actor(role)
    with pytest.raises(Forbidden):
        networks.add_network(session, actor, cidr="10.30.0.0/16")
    with pytest.raises(Forbidden):
        networks.list_networks(session, actor)


# -- HTTPS: the connection is pinned to the checked IP, the certificate still checked against the name --

PROVIDER_HOST = "api.provider.lanzhou.gov.cn"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PROVIDER_HOST)])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(PROVIDER_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[_Upstream, Path]]:
    cert_path, key_path = _self_signed(tmp_path_factory.mktemp("tls"))
    server = _Upstream(("127.0.0.1", 0), _Handler)
    server.seen = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, cert_path
    server.shutdown()
    server.server_close()


def _loopback_resolver(host: str, port: int) -> list[IPAddress]:
    return [ipaddress.ip_address("127.0.0.1")]


@pytest.mark.article("A24.1")
def test_https_is_pinned_and_verified_against_the_host_name(tls_upstream: tuple[_Upstream, Path]) -> None:
    server, cert_path = tls_upstream
    port = server.server_address[1]
    trusting = httpx.Client(
        verify=ssl.create_default_context(cafile=str(cert_path)),
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    up = Upstream(url=f"https://{PROVIDER_HOST}:{port}/people")
    result = forward(LOOPBACK, up, resolver=_loopback_resolver, client=trusting)
    assert json.loads(result.body)["host"] == f"{PROVIDER_HOST}:{port}"

    # the same address under another name: the certificate does not match, so nothing is returned
    other = Upstream(url=f"https://other.provider.lanzhou.gov.cn:{port}/people")
    with pytest.raises(UpstreamUnavailable):
        forward(LOOPBACK, other, resolver=_loopback_resolver, client=trusting)
    trusting.close()
