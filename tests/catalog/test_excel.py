"""Catalog Excel import and export: round trip, all-or-nothing import, row/column errors, formula safety."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govshare.audit.models import AuditRecord
from govshare.catalog import excel, topics
from govshare.catalog import service as catalog
from govshare.catalog.enums import ResourceStatus
from govshare.catalog.excel_format import (
    ITEM_COLUMNS,
    ITEM_SHEET,
    RESOURCE_COLUMNS,
    RESOURCE_SHEET,
    XLSX_MEDIA_TYPE,
    ImportLimits,
)
from govshare.catalog.models import Classification, Resource, ResourceVersion, Topic
from govshare.catalog.schemas import DataItemIn
from govshare.cli import app as cli_app
from govshare.config import get_settings
from govshare.db import Database
from govshare.errors import FieldError, Forbidden, ValidationFailed
from govshare.identity import repository as identity_repo
from govshare.identity.actor import Actor
from govshare.identity.models import Department
from govshare.identity.permissions import Role
from govshare.identity.service import create_department
from govshare.kit.uscc import make_uscc
from tests.factories import Factory
from tests.helpers import csrf, headers, sign_in

API = "/api/v1/catalog"
BASIS = "依据《中华人民共和国保守国家秘密法》第九条,不予共享"
LIMITS = ImportLimits(max_bytes=5 * 1024 * 1024, max_resource_rows=200, max_item_rows=2000)
_county_seq = iter(range(1, 10_000))


# ------------------------------------------------------------------------------------ helpers


def _county_department(session: Session, name: str) -> Department:
    """A 城关区 department whose 统一社会信用代码 carries 城关区's 行政区划码 (620102)."""
    region = next(r for r in identity_repo.regions(session) if r.name == "城关区")
    return create_department(
        session,
        Actor.system(),
        name=name,
        uscc=make_uscc(f"11620102MB{next(_county_seq):07d}"),
        region_id=region.id,
    )


def _resource_row(seq: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "序号": seq,
        "信息资源分类(分类码)": "301",
        "信息资源名称": f"导入测试资源{seq}",
        "信息资源摘要": "办件过程信息",
        "应用场景": "政务服务事项办理时核验办件信息",
        "信息资源格式分类": "数据库",
        "信息资源格式类型": "MySQL",
        "共享类型": "无条件共享",
        "共享方式": "库表",
        "开放类型": "不予开放",
        "更新周期": "每日",
        "数据分级": "一般",
        "是否涉密": "否",
    }
    row.update(overrides)
    return row


def _item_row(seq: int, position: int, name: str, data_type: str = "字符型C", **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "资源序号": seq,
        "信息项序号": position,
        "信息项名称": name,
        "数据类型": data_type,
        "数据长度": 50,
        "是否可共享": "是",
        "是否基本信息项": "否",
    }
    row.update(overrides)
    return row


