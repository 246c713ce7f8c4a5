"""Every query of the file versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.exchange.file_models import FileVersion
from govshare.exchange.models import Mount


def versions(session: Session, resource_id: int) -> list[FileVersion]:
    """Newest first."""
    stmt = select(FileVersion).where(FileVersion.resource_id == resource_id).order_by(FileVersion.number.desc())
    return list(session.scalars(stmt))


def latest(session: Session, resource_id: int) -> FileVersion | None:
    stmt = (
        select(FileVersion).where(FileVersion.resource_id == resource_id).order_by(FileVersion.number.desc()).limit(1)
    )
    return session.scalars(stmt).first()


def next_number(session: Session, resource_id: int) -> int:
    current = session.scalar(select(func.max(FileVersion.number)).where(FileVersion.resource_id == resource_id))
    return (current or 0) + 1


def version(session: Session, version_id: int) -> FileVersion | None:
    return session.get(FileVersion, version_id)


def file_mount(session: Session, resource_id: int) -> Mount | None:
    """The resource's active file source (one per resource)."""
    stmt = (
        select(Mount)
        .where(Mount.resource_id == resource_id, Mount.channel == "file", Mount.status == "active")
        .order_by(Mount.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
