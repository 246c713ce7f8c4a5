"""Identity JSON routes: the signed-in person (password, personal API tokens, alerts); regions,
departments, offices and people for the bureau; the data administrator register."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from govshare.deps import SessionDep, require
from govshare.identity import auth, register, service
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission, Role
from govshare.identity.schemas import (
    AlertAcknowledge,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    DataAdminEnd,
    DataAdminRead,
    DataAdminReplace,
    DataAdminWrite,
    DepartmentCreate,
    DepartmentDetail,
    DepartmentRead,
    DepartmentRegisterRead,
    DepartmentUpdate,
    LoginAlertRead,
    LoginAlertWithUser,
    MeRead,
    OfficeRead,
    OfficeWrite,
    PasswordChange,
    Reason,
    RegionRead,
    RegionUpdate,
    RegisterOverviewRead,
    RoleGrant,
    RolesUpdate,
    SharingContactsUpdate,
    TemporaryPassword,
    UserCreate,
    UserPageRead,
    UserRead,
    UserUpdate,
)

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


@router.get("/me/tokens", response_model=list[ApiTokenRead], summary="我的个人 API 令牌")
def list_tokens(session: SessionDep, actor: Me) -> list[ApiTokenRead]:
    overview = service.account_overview(session, actor)
    return [ApiTokenRead.model_validate(t) for t in overview.tokens]


@router.get("/me/alerts", response_model=list[LoginAlertRead], summary="我的账号异地同时使用告警")
def my_alerts(session: SessionDep, actor: Me) -> list[LoginAlertRead]:
    return [LoginAlertRead.model_validate(a) for a in service.my_login_alerts(session, actor)]


# --- administration -------------------------------------------------------------------------------

Reader = Annotated[Actor, Depends(require(Permission.identity_read))]
Manager = Annotated[Actor, Depends(require(Permission.identity_manage))]
ContactsEditor = Annotated[Actor, Depends(require(Permission.department_contacts_edit))]
Registrar = Annotated[Actor, Depends(require(Permission.data_admin_register))]


def _roles(grants: list[RoleGrant]) -> list[tuple[Role, int | None]]:
    return [(g.role, g.region_id) for g in grants]


@router.get("/identity/regions", response_model=list[RegionRead], summary="区域及其共享主管机构")
def list_regions(session: SessionDep, actor: Reader) -> list[RegionRead]:
    return [RegionRead.model_validate(r) for r in service.list_regions(session, actor)]


@router.put("/identity/regions/{region_id}", response_model=RegionRead, summary="修改区域共享主管机构信息")
def update_region(region_id: int, body: RegionUpdate, session: SessionDep, actor: Manager) -> RegionRead:
    region = service.update_region(session, actor, region_id, **body.model_dump())
    return RegionRead.model_validate(region)


@router.get("/identity/departments", response_model=list[DepartmentRead], summary="部门名录")
def list_departments(
    session: SessionDep, actor: Reader, region_id: int | None = None, q: str = "", include_inactive: bool = True
) -> list[DepartmentRead]:
    found = service.list_departments(session, actor, region_id=region_id, q=q, include_inactive=include_inactive)
    return [DepartmentRead.model_validate(d) for d in found]


@router.post("/identity/departments", response_model=DepartmentRead, status_code=201, summary="新增部门")
def create_department(body: DepartmentCreate, session: SessionDep, actor: Manager) -> DepartmentRead:
    return DepartmentRead.model_validate(service.create_department(session, actor, **body.model_dump()))


@router.get("/identity/departments/{department_id}", response_model=DepartmentDetail, summary="部门详情")
def get_department(department_id: int, session: SessionDep, actor: Reader) -> DepartmentDetail:
    return DepartmentDetail.model_validate(service.get_department(session, actor, department_id))


@router.put("/identity/departments/{department_id}", response_model=DepartmentRead, summary="修改部门")
def update_department(
    department_id: int, body: DepartmentUpdate, session: SessionDep, actor: Manager
) -> DepartmentRead:
    return DepartmentRead.model_validate(service.update_department(session, actor, department_id, **body.model_dump()))


@router.put(
    "/identity/departments/{department_id}/sharing-contacts",
    response_model=DepartmentRead,
    summary="修改部门共享工作责任科室与联系人",
)
def update_sharing_contacts(
    department_id: int, body: SharingContactsUpdate, session: SessionDep, actor: ContactsEditor
) -> DepartmentRead:
    dept = service.update_sharing_contacts(session, actor, department_id, **body.model_dump())
    return DepartmentRead.model_validate(dept)


@router.post("/identity/departments/{department_id}/deactivate", response_model=DepartmentRead, summary="停用部门")
def deactivate_department(department_id: int, body: Reason, session: SessionDep, actor: Manager) -> DepartmentRead:
    return DepartmentRead.model_validate(
        service.deactivate_department(session, actor, department_id, reason=body.reason)
    )


@router.post("/identity/departments/{department_id}/reactivate", response_model=DepartmentRead, summary="重新启用部门")
def reactivate_department(department_id: int, session: SessionDep, actor: Manager) -> DepartmentRead:
    return DepartmentRead.model_validate(service.reactivate_department(session, actor, department_id))


@router.post(
    "/identity/departments/{department_id}/offices", response_model=OfficeRead, status_code=201, summary="新增处室"
)
def add_office(department_id: int, body: OfficeWrite, session: SessionDep, actor: Manager) -> OfficeRead:
    return OfficeRead.model_validate(service.add_office(session, actor, department_id, body.name))


@router.put("/identity/offices/{office_id}", response_model=OfficeRead, summary="修改处室名称")
def rename_office(office_id: int, body: OfficeWrite, session: SessionDep, actor: Manager) -> OfficeRead:
    return OfficeRead.model_validate(service.rename_office(session, actor, office_id, body.name))


@router.delete("/identity/offices/{office_id}", status_code=status.HTTP_204_NO_CONTENT, summary="删除处室")
def remove_office(office_id: int, session: SessionDep, actor: Manager) -> None:
    service.remove_office(session, actor, office_id)


@router.get("/identity/users", response_model=UserPageRead, summary="账号列表")
def list_users(
    session: SessionDep,
    actor: Reader,
    department_id: int | None = None,
    role: Role | None = None,
    q: str = "",
    active: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UserPageRead:
    found = service.list_users(
        session, actor, department_id=department_id, role=role, q=q, active=active, page=page, page_size=page_size
    )
    return UserPageRead(
        items=[UserRead.model_validate(u) for u in found.items],
        page=found.page,
        page_size=found.page_size,
        total=found.total,
        has_next=found.has_next,
    )


@router.post("/identity/users", response_model=UserRead, status_code=201, summary="开设账号")
def create_user(body: UserCreate, session: SessionDep, actor: Manager) -> UserRead:
    user = service.create_user(
        session,
        actor,
        username=body.username,
        display_name=body.display_name,
        department_id=body.department_id,
        password=body.password,
        roles=_roles(body.roles),
        phone=body.phone,
    )
    return UserRead.model_validate(user)


@router.get("/identity/users/{user_id}", response_model=UserRead, summary="账号详情")
def get_user(user_id: int, session: SessionDep, actor: Reader) -> UserRead:
    return UserRead.model_validate(service.get_user(session, actor, user_id))


@router.put("/identity/users/{user_id}", response_model=UserRead, summary="修改账号信息")
def update_user(user_id: int, body: UserUpdate, session: SessionDep, actor: Manager) -> UserRead:
    return UserRead.model_validate(service.update_user(session, actor, user_id, **body.model_dump()))


@router.put("/identity/users/{user_id}/roles", response_model=UserRead, summary="修改账号角色")
def set_roles(user_id: int, body: RolesUpdate, session: SessionDep, actor: Manager) -> UserRead:
    return UserRead.model_validate(service.set_roles(session, actor, user_id, _roles(body.roles), version=body.version))


@router.post("/identity/users/{user_id}/disable", response_model=UserRead, summary="停用账号(立即结束其全部会话)")
def disable_user(user_id: int, body: Reason, session: SessionDep, actor: Manager) -> UserRead:
    return UserRead.model_validate(service.disable_user(session, actor, user_id, reason=body.reason))


@router.post("/identity/users/{user_id}/enable", response_model=UserRead, summary="启用账号")
def enable_user(user_id: int, session: SessionDep, actor: Manager) -> UserRead:
    return UserRead.model_validate(service.enable_user(session, actor, user_id))


@router.post("/identity/users/{user_id}/unlock", response_model=UserRead, summary="解除登录锁定")
def unlock_user(user_id: int, session: SessionDep, actor: Manager) -> UserRead:
    return UserRead.model_validate(service.unlock_user(session, actor, user_id))


@router.post("/identity/users/{user_id}/reset-password", response_model=TemporaryPassword, summary="重置密码")
def reset_password(user_id: int, session: SessionDep, actor: Manager) -> TemporaryPassword:
    return TemporaryPassword(user_id=user_id, temporary_password=service.reset_password(session, actor, user_id))


@router.post("/identity/users/{user_id}/reset-mfa", response_model=UserRead, summary="重置动态口令绑定")
def reset_mfa(user_id: int, session: SessionDep, actor: Manager) -> UserRead:
    return UserRead.model_validate(service.reset_mfa(session, actor, user_id))


@router.get("/identity/alerts", response_model=list[LoginAlertWithUser], summary="账号异地同时使用告警")
def list_alerts(session: SessionDep, actor: Manager, unacknowledged: bool = False) -> list[LoginAlertWithUser]:
    rows = service.list_login_alerts(session, actor, unacknowledged_only=unacknowledged)
    return [
        LoginAlertWithUser(
            **LoginAlertRead.model_validate(r.alert).model_dump(),
            username=r.user.username,
            display_name=r.user.display_name,
        )
        for r in rows
    ]


@router.post("/identity/alerts/{alert_id}/acknowledge", response_model=LoginAlertRead, summary="告警已处理")
def acknowledge_alert(alert_id: int, body: AlertAcknowledge, session: SessionDep, actor: Manager) -> LoginAlertRead:
    return LoginAlertRead.model_validate(service.acknowledge_alert(session, actor, alert_id, note=body.note))


# --- the data administrator register (A34.1) ------------------------------------------------------


@router.get("/identity/data-admins", response_model=RegisterOverviewRead, summary="数据资源管理员备案总览")
def register_overview(session: SessionDep, actor: Reader) -> RegisterOverviewRead:
    return RegisterOverviewRead.model_validate(register.register_overview(session, actor), from_attributes=True)


@router.get(
    "/identity/departments/{department_id}/data-admins",
    response_model=DepartmentRegisterRead,
    summary="部门数据资源管理员及变更历史",
)
def department_register(department_id: int, session: SessionDep, actor: Reader) -> DepartmentRegisterRead:
    found = register.department_register(session, actor, department_id)
    return DepartmentRegisterRead.model_validate(found, from_attributes=True)


@router.post(
    "/identity/departments/{department_id}/data-admins",
    response_model=DataAdminRead,
    status_code=201,
    summary="登记数据资源管理员",
)
def register_data_admin(
    department_id: int, body: DataAdminWrite, session: SessionDep, actor: Registrar
) -> DataAdminRead:
    record = register.register_data_admin(session, actor, department_id=department_id, **body.model_dump())
    return DataAdminRead.model_validate(record)


@router.post(
    "/identity/data-admins/{record_id}/replace",
    response_model=DataAdminRead,
    status_code=201,
    summary="更换数据资源管理员",
)
def replace_data_admin(record_id: int, body: DataAdminReplace, session: SessionDep, actor: Registrar) -> DataAdminRead:
    return DataAdminRead.model_validate(register.replace_data_admin(session, actor, record_id, **body.model_dump()))


@router.post("/identity/data-admins/{record_id}/end", response_model=DataAdminRead, summary="结束数据资源管理员任职")
def end_data_admin(record_id: int, body: DataAdminEnd, session: SessionDep, actor: Registrar) -> DataAdminRead:
    record = register.end_data_admin(session, actor, record_id, reason=body.reason, end_date=body.end_date)
    return DataAdminRead.model_validate(record)
