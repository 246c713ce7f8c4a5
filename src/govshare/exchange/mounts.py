"""Table mounts as the provider and the monitors see them: read, create, edit, pause, test, runs.

Creating goes through ``runs.mount_table`` (which splits and encrypts the password); editing keeps
the stored secret unless a new one is typed, and the audit trail records only *that* a secret was
replaced; an edit of the source (address, table, mapping, watermark or key) makes the next run
of an incremental mount a full refresh. Reads start from ``repository.readable`` (a mount another
department cannot see is 404); changes need the provider's own data administrator
(``compiles_for``; a monitor gets 403). A 测试连接 runs the channel's probe in the request and
records it as a finished probe run, so it shows in the run list like the scheduled ones.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.permissions import compiles_for
from govshare.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.exchange import base, repository, runs
from govshare.exchange import run_repository as run_repo
from govshare.exchange.channels import SyncFailed, get_channel
from govshare.exchange.models import Mount, SyncRun
from govshare.exchange.runs import _decrypt, _encrypt  # the one place mount secrets are sealed
from govshare.exchange.schemas import MountRead, TableMountCreate, TableMountUpdate
from govshare.exchange.sources import parse_source_url, split_secret
from govshare.identity.actor import Actor
from govshare.kit import clock

RUN_PAGE_SIZE = 50


def with_password(url: str, password: str) -> str:
    """The address with a separately typed password joined in (it is split off again before storing)."""
    parsed = parse_source_url(url)
    if not password or parsed.get_backend_name() == "sqlite":  # a SQLite file has no password
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def mount_read(mount: Mount, resource: Resource) -> MountRead:
    secret = _decrypt(mount.secret_encrypted)
    config = mount.config or {}
    return MountRead(
        id=mount.id,
        resource_id=resource.id,
        resource_code=resource.code,
        resource_name=resource.name,
        provider_id=resource.provider_id,
        channel=mount.channel,
        status=mount.status,
        url=str(config.get("url", "")),
        table=str(config.get("table", "")),
        mapping={int(k): v for k, v in (mount.mapping or {}).items()},
        sync_mode=mount.sync_mode,
        watermark_column=mount.watermark_column,
        key_column=mount.key_column,
        test_url=str(config.get("test_url", "")),
        test_table=mount.test_table,
        full_refresh_days=mount.full_refresh_days,
        full_refresh_pending=mount.full_refresh_pending,
        has_password=bool(secret.get("password") or secret.get("credential")),
        has_test_password=bool(secret.get("test_password")),
        created_at=mount.created_at,
        version=mount.version,
    )


def get_mount(session: Session, actor: Actor, mount_id: int) -> tuple[Mount, Resource]:
    """A mount the actor may see (its provider, or those who monitor it); 404 otherwise."""
    found = repository.readable_mount(session, actor, mount_id)
    if found is None:
        raise NotFound("挂载不存在或无权查看")
    return found


def list_mounts(
    session: Session,
    actor: Actor,
    *,
    resource_id: int | None = None,
    department_id: int | None = None,
    channel: str | None = None,
) -> list[tuple[Mount, Resource]]:
    """The mounts the actor may see, newest first."""
    return repository.mounts(session, actor, resource_id=resource_id, department_id=department_id, channel=channel)


def _writable(session: Session, actor: Actor, mount_id: int) -> tuple[Mount, Resource]:
    mount, resource = get_mount(session, actor, mount_id)
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门的数据资源管理员可以修改本部门的挂载")
    return mount, resource


def may_manage(actor: Actor, resource: Resource) -> bool:
    """Whether the page shows the provider's buttons (edit, pause, 立即同步, 测试连接)."""
    return compiles_for(actor, resource.provider_id) and actor.kind != "system"


def create_table_mount(session: Session, actor: Actor, data: TableMountCreate) -> Mount:
    """Mount a provider table behind a 库表 resource (A24.2); one table mount per resource."""
    resource = session.get(Resource, data.resource_id)
    if resource is None:
        raise NotFound("信息资源不存在")
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门可以挂载本部门的信息资源")
    if repository.mount_for_resource(session, data.resource_id, "table") is not None:
        raise Conflict("该信息资源已挂载数据源,请编辑现有挂载", code="mount_exists")
    test_url = with_password(data.test_url.strip(), data.test_password) if data.test_url.strip() else ""
    return runs.mount_table(
        session,
        actor,
        resource_id=data.resource_id,
        url=with_password(data.url.strip(), data.password),
        table=data.table.strip(),
        mapping={k: v.strip() for k, v in data.mapping.items()},
        sync_mode=data.sync_mode,
        watermark_column=data.watermark_column.strip(),
        key_column=data.key_column.strip(),
        test_url=test_url,
        test_table=data.test_table.strip(),
        full_refresh_days=data.full_refresh_days,
    )


