"""Identity input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govshare.identity.permissions import Role


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


# --- administration -------------------------------------------------------------------------------


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    authority_name: str
    authority_office: str
    authority_contact: str
    authority_phone: str


class RegionUpdate(BaseModel):
    authority_name: str = Field(min_length=1, max_length=128)
    authority_office: str = Field("", max_length=128)
    authority_contact: str = Field("", max_length=64)
    authority_phone: str = Field("", max_length=32)


class OfficeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    department_id: int
    name: str


class OfficeWrite(BaseModel):
    name: str = Field(min_length=1, max_length=128)


class SharingContacts(BaseModel):
    """A6.1: the office and people responsible for data sharing in a department."""

    sharing_office: str = Field(max_length=128)
    sharing_leader: str = Field("", max_length=64)
    sharing_contact: str = Field("", max_length=64)
    sharing_phone: str = Field("", max_length=32)


class DepartmentCreate(SharingContacts):
    name: str = Field(min_length=1, max_length=128)
    uscc: str = Field(min_length=1, max_length=18, description="统一社会信用代码")
    region_id: int
    short_name: str = Field("", max_length=32)
    sharing_office: str = Field("", max_length=128)


class DepartmentUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    uscc: str = Field(min_length=1, max_length=18)
    region_id: int
    short_name: str = Field("", max_length=32)
    version: int | None = Field(None, description="读取时的版本号;不一致时返回 409")


class SharingContactsUpdate(SharingContacts):
    version: int | None = None


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    short_name: str
    uscc: str
    region_id: int
    is_bureau: bool
    is_active: bool
    sharing_office: str
    sharing_leader: str
    sharing_contact: str
    sharing_phone: str
    version: int


class DepartmentDetail(DepartmentRead):
    region: RegionRead
    offices: list[OfficeRead]


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class RoleGrant(BaseModel):
    role: Role
    region_id: int | None = Field(None, description="县区审核员所辖区域")


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=64)
    department_id: int
    phone: str = Field("", max_length=32)
    password: str = Field(min_length=1, max_length=128, description="初始密码;首次登录须修改")
    roles: list[RoleGrant] = Field(default_factory=list)


class UserUpdate(BaseModel):
    display_name: str = Field(min_length=1, max_length=64)
    phone: str = Field("", max_length=32)
    department_id: int | None = None
    version: int | None = None


class RolesUpdate(BaseModel):
    roles: list[RoleGrant]
    version: int | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    department_id: int
    phone: str
    is_active: bool
    must_change_password: bool
    totp_enabled: bool
    locked_until: dt.datetime | None
    failed_logins: int
    created_at: dt.datetime
    password_changed_at: dt.datetime
    version: int
    roles: list[RoleGrant]

    @field_validator("roles", mode="before")
    @classmethod
    def _assignments(cls, value: Any) -> Any:
        return [
            {"role": getattr(a, "role", None), "region_id": getattr(a, "region_id", None)}
            if not isinstance(a, dict)
            else a
            for a in value
        ]


class UserPageRead(BaseModel):
    items: list[UserRead]
    page: int
    page_size: int
    total: int
    has_next: bool


class TemporaryPassword(BaseModel):
    user_id: int
    temporary_password: str = Field(description="只显示这一次;该账号下次登录须修改密码")


class LoginAlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    at: dt.datetime
    kind: str
    detail: dict[str, Any]
    acknowledged_at: dt.datetime | None


class LoginAlertWithUser(LoginAlertRead):
    username: str
    display_name: str


class AlertAcknowledge(BaseModel):
    note: str = Field("", max_length=500)


# --- the data administrator register (A34.1) ------------------------------------------------------


class DataAdminWrite(BaseModel):
    user_id: int | None = Field(None, description="关联的平台账号(可选,须为本部门账号)")
    name: str = Field("", max_length=64, description="姓名;关联账号时可留空")
    office: str = Field("", max_length=128)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=128)
    start_date: dt.date | None = Field(None, description="起始日期,默认今天")


class DataAdminReplace(DataAdminWrite):
    reason: str = Field(min_length=1, max_length=500, description="人员变动原因")


class DataAdminEnd(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    end_date: dt.date | None = None


class DataAdminRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    department_id: int
    user_id: int | None
    name: str
    office: str
    phone: str
    email: str
    start_date: dt.date
    end_date: dt.date | None
    change_reason: str
    registered_by_id: int | None
    registered_at: dt.datetime


class DepartmentRegisterRead(BaseModel):
    department: DepartmentRead
    current: list[DataAdminRead]
    history: list[DataAdminRead]


class RegisterRowRead(BaseModel):
    department: DepartmentRead
    current: list[DataAdminRead]


class RegisterOverviewRead(BaseModel):
    rows: list[RegisterRowRead]
    lacking: list[DepartmentRead]
