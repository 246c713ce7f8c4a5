"""Grants (A26.2): JSON routes under /api/v1/sharing/grants — list, detail with history, and the
suspend / resume / revoke / end moves, each with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import grant_views as service
from govshare.sharing.enums import GrantStatus
from govshare.sharing.grant_views import GrantScope
from govshare.sharing.schemas import GrantDetail, GrantHistoryRead, GrantItemRead, GrantMoveIn, GrantRead
from govshare.web.api_helpers import read_model

router = APIRouter(prefix="/sharing/grants", tags=["授权"])

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Manager = Annotated[Actor, Depends(require(Permission.grant_manage))]


def _read(row: service.GrantRow) -> GrantRead:
    return read_model(
        GrantRead,
        row.grant,
        resource_code=row.resource.code,
        resource_name=row.resource.name,
        provider_name=row.provider.name,
        consumer_department_name=row.consumer.name,
    )


def _detail(session: Session, actor: Actor, grant_id: int) -> GrantDetail:
    view = service.get_grant(session, actor, grant_id)
    return GrantDetail(
        **_read(view).model_dump(),
        items=[GrantItemRead(data_item_id=i.id, name=i.name, sensitivity=i.sensitivity) for i in view.items],
        system_ids=[s.id for s in view.systems],
        history=[
            GrantHistoryRead(
                at=h.record.at, action=h.record.action, actor_name=h.record.actor_name, reason=h.reason, status=h.status
            )
            for h in view.history
        ],
    )


@router.get("", response_model=list[GrantRead], summary="授权列表")
def list_grants(
    session: SessionDep,
    actor: Reader,
    scope: Annotated[
        GrantScope, Query(description="consumer 本部门使用的 / provider 本部门提供的 / all 可见的全部")
    ] = GrantScope.all,
    status: GrantStatus | None = None,
    resource_id: int | None = None,
) -> list[GrantRead]:
    return [_read(r) for r in service.list_grants(session, actor, scope=scope, status=status, resource_id=resource_id)]


@router.get("/{grant_id:int}", response_model=GrantDetail, summary="授权详情(含变更历史)")
def get_grant(grant_id: int, session: SessionDep, actor: Reader) -> GrantDetail:
    return _detail(session, actor, grant_id)


@router.post("/{grant_id:int}/status", response_model=GrantDetail, summary="暂停、恢复、撤销或终止授权(须填写原因)")
def change_status(grant_id: int, body: GrantMoveIn, session: SessionDep, actor: Manager) -> GrantDetail:
    service.change_grant_status(
        session, actor, grant_id, body.move, reason=body.reason, expected_version=body.expected_version
    )
    return _detail(session, actor, grant_id)
