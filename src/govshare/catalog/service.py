"""Catalog resources: compile, 保密审查, submit, review, publish, withdraw, and versions.

The workflow is one declared table (``TRANSITIONS``) and one helper (``_move``) that checks the
move, stamps the time, bumps ``version`` with a conditional UPDATE (so two reviewers deciding at
once cannot both win: the second finds the version changed and gets ``InvalidTransition``), and
writes the audit record::

    draft ──submit──▶ submitted ──approve──▶ published ──withdraw──▶ withdrawn
      ▲                  │                      │
      └──(edit) returned ◀┘ return (comment)     └── republish (approved change request, A17)

Content is edited only in draft and returned; each edit bumps ``revision``, so a 保密审查 recorded
for an older revision no longer allows submission (A32.1). A published resource changes only
through a change request, applied by ``apply_proposed``. Every publication freezes a snapshot in
``resource_version`` (A16.1).

Codes: a resource keeps its 信息资源代码 for life unless it is re-classified, which takes a fresh
顺序码 under the new 分类码 (the old code is never handed out again; old versions keep it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog import permissions as policy
from govshare.catalog import repository as repo
from govshare.catalog import search
from govshare.catalog.codes import allocate_code, name_key, parse_code, reserve_code
from govshare.catalog.enums import ResourceStatus, ReviewResult, label
from govshare.catalog.models import (
    Classification,
    ConfidentialityReview,
    DataItem,
    Resource,
    ResourceVersion,
    ReviewDecision,
)
from govshare.catalog.schemas import (
    ConfidentialityReviewIn,
    DataItemIn,
    ResourceCreate,
    ResourceFields,
    ResourcePage,
    ResourceSummary,
    ResourceUpdate,
    ReviewDecisionIn,
)
from govshare.catalog.validation import raise_if_invalid, validate_resource
from govshare.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    raise_if_errors,
)
from govshare.identity.actor import Actor
from govshare.identity.models import RegionLevel
from govshare.identity.permissions import Permission
from govshare.identity.reference import city_region
from govshare.kit.clock import now, today

NOT_FOUND = "信息资源不存在,或当前账号无权查看"
MAX_PAGE_SIZE = 100


class Move(StrEnum):
    edit = "edit"
    submit = "submit"
    approve = "approve"
    return_ = "return"
    withdraw = "withdraw"
    republish = "republish"
    import_publish = "import_publish"


S = ResourceStatus
# move → (statuses it may start from, status it ends in; None keeps the status)
TRANSITIONS: dict[Move, tuple[frozenset[ResourceStatus], ResourceStatus | None]] = {
    Move.edit: (frozenset({S.draft, S.returned}), None),
    Move.submit: (frozenset({S.draft, S.returned}), S.submitted),
    Move.approve: (frozenset({S.submitted}), S.published),
    Move.return_: (frozenset({S.submitted}), S.returned),
    Move.withdraw: (frozenset({S.published}), S.withdrawn),
    Move.republish: (frozenset({S.published}), S.published),
    Move.import_publish: (frozenset({S.draft}), S.published),
}

MOVE_LABELS: dict[Move, str] = {
    Move.edit: "修改",
    Move.submit: "报送审核",
    Move.approve: "审核通过并发布",
    Move.return_: "退回修改",
    Move.withdraw: "撤销",
    Move.republish: "按变更申请更新",
    Move.import_publish: "导入为已发布",
}


# ---------------------------------------------------------------------------------------------
# reads


def get_resource(session: Session, actor: Actor, resource_id: int) -> Resource:
    """A resource with its 信息项, if ``actor`` may read it; NotFound otherwise (never 403)."""
    resource = repo.readable_resource(session, actor, resource_id)
    if resource is None:
        raise NotFound(NOT_FOUND, code="resource_not_found")
    return resource


def list_resources(
    session: Session,
    actor: Actor,
    *,
    classification: str | None = None,
    topic_id: int | None = None,
    provider_id: int | None = None,
    share_type: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 20,
    with_total: bool = True,
) -> ResourcePage:
    """One page of the resources ``actor`` may read; ``classification`` includes its sub-classes."""
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    ids = repo.classification_ids_under(session, classification) if classification else None
    rows, total = repo.list_page(
        session,
        actor,
        classification_ids=ids,
        topic_id=topic_id,
        provider_id=provider_id,
        share_type=share_type,
        channel=channel,
        status=status,
        offset=(page - 1) * page_size,
        limit=page_size + 1,
        with_total=with_total,
    )
    return ResourcePage(
        items=[ResourceSummary.model_validate(r) for r in rows[:page_size]],
        page=page,
        page_size=page_size,
        total=total,
        has_next=len(rows) > page_size,
    )


def review_queue(session: Session, actor: Actor) -> list[Resource]:
    """Submitted resources whose review falls to ``actor``'s authority (A15.2), oldest first."""
    actor.require(Permission.catalog_review)
    return repo.review_queue(session, actor)


