"""The demo's applications, decisions, coordinations and grants (articles 20–23, 26), through the
services, acting as the people who would do it.

``seed_sharing`` runs after the catalog is seeded (``seed.py`` calls it once). It makes
applications in every state — submitted and on time, due soon (reminded), overdue (flagged to the
authority), approved, partially approved, refused, withdrawn — grants in every state (active,
suspended, revoked, ended, expired) and two coordinations (one open, one decided).

Unlike the catalog seed, the application clocks must *have run* for the demo to show reminders and
overdue answers, so each application is submitted (and decided) under ``clock.frozen`` at a moment
the given number of working days before today; the clock is restored after every step. The audit
records of those steps carry those moments too; their chain order is the order of seeding.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.calendar import service as calendar
from govshare.catalog.models import DataItem, Resource
from govshare.identity.actor import Actor, RequestContext
from govshare.kit import clock
from govshare.kit.clock import CHINA
from govshare.sharing import applications, coordination, grants, tasks
from govshare.sharing.applications import ItemDecision, ItemRequest
from govshare.sharing.models import Application, Grant


@dataclass(frozen=True)
class ApplicationSpec:
    resource: str  # key of data.RESOURCES
    consumer: str  # department key of the applicant
    items: tuple[str, ...]  # 信息项 names asked for
    scenario: str
    duty_basis: str
    purpose: str
    working_days_ago: int  # when it was submitted
    outcome: str = "submitted"  # submitted | approved | partially_approved | refused | withdrawn
    refuse: tuple[str, ...] = ()  # 信息项 refused (partially_approved)
    reason: str = ""  # refusal / withdrawal reason
    decided_after: int = 3  # working days after submission
    period_days: int = 365
    grant_move: str = ""  # suspend | revoke | end | expire: what happens to its grant later
    grant_reason: str = ""
    coordination: str = ""  # open | granted: the consumer takes the refusal to coordination


SPECS: tuple[ApplicationSpec, ...] = (
    ApplicationSpec(
        "population",
        "civil",
        ("公民身份号码", "姓名", "户籍地址", "出生日期"),
        "城乡最低生活保障申请家庭成员身份核对",
        "《社会救助暂行办法》第十一条、《甘肃省最低生活保障条例》",
        "核对低保申请人及家庭成员的身份和户籍信息",
        6,
        outcome="partially_approved",
        refuse=("出生日期", "户籍地址"),
        reason="出生日期、户籍地址超出身份核对所需,可通过户籍人口信息另行申请",
        coordination="open",
    ),
    ApplicationSpec(  # the demo consumer system reads this one: the 库表 edition is synced into the base
        "population_table",
        "civil",
        ("公民身份号码", "姓名", "性别", "出生日期", "人员状态"),
        "低保申请家庭成员身份与人员状态批量比对",
        "《社会救助暂行办法》第十一条、《甘肃省最低生活保障条例》",
        "批量比对低保在册人员的身份信息和人员状态(死亡、迁出)",
        5,
        outcome="approved",
        decided_after=2,
    ),
    ApplicationSpec(
        "household",
        "civil",
        ("户号", "公民身份号码", "姓名", "与户主关系"),
        "低保家庭成员关系核对",
        "《社会救助暂行办法》第九条",
        "认定低保家庭共同生活的家庭成员",
        2,
    ),
    ApplicationSpec(
        "residence_permit",
        "hrss",
        ("公民身份号码", "姓名", "居住证编号"),
        "灵活就业人员参保登记时核验居住证",
        "《社会保险法》第十条",
        "核验非本市户籍人员的居住证信息",
        8,
    ),
    ApplicationSpec(
        "driver_licence",
        "transport",
        ("驾驶证号", "姓名", "准驾车型", "驾驶证状态"),
        "网约车驾驶员从业资格审核",
        "《网络预约出租汽车经营服务管理暂行办法》第十四条",
        "核验网约车驾驶员的驾驶证状态和准驾车型",
        12,
    ),
    ApplicationSpec(
        "social_insurance",
        "civil",
        ("公民身份号码", "姓名", "参保状态"),
        "低保家庭收入核对中的社保参保情况核对",
        "《社会救助暂行办法》第十一条",
        "核对低保申请家庭成员的参保和缴费情况",
        15,
        outcome="approved",
    ),
    ApplicationSpec(
        "marriage",
        "housing",
        ("男方公民身份号码", "女方公民身份号码", "登记类型", "登记日期"),
        "公租房保障家庭婚姻状况核验",
        "《公共租赁住房管理办法》第七条",
        "核验公租房申请家庭的婚姻状况",
        20,
        outcome="refused",
        reason="婚姻登记信息仅可在当事人授权后核验,请先取得申请人书面授权",
        coordination="granted",
    ),
    ApplicationSpec(
        "birth_cert",
        "edu",
        ("新生儿姓名", "出生时间"),
        "义务教育入学年龄核验",
        "《义务教育法》第十一条",
        "核验入学儿童的出生日期",
        9,
        outcome="withdrawn",
        reason="改用户籍人口信息核验,撤回本申请",
    ),
    ApplicationSpec(
        "medical_insured",
        "civil",
        ("公民身份号码", "姓名", "参保状态"),
        "医疗救助对象参保核对",
        "《社会救助暂行办法》第二十九条",
        "核对医疗救助对象的医保参保情况",
        30,
        outcome="approved",
        grant_move="suspend",
        grant_reason="发现使用部门将数据导出至未备案系统,暂停核查",
    ),
    ApplicationSpec(
        "student_roll",
        "civil",
        ("公民身份号码", "姓名", "学校名称"),
        "困境儿童在学情况核对",
        "《国务院关于加强困境儿童保障工作的意见》",
        "核对困境儿童的在学情况",
        40,
        outcome="approved",
        grant_move="revoke",
        grant_reason="超出授权用途用于社会调查,依《办法》第二十六条收回",
    ),
    ApplicationSpec(
        "real_estate",
        "housing",
        ("不动产单元号", "权利人", "权利人证件号码"),
        "公租房申请家庭住房情况核查",
        "《公共租赁住房管理办法》第七条",
        "核查申请家庭在本市的住房情况",
        50,
        outcome="approved",
        grant_move="end",
        grant_reason="本年度公租房资格审核工作结束",
    ),
    ApplicationSpec(
        "employment",
        "civil",
        ("公民身份号码", "姓名", "就业形式"),
        "低保家庭就业状况核对(上一年度)",
        "《社会救助暂行办法》第十一条",
        "核对低保家庭成员的就业情况",
        260,
        outcome="approved",
        period_days=300,
        grant_move="expire",
    ),
)


@dataclass
class SharingSummary:
    applications: Counter[str] = field(default_factory=Counter)
    grants: Counter[str] = field(default_factory=Counter)
    coordinations: Counter[str] = field(default_factory=Counter)


def _scheduler() -> Actor:
    """The platform's scheduled jobs, recorded like every seeded step as coming from the demo."""
    return Actor.system(
        RequestContext(source_ip="demo", request_id="demo-seed", user_agent="govshare demo"), "scheduler"
    )


