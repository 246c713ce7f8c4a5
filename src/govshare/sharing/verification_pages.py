"""Verification pages (A22.1): a resource's verification setting (the provider's form) and the
check form for people of consumer departments. The result page shows match / no match only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.errors import Conflict, ValidationFailed
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import verification
from govshare.web.forms import int_or_none
from govshare.web.templating import redirect, render

router = APIRouter(prefix="/sharing/verification", include_in_schema=False)

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
DataReader = Annotated[Actor, Depends(require(Permission.shared_data_read))]
Provider = Annotated[Actor, Depends(require(Permission.sharing_decide))]


def _page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    resource_id: int,
    *,
    error: Any = None,
    result: str = "",
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    view = verification.get_setting(session, actor, resource_id)
    context: dict[str, Any] = {
        "title": f"数据核验:{view.resource.name}",
        "view": view,
        "may_configure": verification.may_configure(actor, view.resource),
        "may_check": actor.can(Permission.shared_data_read) and view.enabled,
        "error": error,
        "result": result,
        "form": form or {},
    }
    return render(request, "sharing/verification.html", context, actor=actor, status_code=status_code)


@router.get("/{resource_id}")
def verification_page(resource_id: int, request: Request, session: SessionDep, actor: Reader) -> Response:
    return _page(request, session, actor, resource_id)


@router.post("/{resource_id}/setting")
def verification_setting(
    resource_id: int,
    request: Request,
    session: SessionDep,
    actor: Provider,
    enabled: Annotated[str, Form()] = "",
    data_item_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    expected_version: Annotated[str, Form()] = "",
) -> Response:
    try:
        setting = verification.update_setting(
            session,
            actor,
            resource_id,
            enabled=enabled == "on",
            data_item_ids=data_item_ids,
            expected_version=int_or_none(expected_version),
        )
    except (ValidationFailed, Conflict) as exc:
        return _page(request, session, actor, resource_id, error=exc, status_code=422)
    message = "已开放数据核验" if setting.enabled else "已关闭数据核验"
    return redirect(f"/sharing/verification/{resource_id}", message)


@router.post("/{resource_id}/check")
def verification_check(
    resource_id: int,
    request: Request,
    session: SessionDep,
    actor: DataReader,
    grant_id: Annotated[str, Form()] = "",
    item_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    values: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
) -> Response:
    match = {verification.item_key(i): v for i, v in zip(item_ids, values, strict=False) if v.strip()}
    form = {"grant_id": grant_id}  # the values typed are not echoed back: they may be personal data
    try:
        found = verification.verify(
            session, actor, match=match, resource_id=resource_id, grant_id=int_or_none(grant_id)
        )
    except (ValidationFailed, Conflict) as exc:
        return _page(request, session, actor, resource_id, error=exc, form=form, status_code=422)
    return _page(request, session, actor, resource_id, result=found.result, form=form)