def list_classifications(session: Session) -> list[Classification]:
    """The classification tree (类/项/目/细目), ordered by code."""
    return repo.classifications(session)


def list_versions(session: Session, actor: Actor, resource_id: int) -> list[ResourceVersion]:
    """Every published version of a readable resource, oldest first (A16.1)."""
    get_resource(session, actor, resource_id)
    return repo.versions(session, resource_id)


def get_version(session: Session, actor: Actor, resource_id: int, number: int) -> ResourceVersion:
    """One published version of a readable resource."""
    get_resource(session, actor, resource_id)
    found = repo.version(session, resource_id, number)
    if found is None:
        raise NotFound(f"该资源没有第 {number} 版", code="version_not_found")
    return found


def confidentiality_reviews(session: Session, actor: Actor, resource_id: int) -> list[ConfidentialityReview]:
    """The 保密审查 records of a readable resource, newest first."""
    get_resource(session, actor, resource_id)
    return repo.confidentiality_reviews(session, resource_id)


def review_decisions(session: Session, actor: Actor, resource_id: int) -> list[ReviewDecision]:
    """The authority's decisions (approved / returned / withdrawn) on a readable resource, newest first."""
    get_resource(session, actor, resource_id)
    return repo.review_decisions(session, resource_id)


def city_region_id(session: Session) -> int:
    """The city region: resources reviewed there belong to the bureau's reviewers (A15.2)."""
    return city_region(session).id


def fields_of(session: Session, resource: Resource) -> ResourceFields:
    """The editable content of a resource (items loaded), e.g. to prefill a change request."""
    classification = repo.classification(session, resource.classification_id)
    assert classification is not None
    return ResourceFields(
        name=resource.name,
        classification_code=classification.code,
        provider_office=resource.provider_office,
        topic_id=resource.topic_id,
        summary=resource.summary,
        scenario=resource.scenario,
        format_class=resource.format_class,
        format_type=resource.format_type,
        share_type=resource.share_type,
        share_condition=resource.share_condition,
        share_basis=resource.share_basis,
        channel=resource.channel,
        open_type=resource.open_type,
        open_condition=resource.open_condition,
        update_cycle=resource.update_cycle,
        sensitivity_level=resource.sensitivity_level,
        classified=resource.classified,
        related_codes=list(resource.related_codes or []),
        items=[
            DataItemIn(
                name=i.name,
                data_type=i.data_type,
                length=i.length,
                description=i.description,
                sensitivity=i.sensitivity,
                shareable=i.shareable,
                is_basic=i.is_basic,
            )
            for i in resource.items
        ],
    )


def snapshot_of(session: Session, resource: Resource) -> dict[str, Any]:
    """The JSON snapshot kept for a version: all content fields and items, plus code and provider."""
    provider = repo.department(session, resource.provider_id)
    classification = repo.classification(session, resource.classification_id)
    data: dict[str, Any] = fields_of(session, resource).model_dump(mode="json")
    data.update(
        code=resource.code,
        provider_id=resource.provider_id,
        provider_name=provider.name if provider else "",
        classification_name=classification.name if classification else "",
        revision=resource.revision,
        published_version=resource.published_version,
    )
    return data


# ---------------------------------------------------------------------------------------------
# compiling


