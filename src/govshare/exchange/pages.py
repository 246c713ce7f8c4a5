"""Exchange pages: the provider's mounts (我的挂载), the table mount form, runs with progress and
quality, and the monitors' freshness list (A8.2, A24.2, A25.1).

Routes translate: each reads its form, calls one service function (``mounts``, ``freshness``) and
renders or redirects. A form is processed inside a SAVEPOINT, so a refusal re-renders it with the
Chinese message while nothing the call flushed survives. Passwords are never put back into a form.

The catalog detail page shows a resource's freshness through the ``exchange_freshness`` template
function: the catalog's page gathers its own data and knows nothing of the exchange, so the panel
asks for its figures with the request's own session (the one the resource was loaded with).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session, object_session
from starlette.responses import Response

from govshare.catalog import service as catalog_service
from govshare.catalog.models import Resource
from govshare.deps import SessionDep, require
from govshare.errors import Conflict, DomainError, FieldError, ValidationFailed
from govshare.exchange import freshness, mounts
from govshare.exchange import repository as repo
from govshare.exchange.schemas import TableMountCreate, TableMountUpdate
from govshare.identity import service as identity_service
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.web.dashboard import Panel, register_panels
from govshare.web.forms import FormFields, attempt, int_or_none, pager_base
from govshare.web.templating import error_status, redirect, render, templates

router = APIRouter(prefix="/exchange", include_in_schema=False)

Provider = Annotated[Actor, Depends(require(Permission.exchange_mount))]
Monitor = Annotated[Actor, Depends(require(Permission.exchange_monitor))]
Viewer = Annotated[Actor, Depends(require(Permission.catalog_read))]  # scoped by the service

FRESHNESS_PAGE_SIZE = 50
REFRESH_SECONDS = 3

FIELD_LABELS = {
    "resource_id": "信息资源",
    "url": "源数据库地址",
    "password": "密码",
    "table": "源表或视图",
    "mapping": "字段映射",
    "sync_mode": "同步方式",
    "watermark_column": "增量字段",
    "key_column": "键字段",
    "test_url": "测试账号地址",
    "test_password": "测试账号密码",
    "test_table": "测试表",
    "full_refresh_days": "定期全量刷新间隔",
    "channel": "共享方式",
    "kind": "运行类型",
}
RUN_STATUS_LABELS = {
    "queued": "排队中",
    "running": "运行中",
    "succeeded": "成功",
    "failed": "失败",
    "cancelled": "已取消",
}
RUN_KIND_LABELS = {"sync": "同步", "probe": "检测"}
TRIGGER_LABELS = {"schedule": "定时", "manual": "手动"}
SYNC_MODE_LABELS = {"full": "全量", "incremental": "增量"}
RUN_MODE_LABELS = {
    "full": "全量",
    "incremental": "增量",
    "full_initial": "全量(首次)",
    "full_periodic": "全量刷新(定期)",
    "full_source_changed": "全量刷新(源已修改)",
}
MOUNT_STATUS_LABELS = {"active": "启用", "paused": "已暂停"}
CHANNEL_LABELS = {"table": "库表交换", "api": "接口对接", "file": "文件共享"}


def _size_text(n: int) -> str:
    size = float(n)
    for unit in ("字节", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "字节" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} 字节"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{int(rate * 10000) / 100:.2f}%"


def _ms_text(ms: int | None) -> str:
    if ms is None:
        return ""
    return f"{ms} 毫秒" if ms < 1000 else f"{ms / 1000:.1f} 秒"


def exchange_freshness(resource: Resource, actor: Actor | None) -> freshness.Freshness | None:
    """The freshness panel's figures for the catalog detail page (see the module docstring)."""
    session = object_session(resource)
    if session is None or actor is None:
        return None
    return freshness.resource_freshness(session, actor, resource.id)


def exchange_mount_link(resource: Resource, actor: Actor | None) -> dict[str, Any] | None:
    """Where the catalog detail page links for the resource's mount: view it, or mount one."""
    session = object_session(resource)
    if session is None or actor is None or resource.channel != "table":
        return None
    found = mounts.list_mounts(session, actor, resource_id=resource.id, channel="table")
    if found:
        return {"href": f"/exchange/mounts/{found[0][0].id}", "text": "查看挂载与同步记录"}
    if mounts.may_manage(actor, resource) and actor.can(Permission.exchange_mount):
        return {"href": f"/exchange/mounts/new?resource_id={resource.id}", "text": "挂载库表数据源"}
    return None


