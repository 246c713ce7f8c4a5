"""Catalog pages: browse and search, detail, compile/edit, 保密审查, the review workflow, versions.

Routes translate: each reads its input, calls the catalog service (or search) and renders. The
detail page gathers several reads into one view; which buttons it shows comes from
``catalog.permissions`` (the same rules the service enforces on the way in).

A page that processes a form runs the service call inside a SAVEPOINT (``web.forms.attempt``): a refusal
re-renders the form with the Chinese message while nothing the call may have flushed survives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.catalog import diff as catalog_diff
from govshare.catalog import permissions as policy
from govshare.catalog import repository as repo
from govshare.catalog import search, service, topics
from govshare.catalog.enums import (
    Channel,
    DataType,
    FormatClass,
    OpenType,
    ResourceStatus,
    ReviewResult,
    Sensitivity,
    SensitivityLevel,
    ShareType,
    UpdateCycle,
    label,
)
from govshare.catalog.models import ConfidentialityReview, Resource, ResourceVersion, ReviewDecision
from govshare.catalog.schemas import (
    ConfidentialityReviewIn,
    ResourceCreate,
    ResourcePage,
    ResourceUpdate,
    ReviewDecisionIn,
)
from govshare.deps import SessionDep, require
from govshare.errors import Conflict, DomainError, FieldError, ValidationFailed
from govshare.identity import service as identity_service
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Permission, Role
from govshare.kit.clock import today
from govshare.web.dashboard import Panel, register_panels
from govshare.web.forms import FormFields, attempt, int_or_none, pager_base
from govshare.web.templating import redirect, render, templates

router = APIRouter(prefix="/catalog", include_in_schema=False)

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Compiler = Annotated[Actor, Depends(require(Permission.catalog_compile))]
Reviewer = Annotated[Actor, Depends(require(Permission.catalog_review))]

PAGE_SIZE = 20
EMPTY_ITEM_ROWS = 5  # blank 信息项 rows offered without JavaScript
MAX_ITEM_ROWS = 500
MINE_LIMIT = 100  # rows per status on /catalog/mine; the rest through /catalog filters

OTHER_FIELD_LABELS = {
    "items": "信息项",
    "provider_id": "提供方",
    "expected_version": "版本",
    "q": "关键词",
    "classification": "分类",
    "page": "页码",
    "page_size": "每页条数",
    "reviewer_name": "审查人",
    "reviewed_on": "审查日期",
    "result": "审查结论",
    "note": "说明",
    "comment": "审核意见",
    "reason": "撤销理由",
    "decision": "审核结论",
}
_ITEM_FIELD = re.compile(r"^items\[(\d+)\](?:\.(\w+))?$")
_LIST_FIELD = re.compile(r"^(\w+)\[(\d+)\]$")


def field_label(name: str) -> str:
    """The Chinese name of a form field as errors report it (``items[2].name`` → 第 3 个信息项 · 信息项名称)."""
    match = _ITEM_FIELD.match(name)
    if match:
        row = int(match.group(1)) + 1
        sub = match.group(2)
        return f"第 {row} 个信息项" + (f" · {catalog_diff.ITEM_FIELD_LABELS.get(sub, sub)}" if sub else "")
    match = _LIST_FIELD.match(name)
    if match:
        name = match.group(1)
    return catalog_diff.FIELD_LABELS.get(name) or OTHER_FIELD_LABELS.get(name, name)


templates.env.filters["label"] = label
templates.env.globals["field_label"] = field_label


# ---------------------------------------------------------------------------------------------
# input translation


_PYDANTIC_MESSAGES = {
    "missing": "必填",
    "string_too_short": "必填",
    "string_too_long": "内容过长",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "enum": "请从列表中选择",
    "string_pattern_mismatch": "请从列表中选择",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
}


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors():
        parts: list[str] = []
        for part in err.get("loc", ()):
            if isinstance(part, int) and parts:
                parts[-1] = f"{parts[-1]}[{part}]"
            else:
                parts.append(str(part))
        errors.append(FieldError(".".join(parts) or "request", _PYDANTIC_MESSAGES.get(err["type"], "取值无效")))
    return errors


def _invalid(errors: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(
        "填写有误,请按提示修改:" + ";".join(f"{field_label(e.field)}{e.message}" for e in errors), errors=errors
    )


def _choice(value: str | None, allowed: type[Any]) -> str | None:
    value = (value or "").strip()
    return value if value in {m.value for m in allowed} else None


def _item_rows(form: dict[str, str]) -> list[dict[str, Any]]:
    """The 信息项 rows a person filled in; a row without name, length or description is left out."""
    rows = min(int_or_none(form.get("item_rows")) or 0, MAX_ITEM_ROWS)
    items: list[dict[str, Any]] = []
    for i in range(rows):
        prefix = f"items-{i}-"
        name = form.get(prefix + "name", "").strip()
        length = form.get(prefix + "length", "").strip()
        description = form.get(prefix + "description", "").strip()
        if not (name or length or description):
            continue
        items.append(
            {
                "name": name,
                "data_type": form.get(prefix + "data_type", ""),
                "length": length or None,
                "description": description,
                "sensitivity": form.get(prefix + "sensitivity", "") or Sensitivity.none.value,
                "shareable": prefix + "shareable" in form,
                "is_basic": prefix + "is_basic" in form,
            }
        )
    return items


_TEXT_FIELDS = (
    "name",
    "classification_code",
    "provider_office",
    "summary",
    "scenario",
    "format_class",
    "format_type",
    "share_type",
    "share_condition",
    "share_basis",
    "channel",
    "open_type",
    "open_condition",
    "update_cycle",
    "sensitivity_level",
)


def _resource_form(form: dict[str, str]) -> dict[str, Any]:
    """The resource form as entered (strings), to build the schema from and to re-render."""
    values: dict[str, Any] = {name: form.get(name, "") for name in _TEXT_FIELDS}
    values["topic_id"] = form.get("topic_id", "")
    values["classified"] = "classified" in form
    values["related_codes"] = form.get("related_codes", "")
    return values


def _payload(values: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    payload = {k: v for k, v in values.items() if k not in ("topic_id", "related_codes")}
    payload["topic_id"] = int_or_none(values["topic_id"])
    payload["related_codes"] = [c for c in re.split(r"[,，、;；\s]+", values["related_codes"]) if c]
    payload["items"] = items
    return payload


def _form_of(fields: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A stored resource's content (``ResourceFields`` as a dict) as form values."""
    values = {name: fields.get(name) or "" for name in _TEXT_FIELDS}
    values["topic_id"] = fields.get("topic_id") or ""
    values["classified"] = bool(fields.get("classified"))
    values["related_codes"] = ", ".join(fields.get("related_codes") or [])
    return values, list(fields.get("items") or [])