def create_resource(
    session: Session,
    actor: Actor,
    data: ResourceFields,
    *,
    provider_id: int | None = None,
    code: str | None = None,
) -> Resource:
    """Compile a new draft for the actor's own department (A15.1), with a generated 信息资源代码.

    Only the platform itself (a migration) may pass ``code`` to keep an existing code.
    """
    if provider_id is None and isinstance(data, ResourceCreate):
        provider_id = data.provider_id
    if provider_id is None:
        provider_id = actor.department_id
    if actor.kind != "system":
        actor.require(Permission.catalog_compile)
    if provider_id is None or not policy.compiles_for(actor, provider_id):
        raise Forbidden("只能为本部门编制信息资源目录", code="not_own_department")
    if code is not None and actor.kind != "system":
        raise Forbidden("信息资源代码由平台生成,不能指定", code="code_not_assignable")
    raise_if_invalid(validate_resource(session, data, provider_id=provider_id, exclude_id=None))
    classification = _classification(session, data.classification_code)
    provider = repo.department(session, provider_id)
    assert provider is not None
    region_id = _reviewing_region(session, provider.region_id)
    code = allocate_code(session, classification.id) if code is None else _imported_code(session, code, classification)
    stamp = now()
    resource = Resource(
        code=code,
        provider_id=provider_id,
        classification_id=classification.id,
        reviewing_region_id=region_id,
        status=ResourceStatus.draft,
        revision=1,
        published_version=0,
        duplicate_warnings=[],
        created_by_id=actor.user_id,
        created_at=stamp,
        updated_at=stamp,
        version=1,
        items=[],
    )
    _apply_content(resource, data, classification)
    session.add(resource)
    session.flush()
    _sync_items(session, resource, data.items)
    audit.record(
        session,
        actor,
        Action.resource_created,
        object_type="resource",
        object_id=resource.id,
        after={
            "code": resource.code,
            "name": resource.name,
            "provider_id": provider_id,
            "share_type": resource.share_type,
            "items": len(data.items),
        },
    )
    search.index_resource(session, resource)
    return resource


def update_resource(
    session: Session,
    actor: Actor,
    resource_id: int,
    data: ResourceFields,
    *,
    expected_version: int | None = None,
) -> Resource:
    """Edit a draft or returned resource of the actor's own department; each change is a new revision.

    A new revision voids the 保密审查 of the old one (A32.1); an unchanged save changes nothing.
    """
    if expected_version is None and isinstance(data, ResourceUpdate):
        expected_version = data.expected_version
    resource = _for_compiler(session, actor, resource_id)
    _check_move(resource, Move.edit)
    change = _content_change(session, resource, data)
    if not change.changed:
        # Saving an unchanged form is not a new revision: it must not void the 保密审查 just recorded.
        if expected_version is not None and expected_version != resource.version:
            raise InvalidTransition("资源已被他人修改或处理,请刷新页面后重试", code="stale_version")
        return resource
    _move(
        session,
        actor,
        resource,
        Move.edit,
        expected_version=expected_version,
        action=Action.resource_updated,
        values={"revision": resource.revision + 1} | _new_code(session, resource, change.classification),
        before=change.before,
        after=change.after,
    )
    _apply_content(resource, data, change.classification)
    _sync_items(session, resource, data.items)
    search.index_resource(session, resource)
    return resource


def record_confidentiality_review(
    session: Session, actor: Actor, resource_id: int, data: ConfidentialityReviewIn
) -> ConfidentialityReview:
    """Record the provider's 保密审查 of the resource's current revision: who, when, result (A32.1)."""
    resource = _for_compiler(session, actor, resource_id)
    if resource.status not in policy.EDITABLE:
        raise InvalidTransition(
            f"资源当前为“{label(resource.status)}”状态,保密审查应在报送前(草稿或退回修改时)记录",
            code="invalid_transition",
        )
    errors: list[FieldError] = []
    if not data.reviewer_name.strip():
        errors.append(FieldError("reviewer_name", "请填写审查人"))
    if data.reviewed_on > today():
        errors.append(FieldError("reviewed_on", "审查日期不能晚于今天"))
    if data.result == ReviewResult.failed and not data.note.strip():
        errors.append(FieldError("note", "审查未通过时请写明原因"))
    raise_if_errors("保密审查记录有误:", errors)
    review = ConfidentialityReview(
        resource_id=resource.id,
        revision=resource.revision,
        reviewer_name=data.reviewer_name.strip(),
        recorded_by_id=actor.user_id,
        reviewed_on=data.reviewed_on,
        result=data.result,
        note=data.note.strip(),
        recorded_at=now(),
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor,
        Action.confidentiality_reviewed,
        object_type="resource",
        object_id=resource.id,
        after={
            "review_id": review.id,
            "revision": review.revision,
            "reviewer_name": review.reviewer_name,
            "reviewed_on": review.reviewed_on,
            "result": review.result,
        },
    )
    return review


