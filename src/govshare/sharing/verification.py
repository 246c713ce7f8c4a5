"""Verification (核验, A22.1): a consumer checks that values belong together — e.g. a 身份证号 and a
姓名 — and learns only ``match`` or ``no_match``, never the data.

The provider decides, per resource, whether verification is allowed and on which 信息项
(``VerificationSetting``). A check must send a value for **every** chosen 信息项 — the provider
chooses the combination (身份证号 + 姓名), so a consumer cannot probe one column alone — and for no
other: an item outside the setting is refused (403 ``item_not_enabled``), as is, for a
conditional resource, an item outside the consumer's grant (403 ``item_not_granted``): minimum
necessary applies to verification as to reads. 不予共享, unpublished and 涉密 resources are
"not found" by this path as by every other.

Who may ask: a consumer system (HMAC or token, resolved by ``consumer_auth``), or a person holding
``sharing:read_data``; for a conditional resource through a usable grant of their department
(and, for a system, one naming that system), for an unconditional one without. Each check leaves an
access record (kind ``verify``, row_count 0, the result in ``detail``) and ``sharing.data.verified``
in the caller's transaction; the values themselves are never stored or logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, literal, select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog.enums import ResourceStatus, ShareType
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.repository import resource_with_items
from govshare.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from govshare.exchange import base
from govshare.exchange.models import BaseTable
from govshare.identity.actor import Actor
from govshare.identity.permissions import Permission
from govshare.kit import clock
from govshare.sharing.access import record_access
from govshare.sharing.data import base_connection
from govshare.sharing.grants import usable_grant
from govshare.sharing.models import VerificationSetting

MAX_VALUE_LENGTH = 200
NOT_REACHABLE = "信息资源不存在或不可共享"


@dataclass(frozen=True)
class SettingView:
    resource: Resource
    setting: VerificationSetting | None
    items: list[DataItem]  # the resource's shareable 信息项, the choice offered

    @property
    def enabled(self) -> bool:
        return bool(self.setting and self.setting.enabled and self.setting.data_item_ids)

    @property
    def chosen_ids(self) -> list[int]:
        return [int(i) for i in self.setting.data_item_ids] if self.setting else []

    @property
    def chosen_items(self) -> list[DataItem]:
        chosen = set(self.chosen_ids)
        return [i for i in self.items if i.id in chosen]


@dataclass(frozen=True)
class VerificationResult:
    result: str  # match | no_match
    resource_id: int
    grant_id: int | None
    data_item_ids: list[int]

    @property
    def matched(self) -> bool:
        return self.result == "match"


def item_key(item_id: int) -> str:
    return f"i{item_id}"


def _reachable(session: Session, *, resource_id: int | None = None, code: str | None = None) -> Resource:
    stmt = select(Resource)
    stmt = stmt.where(Resource.id == resource_id) if resource_id is not None else stmt.where(Resource.code == code)
    resource = session.execute(stmt).scalar_one_or_none()
    if (
        resource is None
        or resource.status != ResourceStatus.published
        or resource.classified
        or resource.share_type not in (ShareType.unconditional, ShareType.conditional)
    ):
        raise NotFound(NOT_REACHABLE, code="resource_not_found")
    loaded = resource_with_items(session, resource.id)
    assert loaded is not None
    return loaded


def _setting(session: Session, resource_id: int) -> VerificationSetting | None:
    return session.execute(
        select(VerificationSetting).where(VerificationSetting.resource_id == resource_id)
    ).scalar_one_or_none()


def get_setting(session: Session, actor: Actor, resource_id: int) -> SettingView:
    """A published, shareable resource's verification setting, for anyone who can read the catalog."""
    actor.require(Permission.catalog_read)
    resource = _reachable(session, resource_id=resource_id)
    return SettingView(resource, _setting(session, resource.id), [i for i in resource.items if i.shareable])


def may_configure(actor: Actor, resource: Resource) -> bool:
    """The provider's data administrators (who answer its applications) set verification."""
    if actor.kind == "system":
        return True
    return actor.can(Permission.sharing_decide) and actor.department_id == resource.provider_id


