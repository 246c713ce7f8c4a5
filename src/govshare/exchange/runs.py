"""Mounting a table source behind a resource, queueing runs, and turning a mount into a MountSpec.

A mount's password (and its test account's) is encrypted at rest with the platform data key and
is never returned, shown or written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.models import Resource
from govshare.catalog.permissions import compiles_for
from govshare.config import get_settings
from govshare.errors import FieldError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from govshare.exchange import base, gateway_repository
from govshare.exchange import run_repository as repository
from govshare.exchange.base import ColumnSpec
from govshare.exchange.channels import MountSpec
from govshare.exchange.models import BaseTable, Mount, SyncRun
from govshare.exchange.sources import split_secret
from govshare.identity.actor import Actor
from govshare.kit import clock, crypto

SYNC_MODES = ("full", "incremental")
DEFAULT_FULL_REFRESH_DAYS = 7
MAX_FULL_REFRESH_DAYS = 366


def _encrypt(secret: dict[str, str]) -> str:
    settings = get_settings()
    return crypto.encrypt(json.dumps(secret), settings.security.data_key, settings.security.crypto_profile)


def _decrypt(stored: str) -> dict[str, str]:
    if not stored:
        return {}
    data: dict[str, str] = json.loads(crypto.decrypt(stored, get_settings().security.data_key))
    return data


def mount_table(
    session: Session,
    actor: Actor,
    *,
    resource_id: int,
    url: str,
    table: str,
    mapping: dict[int, str],
    sync_mode: str = "full",
    watermark_column: str = "",
    key_column: str = "",
    test_url: str = "",
    test_table: str = "",
    full_refresh_days: int = DEFAULT_FULL_REFRESH_DAYS,
) -> Mount:
    """Mount a provider table behind a resource (A24.2); only the provider's compilers may.

    Every 信息项 in the mapping must belong to the resource; incremental sync needs a watermark
    column and a key column that is mapped. Passwords in the addresses are stored encrypted.
    """
    resource = repository.resource_with_items(session, resource_id)
    if resource is None:
        raise NotFound("信息资源不存在")
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门可以挂载本部门的信息资源")
    validate_table_mount(
        resource,
        table=table,
        mapping=mapping,
        sync_mode=sync_mode,
        watermark_column=watermark_column,
        key_column=key_column,
        full_refresh_days=full_refresh_days,
    )
    items = {item.id: item for item in resource.items}
    stored_url, password = split_secret(url)
    secret = {"password": password}
    config: dict[str, Any] = {"url": stored_url, "table": table.strip()}
    if test_url:
        config["test_url"], secret["test_password"] = split_secret(test_url)
    mount = Mount(
        resource_id=resource.id,
        channel="table",
        config=config,
        secret_encrypted=_encrypt(secret),
        sync_mode=sync_mode,
        watermark_column=watermark_column,
        key_column=key_column,
        mapping={str(k): v for k, v in mapping.items()},
        test_table=test_table,
        full_refresh_days=full_refresh_days,
        created_by_id=actor.user_id,
    )
    session.add(mount)
    columns = [
        {"column": base.column_name(i), "item_id": i, "name": items[i].name, "type": items[i].data_type}
        for i in sorted(mapping, key=lambda i: items[i].position)
    ]
    record = repository.base_table(session, resource.id)
    if record is None:
        session.add(BaseTable(resource_id=resource.id, table_name=base.table_name(resource.id), columns=columns))
    else:
        record.columns = columns
    session.flush()
    audit.record(
        session,
        actor,
        Action.mount_created,
        object_type="mount",
        object_id=mount.id,
        after={
            "resource_id": resource.id,
            "channel": "table",
            "table": table,
            "sync_mode": sync_mode,
            "full_refresh_days": full_refresh_days,
        },
    )
    return mount


def validate_table_mount(
    resource: Resource,
    *,
    table: str,
    mapping: dict[int, str],
    sync_mode: str,
    watermark_column: str,
    key_column: str,
    full_refresh_days: int = DEFAULT_FULL_REFRESH_DAYS,
) -> None:
    """The rules of a table mount's configuration, for creating and for editing one (A24.2)."""
    items = {item.id: item for item in resource.items}
    errors: list[FieldError] = []
    if resource.channel != "table":
        errors.append(FieldError("channel", "该信息资源的共享方式不是库表交换"))
    if not mapping:
        errors.append(FieldError("mapping", "请至少映射一个信息项"))
    for item_id, source_column in mapping.items():
        if item_id not in items:
            errors.append(FieldError("mapping", f"信息项 {item_id} 不属于该信息资源"))
        if not source_column.strip():
            errors.append(
                FieldError("mapping", f"信息项「{items[item_id].name if item_id in items else item_id}」未填写源字段")
            )
    if not table.strip():
        errors.append(FieldError("table", "请填写源表或视图名"))
    if sync_mode not in SYNC_MODES:
        errors.append(FieldError("sync_mode", "同步方式只能是全量或增量"))
    if sync_mode == "incremental" and not watermark_column:
        errors.append(FieldError("watermark_column", "增量同步须填写单调递增的增量字段"))
    if sync_mode == "incremental" and not key_column:
        errors.append(FieldError("key_column", "增量同步须填写键字段"))
    if key_column and key_column not in mapping.values():
        errors.append(FieldError("key_column", "键字段须是已映射的源字段"))
    if not 0 <= full_refresh_days <= MAX_FULL_REFRESH_DAYS:
        errors.append(
            FieldError("full_refresh_days", f"定期全量刷新间隔须为 0 至 {MAX_FULL_REFRESH_DAYS} 天(0 表示不定期刷新)")
        )
    if errors:
        raise ValidationFailed("挂载配置有误", errors=errors)


