"""Channels as plugins (habit 11): the API, table and file channels implement one interface,
registered by name. A channel works on plain data (a ``MountSpec``), never on a session, so the
worker, the CLI and tests drive it the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine

from govshare.errors import DomainError
from govshare.exchange.base import ColumnSpec

if TYPE_CHECKING:
    from govshare.db import Database


class SyncFailed(DomainError):
    """A run that could not complete; ``detail`` says why in Chinese and nothing was half-applied."""

    status = 409
    title = "同步失败"
    default_code = "sync_failed"


ProgressCallback = Callable[[int, int], None]  # (rows so far, bytes so far)


def _no_progress(_rows: int, _bytes: int) -> None:
    return None


@dataclass(frozen=True)
class MountSpec:
    """Everything a channel needs to run one mount; ``secret`` is already decrypted."""

    mount_id: int
    resource_id: int
    channel: str
    config: dict[str, Any]
    secret: dict[str, str]
    columns: list[ColumnSpec]
    mapping: dict[int, str]  # data_item_id -> source column
    sync_mode: str = "full"
    watermark_column: str = ""
    key_column: str = ""
    test_table: str = ""
    # why an incremental mount must load in full this time: "periodic" (its last full refresh is older
    # than ``full_refresh_days``) or "source_changed" (address, table, watermark or key edited); "" = no need
    full_refresh: str = ""
    batch_size: int = 5000  # rows per read, COPY progress step and incremental commit (bench/exchange_sync.py)


@dataclass
class SyncOutcome:
    rows: int = 0
    bytes: int = 0
    row_count: int = 0
    watermark: Any = None
    synced_at: str = ""
    quality: dict[str, Any] = field(default_factory=dict)  # exchange.quality's summary of the rows read (A25.1)
    # how the rows arrived: full | incremental | full_initial | full_periodic | full_source_changed ("" = no load)
    mode: str = ""

    @property
    def full(self) -> bool:
        """Whether the base table was replaced whole (a staging swap), so deletes at the source are gone."""
        return self.mode.startswith("full")


@dataclass
class ProbeOutcome:
    ok: bool
    latency_ms: int
    error: str = ""


@dataclass
class RunEnv:
    """What the platform gives a run: the base engine, a progress callback and (for channels that
    keep platform rows, like the file channel's versions) the platform database."""

    base: Engine
    progress: ProgressCallback = field(default=_no_progress)
    db: Database | None = None


class Channel(Protocol):
    name: str

    def sync(self, spec: MountSpec, env: RunEnv) -> SyncOutcome: ...

    def probe(self, spec: MountSpec) -> ProbeOutcome: ...


_REGISTRY: dict[str, Channel] = {}
_BUILTIN = {
    "table": "govshare.exchange.channels.table",
    "file": "govshare.exchange.channels.file",
    "api": "govshare.exchange.channels.api",
}


def register(channel: Channel) -> Channel:
    _REGISTRY[channel.name] = channel
    return channel


def get_channel(name: str) -> Channel:
    """The registered channel of that name; a built-in channel's module registers it on import."""
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in _REGISTRY:
        raise SyncFailed(f"未注册的共享方式: {name}", code="channel_unknown")
    return _REGISTRY[name]