def _blank_item() -> dict[str, Any]:
    return {
        "name": "",
        "data_type": DataType.C.value,
        "length": None,
        "description": "",
        "sensitivity": Sensitivity.none.value,
        "shareable": True,
        "is_basic": False,
    }


# ---------------------------------------------------------------------------------------------
# browse and search


def _vocabularies() -> dict[str, Any]:
    return {
        "share_types": list(ShareType),
        "channels": list(Channel),
        "statuses": list(ResourceStatus),
        "open_types": list(OpenType),
        "update_cycles": list(UpdateCycle),
        "format_classes": list(FormatClass),
        "sensitivity_levels": list(SensitivityLevel),
        "data_types": list(DataType),
        "sensitivities": list(Sensitivity),
    }


@router.get("")
def browse(
    request: Request,
    session: SessionDep,
    actor: Reader,
    q: str = "",
    classification: str = "",
    topic_id: str = "",
    provider_id: str = "",
    share_type: str = "",
    channel: str = "",
    status: str = "",
    page: str = "1",
) -> Response:
    f: dict[str, Any] = {
        "q": q.strip()[:200],
        "classification": classification.strip() if classification.strip().isdigit() else "",
        "topic_id": int_or_none(topic_id),
        "provider_id": int_or_none(provider_id),
        "share_type": _choice(share_type, ShareType),
        "channel": _choice(channel, Channel),
        "status": _choice(status, ResourceStatus),
    }
    number = max(int_or_none(page) or 1, 1)
    error: DomainError | None = None
    try:
        results = search.search(session, actor, **f, page=number, page_size=PAGE_SIZE)
    except ValidationFailed as exc:
        error = exc
        results = ResourcePage(items=[], page=1, page_size=PAGE_SIZE, total=0, has_next=False)
    departments = identity_service.list_departments(session, actor)
    context = {
        "title": "资源目录",
        "f": f,
        "results": results,
        "count_cap": search.COUNT_CAP,
        "error": error,
        "departments": departments,
        "provider_names": {d.id: d.name for d in departments},
        "classifications": service.list_classifications(session),
        "topics": [row.topic for row in topics.list_topics(session, actor)],
        "pager_base": pager_base("/catalog", f),
        **_vocabularies(),
    }
    return render(request, "catalog/list.html", context, actor=actor, status_code=422 if error else 200)


