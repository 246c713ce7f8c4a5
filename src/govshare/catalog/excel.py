"""Catalog Excel import and export (national template; the file format is ``excel_format.py``).

Import is all or nothing. Every row of both sheets is parsed and checked — cell types, labels,
required cells, duplicates inside the file, and the measures' rules through
``validation.validate_resource`` — before anything is written; any problem raises one
``ValidationFailed`` whose ``errors`` name the Excel row and the column header of each, and the
boundary rolls the transaction back. Two modes:

* ``import_for_department``: a department's 数据资源管理员 adds new drafts to its own catalog.
  Rows go through ``service.create_resource``, so codes, audit records and the search index are as
  for a draft compiled by hand. A row may not name another department, carry a code or a status
  other than 草稿 — a published resource changes only through a change request (A17).
* ``migrate_catalog`` (the ``govshare import`` command, the platform itself): providers come from
  提供方代码 (unknown ones are errors, or are registered with ``create_departments``, their region
  read from the code's 登记管理机关行政区划码, digits 3–8, falling back to the city); codes are kept
  (and reserved, so the platform never hands them out again). Status: 草稿, 已发布 and 已撤销 are kept
  (a published row becomes a published resource with its version-1 snapshot; a withdrawn one is
  published, then withdrawn). 待审核 and 已退回 rows become 草稿 — deliberately: a submission here
  needs a 保密审查 recorded on this platform (A32.1), which the file cannot carry, so the
  department records it and submits again. The result lists those rows in ``notes``.

Export (``export_catalog``) writes what the actor can read, with the list's filters, ordered by
code; rows are read in batches through a second session on the same connection (so the ORM
identity map is emptied after each batch) and streamed into the write-only workbook.

Round trip: "export → migrate into an empty platform → export" gives the same workbook, cell for
cell (the test compares them); no column is volatile, provided the source has no 待审核/已退回
rows and its topics exist in the target (a topic needs a lead department and members, which the
template does not carry, so an unknown 所属主题 is an error).

The export query sits here rather than in ``repository.py``: it streams (``yield_per``) with its
own ordering, unlike the list's page query, and it starts from ``repository.readable``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from govshare.audit import service as audit
from govshare.audit.actions import Action
from govshare.catalog import repository as catalog_repo
from govshare.catalog import service as catalog_service
from govshare.catalog.codes import parse_code
from govshare.catalog.enums import (
    Channel,
    DataType,
    FormatClass,
    OpenType,
    ResourceStatus,
    Sensitivity,
    SensitivityLevel,
    ShareType,
    UpdateCycle,
)
from govshare.catalog.excel_format import (
    RESOURCE_COLUMN,
    RESOURCE_SHEET,
    CatalogWriter,
    ErrorList,
    ImportLimits,
    ParsedResource,
    ParsedWorkbook,
    ReferenceLists,
    choice_label,
    fill_gaps,
    link_items,
    read_limited,
    read_workbook,
    report,
    report_schema_errors,
    too_large,
)
from govshare.catalog.models import Classification, Resource, Topic
from govshare.catalog.permissions import compiles_for
from govshare.catalog.schemas import DataItemIn, ResourceFields
from govshare.catalog.validation import validate_resource
from govshare.errors import Forbidden
from govshare.identity import repository as identity_repo
from govshare.identity.actor import Actor
from govshare.identity.models import Department, RegionLevel
from govshare.identity.permissions import Permission
from govshare.identity.reference import city_region
from govshare.identity.service import create_department
from govshare.kit.clock import CHINA, to_china
from govshare.kit.uscc import uscc_problem

Progress = Callable[[str], None]
EXPORT_BATCH = 500
AUDITED_CODES = 200  # an import's audit record lists this many codes; each resource has its own record
MIGRATION_WITHDRAW_REASON = "平台迁移导入:原目录中为已撤销状态"

__all__ = [
    "ExportFilters",
    "ImportLimits",
    "ImportMode",
    "ImportResult",
    "export_catalog",
    "import_for_department",
    "migrate_catalog",
    "write_template",
]


class ImportMode(StrEnum):
    department = "department"  # a department's new drafts, into its own catalog
    migration = "migration"  # the platform loads a catalog, codes and status kept


@dataclass(frozen=True)
class ImportResult:
    mode: ImportMode
    count: int
    codes: list[str]
    created_departments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the import changed on purpose, in Chinese


@dataclass
class _Row:
    """One resource row once checked: everything needed to create it."""

    parsed: ParsedResource
    fields: ResourceFields | None = None
    provider_id: int | None = None  # None: a department the migration creates (by 提供方代码)
    status: ResourceStatus = ResourceStatus.draft
    published_at: dt.datetime | None = None


# ------------------------------------------------------------------------------------ the modes


def import_for_department(
    session: Session,
    actor: Actor,
    source: bytes | IO[bytes],
    *,
    filename: str = "",
    limits: ImportLimits | None = None,
) -> ImportResult:
    """Import a workbook as new drafts of the actor's own department; a file with any bad row imports nothing.

    Rows may not name another department, carry a code, or a status other than 草稿.
    """
    actor.require(Permission.catalog_import)
    department = identity_repo.department(session, actor.department_id) if actor.department_id else None
    if department is None or not compiles_for(actor, department.id):
        raise Forbidden("只有部门数据资源管理员可以导入本部门的目录", code="import_not_allowed")
    limits = limits or ImportLimits.from_settings()
    data = _read_source(source, limits)
    errors = ErrorList()
    parsed = read_workbook(data, limits, errors)
    link_items(parsed, errors)
    topics = _topics_by_name(session, parsed)
    rows: list[_Row] = []
    for resource in parsed.resources:
        row = _Row(resource, provider_id=department.id)
        _check_department_row(errors, resource, department)
        _check_fields(session, errors, row, topics)
        rows.append(row)
    _check_not_empty(errors, parsed)
    errors.raise_if_any()

    codes: list[str] = []
    for row in rows:
        assert row.fields is not None
        created = catalog_service.create_resource(session, actor, row.fields, provider_id=department.id)
        codes.append(created.code)
    _audit_import(session, actor, ImportMode.department, data, filename, codes, [], department.id)
    return ImportResult(ImportMode.department, len(codes), codes)


def migrate_catalog(
    session: Session,
    actor: Actor,
    source: bytes | IO[bytes],
    *,
    filename: str = "",
    create_departments: bool = False,
    limits: ImportLimits | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Load a catalog as the platform itself (console only): providers by 提供方代码, codes and status kept.

    An unknown provider is an error unless ``create_departments``; any bad row imports nothing.
    """
    if actor.kind != "system":
        raise Forbidden("平台迁移导入只能在服务器控制台执行", code="migration_console_only")
    say = progress or _silent
    limits = limits or ImportLimits.from_settings()
    data = _read_source(source, limits)
    errors = ErrorList()
    parsed = read_workbook(data, limits, errors)
    say(f"已读取:信息资源 {len(parsed.resources)} 行,信息项 {len(parsed.items)} 行")
    link_items(parsed, errors)
    topics = _topics_by_name(session, parsed)
    providers = _providers_by_uscc(session, parsed)
    to_create: dict[str, str] = {}  # 统一社会信用代码 → 名称 of departments to register
    rows: list[_Row] = []
    for resource in parsed.resources:
        row = _Row(resource)
        _check_provider(session, errors, row, providers, to_create, create_departments)
        _check_code_and_status(session, errors, row)
        _check_fields(session, errors, row, topics)
        rows.append(row)
    _check_not_empty(errors, parsed)
    say(f"校验完成,发现 {len(errors)} 处问题,未导入任何数据" if errors else "校验完成,未发现问题")
    errors.raise_if_any()

    created_departments = _create_departments(session, actor, to_create, providers)
    notes: list[str] = []
    codes: list[str] = []
    # Withdrawn rows first: their names are free again, and a live row may reuse one.
    ordered = sorted(rows, key=lambda r: r.status != ResourceStatus.withdrawn)
    for number, row in enumerate(ordered, start=1):
        provider_id = row.provider_id if row.provider_id is not None else providers[row.parsed.provider_uscc].id
        created = _create_migrated(session, actor, row, provider_id)
        codes.append(created.code)
        if row.parsed.status in (ResourceStatus.submitted, ResourceStatus.returned):
            notes.append(
                f"第 {row.parsed.row} 行“{created.name}”({created.code})原为“{choice_label(row.parsed.status)}”,"
                "已导入为草稿:须在本平台记录保密审查后重新报送"
            )
        if number % 500 == 0:
            say(f"已导入 {number}/{len(ordered)}")
    _audit_import(session, actor, ImportMode.migration, data, filename, codes, created_departments, None)
    say(
        f"导入完成:信息资源 {len(codes)} 个"
        + (f",新登记部门 {len(created_departments)} 个" if created_departments else "")
    )
    return ImportResult(ImportMode.migration, len(codes), codes, created_departments, notes)


