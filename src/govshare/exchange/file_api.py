"""JSON routes of the file channel (A24.3): upload a version (raw body, streamed), list, download, the file source.

Uploads are the request body itself (``PUT``/``POST …/files?filename=名称.csv``), read chunk by chunk
from the connection into the file store; a declared ``Content-Length`` over the cap is refused
before a byte is read, and the store stops at the cap for a body without one. Downloads stream from
the store with ``Content-Length``, ``Content-Disposition`` (RFC 5987 for Chinese names) and the
checksum (``Digest: sha-256=…`` and ``X-Checksum-SHA256``, or ``X-Checksum-SM3`` under the 国密
profile); the bytes are verified as they stream and the last chunk is held back until the checksum
matched, so a corrupt file never arrives complete.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any
from urllib.parse import quote

import anyio.from_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi import status as http_status
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import StreamingResponse

from govshare.deps import SessionDep, require
from govshare.exchange import files
from govshare.exchange.file_models import FileVersion
from govshare.exchange.models import Mount
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission

router = APIRouter(prefix="/exchange", tags=["文件共享"])
Provider = Annotated[Actor, Depends(require(Permission.exchange_mount))]


class FileVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: int
    number: int = Field(description="版本号,从 1 起")
    filename: str
    content_type: str
    size: int = Field(description="字节数")
    checksum: str = Field(description="校验值(十六进制)")
    algorithm: str = Field(description="sha256 或 sm3(国密配置)")
    source: str = Field(description="upload 上传 | http 文件服务器 | directory 挂载目录")
    source_ref: str = Field(description="来源地址或路径(不含账号、密码与查询参数)")
    created_at: dt.datetime


class FileUploaded(FileVersionRead):
    created: bool = Field(description="false:内容与最新版本相同,未新增版本")


class FileSourceWrite(BaseModel):
    source: str = Field("upload", pattern="^(upload|http|directory)$", description="upload | http | directory")
    url: str = Field("", max_length=1000, description="文件服务器上的文件地址(http/https),须在提供方网络白名单内")
    path: str = Field("", max_length=1000, description="挂载目录中的文件或目录(绝对路径)")
    pattern: str = Field("*", max_length=100, description="目录中的文件名模式,取最新的匹配文件")
    load_into_base: bool = Field(False, description="CSV/XLSX 是否装载为基座中的表")
    mapping: dict[int, str] = Field(default_factory=dict, description="信息项 id → 文件表头")
    sheet: str = Field("", max_length=100, description="XLSX 的工作表名,默认第一张")


class FileSourceRead(BaseModel):
    mount_id: int
    resource_id: int
    source: str
    url: str = Field(description="不含账号、密码与查询参数")
    path: str
    pattern: str
    load_into_base: bool
    mapping: dict[int, str]
    sheet: str
    status: str


def source_read(mount: Mount) -> FileSourceRead:
    config = files.public_config(mount)
    return FileSourceRead(
        mount_id=mount.id,
        resource_id=mount.resource_id,
        source=str(config.get("source", "upload")),
        url=str(config.get("url", "")),
        path=str(config.get("path", "")),
        pattern=str(config.get("pattern", "*")),
        load_into_base=bool(config.get("load_into_base", False)),
        mapping={int(k): v for k, v in mount.mapping.items()},
        sheet=str(config.get("sheet", "")),
        status=mount.status,
    )


def request_body(request: Request) -> Iterator[bytes]:
    """The request body, chunk by chunk as it arrives, for a synchronous route (one chunk in memory)."""
    stream: AsyncIterator[bytes] = request.stream()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


def held_back(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Yield each chunk only once the next one has been read: the last waits for the checksum check."""
    previous: bytes | None = None
    for chunk in chunks:
        if previous is not None:
            yield previous
        previous = chunk
    if previous is not None:
        yield previous


