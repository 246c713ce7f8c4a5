"""Scheduled work of the application clock (A20.2): remind the provider, flag overdue ones.

``remind_and_escalate`` runs daily (and is safe to run any number of times): a submitted
application due within two working days is marked reminded once (the provider's inbox and
dashboard show the marker; ``sharing.application.reminded``); one past its due date is flagged to
the authority once (``sharing.application.overdue_flagged``; the authority's overview and dashboard
list it). The markers are stamps on the row, so a second run the same day changes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.calendar import service as calendar
from govshare.identity.actor import Actor
from govshare.kit import clock
from govshare.sharing import application_repository as repo
from govshare.sharing.applications import REMIND_DAYS_BEFORE


def remind_and_escalate(session: Session, actor: Actor, *, today: dt.date | None = None) -> int:
    """Mark reminders (due within two working days) and overdue flags; returns how many moved."""
    day = today or clock.today()
    horizon = calendar.add_working_days(session, day, REMIND_DAYS_BEFORE).date
    stamp = clock.now()
    moved = 0
    for app in repo.to_remind(session, horizon):
        app.reminded_at = stamp
        session.flush()
        audit.record(
            session,
            actor,
            Action.application_reminded,
            object_type="application",
            object_id=app.id,
            after={"due_on": app.due_on, "due_provisional": app.due_provisional, "provider_id": app.provider_id},
            department_id=app.provider_id,
        )
        moved += 1
    for app in repo.to_flag_overdue(session, day):
        app.overdue_flagged_at = stamp
        session.flush()
        audit.record(
            session,
            actor,
            Action.application_overdue,
            object_type="application",
            object_id=app.id,
            after={
                "due_on": app.due_on,
                "provider_id": app.provider_id,
                "authority_region_id": app.authority_region_id,
                "overdue_working_days": calendar.working_days_between(session, app.due_on, day) if app.due_on else 0,
            },
            department_id=app.provider_id,
        )
        moved += 1
    return moved
