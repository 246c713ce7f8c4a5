"""JSON routes of the API channel (A24.1): register an upstream interface, its OpenAPI document and data
dictionary; read its probe figures; probe it now; 试调用 it through the gateway (streamed).

Reads need ``catalog:read`` and see only what ``api_mount_repository.readable`` allows (the provider's
own data administrators, and ``exchange:monitor`` holders); changes need ``exchange:mount`` and the
service checks the provider. The credential is write-only: no response carries it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from govshare.deps import SessionDep, require
from govshare.exchange import api_mounts as service
from govshare.exchange.models import Mount, SyncRun
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.api_helpers import read_model

router = APIRouter(prefix="/exchange/api-mounts", tags=["接口共享"])
Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Mounter = Annotated[Actor, Depends(require(Permission.exchange_mount))]


class ApiParameter(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(max_length=64, description="参数名")
    location: Literal["query", "header", "path", "body"] = Field(
        "query", alias="in", description="位置:query 查询参数 | header 请求头 | path 路径参数 | body 请求体字段(POST)"
    )
    required: bool = False
    description: str = Field("", max_length=200)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "in": self.location, "required": self.required, "description": self.description}


class ApiMountCreate(BaseModel):
    resource_id: int
    url: str = Field(max_length=2000, description="上游接口地址,须在管理员登记的提供方网络内;路径参数写作 {name}")
    method: str = Field("GET", max_length=8, description="GET 或 POST")
    parameters: list[ApiParameter] | None = Field(
        None, max_length=50, description="调用参数;省略且上传了描述文档时取文档中对应操作的参数"
    )
    description_document: str | None = Field(None, description="OpenAPI 3.x 描述文档的内容(JSON 或 YAML 文本)")
    dictionary: dict[int, str] = Field(default_factory=dict, description="数据字典:信息项 id → 响应字段(如 data.name)")
    credential_header: str = Field("", max_length=64, description="放置凭据的请求头,如 Authorization")
    credential_value: str = Field(
        "", max_length=4096, description="调用上游的凭据(只写,加密保存,不再返回)", json_schema_extra={"writeOnly": True}
    )
    timeout_seconds: float = Field(10.0, description="超时(秒),0.5–60")
    probe_path: str = Field("", max_length=500, description="可用性检测调用的路径(可带查询串),留空则调用登记地址")


class ApiMountUpdate(BaseModel):
    expected_version: int | None = Field(None, description="读取时的版本号,防止覆盖他人的修改")
    url: str | None = Field(None, max_length=2000)
    method: str | None = Field(None, max_length=8)
    parameters: list[ApiParameter] | None = Field(None, max_length=50)
    dictionary: dict[int, str] | None = None
    credential_header: str | None = Field(None, max_length=64)
    credential_value: str | None = Field(
        None, max_length=4096, description="新的凭据(只写);省略则保留原凭据", json_schema_extra={"writeOnly": True}
    )
    clear_credential: bool = Field(False, description="删除已保存的凭据")
    timeout_seconds: float | None = None
    probe_path: str | None = Field(None, max_length=500)


class ApiOperationRead(BaseModel):
    method: str
    path: str
    summary: str
    operation_id: str
    parameters: list[dict[str, Any]]
    matches: bool = Field(description="是否为本登记地址对应的操作")


class ApiDescriptionRead(BaseModel):
    filename: str
    format: str
    size: int
    checksum: str
    algorithm: str
    openapi: str
    title: str
    api_version: str
    uploaded_at: str
    operations: list[ApiOperationRead]


class DictionaryEntry(BaseModel):
    item_id: int
    name: str
    field: str = Field(description="响应字段;空表示该信息项未映射")


class ProbeStatsRead(BaseModel):
    window_hours: int = 24
    count: int
    availability_pct: float | None
    p50_latency_ms: int | None
    last_probe_at: dt.datetime | None
    last_ok: bool | None
    last_error: str
    last_error_at: dt.datetime | None


class ProbeRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    trigger: str
    status: str
    latency_ms: int | None
    error: str
    scheduled_for: dt.datetime
    finished_at: dt.datetime | None


class ApiMountRead(BaseModel):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    status: str
    version: int
    url: str
    method: str
    parameters: list[dict[str, Any]]
    credential_header: str
    credential_set: bool
    timeout_seconds: float
    probe_path: str
    dictionary: list[DictionaryEntry]
    description: ApiDescriptionRead | None
    probes: ProbeStatsRead
    recent_probes: list[ProbeRunRead]
    created_at: dt.datetime


class ApiMountSummary(BaseModel):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    status: str
    method: str
    probes: ProbeStatsRead


class ApiCallIn(BaseModel):
    params: dict[str, str] = Field(default_factory=dict, description="调用参数(须为登记中声明的参数)")


def _stats(stats: service.ProbeStats) -> ProbeStatsRead:
    return read_model(ProbeStatsRead, stats)


def _read(view: service.ApiMountView) -> ApiMountRead:
    mount, config, meta = view.mount, view.config, view.description
    description = None
    if meta is not None:
        description = ApiDescriptionRead(
            **{k: meta[k] for k in ApiDescriptionRead.model_fields if k != "operations"},
            operations=[ApiOperationRead(**op) for op in view.operations],
        )
    return ApiMountRead(
        id=mount.id,
        resource_id=view.resource.id,
        resource_code=view.resource.code,
        resource_name=view.resource.name,
        status=mount.status,
        version=mount.version,
        url=str(config["url"]),
        method=str(config.get("method", "GET")),
        parameters=view.parameters,
        credential_header=str(config.get("credential_header", "")),
        credential_set=view.credential_set,
        timeout_seconds=float(config.get("timeout_seconds", 10.0)),
        probe_path=str(config.get("probe_path", "")),
        dictionary=[DictionaryEntry(item_id=d.item_id, name=d.name, field=d.field) for d in view.dictionary],
        description=description,
        probes=_stats(view.stats),
        recent_probes=[ProbeRunRead.model_validate(r) for r in view.probes],
        created_at=mount.created_at,
    )


def _params(body: list[ApiParameter] | None) -> list[dict[str, Any]] | None:
    return None if body is None else [p.as_dict() for p in body]


@router.get("", response_model=list[ApiMountSummary], summary="接口登记列表")
def list_api_mounts(session: SessionDep, actor: Reader) -> list[ApiMountSummary]:
    return [
        ApiMountSummary(
            id=m.id,
            resource_id=r.id,
            resource_code=r.code,
            resource_name=r.name,
            status=m.status,
            method=str(m.config.get("method", "GET")),
            probes=_stats(stats),
        )
        for m, r, stats in service.list_api_mounts(session, actor)
    ]


@router.post("", response_model=ApiMountRead, status_code=status.HTTP_201_CREATED, summary="登记上游接口")
def create_api_mount(body: ApiMountCreate, session: SessionDep, actor: Mounter) -> ApiMountRead:
    mount = service.mount_api(
        session,
        actor,
        resource_id=body.resource_id,
        url=body.url,
        method=body.method,
        parameters=_params(body.parameters),
        description_document=body.description_document.encode() if body.description_document else None,
        dictionary=body.dictionary,
        credential_header=body.credential_header,
        credential_value=body.credential_value,
        timeout_seconds=body.timeout_seconds,
        probe_path=body.probe_path,
    )
    return _read(service.get_api_mount(session, actor, mount.id))


@router.get("/{mount_id}", response_model=ApiMountRead, summary="接口登记详情")
def get_api_mount(mount_id: int, session: SessionDep, actor: Reader) -> ApiMountRead:
    return _read(service.get_api_mount(session, actor, mount_id))


@router.patch("/{mount_id}", response_model=ApiMountRead, summary="修改接口登记")
def update_api_mount(mount_id: int, body: ApiMountUpdate, session: SessionDep, actor: Mounter) -> ApiMountRead:
    mount: Mount = service.update_api_mount(
        session,
        actor,
        mount_id=mount_id,
        expected_version=body.expected_version,
        url=body.url,
        method=body.method,
        parameters=_params(body.parameters),
        dictionary=body.dictionary,
        credential_header=body.credential_header,
        credential_value=body.credential_value,
        clear_credential=body.clear_credential,
        timeout_seconds=body.timeout_seconds,
        probe_path=body.probe_path,
    )
    return _read(service.get_api_mount(session, actor, mount.id))


@router.put("/{mount_id}/description", response_model=ApiMountRead, summary="上传接口描述文档(OpenAPI 3)")
def upload_description(
    mount_id: int, session: SessionDep, actor: Mounter, file: Annotated[UploadFile, File()]
) -> ApiMountRead:
    document = file.file.read(service.MAX_DESCRIPTION_BYTES + 1)
    service.upload_description(session, actor, mount_id=mount_id, document=document, filename=file.filename or "")
    return _read(service.get_api_mount(session, actor, mount_id))


@router.get("/{mount_id}/description", summary="下载接口描述文档", response_class=StreamingResponse)
def download_description(mount_id: int, session: SessionDep, actor: Reader) -> StreamingResponse:
    chunks, filename, media_type = service.read_description(session, actor, mount_id=mount_id)
    ascii_name = "openapi." + ("json" if media_type.endswith("json") else "yaml")
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
        },
    )


@router.get("/{mount_id}/probes", response_model=list[ProbeRunRead], summary="最近的可用性检测")
def list_probes(mount_id: int, session: SessionDep, actor: Reader) -> list[ProbeRunRead]:
    return [ProbeRunRead.model_validate(r) for r in service.get_api_mount(session, actor, mount_id).probes]


@router.post("/{mount_id}/probes", response_model=ProbeRunRead, status_code=status.HTTP_201_CREATED, summary="立即检测")
def probe_now(mount_id: int, session: SessionDep, actor: Mounter) -> ProbeRunRead:
    run: SyncRun = service.probe_now(session, actor, mount_id=mount_id)
    return ProbeRunRead.model_validate(run)


@router.post(
    "/{mount_id}/call",
    summary="试调用(经接口网关,流式返回上游响应)",
    response_class=StreamingResponse,
    responses={502: {"description": "上游接口不可用"}, 504: {"description": "上游接口超时"}},
)
def try_call(mount_id: int, body: ApiCallIn, session: SessionDep, actor: Mounter) -> StreamingResponse:
    stream = service.stream_mount(session, actor, mount_id=mount_id, params=body.params)
    return StreamingResponse(
        stream.iter_bytes(),
        status_code=stream.status,
        media_type=stream.content_type,
        headers={"X-Gateway-Latency-Ms": str(int(stream.latency_ms))},
        background=BackgroundTask(stream.close),
    )