templates.env.globals["exchange_freshness"] = exchange_freshness
templates.env.globals["exchange_mount_link"] = exchange_mount_link
templates.env.filters["size_text"] = _size_text
templates.env.filters["rate"] = _percent
templates.env.filters["ms_text"] = _ms_text
templates.env.globals["EXCHANGE_LABELS"] = {
    "run_status": RUN_STATUS_LABELS,
    "run_kind": RUN_KIND_LABELS,
    "trigger": TRIGGER_LABELS,
    "sync_mode": SYNC_MODE_LABELS,
    "run_mode": RUN_MODE_LABELS,
    "mount_status": MOUNT_STATUS_LABELS,
    "channel": CHANNEL_LABELS,
}


# ---------------------------------------------------------------------------------------------
# input translation


def _pydantic_errors(exc: ValidationError) -> ValidationFailed:
    errors = [
        FieldError(
            str(err["loc"][0]) if err.get("loc") else "request", "必填" if "short" in err["type"] else "取值无效"
        )
        for err in exc.errors()
    ]
    text = ";".join(f"{FIELD_LABELS.get(e.field, e.field)}{e.message}" for e in errors)
    return ValidationFailed("填写有误:" + text, errors=errors)


def _mount_form(form: dict[str, str], item_ids: list[int]) -> dict[str, Any]:
    """The form as typed (passwords excluded: they are never shown again)."""
    values: dict[str, Any] = {
        name: form.get(name, "").strip()
        for name in ("url", "table", "sync_mode", "watermark_column", "key_column", "test_url", "test_table")
    }
    values["sync_mode"] = values["sync_mode"] or "full"
    values["full_refresh_days"] = form.get("full_refresh_days", "").strip() or "7"
    values["mapping"] = {i: form.get(f"map-{i}", "").strip() for i in item_ids}
    return values


def _mapping(values: dict[str, Any]) -> dict[int, str]:
    return {i: column for i, column in values["mapping"].items() if column}


def _form_page(
    request: Request,
    actor: Actor,
    resource: Resource,
    values: dict[str, Any],
    *,
    mount_id: int | None = None,
    has_password: bool = False,
    has_test_password: bool = False,
    expected_version: int | None = None,
    error: DomainError | None = None,
) -> Response:
    context = {
        "title": "编辑挂载" if mount_id else "挂载库表数据源",
        "r": resource,
        "items": sorted(resource.items, key=lambda i: i.position),
        "form": values,
        "mount_id": mount_id,
        "has_password": has_password,
        "has_test_password": has_test_password,
        "expected_version": expected_version,
        "action_url": f"/exchange/mounts/{mount_id}/edit" if mount_id else "/exchange/mounts/new",
        "detail": error.detail if error else "",
        "errors": error.errors if error else [],
        "field_labels": FIELD_LABELS,
    }
    return render(request, "exchange/mount_form.html", context, actor=actor, status_code=error_status(error))


# ---------------------------------------------------------------------------------------------
# 我的挂载


@router.get("/mounts")
def my_mounts(request: Request, session: SessionDep, actor: Provider) -> Response:
    department_id = actor.department_id
    rows = freshness.assess_all(session, actor, department_id=department_id) if department_id else []
    mount_ids = [f.row.mount_id for f in rows if f.row.mount_id is not None]
    last = {mount_id: mounts.last_runs(session, mount_id) for mount_id in mount_ids}
    others = [
        (m, r)
        for m, r in (mounts.list_mounts(session, actor, department_id=department_id) if department_id else [])
        if m.channel != "table" and m.id not in last
    ]
    context = {"title": "我的挂载", "rows": rows, "last": last, "others": others}
    return render(request, "exchange/mounts.html", context, actor=actor)


# ---------------------------------------------------------------------------------------------
# mount form


def _resource_for_form(session: Session, actor: Actor, resource_id: int | None) -> Resource:
    if resource_id is None:
        raise ValidationFailed("请从本部门目录中选择要挂载的信息资源", errors=[FieldError("resource_id", "必填")])
    return catalog_service.get_resource(session, actor, resource_id)


@router.get("/mounts/new")
def new_form(request: Request, session: SessionDep, actor: Provider, resource_id: str = "") -> Response:
    resource = _resource_for_form(session, actor, int_or_none(resource_id))
    existing = mounts.list_mounts(session, actor, resource_id=resource.id, channel="table")
    if existing:
        return redirect(f"/exchange/mounts/{existing[0][0].id}", "该信息资源已挂载数据源,可在此编辑。", "warning")
    values: dict[str, Any] = {
        "url": "",
        "table": "",
        "sync_mode": "full",
        "watermark_column": "",
        "key_column": "",
        "test_url": "",
        "test_table": "",
        "full_refresh_days": 7,
        "mapping": {item.id: "" for item in resource.items},
    }
    return _form_page(request, actor, resource, values)


