"""Signed double-submit CSRF tokens: the cookie and the form field must match and carry our MAC."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from govshare.config import get_settings

CSRF_COOKIE = "gs_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def _mac(nonce: str) -> str:
    key = get_settings().security.secret_key.encode()
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def new_csrf_token() -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_mac(nonce)}"


def csrf_valid(token: str) -> bool:
    nonce, _, mac = token.partition(".")
    return bool(nonce) and hmac.compare_digest(mac, _mac(nonce))
