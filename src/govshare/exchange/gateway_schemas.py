"""The allow-list of provider networks, in and out."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class ProviderNetworkCreate(BaseModel):
    cidr: str = Field(max_length=64, description="网段(CIDR),如 10.20.0.0/16 或 2001:db8::/32")
    description: str = Field("", max_length=200, description="说明,如所属单位与网络")


class ProviderNetworkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    cidr: str
    description: str
    added_by_name: str
    added_at: dt.datetime
