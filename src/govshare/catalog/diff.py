"""Differences between two versions of a resource (A16.1), or a version and the working copy.

Fields are compared one by one; 信息项 are matched by their name key (``codes.name_key``), so an
item whose name changes shows as one removed and one added, and an item that keeps its name shows
each changed attribute. Values come raw (``before``/``after``) and as Chinese text for pages.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from govshare.catalog import service
from govshare.catalog.codes import name_key
from govshare.catalog.enums import label
from govshare.errors import ValidationFailed
from govshare.identity.actor import Actor

FIELD_LABELS: dict[str, str] = {
    "name": "信息资源名称",
    "code": "信息资源代码",
    "classification_code": "信息资源分类",
    "provider_office": "提供方内部部门",
    "topic_id": "所属主题",
    "summary": "摘要",
    "scenario": "应用场景",
    "format_class": "格式分类",
    "format_type": "格式类型",
    "share_type": "共享类型",
    "share_condition": "共享条件",
    "share_basis": "不予共享依据",
    "channel": "共享方式",
    "open_type": "开放类型",
    "open_condition": "开放条件",
    "update_cycle": "更新周期",
    "sensitivity_level": "数据分级",
    "classified": "是否涉密",
    "related_codes": "关联资源代码",
}
ITEM_FIELD_LABELS: dict[str, str] = {
    "name": "信息项名称",
    "data_type": "数据类型",
    "length": "数据长度",
    "description": "描述",
    "sensitivity": "敏感类别",
    "shareable": "是否可共享",
    "is_basic": "是否基本信息项",
}
_ENUM_FIELDS = frozenset(
    {
        "format_class",
        "share_type",
        "channel",
        "open_type",
        "update_cycle",
        "sensitivity_level",
        "data_type",
        "sensitivity",
    }
)


class FieldChange(BaseModel):
    field: str
    label: str
    before: Any
    after: Any
    before_text: str
    after_text: str


class ItemChange(BaseModel):
    name: str
    change: Literal["added", "removed", "changed"]
    fields: list[FieldChange]


class ResourceDiff(BaseModel):
    resource_id: int
    a: str  # a version number, or "working"
    b: str
    a_label: str
    b_label: str
    fields: list[FieldChange]
    items: list[ItemChange]

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.items)


def text(field: str, value: Any) -> str:
    """A value as a person reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field in _ENUM_FIELDS:
        return label(str(value))
    return str(value)


def _change(field: str, labels: dict[str, str], before: Any, after: Any) -> FieldChange:
    return FieldChange(
        field=field,
        label=labels.get(field, field),
        before=before,
        after=after,
        before_text=text(field, before),
        after_text=text(field, after),
    )


def diff_snapshots(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[FieldChange], list[ItemChange]]:
    """Field-level and item-level differences from snapshot ``a`` to snapshot ``b``."""
    fields = [
        _change(field, FIELD_LABELS, a.get(field), b.get(field))
        for field in FIELD_LABELS
        if a.get(field) != b.get(field)
    ]
    a_items = {name_key(str(i.get("name", ""))): i for i in a.get("items", [])}
    b_items = {name_key(str(i.get("name", ""))): i for i in b.get("items", [])}
    items: list[ItemChange] = []
    for key, old in a_items.items():
        new = b_items.get(key)
        if new is None:
            items.append(ItemChange(name=str(old.get("name")), change="removed", fields=[]))
            continue
        changes = [
            _change(field, ITEM_FIELD_LABELS, old.get(field), new.get(field))
            for field in ITEM_FIELD_LABELS
            if old.get(field) != new.get(field)
        ]
        if changes:
            items.append(ItemChange(name=str(new.get("name")), change="changed", fields=changes))
    for key, new in b_items.items():
        if key not in a_items:
            items.append(ItemChange(name=str(new.get("name")), change="added", fields=[]))
    return fields, items


def parse_ref(value: str | int | None) -> int | None:
    """A version reference from a query string: a number, or "working"/"current"/empty for the working copy."""
    if value is None or isinstance(value, int):
        return value
    cleaned = value.strip().lower()
    if cleaned in ("", "working", "current"):
        return None
    if cleaned.isdigit() and int(cleaned) >= 1:
        return int(cleaned)
    raise ValidationFailed("版本应为正整数,或 working 表示当前工作稿", code="bad_version_ref", errors=[])


def diff(session: Session, actor: Actor, resource_id: int, a: int | None, b: int | None) -> ResourceDiff:
    """Differences between versions ``a`` and ``b`` of a readable resource; None is the working copy."""
    resource = service.get_resource(session, actor, resource_id)

    def load(ref: int | None) -> tuple[dict[str, Any], str]:
        if ref is None:
            return service.snapshot_of(session, resource), "当前工作稿"
        return dict(service.get_version(session, actor, resource_id, ref).snapshot), f"第 {ref} 版"

    a_snapshot, a_label = load(a)
    b_snapshot, b_label = load(b)
    fields, items = diff_snapshots(a_snapshot, b_snapshot)
    return ResourceDiff(
        resource_id=resource_id,
        a="working" if a is None else str(a),
        b="working" if b is None else str(b),
        a_label=a_label,
        b_label=b_label,
        fields=fields,
        items=items,
    )
