"""JSON routes of the gateway's allow-list of provider networks (the bureau's system administrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from govshare.deps import SessionDep, require
from govshare.exchange import gateway_networks as service
from govshare.exchange.gateway_schemas import ProviderNetworkCreate, ProviderNetworkRead
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

router = APIRouter(prefix="/exchange/provider-networks", tags=["接口网关"])
Manager = Annotated[Actor, Depends(require(Permission.provider_network_manage))]


@router.get("", response_model=list[ProviderNetworkRead], summary="提供方网络白名单")
def list_networks(session: SessionDep, actor: Manager) -> list[ProviderNetworkRead]:
    return [ProviderNetworkRead.model_validate(r) for r in service.list_networks(session, actor)]


@router.post("", response_model=ProviderNetworkRead, status_code=status.HTTP_201_CREATED, summary="登记提供方网络")
def add_network(body: ProviderNetworkCreate, session: SessionDep, actor: Manager) -> ProviderNetworkRead:
    row = service.add_network(session, actor, cidr=body.cidr, description=body.description)
    return ProviderNetworkRead.model_validate(row)


@router.delete("/{network_id}", status_code=status.HTTP_204_NO_CONTENT, summary="移出提供方网络")
def remove_network(network_id: int, session: SessionDep, actor: Manager) -> None:
    service.remove_network(session, actor, network_id=network_id)
