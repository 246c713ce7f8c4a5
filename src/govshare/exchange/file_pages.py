"""The provider's file page (A24.3): versions, upload (multipart), the file source, a pull by hand.

The multipart form is parsed by Starlette into a spooled temporary file (on disk beyond 1 MB), which
``files.add_upload`` then streams into the store chunk by chunk; nothing holds the whole file in
memory. Downloads link to the JSON route, which streams (a GET needs no CSRF token).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.errors import DomainError, ValidationFailed
from govshare.exchange import files
from govshare.exchange.file_models import FILE_SOURCE_LABELS
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.forms import FormFields, attempt
from govshare.web.templating import redirect, render

router = APIRouter(prefix="/exchange", include_in_schema=False)
Provider = Annotated[Actor, Depends(require(Permission.exchange_mount))]
TEMPLATE = "exchange/files.html"


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    view = files.overview(session, actor, resource_id=resource_id)
    current = files.public_config(view.mount) if view.mount is not None else {}
    mapping = {int(k): v for k, v in view.mount.mapping.items()} if view.mount is not None else {}
    form = values or {
        "source": current.get("source", "upload"),
        "url": current.get("url", ""),
        "path": current.get("path", ""),
        "pattern": current.get("pattern", "*"),
        "load_into_base": bool(current.get("load_into_base", False)),
        "sheet": current.get("sheet", ""),
        "mapping": mapping,
    }
    context = {
        "view": view,
        "r": view.resource,
        "form": form,
        "error": error,
        "errors": error.errors if error is not None else [],
        "source_labels": FILE_SOURCE_LABELS,
        "kind_labels": files.SOURCE_LABELS,
        "max_mb": view.max_bytes // (1024 * 1024),
    }
    return render(request, TEMPLATE, context, actor=actor, status_code=status_code)


@router.get("/resources/{resource_id:int}/files")
def files_page(request: Request, session: SessionDep, actor: Provider, resource_id: int) -> Response:
    return _page(request, session, actor, resource_id)


@router.post("/resources/{resource_id:int}/files")
def upload(
    request: Request,
    session: SessionDep,
    actor: Provider,
    resource_id: int,
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        files.check_declared_size(request.headers.get("content-length"))
        added = files.add_upload(
            session,
            actor,
            resource_id=resource_id,
            filename=file.filename or "file",
            stream=file.file,
            content_type=file.content_type or "",
            on_ready=session.commit,  # copying a large spooled file must not hold the SQLite write lock
        )
    except (ValidationFailed, files.FilePullFailed) as exc:
        return _page(request, session, actor, resource_id, error=exc, status_code=exc.status)
    finally:
        file.file.close()
    v = added.version
    message = (
        f"已保存为第 {v.number} 版({v.filename},{v.size} 字节)。"
        if added.created
        else f"文件内容与第 {v.number} 版相同,未新增版本。"
    )
    return redirect(f"/exchange/resources/{resource_id}/files", message)


def _source_form(form: dict[str, str], items: list[Any]) -> files.FileSourceForm:
    mapping = {item.id: form.get(f"map_{item.id}", "") for item in items}
    return files.FileSourceForm(
        source=form.get("source", "upload"),
        url=form.get("url", ""),
        path=form.get("path", ""),
        pattern=form.get("pattern", "*"),
        load_into_base=form.get("load_into_base") == "1",
        mapping=mapping,
        sheet=form.get("sheet", ""),
    )


@router.post("/resources/{resource_id:int}/file-source")
def save_source(request: Request, session: SessionDep, actor: Provider, resource_id: int, form: FormFields) -> Response:
    view = files.overview(session, actor, resource_id=resource_id)
    data = _source_form(form, view.items)
    try:
        with attempt(session):
            files.mount_file(session, actor, resource_id=resource_id, form=data)
    except ValidationFailed as exc:
        values = {**data.__dict__, "mapping": data.mapping or {}}
        return _page(request, session, actor, resource_id, error=exc, values=values, status_code=422)
    return redirect(f"/exchange/resources/{resource_id}/files", "已保存文件来源,作业进程将按更新周期拉取。")


@router.post("/resources/{resource_id:int}/file-source/run")
def run_now(request: Request, session: SessionDep, actor: Provider, resource_id: int) -> Response:
    try:
        with attempt(session):
            run = files.request_pull(session, actor, resource_id=resource_id)
    except DomainError as exc:
        return _page(request, session, actor, resource_id, error=exc, status_code=exc.status)
    return redirect(f"/exchange/resources/{resource_id}/files", f"已排队立即拉取(运行 #{run.id}),稍后刷新查看结果。")