@router.post("/mounts/new")
def create(request: Request, session: SessionDep, actor: Provider, form: FormFields) -> Response:
    resource = _resource_for_form(session, actor, int_or_none(form.get("resource_id")))
    values = _mount_form(form, [item.id for item in resource.items])
    try:
        data = TableMountCreate.model_validate(
            values
            | {
                "resource_id": resource.id,
                "mapping": _mapping(values),
                "password": form.get("password", ""),
                "test_password": form.get("test_password", ""),
            }
        )
        with attempt(session):
            mount = mounts.create_table_mount(session, actor, data)
    except ValidationError as exc:
        return _form_page(request, actor, resource, values, error=_pydantic_errors(exc))
    except (ValidationFailed, Conflict) as exc:
        return _form_page(request, actor, resource, values, error=exc)
    return redirect(
        f"/exchange/mounts/{mount.id}", "已挂载数据源。作业进程将很快执行首次同步;可先“测试连接”确认账号与网络。"
    )


@router.get("/mounts/{mount_id:int}/edit")
def edit_form(request: Request, session: SessionDep, actor: Provider, mount_id: int) -> Response:
    read = mounts.mount_read(*mounts.get_mount(session, actor, mount_id))
    resource = catalog_service.get_resource(session, actor, read.resource_id)
    values = read.model_dump(
        include={
            "url",
            "table",
            "sync_mode",
            "watermark_column",
            "key_column",
            "test_url",
            "test_table",
            "full_refresh_days",
        }
    )
    values["mapping"] = {item.id: read.mapping.get(item.id, "") for item in resource.items}
    return _form_page(
        request,
        actor,
        resource,
        values,
        mount_id=mount_id,
        has_password=read.has_password,
        has_test_password=read.has_test_password,
        expected_version=read.version,
    )


@router.post("/mounts/{mount_id:int}/edit")
def update(request: Request, session: SessionDep, actor: Provider, mount_id: int, form: FormFields) -> Response:
    read = mounts.mount_read(*mounts.get_mount(session, actor, mount_id))
    resource = catalog_service.get_resource(session, actor, read.resource_id)
    values = _mount_form(form, [item.id for item in resource.items])
    expected = int_or_none(form.get("expected_version"))

    def again(error: DomainError) -> Response:
        return _form_page(
            request,
            actor,
            resource,
            values,
            mount_id=mount_id,
            has_password=read.has_password,
            has_test_password=read.has_test_password,
            expected_version=expected,
            error=error,
        )

    try:
        data = TableMountUpdate.model_validate(
            values
            | {
                "mapping": _mapping(values),
                "password": form.get("password", "") or None,
                "test_password": form.get("test_password", "") or None,
                "expected_version": expected,
            }
        )
        with attempt(session):
            mounts.update_table_mount(session, actor, mount_id, data)
    except ValidationError as exc:
        return again(_pydantic_errors(exc))
    except (ValidationFailed, Conflict) as exc:
        return again(exc)
    return redirect(f"/exchange/mounts/{mount_id}", "已保存挂载设置。")


# ---------------------------------------------------------------------------------------------
# mount detail and actions


@router.get("/mounts/{mount_id:int}")
def mount_detail(request: Request, session: SessionDep, actor: Viewer, mount_id: int) -> Response:
    mount, resource = mounts.get_mount(session, actor, mount_id)
    read = mounts.mount_read(mount, resource)
    items = {item.id: item for item in mounts.items_of(session, resource.id)}
    fresh = freshness.freshness_of(session, actor, resource.id) if mount.channel == "table" else None
    context = {
        "title": f"挂载:{resource.name}",
        "m": read,
        "r": resource,
        "items": items,
        "fresh": fresh,
        "runs": mounts.list_runs(session, actor, mount_id)[:20],
        "manage": mounts.may_manage(actor, resource) and actor.can(Permission.exchange_mount),
        "provider_name": repo.department_names(session, [resource.provider_id]).get(resource.provider_id, ""),
    }
    return render(request, "exchange/mount_detail.html", context, actor=actor)


def _set_status(session: Session, actor: Actor, mount_id: int, form: dict[str, str], to: str, done: str) -> Response:
    try:
        with attempt(session):
            mounts.set_status(session, actor, mount_id, to, expected_version=int_or_none(form.get("expected_version")))
    except Conflict as exc:
        return redirect(f"/exchange/mounts/{mount_id}", exc.detail, "error")
    return redirect(f"/exchange/mounts/{mount_id}", done)


@router.post("/mounts/{mount_id:int}/pause")
def pause(request: Request, session: SessionDep, actor: Provider, mount_id: int, form: FormFields) -> Response:
    return _set_status(session, actor, mount_id, form, "paused", "已暂停挂载:不再定时同步与检测,排队中的作业已取消。")


@router.post("/mounts/{mount_id:int}/resume")
def resume(request: Request, session: SessionDep, actor: Provider, mount_id: int, form: FormFields) -> Response:
    return _set_status(session, actor, mount_id, form, "active", "已恢复挂载,作业进程将按更新周期同步。")