def download_response(version: FileVersion, chunks: Iterator[bytes]) -> StreamingResponse:
    """A streamed download with length, name and checksum headers (also for the sharing issue's reads)."""
    ascii_name = version.filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    headers = {
        "Content-Length": str(version.size),
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(version.filename)}",
        "ETag": f'"{version.algorithm}-{version.checksum}"',
        "X-File-Version": str(version.number),
    }
    if version.algorithm == "sha256":
        headers["X-Checksum-SHA256"] = version.checksum
        headers["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(version.checksum)).decode()
    else:
        headers["X-Checksum-SM3"] = version.checksum
    return StreamingResponse(held_back(chunks), media_type=version.content_type, headers=headers)


@router.get(
    "/resources/{resource_id}/files",
    response_model=list[FileVersionRead],
    summary="文件版本列表",
    description="提供方查看本部门文件资源的全部版本(最新在前),含大小、校验值、来源与时间。",
)
def list_versions(resource_id: int, session: SessionDep, actor: Provider) -> list[FileVersionRead]:
    return [FileVersionRead.model_validate(v) for v in files.list_versions(session, actor, resource_id=resource_id)]


_UPLOAD: dict[str, Any] = {
    "response_model": FileUploaded,
    "status_code": http_status.HTTP_201_CREATED,
    "summary": "上传文件新版本(请求体即文件内容)",
    "description": "请求体为文件原始字节(流式写入,不整体载入内存);Content-Length 超过上限时直接拒绝(413)。"
    "内容与最新版本相同时不新增版本(created=false)。",
}


# PUT and POST as two routes, so that each has an operation id of its own in the OpenAPI document
@router.put("/resources/{resource_id}/files", **_UPLOAD)
@router.post("/resources/{resource_id}/files", **_UPLOAD)
def upload(
    resource_id: int,
    request: Request,
    session: SessionDep,
    actor: Provider,
    filename: Annotated[str, Query(min_length=1, max_length=255, description="文件名,如 人口.csv")],
) -> FileUploaded:
    files.check_declared_size(request.headers.get("content-length"))
    added = files.add_upload(
        session,
        actor,
        resource_id=resource_id,
        filename=filename,
        stream=request_body(request),
        content_type=request.headers.get("content-type", "").split(";", 1)[0].strip(),
        # The request's transaction ends before the body is read: on SQLite it holds the write lock,
        # and a large body over a slow link must not stop every other writer meanwhile.
        on_ready=session.commit,
    )
    read = FileVersionRead.model_validate(added.version)
    return FileUploaded(**read.model_dump(), created=added.created)


@router.get("/files/{version_id}", response_model=FileVersionRead, summary="文件版本信息")
def version_detail(version_id: int, session: SessionDep, actor: Provider) -> FileVersionRead:
    return FileVersionRead.model_validate(files.version_detail(session, actor, version_id=version_id))


@router.get(
    "/files/{version_id}/content",
    summary="下载文件版本",
    description="流式下载;响应头含 Content-Length、校验值(X-Checksum-SHA256 / Digest,国密配置为 X-Checksum-SM3)。"
    "内容在传输中校验,不符时连接中断、最后一段不发送。",
    response_class=StreamingResponse,
)
def download(version_id: int, session: SessionDep, actor: Provider) -> StreamingResponse:
    version, chunks = files.download_version(session, actor, version_id=version_id)
    return download_response(version, chunks)


@router.get("/resources/{resource_id}/file-source", response_model=FileSourceRead | None, summary="文件来源")
def get_source(resource_id: int, session: SessionDep, actor: Provider) -> FileSourceRead | None:
    mount = files.file_source(session, actor, resource_id=resource_id)
    return source_read(mount) if mount is not None else None


@router.put(
    "/resources/{resource_id}/file-source",
    response_model=FileSourceRead,
    summary="登记文件来源",
    description="文件服务器地址(须在提供方网络白名单内)或挂载目录,作业进程按信息资源的更新周期拉取;"
    "可选将 CSV/XLSX 按表头 → 信息项映射装载为基座中的表。",
)
def put_source(resource_id: int, body: FileSourceWrite, session: SessionDep, actor: Provider) -> FileSourceRead:
    form = files.FileSourceForm(
        source=body.source,
        url=body.url,
        path=body.path,
        pattern=body.pattern,
        load_into_base=body.load_into_base,
        mapping=body.mapping,
        sheet=body.sheet,
    )
    return source_read(files.mount_file(session, actor, resource_id=resource_id, form=form))
