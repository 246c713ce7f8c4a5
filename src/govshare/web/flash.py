"""One-shot messages carried across a redirect in a signed cookie."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from starlette.requests import Request
from starlette.responses import Response

from govshare.config import get_settings

FLASH_COOKIE = "gs_flash"


def _sign(payload: bytes) -> str:
    key = get_settings().security.secret_key.encode()
    return hmac.new(key, b"flash:" + payload, hashlib.sha256).hexdigest()[:24]


def flash(response: Response, message: str, kind: str = "success") -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"m": message, "k": kind}).encode())
    response.set_cookie(FLASH_COOKIE, f"{payload.decode()}.{_sign(payload)}", max_age=60, httponly=True, samesite="lax")


def pop_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    payload, _, mac = raw.rpartition(".")
    if not hmac.compare_digest(mac, _sign(payload.encode())):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        return None
    request.state.flash_consumed = True
    return {"message": str(data.get("m", "")), "kind": str(data.get("k", "success"))}
