"""Topic resources (主题数据资源, article 12 (二), A12.2).

A topic is built by several departments under a lead department (牵头部门). The bureau
(``Permission.topic_manage``) creates topics and names the lead and the contributors; only the lead
department's 数据资源管理员 keeps the topic's own catalog entry (its description); the lead and the
contributors may compile 类 2 (主题) resources under the topic.

The queries of this module sit in its "queries" section rather than in ``catalog/repository.py``:
topics and change requests were built in parallel with the resource core, and keeping each
module's queries beside it avoided edits to a file another engineer owned. Visibility is still one
function: topics are catalog metadata that every signed-in reader sees (``readable``), and the
resources listed under a topic come from the resource core's own ``readable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.models import Classification, Resource, Topic, TopicContributor
from govshare.catalog.reference import TOPIC_CLASS
from govshare.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from govshare.identity import repository as identity_repo
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Permission, Role

# --------------------------------------------------------------------------------------- queries


def readable(actor: Actor) -> Select[Topic]:
    """Topics are catalog metadata: every signed-in reader of the catalog sees all of them."""
    return select(Topic).options(selectinload(Topic.contributors)).order_by(Topic.name)


def _topic(session: Session, actor: Actor, topic_id: int) -> Topic:
    found = session.execute(readable(actor).where(Topic.id == topic_id)).scalar_one_or_none()
    if found is None:
        raise NotFound("主题不存在", code="topic_not_found")
    return found


def _topic_by_name(session: Session, name: str) -> Topic | None:
    return session.execute(select(Topic).where(Topic.name == name)).scalar_one_or_none()


def _departments(session: Session, ids: Sequence[int]) -> dict[int, Department]:
    if not ids:
        return {}
    rows = session.execute(select(Department).where(Department.id.in_(set(ids)))).scalars().all()
    return {d.id: d for d in rows}


def _classification(session: Session, classification_id: int) -> Classification | None:
    return session.get(Classification, classification_id)


def topic_classifications(session: Session) -> list[Classification]:
    """The 类 2 (主题) classifications a topic may be filed under."""
    return list(
        session.execute(
            select(Classification).where(Classification.code.startswith(TOPIC_CLASS)).order_by(Classification.code)
        )
        .scalars()
        .all()
    )


def topic_ids_of_department(session: Session, department_id: int) -> list[int]:
    """The topics a department leads or contributes to."""
    led = select(Topic.id).where(Topic.lead_department_id == department_id)
    contributed = select(TopicContributor.topic_id).where(TopicContributor.department_id == department_id)
    return sorted(set(session.execute(led).scalars().all()) | set(session.execute(contributed).scalars().all()))


def topics_of_department(session: Session, department_id: int) -> list[Topic]:
    """The topics a department may compile resources under (as lead or contributor), by name."""
    ids = topic_ids_of_department(session, department_id)
    if not ids:
        return []
    return list(session.execute(select(Topic).where(Topic.id.in_(ids)).order_by(Topic.name)).scalars().all())


def department_choices(session: Session) -> list[Department]:
    """Active departments, for choosing a topic's lead and contributors."""
    return list(
        session.execute(
            select(Department).where(Department.is_active.is_(True)).order_by(Department.region_id, Department.id)
        )
        .scalars()
        .all()
    )


def _topic_resources(session: Session, actor: Actor, topic_id: int) -> list[Resource]:
    from govshare.catalog import repository as resource_repo

    stmt = resource_repo.readable(actor).where(Resource.topic_id == topic_id).order_by(Resource.code)
    return list(session.execute(stmt).scalars().all())


# --------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class TopicView:
    """A topic with its lead department, contributors and the resources the reader may see."""

    topic: Topic
    lead: Department
    contributors: list[Department]
    classification: Classification | None
    resources: list[Resource]


@dataclass(frozen=True)
class TopicRow:
    topic: Topic
    lead: Department
    contributors: list[Department]