def submit(session: Session, actor: Actor, resource_id: int, *, expected_version: int | None = None) -> Resource:
    """Submit a draft or returned resource for review; needs a passed 保密审查 of this revision (A32.1).

    Records duplicate-collection warnings (A18.1) for the reviewer; they do not block submission.
    """
    resource = _for_compiler(session, actor, resource_id)
    _check_move(resource, Move.submit)
    review = repo.latest_confidentiality_review(session, resource.id, resource.revision)
    if review is None:
        raise Conflict(
            "报送前须对当前版本内容完成保密审查并记录(第三十二条);修改内容后须重新审查",
            code="confidentiality_review_required",
        )
    if review.result != ReviewResult.passed:
        raise Conflict(
            "当前版本的保密审查未通过,不能报送;请修改内容后重新审查",
            code="confidentiality_review_required",
        )
    content = fields_of(session, resource)
    raise_if_invalid(validate_resource(session, content, provider_id=resource.provider_id, exclude_id=resource.id))
    warnings = duplicate_warnings(session, resource)
    stamp = now()
    _move(
        session,
        actor,
        resource,
        Move.submit,
        expected_version=expected_version,
        action=Action.resource_submitted,
        values={"submitted_at": stamp, "duplicate_warnings": warnings},
        after={"revision": resource.revision, "review_id": review.id, "duplicate_warnings": len(warnings)},
        stamp=stamp,
    )
    return resource


# Descriptive fields every register has (dates of record-keeping, coordinates, remarks) are not
# "collecting the same data twice" in the sense of article 18; warning on them buried the real
# duplicates (公民身份号码, 统一社会信用代码 …) under thousands of lines on realistic catalogs.
GENERIC_ITEM_KEYS = frozenset(
    {
        "序号",
        "编号",
        "备注",
        "说明",
        "状态",
        "类型",
        "名称",
        "地址",
        "联系电话",
        "经度",
        "纬度",
        "创建时间",
        "更新时间",
        "修改时间",
        "录入时间",
        "入库时间",
        "数据更新时间",
        "登记日期",
        "发证日期",
        "发证机关",
        "有效期",
        "有效期至",
        "有效期起",
        "有效期止",
        "开始日期",
        "结束日期",
        "年度",
        "月份",
    }
)
_NAMED_PROVIDERS = 3


def duplicate_warnings(session: Session, resource: Resource) -> list[dict[str, Any]]:
    """一数一源 (A18.1): this resource's 信息项 that another department already provides.

    A match is a published or submitted resource of another department with an item of the same
    normalised name and data type (one query). One warning per 信息项, naming the departments that
    provide it and one resource of each; generic descriptive fields (``GENERIC_ITEM_KEYS``) are skipped.
    """
    by_key: dict[tuple[str, str], DataItem] = {
        (i.name_key, i.data_type): i for i in resource.items if i.name_key not in GENERIC_ITEM_KEYS
    }
    if not by_key:
        return []
    matches = repo.items_provided_elsewhere(session, by_key.keys(), provider_id=resource.provider_id)
    grouped: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for match in matches:
        grouped.setdefault((match["key"], match["data_type"]), {}).setdefault(match["department_id"], match)
    warnings: list[dict[str, Any]] = []
    for key, by_department in grouped.items():
        item = by_key[key]
        providers = list(by_department.values())
        first = providers[0]
        named = "、".join(
            f"{m['department_name']}(“{m['resource_name']}”{m['resource_code']})" for m in providers[:_NAMED_PROVIDERS]
        )
        more = f"等 {len(providers)} 个部门" if len(providers) > _NAMED_PROVIDERS else ""
        warnings.append(
            {
                "item_name": item.name,
                "data_type": item.data_type,
                "department_id": first["department_id"],
                "department_name": first["department_name"],
                "resource_id": first["resource_id"],
                "resource_code": first["resource_code"],
                "resource_name": first["resource_name"],
                "providers": [
                    {
                        k: m[k]
                        for k in ("department_id", "department_name", "resource_id", "resource_code", "resource_name")
                    }
                    for m in providers
                ],
                "message": (
                    f"信息项“{item.name}”({label(item.data_type)})已由{named}{more}提供,请核实是否重复采集(一数一源)"
                ),
            }
        )
    return warnings


