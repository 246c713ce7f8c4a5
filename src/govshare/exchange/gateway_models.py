"""The gateway's allow-list: the provider networks an upstream interface may live in.

Government networks are private, so "no private addresses" would refuse every real provider;
the rule is "only listed networks", kept by the bureau's system administrator.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from govshare.db import Base
from govshare.kit.clock import now


class ProviderNetwork(Base):
    """One allowed network in CIDR form (``10.20.0.0/16``, ``2001:db8::/32``)."""

    __tablename__ = "provider_network"

    id: Mapped[int] = mapped_column(primary_key=True)
    cidr: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    added_by_name: Mapped[str] = mapped_column(String(64), default="")
    added_at: Mapped[dt.datetime] = mapped_column(default=now)
