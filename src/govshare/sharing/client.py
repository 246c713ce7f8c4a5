"""Calling the consumer data API from a department's system: request signing and a tiny client.

The signature (the platform checks exactly this):

    X-GS-Key        the system's app key (gsk_…)
    X-GS-Timestamp  unix seconds; refused beyond ±300 s of the platform's clock
    X-GS-Nonce      16–64 characters of [A-Za-z0-9_-], used once within the window
    X-GS-Signature  hex HMAC-SHA256(secret, "\\n".join([METHOD, path, canonical_query,
                                                      sha256_hex(body), timestamp, nonce]))

``path`` is the request path as the server routes it (not percent-encoded: a resource code's
``/`` stays a ``/``); ``canonical_query`` is the query pairs sorted by key then value, each
percent-encoded per RFC 3986 (unreserved characters ``A-Z a-z 0-9 - _ . ~`` left as they are) and
joined with ``&``.

    client = ConsumerClient("https://govshare.example", app_key, secret)
    page = client.rows("101/000123", grant_id=7, limit=100, sort="i12")
    while page["next"]:
        page = client.rows("101/000123", grant_id=7, after=page["next"])

This module depends only on the standard library and httpx, so a department can copy it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

QueryInput = Mapping[str, Any] | Iterable[tuple[str, Any]]


def _pairs(query: QueryInput | None) -> list[tuple[str, str]]:
    if query is None:
        return []
    items = query.items() if isinstance(query, Mapping) else query
    out: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend((str(key), _text(v)) for v in value)
        else:
            out.append((str(key), _text(value)))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Query pairs sorted by key then value, RFC 3986 percent-encoded, joined with ``&``."""
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def string_to_sign(method: str, path: str, query: str, body: bytes, timestamp: str, nonce: str) -> str:
    return "\n".join([method.upper(), path, query, hashlib.sha256(body).hexdigest(), timestamp, nonce])


def signature(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(
    method: str,
    url_path: str,
    query: QueryInput | None,
    body: bytes,
    app_key: str,
    secret: str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four X-GS-* headers of one signed request."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    message = string_to_sign(method, url_path, canonical_query(_pairs(query)), body, ts, nonce)
    return {
        "X-GS-Key": app_key,
        "X-GS-Timestamp": ts,
        "X-GS-Nonce": nonce,
        "X-GS-Signature": signature(secret, message),
    }


class ConsumerClient:
    """A signed client of the consumer data API (one httpx.Client; close it or use ``with``)."""

    def __init__(self, base_url: str, app_key: str, secret: str, *, timeout: float = 30.0, **httpx_args: Any) -> None:
        self.app_key = app_key
        self.secret = secret
        self.http = httpx.Client(base_url=base_url, timeout=timeout, **httpx_args)

    def __enter__(self) -> ConsumerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, params: QueryInput | None = None, json_body: Any = None
    ) -> httpx.Response:
        """One signed request; returns the response whatever its status."""
        pairs = _pairs(params)
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        headers = sign(method, path, pairs, body, self.app_key, self.secret)
        if body:
            headers["Content-Type"] = "application/json"
        query: list[tuple[str, str | int | float | bool | None]] = list(pairs)
        return self.http.request(method, path, params=query, content=body or None, headers=headers)

    def _json(self, response: httpx.Response) -> Any:
        response.raise_for_status()
        return response.json()

    def rows(self, resource_code: str, **params: Any) -> Any:
        """One page of rows: ``grant_id``, ``limit``, ``after``, ``sort``, ``order`` and ``i<id>`` filters."""
        return self._json(self.request("GET", f"/api/v1/consumer/resources/{resource_code}/rows", params))

    def verify(self, resource_code: str, match: Mapping[str, Any], grant_id: int | None = None) -> Any:
        """Ask whether a record with these values exists (``{"result": "match" | "no_match"}``)."""
        body: dict[str, Any] = {"match": dict(match)}
        if grant_id is not None:
            body["grant_id"] = grant_id
        return self._json(self.request("POST", f"/api/v1/consumer/resources/{resource_code}/verify", None, body))

    def token(self) -> str:
        """A bearer token (``gsa_…``, valid 15 minutes) for callers that prefer not to sign each request."""
        return str(self._json(self.request("POST", "/api/v1/consumer/token"))["access_token"])
