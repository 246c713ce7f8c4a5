"""JSON routes of consumer systems (应用系统): register, list, change, rotate the secret, disable, enable.

The secret appears in exactly two responses — registration and rotation — and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi import status as http_status
from pydantic import BaseModel, ConfigDict, Field

from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import systems as service
from govshare.sharing.enums import SystemStatus

router = APIRouter(prefix="/sharing/systems", tags=["应用系统"])
Manager = Annotated[Actor, Depends(require(Permission.consumer_system_manage))]


class ConsumerSystemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    rate_limit_per_minute: int = Field(600, ge=1, le=service.MAX_RATE_LIMIT)


class ConsumerSystemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    department_id: int
    name: str
    description: str
    app_key: str
    secret_hint: str
    status: str
    rate_limit_per_minute: int
    created_at: dt.datetime
    secret_rotated_at: dt.datetime
    version: int


class ConsumerSystemCredentials(ConsumerSystemRead):
    """Registration and rotation only: the secret, shown this once."""

    secret: str


@router.get("", response_model=list[ConsumerSystemRead], summary="本部门应用系统")
def list_systems(session: SessionDep, actor: Manager) -> list[ConsumerSystemRead]:
    return [ConsumerSystemRead.model_validate(s) for s in service.list_systems(session, actor)]


@router.post(
    "",
    response_model=ConsumerSystemCredentials,
    status_code=http_status.HTTP_201_CREATED,
    summary="登记应用系统(密钥仅显示一次)",
)
def register(body: ConsumerSystemIn, session: SessionDep, actor: Manager) -> ConsumerSystemCredentials:
    system, secret = service.register_system(
        session, actor, name=body.name, description=body.description, rate_limit_per_minute=body.rate_limit_per_minute
    )
    return ConsumerSystemCredentials.model_validate(
        ConsumerSystemRead.model_validate(system).model_dump() | {"secret": secret}
    )


@router.get("/{system_id}", response_model=ConsumerSystemRead, summary="应用系统详情")
def get_system(system_id: int, session: SessionDep, actor: Manager) -> ConsumerSystemRead:
    return ConsumerSystemRead.model_validate(service.get_system(session, actor, system_id))


@router.put("/{system_id}", response_model=ConsumerSystemRead, summary="修改应用系统")
def update(system_id: int, body: ConsumerSystemIn, session: SessionDep, actor: Manager) -> ConsumerSystemRead:
    system = service.update_system(
        session,
        actor,
        system_id,
        name=body.name,
        description=body.description,
        rate_limit_per_minute=body.rate_limit_per_minute,
    )
    return ConsumerSystemRead.model_validate(system)


@router.post("/{system_id}/rotate-secret", response_model=ConsumerSystemCredentials, summary="更换密钥(仅显示一次)")
def rotate(system_id: int, session: SessionDep, actor: Manager) -> ConsumerSystemCredentials:
    system, secret = service.rotate_secret(session, actor, system_id)
    return ConsumerSystemCredentials.model_validate(
        ConsumerSystemRead.model_validate(system).model_dump() | {"secret": secret}
    )


@router.post("/{system_id}/disable", response_model=ConsumerSystemRead, summary="停用应用系统")
def disable(system_id: int, session: SessionDep, actor: Manager) -> ConsumerSystemRead:
    return ConsumerSystemRead.model_validate(service.set_status(session, actor, system_id, SystemStatus.disabled))


@router.post("/{system_id}/enable", response_model=ConsumerSystemRead, summary="启用应用系统")
def enable(system_id: int, session: SessionDep, actor: Manager) -> ConsumerSystemRead:
    return ConsumerSystemRead.model_validate(service.set_status(session, actor, system_id, SystemStatus.active))