def _working_days_ago(session: Session, count: int) -> dt.date:
    day = clock.today()
    while count > 0:
        day -= dt.timedelta(days=1)
        if calendar.is_working_day(session, day):
            count -= 1
    return day


def _moment(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 17), tzinfo=CHINA)


def _item_ids(session: Session, resource: Resource, names: tuple[str, ...]) -> dict[str, int]:
    rows = session.execute(select(DataItem).where(DataItem.resource_id == resource.id)).scalars()
    found = {i.name: i for i in rows}
    return {name: found[name].id for name in names if name in found and found[name].shareable}


def seed_sharing(
    session: Session,
    *,
    resources: Mapping[str, Resource],
    provider_of: Mapping[str, str],
    admin_of: Mapping[str, Actor],
    applicant_of: Mapping[str, Actor],
    reviewer_of_region: Mapping[int, Actor],
) -> SharingSummary:
    """Applications, decisions, coordinations and grants in every state (module docstring).

    ``provider_of`` maps a resource key to its department key; ``applicant_of`` gives the person
    who applies for a department (a 工作人员 where the demo has one, else its 数据资源管理员)."""
    summary = SharingSummary()
    for spec in SPECS:
        resource = resources.get(spec.resource)
        applicant = applicant_of.get(spec.consumer) or admin_of.get(spec.consumer)
        provider_admin = admin_of.get(provider_of.get(spec.resource, ""))
        if resource is None or applicant is None or provider_admin is None:
            continue
        ids = _item_ids(session, resource, spec.items)
        if not ids:
            continue
        submitted_on = _working_days_ago(session, spec.working_days_ago)
        with clock.frozen(_moment(submitted_on, 9)):
            app = applications.submit_application(
                session,
                applicant,
                resource_id=resource.id,
                items=[ItemRequest(i, f"{spec.purpose}需要「{name}」") for name, i in ids.items()],
                scenario=spec.scenario,
                duty_basis=spec.duty_basis,
                purpose=spec.purpose,
                period_from=submitted_on,
                period_until=submitted_on + dt.timedelta(days=spec.period_days),
            )
        decided_on = calendar.add_working_days(session, submitted_on, spec.decided_after).date
        decided_on = min(decided_on, clock.today())
        with clock.frozen(_moment(decided_on, 15)):
            _decide(session, spec, app, ids, applicant, provider_admin)
        summary.applications[app.status] += 1
        authority = reviewer_of_region.get(resource.reviewing_region_id)
        if spec.coordination and authority is not None:
            summary.coordinations[_coordinate(session, spec, app, applicant, authority, decided_on)] += 1
        if spec.grant_move:
            _move_grant(session, spec, app, provider_admin, authority)
    system = _scheduler()
    tasks.remind_and_escalate(session, system)
    for grant in session.execute(select(Grant)).scalars():
        summary.grants[grant.status] += 1
    return summary