def _silent(_message: str) -> None:
    return None


def _read_source(source: bytes | IO[bytes], limits: ImportLimits) -> bytes:
    if isinstance(source, bytes):
        if len(source) > limits.max_bytes:
            raise too_large(limits.max_bytes)
        return source
    return read_limited(source, limits.max_bytes)


# ------------------------------------------------------------------------------- row checking


def _check_not_empty(errors: ErrorList, parsed: ParsedWorkbook) -> None:
    if not parsed.resources and not errors:
        errors.add(RESOURCE_SHEET, 2, RESOURCE_COLUMN["name"].header, "文件中没有任何信息资源")


def _check_department_row(errors: ErrorList, resource: ParsedResource, department: Department) -> None:
    def add(key: str, message: str) -> None:
        errors.add(RESOURCE_SHEET, resource.row, RESOURCE_COLUMN[key].header, message)

    if resource.code:
        add("code", "导入的是新草稿,代码由平台生成,请留空(已发布资源的修改请提交目录变更申请)")
    if resource.provider_uscc and resource.provider_uscc != department.uscc:
        add("provider_uscc", f"只能导入本部门的资源:本部门的代码为 {department.uscc},不能为其他部门导入")
    if resource.provider_name and resource.provider_name not in (department.name, department.short_name):
        add("provider_name", f"只能导入本部门({department.name})的资源,不能为“{resource.provider_name}”导入")
    if resource.status not in (None, ResourceStatus.draft):
        add("status", "部门导入的资源一律为草稿,请留空或填写“草稿”")
    if resource.published_on is not None:
        add("published_on", "草稿没有发布日期,请留空")