def full_refresh_reason(mount: Mount, record: BaseTable | None, at: dt.datetime) -> str:
    """Why an incremental mount's next sync must load in full (``MountSpec.full_refresh``), or "".

    "source_changed" when its address, table, mapping, watermark or key was edited since its last full
    load; "periodic" when that load is older than ``full_refresh_days`` (0 = never). A mount with
    nothing loaded yet gets "" here: the channel loads it in full anyway (``full_initial``).
    """
    if mount.channel != "table" or mount.sync_mode != "incremental":
        return ""
    if mount.full_refresh_pending:
        return "source_changed"
    if record is None or record.last_good_sync_at is None or mount.full_refresh_days <= 0:
        return ""
    last = record.last_full_refresh_at
    if last is None or at - _naive(last) >= dt.timedelta(days=mount.full_refresh_days):
        return "periodic"
    return ""


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def mount_spec(session: Session, mount: Mount) -> MountSpec:
    """The plain description a channel runs on, with the secret decrypted."""
    items = {item.id: item for item in repository.items_of(session, mount.resource_id)}
    mapping = {int(k): v for k, v in mount.mapping.items() if int(k) in items}
    columns = [
        ColumnSpec(
            item_id=i,
            name=items[i].name,
            data_type=items[i].data_type,
            length=items[i].length,
            sensitivity=items[i].sensitivity,
        )
        for i in sorted(mapping, key=lambda i: items[i].position)
    ]
    config = dict(mount.config)
    if mount.channel == "api":  # the gateway's allow-list as it stands now: checked at every probe (A24.1)
        config["allow_list"] = gateway_repository.all_cidrs(session)
    return MountSpec(
        mount_id=mount.id,
        resource_id=mount.resource_id,
        channel=mount.channel,
        config=config,
        secret=_decrypt(mount.secret_encrypted),
        columns=columns,
        mapping=mapping,
        sync_mode=mount.sync_mode,
        watermark_column=mount.watermark_column,
        key_column=mount.key_column,
        test_table=mount.test_table,
        full_refresh=full_refresh_reason(mount, repository.base_table(session, mount.resource_id), _naive(clock.now())),
    )


def queue_run(
    session: Session,
    mount_id: int,
    *,
    kind: str = "sync",
    trigger: str = "schedule",
    scheduled_for: dt.datetime | None = None,
    attempt: int = 1,
) -> SyncRun:
    """Queue one run of a mount (used by the worker's scheduler and by ``request_sync``)."""
    run = SyncRun(
        mount_id=mount_id,
        kind=kind,
        trigger=trigger,
        status="queued",
        attempt=attempt,
        scheduled_for=scheduled_for or clock.now(),
    )
    session.add(run)
    session.flush()
    return run


def request_sync(session: Session, actor: Actor, *, resource_code: str, kind: str = "sync") -> SyncRun:
    """Queue a manual sync (or probe) of the resource's active mount; only its provider may."""
    resource = repository.resource_by_code(session, resource_code)
    if resource is None:
        raise NotFound(f"信息资源 {resource_code} 不存在")
    if not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门可以手动同步本部门的信息资源")
    mount = repository.active_mount_for(session, resource.id)
    if mount is None:
        raise NotFound("该信息资源尚未挂载数据源", code="mount_missing")
    return request_run(session, actor, mount_id=mount.id, kind=kind)


RUN_KINDS = ("sync", "probe")


def request_run(session: Session, actor: Actor, *, mount_id: int, kind: str = "sync") -> SyncRun:
    """Queue a manual sync or probe of an active mount now; only its provider may (pages, API and CLI).

    A run of that kind already due or running is returned instead of queueing a second one.
    """
    mount = repository.mount(session, mount_id)
    if mount is None:
        raise NotFound("挂载不存在")
    resource = session.get(Resource, mount.resource_id)
    if resource is None or not compiles_for(actor, resource.provider_id):
        raise Forbidden("只有提供部门可以手动同步本部门的信息资源")
    if kind not in RUN_KINDS:
        raise ValidationFailed("运行类型有误", errors=[FieldError("kind", "只能是 sync(同步)或 probe(检测)")])
    if mount.status != "active":
        raise InvalidTransition("挂载已暂停,请先恢复后再同步或检测", code="mount_paused")
    pending = repository.due_or_running(session, mount.id, kind, clock.now())
    if pending is not None:
        return pending
    run = queue_run(session, mount.id, kind=kind, trigger="manual")
    audit.record(
        session,
        actor,
        Action.sync_requested,
        object_type="sync_run",
        object_id=run.id,
        after={"mount_id": mount.id, "kind": kind},
    )
    return run
