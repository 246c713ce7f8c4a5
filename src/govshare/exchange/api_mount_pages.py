"""Pages of the API channel (A24.1): the registrations a person may see, the registration form (with the
OpenAPI upload), the registration page with its probe figures, 立即检测 and 试调用.

Routes translate the form into one ``exchange.api_mounts`` call, run inside a SAVEPOINT so a refusal
re-renders the form with its Chinese messages and leaves nothing behind. The credential field is
never filled back in: an edit keeps the stored one unless a new one is typed (or 删除 is ticked).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from govshare.deps import SessionDep, require
from govshare.errors import Conflict, DomainError, FieldError, ValidationFailed
from govshare.exchange import api_mounts as service
from govshare.exchange import mounts
from govshare.exchange.channels.api import LOCATION_LABELS, PARAMETER_LOCATIONS
from govshare.exchange.gateway import GatewayResponse
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.forms import int_or_none
from govshare.web.templating import redirect, render

router = APIRouter(prefix="/exchange/api-mounts", include_in_schema=False)
Reader = Annotated[Actor, Depends(require(Permission.catalog_read))]
Mounter = Annotated[Actor, Depends(require(Permission.exchange_mount))]

EMPTY_PARAMETER_ROWS = 3
MAX_PARAMETER_ROWS = 50
PREVIEW_BYTES = 64 * 1024
FIELD_LABELS = {
    "resource_id": "信息资源",
    "url": "接口地址",
    "method": "请求方法",
    "parameters": "调用参数",
    "description_document": "接口描述文档",
    "dictionary": "数据字典",
    "credential_header": "凭据请求头",
    "credential_value": "凭据",
    "timeout_seconds": "超时时间",
    "probe_path": "检测路径",
    "expected_version": "版本",
}
RUN_STATUS = {"queued": "排队中", "running": "运行中", "succeeded": "可用", "failed": "不可用"}


def _label(field: str) -> str:
    if field.startswith("parameters["):
        index = field[len("parameters[") :].split("]", 1)[0]
        return f"第 {int(index) + 1} 个参数" if index.isdigit() else "调用参数"
    if field.startswith("dictionary["):
        return "数据字典"
    return FIELD_LABELS.get(field, field)


def _common() -> dict[str, Any]:
    return {
        "flabel": _label,
        "locations": [(v, LOCATION_LABELS[v]) for v in PARAMETER_LOCATIONS],
        "location_labels": LOCATION_LABELS,
        "run_status": RUN_STATUS,
    }


async def _read_form(request: Request) -> tuple[dict[str, str], UploadFile | None]:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("description_file")
    return fields, upload if isinstance(upload, UploadFile) and upload.filename else None


def _parameter_rows(fields: dict[str, str]) -> list[dict[str, Any]]:
    rows = min(int_or_none(fields.get("param_rows")) or 0, MAX_PARAMETER_ROWS)
    out: list[dict[str, Any]] = []
    for i in range(rows):
        prefix = f"param-{i}-"
        name = fields.get(prefix + "name", "").strip()
        description = fields.get(prefix + "description", "").strip()
        if not name and not description:
            continue
        out.append(
            {
                "name": name,
                "in": fields.get(prefix + "in", "query"),
                "required": prefix + "required" in fields,
                "description": description,
            }
        )
    return out


def _dictionary(fields: dict[str, str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for key, value in fields.items():
        if key.startswith("dict-") and key[5:].isdigit():
            out[int(key[5:])] = value.strip()
    return out


def _timeout(fields: dict[str, str]) -> float:
    text = fields.get("timeout_seconds", "").strip() or "10"
    try:
        return float(text)
    except ValueError:
        raise ValidationFailed(
            "接口登记信息有误:超时时间应为数字", errors=[FieldError("timeout_seconds", "超时时间应为数字(秒)")]
        ) from None


async def _document(upload: UploadFile | None) -> tuple[bytes | None, str]:
    if upload is None:
        return None, ""
    data = await upload.read(service.MAX_DESCRIPTION_BYTES + 1)
    return data, upload.filename or ""


def _form_values(fields: dict[str, str]) -> dict[str, Any]:
    return {
        "url": fields.get("url", ""),
        "method": fields.get("method", "GET"),
        "credential_header": fields.get("credential_header", ""),
        "timeout_seconds": fields.get("timeout_seconds", "10"),
        "probe_path": fields.get("probe_path", ""),
        "parameters": _parameter_rows(fields),
        "dictionary": _dictionary(fields),
    }


def _blank_form() -> dict[str, Any]:
    return {
        "url": "",
        "method": "GET",
        "credential_header": "Authorization",
        "timeout_seconds": "10",
        "probe_path": "",
        "parameters": [],
        "dictionary": {},
    }


def _render_form(
    request: Request,
    actor: Actor,
    *,
    resource: Any,
    items: list[Any],
    form: dict[str, Any],
    view: service.ApiMountView | None = None,
    error: DomainError | None = None,
) -> Response:
    rows = list(form["parameters"]) + [
        {"name": "", "in": "query", "required": False, "description": ""} for _ in range(EMPTY_PARAMETER_ROWS)
    ]
    context = {
        "title": "修改接口登记" if view else "登记上游接口",
        "r": resource,
        "items": items,
        "form": form,
        "param_rows": rows,
        "view": view,
        "detail": error.detail if error else "",
        "errors": error.errors if error else [],
        "max_mb": service.MAX_DESCRIPTION_BYTES // (1024 * 1024),
        **_common(),
    }
    return render(request, "exchange/api_form.html", context, actor=actor, status_code=422 if error else 200)


@router.get("")
def list_page(request: Request, session: SessionDep, actor: Reader) -> Response:
    context = {
        "title": "接口登记",
        "rows": service.list_api_mounts(session, actor),
        "mountable": service.mountable_resources(session, actor),
        **_common(),
    }
    return render(request, "exchange/api_list.html", context, actor=actor)


@router.get("/new")
def new_form(request: Request, session: SessionDep, actor: Mounter, resource_id: str = "") -> Response:
    resource, items = service.resource_for_new_mount(session, actor, int_or_none(resource_id) or 0)
    return _render_form(request, actor, resource=resource, items=items, form=_blank_form())


@router.post("/new")
async def create(request: Request, session: SessionDep, actor: Mounter) -> Response:
    fields, upload = await _read_form(request)
    resource, items = service.resource_for_new_mount(session, actor, int_or_none(fields.get("resource_id")) or 0)
    form = _form_values(fields)
    try:
        document, filename = await _document(upload)
        with session.begin_nested():
            mount = service.mount_api(
                session,
                actor,
                resource_id=resource.id,
                url=form["url"],
                method=form["method"],
                parameters=form["parameters"] or None,
                description_document=document,
                dictionary=form["dictionary"],
                credential_header=form["credential_header"],
                credential_value=fields.get("credential_value", ""),
                timeout_seconds=_timeout(fields),
                probe_path=form["probe_path"],
                description_filename=filename,
            )
    except ValidationFailed as exc:
        return _render_form(request, actor, resource=resource, items=items, form=form, error=exc)
    return redirect(f"/exchange/api-mounts/{mount.id}", "已登记上游接口,平台将定时检测其可用性。")


def _render_detail(
    request: Request,
    actor: Actor,
    view: service.ApiMountView,
    *,
    call: GatewayResponse | None = None,
    call_error: DomainError | None = None,
    call_params: dict[str, str] | None = None,
) -> Response:
    preview = ""
    truncated = False
    if call is not None:
        truncated = len(call.body) > PREVIEW_BYTES
        raw = call.body[:PREVIEW_BYTES].decode("utf-8", errors="replace")
        try:
            preview = json.dumps(json.loads(call.body), ensure_ascii=False, indent=2)[:PREVIEW_BYTES]
        except ValueError:
            preview = raw
    context = {
        "title": f"接口登记:{view.resource.name}",
        "view": view,
        "call": call,
        "call_error": call_error,
        "call_params": call_params or {},
        "preview": preview,
        "truncated": truncated,
        **_common(),
    }
    status = call_error.status if call_error is not None else 200
    return render(request, "exchange/api_detail.html", context, actor=actor, status_code=status)


@router.get("/{mount_id:int}")
def detail(request: Request, session: SessionDep, actor: Reader, mount_id: int) -> Response:
    return _render_detail(request, actor, service.get_api_mount(session, actor, mount_id))


@router.get("/{mount_id:int}/edit")
def edit_form(request: Request, session: SessionDep, actor: Mounter, mount_id: int) -> Response:
    view = service.get_api_mount(session, actor, mount_id)
    resource, items = service.resource_for_new_mount(session, actor, view.resource.id)
    config = view.config
    form = {
        "url": config["url"],
        "method": config.get("method", "GET"),
        "credential_header": config.get("credential_header", ""),
        "timeout_seconds": f"{float(config.get('timeout_seconds', 10.0)):g}",
        "probe_path": config.get("probe_path", ""),
        "parameters": view.parameters,
        "dictionary": {d.item_id: d.field for d in view.dictionary},
    }
    return _render_form(request, actor, resource=resource, items=items, form=form, view=view)


@router.post("/{mount_id:int}/edit")
async def edit(request: Request, session: SessionDep, actor: Mounter, mount_id: int) -> Response:
    fields, upload = await _read_form(request)
    view = service.get_api_mount(session, actor, mount_id)
    resource, items = service.resource_for_new_mount(session, actor, view.resource.id)
    form = _form_values(fields)
    try:
        document, filename = await _document(upload)
        with session.begin_nested():
            service.update_api_mount(
                session,
                actor,
                mount_id=mount_id,
                expected_version=int_or_none(fields.get("expected_version")),
                url=form["url"],
                method=form["method"],
                parameters=form["parameters"],
                dictionary=form["dictionary"],
                credential_header=form["credential_header"],
                credential_value=fields.get("credential_value", "") or None,
                clear_credential="clear_credential" in fields,
                timeout_seconds=_timeout(fields),
                probe_path=form["probe_path"],
            )
            if document is not None:
                service.upload_description(session, actor, mount_id=mount_id, document=document, filename=filename)
    except ValidationFailed as exc:
        return _render_form(request, actor, resource=resource, items=items, form=form, view=view, error=exc)
    return redirect(f"/exchange/api-mounts/{mount_id}", "接口登记已保存。")


@router.post("/{mount_id:int}/probe")
def probe(request: Request, session: SessionDep, actor: Mounter, mount_id: int) -> Response:
    run = service.probe_now(session, actor, mount_id=mount_id)
    if run.status == "succeeded":
        return redirect(f"/exchange/api-mounts/{mount_id}", f"检测通过:上游接口可用,耗时 {run.latency_ms} 毫秒。")
    return redirect(f"/exchange/api-mounts/{mount_id}", f"检测未通过:{run.error}", "error")


@router.post("/{mount_id:int}/call")
async def try_call(request: Request, session: SessionDep, actor: Mounter, mount_id: int) -> Response:
    form = await request.form()
    params = {
        k[len("p-") :]: v for k, v in form.items() if k.startswith("p-") and isinstance(v, str) and v.strip() != ""
    }
    try:
        with session.begin_nested():
            result = service.call_mount(session, actor, mount_id=mount_id, params=params)
    except DomainError as exc:
        view = service.get_api_mount(session, actor, mount_id)
        return _render_detail(request, actor, view, call_error=exc, call_params=params)
    view = service.get_api_mount(session, actor, mount_id)
    return _render_detail(request, actor, view, call=result, call_params=params)


@router.post("/{mount_id:int}/status")
async def set_status(request: Request, session: SessionDep, actor: Mounter, mount_id: int) -> Response:
    form = await request.form()
    wanted = str(form.get("status", ""))
    try:
        with session.begin_nested():
            mounts.set_status(session, actor, mount_id, wanted, expected_version=int_or_none(str(form.get("version"))))
    except (ValidationFailed, Conflict) as exc:
        return redirect(f"/exchange/api-mounts/{mount_id}", exc.detail, "error")
    message = "已暂停:网关不再转发调用,定时检测停止。" if wanted == "paused" else "已启用。"
    return redirect(f"/exchange/api-mounts/{mount_id}", message)