def update_setting(
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    enabled: bool,
    data_item_ids: Sequence[int],
    expected_version: int | None = None,
) -> VerificationSetting:
    """Allow or stop verification on a resource and choose its 信息项 (provider only; audited)."""
    view = get_setting(session, actor, resource_id)
    resource = view.resource
    if not may_configure(actor, resource):
        raise Forbidden("只有提供部门的数据资源管理员可以设置数据核验", code="not_provider")
    offered = {i.id: i for i in view.items}
    chosen = sorted({int(i) for i in data_item_ids})
    errors = [FieldError("data_item_ids", f"信息项 {i} 不属于该信息资源或不可共享") for i in chosen if i not in offered]
    if enabled and not chosen:
        errors.append(FieldError("data_item_ids", "开启核验须至少选择一个信息项"))
    if errors:
        raise ValidationFailed("核验设置有误", errors=errors)
    setting = view.setting
    before = None if setting is None else {"enabled": setting.enabled, "data_item_ids": list(setting.data_item_ids)}
    if setting is None:
        setting = VerificationSetting(resource_id=resource.id, version=1)
        session.add(setting)
    elif expected_version is not None and expected_version != setting.version:
        raise Conflict("核验设置已被他人修改,请刷新页面后重试", code="stale_version")
    else:
        setting.version += 1
    setting.enabled = enabled
    setting.data_item_ids = chosen
    setting.updated_by_id = actor.user_id
    setting.updated_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor,
        Action.verification_setting_changed,
        object_type="resource",
        object_id=resource.id,
        before=before,
        after={"enabled": enabled, "data_item_ids": chosen},
        department_id=resource.provider_id,
    )
    return setting


# --- the check -----------------------------------------------------------------------------------


