"""Every query of the API channel's mounts (接口登记) and their probe runs.

Visibility (``readable``): the provider department's own data administrators see their
department's API mounts; holders of ``exchange:monitor`` (the bureau, region reviewers, auditors)
see every one; the platform itself sees all. Nobody else sees any.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.exchange.models import Mount, SyncRun
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

CHANNEL = "api"
FINISHED = ("succeeded", "failed")


def readable(actor: Actor) -> Select[Mount, Resource]:
    """API mounts with their resources, as far as ``actor`` may see them (module docstring)."""
    stmt = (
        select(Mount, Resource)
        .join(Resource, Resource.id == Mount.resource_id)
        .where(Mount.channel == CHANNEL)
        .order_by(Mount.id.desc())
    )
    if actor.kind == "system" or actor.can(Permission.exchange_monitor):
        return stmt
    if actor.can(Permission.exchange_mount) and actor.department_id is not None:
        return stmt.where(Resource.provider_id == actor.department_id)
    return stmt.where(false())  # sees nothing


def readable_mount(session: Session, actor: Actor, mount_id: int) -> tuple[Mount, Resource] | None:
    row = session.execute(readable(actor).where(Mount.id == mount_id)).first()
    return (row[0], row[1]) if row is not None else None


def list_readable(session: Session, actor: Actor, *, limit: int = 200) -> list[tuple[Mount, Resource]]:
    return [(m, r) for m, r in session.execute(readable(actor).limit(limit)).all()]


def active_api_mount(session: Session, resource_id: int) -> Mount | None:
    return session.scalars(
        select(Mount)
        .where(Mount.resource_id == resource_id, Mount.channel == CHANNEL, Mount.status == "active")
        .order_by(Mount.id.desc())
    ).first()


def any_api_mount(session: Session, resource_id: int) -> Mount | None:
    return session.scalars(
        select(Mount).where(Mount.resource_id == resource_id, Mount.channel == CHANNEL).order_by(Mount.id.desc())
    ).first()


def finished_probes_since(session: Session, mount_id: int, since: dt.datetime) -> list[SyncRun]:
    """Finished probe runs of the mount since ``since``, newest first."""
    return list(
        session.scalars(
            select(SyncRun)
            .where(
                SyncRun.mount_id == mount_id,
                SyncRun.kind == "probe",
                SyncRun.status.in_(FINISHED),
                SyncRun.finished_at >= since,
            )
            .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
        )
    )


def recent_probes(session: Session, mount_id: int, *, limit: int = 20) -> list[SyncRun]:
    return list(
        session.scalars(
            select(SyncRun)
            .where(SyncRun.mount_id == mount_id, SyncRun.kind == "probe")
            .order_by(SyncRun.id.desc())
            .limit(limit)
        )
    )


def last_failed_probe(session: Session, mount_id: int) -> SyncRun | None:
    return session.scalars(
        select(SyncRun)
        .where(SyncRun.mount_id == mount_id, SyncRun.kind == "probe", SyncRun.status == "failed")
        .order_by(SyncRun.finished_at.desc().nulls_last(), SyncRun.id.desc())
        .limit(1)
    ).first()


def unmounted_api_resources(session: Session, department_id: int) -> list[Resource]:
    """The department's 接口对接 resources without an API mount, newest first."""
    mounted = select(Mount.resource_id).where(Mount.channel == CHANNEL)
    return list(
        session.scalars(
            select(Resource)
            .where(Resource.provider_id == department_id, Resource.channel == CHANNEL, Resource.id.not_in(mounted))
            .order_by(Resource.id.desc())
            .limit(200)
        )
    )
