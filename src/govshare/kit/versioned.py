"""The conditional UPDATE behind every workflow move: exactly one of two concurrent moves wins.

The caller checks the move and writes the audit record; this only applies the new values where the
row still has the status and version the caller saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value


def conditional_update(session: Session, row: Any, *, status: str, version: int, values: Mapping[str, Any]) -> bool:
    """Set ``values`` on ``row`` (a mapped object with ``id``, ``status`` and ``version`` columns) in one
    UPDATE that matches only while the row is still at ``status`` and ``version``. True when it matched:
    ``row`` then carries the values without a reload. False when another transaction moved it first."""
    model = type(row)
    result = cast(
        CursorResult[Any],
        session.execute(
            update(model)
            .where(model.id == row.id, model.version == version, model.status == status)
            .values(dict(values))
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    for key, value in values.items():
        set_committed_value(row, key, value)
    return True