# ---------------------------------------------------------------------------------------------
# reviewing


def decide(session: Session, actor: Actor, resource_id: int, data: ReviewDecisionIn) -> Resource:
    """The responsible authority approves (publishes, A15.1) or returns with a comment a submission.

    A city department's resource is decided by the bureau, a county's by its own authority (A15.2).
    """
    actor.require(Permission.catalog_review)
    resource = _for_reviewer(session, actor, resource_id)
    comment = data.comment.strip()
    stamp = now()
    if data.decision == "returned":
        if not comment:
            raise ValidationFailed(
                "退回时必须填写审核意见", code="comment_required", errors=[FieldError("comment", "请填写退回意见")]
            )
        _move(
            session,
            actor,
            resource,
            Move.return_,
            expected_version=data.expected_version,
            action=Action.resource_returned,
            after={"revision": resource.revision, "comment": comment},
            stamp=stamp,
        )
    else:
        number = resource.published_version + 1
        _move(
            session,
            actor,
            resource,
            Move.approve,
            expected_version=data.expected_version,
            action=Action.resource_published,
            values={"published_version": number, "published_at": resource.published_at or stamp},
            after={"revision": resource.revision, "published_version": number, "comment": comment},
            stamp=stamp,
        )
        _add_version(session, actor, resource, note=comment, change_request_id=None, stamp=stamp)
    _record_decision(session, actor, resource, decision=data.decision, comment=comment, stamp=stamp)
    return resource


def withdraw(
    session: Session, actor: Actor, resource_id: int, *, reason: str, expected_version: int | None = None
) -> Resource:
    """The responsible authority withdraws a published resource from the catalog, with a reason."""
    actor.require(Permission.catalog_review)
    resource = _for_reviewer(session, actor, resource_id)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("撤销时必须写明理由", code="reason_required", errors=[FieldError("reason", "必填")])
    stamp = now()
    _move(
        session,
        actor,
        resource,
        Move.withdraw,
        expected_version=expected_version,
        action=Action.resource_withdrawn,
        after={"reason": reason},
        stamp=stamp,
    )
    _record_decision(session, actor, resource, decision="withdrawn", comment=reason, stamp=stamp)
    return resource


def _record_decision(
    session: Session, actor: Actor, resource: Resource, *, decision: str, comment: str, stamp: dt.datetime
) -> None:
    """Keep the authority's decision on the resource's current revision, and re-index the resource."""
    session.add(
        ReviewDecision(
            resource_id=resource.id,
            revision=resource.revision,
            region_id=resource.reviewing_region_id,
            reviewer_id=actor.user_id,
            decision=decision,
            comment=comment,
            decided_at=stamp,
        )
    )
    session.flush()
    search.index_resource(session, resource)


def apply_proposed(
    session: Session, actor: Actor, resource_id: int, proposed: ResourceFields, *, change_request_id: int
) -> Resource:
    """Apply an approved change request to a published resource and publish it as a new version (A17).

    Called by the change-request service once the responsible authority approves; the content must
    pass the same rules as any other.
    """
    resource = repo.resource_with_items(session, resource_id)
    if resource is None:
        raise NotFound(NOT_FOUND, code="resource_not_found")
    if actor.kind != "system" and not (
        actor.can(Permission.change_request_decide)
        and policy.reviews(actor, resource.reviewing_region_id, city_region_id(session))
    ):
        raise Forbidden("只有负责该资源的共享主管机构可以批准目录变更", code="not_responsible_reviewer")
    _check_move(resource, Move.republish)
    change = _content_change(session, resource, proposed)
    number = resource.published_version + 1
    values: dict[str, Any] = {"revision": resource.revision + 1, "published_version": number}
    values |= _new_code(session, resource, change.classification)
    stamp = now()
    _move(
        session,
        actor,
        resource,
        Move.republish,
        expected_version=None,
        action=Action.resource_published,
        values=values,
        before=change.before,
        after=change.after | {"published_version": number, "change_request_id": change_request_id},
        stamp=stamp,
    )
    _apply_content(resource, proposed, change.classification)
    _sync_items(session, resource, proposed.items)
    _add_version(session, actor, resource, note="目录变更", change_request_id=change_request_id, stamp=stamp)
    search.index_resource(session, resource)
    return resource


