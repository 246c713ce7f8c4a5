"""Queries of the exchange pages and API: mounts, their runs, and freshness — and the one visibility rule.

Visibility (``scope_clause``) of mounts, runs, freshness and quality:
- the platform, the bureau's system administrators and reviewers, and auditors see every resource's;
- a county's region reviewers see those of the resources reviewed in their regions;
- a department's data administrators (``exchange:mount``) see their own department's;
- everybody else sees none (the routes also refuse them by permission).
The worker's queries (leases, claims) are in ``run_repository``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.catalog.repository import reviewable_clause
from govshare.exchange.models import BaseTable, Mount, SyncRun
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Permission, Role

SEE_ALL_ROLES = frozenset({Role.bureau_admin, Role.bureau_reviewer, Role.auditor})


def scope_clause(actor: Actor) -> ColumnElement[bool] | None:
    """The WHERE clause on ``Resource`` of what ``actor`` may monitor; None when everything."""
    if actor.kind == "system" or actor.roles & SEE_ALL_ROLES:
        return None
    clauses: list[ColumnElement[bool]] = []
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        clauses.append(reviewable_clause(actor))
    if actor.can(Permission.exchange_mount) and actor.department_id is not None:
        clauses.append(Resource.provider_id == actor.department_id)
    return or_(*clauses) if clauses else false()


def readable(actor: Actor) -> Select[Mount, Resource]:
    """Mounts (with their resource) ``actor`` may see; every mount read starts here."""
    stmt = select(Mount, Resource).join(Resource, Resource.id == Mount.resource_id)
    clause = scope_clause(actor)
    return stmt if clause is None else stmt.where(clause)


def readable_mount(session: Session, actor: Actor, mount_id: int) -> tuple[Mount, Resource] | None:
    row = session.execute(readable(actor).where(Mount.id == mount_id)).first()
    return (row[0], row[1]) if row is not None else None


def mounts(
    session: Session,
    actor: Actor,
    *,
    resource_id: int | None = None,
    department_id: int | None = None,
    channel: str | None = None,
    limit: int = 500,
) -> list[tuple[Mount, Resource]]:
    stmt = readable(actor)
    if resource_id is not None:
        stmt = stmt.where(Mount.resource_id == resource_id)
    if department_id is not None:
        stmt = stmt.where(Resource.provider_id == department_id)
    if channel is not None:
        stmt = stmt.where(Mount.channel == channel)
    return [(m, r) for m, r in session.execute(stmt.order_by(Mount.id.desc()).limit(limit))]


def mount_for_resource(session: Session, resource_id: int, channel: str) -> Mount | None:
    return session.scalars(
        select(Mount).where(Mount.resource_id == resource_id, Mount.channel == channel).order_by(Mount.id.desc())
    ).first()


def runs_of(session: Session, mount_id: int, *, offset: int = 0, limit: int = 50) -> list[SyncRun]:
    return list(
        session.scalars(
            select(SyncRun).where(SyncRun.mount_id == mount_id).order_by(SyncRun.id.desc()).offset(offset).limit(limit)
        )
    )


def queued_runs(session: Session, mount_id: int) -> list[SyncRun]:
    return list(session.scalars(select(SyncRun).where(SyncRun.mount_id == mount_id, SyncRun.status == "queued")))


def last_run(session: Session, mount_id: int, kind: str, *, finished: bool = True) -> SyncRun | None:
    stmt = select(SyncRun).where(SyncRun.mount_id == mount_id, SyncRun.kind == kind)
    if finished:
        stmt = stmt.where(SyncRun.status.in_(("succeeded", "failed")))
    return session.scalars(stmt.order_by(SyncRun.id.desc())).first()


def readable_run(session: Session, actor: Actor, run_id: int) -> tuple[SyncRun, Mount, Resource] | None:
    stmt = readable(actor).add_columns(SyncRun).join(SyncRun, SyncRun.mount_id == Mount.id).where(SyncRun.id == run_id)
    # populate_existing: the worker moves runs with plain UPDATEs; show what the database holds now
    row = session.execute(stmt.execution_options(populate_existing=True)).first()
    return (row[2], row[0], row[1]) if row is not None else None


def base_table(session: Session, resource_id: int) -> BaseTable | None:
    return session.scalars(select(BaseTable).where(BaseTable.resource_id == resource_id)).first()


def department_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


@dataclass(frozen=True)
class FreshnessRow:
    """One resource's figures for the freshness list, straight from the database."""

    resource_id: int
    code: str
    name: str
    provider_id: int
    provider_name: str
    update_cycle: str
    status: str
    published_at: dt.datetime | None
    last_good_sync_at: dt.datetime | None
    row_count: int
    quality: dict[str, Any] | None
    mount_id: int | None
    mount_status: str | None
    mount_created_at: dt.datetime | None


def freshness_rows(
    session: Session, actor: Actor, *, resource_id: int | None = None, department_id: int | None = None
) -> list[FreshnessRow]:
    """Table-shaped resources (库表交换, or anything with a base table) that are published or mounted.

    The latest mount of each resource stands for it. The list is one row per resource and a city
    has thousands of such resources, not millions: the caller sorts by lateness in Python.
    """
    latest_mount = (
        select(func.max(Mount.id)).where(Mount.resource_id == Resource.id).correlate(Resource).scalar_subquery()
    )
    stmt = (
        select(
            Resource.id,
            Resource.code,
            Resource.name,
            Resource.provider_id,
            Department.name,
            Resource.update_cycle,
            Resource.status,
            Resource.published_at,
            BaseTable.last_good_sync_at,
            BaseTable.row_count,
            BaseTable.quality,
            Mount.id,
            Mount.status,
            Mount.created_at,
        )
        .select_from(Resource)
        .join(Department, Department.id == Resource.provider_id)
        .outerjoin(BaseTable, BaseTable.resource_id == Resource.id)
        .outerjoin(Mount, Mount.id == latest_mount)
        .where(
            or_(Resource.channel == "table", BaseTable.id.is_not(None)),
            or_(Resource.status == "published", Mount.id.is_not(None)),
        )
    )
    clause = scope_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if resource_id is not None:
        stmt = stmt.where(Resource.id == resource_id)
    if department_id is not None:
        stmt = stmt.where(Resource.provider_id == department_id)
    return [
        FreshnessRow(
            resource_id=row[0],
            code=row[1],
            name=row[2],
            provider_id=row[3],
            provider_name=row[4],
            update_cycle=row[5],
            status=row[6],
            published_at=row[7],
            last_good_sync_at=row[8],
            row_count=int(row[9] or 0),
            quality=row[10] or None,
            mount_id=row[11],
            mount_status=row[12],
            mount_created_at=row[13],
        )
        for row in session.execute(stmt.order_by(Resource.id))
    ]
