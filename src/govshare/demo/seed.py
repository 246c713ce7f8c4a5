"""Seeding the demo content (``data.py``) into an initialised database, through the services.

Every row is made by the service a person would use, acting as the person who would do it: the
bureau's system administrator opens departments and accounts, each department's 数据资源管理员
compiles, records the 保密审查 and submits its resources, the responsible authority (the bureau's
reviewer for city departments, the county's reviewer for county ones) approves, returns or
withdraws, and change requests travel through article 17's clocks. So codes, versions,
duplicate-collection warnings, due dates and the audit chain are the platform's own.

The only step that is not a service call: a bureau account's TOTP secret is set to a known value
(``data.totp_secret``) instead of the service's random one, so that a person can add the printed
secret to an authenticator once and keep it across ``govshare demo --reset``. The enrolment is then
confirmed through ``auth.verify_totp``, which enables it and writes the audit record.

Nothing is back-dated and the clock is not frozen: events carry the time of seeding, and the dates
that drive clocks (change-request trigger dates, 保密审查 dates, administrators' periods) are set
relative to ``clock.today()`` so that some clocks are running, some due soon and some late.
Randomness (invented names, phone numbers, dates) comes from one ``random.Random`` with a fixed seed.
The caller owns the transaction; this module only flushes.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import pyotp
from sqlalchemy.orm import Session

from govshare.calendar import service as calendar
from govshare.catalog import change_requests, topics
from govshare.catalog import service as catalog
from govshare.catalog.enums import ChangeTrigger, ExtensionStatus, ResourceStatus, ReviewResult
from govshare.catalog.models import ChangeRequest, Resource
from govshare.catalog.schemas import ConfidentialityReviewIn, DataItemIn, ResourceFields, ReviewDecisionIn
from govshare.config import get_settings
from govshare.demo import data
from govshare.demo.data import (
    BUREAU_KEY,
    DEMO_PASSWORD,
    AccountSpec,
    ChangeOutcome,
    ChangeSpec,
    DepartmentSpec,
    Fate,
    ResourceSpec,
)
from govshare.identity import auth, register
from govshare.identity import repository as identity_repo
from govshare.identity import service as identity
from govshare.identity.actor import Actor, RequestContext
from govshare.identity.models import Department, User
from govshare.identity.permissions import ROLE_LABELS, Role
from govshare.identity.reference import bureau, ensure_reference_data
from govshare.kit.clock import today
from govshare.kit.crypto import encrypt

SOURCE = "demo"  # recorded as the source of every seeded audit record: honest about where they came from


@dataclass(frozen=True)
class DemoAccount:
    """One account to print: who it is and how to sign in."""

    username: str
    password: str
    display_name: str
    role: str  # Chinese role label
    department: str
    note: str
    totp_secret: str | None  # set for roles that must use a second factor


@dataclass
class DemoSummary:
    accounts: list[DemoAccount]
    other_admins: list[str]
    departments: int = 0
    city_departments: int = 0
    county_departments: int = 0
    resources: Counter[str] = field(default_factory=Counter)
    change_requests: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def resource_total(self) -> int:
        return sum(self.resources.values())


def featured_accounts() -> list[DemoAccount]:
    """The accounts printed at start, one per role (computed from the data alone, no database)."""
    names = {spec.key: spec.name for spec in data.DEPARTMENTS}
    names[BUREAU_KEY] = "兰州市大数据管理局"
    mfa_roles = set(get_settings().security.mfa_required_roles)
    return [
        DemoAccount(
            username=spec.username,
            password=DEMO_PASSWORD,
            display_name=spec.display_name,
            role=ROLE_LABELS[spec.role] + (f"({spec.region})" if spec.region else ""),
            department=names[spec.department],
            note=spec.note,
            totp_secret=data.totp_secret(spec.username) if spec.role.value in mfa_roles else None,
        )
        for spec in data.FEATURED_ACCOUNTS
    ]


def other_admin_usernames() -> list[str]:
    """The 数据资源管理员 accounts of the departments without a featured one."""
    featured = {s.department for s in data.FEATURED_ACCOUNTS if s.role == Role.dept_admin}
    providers = {r.provider for r in data.RESOURCES}
    return [data.admin_username(d.key) for d in data.DEPARTMENTS if d.key in providers and d.key not in featured]


def is_seeded(session: Session) -> bool:
    """Whether the demo's first account already exists (the database was seeded before)."""
    return identity_repo.user_by_username(session, data.FEATURED_ACCOUNTS[0].username) is not None