def _check_provider(
    session: Session,
    errors: ErrorList,
    row: _Row,
    providers: dict[str, Department],
    to_create: dict[str, str],
    create_departments: bool,
) -> None:
    resource = row.parsed

    def add(key: str, message: str) -> None:
        errors.add(RESOURCE_SHEET, resource.row, RESOURCE_COLUMN[key].header, message)

    uscc = resource.provider_uscc
    if not uscc:
        add("provider_uscc", "必填:平台迁移按提供方代码确定提供部门")
    elif (problem := uscc_problem(uscc)) is not None:
        add("provider_uscc", problem)
    elif uscc in providers:
        row.provider_id = providers[uscc].id
    elif not create_departments:
        add(
            "provider_uscc",
            f"平台中没有统一社会信用代码为 {uscc} 的部门(请先登记该部门,或以 --create-departments 自动登记)",
        )
    elif not resource.provider_name:
        add("provider_name", "自动登记部门时须填写提供方名称")
    else:
        known = to_create.setdefault(uscc, resource.provider_name)
        same_name = [code for code, name in to_create.items() if name == resource.provider_name and code != uscc]
        if known != resource.provider_name:
            add("provider_name", f"同一提供方代码在文件中对应了不同的名称(“{known}”与“{resource.provider_name}”)")
        elif same_name:
            add("provider_name", f"文件中名为“{known}”的提供方有两个不同的代码({same_name[0]} 与 {uscc})")
        elif identity_repo.department_by_name(session, known) is not None:
            add("provider_name", f"平台中已有名为“{known}”的部门,但统一社会信用代码不是 {uscc}")


def _check_code_and_status(session: Session, errors: ErrorList, row: _Row) -> None:
    resource = row.parsed

    def add(key: str, message: str) -> None:
        errors.add(RESOURCE_SHEET, resource.row, RESOURCE_COLUMN[key].header, message)

    if resource.code:
        parts = parse_code(resource.code)
        if parts is None:
            add("code", f"“{resource.code}”不是信息资源代码(分类码/六位顺序码,如 101/000123)")
        elif parts[0] != resource.values["classification_code"]:
            add("code", f"代码的分类码部分“{parts[0]}”与信息资源分类“{resource.values['classification_code']}”不一致")
        elif catalog_repo.code_taken(session, resource.code):
            add("code", "平台中已有此代码的信息资源")

    status = resource.status or ResourceStatus.draft
    if status in (ResourceStatus.submitted, ResourceStatus.returned):
        status = ResourceStatus.draft  # see the module docstring (A32.1)
    row.status = status
    was_published = status in (ResourceStatus.published, ResourceStatus.withdrawn)
    if was_published and resource.published_on is None:
        add("published_on", f"“{choice_label(status)}”的资源须填写发布日期")
    elif not was_published and resource.published_on is not None:
        add("published_on", f"状态为“{choice_label(resource.status or status)}”的资源尚未发布,不应有发布日期")
    if resource.published_on is not None:
        row.published_at = dt.datetime.combine(resource.published_on, dt.time(), tzinfo=CHINA)


