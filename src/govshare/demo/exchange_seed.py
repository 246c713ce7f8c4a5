"""The demo's exchange: real provider sources mounted, synced and probed through the platform's services.

After ``seed.py`` has built the catalog, ``seed_exchange``:

1. builds the provider sources (``sources.py``): the SQLite provider database always, MariaDB and
   PostgreSQL copies when those servers answer, and the CSV/XLSX files;
2. starts the provider API (``provider_api.py``) on 127.0.0.1;
3. acting as the people who would do it — the bureau's system administrator lists 127.0.0.0/8 as
   a provider network; each provider's 数据资源管理员 mounts its 库表 resource (``runs.mount_table``),
   registers its upstream interface (``api_mounts.mount_api``) or uploads its files
   (``files.add_upload``) — everything through the services, audited like any other change;
4. runs the worker (``worker.run_once``) until nothing is due, so that every mount has a finished
   sync and probe, and the pages show runs, row counts and freshness from the first minute.

The base tables of the freshly created resources are dropped first if a base kept from an earlier
demo (a server database reset with ``--force`` keeps tables the migrations do not know) still holds
a table of that name: its watermark would otherwise make the first incremental sync skip rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, delete, select
from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.db import Database
from govshare.demo import data, provider_api, sources
from govshare.demo.seed import SOURCE
from govshare.errors import DomainError
from govshare.exchange import api_mounts, base, files, gateway_networks, runs, worker
from govshare.exchange import run_repository as run_repo
from govshare.exchange.models import Mount
from govshare.identity import auth
from govshare.identity import repository as identity_repo
from govshare.identity.actor import Actor, RequestContext

Echo = Callable[[str], None]
DEMO_NETWORK = "127.0.0.0/8"

# 信息项 name → source column, per 库表 resource (keys of data.EXCHANGE_RESOURCES).
POPULATION_COLUMNS = {
    "公民身份号码": "id_number",
    "姓名": "name",
    "性别": "gender",
    "出生日期": "birth_date",
    "民族": "ethnicity",
    "户籍地址": "hukou_address",
    "手机号码": "mobile",
    "人员状态": "status",
    "数据更新时间": "updated_at",
}
ENTERPRISE_COLUMNS = {
    "统一社会信用代码": "uscc",
    "企业名称": "name",
    "企业类型": "type_code",
    "法定代表人": "legal_representative",
    "注册资本": "registered_capital",
    "成立日期": "founded_on",
    "住所": "domicile",
    "经营范围": "business_scope",
    "登记机关": "registrar",
    "登记状态": "status",
}
INSURANCE_COLUMNS = {
    "公民身份号码": "id_number",
    "姓名": "name",
    "参保险种": "insurance_type",
    "参保状态": "status",
    "参保日期": "start_date",
    "缴费基数": "contribution_base",
    "参保单位名称": "employer_name",
    "参保单位统一社会信用代码": "employer_uscc",
    "累计缴费月数": "paid_months",
}


@dataclass(frozen=True)
class _TablePlan:
    key: str  # data.EXCHANGE_RESOURCES key
    source: sources.BuiltSource
    columns: dict[str, str]
    sync_mode: str = "full"
    watermark_column: str = ""
    key_column: str = ""


@dataclass
class MountLine:
    """One mounted source as the summary prints it."""

    resource: str
    kind: str  # SQLite / MariaDB / PostgreSQL / 接口 / 文件
    where: str  # the source table, address or file names (no secrets)
    source_rows: int
    base_rows: int | None = None
    sync_status: str = ""
    sync_seconds: float = 0.0
    probe_status: str = ""
    probe_ms: int | None = None
    error: str = ""
    mount_id: int | None = None


@dataclass
class ExchangeSummary:
    mounts: list[MountLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    api: provider_api.ProviderApi | None = None
    sample_id_numbers: list[str] = field(default_factory=list)
    build_seconds: float = 0.0
    sync_seconds: float = 0.0
    seconds: float = 0.0


def _actor(session: Session, context: RequestContext, username: str) -> Actor:
    user = identity_repo.user_by_username(session, username)
    loaded = identity_repo.user_with_roles(session, user.id) if user is not None else None
    if loaded is None:
        raise RuntimeError(f"演示账号 {username} 不存在:请先写入演示目录数据")
    return auth.actor_for(loaded, context)


def _spec(key: str) -> data.ResourceSpec:
    return next(s for s in data.RESOURCES if s.key == key)


def _resource(session: Session, key: str) -> Resource:
    # The demo knows its resources by name (names are unique among live resources, A18.1).
    spec = _spec(key)
    found = session.scalars(select(Resource).where(Resource.name == spec.name).order_by(Resource.id)).first()
    if found is None:
        raise RuntimeError(f"演示信息资源「{spec.name}」不存在:请先写入演示目录数据")
    return found


def _items(session: Session, resource: Resource) -> dict[str, int]:
    return {item.name: item.id for item in run_repo.items_of(session, resource.id)}


def _drop_stale_base_tables(engine: Engine, resource_ids: list[int]) -> None:
    base.ensure_state_table(engine)
    with engine.begin() as conn:
        metadata = MetaData()
        for resource_id in resource_ids:
            for name in (base.table_name(resource_id), base.staging_name(resource_id)):
                Table(name, metadata).drop(conn, checkfirst=True)
            conn.execute(delete(base.sync_state).where(base.sync_state.c.table_name == base.table_name(resource_id)))


def seed_exchange(
    db: Database,
    *,
    var_dir: Path,
    people: int = sources.DEFAULT_PEOPLE,
    mariadb_url: str = sources.DEFAULT_MARIADB_URL,
    postgres_url: str = sources.DEFAULT_POSTGRES_URL,
    table_prefix: str = "demo_",
    api_port: int | None = provider_api.PREFERRED_PORT,
    base_engine: Engine | None = None,
    echo: Echo | None = None,
) -> ExchangeSummary:
    """Build the sources, mount them behind the demo's resources, and sync and probe them all.

    The database must hold the seeded catalog (``seed.seed``), committed. Commits its own sessions.
    """
    say = echo or (lambda _line: None)
    started = time.perf_counter()
    summary = ExchangeSummary()
    say(f"正在生成提供方数据源(人口 {people:,} 人)……")
    built = sources.build_sources(
        var_dir / "demo-sources",
        people=people,
        mariadb_url=mariadb_url,
        postgres_url=postgres_url,
        table_prefix=table_prefix,
        echo=say,
    )
    summary.notes.extend(built.notes)
    summary.build_seconds = built.seconds
    try:
        summary.api = provider_api.start(built.sqlite_path, port=api_port)
    except RuntimeError as exc:
        summary.notes.append(f"{exc},不动产登记信息未挂载")
    else:
        summary.sample_id_numbers = provider_api.sample_id_numbers(built.sqlite_path, 3)
        say(f"  提供方接口已启动:{summary.api.base_url}(不动产登记信息查询,{built.real_estate_rows:,} 条登记)")

    plans = [
        _TablePlan("population_table", built.people, POPULATION_COLUMNS, "incremental", "change_seq", "id_number"),
        _TablePlan("enterprise_table", built.enterprises, ENTERPRISE_COLUMNS, "incremental", "change_seq", "uscc"),
        _TablePlan("social_insurance_table", built.insurance, INSURANCE_COLUMNS),
    ]
    engine = base_engine or base.base_engine()
    with db.session_scope() as s:
        candidates = [_resource(s, key) for key in (*(p.key for p in plans), "elderly_care")]
        fresh = [r.id for r in candidates if run_repo.base_table(s, r.id) is None]
    _drop_stale_base_tables(engine, fresh)

    context = RequestContext(source_ip=SOURCE, request_id="demo-exchange", user_agent="govshare demo")
    with db.session_scope() as s:
        _allow_local_network(s, _actor(s, context, data.FEATURED_ACCOUNTS[0].username))
        for plan in plans:
            summary.mounts.append(_mount_table(s, context, plan))
        if summary.api is not None:
            summary.mounts.append(_mount_api(s, context, summary.api, built.real_estate_rows))
        summary.mounts.append(_upload_files(s, context, built.files))

    say("正在同步并检测全部挂载(由作业进程执行)……")
    sync_started = time.perf_counter()
    _run_worker(db, engine, say)
    summary.sync_seconds = time.perf_counter() - sync_started
    with db.session_scope() as s:
        for line in summary.mounts:
            _fill_outcome(s, line)
    summary.seconds = time.perf_counter() - started
    return summary


def _allow_local_network(session: Session, admin: Actor) -> None:
    if any(n.cidr == DEMO_NETWORK for n in gateway_networks.list_networks(session, admin)):
        return
    gateway_networks.add_network(session, admin, cidr=DEMO_NETWORK, description="演示:本机运行的提供方接口与文件服务")


def _mount_table(session: Session, context: RequestContext, plan: _TablePlan) -> MountLine:
    spec = _spec(plan.key)
    resource = _resource(session, plan.key)
    line = MountLine(spec.name, plan.source.kind, f"{plan.source.table}", plan.source.rows)
    existing = run_repo.active_mount_for(session, resource.id)
    if existing is not None:
        line.mount_id = existing.id
        return line
    admin = _actor(session, context, data.admin_username(spec.provider))
    items = _items(session, resource)
    mount = runs.mount_table(
        session,
        admin,
        resource_id=resource.id,
        url=plan.source.url,
        table=plan.source.table,
        mapping={items[name]: column for name, column in plan.columns.items()},
        sync_mode=plan.sync_mode,
        watermark_column=plan.watermark_column,
        key_column=plan.key_column,
        test_table=plan.source.table,
    )
    line.mount_id = mount.id
    return line


def _mount_api(session: Session, context: RequestContext, api: provider_api.ProviderApi, records: int) -> MountLine:
    spec = _spec("real_estate")
    resource = _resource(session, "real_estate")
    line = MountLine(spec.name, "接口", provider_api.LOOKUP_PATH, records)
    existing = run_repo.active_mount_for(session, resource.id)
    if existing is not None:
        line.mount_id = existing.id
        return line
    admin = _actor(session, context, data.admin_username(spec.provider))
    items = _items(session, resource)
    fields = {item_name: field_name for field_name, item_name in provider_api.FIELDS.items()}
    mount: Mount = api_mounts.mount_api(
        session,
        admin,
        resource_id=resource.id,
        url=api.lookup_url,
        method="GET",
        parameters=[
            {"name": "qlrzjhm", "in": "query", "required": "false", "description": "权利人证件号码"},
            {"name": "bdcdyh", "in": "query", "required": "false", "description": "不动产单元号"},
        ],
        description_document=provider_api.openapi_document(api.app),
        dictionary={items[name]: f"data.{field_name}" for name, field_name in fields.items() if name in items},
        credential_header=provider_api.API_KEY_HEADER,
        credential_value=provider_api.DEMO_API_KEY,
        timeout_seconds=5.0,
        probe_path=provider_api.HEALTH_PATH,
    )
    line.mount_id = mount.id
    return line


def _upload_files(session: Session, context: RequestContext, paths: list[Path]) -> MountLine:
    spec = _spec("elderly_care")
    resource = _resource(session, "elderly_care")
    admin = _actor(session, context, data.admin_username(spec.provider))
    line = MountLine(spec.name, "文件", "、".join(p.suffix.lstrip(".").upper() for p in paths), 0)
    if files.file_source(session, admin, resource_id=resource.id) is None:
        # Uploaded files (no server to pull from), each new version loaded into the base by header.
        items = _items(session, resource)
        form = files.FileSourceForm(
            source="upload",
            load_into_base=True,
            mapping={items[name]: name for name in sources.ELDERLY_CARE_HEADER if name in items},
        )
        line.mount_id = files.mount_file(session, admin, resource_id=resource.id, form=form).id
    for path in paths:  # CSV first, then XLSX: two versions of the same list
        with path.open("rb") as f:
            files.add_upload(session, admin, resource_id=resource.id, filename=path.name, stream=f)
    line.source_rows = sources.ELDERLY_CARE_ROWS
    return line


def _run_worker(db: Database, engine: Engine, say: Echo) -> None:
    owner = worker.new_owner()
    while True:
        with db.session_scope() as s:
            worker.schedule_unscheduled(s)
        run_started = time.perf_counter()
        run_id = worker.run_once(db, owner, base_engine=engine)
        if run_id is None:
            return
        with db.session_scope() as s:
            run = run_repo.run(s, run_id)
            assert run is not None
            mount = run_repo.mount(s, run.mount_id)
            resource = s.get(Resource, mount.resource_id) if mount is not None else None
            label = resource.name if resource is not None else f"挂载 {run.mount_id}"
            kind, status, rows, error, latency = run.kind, run.status, run.rows, run.error, run.latency_ms
        seconds = time.perf_counter() - run_started
        outcome = "成功" if status == "succeeded" else f"失败:{error}"
        if kind == "sync":
            say(f"  同步 {label}:{outcome},{rows:,} 行,用时 {seconds:.1f} 秒")
        else:
            say(f"  检测 {label}:{outcome},延迟 {latency if latency is not None else '-'} 毫秒")


def _fill_outcome(session: Session, line: MountLine) -> None:
    if line.mount_id is None:
        return
    mount = run_repo.mount(session, line.mount_id)
    if mount is None:
        return
    last: dict[str, Any] = {}
    for run in run_repo.runs_of(session, line.mount_id):
        if run.status in ("succeeded", "failed") and run.kind not in last:
            last[run.kind] = run
    sync_run, probe_run = last.get("sync"), last.get("probe")
    if sync_run is not None:
        line.sync_status = sync_run.status
        line.sync_seconds = sync_run.duration_ms / 1000
        line.error = line.error or sync_run.error
    if probe_run is not None:
        line.probe_status = probe_run.status
        line.probe_ms = probe_run.latency_ms
        if probe_run.status != "succeeded":
            line.error = line.error or probe_run.error
    record = run_repo.base_table(session, mount.resource_id)
    if record is not None and mount.channel in ("table", "file"):
        line.base_rows = record.row_count


_STATUS = {"succeeded": "成功", "failed": "失败", "": "-"}


def summary_lines(summary: ExchangeSummary) -> list[str]:
    """The lines ``govshare demo`` prints about the exchange."""
    lines = [
        f"数据交换已就绪(用时 {summary.seconds:.1f} 秒:生成数据源 {summary.build_seconds:.1f} 秒,"
        f"同步与检测 {summary.sync_seconds:.1f} 秒):"
    ]
    for m in summary.mounts:
        parts = [f"  {m.resource} ← {m.kind} {m.where}", f"源 {m.source_rows:,}"]
        if m.base_rows is not None:
            parts.append(f"基座 {m.base_rows:,} 行")
        if m.sync_status:
            parts.append(f"同步{_STATUS.get(m.sync_status, m.sync_status)}")
            if m.sync_seconds:
                parts[-1] += f" {m.sync_seconds:.1f} 秒"
        if m.probe_status:
            parts.append(
                f"检测{_STATUS.get(m.probe_status, m.probe_status)}"
                + (f" {m.probe_ms} 毫秒" if m.probe_ms is not None else "")
            )
        if m.error:
            parts.append(m.error)
        lines.append(",".join(parts))
    for note in summary.notes:
        if not note.startswith(("MariaDB mysql", "PostgreSQL postgres")):
            lines.append(f"  注:{note}")
    if summary.api is not None:
        example = summary.sample_id_numbers[0] if summary.sample_id_numbers else ""
        lines.append(
            f"  提供方接口 {summary.api.lookup_url}?qlrzjhm={example}"
            f"(请求头 {provider_api.API_KEY_HEADER}: {provider_api.DEMO_API_KEY})"
        )
    return lines


def start_provider_api(var_dir: Path, *, port: int | None = provider_api.PREFERRED_PORT) -> str:
    """Restart the provider API of a demo seeded earlier (``--no-reset``); returns a line to print."""
    database = var_dir / "demo-sources" / "provider.db"
    if not database.exists():
        return "未找到演示提供方库,提供方接口未启动"
    try:
        api = provider_api.start(database, port=port)
    except (RuntimeError, DomainError) as exc:
        return f"提供方接口未能启动:{exc}"
    return f"提供方接口已启动:{api.base_url}"


def run_for_demo(
    url: str,
    var_dir: Path,
    *,
    fresh: bool,
    serve: bool,
    people: int,
    mariadb_url: str,
    postgres_url: str,
    echo: Echo,
) -> None:
    """``govshare demo``'s exchange step: seed it after a fresh catalog seed, else only restart the provider API."""
    if not fresh:
        if serve:
            echo(start_provider_api(var_dir))
        return
    db = Database(url)
    try:
        summary = seed_exchange(
            db, var_dir=var_dir, people=people, mariadb_url=mariadb_url, postgres_url=postgres_url, echo=echo
        )
    finally:
        db.dispose()
    for line in summary_lines(summary):
        echo(line)
    if not serve and summary.api is not None:
        summary.api.stop()  # --no-serve: nothing will call it once the command returns
