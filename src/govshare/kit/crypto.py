"""Hashing and encryption under the two crypto profiles.

``standard``: SHA-256 and AES-256-GCM. ``gm`` (国密): SM3 and SM4-GCM. Both come from
``cryptography``; keys come from the settings, never from the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from govshare.config import CryptoProfile


def digest(data: bytes, profile: CryptoProfile = CryptoProfile.standard) -> str:
    """Hex digest: SHA-256, or SM3 under the 国密 profile."""
    if profile == CryptoProfile.gm:
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize().hex()
    return hashlib.sha256(data).hexdigest()


def token_hash(token: str, secret: str) -> str:
    """A keyed hash for looking up bearer secrets (session ids, API tokens) without storing them."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def _key(b64: str, size: int) -> bytes:
    raw = base64.b64decode(b64)
    if len(raw) < size:
        raise ValueError("数据加密密钥长度不足")
    return raw[:size]


def encrypt(plain: str, key_b64: str, profile: CryptoProfile = CryptoProfile.standard) -> str:
    """Encrypt a secret for storage; the result names its algorithm so a profile change keeps old values readable."""
    nonce = os.urandom(12)
    if profile == CryptoProfile.gm:
        encryptor = Cipher(algorithms.SM4(_key(key_b64, 16)), modes.GCM(nonce)).encryptor()
        body = encryptor.update(plain.encode()) + encryptor.finalize() + encryptor.tag
        return "sm4gcm:" + base64.b64encode(nonce + body).decode()
    body = AESGCM(_key(key_b64, 32)).encrypt(nonce, plain.encode(), None)
    return "aesgcm:" + base64.b64encode(nonce + body).decode()


def decrypt(stored: str, key_b64: str) -> str:
    scheme, _, payload = stored.partition(":")
    raw = base64.b64decode(payload)
    nonce, body = raw[:12], raw[12:]
    if scheme == "sm4gcm":
        tag, ciphertext = body[-16:], body[:-16]
        decryptor = Cipher(algorithms.SM4(_key(key_b64, 16)), modes.GCM(nonce, tag)).decryptor()
        return (decryptor.update(ciphertext) + decryptor.finalize()).decode()
    if scheme == "aesgcm":
        return AESGCM(_key(key_b64, 32)).decrypt(nonce, body, None).decode()
    raise ValueError(f"未知的加密方案: {scheme}")
