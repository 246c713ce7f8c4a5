"""The catalog's closed vocabularies, with the Chinese labels users read."""

from __future__ import annotations

from enum import StrEnum


class ShareType(StrEnum):
    unconditional = "unconditional"
    conditional = "conditional"
    none = "none"


class Channel(StrEnum):
    api = "api"
    table = "table"
    file = "file"


class OpenType(StrEnum):
    open = "open"
    conditional_open = "conditional_open"
    closed = "closed"


class UpdateCycle(StrEnum):
    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"
    yearly = "yearly"
    other = "other"


class FormatClass(StrEnum):
    electronic_file = "electronic_file"
    spreadsheet = "spreadsheet"
    database = "database"
    image = "image"
    streaming = "streaming"
    self_describing = "self_describing"


class SensitivityLevel(StrEnum):
    general = "general"
    important = "important"
    core = "core"


class DataType(StrEnum):
    """信息项数据类型, by the national template's one-letter codes."""

    C = "C"
    N = "N"
    Y = "Y"
    D = "D"
    T = "T"
    L = "L"
    M = "M"
    G = "G"
    B = "B"
    I = "I"  # noqa: E741 - the template's own code for 整型
    F = "F"


class Sensitivity(StrEnum):
    """What a 信息项 holds, which decides its masking window (DESIGN.md)."""

    none = "none"
    id_number = "id_number"
    phone = "phone"
    person_name = "person_name"
    address = "address"
    bank_account = "bank_account"
    email = "email"
    other_personal = "other_personal"
    trade_secret = "trade_secret"


class ResourceStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    published = "published"
    withdrawn = "withdrawn"


class ReviewResult(StrEnum):
    passed = "passed"
    failed = "failed"


class ChangeTrigger(StrEnum):
    law = "law"
    reorganisation = "reorganisation"
    duty = "duty"


class ChangeRequestStatus(StrEnum):
    open = "open"  # the trigger is recorded; the department is preparing the request
    filed = "filed"  # submitted to the authority, awaiting its decision
    approved = "approved"
    rejected = "rejected"


class ExtensionStatus(StrEnum):
    none = "none"
    requested = "requested"
    granted = "granted"
    refused = "refused"


_ROWS: tuple[tuple[StrEnum, str], ...] = (
    (ShareType.unconditional, "无条件共享"),
    (ShareType.conditional, "有条件共享"),
    (ShareType.none, "不予共享"),
    (Channel.api, "接口"),
    (Channel.table, "库表"),
    (Channel.file, "文件"),
    (OpenType.open, "无条件开放"),
    (OpenType.conditional_open, "有条件开放"),
    (OpenType.closed, "不予开放"),
    (UpdateCycle.realtime, "实时"),
    (UpdateCycle.daily, "每日"),
    (UpdateCycle.weekly, "每周"),
    (UpdateCycle.monthly, "每月"),
    (UpdateCycle.quarterly, "每季度"),
    (UpdateCycle.half_yearly, "每半年"),
    (UpdateCycle.yearly, "每年"),
    (UpdateCycle.other, "其他"),
    (FormatClass.electronic_file, "电子文件"),
    (FormatClass.spreadsheet, "电子表格"),
    (FormatClass.database, "数据库"),
    (FormatClass.image, "图形图像"),
    (FormatClass.streaming, "流媒体"),
    (FormatClass.self_describing, "自描述格式"),
    (SensitivityLevel.general, "一般"),
    (SensitivityLevel.important, "重要"),
    (SensitivityLevel.core, "核心"),
    (DataType.C, "字符型C"),
    (DataType.N, "数值型N"),
    (DataType.Y, "货币型Y"),
    (DataType.D, "日期型D"),
    (DataType.T, "日期时间型T"),
    (DataType.L, "逻辑型L"),
    (DataType.M, "备注型M"),
    (DataType.G, "通用型G"),
    (DataType.B, "双精度型B"),
    (DataType.I, "整型I"),
    (DataType.F, "浮点型F"),
    (Sensitivity.none, "无"),
    (Sensitivity.id_number, "身份证号"),
    (Sensitivity.phone, "手机号"),
    (Sensitivity.person_name, "姓名"),
    (Sensitivity.address, "地址"),
    (Sensitivity.bank_account, "银行账号"),
    (Sensitivity.email, "电子邮箱"),
    (Sensitivity.other_personal, "其他个人信息"),
    (Sensitivity.trade_secret, "商业秘密"),
    (ResourceStatus.draft, "草稿"),
    (ResourceStatus.submitted, "待审核"),
    (ResourceStatus.returned, "已退回"),
    (ResourceStatus.published, "已发布"),
    (ResourceStatus.withdrawn, "已撤销"),
    (ReviewResult.passed, "通过(不涉密)"),
    (ReviewResult.failed, "未通过(涉密或不宜共享)"),
    (ChangeTrigger.law, "法律法规调整"),
    (ChangeTrigger.reorganisation, "机构改革"),
    (ChangeTrigger.duty, "法定职责变化"),
    (ChangeRequestStatus.open, "待提交"),
    (ChangeRequestStatus.filed, "待审核"),
    (ChangeRequestStatus.approved, "已同意"),
    (ChangeRequestStatus.rejected, "未同意"),
    (ExtensionStatus.none, "未申请"),
    (ExtensionStatus.requested, "延期待同意"),
    (ExtensionStatus.granted, "已同意延期"),
    (ExtensionStatus.refused, "延期未同意"),
)


# StrEnum members equal their string values, so members of different vocabularies that share a
# value (ShareType.none / Sensitivity.none / ExtensionStatus.none; OpenType.open /
# ChangeRequestStatus.open) would collide as dict keys: labels are keyed by (vocabulary, value).
LABELS: dict[tuple[type[StrEnum], str], str] = {(type(m), m.value): text for m, text in _ROWS}
VOCABULARIES: dict[str, type[StrEnum]] = {
    cls.__name__: cls
    for cls in (
        ShareType,
        Channel,
        OpenType,
        UpdateCycle,
        FormatClass,
        SensitivityLevel,
        DataType,
        Sensitivity,
        ResourceStatus,
        ReviewResult,
        ChangeTrigger,
        ChangeRequestStatus,
        ExtensionStatus,
    )
}
# For bare strings with no vocabulary named, the vocabulary listed first wins.
_PLAIN: dict[str, str] = {}
for _member, _text in _ROWS:
    _PLAIN.setdefault(_member.value, _text)


def label(value: StrEnum | str | None, vocabulary: type[StrEnum] | str | None = None) -> str:
    """The Chinese label of a vocabulary value; name the vocabulary for values shared by several
    (``label("none", "Sensitivity")`` is 无, ``label("none")`` is 不予共享)."""
    if value is None:
        return ""
    if isinstance(value, StrEnum) and vocabulary is None:
        return LABELS.get((type(value), value.value), value.value)
    if vocabulary is not None:
        cls = VOCABULARIES[vocabulary] if isinstance(vocabulary, str) else vocabulary
        return LABELS.get((cls, str(value)), str(value))
    return _PLAIN.get(str(value), str(value))