def _parse_keys(match: Mapping[str, Any]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    errors: list[FieldError] = []
    for key, value in match.items():
        if not (isinstance(key, str) and key.startswith("i") and key[1:].isdigit()):
            errors.append(FieldError(f"match.{key}", "信息项应写作 i<信息项ID>,如 i123"))
            continue
        out[int(key[1:])] = value
    if not match:
        errors.append(FieldError("match", "请提供要核验的信息项及其值"))
    if errors:
        raise ValidationFailed("核验请求有误", errors=errors)
    return out


def _coerce(item: DataItem, value: Any) -> Any:
    """The value as the base column's type; a value that cannot be that type is refused."""
    key = f"match.{item_key(item.id)}"
    if value is None or isinstance(value, list | dict):
        raise ValidationFailed("核验请求有误", errors=[FieldError(key, f"「{item.name}」的值无效")])
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not isinstance(value, bool) and (not text or len(text) > MAX_VALUE_LENGTH):
        raise ValidationFailed("核验请求有误", errors=[FieldError(key, f"「{item.name}」的值不能为空或过长")])
    try:
        if item.data_type in ("N", "Y", "B", "F"):
            return Decimal(text)
        if item.data_type == "I":
            return int(text)
        if item.data_type == "D":
            return dt.date.fromisoformat(text)
        if item.data_type == "T":
            return dt.datetime.fromisoformat(text)
        if item.data_type == "L":
            if isinstance(value, bool):
                return value
            if text.lower() in ("true", "1", "是"):
                return True
            if text.lower() in ("false", "0", "否"):
                return False
            raise ValueError(text)
    except (ValueError, InvalidOperation):
        raise ValidationFailed(
            "核验请求有误", errors=[FieldError(key, f"「{item.name}」的值与其数据类型不符")]
        ) from None
    return text


def _lookup(session: Session, resource: Resource, values: dict[int, Any]) -> bool:
    table_row = session.execute(select(BaseTable).where(BaseTable.resource_id == resource.id)).scalar_one_or_none()
    in_base = {int(c["item_id"]) for c in table_row.columns} if table_row is not None else set()
    if table_row is None or not set(values) <= in_base:
        raise Conflict("该信息资源的数据尚未归集到大数据基座,暂不能核验", code="base_not_ready")
    items = {i.id: i for i in resource.items}
    specs = [base.ColumnSpec(item_id=i, name=items[i].name, data_type=items[i].data_type) for i in sorted(values)]
    table = base.table_for(table_row.table_name, specs)
    stmt = (
        select(literal(1))
        .select_from(table)
        .where(and_(*[table.c[base.column_name(i)] == values[i] for i in sorted(values)]))
        .limit(1)
    )
    with base_connection(session) as conn:
        return conn.execute(stmt).first() is not None


def verify(
    session: Session,
    actor: Actor,
    *,
    match: Mapping[str, Any],
    resource_id: int | None = None,
    resource_code: str | None = None,
    grant_id: int | None = None,
    system_id: int | None = None,
) -> VerificationResult:
    """Answer match / no_match for values of the resource's chosen 信息项 (module docstring).

    ``system_id`` is the calling consumer system (its authentication already checked); without
    one the actor is a person and needs ``sharing:read_data``.
    """
    if system_id is None:
        actor.require(Permission.shared_data_read)
    if actor.department_id is None:
        raise Forbidden("只有政务部门可以核验共享数据", code="no_department")
    resource = _reachable(session, resource_id=resource_id, code=resource_code)
    setting = _setting(session, resource.id)
    if setting is None or not setting.enabled or not setting.data_item_ids:
        raise Forbidden("该信息资源未开放数据核验", code="verification_disabled")
    values = _parse_keys(match)
    enabled = {int(i) for i in setting.data_item_ids}
    outside = sorted(set(values) - enabled)
    if outside:
        keys = "、".join(item_key(i) for i in outside)
        raise Forbidden(f"信息项 {keys} 不可用于核验", code="item_not_enabled")
    grant = None
    if resource.share_type == ShareType.conditional and grant_id is None:
        raise ValidationFailed(
            "有条件共享的信息资源须凭授权核验", errors=[FieldError("grant_id", "请提供授权号 grant_id")]
        )
    if grant_id is not None:
        grant = usable_grant(
            session, grant_id=grant_id, consumer_department_id=actor.department_id, system_id=system_id
        )
        if grant.resource_id != resource.id:
            raise NotFound("授权不存在", code="grant_not_found")
    if grant is not None and resource.share_type == ShareType.conditional:
        granted = {g.data_item_id for g in grant.items}
        ungranted = sorted(set(values) - granted)
        if ungranted:
            keys = "、".join(item_key(i) for i in ungranted)
            raise Forbidden(f"信息项 {keys} 不在授权范围内", code="item_not_granted")
    missing = sorted(enabled - set(values))
    if missing:
        items = {i.id: i.name for i in resource.items}
        names = "、".join(f"「{items.get(i, i)}」({item_key(i)})" for i in missing)
        raise ValidationFailed(
            f"核验须同时提供 {names} 的值",
            errors=[FieldError(f"match.{item_key(i)}", "核验须提供此信息项的值") for i in missing],
        )
    by_id = {i.id: i for i in resource.items}
    coerced = {i: _coerce(by_id[i], v) for i, v in values.items()}
    result = "match" if _lookup(session, resource, coerced) else "no_match"
    chosen = sorted(values)
    purpose = grant.purpose if grant is not None else "无条件共享数据核验"
    record_access(
        session,
        kind="verify",
        resource_id=resource.id,
        provider_id=resource.provider_id,
        consumer_department_id=actor.department_id,
        consumer_system_id=system_id,
        user_id=actor.user_id,
        grant_id=grant.id if grant is not None else None,
        purpose=purpose,
        data_item_ids=chosen,
        row_count=0,
        request_id=actor.context.request_id,
        detail={"result": result},
    )
    audit.record(
        session,
        actor,
        Action.data_verified,
        object_type="resource",
        object_id=resource.id,
        after={
            "grant_id": grant.id if grant is not None else None,
            "consumer_system_id": system_id,
            "data_item_ids": chosen,
            "result": result,
        },
    )
    return VerificationResult(result, resource.id, grant.id if grant is not None else None, chosen)