def _check_fields(session: Session, errors: ErrorList, row: _Row, topics: dict[str, int]) -> None:
    """The schema's and the measures' rules for one row and its 信息项, each problem on its cell."""
    resource = row.parsed
    values = dict(resource.values)
    if resource.topic_name:
        topic_id = topics.get(resource.topic_name)
        if topic_id is None:
            errors.add(
                RESOURCE_SHEET,
                resource.row,
                RESOURCE_COLUMN["topic"].header,
                f"平台中没有名为“{resource.topic_name}”的主题",
            )
        values["topic_id"] = topic_id
    try:
        row.fields = ResourceFields.model_validate({**values, "items": [item.values for item in resource.items]})
    except PydanticValidationError as exc:
        report_schema_errors(errors, resource, exc)
    # A row with a broken cell is still checked against every rule, with a harmless stand-in for
    # that cell (fill_gaps), so one import shows all of the file's problems.
    checked = row.fields or ResourceFields.model_construct(
        **fill_gaps(values),
        items=[
            DataItemIn.model_construct(**{**item.values, "data_type": item.values.get("data_type") or DataType.C})
            for item in resource.items
        ],
    )
    # A department the migration will register does not exist yet: id 0 names none, and the
    # "no such provider" finding is dropped for it.
    provider_id = row.provider_id if row.provider_id is not None else 0
    for problem in validate_resource(session, checked, provider_id=provider_id, exclude_id=None):
        if problem.field == "provider_id" and row.provider_id is None:
            continue
        report(errors, resource, problem.field, problem.message)


def _topics_by_name(session: Session, parsed: ParsedWorkbook) -> dict[str, int]:
    names = sorted({r.topic_name for r in parsed.resources if r.topic_name})
    if not names:
        return {}
    return {row.name: row.id for row in session.execute(select(Topic.id, Topic.name).where(Topic.name.in_(names)))}


def _providers_by_uscc(session: Session, parsed: ParsedWorkbook) -> dict[str, Department]:
    codes = sorted({r.provider_uscc for r in parsed.resources if r.provider_uscc})
    if not codes:
        return {}
    return {d.uscc: d for d in session.execute(select(Department).where(Department.uscc.in_(codes))).scalars()}


# ------------------------------------------------------------------------------------ creating


def _create_departments(
    session: Session, actor: Actor, to_create: dict[str, str], providers: dict[str, Department]
) -> list[str]:
    """Register the departments a migration names by code only; region from the code's digits 3–8."""
    created: list[str] = []
    city = city_region(session)
    for uscc, name in to_create.items():
        region = identity_repo.region_by_code(session, uscc[2:8])
        region_id = region.id if region is not None and region.level == RegionLevel.county else city.id
        providers[uscc] = create_department(session, actor, name=name, uscc=uscc, region_id=region_id)
        created.append(name)
    return created


def _create_migrated(session: Session, actor: Actor, row: _Row, provider_id: int) -> Resource:
    assert row.fields is not None
    resource = catalog_service.create_resource(
        session, actor, row.fields, provider_id=provider_id, code=row.parsed.code or None
    )
    if row.status in (ResourceStatus.published, ResourceStatus.withdrawn):
        resource = catalog_service.publish_imported(session, actor, resource.id, published_at=row.published_at)
    if row.status == ResourceStatus.withdrawn:
        resource = catalog_service.withdraw(session, actor, resource.id, reason=MIGRATION_WITHDRAW_REASON)
    audit.record(
        session,
        actor,
        Action.resource_imported,
        object_type="resource",
        object_id=resource.id,
        after={"code": resource.code, "status": resource.status, "row": row.parsed.row},
        department_id=provider_id,
    )
    return resource


def _audit_import(
    session: Session,
    actor: Actor,
    mode: ImportMode,
    data: bytes,
    filename: str,
    codes: list[str],
    created_departments: list[str],
    department_id: int | None,
) -> None:
    audit.record(
        session,
        actor,
        Action.resource_imported,
        object_type="catalog_import",
        object_id=department_id if department_id is not None else "platform",
        after={
            "mode": mode.value,
            "file": filename[:200],
            "sha256": hashlib.sha256(data).hexdigest(),
            "count": len(codes),
            "codes": codes[:AUDITED_CODES],
            "created_departments": created_departments,
        },
    )


# ------------------------------------------------------------------------------------ exporting


