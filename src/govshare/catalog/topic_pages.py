"""Topic resources (主题, A12.2): the list and detail pages, with the bureau's and the lead's forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from govshare.catalog import topics
from govshare.deps import SessionDep, require
from govshare.errors import Conflict, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.forms import int_or_none
from govshare.web.templating import redirect, render

router = APIRouter(prefix="/catalog/topics", include_in_schema=False)

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Manager = Annotated[Actor, Depends(require(Permission.topic_manage))]
Compiler = Annotated[Actor, Depends(require(Permission.catalog_compile))]


def _list_page(
    request: Request, session: SessionDep, actor: Actor, *, form: dict[str, Any] | None = None, error: Any = None
) -> Response:
    context: dict[str, Any] = {
        "title": "主题资源",
        "rows": topics.list_topics(session, actor),
        "options": topics.form_options(session, actor),
        "form": form or {},
        "error": error,
    }
    return render(request, "catalog/topics/list.html", context, actor=actor, status_code=422 if error else 200)


def _detail_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    topic_id: int,
    *,
    error: Any = None,
    form: dict[str, Any] | None = None,
    which: str = "",
) -> Response:
    view = topics.get_topic(session, actor, topic_id)
    context: dict[str, Any] = {
        "title": f"主题:{view.topic.name}",
        "view": view,
        "options": topics.form_options(session, actor),
        "is_lead_admin": topics.is_lead_admin(actor, view.topic),
        "error": error,
        "which": which,
        "form": form or {},
    }
    return render(request, "catalog/topics/detail.html", context, actor=actor, status_code=422 if error else 200)


@router.get("")
def topic_list(request: Request, session: SessionDep, actor: Reader) -> Response:
    return _list_page(request, session, actor)


@router.post("")
def topic_create(
    request: Request,
    session: SessionDep,
    actor: Manager,
    name: Annotated[str, Form()] = "",
    lead_department_id: Annotated[str, Form()] = "",
    contributor_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    classification_id: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    lead_id = int_or_none(lead_department_id)
    class_id = int_or_none(classification_id)
    form = {
        "name": name,
        "lead_department_id": lead_id,
        "contributor_ids": contributor_ids,
        "classification_id": class_id,
        "description": description,
    }
    try:
        view = topics.create_topic(
            session,
            actor,
            name=name,
            lead_department_id=lead_id or 0,
            contributor_ids=contributor_ids,
            classification_id=class_id,
            description=description,
        )
    except (ValidationFailed, Conflict) as exc:
        return _list_page(request, session, actor, form=form, error=exc)
    return redirect(f"/catalog/topics/{view.topic.id}", f"已创建主题“{view.topic.name}”")


@router.get("/{topic_id}")
def topic_detail(topic_id: int, request: Request, session: SessionDep, actor: Reader) -> Response:
    return _detail_page(request, session, actor, topic_id)


@router.post("/{topic_id}")
def topic_update(
    topic_id: int,
    request: Request,
    session: SessionDep,
    actor: Manager,
    name: Annotated[str, Form()] = "",
    lead_department_id: Annotated[str, Form()] = "",
    contributor_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    classification_id: Annotated[str, Form()] = "",
    expected_version: Annotated[str, Form()] = "",
) -> Response:
    try:
        topics.update_topic(
            session,
            actor,
            topic_id,
            name=name,
            lead_department_id=int_or_none(lead_department_id) or 0,
            contributor_ids=contributor_ids,
            classification_id=int_or_none(classification_id),
            expected_version=int_or_none(expected_version),
        )
    except (ValidationFailed, Conflict) as exc:
        return _detail_page(request, session, actor, topic_id, error=exc, which="manage")
    return redirect(f"/catalog/topics/{topic_id}", "主题已更新")


@router.post("/{topic_id}/description")
def topic_description(
    topic_id: int,
    request: Request,
    session: SessionDep,
    actor: Compiler,
    description: Annotated[str, Form()] = "",
    expected_version: Annotated[str, Form()] = "",
) -> Response:
    try:
        topics.update_topic_description(
            session, actor, topic_id, description=description, expected_version=int_or_none(expected_version)
        )
    except (ValidationFailed, Conflict) as exc:
        return _detail_page(
            request, session, actor, topic_id, error=exc, which="description", form={"description": description}
        )
    return redirect(f"/catalog/topics/{topic_id}", "主题说明已保存")