def _decide(
    session: Session, spec: ApplicationSpec, app: Application, ids: dict[str, int], applicant: Actor, admin: Actor
) -> None:
    if spec.outcome == "withdrawn":
        applications.withdraw_application(session, applicant, app.id, reason=spec.reason)
    elif spec.outcome == "approved":
        applications.decide_application(
            session, admin, app.id, outcome="approve_all", conditions="仅限申请用途使用,不得向第三方提供"
        )
    elif spec.outcome == "refused":
        applications.decide_application(session, admin, app.id, outcome="refuse_all", reason=spec.reason)
    elif spec.outcome == "partially_approved":
        applications.decide_application(
            session,
            admin,
            app.id,
            decisions=[ItemDecision(i, name not in spec.refuse, spec.reason) for name, i in ids.items()],
            conditions="仅用于身份核对,结果不得留存",
        )


def _coordinate(
    session: Session, spec: ApplicationSpec, app: Application, applicant: Actor, authority: Actor, after: dt.date
) -> str:
    opened_on = min(calendar.add_working_days(session, after, 1).date, clock.today())
    with clock.frozen(_moment(opened_on, 10)):
        c = coordination.request_coordination(
            session, applicant, reason=f"{spec.scenario}确需上述信息项,申请主管机构协调", application_id=app.id
        )
        coordination.add_note(
            session,
            authority,
            c.id,
            body="已电话联系提供部门数据资源管理员,了解不予共享的理由,约定三日内组织双方协商。",
        )
    if spec.coordination == "granted":
        decided_on = min(calendar.add_working_days(session, opened_on, 4).date, clock.today())
        with clock.frozen(_moment(decided_on, 16)):
            coordination.add_note(
                session, authority, c.id, body="双方协商:提供部门同意在当事人授权并脱敏的条件下提供。"
            )
            coordination.decide_coordination(
                session,
                authority,
                c.id,
                grant=True,
                reason="履职确需,经协调提供部门同意按脱敏方式共享",
                conditions="须留存当事人授权书备查",
            )
    return c.status


def _move_grant(
    session: Session, spec: ApplicationSpec, app: Application, admin: Actor, authority: Actor | None
) -> None:
    grant = session.execute(select(Grant).where(Grant.application_id == app.id)).scalar_one_or_none()
    if grant is None:
        return
    if spec.grant_move == "expire":
        grants.expire_due(session, _scheduler())
        return
    actor = authority if spec.grant_move == "revoke" and authority is not None else admin
    grants.change_status(session, actor, grant.id, spec.grant_move, reason=spec.grant_reason)