def list_topics(session: Session, actor: Actor) -> list[TopicRow]:
    """Every topic with its lead and contributing departments."""
    actor.require(Permission.catalog_read)
    topics = list(session.execute(readable(actor)).scalars().all())
    dept_ids = [t.lead_department_id for t in topics] + [c.department_id for t in topics for c in t.contributors]
    depts = _departments(session, dept_ids)
    return [
        TopicRow(t, depts[t.lead_department_id], [depts[c.department_id] for c in _sorted(t.contributors)])
        for t in topics
    ]


def get_topic(session: Session, actor: Actor, topic_id: int) -> TopicView:
    """One topic with its lead, contributors and the resources under it that the reader may see."""
    actor.require(Permission.catalog_read)
    topic = _topic(session, actor, topic_id)
    contributors = _sorted(topic.contributors)
    depts = _departments(session, [topic.lead_department_id] + [c.department_id for c in contributors])
    classification = _classification(session, topic.classification_id) if topic.classification_id else None
    return TopicView(
        topic=topic,
        lead=depts[topic.lead_department_id],
        contributors=[depts[c.department_id] for c in contributors],
        classification=classification,
        resources=_topic_resources(session, actor, topic.id),
    )


def _sorted(contributors: Sequence[TopicContributor]) -> list[TopicContributor]:
    return sorted(contributors, key=lambda c: c.department_id)


@dataclass(frozen=True)
class TopicFormOptions:
    departments: list[Department]
    classifications: list[Classification]


def form_options(session: Session, actor: Actor) -> TopicFormOptions:
    """What the topic forms offer: active departments and the 类 2 classifications."""
    actor.require(Permission.catalog_read)
    return TopicFormOptions(department_choices(session), topic_classifications(session))


# --------------------------------------------------------------------------------------- rules


def is_lead_admin(actor: Actor, topic: Topic) -> bool:
    """The lead department's 数据资源管理员 keeps the topic's own catalog entry."""
    return actor.has_role(Role.dept_admin) and actor.department_id == topic.lead_department_id


def can_compile_under(session: Session, department_id: int, topic_id: int) -> bool:
    """The lead and the contributing departments may compile resources under a topic (the resource
    rules in ``validation.validate_resource`` enforce it when a resource names its topic)."""
    return topic_id in topic_ids_of_department(session, department_id)


def _validated_members(
    session: Session, lead_department_id: int, contributor_ids: Sequence[int]
) -> tuple[Department, list[int]]:
    lead = identity_repo.department(session, lead_department_id)
    if lead is None or not lead.is_active:
        raise ValidationFailed(
            "牵头部门不存在或已停用", errors=[FieldError("lead_department_id", "请选择有效的牵头部门")]
        )
    # The lead is never also listed as a contributor; duplicates collapse.
    ids = sorted({i for i in contributor_ids if i != lead_department_id})
    found = _departments(session, ids)
    missing = [i for i in ids if i not in found or not found[i].is_active]
    if missing:
        raise ValidationFailed(
            "共建部门不存在或已停用",
            errors=[FieldError("contributor_ids", f"部门 ID {', '.join(map(str, missing))} 无效")],
        )
    return lead, ids


def _validated_fields(session: Session, name: str, classification_id: int | None) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed("请填写主题名称", errors=[FieldError("name", "必填")])
    if len(name) > 64:
        raise ValidationFailed("主题名称过长", errors=[FieldError("name", "不超过 64 个字")])
    if classification_id is not None:
        cls = _classification(session, classification_id)
        if cls is None or not cls.code.startswith(TOPIC_CLASS):
            raise ValidationFailed(
                "主题的分类须为主题类(类 2)",
                errors=[FieldError("classification_id", "请选择主题类(类 2)分类")],
            )
    return name


def _state(topic: Topic, contributor_ids: Sequence[int]) -> dict[str, object]:
    return {
        "name": topic.name,
        "description": topic.description,
        "classification_id": topic.classification_id,
        "lead_department_id": topic.lead_department_id,
        "contributor_ids": sorted(contributor_ids),
    }