def publish_imported(
    session: Session, actor: Actor, resource_id: int, *, published_at: dt.datetime | None = None
) -> Resource:
    """Migration only (the platform itself): publish an imported draft that was already published elsewhere."""
    if actor.kind != "system":
        raise Forbidden("只有平台迁移可以直接发布导入的资源", code="system_only")
    resource = repo.resource_with_items(session, resource_id)
    if resource is None:
        raise NotFound(NOT_FOUND, code="resource_not_found")
    stamp = published_at or now()
    number = resource.published_version + 1
    _move(
        session,
        actor,
        resource,
        Move.import_publish,
        expected_version=None,
        action=Action.resource_published,
        values={"published_version": number, "published_at": resource.published_at or stamp},
        after={"published_version": number, "imported": True},
        stamp=now(),
    )
    _add_version(session, actor, resource, note="导入", change_request_id=None, stamp=stamp)
    search.index_resource(session, resource)
    return resource


# ---------------------------------------------------------------------------------------------
# helpers


def _check_move(resource: Resource, move: Move) -> ResourceStatus:
    sources, _target = TRANSITIONS[move]
    current = ResourceStatus(resource.status)
    if current not in sources:
        raise InvalidTransition(f"资源当前为“{label(current)}”状态,不能{MOVE_LABELS[move]}", code="invalid_transition")
    return current


