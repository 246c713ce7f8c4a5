"""The classification tree every installation starts with (信息资源分类).

Codes follow the national 编制指南: 类 is one digit (1 基础, 2 主题, 3 部门), 项 adds two digits,
目 and 细目 add three each. The city catalog is built on these codes (A13.1); a county catalog uses
the same tree. Resources are classified at 项 level or deeper.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog.models import Classification

CLASSES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("1", "基础信息资源", ("人口", "法人单位", "自然资源和空间地理", "社会信用", "电子证照")),
    (
        "2",
        "主题信息资源",
        (
            "综合政务",
            "社会发展",
            "经济发展",
            "交通运行",
            "公共安全",
            "生态环保",
            "文化旅游",
            "卫生健康",
            "社会保障",
            "市场监管",
        ),
    ),
    ("3", "部门信息资源", ("政务服务", "行政执法", "公共服务", "内部管理")),
)

BASIC_CLASS = "1"
TOPIC_CLASS = "2"
DEPARTMENT_CLASS = "3"


def ensure_classifications(session: Session) -> None:
    """Create the 类 and 项 of the reference tree, if missing (idempotent)."""
    existing = {c.code: c for c in session.execute(select(Classification)).scalars()}
    for class_code, class_name, items in CLASSES:
        parent = existing.get(class_code)
        if parent is None:
            parent = Classification(code=class_code, name=class_name, level=1, parent_id=None, next_sequence=1)
            session.add(parent)
            session.flush()
            existing[class_code] = parent
        for index, item_name in enumerate(items, start=1):
            code = f"{class_code}{index:02d}"
            if code not in existing:
                item = Classification(code=code, name=item_name, level=2, parent_id=parent.id, next_sequence=1)
                session.add(item)
                existing[code] = item
    session.flush()
