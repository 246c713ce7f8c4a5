"""Every query of the gateway's allow-list. The list is the bureau's own: ``readable`` filters nothing."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from govshare.exchange.gateway_models import ProviderNetwork
from govshare.identity.actor import Actor


def readable(actor: Actor) -> Select[ProviderNetwork]:
    """Whoever holds ``exchange:provider_network_manage`` sees every row; the permission is the whole rule."""
    return select(ProviderNetwork).order_by(ProviderNetwork.cidr)


def all_cidrs(session: Session) -> list[str]:
    return list(session.execute(select(ProviderNetwork.cidr)).scalars())


def by_cidr(session: Session, cidr: str) -> ProviderNetwork | None:
    return session.execute(select(ProviderNetwork).where(ProviderNetwork.cidr == cidr)).scalar_one_or_none()


def get(session: Session, network_id: int) -> ProviderNetwork | None:
    return session.get(ProviderNetwork, network_id)
