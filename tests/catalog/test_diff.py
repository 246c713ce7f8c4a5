from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from govshare.catalog import diff, service
from govshare.catalog.models import ChangeRequest
from govshare.catalog.schemas import DataItemIn, ResourceFields
from govshare.errors import NotFound, ValidationFailed
from govshare.identity.permissions import Role
from govshare.kit import clock
from tests.factories import Factory


def test_diff_snapshots_fields_and_items() -> None:
    a = {
        "name": "常住人口",
        "share_type": "unconditional",
        "classified": False,
        "related_codes": [],
        "items": [
            {"name": "姓名", "data_type": "C", "length": 50},
            {"name": "住址", "data_type": "C", "length": 200},
            {"name": "出生日期", "data_type": "D", "length": None},
        ],
    }
    b = {
        "name": "常住人口信息",
        "share_type": "conditional",
        "classified": False,
        "related_codes": ["101/000001"],
        "items": [
            {"name": "姓 名", "data_type": "C", "length": 30},
            {"name": "出生日期", "data_type": "D", "length": None},
            {"name": "联系电话", "data_type": "C", "length": 11},
        ],
    }
    fields, items = diff.diff_snapshots(a, b)
    assert [(f.field, f.before_text, f.after_text) for f in fields] == [
        ("name", "常住人口", "常住人口信息"),
        ("share_type", "无条件共享", "有条件共享"),
        ("related_codes", "", "101/000001"),
    ]
    assert fields[1].label == "共享类型"
    assert [(i.name, i.change) for i in items] == [("姓 名", "changed"), ("住址", "removed"), ("联系电话", "added")]
    assert [(f.field, f.before, f.after) for f in items[0].fields] == [("name", "姓名", "姓 名"), ("length", 50, 30)]
    assert diff.diff_snapshots(a, a) == ([], [])


def test_parse_ref() -> None:
    assert diff.parse_ref("3") == 3
    assert diff.parse_ref("working") is None
    assert diff.parse_ref("") is None
    with pytest.raises(ValidationFailed):
        diff.parse_ref("0")
    with pytest.raises(ValidationFailed):
        diff.parse_ref("最新")


@pytest.mark.article("A16.1")
def test_diff_between_versions_and_the_working_copy(factory: Factory, session: Session) -> None:
    dept = factory.department()
    reviewer = factory.reviewer_for(dept)
    resource = factory.published_resource(dept, items=[("姓名", "C"), ("住址", "C")])
    current = service.fields_of(session, resource)
    proposed = ResourceFields.model_validate(
        current.model_dump()
        | {
            "update_cycle": "monthly",
            "items": [DataItemIn(name="姓名", data_type="C", length=30), DataItemIn(name="联系电话", data_type="C")],
        }
    )
    cr = ChangeRequest(
        resource_id=resource.id,
        department_id=dept.id,
        authority_region_id=resource.reviewing_region_id,
        trigger="law",
        trigger_date=clock.today(),
        filing_due=clock.today(),
    )
    session.add(cr)
    session.flush()
    service.apply_proposed(session, reviewer, resource.id, proposed, change_request_id=cr.id)

    reader = factory.role_actor(Role.dept_user)
    result = diff.diff(session, reader, resource.id, 1, 2)
    assert (result.a_label, result.b_label) == ("第 1 版", "第 2 版")
    assert [(f.field, f.before_text, f.after_text) for f in result.fields] == [("update_cycle", "每日", "每月")]
    assert [(i.name, i.change) for i in result.items] == [
        ("姓名", "changed"),
        ("住址", "removed"),
        ("联系电话", "added"),
    ]
    assert result.changed
    same = diff.diff(session, reader, resource.id, 2, None)
    assert same.b_label == "当前工作稿" and not same.changed
    with pytest.raises(NotFound):
        diff.diff(session, reader, resource.id, 1, 7)
