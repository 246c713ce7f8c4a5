"""Identity JSON routes: the signed-in person, their password and personal API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from govshare.deps import SessionDep, require
from govshare.identity import auth
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.identity.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenRead, MeRead, PasswordChange

router = APIRouter(tags=["身份与账号"])
Me = Annotated[Actor, Depends(require(Permission.own_account))]


@router.get("/me", response_model=MeRead, summary="当前账号")
def me(actor: Me) -> MeRead:
    return MeRead(
        id=actor.user_id or 0,
        username=actor.username,
        display_name=actor.display_name,
        department_id=actor.department_id or 0,
        roles=[r.value for r in actor.roles],
        reviewer_region_ids=sorted(actor.reviewer_region_ids),
    )


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT, summary="修改密码")
def change_password(body: PasswordChange, session: SessionDep, actor: Me) -> None:
    auth.change_password(session, actor, current=body.current_password, new=body.new_password)


@router.post("/me/tokens", response_model=ApiTokenCreated, status_code=201, summary="创建个人 API 令牌")
def create_token(body: ApiTokenCreate, session: SessionDep, actor: Me) -> ApiTokenCreated:
    token, value = auth.create_api_token(session, actor, name=body.name, days=body.days)
    return ApiTokenCreated(**ApiTokenRead.model_validate(token).model_dump(), token=value)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="撤销个人 API 令牌")
def revoke_token(token_id: int, session: SessionDep, actor: Me) -> None:
    auth.revoke_api_token(session, actor, token_id)