# ---------------------------------------------------------------------------------------------
# detail


@dataclass
class Actions:
    edit: bool = False
    confidentiality_review: bool = False
    submit: bool = False
    submit_blocked: str = ""
    decide: bool = False
    withdraw: bool = False
    change_request: bool = False

    @property
    def any(self) -> bool:
        return self.edit or self.confidentiality_review or self.submit or self.withdraw or self.change_request


@dataclass
class DetailView:
    resource: Resource
    provider: Department | None
    classification: Any
    topic: Any
    authority: str
    confidentiality_reviews: list[ConfidentialityReview]
    decisions: list[ReviewDecision]
    versions: list[ResourceVersion]
    actions: Actions
    show_warnings: bool

    @property
    def last_decision(self) -> ReviewDecision | None:
        return self.decisions[0] if self.decisions else None


def _actions(session: Session, actor: Actor, resource: Resource, reviews: list[ConfidentialityReview]) -> Actions:
    city = service.city_region_id(session)
    editable = policy.may_edit(actor, resource)
    actions = Actions(
        edit=editable,
        confidentiality_review=editable,
        submit=policy.may_submit(actor, resource),
        decide=policy.may_decide(actor, resource, city),
        withdraw=policy.may_withdraw(actor, resource, city),
        change_request=resource.status == ResourceStatus.published
        and policy.compiles_for(actor, resource.provider_id)
        and actor.can(Permission.change_request_file),
    )
    if actions.submit:
        current = next((r for r in reviews if r.revision == resource.revision), None)
        if current is None:
            actions.submit_blocked = "报送前须先记录本单位对当前内容的保密审查(第三十二条)。"
        elif current.result != ReviewResult.passed:
            actions.submit_blocked = "当前内容的保密审查未通过,修改内容并重新审查后方可报送。"
    return actions


def _detail_view(session: Session, actor: Actor, resource_id: int) -> DetailView:
    resource = service.get_resource(session, actor, resource_id)
    reviews = service.confidentiality_reviews(session, actor, resource_id)
    city = service.city_region_id(session)
    reviewer = policy.reviews(actor, resource.reviewing_region_id, city)
    authority = "市大数据局" if resource.reviewing_region_id == city else ""
    if not authority:
        regions = {r.id: r for r in identity_service.list_regions(session, actor)}
        region = regions.get(resource.reviewing_region_id)
        authority = (region.authority_name or f"{region.name}政务数据共享主管机构") if region else ""
    return DetailView(
        resource=resource,
        provider=repo.department(session, resource.provider_id),
        classification=repo.classification(session, resource.classification_id),
        topic=repo.topic(session, resource.topic_id) if resource.topic_id else None,
        authority=authority,
        confidentiality_reviews=reviews,
        decisions=service.review_decisions(session, actor, resource_id),
        versions=service.list_versions(session, actor, resource_id),
        actions=_actions(session, actor, resource, reviews),
        show_warnings=policy.compiles_for(actor, resource.provider_id) or reviewer,
    )


def _render_detail(
    request: Request, session: Session, actor: Actor, resource_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    view = _detail_view(session, actor, resource_id)
    context = {"title": view.resource.name, "view": view, **extra}
    return render(request, "catalog/detail.html", context, actor=actor, status_code=status_code)


@router.get("/{resource_id:int}")
def detail(request: Request, session: SessionDep, actor: Reader, resource_id: int) -> Response:
    return _render_detail(request, session, actor, resource_id)


# ---------------------------------------------------------------------------------------------
# compile and edit


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    items: list[dict[str, Any]],
    resource: Resource | None = None,
    expected_version: int | None = None,
    extra_rows: int = 0,
    error: DomainError | None = None,
) -> Response:
    shown = [dict(_blank_item(), **{k: v for k, v in it.items() if v is not None or k == "length"}) for it in items]
    blanks = max(EMPTY_ITEM_ROWS - len(shown), 1 if shown else 0) + extra_rows
    shown.extend(_blank_item() for _ in range(max(blanks, 0)))
    department_id = resource.provider_id if resource else actor.department_id
    offices: list[str] = []
    if department_id is not None:
        offices = [o.name for o in identity_service.get_department(session, actor, department_id).offices]
    context = {
        "title": "编辑资源" if resource else "编制新资源",
        "form": values,
        "items": shown,
        "resource": resource,
        "expected_version": expected_version,
        "action_url": f"/catalog/{resource.id}/edit" if resource else "/catalog/new",
        "cancel_url": f"/catalog/{resource.id}" if resource else "/catalog/mine",
        "classifications": [c for c in service.list_classifications(session) if c.level >= 2],
        "topics": topics.topics_of_department(session, department_id) if department_id else [],
        "offices": offices,
        "detail": error.detail if error else "",
        "errors": error.errors if error else [],
        **_vocabularies(),
    }
    return render(
        request,
        "catalog/form.html",
        context,
        actor=actor,
        status_code=422 if isinstance(error, ValidationFailed) else (409 if error else 200),
    )