def seed(session: Session) -> DemoSummary:
    """Fill an initialised, empty database with the demo content, through the services (flush only)."""
    started = time.perf_counter()
    seeder = _Seeder(session)
    summary = seeder.run()
    summary.seconds = time.perf_counter() - started
    return summary


class _Seeder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.rng = random.Random(data.RANDOM_SEED)
        self.context = RequestContext(source_ip=SOURCE, request_id="demo-seed", user_agent="govshare demo")
        self.today = today()
        self.departments: dict[str, Department] = {}
        self.users: dict[str, User] = {}
        self.actors: dict[str, Actor] = {}
        self.admin_of: dict[str, Actor] = {}  # department key → its 数据资源管理员
        self.reviewer_of_region: dict[int, Actor] = {}  # reviewing region id → the authority's reviewer
        self.topic_ids: dict[str, int] = {}
        self.resources: dict[str, Resource] = {}
        self.summary = DemoSummary(accounts=featured_accounts(), other_admins=other_admin_usernames())

    # ----------------------------------------------------------------------------------- identity

    def run(self) -> DemoSummary:
        ensure_reference_data(self.session)
        self._bureau_admin()
        self._bureau()
        self._regions()
        for department in data.DEPARTMENTS:
            self._department(department)
        for account in (*data.FEATURED_ACCOUNTS[1:], *data.EXTRA_REVIEWERS):
            self._account(account)
        for key in self.summary.other_admins:
            self._generated_admin(key.removesuffix("_admin"))
        self._reviewers()
        self._data_admin_register()
        self._topics()
        for spec in data.RESOURCES:
            self._resource(spec)
        for change in data.CHANGES:
            self._change_request(change)
        from govshare.demo.sharing_seed import seed_sharing  # applications, coordinations, grants (A20–A26)

        seed_sharing(
            self.session,
            resources=self.resources,
            provider_of={r.key: r.provider for r in data.RESOURCES},
            admin_of=self.admin_of,
            applicant_of={"civil": self.actors["civil_user"]},
            reviewer_of_region=self.reviewer_of_region,
        )
        from govshare.demo.consumer_seed import seed_consumer  # 市民政局's system on the data API

        seed_consumer(
            self.session,
            department_id=self.departments["civil"].id,
            admin=self.admin_of["civil"],
            resource=self.resources.get("population"),
        )
        self.summary.departments = len(self.departments)
        self.summary.city_departments = sum(1 for d in data.DEPARTMENTS if d.region == data.CITY)
        self.summary.county_departments = len(data.DEPARTMENTS) - self.summary.city_departments
        return self.summary

    @property
    def bureau_admin(self) -> Actor:
        return self.actors[data.FEATURED_ACCOUNTS[0].username]

    def _bureau_admin(self) -> None:
        # The first administrator is opened from the console, as at a real installation.
        spec = data.FEATURED_ACCOUNTS[0]
        console = Actor.system(self.context, name="console:demo")
        self.departments[BUREAU_KEY] = bureau(self.session)
        self._create_user(console, spec)

    def _bureau(self) -> None:
        dept = self.departments[BUREAU_KEY]
        identity.update_sharing_contacts(
            self.session,
            self.bureau_admin,
            dept.id,
            sharing_office="数据资源处",
            sharing_leader=self._name(),
            sharing_contact=self._name(),
            sharing_phone=self._landline(),
        )
        for office in data.BUREAU_OFFICES:
            if identity_repo.office_by_name(self.session, dept.id, office) is None:
                identity.add_office(self.session, self.bureau_admin, dept.id, office)

    def _regions(self) -> None:
        by_name = {r.name: r for r in identity_repo.regions(self.session)}
        for spec in data.AUTHORITIES:
            region = by_name[spec.region]
            identity.update_region(
                self.session,
                self.bureau_admin,
                region.id,
                authority_name=region.authority_name or f"{spec.region}政务数据共享主管机构",
                authority_office=spec.office,
                authority_contact=spec.contact,
                authority_phone=spec.phone,
            )

    def _department(self, spec: DepartmentSpec) -> None:
        region = identity_repo.region_by_code(self.session, data.REGION_CODES[spec.region])
        assert region is not None, spec.region
        dept = identity.create_department(
            self.session,
            self.bureau_admin,
            name=spec.name,
            uscc=data.department_uscc(spec),
            region_id=region.id,
            short_name=spec.short_name,
            sharing_office=spec.sharing_office,
            sharing_leader=self._name(),
            sharing_contact=self._name(),
            sharing_phone=self._landline(),
        )
        for office in spec.offices:
            identity.add_office(self.session, self.bureau_admin, dept.id, office)
        self.departments[spec.key] = dept

    def _account(self, spec: AccountSpec) -> None:
        self._create_user(self.bureau_admin, spec)

    def _generated_admin(self, department_key: str) -> None:
        spec = AccountSpec(data.admin_username(department_key), self._name(), department_key, Role.dept_admin)
        self._create_user(self.bureau_admin, spec)

    def _create_user(self, creator: Actor, spec: AccountSpec) -> None:
        dept = self.departments[spec.department]
        region_id = None
        if spec.region is not None:
            region = identity_repo.region_by_code(self.session, data.REGION_CODES[spec.region])
            assert region is not None
            region_id = region.id
        user = identity.create_user(
            self.session,
            creator,
            username=spec.username,
            display_name=spec.display_name,
            department_id=dept.id,
            password=DEMO_PASSWORD,
            roles=[(spec.role, region_id)],
            phone=self._mobile(),
            must_change_password=False,
        )
        loaded = identity_repo.user_with_roles(self.session, user.id)
        assert loaded is not None
        actor = auth.actor_for(loaded, self.context)
        self.users[spec.username] = loaded
        self.actors[spec.username] = actor
        if spec.role == Role.dept_admin:
            self.admin_of[spec.department] = actor
        if auth.requires_mfa(loaded):
            self._enrol_totp(actor, data.totp_secret(spec.username))

    def _enrol_totp(self, actor: Actor, secret: str) -> None:
        """Bind the known demo secret (see the module docstring), then confirm it through the service."""
        user = auth.user_of(self.session, actor)
        security = get_settings().security
        user.totp_secret = encrypt(secret, security.data_key, security.crypto_profile)
        user.totp_enabled = False
        self.session.flush()
        if not auth.verify_totp(self.session, actor, pyotp.TOTP(secret).now()):
            raise RuntimeError("demo TOTP enrolment failed")

    def _reviewers(self) -> None:
        city = catalog.city_region_id(self.session)
        for actor in self.actors.values():
            if Role.bureau_reviewer in actor.roles:
                self.reviewer_of_region[city] = actor
            for region_id in actor.reviewer_region_ids:
                self.reviewer_of_region[region_id] = actor

    def _data_admin_register(self) -> None:
        previous = {p.department: p for p in data.PREVIOUS_ADMINS}
        for spec in data.DEPARTMENTS:
            if spec.key in data.DEPARTMENTS_WITHOUT_ADMIN:
                continue
            dept = self.departments[spec.key]
            admin = self.admin_of.get(spec.key)
            if admin is None:
                # The authorities' own centres compile no catalog: the bureau records their contact,
                # who is also the region's reviewer.
                authority = next(a for a in data.AUTHORITIES if a.region == spec.region)
                reviewer = next((u for u in self.users.values() if u.department_id == dept.id), None)
                register.register_data_admin(
                    self.session,
                    self.bureau_admin,
                    department_id=dept.id,
                    name=authority.contact,
                    office=spec.sharing_office,
                    phone=authority.phone,
                    start_date=self._days_ago(200, 600),
                    user_id=reviewer.id if reviewer is not None else None,
                )
                continue
            user = self.users[admin.username]
            start = self._days_ago(60, 700)
            record_id: int | None = None
            if spec.key in previous:
                former = previous[spec.key]
                record_id = register.register_data_admin(
                    self.session,
                    admin,
                    department_id=dept.id,
                    name=former.name,
                    office=former.office,
                    phone=self._landline(),
                    start_date=self.today - dt.timedelta(days=former.started_days_ago),
                ).id
                start = self.today - dt.timedelta(days=former.ended_days_ago)
            details = {"name": user.display_name, "office": spec.sharing_office, "phone": self._landline()}
            if record_id is None:
                register.register_data_admin(
                    self.session, admin, department_id=dept.id, start_date=start, user_id=user.id, **details
                )
            else:
                register.replace_data_admin(
                    self.session,
                    admin,
                    record_id,
                    reason=previous[spec.key].reason,
                    start_date=start,
                    user_id=user.id,
                    **details,
                )
        bureau_dept = self.departments[BUREAU_KEY]
        register.register_data_admin(
            self.session,
            self.bureau_admin,
            department_id=bureau_dept.id,
            name=self._name(),
            office="数据资源处",
            phone=self._landline(),
            start_date=self._days_ago(300, 900),
        )

    # ----------------------------------------------------------------------------------- catalog

    def _topics(self) -> None:
        manager = self._bureau_reviewer()
        classification_ids = {c.code: c.id for c in topics.topic_classifications(self.session)}
        for spec in data.TOPICS:
            view = topics.create_topic(
                self.session,
                manager,
                name=spec.name,
                lead_department_id=self.departments[spec.lead].id,
                contributor_ids=[self.departments[k].id for k in spec.contributors],
                description=spec.description,
                classification_id=classification_ids[spec.classification],
            )
            self.topic_ids[spec.name] = view.topic.id

    def _bureau_reviewer(self) -> Actor:
        return self.reviewer_of_region[catalog.city_region_id(self.session)]

    def _fields(self, spec: ResourceSpec, *, summary: str | None = None) -> ResourceFields:
        return ResourceFields(
            name=spec.name,
            classification_code=spec.classification,
            provider_office=spec.office,
            topic_id=self.topic_ids[spec.topic] if spec.topic else None,
            summary=summary if summary is not None else spec.summary,
            scenario=spec.scenario,
            format_class=spec.format_class,
            format_type=spec.format_type,
            share_type=spec.share_type,
            share_condition=spec.share_condition,
            share_basis=spec.share_basis,
            channel=spec.channel,
            open_type=spec.open_type,
            open_condition=spec.open_condition,
            update_cycle=spec.update_cycle,
            sensitivity_level=spec.sensitivity_level,
            items=[
                DataItemIn(
                    name=i.name,
                    data_type=i.data_type,
                    length=i.length,
                    description=i.description,
                    sensitivity=i.sensitivity,
                    shareable=i.shareable,
                )
                for i in spec.items
            ],
        )

    def _resource(self, spec: ResourceSpec) -> None:
        admin = self.admin_of[spec.provider]
        resource = catalog.create_resource(self.session, admin, self._fields(spec))
        self.resources[spec.key] = resource
        if spec.fate == Fate.draft:
            if self.rng.random() < 0.5:  # half the drafts already have their 保密审查
                self._confidentiality_review(admin, resource, spec)
            self.summary.resources[ResourceStatus.draft] += 1
            return
        reviewer = self.reviewer_of_region[resource.reviewing_region_id]
        self._confidentiality_review(admin, resource, spec)
        catalog.submit(self.session, admin, resource.id)
        if spec.returned_comment:
            self._decide(reviewer, resource, "returned", spec.returned_comment)
            if spec.fate == Fate.returned:
                self.summary.resources[ResourceStatus.returned] += 1
                return
            revised = self._fields(spec, summary=spec.summary + "(已按审核意见修改完善)")
            catalog.update_resource(self.session, admin, resource.id, revised)
            self._confidentiality_review(admin, resource, spec)
            catalog.submit(self.session, admin, resource.id)
        if spec.fate == Fate.submitted:
            self.summary.resources[ResourceStatus.submitted] += 1
            return
        self._decide(reviewer, resource, "approved", self.rng.choice(_APPROVAL_COMMENTS))
        if spec.fate == Fate.withdrawn:
            catalog.withdraw(self.session, reviewer, resource.id, reason=spec.withdraw_reason)
        self.summary.resources[spec.fate.status] += 1

    def _confidentiality_review(self, admin: Actor, resource: Resource, spec: ResourceSpec) -> None:
        catalog.record_confidentiality_review(
            self.session,
            admin,
            resource.id,
            ConfidentialityReviewIn(
                reviewer_name=self._name(),
                reviewed_on=self._days_ago(0, 20),
                result=ReviewResult.passed,
                note="经本单位保密审查,不涉及国家秘密,可按所列共享类型在共享平台共享。",
            ),
        )

    def _decide(self, reviewer: Actor, resource: Resource, decision: str, comment: str) -> None:
        catalog.decide(self.session, reviewer, resource.id, ReviewDecisionIn(decision=decision, comment=comment))

    # ----------------------------------------------------------------------------------- article 17

    def _change_request(self, spec: ChangeSpec) -> None:
        resource = self.resources[spec.resource]
        provider = next(r.provider for r in data.RESOURCES if r.key == spec.resource)
        admin = self.admin_of[provider]
        reviewer = self.reviewer_of_region[resource.reviewing_region_id]
        cr = change_requests.open_change_request(
            self.session,
            admin,
            resource_id=resource.id,
            trigger=ChangeTrigger(spec.trigger),
            trigger_date=self._working_days_ago(spec.working_days_ago),
            trigger_description=spec.description,
            reason=spec.reason,
        )
        proposed = self._proposed(admin, resource, spec)
        if spec.extension != ExtensionStatus.none:
            cr = change_requests.request_extension(
                self.session, admin, cr.id, days=spec.extension_days, reason=spec.extension_reason
            )
            if spec.extension in (ExtensionStatus.granted, ExtensionStatus.refused):
                cr = change_requests.decide_extension(
                    self.session,
                    reviewer,
                    cr.id,
                    grant=spec.extension == ExtensionStatus.granted,
                    comment=spec.extension_comment,
                )
        if spec.outcome == ChangeOutcome.open:
            if proposed is not None:
                cr = change_requests.update_proposed(self.session, admin, cr.id, proposed=proposed)
            self._count_change(cr)
            return
        cr = change_requests.file_change_request(self.session, admin, cr.id, proposed=proposed)
        if spec.outcome != ChangeOutcome.filed:
            cr = change_requests.decide_change_request(
                self.session,
                reviewer,
                cr.id,
                approve=spec.outcome == ChangeOutcome.approved,
                comment=spec.decision_comment or "同意按申请内容变更目录并发布新版本。",
            )
        self._count_change(cr)

    def _proposed(self, admin: Actor, resource: Resource, spec: ChangeSpec) -> ResourceFields | None:
        if not spec.add_items and not spec.set_fields:
            return None
        current = catalog.fields_of(self.session, catalog.get_resource(self.session, admin, resource.id))
        items = current.items + [
            DataItemIn(name=i.name, data_type=i.data_type, length=i.length, description=i.description)
            for i in spec.add_items
        ]
        return ResourceFields.model_validate(current.model_dump() | dict(spec.set_fields) | {"items": items})

    def _count_change(self, cr: ChangeRequest) -> None:
        self.summary.change_requests[cr.status] += 1
        if cr.filed_late:
            self.summary.change_requests["filed_late"] += 1
        if cr.extension_status != ExtensionStatus.none:
            self.summary.change_requests[f"extension_{cr.extension_status}"] += 1

    # ----------------------------------------------------------------------------------- invented details

    def _name(self) -> str:
        return self.rng.choice(data.SURNAMES) + self.rng.choice(data.GIVEN_NAMES)

    def _landline(self) -> str:
        return f"0931-{self.rng.choice('2345678')}{self.rng.randrange(10**6):06d}"

    def _mobile(self) -> str:
        return f"1{self.rng.choice(('39', '38', '87', '51', '77', '99'))}{self.rng.randrange(10**8):08d}"

    def _days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def _working_days_ago(self, count: int) -> dt.date:
        day = self.today
        while count > 0:
            day -= dt.timedelta(days=1)
            if calendar.is_working_day(self.session, day):
                count -= 1
        return day


_APPROVAL_COMMENTS: tuple[str, ...] = (
    "审核通过,同意发布。",
    "要素齐全,共享属性合理,同意发布。",
    "经审核符合目录编制规范,予以发布。",
    "同意发布,请及时完成数据挂载并保持更新。",
)
