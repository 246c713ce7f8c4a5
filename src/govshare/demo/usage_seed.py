"""The demo's usage history (A35.1): what the usage pages show when the demo starts.

Once the exchange seed has synced the 库表 resources into the base, 市民政局 uses its grant on
人口基本信息(库表) on the working days since the grant took effect (the last ten at most):

- its 城乡低保审核系统 walks three 100-row pages in a night batch and checks one 20-row page in
  office hours;
- 刘文博 (civil_user) views a page on the platform every other day;
- 陈丽娟 (civil_admin) exports the people born on one day, once.

Each read goes through the service the consumer API, the data page and the export call
(``data.read_rows``, ``export.export_rows``). So each leaves its access record and its audit record
exactly as a real read would, dated with the demo clock.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from govshare.calendar import service as calendar
from govshare.catalog.models import DataItem, Resource
from govshare.identity.actor import RequestContext
from govshare.identity.auth import actor_for
from govshare.identity.models import User
from govshare.kit import clock
from govshare.sharing import data, export
from govshare.sharing.consumer_auth import consumer_actor
from govshare.sharing.data import Reader, RowsQuery
from govshare.sharing.models import ConsumerSystem, Grant

from .consumer_seed import DEMO_APP_KEY, table_grant_example

DAYS = 10
_SYSTEM_IP = "10.20.1.15"  # the 城乡低保审核系统's server
_OFFICE_IP = "10.20.3.41"  # 市民政局's office network
_EXPORTED_BIRTH_DATE = "1980-05-01"


def seed_usage(session: Session) -> int:
    """Read as described above; the number of reads recorded (0 when the demo has no such grant)."""
    example = table_grant_example(session)
    system = session.scalar(select(ConsumerSystem).where(ConsumerSystem.app_key == DEMO_APP_KEY))
    if example is None or system is None:
        return 0
    code, grant_id = example
    grant = session.get(Grant, grant_id)
    named = select(User).where(User.username.in_(("civil_user", "civil_admin")))
    loaded = named.options(selectinload(User.roles), selectinload(User.department))
    users = {u.username: u for u in session.scalars(loaded)}
    days = _working_days(session, since=grant.valid_from if grant is not None else clock.today())
    reads = 0

    def system_reader() -> Reader:
        context = RequestContext(source_ip=_SYSTEM_IP, request_id=uuid.uuid4().hex, user_agent="govshare-client")
        return Reader(
            actor=consumer_actor(DEMO_APP_KEY, system.department_id, context),
            department_id=system.department_id,
            system_id=system.id,
        )

    def person_reader(username: str) -> Reader | None:
        user = users.get(username)
        if user is None or user.department_id is None:
            return None
        context = RequestContext(source_ip=_OFFICE_IP, request_id=uuid.uuid4().hex, user_agent="Mozilla/5.0")
        return Reader(actor=actor_for(user, context), department_id=user.department_id, user_id=user.id)

    for n, day in enumerate(days):
        after: str | None = None
        for minute in range(3):  # the night batch walks on where it stopped
            with clock.frozen(_at(day, 2, 17 + minute)):
                page = data.read_rows(
                    session, system_reader(), resource_code=code, grant_id=grant_id, query=RowsQuery(100, after)
                )
            after, reads = page.next, reads + 1
        with clock.frozen(_at(day, 10, 5 + 3 * n)):
            data.read_rows(session, system_reader(), resource_code=code, grant_id=grant_id, query=RowsQuery(20))
            reads += 1
        person = person_reader("civil_user")
        if n % 2 == 0 and person is not None:
            with clock.frozen(_at(day, 15, 40)):
                data.read_rows(session, person, resource_code=code, grant_id=grant_id, query=RowsQuery(50))
                reads += 1
    admin = person_reader("civil_admin")
    birth = _item_id(session, code, "出生日期")
    if admin is not None and birth is not None and days:
        with clock.frozen(_at(days[len(days) // 2], 16, 20)):
            query = RowsQuery(filters={birth: _EXPORTED_BIRTH_DATE})
            export.export_rows(session, admin, resource_code=code, grant_id=grant_id, query=query, fmt="csv")
            reads += 1
    session.flush()
    return reads


def _working_days(session: Session, *, since: dt.date) -> list[dt.date]:
    """The working days from ``since`` to yesterday, the last ``DAYS`` of them, oldest first."""
    days: list[dt.date] = []
    day = clock.today()
    while len(days) < DAYS:
        day -= dt.timedelta(days=1)
        if day < since:
            break
        if calendar.is_working_day(session, day):
            days.append(day)
    return days[::-1]


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute % 60), tzinfo=clock.CHINA)


def _item_id(session: Session, code: str, name: str) -> int | None:
    return session.scalar(
        select(DataItem.id)
        .join(Resource, Resource.id == DataItem.resource_id)
        .where(Resource.code == code, DataItem.name == name)
    )