_NEW_DEFAULTS: dict[str, Any] = {
    "share_type": ShareType.unconditional.value,  # A5.1: sharing is the default
    "open_type": OpenType.closed.value,
    "sensitivity_level": SensitivityLevel.general.value,
    "classified": False,
    "topic_id": "",
    "related_codes": "",
}


@router.get("/new")
def new_form(request: Request, session: SessionDep, actor: Compiler) -> Response:
    values = dict.fromkeys(_TEXT_FIELDS, "") | _NEW_DEFAULTS
    return _form_page(request, session, actor, values=values, items=[])


@router.post("/new")
def create(request: Request, session: SessionDep, actor: Compiler, form: FormFields) -> Response:
    values = _resource_form(form)
    items = _item_rows(form)
    if form.get("intent") == "add_rows":
        return _form_page(request, session, actor, values=values, items=items, extra_rows=EMPTY_ITEM_ROWS)
    try:
        data = ResourceCreate.model_validate(_payload(values, items))
        with attempt(session):
            resource = service.create_resource(session, actor, data)
    except ValidationError as exc:
        return _form_page(request, session, actor, values=values, items=items, error=_invalid(_field_errors(exc)))
    except (ValidationFailed, Conflict) as exc:
        return _form_page(request, session, actor, values=values, items=items, error=exc)
    return redirect(
        f"/catalog/{resource.id}", f"已保存草稿“{resource.name}”(代码 {resource.code})。下一步:记录保密审查后报送审核。"
    )


@router.get("/{resource_id:int}/edit")
def edit_form(request: Request, session: SessionDep, actor: Compiler, resource_id: int) -> Response:
    resource = service.get_resource(session, actor, resource_id)
    if not policy.may_edit(actor, resource):
        return redirect(f"/catalog/{resource_id}", f"资源当前为“{label(resource.status)}”状态,不能在此编辑", "error")
    values, items = _form_of(service.fields_of(session, resource).model_dump(mode="json"))
    return _form_page(
        request, session, actor, values=values, items=items, resource=resource, expected_version=resource.version
    )


@router.post("/{resource_id:int}/edit")
def update(request: Request, session: SessionDep, actor: Compiler, resource_id: int, form: FormFields) -> Response:
    resource = service.get_resource(session, actor, resource_id)
    values = _resource_form(form)
    items = _item_rows(form)
    expected = int_or_none(form.get("expected_version"))

    def again(error: DomainError | None = None, extra_rows: int = 0) -> Response:
        return _form_page(
            request,
            session,
            actor,
            values=values,
            items=items,
            resource=resource,
            expected_version=expected,
            extra_rows=extra_rows,
            error=error,
        )

    if form.get("intent") == "add_rows":
        return again(extra_rows=EMPTY_ITEM_ROWS)
    try:
        data = ResourceUpdate.model_validate(_payload(values, items) | {"expected_version": expected})
        with attempt(session):
            service.update_resource(session, actor, resource_id, data)
    except ValidationError as exc:
        return again(_invalid(_field_errors(exc)))
    except (ValidationFailed, Conflict) as exc:
        return again(exc)
    return redirect(f"/catalog/{resource_id}", "已保存修改。内容已变化,报送前请重新记录保密审查。")


# ---------------------------------------------------------------------------------------------
# 保密审查 (A32.1)


