from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from govshare.catalog.enums import Channel, FormatClass
from govshare.catalog.models import Topic, TopicContributor
from govshare.catalog.validation import FORMAT_CHANNELS, cites_basis, validate_resource
from govshare.errors import FieldError
from tests.factories import Factory


def _errors(
    factory: Factory, provider_id: int | None = None, exclude_id: int | None = None, **overrides: Any
) -> list[FieldError]:
    provider = provider_id if provider_id is not None else factory.department().id
    return validate_resource(
        factory.session, factory.resource_fields(**overrides), provider_id=provider, exclude_id=exclude_id
    )


def _fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def test_valid_content_has_no_errors(factory: Factory) -> None:
    assert _errors(factory) == []


@pytest.mark.article("A11.1")
def test_conditional_sharing_needs_a_condition(factory: Factory) -> None:
    errors = _errors(factory, share_type="conditional")
    assert _fields(errors) == ["share_condition"]
    assert errors[0].message == "有条件共享必须写明共享条件"
    assert _errors(factory, share_type="conditional", share_condition="仅限履行社会救助职责使用") == []


@pytest.mark.article("A12.1")
@pytest.mark.parametrize(
    ("basis", "ok"),
    [
        ("", False),
        ("涉密", False),
        ("有关法律法规规定不能共享", False),
        ("依法不予共享", False),
        ("《》", False),
        ("《A》", False),
        ("《中华人民共和国保守国家秘密法》第九条", True),
        ("依据《政务信息资源共享管理暂行办法》", True),
        ("国办发〔2016〕51号", True),
        ("依据甘政办发[2021]7号文件", True),
    ],
)
def test_not_shared_needs_a_cited_basis(factory: Factory, basis: str, ok: bool) -> None:
    assert cites_basis(basis) is ok
    errors = _errors(factory, share_type="none", share_basis=basis)
    assert (errors == []) is ok
    if not ok:
        assert _fields(errors) == ["share_basis"]
        assert "法律、行政法规或政策依据" in errors[0].message


@pytest.mark.article("A43.1")
def test_classified_is_refused(factory: Factory) -> None:
    errors = _errors(factory, classified=True)
    assert _fields(errors) == ["classified"]
    assert "涉密" in errors[0].message


@pytest.mark.parametrize(
    ("format_class", "channel", "ok"),
    [
        ("electronic_file", "file", True),
        ("electronic_file", "table", False),
        ("electronic_file", "api", False),
        ("database", "table", True),
        ("database", "api", True),
        ("database", "file", False),
        ("spreadsheet", "file", True),
        ("spreadsheet", "api", False),
        ("streaming", "api", True),
        ("streaming", "file", False),
        ("image", "file", True),
        ("self_describing", "api", True),
    ],
)
def test_format_and_channel_must_agree(factory: Factory, format_class: str, channel: str, ok: bool) -> None:
    errors = _errors(factory, format_class=format_class, channel=channel)
    assert (errors == []) is ok
    if not ok:
        assert _fields(errors) == ["channel"]
        assert "方式共享" in errors[0].message


def test_every_format_has_a_channel() -> None:
    assert set(FORMAT_CHANNELS) == set(FormatClass)
    assert FORMAT_CHANNELS[FormatClass.electronic_file] == {Channel.file}
    assert FORMAT_CHANNELS[FormatClass.database] == {Channel.table, Channel.api}


@pytest.mark.article("A14.1")
def test_required_elements(factory: Factory) -> None:
    errors = _errors(factory, name="  ", scenario="", items=[])
    assert set(_fields(errors)) == {"name", "scenario", "items"}
    assert all(e.message for e in errors)
    assert _fields(_errors(factory, name="“”《》、 ,.!")) == ["name"]


@pytest.mark.article("A14.1")
def test_item_errors_name_the_item(factory: Factory) -> None:
    errors = _errors(factory, items=[("姓名", "C"), ("性别", "C"), (" ", "C"), ("姓 名", "C")])
    assert _fields(errors) == ["items[2].name", "items[3].name"]
    assert "第 3 个信息项缺少名称" in errors[0].message
    assert "与第 1 个重名" in errors[1].message


def test_duplicate_names_are_refused_after_removing_punctuation(factory: Factory) -> None:
    owner = factory.department("兰州市市场监督管理局")
    existing = factory.resource(owner, name="企业登记信息(2024版)")
    for variant in ("企业登记信息(2024版)", "企业登记 信息 2024版", "企业登记信息——2024版", "企业登记信息(2024版)"):
        errors = _errors(factory, name=variant)
        assert _fields(errors) == ["name"], variant
        assert "兰州市市场监督管理局" in errors[0].message and existing.code in errors[0].message
    assert _errors(factory, name="企业登记信息2025版") == []
    # the resource itself is not its own duplicate
    assert _errors(factory, provider_id=owner.id, exclude_id=existing.id, name="企业登记信息(2024版)") == []


def test_classification_must_exist_and_be_at_least_an_item(factory: Factory) -> None:
    assert _fields(_errors(factory, classification_code="999")) == ["classification_code"]
    assert "至少应细化到" in _errors(factory, classification_code="1")[0].message


def test_open_attributes(factory: Factory) -> None:
    assert _fields(_errors(factory, open_type="conditional_open")) == ["open_condition"]
    basis = "《中华人民共和国保守国家秘密法》"
    assert _fields(_errors(factory, share_type="none", share_basis=basis, open_type="open")) == ["open_type"]


def test_topic_resources(factory: Factory, session: Session) -> None:
    lead = factory.department()
    contributor = factory.department()
    outsider = factory.department()
    topic = Topic(name=f"社会保障主题{lead.id}", lead_department_id=lead.id)
    session.add(topic)
    session.flush()
    session.add(TopicContributor(topic_id=topic.id, department_id=contributor.id))
    session.flush()
    assert _errors(factory, provider_id=lead.id, classification_code="209", topic_id=topic.id) == []
    assert _errors(factory, provider_id=contributor.id, classification_code="209", topic_id=topic.id) == []
    assert _fields(_errors(factory, provider_id=outsider.id, classification_code="209", topic_id=topic.id)) == [
        "topic_id"
    ]
    assert _fields(_errors(factory, provider_id=lead.id, classification_code="301", topic_id=topic.id)) == ["topic_id"]
    assert _fields(_errors(factory, provider_id=lead.id, classification_code="209", topic_id=987654)) == ["topic_id"]


def test_all_problems_are_reported_together(factory: Factory) -> None:
    errors = _errors(
        factory,
        scenario="",
        share_type="none",
        share_basis="",
        classified=True,
        format_class="electronic_file",
        channel="api",
        classification_code="000",
    )
    assert set(_fields(errors)) == {"scenario", "share_basis", "classified", "channel", "classification_code"}


def test_unknown_provider(factory: Factory) -> None:
    assert _fields(_errors(factory, provider_id=99999999)) == ["provider_id"]
