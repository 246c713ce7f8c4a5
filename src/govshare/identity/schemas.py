"""Identity input and output shapes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class MeRead(BaseModel):
    id: int
    username: str
    display_name: str
    department_id: int
    roles: list[str]
    reviewer_region_ids: list[int]


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1)
    new_password: str = Field(min_length=1)


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    days: int | None = Field(90, ge=1, le=366)


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="只显示这一次,请妥善保存")
