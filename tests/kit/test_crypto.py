from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.config import DEV_DATA_KEY, CryptoProfile, get_settings
from govshare.identity.actor import Actor
from govshare.kit import crypto


def test_digests_match_published_vectors() -> None:
    assert crypto.digest(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert crypto.digest(b"abc", CryptoProfile.gm) == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


@pytest.mark.parametrize("profile", list(CryptoProfile))
@pytest.mark.article("A30.1")
def test_secrets_round_trip_and_are_not_stored_in_clear(profile: CryptoProfile) -> None:
    stored = crypto.encrypt("数据库口令 s3cret", DEV_DATA_KEY, profile)
    assert "s3cret" not in stored
    assert stored.startswith("sm4gcm:" if profile == CryptoProfile.gm else "aesgcm:")
    assert crypto.decrypt(stored, DEV_DATA_KEY) == "数据库口令 s3cret"
    assert crypto.encrypt("x", DEV_DATA_KEY, profile) != crypto.encrypt("x", DEV_DATA_KEY, profile)  # fresh nonce


def test_tampered_ciphertext_is_refused() -> None:
    stored = crypto.encrypt("secret", DEV_DATA_KEY)
    scheme, _, body = stored.partition(":")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(Exception):  # noqa: B017 - AEAD raises InvalidTag
        crypto.decrypt(f"{scheme}:{flipped}", DEV_DATA_KEY)


@pytest.mark.article("A31.2")
def test_audit_chain_under_the_gm_profile_uses_sm3_and_detects_edits(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSHARE_SECURITY__CRYPTO_PROFILE", "gm")
    get_settings.cache_clear()
    try:
        first = audit.record(session, Actor.system(), Action.region_updated, object_type="region", object_id=1)
        audit.record(session, Actor.system(), Action.region_updated, object_type="region", object_id=2)
        assert first.algorithm == "sm3"
        assert audit.verify(session).ok
        session.execute(text("UPDATE audit_record SET object_id = '99' WHERE id = :id"), {"id": first.id})
        session.expire_all()
        result = audit.verify(session)
        assert not result.ok and result.finding is not None and result.finding.record_id == first.id
    finally:
        get_settings.cache_clear()
