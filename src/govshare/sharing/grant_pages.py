"""Grant pages (A26.2): the consumer's, the provider's and the authority's lists, the detail with
its 信息项, systems and history, and the suspend / resume / revoke / end form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.errors import DomainError
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import grant_views as service
from govshare.sharing.enums import GrantStatus
from govshare.sharing.grant_views import GrantScope
from govshare.sharing.grants import MOVE_LABELS
from govshare.web.forms import FormFields, attempt, int_or_none
from govshare.web.templating import redirect, render, render_form

router = APIRouter(prefix="/sharing/grants", include_in_schema=False)

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Manager = Annotated[Actor, Depends(require(Permission.grant_manage))]


@router.get("")
def grant_list(request: Request, session: SessionDep, actor: Reader, scope: str = "", status: str = "") -> Response:
    tabs: list[tuple[GrantScope, str]] = []
    if actor.department_id is not None:
        tabs += [(GrantScope.consumer, "本部门使用的授权"), (GrantScope.provider, "本部门提供的授权")]
    tabs.append((GrantScope.all, "全部可见"))
    default = GrantScope.all if actor.can(Permission.sharing_oversee) else tabs[0][0]
    chosen = GrantScope(scope) if scope in {t[0].value for t in tabs} else default
    wanted = GrantStatus(status) if status in GrantStatus.__members__ else None
    context = {
        "title": "授权",
        "rows": service.list_grants(session, actor, scope=chosen, status=wanted),
        "tabs": tabs,
        "scope": chosen,
        "status": wanted,
        "statuses": list(GrantStatus),
    }
    return render(request, "sharing/grants/list.html", context, actor=actor)


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    grant_id: int,
    *,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    view = service.get_grant(session, actor, grant_id)
    context = {"title": f"授权 #{view.grant.id}", "view": view}
    return render_form(request, "sharing/grants/detail.html", context, actor=actor, error=error, form=form)


@router.get("/{grant_id:int}")
def grant_detail(request: Request, session: SessionDep, actor: Reader, grant_id: int) -> Response:
    return _detail_page(request, session, actor, grant_id)


@router.post("/{grant_id:int}/status")
def grant_move(request: Request, session: SessionDep, actor: Manager, grant_id: int, form: FormFields) -> Response:
    move = form.get("move", "")
    try:
        with attempt(session):
            service.change_grant_status(
                session,
                actor,
                grant_id,
                move,
                reason=form.get("reason", ""),
                expected_version=int_or_none(form.get("expected_version")),
            )
    except DomainError as exc:
        return _detail_page(request, session, actor, grant_id, error=exc, form=dict(form))
    return redirect(f"/sharing/grants/{grant_id}", f"授权已{MOVE_LABELS.get(move, move)}")
