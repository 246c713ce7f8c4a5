"""The administrator's allow-list of provider networks: add, remove, list (audited)."""

from __future__ import annotations

import ipaddress

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.errors import Conflict, FieldError, NotFound, ValidationFailed
from govshare.exchange import gateway_repository as repo
from govshare.exchange.gateway_models import ProviderNetwork
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

OBJECT_TYPE = "provider_network"
MAX_DESCRIPTION = 200


def _snapshot(row: ProviderNetwork) -> dict[str, object]:
    return {"cidr": row.cidr, "description": row.description}


def _normalise(cidr: str) -> str:
    text = cidr.strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        message = "网段格式有误,应为 CIDR 形式,如 10.20.0.0/16"
        if "has host bits set" in str(exc):
            message = "网段的主机位不为零,请填写网络地址,如 10.20.0.0/16"
        raise ValidationFailed("提供方网络有误", errors=[FieldError("cidr", message)]) from exc
    if network.prefixlen == 0:
        raise ValidationFailed(
            "提供方网络有误", errors=[FieldError("cidr", "不能放行全部地址,请只登记提供方所在的网段")]
        )
    return str(network)


def list_networks(session: Session, actor: Actor) -> list[ProviderNetwork]:
    """The allow-list, for the bureau's system administrator."""
    actor.require(Permission.provider_network_manage)
    return list(session.execute(repo.readable(actor)).scalars())


def add_network(session: Session, actor: Actor, *, cidr: str, description: str = "") -> ProviderNetwork:
    """Allow upstream interfaces in one more network; a network already listed is a conflict."""
    actor.require(Permission.provider_network_manage)
    normalised = _normalise(cidr)
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            "提供方网络有误", errors=[FieldError("description", f"说明不能超过 {MAX_DESCRIPTION} 个字")]
        )
    if repo.by_cidr(session, normalised) is not None:
        raise Conflict(f"网段 {normalised} 已在白名单中", code="provider_network_exists")
    row = ProviderNetwork(
        cidr=normalised, description=description, added_by_id=actor.user_id, added_by_name=actor.username
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, Action.provider_network_added, object_type=OBJECT_TYPE, object_id=row.id, after=_snapshot(row)
    )
    return row


def remove_network(session: Session, actor: Actor, *, network_id: int) -> None:
    """Stop allowing a network; calls to upstreams in it are refused from the next call on."""
    actor.require(Permission.provider_network_manage)
    row = repo.get(session, network_id)
    if row is None:
        raise NotFound("白名单中没有该网段", code="provider_network_not_found")
    before = _snapshot(row)
    session.delete(row)
    session.flush()
    audit.record(
        session, actor, Action.provider_network_removed, object_type=OBJECT_TYPE, object_id=network_id, before=before
    )