# Settings whose change means the base may hold rows the source no longer has (or a different
# source's): the next run of an incremental mount loads in full.
SOURCE_SETTINGS = ("url", "table", "mapping", "watermark_column", "key_column")


def _settings_of(mount: Mount) -> dict[str, Any]:
    """The non-secret settings of a mount, as the audit trail records them."""
    config = mount.config or {}
    return {
        "url": str(config.get("url", "")),
        "table": str(config.get("table", "")),
        "mapping": dict(mount.mapping or {}),
        "sync_mode": mount.sync_mode,
        "watermark_column": mount.watermark_column,
        "key_column": mount.key_column,
        "test_url": str(config.get("test_url", "")),
        "test_table": mount.test_table,
        "full_refresh_days": mount.full_refresh_days,
    }


def update_table_mount(session: Session, actor: Actor, mount_id: int, data: TableMountUpdate) -> Mount:
    """Edit a table mount; a secret left empty is kept, a new one replaces it (audited, never shown)."""
    mount, resource = _writable(session, actor, mount_id)
    if mount.channel != "table":
        raise InvalidTransition("只能在此编辑库表交换的挂载", code="mount_not_table")
    if data.expected_version is not None and data.expected_version != mount.version:
        raise Conflict("挂载已被他人修改,请刷新后重试", code="version_conflict")
    before = _settings_of(mount)
    url = (data.url if data.url is not None else before["url"]).strip()
    test_url = (data.test_url if data.test_url is not None else before["test_url"]).strip()
    mapping = (
        {k: v.strip() for k, v in data.mapping.items()}
        if data.mapping is not None
        else {int(k): v for k, v in before["mapping"].items()}
    )
    settings: dict[str, Any] = {
        "table": (data.table if data.table is not None else before["table"]).strip(),
        "sync_mode": data.sync_mode if data.sync_mode is not None else mount.sync_mode,
        "watermark_column": (
            data.watermark_column if data.watermark_column is not None else mount.watermark_column
        ).strip(),
        "key_column": (data.key_column if data.key_column is not None else mount.key_column).strip(),
        "full_refresh_days": data.full_refresh_days if data.full_refresh_days is not None else mount.full_refresh_days,
    }
    item_resource = run_repo.resource_with_items(session, resource.id)
    assert item_resource is not None
    runs.validate_table_mount(item_resource, mapping=mapping, **settings)
    stored_url, typed_password = split_secret(url)
    secret = _decrypt(mount.secret_encrypted)
    replaced: list[str] = []
    new_password = data.password or typed_password
    if new_password:
        secret["password"] = new_password
        replaced.append("password")
    config: dict[str, Any] = {**(mount.config or {}), "url": stored_url, "table": settings["table"]}
    if test_url:
        config["test_url"], typed_test = split_secret(test_url)
        if data.test_password or typed_test:
            secret["test_password"] = data.test_password or typed_test
            replaced.append("test_password")
    else:
        config.pop("test_url", None)
        if secret.pop("test_password", None):
            replaced.append("test_password")
    mount.config = config
    mount.mapping = {str(k): v for k, v in mapping.items()}
    mount.sync_mode = settings["sync_mode"]
    mount.watermark_column = settings["watermark_column"]
    mount.key_column = settings["key_column"]
    mount.full_refresh_days = settings["full_refresh_days"]
    mount.test_table = (data.test_table if data.test_table is not None else mount.test_table).strip()
    if replaced:
        mount.secret_encrypted = _encrypt(secret)
    items = {item.id: item for item in item_resource.items}
    record = repository.base_table(session, resource.id)
    if record is not None:
        record.columns = [
            {"column": base.column_name(i), "item_id": i, "name": items[i].name, "type": items[i].data_type}
            for i in sorted(mapping, key=lambda i: items[i].position)
        ]
    mount.version += 1
    session.flush()
    after = _settings_of(mount)
    changed = {k for k in after if after[k] != before[k]}
    if changed & set(SOURCE_SETTINGS) and not mount.full_refresh_pending:
        mount.full_refresh_pending = True  # the next run loads in full (see runs.full_refresh_reason)
        after["full_refresh_pending"] = True
        before["full_refresh_pending"] = False
        changed.add("full_refresh_pending")
    if changed:
        audit.record(
            session,
            actor,
            Action.mount_updated,
            object_type="mount",
            object_id=mount.id,
            before={k: before[k] for k in sorted(changed)},
            after={k: after[k] for k in sorted(changed)},
        )
    if replaced:
        audit.record(
            session,
            actor,
            Action.mount_secret_replaced,
            object_type="mount",
            object_id=mount.id,
            after={"secrets": replaced},
        )
    if data.status is not None and data.status != mount.status:
        set_status(session, actor, mount.id, data.status)
    return mount


