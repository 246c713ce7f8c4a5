"""Verification JSON routes (A22.1): the consumer systems' check, the people's check, and the
provider's setting."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from govshare.deps import SessionDep, require
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.sharing import verification
from govshare.sharing.consumer_auth import ConsumerDep

router = APIRouter(tags=["数据核验"])

Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
DataReader = Annotated[Actor, Depends(require(Permission.shared_data_read))]
Provider = Annotated[Actor, Depends(require(Permission.sharing_decide))]

MatchValue = str | int | float | bool


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant_id: int | None = Field(None, description="授权号;有条件共享的信息资源必填")
    match: dict[str, MatchValue] = Field(
        description="要核验的信息项及其值,键为 i<信息项ID>,须恰好是提供部门开放核验的信息项",
        examples=[{"i101": "620102199001011234", "i102": "张三"}],
    )


class VerifyOut(BaseModel):
    result: Literal["match", "no_match"] = Field(description="match:存在一条记录同时符合所有值;no_match:不存在")


class SettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    data_item_ids: list[int] = Field(default_factory=list, description="允许核验的信息项")
    expected_version: int | None = None


class ItemRead(BaseModel):
    id: int
    key: str
    name: str
    sensitivity: str


class SettingRead(BaseModel):
    resource_id: int
    resource_code: str
    enabled: bool
    items: list[ItemRead] = Field(description="核验时须提供的信息项")
    version: int | None
    updated_at: dt.datetime | None


def _setting_read(view: verification.SettingView) -> SettingRead:
    return SettingRead(
        resource_id=view.resource.id,
        resource_code=view.resource.code,
        enabled=view.enabled,
        items=[
            ItemRead(id=i.id, key=verification.item_key(i.id), name=i.name, sensitivity=i.sensitivity)
            for i in view.chosen_items
        ],
        version=view.setting.version if view.setting else None,
        updated_at=view.setting.updated_at if view.setting else None,
    )


@router.post(
    "/consumer/resources/{code:path}/verify", response_model=VerifyOut, summary="应用系统核验数据(只返回是否一致)"
)
def consumer_verify(code: str, body: VerifyIn, session: SessionDep, caller: ConsumerDep) -> VerifyOut:
    found = verification.verify(
        session,
        caller.actor,
        match=body.match,
        resource_code=code,
        grant_id=body.grant_id,
        system_id=caller.system_id,
    )
    return VerifyOut(result=found.result)


@router.post(
    "/sharing/resources/{resource_id}/verify", response_model=VerifyOut, summary="工作人员核验数据(只返回是否一致)"
)
def person_verify(resource_id: int, body: VerifyIn, session: SessionDep, actor: DataReader) -> VerifyOut:
    found = verification.verify(session, actor, match=body.match, resource_id=resource_id, grant_id=body.grant_id)
    return VerifyOut(result=found.result)


@router.get("/sharing/resources/{resource_id}/verification", response_model=SettingRead, summary="信息资源的核验设置")
def get_setting(resource_id: int, session: SessionDep, actor: Reader) -> SettingRead:
    return _setting_read(verification.get_setting(session, actor, resource_id))


@router.put(
    "/sharing/resources/{resource_id}/verification",
    response_model=SettingRead,
    summary="设置信息资源是否开放核验及核验信息项(提供部门)",
)
def put_setting(resource_id: int, body: SettingIn, session: SessionDep, actor: Provider) -> SettingRead:
    verification.update_setting(
        session,
        actor,
        resource_id,
        enabled=body.enabled,
        data_item_ids=body.data_item_ids,
        expected_version=body.expected_version,
    )
    return _setting_read(verification.get_setting(session, actor, resource_id))
