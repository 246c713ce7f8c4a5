"""Exchange JSON routes: table mounts (A24.2), their runs, and freshness of the base (A8.2).

Each route translates one request into one service call (``mounts``, ``freshness``); visibility and
the provider-only rules live there. Secrets are write-only fields of the inputs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import status as http_status

from govshare.deps import SessionDep, require
from govshare.exchange import freshness, mounts
from govshare.exchange.schemas import (
    FreshnessPage,
    FreshnessRead,
    MountRead,
    RunCreate,
    RunRead,
    TableMountCreate,
    TableMountUpdate,
)
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

router = APIRouter(prefix="/exchange", tags=["数据交换"])
Provider = Annotated[Actor, Depends(require(Permission.exchange_mount))]
Monitor = Annotated[Actor, Depends(require(Permission.exchange_monitor))]
# Mount and run reads are for the provider's data administrators and for the monitors alike; the
# service's visibility rule decides which mounts each of them sees.
Viewer = Annotated[Actor, Depends(require(Permission.catalog_read))]


@router.get("/mounts", response_model=list[MountRead], summary="挂载列表")
def list_mounts(
    session: SessionDep,
    actor: Viewer,
    resource_id: int | None = None,
    department_id: int | None = None,
    channel: Annotated[str | None, Query(max_length=8)] = None,
) -> list[MountRead]:
    found = mounts.list_mounts(session, actor, resource_id=resource_id, department_id=department_id, channel=channel)
    return [mounts.mount_read(m, r) for m, r in found]


@router.post("/mounts", response_model=MountRead, status_code=http_status.HTTP_201_CREATED, summary="挂载库表数据源")
def create_mount(body: TableMountCreate, session: SessionDep, actor: Provider) -> MountRead:
    mount = mounts.create_table_mount(session, actor, body)
    return mounts.mount_read(*mounts.get_mount(session, actor, mount.id))


@router.get("/mounts/{mount_id}", response_model=MountRead, summary="挂载详情")
def get_mount(mount_id: int, session: SessionDep, actor: Viewer) -> MountRead:
    return mounts.mount_read(*mounts.get_mount(session, actor, mount_id))


@router.patch("/mounts/{mount_id}", response_model=MountRead, summary="修改、暂停或恢复挂载")
def update_mount(mount_id: int, body: TableMountUpdate, session: SessionDep, actor: Provider) -> MountRead:
    mounts.update_table_mount(session, actor, mount_id, body)
    return mounts.mount_read(*mounts.get_mount(session, actor, mount_id))


@router.post("/mounts/{mount_id}/probe", response_model=RunRead, summary="测试连接(立即执行探测)")
def check_connection(mount_id: int, session: SessionDep, actor: Provider) -> RunRead:
    return RunRead.model_validate(mounts.check_connection(session, actor, mount_id))


@router.get("/mounts/{mount_id}/runs", response_model=list[RunRead], summary="同步与检测记录")
def list_runs(
    mount_id: int, session: SessionDep, actor: Viewer, page: Annotated[int, Query(ge=1, le=100000)] = 1
) -> list[RunRead]:
    return [RunRead.model_validate(r) for r in mounts.list_runs(session, actor, mount_id, page=page)]


@router.post(
    "/mounts/{mount_id}/runs",
    response_model=RunRead,
    status_code=http_status.HTTP_202_ACCEPTED,
    summary="立即同步或立即检测(排入队列)",
)
def request_run(mount_id: int, body: RunCreate, session: SessionDep, actor: Provider) -> RunRead:
    return RunRead.model_validate(mounts.request_run(session, actor, mount_id, body.kind))


@router.get("/runs/{run_id}", response_model=RunRead, summary="运行详情(含进度与质量摘要)")
def get_run(run_id: int, session: SessionDep, actor: Viewer) -> RunRead:
    run, _mount, _resource = mounts.get_run(session, actor, run_id)
    return RunRead.model_validate(run)


@router.get("/freshness", response_model=FreshnessPage, summary="数据更新及时性(按超期排序)")
def list_freshness(
    session: SessionDep,
    actor: Monitor,
    department_id: int | None = None,
    late_only: bool = False,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FreshnessPage:
    return freshness.freshness_page(
        session, actor, department_id=department_id, late_only=late_only, page=page, page_size=page_size
    )


@router.get("/freshness/{resource_id}", response_model=FreshnessRead, summary="某一信息资源的更新及时性")
def get_freshness(resource_id: int, session: SessionDep, actor: Viewer) -> FreshnessRead:
    return freshness.freshness_of(session, actor, resource_id).read()
