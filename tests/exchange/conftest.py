"""Fixtures of the API-channel tests (``test_api_channel.py``, ``test_api_mounts.py``): the real upstream
on 127.0.0.1, the allow-list entry that lets the gateway reach it, and a var directory of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from govshare.config import get_settings
from govshare.exchange import gateway_networks
from govshare.identity.permissions import Role
from tests.exchange import api_upstream
from tests.factories import Factory


@pytest.fixture(scope="module")
def upstream() -> Iterator[api_upstream.Upstream]:
    yield from api_upstream.serve()


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``GOVSHARE_VAR_DIR`` in the test's temporary directory (settings re-read before and after)."""
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


@pytest.fixture
def allow_loopback(session: Session, factory: Factory) -> int:
    """The allow-list holds 127.0.0.0/8, where the upstream listens; the network's id."""
    return gateway_networks.add_network(
        session, factory.role_actor(Role.bureau_admin), cidr="127.0.0.0/8", description="测试上游"
    ).id