@router.post("/mounts/{mount_id:int}/probe")
def probe(request: Request, session: SessionDep, actor: Provider, mount_id: int) -> Response:
    run = mounts.check_connection(session, actor, mount_id)
    if run.status == "succeeded":
        return redirect(f"/exchange/mounts/{mount_id}", f"连接成功:已读取测试表,耗时 {_ms_text(run.latency_ms)}。")
    return redirect(f"/exchange/mounts/{mount_id}", f"连接失败:{run.error}", "error")


@router.post("/mounts/{mount_id:int}/runs")
def start_run(request: Request, session: SessionDep, actor: Provider, mount_id: int, form: FormFields) -> Response:
    kind = form.get("kind", "sync")
    try:
        with attempt(session):
            run = mounts.request_run(session, actor, mount_id, kind)
    except (ValidationFailed, Conflict) as exc:
        return redirect(f"/exchange/mounts/{mount_id}", exc.detail, "error")
    what = RUN_KIND_LABELS.get(kind, kind)
    return redirect(f"/exchange/runs/{run.id}", f"已排入队列:立即{what}(运行 #{run.id})。本页会自动刷新进度。")


# ---------------------------------------------------------------------------------------------
# runs


@router.get("/mounts/{mount_id:int}/runs")
def runs_page(request: Request, session: SessionDep, actor: Viewer, mount_id: int, page: str = "1") -> Response:
    mount, resource = mounts.get_mount(session, actor, mount_id)
    number = max(int_or_none(page) or 1, 1)
    found = mounts.list_runs(session, actor, mount_id, page=number)
    context = {
        "title": f"同步与检测记录:{resource.name}",
        "m": mount,
        "r": resource,
        "runs": found,
        "page": number,
        "has_next": len(found) == mounts.RUN_PAGE_SIZE,
    }
    return render(request, "exchange/runs.html", context, actor=actor)


@router.get("/runs/{run_id:int}")
def run_detail(request: Request, session: SessionDep, actor: Viewer, run_id: int) -> Response:
    run, mount, resource = mounts.get_run(session, actor, run_id)
    record = repo.base_table(session, resource.id)
    expected_rows = record.row_count if record is not None and run.kind == "sync" else 0
    active = run.status in ("queued", "running")
    context = {
        "title": f"运行 #{run.id}",
        "run": run,
        "m": mount,
        "r": resource,
        "active": active,
        "refresh_seconds": REFRESH_SECONDS if active else None,
        "expected_rows": expected_rows,
        "percent": min(int(run.progress * 100 / expected_rows), 99) if active and expected_rows else None,
    }
    return render(request, "exchange/run_detail.html", context, actor=actor)


# ---------------------------------------------------------------------------------------------
# freshness (A8.2)


@router.get("/freshness")
def freshness_list(
    request: Request, session: SessionDep, actor: Monitor, department_id: str = "", late: str = "", page: str = "1"
) -> Response:
    f: dict[str, Any] = {"department_id": int_or_none(department_id), "late": "1" if late else ""}
    number = max(int_or_none(page) or 1, 1)
    rows, total = freshness.list_freshness(
        session,
        actor,
        department_id=f["department_id"],
        late_only=bool(f["late"]),
        page=number,
        page_size=FRESHNESS_PAGE_SIZE,
    )
    context = {
        "title": "数据更新及时性",
        "rows": rows,
        "total": total,
        "page": number,
        "has_next": number * FRESHNESS_PAGE_SIZE < total,
        "f": f,
        "departments": identity_service.list_departments(session, actor),
        "pager_base": pager_base("/exchange/freshness", f),
    }
    return render(request, "exchange/freshness.html", context, actor=actor)


# ---------------------------------------------------------------------------------------------
# dashboard


@register_panels
def exchange_panels(session: Session, actor: Actor) -> list[Panel]:
    """Late resources: the provider's own, and those a monitor oversees."""
    panels: list[Panel] = []
    if actor.can(Permission.exchange_mount) and actor.department_id is not None:
        late = [f for f in freshness.assess_all(session, actor, department_id=actor.department_id) if f.late]
        if late:
            panels.append(
                Panel(
                    title="超期未同步的本部门资源",
                    count=len(late),
                    link="/exchange/mounts",
                    lines=[(f"{f.row.name}({f.late_text})", f"/catalog/{f.row.resource_id}") for f in late[:5]],
                    tone="late",
                )
            )
    elif actor.can(Permission.exchange_monitor):
        late = [f for f in freshness.assess_all(session, actor) if f.late]
        panels.append(
            Panel(
                title="超期未同步的资源",
                count=len(late),
                link="/exchange/freshness?late=1",
                lines=[(f"{f.row.name}({f.late_text})", f"/catalog/{f.row.resource_id}") for f in late[:5]],
                tone="late" if late else "",
            )
        )
    return panels
