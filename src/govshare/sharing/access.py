"""The access record (A9.1, A35.1): one row per read of shared data, in the reader's transaction.

The caller writes the matching audit record (``Action.data_read`` / ``data_exported`` /
``data_verified``) and commits both before the data leaves the platform.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govshare.kit import clock
from govshare.sharing.models import AccessRecord


def record_access(
    session: Session,
    *,
    kind: str,
    resource_id: int,
    provider_id: int,
    consumer_department_id: int,
    consumer_system_id: int | None,
    user_id: int | None,
    grant_id: int | None,
    purpose: str,
    data_item_ids: list[int],
    row_count: int,
    request_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AccessRecord:
    """Add one access record (flushed, not committed)."""
    record = AccessRecord(
        at=clock.now(),
        kind=kind,
        resource_id=resource_id,
        provider_id=provider_id,
        consumer_department_id=consumer_department_id,
        consumer_system_id=consumer_system_id,
        user_id=user_id,
        grant_id=grant_id,
        purpose=purpose[:2000],
        data_item_ids=sorted(data_item_ids),
        row_count=row_count,
        request_id=request_id[:64],
        detail=detail or {},
    )
    session.add(record)
    session.flush()
    return record
