"""Two reviewers deciding one application at the same moment, 200 times, in real transactions on
the real database: exactly one decision wins each time, with exactly one audit record."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare.audit.models import AuditRecord
from govshare.db import Database
from govshare.errors import InvalidTransition
from govshare.identity.permissions import Role
from govshare.sharing import applications as service
from govshare.sharing.models import Application, Grant
from tests.factories import Factory
from tests.own_database import own_platform_database
from tests.sharing.application_helpers import apply, parties

TRIALS = int(os.environ.get("GOVSHARE_DECISION_TRIALS", "200"))
DECISIONS = (
    "sharing.application.approved",
    "sharing.application.partially_approved",
    "sharing.application.refused",
)


@pytest.fixture
def isolated_db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, because the two transactions must really commit."""
    with own_platform_database(database_url, tmp_path, "decisions") as db:
        yield db


@pytest.mark.article("A20.2")
@pytest.mark.article("A20.3")
def test_two_reviewers_deciding_at_once_exactly_one_wins(isolated_db: Database) -> None:
    with isolated_db.session_scope() as s:
        f = Factory(s)
        p = parties(f)
        first = f.role_actor(Role.dept_admin, department=p.provider)
        second = f.role_actor(Role.dept_admin, department=p.provider)
        app_ids = [apply(s, p).id for _ in range(TRIALS)]
    # PostgreSQL: both read the submitted application before either writes; the loser's conditional
    # UPDATE then matches no row. SQLite serialises whole transactions (BEGIN IMMEDIATE): the loser
    # reads the winner's result and the transition table refuses it.
    on_postgres = isolated_db.url.startswith("postgres")
    losses: dict[str, int] = {}
    for app_id in app_ids:
        barrier = threading.Barrier(2) if on_postgres else None
        outcomes: list[tuple[str, str]] = []

        def decide(
            actor_index: int,
            app_id: int = app_id,
            barrier: threading.Barrier | None = barrier,
            outcomes: list[tuple[str, str]] = outcomes,
        ) -> None:
            actor = (first, second)[actor_index]
            try:
                with isolated_db.session_scope() as s:
                    service.get_application(s, actor, app_id)
                    if barrier is not None:
                        barrier.wait(timeout=30)
                    if actor_index == 0:
                        service.decide_application(s, actor, app_id, outcome="approve_all")
                    else:
                        service.decide_application(s, actor, app_id, outcome="refuse_all", reason="依据不足")
                outcomes.append(("won", "approved" if actor_index == 0 else "refused"))
            except InvalidTransition as exc:
                outcomes.append(("lost", exc.code))

        threads = [threading.Thread(target=decide, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(o[0] for o in outcomes) == ["lost", "won"], (app_id, outcomes)
        loss = next(code for kind, code in outcomes if kind == "lost")
        losses[loss] = losses.get(loss, 0) + 1
        winner = next(d for kind, d in outcomes if kind == "won")
        with isolated_db.session_scope() as s:
            app = s.get(Application, app_id)
            assert app is not None and app.status == winner and app.version == 2
            records = s.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(
                    AuditRecord.object_type == "application",
                    AuditRecord.object_id == str(app_id),
                    AuditRecord.action.in_(DECISIONS),
                )
            )
            assert records == 1, app_id
            grants = s.scalar(select(func.count()).select_from(Grant).where(Grant.application_id == app_id))
            assert grants == (1 if winner == "approved" else 0)
    expected = "concurrent_update" if on_postgres else "invalid_transition"
    assert set(losses) == {expected}, losses
    assert sum(losses.values()) == TRIALS
