"""Every catalog query for resources, and the one visibility rule (``readable``).

Visibility: a published resource is visible to every signed-in person (and system); the anonymous
public sees nothing here (the open-data portal has its own query). A resource in any other
status (draft, submitted, returned, withdrawn) is visible to the provider department's people and
to the reviewers responsible for it — the bureau's reviewers for city-region resources, a county's
region reviewers for its own. Auditors and the bureau's system administrators read everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from govshare.catalog.enums import ResourceStatus
from govshare.catalog.models import (
    Classification,
    ConfidentialityReview,
    DataItem,
    Resource,
    ResourceVersion,
    ReviewDecision,
    Topic,
    TopicContributor,
)
from govshare.db import is_postgres
from govshare.identity.actor import Actor
from govshare.identity.models import Department, Region, RegionLevel
from govshare.identity.permissions import Role

READ_ALL_ROLES = frozenset({Role.auditor, Role.bureau_admin})
COUNT_CAP = 1000  # the same lower-bound convention as catalog.search


def city_region_ids() -> Select[int]:
    return select(Region.id).where(Region.level == RegionLevel.city)


def reviewable_clause(actor: Actor) -> ColumnElement[bool]:
    """Resources whose review falls to ``actor`` (by role and region)."""
    clauses: list[ColumnElement[bool]] = []
    if Role.bureau_reviewer in actor.roles:
        clauses.append(Resource.reviewing_region_id.in_(city_region_ids()))
    if Role.region_reviewer in actor.roles and actor.reviewer_region_ids:
        clauses.append(Resource.reviewing_region_id.in_(sorted(actor.reviewer_region_ids)))
    if not clauses:
        return false()
    return or_(*clauses)


def visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """The WHERE clause of ``readable``; None when the actor reads everything."""
    if actor.kind == "system" or actor.roles & READ_ALL_ROLES:
        return None
    if actor.kind == "anonymous":
        return false()
    clauses: list[ColumnElement[bool]] = [Resource.status == ResourceStatus.published]
    if actor.department_id is not None:
        clauses.append(Resource.provider_id == actor.department_id)
    if actor.roles & {Role.bureau_reviewer, Role.region_reviewer}:
        clauses.append(reviewable_clause(actor))
    return or_(*clauses)


def readable(actor: Actor) -> Select[Resource]:
    """Resources ``actor`` may see (module docstring); every catalog read starts here."""
    stmt = select(Resource)
    clause = visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return stmt


def readable_resource(session: Session, actor: Actor, resource_id: int, *, with_items: bool = True) -> Resource | None:
    stmt = readable(actor).where(Resource.id == resource_id)
    if with_items:
        stmt = stmt.options(selectinload(Resource.items))
    return session.execute(stmt).scalar_one_or_none()


def resource_with_items(session: Session, resource_id: int) -> Resource | None:
    return session.execute(
        select(Resource).options(selectinload(Resource.items)).where(Resource.id == resource_id)
    ).scalar_one_or_none()


def list_page(
    session: Session,
    actor: Actor,
    *,
    classification_ids: list[int] | None,
    topic_id: int | None,
    provider_id: int | None,
    share_type: str | None,
    channel: str | None,
    status: str | None,
    offset: int,
    limit: int,
    with_total: bool,
) -> tuple[list[Resource], int | None]:
    """One page of readable resources, newest first, with equality filters on indexed columns.

    ``total`` is exact up to COUNT_CAP and COUNT_CAP beyond.
    """
    filters = filter_clauses(
        classification_ids=classification_ids,
        topic_id=topic_id,
        provider_id=provider_id,
        share_type=share_type,
        channel=channel,
        status=status,
    )
    stmt = readable(actor).where(*filters)
    rows = list(session.execute(stmt.order_by(Resource.id.desc()).offset(offset).limit(limit)).scalars())
    total: int | None = None
    if with_total:
        if offset == 0 and len(rows) < limit:
            total = len(rows)
        else:
            # Exact up to COUNT_CAP, COUNT_CAP beyond (pages show "1000+"), as search does: an exact
            # count of a broad filter over 100,000 rows costs more than the page itself. On SQLite,
            # ordering by id makes it walk the primary key and stop at the cap instead of gathering
            # every row id the visibility OR matches; PostgreSQL plans better without it (bitmap scans).
            ids = stmt.with_only_columns(Resource.id).order_by(None)
            if not is_postgres(session):
                ids = ids.order_by(Resource.id.desc())
            capped = ids.limit(COUNT_CAP).subquery()
            total = session.execute(select(func.count()).select_from(capped)).scalar_one()
    return rows, total


def review_queue(session: Session, actor: Actor) -> list[Resource]:
    """Submitted resources awaiting ``actor``'s review, oldest submission first."""
    stmt = (
        select(Resource)
        .where(Resource.status == ResourceStatus.submitted, reviewable_clause(actor))
        .order_by(Resource.submitted_at, Resource.id)
    )
    return list(session.execute(stmt).scalars())


def classification_by_code(session: Session, code: str) -> Classification | None:
    return session.execute(select(Classification).where(Classification.code == code)).scalar_one_or_none()


def classification(session: Session, classification_id: int) -> Classification | None:
    return session.get(Classification, classification_id)