def _workbook(
    resources: list[dict[str, object]], items: list[dict[str, object]], *, link_header: str = "资源序号"
) -> bytes:
    """A file filled in the way a department fills the template by hand (headers by name)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = RESOURCE_SHEET
    resource_headers = [c.header for c in RESOURCE_COLUMNS]
    ws.append(resource_headers)
    for row in resources:
        ws.append([row.get(h) for h in resource_headers])
    items_ws = wb.create_sheet(ITEM_SHEET)
    item_headers = [link_header, *(c.header for c in ITEM_COLUMNS[1:])]
    items_ws.append(item_headers)
    for item in items:
        items_ws.append([item.get(h, item.get("资源序号") if h == link_header else None) for h in item_headers])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _good_file(count: int = 2, **overrides: object) -> bytes:
    resources = [_resource_row(n, **overrides) for n in range(1, count + 1)]
    items = [_item_row(n, p, name) for n in range(1, count + 1) for p, name in ((1, "办件编号"), (2, "办结日期"))]
    return _workbook(resources, items)


def _resource_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Resource)).scalar_one())


def _errors_at(exc: ValidationFailed, row: int, column: str) -> list[FieldError]:
    return [e for e in exc.errors if e.row == row and e.field == column]


def _sheets(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def _export(session: Session, actor: Actor, **filters: Any) -> bytes:
    out = io.BytesIO()
    excel.export_catalog(session, actor, out, filters=excel.ExportFilters(**filters))
    return out.getvalue()


# ---------------------------------------------------------------------------------- round trip


def _source_catalog(session: Session, factory: Factory) -> tuple[Department, Department, str]:
    """Resources covering every vocabulary: all share/open types, channels, formats, cycles, levels,
    data types and sensitivities; draft, published and withdrawn; a county provider; a topic."""
    city = factory.department("兰州市公安局")
    county = _county_department(session, "城关区市场监督管理局")
    topic_name = "营商环境"
    topic_class = session.execute(select(Classification).where(Classification.code == "206")).scalar_one()
    topics.create_topic(
        session, Actor.system(), name=topic_name, lead_department_id=city.id, classification_id=topic_class.id
    )
    topic_id = session.execute(select(Topic.id).where(Topic.name == topic_name)).scalar_one()

    data_types = ["C", "N", "Y", "D", "T", "L", "M", "G", "B", "I", "F"]
    sensitivities = [
        "none",
        "id_number",
        "phone",
        "person_name",
        "address",
        "bank_account",
        "email",
        "other_personal",
        "trade_secret",
    ]
    all_kinds = [
        DataItemIn(
            name=f"信息项{t}",
            data_type=t,
            length=None if t in ("D", "L") else 10 + i,
            description='=IMPORTXML("http://x")' if t == "M" else f"字段{t}说明",
            sensitivity=sensitivities[i % len(sensitivities)],
            shareable=i % 2 == 0,
            is_basic=i % 3 == 0,
        )
        for i, t in enumerate(data_types)
    ]
    factory.published_resource(
        city,
        name="全员人口基本信息",
        classification_code="101",
        provider_office="人口管理处",
        summary='=HYPERLINK("http://evil.example","点击")',
        scenario="+社会保障待遇资格认证",
        format_class="database",
        channel="table",
        share_type="unconditional",
        open_type="open",
        update_cycle="realtime",
        sensitivity_level="general",
        related_codes=["102/000001", "@外部代码"],
        items=all_kinds,
    )
    factory.resource(
        city,
        name="户籍迁移证明电子文件",
        classification_code="102",
        format_class="electronic_file",
        format_type="PDF",
        channel="file",
        share_type="conditional",
        share_condition="仅用于户籍业务办理,须经本部门同意",
        open_type="conditional_open",
        open_condition="申请人本人授权",
        update_cycle="daily",
        sensitivity_level="important",
    )
    withdrawn = factory.published_resource(
        county,
        name="企业经营异常名录",
        classification_code="301",
        format_class="spreadsheet",
        format_type="xlsx",
        channel="table",
        share_type="none",
        share_basis=BASIS,
        open_type="closed",
        update_cycle="weekly",
        sensitivity_level="core",
    )
    catalog.withdraw(session, factory.reviewer_for(county), withdrawn.id, reason="数据已合并至新资源")
    factory.published_resource(
        county,
        name="市场主体登记照片",
        classification_code="302",
        format_class="image",
        channel="api",
        update_cycle="monthly",
    )
    factory.resource(city, name="道路监控视频流", format_class="streaming", channel="api", update_cycle="quarterly")
    factory.resource(
        city, name="政务服务事项目录", format_class="self_describing", channel="file", update_cycle="half_yearly"
    )
    factory.resource(city, name="年度统计公报", format_class="spreadsheet", channel="file", update_cycle="yearly")
    factory.resource(
        city,
        name="营商环境评价指标",
        classification_code="206",
        topic_id=topic_id,
        format_class="database",
        channel="api",
        update_cycle="other",
    )
    return city, county, topic_name


def test_round_trip_into_an_empty_platform_gives_the_same_catalog(
    session: Session, factory: Factory, system: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(excel, "EXPORT_BATCH", 3)  # several batches, as a large catalog has
    city, county, topic_name = _source_catalog(session, factory)
    first = _export(session, system)
    source = tmp_path / "catalog.xlsx"
    source.write_bytes(first)
    source_codes = list(session.execute(select(Resource.code).order_by(Resource.code)).scalars())

    url = f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}"
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    fresh = Database(url)
    try:
        assert runner.invoke(cli_app, ["init"]).exit_code == 0
        # Topics carry a lead department and members that the template does not: set the topic up first.
        with fresh.session_scope() as s:
            lead = create_department(
                s,
                Actor.system(),
                name=city.name,
                uscc=city.uscc,
                region_id=identity_repo.region_by_code(s, "620100").id,  # type: ignore[union-attr]
            )
            topic_class = s.execute(select(Classification).where(Classification.code == "206")).scalar_one()
            topics.create_topic(
                s, Actor.system(), name=topic_name, lead_department_id=lead.id, classification_id=topic_class.id
            )
        refused = runner.invoke(cli_app, ["import", str(source)])
        assert refused.exit_code == 1  # the county department is unknown without --create-departments
        assert county.uscc in refused.output

        result = runner.invoke(cli_app, ["import", str(source), "--create-departments"])
        assert result.exit_code == 0, result.output
        assert "已导入 8 个信息资源" in result.output
        second_path = tmp_path / "again.xlsx"
        result = runner.invoke(cli_app, ["export", str(second_path)])
        assert result.exit_code == 0, result.output

        assert _sheets(second_path.read_bytes()) == _sheets(first)

        with fresh.session_scope() as s:
            rows = {r.code: r for r in s.execute(select(Resource)).scalars()}
            assert sorted(rows) == source_codes
            by_name = {r.name: r for r in rows.values()}
            published = by_name["全员人口基本信息"]
            assert published.status == ResourceStatus.published
            assert published.published_version == 1
            version = s.execute(select(ResourceVersion).where(ResourceVersion.resource_id == published.id)).scalar_one()
            assert version.number == 1 and version.snapshot["code"] == published.code
            assert by_name["企业经营异常名录"].status == ResourceStatus.withdrawn
            assert by_name["户籍迁移证明电子文件"].status == ResourceStatus.draft
            new_county = identity_repo.department_by_uscc(s, county.uscc)
            assert new_county is not None and new_county.name == county.name
            region = identity_repo.region(s, new_county.region_id)
            assert region is not None and region.name == "城关区"  # from the code's 行政区划码
            assert by_name["市场主体登记照片"].reviewing_region_id == region.id
            # An imported code is never handed out again.
            sequence = int(published.code.split("/")[1])
            people = s.execute(select(Classification).where(Classification.code == "101")).scalar_one()
            assert people.next_sequence > sequence
            imported = s.execute(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "catalog.resource.imported")
            ).scalar_one()
            assert imported == 8 + 1  # one per resource, and one for the file
    finally:
        fresh.dispose()
        get_settings.cache_clear()


def test_export_writes_labels_and_every_column(session: Session, factory: Factory, system: Actor) -> None:
    dept = factory.department()
    factory.resource(
        dept, name="不予共享的资源", share_type="none", share_basis=BASIS, open_type="closed", update_cycle="monthly"
    )
    sheets = _sheets(_export(session, system, provider_id=dept.id))
    header, row = sheets[RESOURCE_SHEET]
    values = dict(zip(header, row, strict=True))
    assert header == tuple(c.header for c in RESOURCE_COLUMNS)
    assert values["共享类型"] == "不予共享"
    assert values["开放类型"] == "不予开放"
    assert values["更新周期"] == "每月"
    assert values["共享方式"] == "库表"
    assert values["状态"] == "草稿"
    assert values["提供方代码(统一社会信用代码)"] == dept.uscc
    items = sheets[ITEM_SHEET]
    assert items[0] == tuple(c.header for c in ITEM_COLUMNS)
    assert items[1][:4] == (1, 1, "办件编号", "字符型C")


def test_export_template_has_styled_frozen_header_and_drop_down_lists(session: Session, system: Actor) -> None:
    out = io.BytesIO()
    excel.write_template(session, out)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    ws = wb[RESOURCE_SHEET]
    assert ws.freeze_panes == "D2"
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1F4E79")
    assert ws.column_dimensions["C"].width == 28
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    share_column = next(i for i, c in enumerate(RESOURCE_COLUMNS) if c.header == "共享类型")
    letter = get_column_letter(share_column + 1)
    assert lists[f"{letter}2"] == '"无条件共享,有条件共享,不予共享"'
    assert "代码表" in lists["B2"]  # classification codes come from the lists sheet
    item_lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in wb[ITEM_SHEET].data_validations.dataValidation}
    assert "字符型C" in item_lists["D2"] and "整型I" in item_lists["D2"]
    assert {"101", "301"} <= {row[0] for row in wb["代码表"].iter_rows(min_row=2, values_only=True)}


def test_formula_like_cells_are_exported_as_text(session: Session, factory: Factory, system: Actor) -> None:
    dept = factory.department()
    dangerous = ['=HYPERLINK("http://evil.example","点击")', "+1+1", "-2+3", "@SUM(A1)"]
    factory.resource(
        dept, name="公式注入测试", summary=dangerous[0], scenario=dangerous[1], provider_office=dangerous[2]
    )
    factory.resource(dept, name="公式注入测试二", format_type=dangerous[3])
    data = _export(session, system, provider_id=dept.id)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
    wb = load_workbook(io.BytesIO(data))
    cells = {c.value: c for row in wb[RESOURCE_SHEET].iter_rows(min_row=2) for c in row if c.value in dangerous}
    assert set(cells) == set(dangerous)  # the text itself is unchanged
    for cell in cells.values():
        assert cell.data_type == "s"
        assert cell.quotePrefix  # Excel keeps it text even when the cell is edited


# ------------------------------------------------------------------------- department import


@pytest.mark.article("A15.1")
def test_department_import_creates_drafts_of_its_own_department(session: Session, factory: Factory) -> None:
    dept = factory.department()
    actor = factory.compiler(dept)
    result = excel.import_for_department(session, actor, _good_file(3), filename="本部门目录.xlsx", limits=LIMITS)
    assert result.count == 3 and len(result.codes) == 3
    created = list(session.execute(select(Resource).where(Resource.code.in_(result.codes))).scalars())
    assert {r.provider_id for r in created} == {dept.id}
    assert {r.status for r in created} == {ResourceStatus.draft}  # never published by an import
    assert all(code.startswith("301/") for code in result.codes)
    actions = list(session.execute(select(AuditRecord.action).where(AuditRecord.department_id == dept.id)).scalars())
    assert actions.count("catalog.resource.created") == 3
    assert actions.count("catalog.resource.imported") == 1


@pytest.mark.article("A15.1")
def test_department_import_refuses_published_rows_and_codes(session: Session, factory: Factory) -> None:
    dept = factory.department()
    data = _workbook(
        [_resource_row(1, 状态="已发布", 发布日期="2025-01-02"), _resource_row(2, 信息资源代码="301/000777")],
        [_item_row(1, 1, "办件编号"), _item_row(2, 1, "办件编号")],
    )
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, factory.compiler(dept), data, limits=LIMITS)
    assert _errors_at(caught.value, 2, "状态") and _errors_at(caught.value, 2, "发布日期")
    assert _errors_at(caught.value, 3, "信息资源代码")


def test_one_bad_row_imports_nothing_and_names_row_and_column(session: Session, factory: Factory) -> None:
    dept = factory.department()
    before = _resource_count(session)
    resources = [_resource_row(1), _resource_row(2, 共享类型="随便"), _resource_row(3)]
    items = [_item_row(n, 1, "办件编号") for n in (1, 2, 3)]
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, factory.compiler(dept), _workbook(resources, items), limits=LIMITS)
    errors = caught.value.errors
    assert len(errors) == 1
    assert errors[0].row == 3 and errors[0].field == "共享类型"
    assert "第 3 行" in errors[0].message and "随便" in errors[0].message and "信息资源" in errors[0].message
    assert "未导入任何数据" in caught.value.detail
    assert _resource_count(session) == before


def test_errors_of_both_sheets_are_reported_together(session: Session, factory: Factory) -> None:
    dept = factory.department()
    resources = [_resource_row(1, 更新周期="每两天"), _resource_row(2, 应用场景=None), _resource_row(3)]
    items = [
        _item_row(1, 1, "办件编号"),
        _item_row(2, 1, "办件编号", data_type="文本型"),
        _item_row(3, 1, "办件编号", 数据长度="很长"),
        _item_row(3, 2, "办件编号"),  # the same name twice in one resource
        _item_row(9, 1, "无主信息项"),  # no resource 9
    ]
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, factory.compiler(dept), _workbook(resources, items), limits=LIMITS)
    exc = caught.value
    assert _errors_at(exc, 2, "更新周期")
    assert _errors_at(exc, 3, "应用场景")
    assert _errors_at(exc, 3, "数据类型") and "信息项" in _errors_at(exc, 3, "数据类型")[0].message
    assert _errors_at(exc, 4, "数据长度")
    assert _errors_at(exc, 5, "信息项名称")
    assert _errors_at(exc, 6, "资源序号")
    assert len(exc.errors) == 6  # one per problem: a stand-in value never causes a second report
    resource_rows = [e.row or 0 for e in exc.errors if "“信息资源”表" in e.message]
    assert resource_rows == sorted(resource_rows) and exc.errors[0].message.startswith("“信息资源”表")


@pytest.mark.article("A12.1")
def test_import_applies_the_share_type_rules(session: Session, factory: Factory) -> None:
    dept = factory.department()
    resources = [
        _resource_row(1, 共享类型="不予共享", 不予共享依据="有关规定"),
        _resource_row(2, 共享类型="有条件共享"),
        _resource_row(3, 共享类型="不予共享", 不予共享依据=BASIS),
    ]
    items = [_item_row(n, 1, "办件编号") for n in (1, 2, 3)]
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, factory.compiler(dept), _workbook(resources, items), limits=LIMITS)
    assert _errors_at(caught.value, 2, "不予共享依据")
    assert _errors_at(caught.value, 3, "共享条件")
    assert not [e for e in caught.value.errors if e.row == 4]


@pytest.mark.article("A43.1")
def test_import_refuses_a_classified_row(session: Session, factory: Factory) -> None:
    dept = factory.department()
    data = _workbook([_resource_row(1, 是否涉密="是")], [_item_row(1, 1, "办件编号")])
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, factory.compiler(dept), data, limits=LIMITS)
    assert _errors_at(caught.value, 2, "是否涉密")


@pytest.mark.article("A14.1")
def test_import_requires_the_elements_of_article_14(session: Session, factory: Factory) -> None:
    dept = factory.department()
    resources = [_resource_row(1, 信息资源名称=None, 共享方式=None), _resource_row(2)]
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(
            session, factory.compiler(dept), _workbook(resources, [_item_row(1, 1, "办件编号")]), limits=LIMITS
        )
    assert _errors_at(caught.value, 2, "信息资源名称")
    assert _errors_at(caught.value, 2, "共享方式")
    assert _errors_at(caught.value, 3, "信息项")  # a resource without any 信息项


def test_duplicate_names_inside_the_file_and_against_the_catalog(session: Session, factory: Factory) -> None:
    dept = factory.department()
    factory.resource(factory.department(), name="企业基本信息")
    resources = [
        _resource_row(1, 信息资源名称="企业 基本信息"),
        _resource_row(2, 信息资源名称="道路 运输许可"),
        _resource_row(3, 信息资源名称="道路运输许可。"),
    ]
    items = [_item_row(n, 1, "办件编号") for n in (1, 2, 3)]
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, factory.compiler(dept), _workbook(resources, items), limits=LIMITS)
    assert "重复" in _errors_at(caught.value, 2, "信息资源名称")[0].message  # the existing resource
    assert "第 3 行" in _errors_at(caught.value, 4, "信息资源名称")[0].message  # the earlier row


def test_labels_codes_and_full_width_text_are_all_accepted(session: Session, factory: Factory) -> None:
    dept = factory.department()
    resources = [
        _resource_row(
            1,
            信息资源格式分类="database",
            共享类型="conditional",
            共享条件="经提供部门同意",
            共享方式="ＡＰＩ",
            更新周期=" 每周 ",
            是否涉密="N",
        )
    ]
    data = _workbook(resources, [_item_row(1, 1, "金额", data_type="Y"), _item_row(1, 2, "备注", data_type="备注型")])
    result = excel.import_for_department(session, factory.compiler(dept), data, limits=LIMITS)
    resource = catalog.get_resource(
        session,
        factory.compiler(dept),
        session.execute(select(Resource.id).where(Resource.code == result.codes[0])).scalar_one(),
    )
    assert (resource.share_type, resource.channel, resource.update_cycle) == ("conditional", "api", "weekly")
    assert [i.data_type for i in resource.items] == ["Y", "M"]


def test_migration_links_items_by_code_and_registers_departments(
    session: Session, factory: Factory, system: Actor
) -> None:
    uscc = "提供方代码(统一社会信用代码)"
    new_uscc = make_uscc("11620123MB7654321")  # 620123: 榆中县
    resources = [
        _resource_row(1, **{uscc: new_uscc, "提供方": "榆中县农业农村局"}, 信息资源代码="301/000555"),
        _resource_row(2, **{uscc: new_uscc, "提供方": "榆中县农业农村局"}, 信息资源代码="301/000556"),
    ]
    items = [
        {"信息资源代码": "301/000556", "信息项序号": 2, "信息项名称": "种植面积", "数据类型": "N"},
        {"信息资源代码": "301/000555", "信息项序号": 1, "信息项名称": "农户姓名", "数据类型": "C", "敏感类别": "姓名"},
        {"信息资源代码": "301/000556", "信息项序号": 1, "信息项名称": "地块编号", "数据类型": "C"},
    ]
    data = _workbook(resources, items, link_header="信息资源代码")
    with pytest.raises(ValidationFailed) as caught:
        excel.migrate_catalog(session, system, data, limits=LIMITS)
    assert _errors_at(caught.value, 2, uscc) and _errors_at(caught.value, 3, uscc)
    result = excel.migrate_catalog(session, system, data, create_departments=True, limits=LIMITS)
    assert result.codes == ["301/000555", "301/000556"] and result.created_departments == ["榆中县农业农村局"]
    department = identity_repo.department_by_uscc(session, new_uscc)
    assert department is not None
    assert identity_repo.region(session, department.region_id).name == "榆中县"  # type: ignore[union-attr]
    second = session.execute(select(Resource).where(Resource.code == "301/000556")).scalar_one()
    loaded = catalog.get_resource(session, system, second.id)
    assert [(i.position, i.name) for i in loaded.items] == [(1, "地块编号"), (2, "种植面积")]


def test_a_department_cannot_import_for_another_department(session: Session, factory: Factory) -> None:
    mine, other = factory.department(), factory.department()
    before = _resource_count(session)
    data = _workbook(
        [_resource_row(1), _resource_row(2, **{"提供方代码(统一社会信用代码)": other.uscc, "提供方": other.name})],
        [_item_row(1, 1, "办件编号"), _item_row(2, 1, "办件编号")],
    )
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, factory.compiler(mine), data, limits=LIMITS)
    assert _errors_at(caught.value, 3, "提供方代码(统一社会信用代码)")
    assert _errors_at(caught.value, 3, "提供方")
    assert _resource_count(session) == before
    reviewer = factory.reviewer_for(mine)
    with pytest.raises(Forbidden):
        excel.import_for_department(session, reviewer, _good_file(1), limits=LIMITS)


def test_limits_and_files_that_are_not_the_template(session: Session, factory: Factory) -> None:
    actor = factory.compiler(factory.department())
    small = ImportLimits(max_bytes=LIMITS.max_bytes, max_resource_rows=2, max_item_rows=100)
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, actor, _good_file(3), limits=small)
    assert caught.value.code == "import_too_many_rows" and "2 行" in caught.value.detail
    tiny = ImportLimits(max_bytes=1000, max_resource_rows=10, max_item_rows=10)
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, actor, io.BytesIO(_good_file(1)), limits=tiny)
    assert caught.value.code == "import_file_too_large"
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, actor, b"name,code\n1,2\n", limits=LIMITS)
    assert caught.value.code == "import_not_xlsx" and "Excel" in caught.value.detail
    wb = Workbook()
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ValidationFailed) as caught:
        excel.import_for_department(session, actor, out.getvalue(), limits=LIMITS)
    assert caught.value.code == "import_sheet_missing" and RESOURCE_SHEET in caught.value.detail


# ------------------------------------------------------------------------------------ migration


def test_migration_checks_providers_codes_and_dates(session: Session, factory: Factory, system: Actor) -> None:
    dept = factory.department()
    taken = factory.resource(dept)
    uscc = "提供方代码(统一社会信用代码)"
    resources = [
        _resource_row(1, **{uscc: dept.uscc}, 信息资源代码=taken.code),
        _resource_row(2, **{uscc: "91620100MA000000XX"}),
        _resource_row(3, **{uscc: dept.uscc}, 状态="已发布"),
        _resource_row(4, **{uscc: dept.uscc}, 信息资源代码="101/000001"),
        _resource_row(5, **{uscc: dept.uscc}, 状态="待审核", 信息资源代码="301/000999"),
    ]
    items = [_item_row(n, 1, "办件编号") for n in range(1, 6)]
    with pytest.raises(ValidationFailed) as caught:
        excel.migrate_catalog(session, system, _workbook(resources, items), limits=LIMITS)
    exc = caught.value
    assert "已有此代码" in _errors_at(exc, 2, "信息资源代码")[0].message
    assert _errors_at(exc, 3, uscc)  # not a valid 统一社会信用代码
    assert _errors_at(exc, 4, "发布日期")
    assert "分类码" in _errors_at(exc, 5, "信息资源代码")[0].message
    assert not [e for e in exc.errors if e.row == 6]

    with pytest.raises(Forbidden):
        excel.migrate_catalog(session, factory.compiler(dept), _workbook(resources, items), limits=LIMITS)


def test_migration_imports_submitted_rows_as_drafts_and_says_so(
    session: Session, factory: Factory, system: Actor
) -> None:
    dept = factory.department()
    data = _workbook(
        [_resource_row(1, **{"提供方代码(统一社会信用代码)": dept.uscc}, 状态="待审核", 信息资源代码="301/000901")],
        [_item_row(1, 1, "办件编号")],
    )
    result = excel.migrate_catalog(session, system, data, limits=LIMITS)
    assert result.codes == ["301/000901"]
    resource = session.execute(select(Resource).where(Resource.code == "301/000901")).scalar_one()
    assert resource.status == ResourceStatus.draft
    assert "保密审查" in result.notes[0]


# ------------------------------------------------------------------------------- API and page


def test_import_api_reports_every_bad_cell_as_problem_json(
    client: TestClient, session: Session, factory: Factory
) -> None:
    dept = factory.department()
    user = factory.user(Role.dept_admin, department=dept)
    sign_in(client, session, user)
    before = _resource_count(session)
    bad = _workbook(
        [_resource_row(1, 共享类型="随便"), _resource_row(2)],
        [_item_row(1, 1, "办件编号"), _item_row(2, 1, "办件编号", data_type="文本型")],
    )
    r = client.post(f"{API}/import", files={"file": ("目录.xlsx", bad, XLSX_MEDIA_TYPE)}, headers=headers(client))
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "import_invalid"
    assert {(e["row"], e["field"]) for e in body["errors"]} == {(2, "共享类型"), (3, "数据类型")}
    assert _resource_count(session) == before

    r = client.post(
        f"{API}/import", files={"file": ("目录.xlsx", _good_file(2), XLSX_MEDIA_TYPE)}, headers=headers(client)
    )
    assert r.status_code == 201, r.text
    assert r.json()["count"] == 2 and len(r.json()["codes"]) == 2
    assert _resource_count(session) == before + 2


def test_export_api_respects_visibility_filters_and_is_audited(
    client: TestClient, session: Session, factory: Factory
) -> None:
    mine, other = factory.department(), factory.department()
    own_draft = factory.resource(mine, name="本部门草稿")
    others_draft = factory.resource(other, name="他部门草稿")
    published = factory.published_resource(
        other, name="他部门已发布", share_type="conditional", share_condition="经同意"
    )
    user = factory.user(Role.dept_user, department=mine)
    sign_in(client, session, user)
    r = client.get(f"{API}/export")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    names = {row[2] for row in _sheets(r.content)[RESOURCE_SHEET][1:]}
    assert {own_draft.name, published.name} <= names
    assert others_draft.name not in names
    r = client.get(f"{API}/export", params={"share_type": "conditional"})
    names = {row[2] for row in _sheets(r.content)[RESOURCE_SHEET][1:]}
    assert names == {published.name}
    exported = (
        session.execute(
            select(AuditRecord).where(AuditRecord.action == "catalog.catalog.exported", AuditRecord.actor_id == user.id)
        )
        .scalars()
        .all()
    )
    assert len(exported) == 2 and exported[-1].after == {"count": 1, "filters": {"share_type": "conditional"}}


def test_import_page_lists_errors_by_row_and_column_then_imports(
    client: TestClient, session: Session, factory: Factory
) -> None:
    dept = factory.department()
    sign_in(client, session, factory.user(Role.dept_admin, department=dept))
    page = client.get("/catalog/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    bad = _workbook([_resource_row(1, 共享类型="随便")], [_item_row(1, 1, "办件编号")])
    r = client.post(
        "/catalog/import",
        data={"csrf_token": csrf(client)},
        files={"file": ("部门目录.xlsx", bad, XLSX_MEDIA_TYPE)},
    )
    assert r.status_code == 422
    assert "<td>2</td><td>共享类型</td>" in r.text and "随便" in r.text and "未导入" in r.text
    r = client.post(
        "/catalog/import",
        data={"csrf_token": csrf(client)},
        files={"file": ("部门目录.xlsx", _good_file(1), XLSX_MEDIA_TYPE)},
    )
    assert r.status_code == 200 and "已导入 1 个信息资源" in r.text
    template = client.get(f"{API}/import/template")
    assert template.status_code == 200 and RESOURCE_SHEET in _sheets(template.content)


def test_import_routes_need_the_import_permission(client: TestClient, session: Session, factory: Factory) -> None:
    sign_in(client, session, factory.user(Role.dept_user))
    r = client.post(
        f"{API}/import", files={"file": ("x.xlsx", _good_file(1), XLSX_MEDIA_TYPE)}, headers=headers(client)
    )
    assert r.status_code == 403
    assert client.get("/catalog/import", follow_redirects=False).status_code == 403