def _move(
    session: Session,
    actor: Actor,
    resource: Resource,
    move: Move,
    *,
    expected_version: int | None,
    action: Action,
    values: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    stamp: dt.datetime | None = None,
) -> None:
    """The one transition helper: check, conditional UPDATE on (status, version), audit."""
    current = _check_move(resource, move)
    if expected_version is not None and expected_version != resource.version:
        raise InvalidTransition("资源已被他人修改或处理,请刷新页面后重试", code="stale_version")
    target = TRANSITIONS[move][1] or current
    new_values: dict[str, Any] = {
        "status": target.value,
        "version": resource.version + 1,
        "updated_at": stamp or now(),
        **(values or {}),
    }
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Resource)
            .where(Resource.id == resource.id, Resource.version == resource.version, Resource.status == current.value)
            .values(**new_values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise InvalidTransition("资源刚被他人修改或处理,本次操作未生效,请刷新页面后重试", code="concurrent_update")
    old_version = resource.version
    for key, value in new_values.items():
        set_committed_value(resource, key, value)
    audit.record(
        session,
        actor,
        action,
        object_type="resource",
        object_id=resource.id,
        before={"status": current.value, "version": old_version} | (before or {}),
        after={"status": target.value, "version": resource.version} | (after or {}),
    )


def _for_compiler(session: Session, actor: Actor, resource_id: int) -> Resource:
    if actor.kind != "system":
        actor.require(Permission.catalog_compile)
    resource = get_resource(session, actor, resource_id)
    if not policy.compiles_for(actor, resource.provider_id):
        raise Forbidden("只能编辑、审查和报送本部门的信息资源", code="not_own_department")
    return resource


def _for_reviewer(session: Session, actor: Actor, resource_id: int) -> Resource:
    resource = get_resource(session, actor, resource_id)
    if not policy.reviews(actor, resource.reviewing_region_id, city_region_id(session)):
        raise Forbidden("该资源不由你所在的共享主管机构审核", code="not_responsible_reviewer")
    return resource


@dataclass(frozen=True)
class _ContentChange:
    """New content, checked against the rules, compared with a resource's current content."""

    classification: Classification
    changed: list[str]
    before: dict[str, Any]  # for the audit record: the changed fields (信息项 only as "changed")
    after: dict[str, Any]


def _content_change(session: Session, resource: Resource, data: ResourceFields) -> _ContentChange:
    raise_if_invalid(validate_resource(session, data, provider_id=resource.provider_id, exclude_id=resource.id))
    classification = _classification(session, data.classification_code)
    before = fields_of(session, resource).model_dump(mode="json")
    after = data.model_dump(mode="json", include=set(ResourceFields.model_fields))
    changed = sorted(k for k in after if before.get(k) != after[k])
    return _ContentChange(
        classification,
        changed,
        before={k: before[k] for k in changed if k != "items"} | {"code": resource.code},
        after={k: after[k] for k in changed if k != "items"} | {"items_changed": "items" in changed},
    )


def _new_code(session: Session, resource: Resource, classification: Classification) -> dict[str, Any]:
    """A new 资源代码 when the content moves the resource to another classification."""
    if classification.id == resource.classification_id:
        return {}
    return {"code": allocate_code(session, classification.id)}


def _classification(session: Session, code: str) -> Classification:
    found = repo.classification_by_code(session, code.strip())
    assert found is not None, "validated before"
    return found


def _reviewing_region(session: Session, provider_region_id: int) -> int:
    """A15.2: county departments are reviewed in their own region, everyone else by the bureau."""
    from govshare.identity.repository import region

    found = region(session, provider_region_id)
    if found is not None and found.level == RegionLevel.county:
        return found.id
    return city_region_id(session)


def _imported_code(session: Session, code: str, classification: Classification) -> str:
    parsed = parse_code(code)
    if parsed is None or parsed[0] != classification.code:
        raise ValidationFailed(
            f"信息资源代码“{code}”应为“{classification.code}/六位顺序码”",
            errors=[FieldError("code", "代码与分类码不符")],
        )
    if repo.code_taken(session, code):
        raise Conflict(f"信息资源代码“{code}”已被使用", code="code_taken")
    reserve_code(session, classification.id, parsed[1])
    return code.strip()


def _apply_content(resource: Resource, data: ResourceFields, classification: Classification) -> None:
    resource.name = data.name.strip()
    resource.name_key = name_key(data.name)
    resource.classification_id = classification.id
    resource.provider_office = data.provider_office.strip()
    resource.topic_id = data.topic_id
    resource.summary = data.summary.strip()
    resource.scenario = data.scenario.strip()
    resource.format_class = str(data.format_class)
    resource.format_type = data.format_type.strip()
    resource.share_type = str(data.share_type)
    resource.share_condition = data.share_condition.strip()
    resource.share_basis = data.share_basis.strip()
    resource.channel = str(data.channel)
    resource.open_type = str(data.open_type)
    resource.open_condition = data.open_condition.strip()
    resource.update_cycle = str(data.update_cycle)
    resource.sensitivity_level = str(data.sensitivity_level)
    resource.classified = data.classified
    resource.related_codes = [c.strip() for c in data.related_codes]


def _sync_items(session: Session, resource: Resource, items: list[DataItemIn]) -> None:
    """Make the 信息项 equal ``items``, keeping the row (and id) of every item whose name stays.

    Grants and masking rules refer to 信息项 by id, so a renamed or reordered resource must not hand
    an existing id to a different field. Positions are unique per resource, hence the two steps.
    """
    wanted = {name_key(item.name): (position, item) for position, item in enumerate(items, start=1)}
    existing = {i.name_key: i for i in resource.items}
    for key, row in list(existing.items()):
        if key not in wanted:
            resource.items.remove(row)
            del existing[key]
    moving = [row for key, row in existing.items() if row.position != wanted[key][0]]
    if moving:
        session.flush()
        for offset, row in enumerate(moving, start=1):
            row.position = -offset
    session.flush()
    for key, (position, item) in wanted.items():
        found = existing.get(key)
        if found is None:
            row = DataItem(resource_id=resource.id, position=position, name_key=key)
            resource.items.append(row)
        else:
            row = found
        row.position = position
        row.name = item.name.strip()
        row.name_key = key
        row.data_type = str(item.data_type)
        row.length = item.length
        row.description = item.description.strip()
        row.sensitivity = str(item.sensitivity)
        row.shareable = item.shareable
        row.is_basic = item.is_basic
    resource.items.sort(key=lambda i: i.position)
    session.flush()


def _add_version(
    session: Session,
    actor: Actor,
    resource: Resource,
    *,
    note: str,
    change_request_id: int | None,
    stamp: dt.datetime,
) -> ResourceVersion:
    version = ResourceVersion(
        resource_id=resource.id,
        number=resource.published_version,
        snapshot=snapshot_of(session, resource),
        published_at=stamp,
        published_by_id=actor.user_id,
        change_request_id=change_request_id,
        note=note,
    )
    session.add(version)
    session.flush()
    return version