def classifications(session: Session) -> list[Classification]:
    return list(session.execute(select(Classification).order_by(Classification.code)).scalars())


def classification_ids_under(session: Session, code: str) -> list[int]:
    """The ids of the classification ``code`` and every classification below it."""
    return list(
        session.execute(
            select(Classification.id).where(
                or_(Classification.code == code, Classification.code.startswith(code, autoescape=True))
            )
        ).scalars()
    )


def topic(session: Session, topic_id: int) -> Topic | None:
    return session.get(Topic, topic_id)


def topic_member(session: Session, topic_id: int, department_id: int) -> bool:
    """Whether a department leads or contributes to a topic."""
    lead = select(Topic.id).where(Topic.id == topic_id, Topic.lead_department_id == department_id)
    contributor = select(TopicContributor.id).where(
        TopicContributor.topic_id == topic_id, TopicContributor.department_id == department_id
    )
    return session.execute(select(lead.exists() | contributor.exists())).scalar_one()


def department(session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


def department_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def name_conflict(session: Session, key: str, *, exclude_id: int | None) -> tuple[Resource, str] | None:
    """Another live (not withdrawn) resource with the same name key, and its provider's name."""
    stmt = (
        select(Resource, Department.name)
        .join(Department, Department.id == Resource.provider_id)
        .where(Resource.name_key == key, Resource.status != ResourceStatus.withdrawn)
        .order_by(Resource.id)
        .limit(1)
    )
    if exclude_id is not None:
        stmt = stmt.where(Resource.id != exclude_id)
    row = session.execute(stmt).first()
    if row is None:
        return None
    return row[0], row[1]


def items_provided_elsewhere(
    session: Session, keys: Iterable[tuple[str, str]], *, provider_id: int
) -> list[dict[str, Any]]:
    """Published or submitted 信息项 of other departments matching (name key, data type) pairs.

    One query for all the pairs (A18.1), so the cost does not grow with the number of items.
    """
    pairs = sorted(set(keys))
    if not pairs:
        return []
    stmt = (
        select(
            DataItem.name_key,
            DataItem.data_type,
            DataItem.name,
            Resource.id,
            Resource.code,
            Resource.name,
            Department.id,
            Department.name,
        )
        .join(Resource, Resource.id == DataItem.resource_id)
        .join(Department, Department.id == Resource.provider_id)
        .where(
            tuple_(DataItem.name_key, DataItem.data_type).in_(pairs),
            Resource.provider_id != provider_id,
            Resource.status.in_([ResourceStatus.published, ResourceStatus.submitted]),
        )
        .order_by(Department.id, Resource.id)
    )
    return [
        {
            "key": row[0],
            "data_type": row[1],
            "other_item_name": row[2],
            "resource_id": row[3],
            "resource_code": row[4],
            "resource_name": row[5],
            "department_id": row[6],
            "department_name": row[7],
        }
        for row in session.execute(stmt)
    ]


def confidentiality_reviews(session: Session, resource_id: int) -> list[ConfidentialityReview]:
    return list(
        session.execute(
            select(ConfidentialityReview)
            .where(ConfidentialityReview.resource_id == resource_id)
            .order_by(ConfidentialityReview.id.desc())
        ).scalars()
    )


def latest_confidentiality_review(session: Session, resource_id: int, revision: int) -> ConfidentialityReview | None:
    return session.execute(
        select(ConfidentialityReview)
        .where(ConfidentialityReview.resource_id == resource_id, ConfidentialityReview.revision == revision)
        .order_by(ConfidentialityReview.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def review_decisions(session: Session, resource_id: int) -> list[ReviewDecision]:
    return list(
        session.execute(
            select(ReviewDecision).where(ReviewDecision.resource_id == resource_id).order_by(ReviewDecision.id.desc())
        ).scalars()
    )


def versions(session: Session, resource_id: int) -> list[ResourceVersion]:
    return list(
        session.execute(
            select(ResourceVersion).where(ResourceVersion.resource_id == resource_id).order_by(ResourceVersion.number)
        ).scalars()
    )


def version(session: Session, resource_id: int, number: int) -> ResourceVersion | None:
    return session.execute(
        select(ResourceVersion).where(ResourceVersion.resource_id == resource_id, ResourceVersion.number == number)
    ).scalar_one_or_none()


def code_taken(session: Session, code: str) -> bool:
    return session.execute(select(Resource.id).where(Resource.code == code)).first() is not None


def filter_clauses(
    *,
    classification_ids: list[int] | None = None,
    topic_id: int | None = None,
    provider_id: int | None = None,
    share_type: str | None = None,
    channel: str | None = None,
    status: str | None = None,
) -> list[ColumnElement[bool]]:
    """The catalog's equality filters, shared by the list and the search so both filter alike."""
    filters: list[ColumnElement[bool]] = []
    if classification_ids is not None:
        filters.append(Resource.classification_id.in_(classification_ids))
    if topic_id is not None:
        filters.append(Resource.topic_id == topic_id)
    if provider_id is not None:
        filters.append(Resource.provider_id == provider_id)
    if share_type is not None:
        filters.append(Resource.share_type == share_type)
    if channel is not None:
        filters.append(Resource.channel == channel)
    if status is not None:
        filters.append(Resource.status == status)
    return filters
