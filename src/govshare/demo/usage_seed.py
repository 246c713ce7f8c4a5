"""The demo's use of shared data (A22.1, A35.1): what the verification and usage pages show when the
demo starts.

Once the exchange seed has synced the 库表 resources into the base:

- 市公安局 opens 人口基本信息(库表) to verification of 公民身份号码 + 姓名;
- 市民政局 uses its grant on that resource on the working days since the grant took effect (the last
  ten at most):
  - its 城乡低保审核系统 walks three 100-row pages in a night batch, and in office hours checks one
    20-row page and verifies one applicant's 身份证号 and 姓名;
  - 刘文博 (civil_user) views a page on the platform every other day;
  - 陈丽娟 (civil_admin) exports the people born on one day, once, midway.

Each read goes through the service the consumer API, the data page and the export call
(``data.read_rows``, ``verification.verify``, ``export.export_rows``). So each leaves its access
record and its audit record exactly as a real read would, dated with the demo clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session, selectinload

from govshare.calendar import service as calendar
from govshare.catalog.models import DataItem, Resource
from govshare.exchange import base
from govshare.exchange.models import BaseTable
from govshare.identity.actor import RequestContext
from govshare.identity.auth import actor_for
from govshare.identity.models import User
from govshare.kit import clock
from govshare.sharing import data, export, verification
from govshare.sharing.consumer_auth import consumer_actor
from govshare.sharing.data import Reader, RowsQuery
from govshare.sharing.models import ConsumerSystem, Grant

from .consumer_seed import DEMO_APP_KEY, table_grant_example

DAYS = 10
_SYSTEM_IP = "10.20.1.15"  # the 城乡低保审核系统's server
_OFFICE_IP = "10.20.3.41"  # 市民政局's office network
_PROVIDER_IP = "10.20.2.8"  # 市公安局's office network


def seed_usage(session: Session) -> int:
    """Do as described above; the number of reads recorded (0 when the demo has no such grant)."""
    example = table_grant_example(session)
    system = session.scalar(select(ConsumerSystem).where(ConsumerSystem.app_key == DEMO_APP_KEY))
    grant = session.get(Grant, example[1]) if example is not None else None
    if example is None or system is None or grant is None:
        return 0
    usage = _Usage(session, example[0], grant, system)
    days = _working_days(session, since=grant.valid_from)
    for n, day in enumerate(days):  # in the order of the day, so that records are numbered as they happened
        usage.night_batch(day)
        if n == 0:
            usage.open_verification(day)
        usage.office_hours(day, n)
        if n == len(days) // 2:
            usage.export(day)
    session.flush()
    return usage.reads


class _Usage:
    def __init__(self, session: Session, code: str, grant: Grant, system: ConsumerSystem) -> None:
        self.session, self.code, self.grant, self.system = session, code, grant, system
        named = select(User).where(User.username.in_(("civil_user", "civil_admin", "police_admin")))
        loaded = named.options(selectinload(User.roles), selectinload(User.department))
        self.users = {u.username: u for u in session.scalars(loaded)}
        self.items = {name: _item_id(session, code, name) for name in ("公民身份号码", "姓名", "出生日期")}
        self.pair: tuple[str, str] | None = None  # a true (公民身份号码, 姓名), once verification is open
        self.reads = 0

    def open_verification(self, day: dt.date) -> None:
        """市公安局 opens the resource to checks of 公民身份号码 + 姓名, if the base holds a person."""
        provider = self.users.get("police_admin")
        chosen = [self.items["公民身份号码"], self.items["姓名"]]
        pair = _base_row(self.session, self.code, chosen)
        if provider is None or pair is None:
            return
        with clock.frozen(_at(day, 9, 10)):
            actor = actor_for(provider, RequestContext(source_ip=_PROVIDER_IP, request_id=uuid.uuid4().hex))
            items = [i for i in chosen if i]
            verification.update_setting(self.session, actor, self.grant.resource_id, enabled=True, data_item_ids=items)
        self.pair = (pair[0], pair[1])

    def night_batch(self, day: dt.date) -> None:
        after: str | None = None
        for minute in range(3):  # the batch walks on where the last page stopped
            with clock.frozen(_at(day, 2, 17 + minute)):
                after = self._read(self._system(), RowsQuery(100, after)).next

    def office_hours(self, day: dt.date, n: int) -> None:
        with clock.frozen(_at(day, 10, 5 + 3 * n)):
            self._read(self._system(), RowsQuery(20))
        if self.pair is not None:  # a true pair; every other day a name that is not the person's
            id_number, name = self.pair if n % 2 == 0 else (self.pair[0], self.pair[1][:1] + "某某")
            match = {f"i{self.items['公民身份号码']}": id_number, f"i{self.items['姓名']}": name}
            with clock.frozen(_at(day, 11, 30 + n)):
                verification.verify(
                    self.session,
                    self._system().actor,
                    match=match,
                    resource_code=self.code,
                    grant_id=self.grant.id,
                    system_id=self.system.id,
                )
            self.reads += 1
        person = self._person("civil_user")
        if n % 2 == 0 and person is not None:
            with clock.frozen(_at(day, 15, 40)):
                self._read(person, RowsQuery(50))

    def export(self, day: dt.date) -> None:
        admin, birth = self._person("civil_admin"), self.items["出生日期"]
        born = _base_row(self.session, self.code, [birth])
        if admin is None or birth is None or born is None:
            return
        with clock.frozen(_at(day, 16, 20)):  # the people born on the day one of them was
            query = RowsQuery(filters={birth: born[0][:10]})
            export.export_rows(
                self.session, admin, resource_code=self.code, grant_id=self.grant.id, query=query, fmt="csv"
            )
        self.reads += 1

    def _read(self, reader: Reader, query: RowsQuery) -> data.RowsPage:
        page = data.read_rows(self.session, reader, resource_code=self.code, grant_id=self.grant.id, query=query)
        self.reads += 1
        return page

    def _system(self) -> Reader:
        context = RequestContext(source_ip=_SYSTEM_IP, request_id=uuid.uuid4().hex, user_agent="govshare-client")
        return Reader(
            actor=consumer_actor(DEMO_APP_KEY, self.system.department_id, context),
            department_id=self.system.department_id,
            system_id=self.system.id,
        )

    def _person(self, username: str) -> Reader | None:
        user = self.users.get(username)
        if user is None or user.department_id is None:
            return None
        context = RequestContext(source_ip=_OFFICE_IP, request_id=uuid.uuid4().hex, user_agent="Mozilla/5.0")
        return Reader(actor=actor_for(user, context), department_id=user.department_id, user_id=user.id)


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


def _base_row(session: Session, code: str, items: list[int | None]) -> tuple[str, ...] | None:
    """The values of ``items`` in one row of the resource's base table, as text (None: none there)."""
    found = session.scalar(
        select(BaseTable).join(Resource, Resource.id == BaseTable.resource_id).where(Resource.code == code)
    )
    if found is None or None in items:
        return None
    columns: list[Any] = [column(base.column_name(i)) for i in items if i is not None]
    statement: Any = select(*columns).select_from(table(found.table_name)).limit(1)
    with data.base_connection(session) as conn:
        row: Any = conn.execute(statement).first()
    return tuple(str(v) for v in row) if row is not None and all(row) else None


def _item_id(session: Session, code: str, name: str) -> int | None:
    return session.scalar(
        select(DataItem.id)
        .join(Resource, Resource.id == DataItem.resource_id)
        .where(Resource.code == code, DataItem.name == name)
    )