def _review_page(
    request: Request,
    actor: Actor,
    resource: Resource,
    values: dict[str, Any],
    error: DomainError | None = None,
) -> Response:
    context = {
        "title": "记录保密审查",
        "r": resource,
        "form": values,
        "results": list(ReviewResult),
        "detail": error.detail if error else "",
        "errors": error.errors if error else [],
    }
    status_code = 200 if error is None else (422 if isinstance(error, ValidationFailed) else 409)
    return render(request, "catalog/confidentiality_review.html", context, actor=actor, status_code=status_code)


@router.get("/{resource_id:int}/confidentiality-review")
def confidentiality_review_form(request: Request, session: SessionDep, actor: Compiler, resource_id: int) -> Response:
    resource = service.get_resource(session, actor, resource_id)
    values = {"reviewer_name": actor.display_name, "reviewed_on": today().isoformat(), "result": "", "note": ""}
    return _review_page(request, actor, resource, values)


@router.post("/{resource_id:int}/confidentiality-review")
def confidentiality_review_submit(
    request: Request, session: SessionDep, actor: Compiler, resource_id: int, form: FormFields
) -> Response:
    resource = service.get_resource(session, actor, resource_id)
    values = {k: form.get(k, "").strip() for k in ("reviewer_name", "reviewed_on", "result", "note")}
    try:
        data = ConfidentialityReviewIn.model_validate(values)
        with attempt(session):
            service.record_confidentiality_review(session, actor, resource_id, data)
    except ValidationError as exc:
        return _review_page(request, actor, resource, values, _invalid(_field_errors(exc)))
    except (ValidationFailed, Conflict) as exc:
        return _review_page(request, actor, resource, values, exc)
    return redirect(f"/catalog/{resource_id}", f"已记录保密审查:{label(ReviewResult(data.result))}。")


# ---------------------------------------------------------------------------------------------
# workflow actions


@router.post("/{resource_id:int}/submit")
def submit(request: Request, session: SessionDep, actor: Compiler, resource_id: int, form: FormFields) -> Response:
    try:
        with attempt(session):
            service.submit(session, actor, resource_id, expected_version=int_or_none(form.get("expected_version")))
    except (ValidationFailed, Conflict) as exc:
        return redirect(f"/catalog/{resource_id}", exc.detail, "error")
    return redirect(f"/catalog/{resource_id}", "已报送审核。")


@router.post("/{resource_id:int}/decision")
def decision(request: Request, session: SessionDep, actor: Reviewer, resource_id: int, form: FormFields) -> Response:
    comment = form.get("comment", "")
    try:
        data = ReviewDecisionIn(
            decision=form.get("decision", ""),
            comment=comment,
            expected_version=int_or_none(form.get("expected_version")),
        )
        with attempt(session):
            resource = service.decide(session, actor, resource_id, data)
    except ValidationError:
        return _render_detail(
            request,
            session,
            actor,
            resource_id,
            status_code=422,
            decision_error="请选择“审核通过”或“退回修改”",
            decision_comment=comment,
        )
    except ValidationFailed as exc:
        return _render_detail(
            request, session, actor, resource_id, status_code=422, decision_error=exc.detail, decision_comment=comment
        )
    except Conflict as exc:
        return redirect(f"/catalog/{resource_id}", exc.detail, "error")
    if resource.status == ResourceStatus.published:
        return redirect(f"/catalog/{resource_id}", f"已审核通过并发布(第 {resource.published_version} 版)。")
    return redirect("/catalog/reviews", f"已退回“{resource.name}”,退回意见已告知提供部门。")