def _bump(session: Session, topic: Topic, expected_version: int | None) -> None:
    """Optimistic lock: the edit applies only to the version the editor saw."""
    seen = topic.version if expected_version is None else expected_version
    result = session.execute(
        update(Topic)
        .where(Topic.id == topic.id, Topic.version == seen)
        .values(version=Topic.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("主题已被他人修改,请刷新后重试", code="stale_version")
    session.refresh(topic, ["version"])


# --------------------------------------------------------------------------------------- changes


def create_topic(
    session: Session,
    actor: Actor,
    *,
    name: str,
    lead_department_id: int,
    contributor_ids: Sequence[int] = (),
    description: str = "",
    classification_id: int | None = None,
) -> TopicView:
    """The bureau opens a topic and names its lead and contributing departments (A12.2)."""
    actor.require(Permission.topic_manage)
    name = _validated_fields(session, name, classification_id)
    if _topic_by_name(session, name) is not None:
        raise Conflict(f"主题“{name}”已存在", code="topic_exists", errors=[FieldError("name", "名称已被使用")])
    _, ids = _validated_members(session, lead_department_id, contributor_ids)
    topic = Topic(
        name=name,
        description=description.strip(),
        classification_id=classification_id,
        lead_department_id=lead_department_id,
        contributors=[TopicContributor(department_id=i) for i in ids],
    )
    session.add(topic)
    session.flush()
    audit.record(
        session, actor, Action.topic_created, object_type="topic", object_id=topic.id, after=_state(topic, ids)
    )
    return get_topic(session, actor, topic.id)


def update_topic(
    session: Session,
    actor: Actor,
    topic_id: int,
    *,
    name: str,
    lead_department_id: int,
    contributor_ids: Sequence[int],
    classification_id: int | None = None,
    expected_version: int | None = None,
) -> TopicView:
    """The bureau renames a topic or changes its lead and contributing departments."""
    actor.require(Permission.topic_manage)
    topic = _topic(session, actor, topic_id)
    name = _validated_fields(session, name, classification_id)
    other = _topic_by_name(session, name)
    if other is not None and other.id != topic.id:
        raise Conflict(f"主题“{name}”已存在", code="topic_exists", errors=[FieldError("name", "名称已被使用")])
    _, ids = _validated_members(session, lead_department_id, contributor_ids)
    before = _state(topic, [c.department_id for c in topic.contributors])
    _bump(session, topic, expected_version)
    topic.name = name
    topic.classification_id = classification_id
    topic.lead_department_id = lead_department_id
    current = {c.department_id: c for c in topic.contributors}
    for dept_id, row in current.items():
        if dept_id not in ids:
            topic.contributors.remove(row)
    for dept_id in ids:
        if dept_id not in current:
            topic.contributors.append(TopicContributor(department_id=dept_id))
    session.flush()
    audit.record(
        session,
        actor,
        Action.topic_updated,
        object_type="topic",
        object_id=topic.id,
        before=before,
        after=_state(topic, ids),
    )
    return get_topic(session, actor, topic.id)


def update_topic_description(
    session: Session, actor: Actor, topic_id: int, *, description: str, expected_version: int | None = None
) -> TopicView:
    """Only the lead department's 数据资源管理员 maintains the topic's own catalog entry (article 12 (二))."""
    actor.require(Permission.catalog_compile)
    topic = _topic(session, actor, topic_id)
    if not is_lead_admin(actor, topic):
        raise Forbidden("主题信息资源目录由牵头部门负责编制并维护", code="not_topic_lead")
    description = description.strip()
    if len(description) > 4000:
        raise ValidationFailed("主题说明过长", errors=[FieldError("description", "不超过 4000 个字")])
    before = {"description": topic.description}
    _bump(session, topic, expected_version)
    topic.description = description
    session.flush()
    audit.record(
        session,
        actor,
        Action.topic_updated,
        object_type="topic",
        object_id=topic.id,
        before=before,
        after={"description": description},
    )
    return get_topic(session, actor, topic.id)
