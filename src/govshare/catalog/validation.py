"""The catalog's cross-field rules, checked in one place for the service, the API and Excel import.

``validate_resource`` returns every problem at once (never stops at the first), each a
``FieldError`` whose ``field`` is the ``ResourceFields`` field name, or ``items[i].name`` for the
i-th 信息项 (counted from 0, like the JSON array; the message counts from 1 for people).

The rules, and the choices made where the measures leave room:

- A14.1 required elements: name, 应用场景, 共享方式, 共享类型 and at least one 信息项 with a name
  and a data type. A name made only of punctuation and spaces counts as missing.
- A11.1/A5.1: the share type is one of three; a new resource defaults to 无条件共享 (schema default).
- 有条件共享 needs a 共享条件.
- A12.1: 不予共享 needs a 不予共享依据 that *cites* a law, regulation or policy. We accept a basis that
  names a document between book-title marks 《…》 (at least two characters, one of them Chinese,
  the way official texts cite laws: 《中华人民共和国保守国家秘密法》第九条), or gives a document
  number (文号) such as 国办发〔2016〕51号. Bare words like "有关法律规定" or "涉密" do not cite anything
  and are refused.
- A43.1: a resource marked 涉密 is refused outright (code ``classified_refused``).
- 格式 ↔ 共享方式 (FORMAT_CHANNELS): 电子文件 → 文件; 电子表格 → 文件 or 库表; 数据库 → 库表 or 接口;
  图形图像 → 文件 or 接口; 流媒体 → 接口 (a stream is served, not copied); 自描述格式 (JSON/XML)
  → 接口 or 文件.
- 有条件开放 needs an 开放条件; a 不予共享 resource cannot be open to the public (it would be more open
  to the public than to government departments).
- Duplicate names: refused when equal to another live (not withdrawn) resource's name of any
  department after removing punctuation and spaces (``codes.name_key``).
- 信息项 names are unique within a resource by the same key.
- The 分类码 must exist and be at 项 level or deeper; a resource may name a topic only when
  classified under 类 2 (主题), and only if its provider leads or contributes to that topic.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from govshare.catalog import repository as repo
from govshare.catalog.codes import name_key
from govshare.catalog.enums import Channel, FormatClass, OpenType, ShareType, label
from govshare.catalog.reference import TOPIC_CLASS
from govshare.catalog.schemas import ResourceFields
from govshare.errors import FieldError, ValidationFailed

FORMAT_CHANNELS: dict[FormatClass, frozenset[Channel]] = {
    FormatClass.electronic_file: frozenset({Channel.file}),
    FormatClass.spreadsheet: frozenset({Channel.file, Channel.table}),
    FormatClass.database: frozenset({Channel.table, Channel.api}),
    FormatClass.image: frozenset({Channel.file, Channel.api}),
    FormatClass.streaming: frozenset({Channel.api}),
    FormatClass.self_describing: frozenset({Channel.api, Channel.file}),
}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_TITLE = re.compile(rf"《[^《》]*[{_CJK}][^《》]*》")
_DOC_NUMBER = re.compile(rf"[{_CJK}]{{1,12}}\s*[〔\[【(（]\s*(?:19|20)\d{{2}}\s*[〕\]】)）]\s*\d{{1,4}}\s*号")

CLASSIFIED_CODE = "classified_refused"
BASIS_MESSAGE = (
    "不予共享必须写明法律、行政法规或政策依据:用书名号写出文件名称(如《中华人民共和国保守国家秘密法》第九条),"
    "或写明文号(如国办发〔2016〕51号)"
)


def cites_basis(text: str) -> bool:
    """Whether a 不予共享依据 cites a document (A12.1; rule in the module docstring)."""
    for match in _TITLE.finditer(text):
        if len(match.group(0)) - 2 >= 2:
            return True
    return _DOC_NUMBER.search(text) is not None


def validate_resource(
    session: Session, fields: ResourceFields, *, provider_id: int, exclude_id: int | None
) -> list[FieldError]:
    """Every rule of the measures a resource's content must meet; an empty list when it meets them all."""
    errors: list[FieldError] = []
    add = errors.append

    if repo.department(session, provider_id) is None:
        add(FieldError("provider_id", "提供部门不存在"))

    key = name_key(fields.name)
    if not fields.name.strip():
        add(FieldError("name", "请填写信息资源名称"))
    elif not key:
        add(FieldError("name", "信息资源名称不能只由标点符号和空格组成"))
    else:
        conflict = repo.name_conflict(session, key, exclude_id=exclude_id)
        if conflict is not None:
            other, department_name = conflict
            add(
                FieldError(
                    "name",
                    f"名称与{department_name}的资源“{other.name}”({other.code})重复(去除标点和空格后相同),请修改名称",
                )
            )

    if not fields.scenario.strip():
        add(FieldError("scenario", "请填写应用场景"))

    share_type = ShareType(fields.share_type)
    if share_type == ShareType.conditional and not fields.share_condition.strip():
        add(FieldError("share_condition", "有条件共享必须写明共享条件"))
    if share_type == ShareType.none and not cites_basis(fields.share_basis):
        add(FieldError("share_basis", BASIS_MESSAGE))

    if fields.classified:
        add(FieldError("classified", "涉密政务数据资源不得在共享平台编目和共享,请按保密规定另行处理(第四十三条)"))

    format_class = FormatClass(fields.format_class)
    channel = Channel(fields.channel)
    allowed = FORMAT_CHANNELS[format_class]
    if channel not in allowed:
        names = "或".join(label(c) for c in sorted(allowed))
        add(FieldError("channel", f"格式为“{label(format_class)}”的资源应以{names}方式共享,不能选择“{label(channel)}”"))

    open_type = OpenType(fields.open_type)
    if open_type == OpenType.conditional_open and not fields.open_condition.strip():
        add(FieldError("open_condition", "有条件开放必须写明开放条件"))
    if share_type == ShareType.none and open_type != OpenType.closed:
        add(FieldError("open_type", "不予共享的资源不能向社会开放"))

    classification = repo.classification_by_code(session, fields.classification_code.strip())
    if classification is None:
        add(FieldError("classification_code", f"分类码“{fields.classification_code}”不存在"))
    elif classification.level < 2:
        add(FieldError("classification_code", "信息资源分类至少应细化到“项”"))

    if fields.topic_id is not None:
        topic = repo.topic(session, fields.topic_id)
        if topic is None:
            add(FieldError("topic_id", "所选主题不存在"))
        else:
            if classification is not None and not classification.code.startswith(TOPIC_CLASS):
                add(FieldError("topic_id", "只有主题类(分类码以 2 开头)资源可以归入主题"))
            if not repo.topic_member(session, topic.id, provider_id):
                add(FieldError("topic_id", f"本部门不是主题“{topic.name}”的牵头或共建部门"))

    for index, code in enumerate(fields.related_codes):
        if not code.strip():
            add(FieldError(f"related_codes[{index}]", "关联资源代码不能为空"))

    if not fields.items:
        add(FieldError("items", "至少应有一个信息项"))
    seen: dict[str, int] = {}
    for index, item in enumerate(fields.items):
        field_name = f"items[{index}].name"
        item_key = name_key(item.name)
        if not item_key:
            add(FieldError(field_name, f"第 {index + 1} 个信息项缺少名称"))
            continue
        if item_key in seen:
            add(FieldError(field_name, f"第 {index + 1} 个信息项“{item.name}”与第 {seen[item_key] + 1} 个重名"))
        else:
            seen[item_key] = index
    return errors


def raise_if_invalid(errors: list[FieldError]) -> None:
    """One ValidationFailed carrying every problem; 涉密 gets its own code (A43.1)."""
    if not errors:
        return
    code = CLASSIFIED_CODE if any(e.field == "classified" for e in errors) else "validation_failed"
    detail = "信息资源填写有误:" + ";".join(e.message for e in errors)
    raise ValidationFailed(detail, code=code, errors=errors)