@router.post("/{resource_id:int}/withdraw")
def withdraw(request: Request, session: SessionDep, actor: Reviewer, resource_id: int, form: FormFields) -> Response:
    try:
        with attempt(session):
            service.withdraw(
                session,
                actor,
                resource_id,
                reason=form.get("reason", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except (ValidationFailed, Conflict) as exc:
        return redirect(f"/catalog/{resource_id}", exc.detail, "error")
    return redirect(f"/catalog/{resource_id}", "已撤销该资源的发布。")


# ---------------------------------------------------------------------------------------------
# the department's own catalog, and the reviewer's queue


@dataclass
class MineRow:
    resource: Any
    comment: str = ""


@dataclass
class MineGroup:
    status: ResourceStatus
    title: str
    rows: list[MineRow]
    total: int
    more_url: str


_MINE_GROUPS = (
    (ResourceStatus.returned, "已退回,待修改"),
    (ResourceStatus.draft, "草稿(待保密审查或报送)"),
    (ResourceStatus.submitted, "已报送,待审核"),
    (ResourceStatus.published, "已发布"),
    (ResourceStatus.withdrawn, "已撤销"),
)


@router.get("/mine")
def mine(request: Request, session: SessionDep, actor: Compiler) -> Response:
    department = identity_service.get_department(session, actor, actor.department_id) if actor.department_id else None
    groups: list[MineGroup] = []
    for status, title in _MINE_GROUPS:
        found = (
            service.list_resources(session, actor, provider_id=actor.department_id, status=status, page_size=MINE_LIMIT)
            if actor.department_id
            else ResourcePage(items=[], page=1, page_size=1, total=0, has_next=False)
        )
        rows = [MineRow(r) for r in found.items]
        if status == ResourceStatus.returned:
            for row in rows:  # few by nature: a department's returned resources awaiting correction
                decisions = service.review_decisions(session, actor, row.resource.id)
                row.comment = next((d.comment for d in decisions if d.decision == "returned"), "")
        query = urlencode({"provider_id": actor.department_id or "", "status": status.value})
        groups.append(MineGroup(status, title, rows, found.total or len(rows), f"/catalog?{query}"))
    return render(
        request, "catalog/mine.html", {"title": "本部门目录", "groups": groups, "department": department}, actor=actor
    )


@router.get("/reviews")
def reviews(request: Request, session: SessionDep, actor: Reviewer) -> Response:
    queue = service.review_queue(session, actor)
    names = repo.department_names(session, (r.provider_id for r in queue))
    rows = [{"resource": r, "provider_name": names.get(r.provider_id, "")} for r in queue]
    scope: list[str] = []
    if Role.bureau_reviewer in actor.roles:
        scope.append("市大数据局:市直部门")
    if actor.reviewer_region_ids:
        scope.extend(
            f"{r.name}" for r in identity_service.list_regions(session, actor) if r.id in actor.reviewer_region_ids
        )
    return render(
        request, "catalog/reviews.html", {"title": "目录审核", "rows": rows, "scope": "、".join(scope)}, actor=actor
    )


# ---------------------------------------------------------------------------------------------
# versions and differences (A16.1)


@router.get("/{resource_id:int}/versions")
def versions(request: Request, session: SessionDep, actor: Reader, resource_id: int) -> Response:
    resource = service.get_resource(session, actor, resource_id)
    found = service.list_versions(session, actor, resource_id)
    context = {"title": f"历史版本:{resource.name}", "r": resource, "versions": found}
    return render(request, "catalog/versions.html", context, actor=actor)


@router.get("/{resource_id:int}/diff")
def difference(
    request: Request, session: SessionDep, actor: Reader, resource_id: int, a: str = "", b: str = ""
) -> Response:
    result = catalog_diff.diff(session, actor, resource_id, catalog_diff.parse_ref(a), catalog_diff.parse_ref(b))
    resource = service.get_resource(session, actor, resource_id)
    context = {"title": f"版本比较:{resource.name}", "r": resource, "d": result}
    return render(request, "catalog/diff.html", context, actor=actor)


# ---------------------------------------------------------------------------------------------
# dashboard


@register_panels
def catalog_panels(session: Session, actor: Actor) -> list[Panel]:
    """Returned resources and drafts for a department's data administrator; the queue for reviewers."""
    panels: list[Panel] = []
    if actor.can(Permission.catalog_compile) and actor.department_id is not None:
        for status, title, tone in (
            (ResourceStatus.returned, "已退回待修改的资源", "late"),
            (ResourceStatus.draft, "待保密审查或报送的草稿", ""),
        ):
            found = service.list_resources(session, actor, provider_id=actor.department_id, status=status, page_size=5)
            count = found.total or 0
            if count:
                panels.append(
                    Panel(
                        title=title,
                        count=count,
                        link=f"/catalog/mine#status-{status.value}",
                        lines=[(f"{r.name}({r.code})", f"/catalog/{r.id}") for r in found.items],
                        tone=tone,
                    )
                )
    if actor.can(Permission.catalog_review):
        queue = service.review_queue(session, actor)
        panels.append(
            Panel(
                title="待我审核的目录",
                count=len(queue),
                link="/catalog/reviews",
                lines=[(f"{r.name}({r.code})", f"/catalog/{r.id}") for r in queue[:5]],
            )
        )
    return panels