@dataclass(frozen=True)
class ExportFilters:
    """The catalog list's filters; ``classification`` includes its sub-classes."""

    classification: str | None = None
    topic_id: int | None = None
    provider_id: int | None = None
    share_type: str | None = None
    channel: str | None = None
    status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def export_catalog(
    session: Session,
    actor: Actor,
    out: IO[bytes],
    *,
    filters: ExportFilters | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the resources ``actor`` may read, filtered like the list, as the national template; audited.

    Returns the number of resources written.
    """
    actor.require(Permission.catalog_export)
    filters = filters or ExportFilters()
    say = progress or _silent
    session.flush()
    writer = CatalogWriter(_reference_lists(session))
    departments = {d.id: d for d in session.execute(select(Department)).scalars()}
    class_codes: dict[int, str] = {
        row.id: row.code for row in session.execute(select(Classification.id, Classification.code))
    }
    topic_names: dict[int, str] = {row.id: row.name for row in session.execute(select(Topic.id, Topic.name))}
    stmt = (
        catalog_repo.readable(actor)
        .where(*_filter_clauses(session, filters))
        .options(selectinload(Resource.items))
        .order_by(Resource.code)
    )
    # A second session on the same connection (and transaction) reads the rows, so that each batch
    # can be dropped from memory without touching the caller's objects.
    with Session(bind=session.connection()) as reader:
        result = reader.execute(stmt, execution_options={"yield_per": EXPORT_BATCH})
        for batch in result.scalars().partitions():
            for resource in batch:
                provider = departments.get(resource.provider_id)
                writer.add_resource(
                    _resource_values(resource, provider, class_codes, topic_names), _item_values(resource)
                )
                reader.expunge(resource)  # and its 信息项 (cascade); the result still uses the identity map
            say(f"已写出 {writer.count} 个信息资源")
    writer.save(out)
    audit.record(
        session,
        actor,
        Action.catalog_exported,
        object_type="catalog",
        object_id="excel",
        after={"count": writer.count, "filters": filters.as_dict()},
    )
    return writer.count


def write_template(session: Session, out: IO[bytes]) -> None:
    """A blank template with the current classification codes and topics behind its drop-down lists."""
    CatalogWriter(_reference_lists(session)).save(out)


def _reference_lists(session: Session) -> ReferenceLists:
    classifications = [(c.code, c.name) for c in catalog_repo.classifications(session) if c.level >= 2]
    topics = list(session.execute(select(Topic.name).order_by(Topic.name)).scalars())
    return ReferenceLists(classifications=classifications, topics=topics)


def _filter_clauses(session: Session, filters: ExportFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.classification:
        clauses.append(
            Resource.classification_id.in_(catalog_repo.classification_ids_under(session, filters.classification))
        )
    if filters.topic_id is not None:
        clauses.append(Resource.topic_id == filters.topic_id)
    if filters.provider_id is not None:
        clauses.append(Resource.provider_id == filters.provider_id)
    if filters.share_type:
        clauses.append(Resource.share_type == filters.share_type)
    if filters.channel:
        clauses.append(Resource.channel == filters.channel)
    if filters.status:
        clauses.append(Resource.status == filters.status)
    return clauses


def _member(enum: type[StrEnum], value: str) -> StrEnum | str:
    try:
        return enum(value)
    except ValueError:
        return value


def _resource_values(
    resource: Resource,
    provider: Department | None,
    class_codes: dict[int, str],
    topic_names: dict[int, str],
) -> dict[str, object]:
    return {
        "classification_code": class_codes.get(resource.classification_id, ""),
        "name": resource.name,
        "code": resource.code,
        "provider_name": provider.name if provider else "",
        "provider_uscc": provider.uscc if provider else "",
        "provider_office": resource.provider_office,
        "summary": resource.summary,
        "scenario": resource.scenario,
        "format_class": _member(FormatClass, resource.format_class),
        "format_type": resource.format_type,
        "share_type": _member(ShareType, resource.share_type),
        "share_condition": resource.share_condition,
        "share_basis": resource.share_basis,
        "channel": _member(Channel, resource.channel),
        "open_type": _member(OpenType, resource.open_type),
        "open_condition": resource.open_condition,
        "update_cycle": _member(UpdateCycle, resource.update_cycle),
        "published_on": to_china(resource.published_at).date() if resource.published_at else None,
        "related_codes": "、".join(resource.related_codes or []),
        "sensitivity_level": _member(SensitivityLevel, resource.sensitivity_level),
        "classified": resource.classified,
        "topic": topic_names.get(resource.topic_id, "") if resource.topic_id is not None else "",
        "status": _member(ResourceStatus, resource.status),
    }


def _item_values(resource: Resource) -> list[dict[str, object]]:
    return [
        {
            "position": item.position,
            "name": item.name,
            "data_type": _member(DataType, item.data_type),
            "length": item.length,
            "description": item.description,
            "sensitivity": _member(Sensitivity, item.sensitivity),
            "shareable": item.shareable,
            "is_basic": item.is_basic,
        }
        for item in resource.items
    ]