def set_status(
    session: Session, actor: Actor, mount_id: int, status: str, *, expected_version: int | None = None
) -> Mount:
    """Pause (no more scheduled runs; queued ones are cancelled) or resume a mount."""
    mount, _resource = _writable(session, actor, mount_id)
    if status not in ("active", "paused"):
        raise ValidationFailed("状态只能是启用或暂停")
    if expected_version is not None and expected_version != mount.version:
        raise Conflict("挂载已被他人修改,请刷新后重试", code="version_conflict")
    if mount.status == status:
        raise InvalidTransition("挂载已暂停" if status == "paused" else "挂载已在运行")
    previous = mount.status
    mount.status = status
    mount.version += 1
    cancelled = 0
    if status == "paused":
        for run in repository.queued_runs(session, mount.id):
            run.status = "cancelled"
            run.error = "挂载已暂停,作业已取消"
            run.finished_at = clock.now()
            cancelled += 1
    session.flush()
    audit.record(
        session,
        actor,
        Action.mount_paused if status == "paused" else Action.mount_resumed,
        object_type="mount",
        object_id=mount.id,
        before={"status": previous},
        after={"status": status, "cancelled_runs": cancelled} if cancelled else {"status": status},
    )
    return mount


def check_connection(session: Session, actor: Actor, mount_id: int) -> SyncRun:
    """测试连接: run the channel's probe now (test account and table) and record it as a probe run."""
    mount, _resource = _writable(session, actor, mount_id)
    spec = runs.mount_spec(session, mount)
    started_at = clock.now()
    started = time.perf_counter()
    try:
        outcome = get_channel(spec.channel).probe(spec)
        ok, latency, error = outcome.ok, outcome.latency_ms, outcome.error
    except SyncFailed as exc:
        ok, latency, error = False, None, exc.detail
    run = SyncRun(
        mount_id=mount.id,
        kind="probe",
        trigger="manual",
        status="succeeded" if ok else "failed",
        scheduled_for=started_at,
        started_at=started_at,
        finished_at=started_at + dt.timedelta(seconds=time.perf_counter() - started),
        duration_ms=int((time.perf_counter() - started) * 1000),
        latency_ms=latency,
        error=error,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor,
        Action.sync_requested,
        object_type="sync_run",
        object_id=run.id,
        after={"mount_id": mount.id, "kind": "probe", "inline": True, "ok": ok},
    )
    return run


def request_run(session: Session, actor: Actor, mount_id: int, kind: str) -> SyncRun:
    """立即同步 / 立即检测: queue a manual run (the CLI's ``govshare sync`` uses the same service)."""
    get_mount(session, actor, mount_id)
    return runs.request_run(session, actor, mount_id=mount_id, kind=kind)


def list_runs(session: Session, actor: Actor, mount_id: int, *, page: int = 1) -> list[SyncRun]:
    """A mount's runs, newest first, a page at a time."""
    get_mount(session, actor, mount_id)
    return repository.runs_of(session, mount_id, offset=(max(page, 1) - 1) * RUN_PAGE_SIZE, limit=RUN_PAGE_SIZE)


def get_run(session: Session, actor: Actor, run_id: int) -> tuple[SyncRun, Mount, Resource]:
    found = repository.readable_run(session, actor, run_id)
    if found is None:
        raise NotFound("运行记录不存在或无权查看")
    return found


def last_runs(session: Session, mount_id: int) -> dict[str, SyncRun | None]:
    """The latest finished sync and probe of a mount (for the lists and the detail page)."""
    return {kind: repository.last_run(session, mount_id, kind) for kind in ("sync", "probe")}


def items_of(session: Session, resource_id: int) -> list[DataItem]:
    """The resource's 信息项 in order (for showing a visible mount's mapping)."""
    return run_repo.items_of(session, resource_id)
