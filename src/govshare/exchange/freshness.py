"""Freshness of the base (A8.2): per resource the last good sync, its row count, and lateness.

A resource is late when its last good sync is older than its 更新周期 (the worker's
``CYCLE_INTERVALS``) plus a grace for the run itself (``GRACE``: a daily resource synced at 02:00 is
late from 02:00 two days later, not one). One never synced counts from when it was mounted; a
published 库表 resource with no mount at all counts from its publication. The list is sorted by
lateness, the latest first, then by how soon the others fall due.

The quality summary of the last good sync (A25.1) goes with the figures only to those who monitor
the resource (its provider's data administrators, the bureau, the responsible region, auditors);
everyone who may read the resource sees its freshness.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govshare.catalog.enums import UpdateCycle, label
from govshare.errors import NotFound
from govshare.exchange import repository
from govshare.exchange.repository import FreshnessRow
from govshare.exchange.schemas import FreshnessPage, FreshnessRead
from govshare.exchange.worker import CYCLE_INTERVALS
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit import clock

GRACE: dict[str, dt.timedelta] = {
    "realtime": dt.timedelta(minutes=10),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=1),
    "monthly": dt.timedelta(days=3),
    "quarterly": dt.timedelta(days=7),
    "half_yearly": dt.timedelta(days=7),
    "yearly": dt.timedelta(days=15),
    "other": dt.timedelta(days=1),
}
STATE_LABELS = {"fresh": "按时", "late": "已超期", "never": "尚未同步", "unmounted": "未挂载"}


def allowance(update_cycle: str) -> dt.timedelta:
    """How long after a good sync the next one must have happened: the cycle plus its grace."""
    interval = CYCLE_INTERVALS.get(update_cycle, CYCLE_INTERVALS["daily"])
    return interval + GRACE.get(update_cycle, GRACE["daily"])


@dataclass(frozen=True)
class Freshness:
    row: FreshnessRow
    state: str
    due_at: dt.datetime | None
    late_by: dt.timedelta | None
    show_quality: bool

    @property
    def late(self) -> bool:
        return self.late_by is not None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def cycle_label(self) -> str:
        return label(self.row.update_cycle, UpdateCycle)

    @property
    def quality(self) -> dict[str, Any] | None:
        return self.row.quality if self.show_quality else None

    @property
    def late_text(self) -> str:
        """The lateness in words (超期 2 天 3 小时), or an empty string."""
        if self.late_by is None:
            return ""
        return "超期 " + duration_text(self.late_by)

    def read(self) -> FreshnessRead:
        r = self.row
        return FreshnessRead(
            resource_id=r.resource_id,
            resource_code=r.code,
            resource_name=r.name,
            provider_id=r.provider_id,
            provider_name=r.provider_name,
            update_cycle=r.update_cycle,
            mount_id=r.mount_id,
            mount_status=r.mount_status,
            state=self.state,
            last_good_sync_at=r.last_good_sync_at,
            row_count=r.row_count,
            due_at=self.due_at,
            late=self.late,
            late_seconds=int(self.late_by.total_seconds()) if self.late_by else 0,
            quality=self.quality,
        )


def duration_text(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    return f"{max(minutes, 1)} 分钟"


def assess(row: FreshnessRow, now: dt.datetime, *, show_quality: bool = False) -> Freshness:
    """The state, due time and lateness of one resource at ``now``."""
    since: dt.datetime | None
    if row.last_good_sync_at is not None:
        state, since = "fresh", row.last_good_sync_at
    elif row.mount_id is not None:
        state, since = "never", row.mount_created_at
    else:
        state, since = "unmounted", row.published_at
    due_at = since + allowance(row.update_cycle) if since is not None else None
    late_by = now - due_at if due_at is not None and now > due_at else None
    if late_by is not None and state == "fresh":
        state = "late"
    return Freshness(row=row, state=state, due_at=due_at, late_by=late_by, show_quality=show_quality)


def _lateness_order(f: Freshness) -> tuple[int, float, int]:
    if f.late_by is not None:
        return (0, -f.late_by.total_seconds(), f.row.resource_id)
    if f.due_at is not None:
        return (1, f.due_at.timestamp(), f.row.resource_id)
    return (2, 0.0, f.row.resource_id)


def assess_all(session: Session, actor: Actor, *, department_id: int | None = None) -> list[Freshness]:
    """Every resource ``actor`` monitors, assessed now and sorted by lateness (latest first)."""
    now = clock.now()
    rows = repository.freshness_rows(session, actor, department_id=department_id)
    found = [assess(row, now, show_quality=True) for row in rows]
    return sorted(found, key=_lateness_order)


def list_freshness(
    session: Session,
    actor: Actor,
    *,
    department_id: int | None = None,
    late_only: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Freshness], int]:
    """One page of the freshness list (A8.2) of the resources ``actor`` monitors, and the total."""
    found = assess_all(session, actor, department_id=department_id)
    if late_only:
        found = [f for f in found if f.late]
    start = (max(page, 1) - 1) * page_size
    return found[start : start + page_size], len(found)


def freshness_page(
    session: Session,
    actor: Actor,
    *,
    department_id: int | None = None,
    late_only: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> FreshnessPage:
    items, total = list_freshness(
        session, actor, department_id=department_id, late_only=late_only, page=page, page_size=page_size
    )
    return FreshnessPage(
        items=[f.read() for f in items],
        page=page,
        page_size=page_size,
        total=total,
        has_next=page * page_size < total,
    )


def resource_freshness(session: Session, actor: Actor, resource_id: int) -> Freshness | None:
    """The freshness of one resource the caller has already been allowed to read (the catalog
    detail page); None when it has no table data. Quality only for those who monitor it."""
    rows = repository.freshness_rows(session, Actor.system(), resource_id=resource_id)
    if not rows:
        return None
    monitors = bool(repository.freshness_rows(session, actor, resource_id=resource_id)) and (
        actor.can(Permission.exchange_monitor) or actor.can(Permission.exchange_mount) or actor.kind == "system"
    )
    return assess(rows[0], clock.now(), show_quality=monitors)


def freshness_of(session: Session, actor: Actor, resource_id: int) -> Freshness:
    """The freshness of one monitored resource (API); 404 when the actor does not monitor it."""
    rows = repository.freshness_rows(session, actor, resource_id=resource_id)
    if not rows:
        raise NotFound("没有该信息资源的同步情况,或无权查看")
    return assess(rows[0], clock.now(), show_quality=True)
