"""What the catalog benchmarks share: a throw-away database, realistic Lanzhou catalog data, timing.

The data is generated with bulk INSERTs, not through ``catalog.service``: creating 100,000 resources
through the service (validation, duplicate detection, code allocation, audit chain) would take far
longer than the measurement and measures something else. The rows look like what the service writes
(codes ``101/000123``, name keys, statuses, providers in the city and its counties), and the search
index is then built by ``catalog.search.reindex_all`` — the same code the CLI runs after an import.

Vocabulary is drawn from real Chinese government catalogs, weighted so that bigram frequencies are
realistic: 人口 occurs in thousands of resources, 社保 in hundreds, 信息 in nearly all of them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from govshare import migrate
from govshare.catalog.codes import name_key
from govshare.catalog.models import Classification, DataItem, Resource
from govshare.catalog.reference import ensure_classifications
from govshare.catalog.search import reindex_all
from govshare.db import Base, Database
from govshare.identity.models import Department, Region
from govshare.identity.reference import ensure_reference_data
from govshare.kit.uscc import make_uscc

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/govshare_bench"

# --- vocabulary --------------------------------------------------------------------------------

CITY_DEPARTMENTS = (
    "公安局",
    "民政局",
    "人力资源和社会保障局",
    "卫生健康委员会",
    "教育局",
    "市场监督管理局",
    "自然资源局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "商务局",
    "文化和旅游局",
    "应急管理局",
    "医疗保障局",
    "退役军人事务局",
    "司法局",
    "财政局",
    "统计局",
    "城市管理局",
    "水务局",
    "林业局",
    "体育局",
    "发展和改革委员会",
    "工业和信息化局",
    "科学技术局",
    "残疾人联合会",
    "住房公积金管理中心",
    "不动产登记中心",
    "行政审批服务局",
    "人民防空办公室",
    "国家税务局",
)
COUNTY_DEPARTMENTS = (
    "公安分局",
    "民政局",
    "人力资源和社会保障局",
    "卫生健康局",
    "教育局",
    "市场监督管理局",
    "农业农村局",
)
COUNTIES = (
    "城关区",
    "七里河区",
    "西固区",
    "安宁区",
    "红古区",
    "永登县",
    "皋兰县",
    "榆中县",
    "兰州新区",
    "高新区",
    "经济区",
)

# Per department kind: the subjects of its resources, and its own 信息项 names.
SUBJECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "公安": (
        (
            "户籍人口",
            "常住人口",
            "流动人口",
            "暂住人口",
            "居民身份证",
            "机动车登记",
            "机动车驾驶证",
            "出入境证件",
            "人口死亡",
            "出生人口",
        ),
        (
            "户籍地址",
            "户号",
            "与户主关系",
            "迁入日期",
            "迁出日期",
            "暂住地址",
            "车牌号码",
            "车辆类型",
            "驾驶证号",
            "准驾车型",
        ),
    ),
    "民政": (
        (
            "婚姻登记",
            "最低生活保障",
            "特困人员供养",
            "社会组织登记",
            "养老机构",
            "殡葬服务",
            "临时救助",
            "低保家庭",
            "老年人口",
            "儿童福利",
        ),
        ("婚姻状况", "登记日期", "登记机关", "低保证号", "保障人数", "救助金额", "家庭人口数", "机构名称", "床位数"),
    ),
    "人力资源": (
        (
            "社保卡",
            "社会保险缴费",
            "社会保险参保",
            "养老保险待遇",
            "失业保险",
            "工伤认定",
            "就业登记",
            "职业资格证书",
            "劳动合同备案",
            "人才引进",
        ),
        ("社会保障号码", "参保状态", "参保险种", "缴费基数", "缴费月数", "就业状态", "用人单位名称", "证书编号"),
    ),
    "卫生": (
        (
            "出生医学证明",
            "死亡医学证明",
            "医疗机构执业",
            "医师执业注册",
            "预防接种",
            "传染病报告",
            "妇幼保健",
            "居民健康档案",
            "人口与家庭",
        ),
        ("医疗机构名称", "执业类别", "诊疗科目", "接种日期", "疫苗名称", "出生时间", "出生地点", "健康档案编号"),
    ),
    "教育": (
        ("学籍", "学校基本", "教师资格", "学生资助", "义务教育招生", "学前教育", "高考录取", "学位授予"),
        ("学籍号", "学校名称", "年级", "班级", "入学日期", "毕业日期", "资助金额", "教师资格证号"),
    ),
    "市场": (
        (
            "企业登记",
            "个体工商户登记",
            "企业年度报告",
            "行政许可",
            "行政处罚",
            "食品经营许可",
            "特种设备",
            "经营异常名录",
            "严重违法失信名单",
        ),
        (
            "企业名称",
            "法定代表人",
            "注册资本",
            "成立日期",
            "经营范围",
            "登记状态",
            "许可证编号",
            "处罚决定书文号",
            "住所",
        ),
    ),
    "自然资源": (
        ("土地利用现状", "国土空间规划", "建设用地审批", "矿产资源", "基础测绘成果", "地质灾害隐患点"),
        ("地块编号", "土地用途", "用地面积", "坐标", "图幅号", "审批文号"),
    ),
    "生态": (
        ("排污许可", "环境影响评价", "空气质量监测", "水环境质量监测", "固体废物", "环境行政处罚"),
        ("排污单位名称", "许可证编号", "监测点位", "监测时间", "PM2.5浓度", "污染物名称"),
    ),
    "住房": (
        ("建筑企业资质", "商品房预售许可", "房屋网签备案", "保障性住房", "建设工程施工许可", "物业服务企业"),
        ("项目名称", "房屋坐落", "建筑面积", "合同编号", "资质等级", "施工许可证号"),
    ),
    "交通": (
        ("道路运输经营许可", "出租汽车", "公交线路", "道路运输从业人员", "营运车辆", "交通建设项目"),
        ("经营许可证号", "车辆牌照号", "线路编号", "从业资格证号", "道路运输证号"),
    ),
    "医疗保障": (
        ("医保参保", "医保结算", "定点医疗机构", "医保目录", "医疗救助", "异地就医备案"),
        ("医保编号", "参保类别", "结算金额", "定点机构编码", "就医地", "报销比例"),
    ),
    "统计": (
        ("人口普查", "人口抽样调查", "经济普查", "国民经济核算", "农业普查", "规模以上工业统计"),
        ("普查区代码", "常住人口数", "户籍人口数", "人口出生率", "地区生产总值", "统计期"),
    ),
    "不动产": (
        ("不动产登记", "不动产权证书", "抵押登记", "查封登记"),
        ("不动产单元号", "权利人", "权利类型", "证书号", "抵押金额"),
    ),
    "公积金": (
        ("住房公积金缴存", "住房公积金贷款", "住房公积金提取"),
        ("公积金账号", "缴存基数", "缴存比例", "贷款金额", "提取原因"),
    ),
    "税务": (
        ("纳税人登记", "纳税信用等级", "欠税公告", "发票信息", "个人所得税"),
        ("纳税人识别号", "纳税信用级别", "欠税金额", "发票代码", "税款所属期"),
    ),
}
GENERIC_SUBJECTS = (
    ("政务服务事项", "行政许可", "行政处罚", "公共服务", "财政资金", "项目审批", "专项资金", "办件", "信用承诺"),
    ("事项名称", "办件编号", "办理状态", "办结日期", "项目编号", "资金金额", "承诺内容"),
)
SUFFIXES = ("信息", "基本信息", "登记信息", "变更信息", "统计信息", "名单", "数据", "查询接口", "核验接口", "明细")
QUALIFIERS = ("", "", "", "历史", "年度", "月度", "实时", "汇总", "全量", "增量")
COMMON_ITEMS = (
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "公民身份号码",
    "联系电话",
    "住址",
    "统一社会信用代码",
    "行政区划代码",
    "数据更新时间",
    "备注",
    "所属区县",
    "经办机构",
    "审批日期",
    "有效期",
)
SCENARIOS = (
    "政务服务“一网通办”办件材料核验",
    "社会救助对象资格审核",
    "企业开办“一件事”联办",
    "不动产登记“一窗受理”",
    "城市运行监测与辅助决策",
    "基层治理网格化管理",
    "招投标与政府采购资格审查",
    "公共信用信息归集与联合奖惩",
    "疫情防控与公共卫生应急",
    "公积金贷款与提取审核",
    "国土空间规划编制与城市体检",
    "行政执法监督与案件协查",
)
CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "other")
FORMATS = (
    ("database", "MySQL", ("table", "api")),
    ("database", "PostgreSQL", ("table", "api")),
    ("spreadsheet", "xlsx", ("file",)),
    ("electronic_file", "PDF", ("file",)),
    ("self_describing", "JSON API", ("api",)),
)


def _kind(department: str) -> str:
    for key in SUBJECTS:
        if key in department:
            return key
    return ""


@dataclass
class Dataset:
    """What a benchmark needs to know about the generated data."""

    n: int
    departments: list[int]
    actor_department_id: int
    classification_codes: list[str]
    seconds_insert: float
    seconds_index: float


# --- databases ---------------------------------------------------------------------------------


@contextmanager
def bench_database(
    kind: str, pg_url: str = DEFAULT_PG_URL, keep: bool = False, sqlite_file: str = "", reuse: bool = False
) -> Iterator[str]:
    """A database URL: a temp SQLite file, or PostgreSQL ``govshare_bench`` (created, dropped after).

    ``keep``/``reuse`` are for working on the benchmark itself: keep the data, and use it again
    (``populate`` skips what is already there).
    """
    if kind == "sqlite":
        if sqlite_file:
            if not reuse:
                Path(sqlite_file).unlink(missing_ok=True)
            yield f"sqlite:///{sqlite_file}"
            return
        with tempfile.TemporaryDirectory(prefix="govshare-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    parsed = make_url(pg_url).set(drivername="postgresql+psycopg")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": parsed.database}).first()
        if not (reuse and exists):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    try:
        yield pg_url
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()


def populate(db: Database, n: int, *, seed: int = 20261125, log: Callable[[str], None] = print) -> Dataset:
    """Migrate, add reference data, bulk-insert ``n`` resources with their 信息项, build the index."""
    migrate.upgrade(db.engine)
    rng = random.Random(seed)
    with db.session_scope() as session:
        ensure_reference_data(session)
        ensure_classifications(session)
        existing = session.execute(select(func.count()).select_from(Resource)).scalar_one()
    if existing:
        log(f"  reusing {existing} resources already in the database")
        with db.session_scope() as session:
            dept_ids = list(session.execute(select(Department.id).where(Department.is_bureau.is_(False))).scalars())
            actor_dept = session.execute(select(Department.id).where(Department.name == "兰州市民政局")).scalar_one()
            codes = list(session.execute(select(Classification.code).where(Classification.level == 2)).scalars())
        return Dataset(existing, dept_ids, actor_dept, sorted(codes), 0.0, 0.0)
    started = time.perf_counter()
    with db.session_scope() as session:
        departments = _departments(session)
        classes = {c.code: c.id for c in session.execute(select(Classification)).scalars() if c.level == 2}
        dept_ids = list(departments)
        actor_department_id = next(d for d, (name, _) in departments.items() if name == "兰州市民政局")
        _resources(session, rng, n, departments, classes, log)
        if session.get_bind().dialect.name == "postgresql":
            for table in ("resource", "data_item"):
                session.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
    seconds_insert = time.perf_counter() - started
    log(f"  inserted {n} resources in {seconds_insert:.1f}s; building the search index …")
    started = time.perf_counter()
    with db.session_scope() as session:
        reindex_all(session)
    seconds_index = time.perf_counter() - started
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    log(f"  index built in {seconds_index:.1f}s")
    return Dataset(n, dept_ids, actor_department_id, sorted(classes), seconds_insert, seconds_index)


def _departments(session: Session) -> dict[int, tuple[str, int]]:
    regions = {r.name: r.id for r in session.execute(select(Region)).scalars()}
    names = [(f"兰州市{d}", regions["兰州市"]) for d in CITY_DEPARTMENTS]
    names += [(f"{county}{d}", regions[county]) for county in COUNTIES for d in COUNTY_DEPARTMENTS]
    out: dict[int, tuple[str, int]] = {}
    for number, (name, region_id) in enumerate(names, start=1):
        dept = Department(name=name, uscc=make_uscc(f"11620100MC{number:07d}"), region_id=region_id)
        session.add(dept)
        session.flush()
        out[dept.id] = (name, region_id)
    return out


def _resources(
    session: Session,
    rng: random.Random,
    n: int,
    departments: dict[int, tuple[str, int]],
    classes: dict[str, int],
    log: Callable[[str], None],
) -> None:
    dept_ids = list(departments)
    # City departments hold more resources than county branches.
    weights = [3.0 if departments[d][0].startswith("兰州市") else 1.0 for d in dept_ids]
    class_codes = sorted(classes)
    sequences: dict[str, int] = {}
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    item_id = 0
    batch: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for rid in range(1, n + 1):
        dept_id = rng.choices(dept_ids, weights)[0]
        dept_name, region_id = departments[dept_id]
        subjects, own_items = SUBJECTS.get(_kind(dept_name), GENERIC_SUBJECTS)
        if rng.random() < 0.15:
            subjects, own_items = GENERIC_SUBJECTS
        subject = rng.choice(subjects)
        region_prefix = dept_name[:3] if not dept_name.startswith("兰州市") else rng.choice(("", "", "全市", "市级"))
        name = f"{region_prefix}{rng.choice(QUALIFIERS)}{subject}{rng.choice(SUFFIXES)}"
        class_code = rng.choice(class_codes)
        seq = sequences.get(class_code, 0) + 1
        sequences[class_code] = seq
        format_class, format_type, channels = rng.choice(FORMATS)
        status = rng.choices(
            ("published", "draft", "submitted", "returned", "withdrawn"), (0.82, 0.08, 0.04, 0.03, 0.03)
        )[0]
        share_type = rng.choices(("unconditional", "conditional", "none"), (0.6, 0.33, 0.07))[0]
        item_names = rng.sample(COMMON_ITEMS, rng.randint(3, 6)) + rng.sample(
            own_items, min(len(own_items), rng.randint(2, 5))
        )
        cycle = rng.choice(CYCLES)
        created = now - dt.timedelta(days=rng.randint(0, 900), minutes=rng.randint(0, 1440))
        batch.append(
            {
                "id": rid,
                "code": f"{class_code}/{seq:06d}",
                "name": name,
                "name_key": name_key(name),
                "classification_id": classes[class_code],
                "provider_id": dept_id,
                "provider_office": rng.choice(("信息中心", "办公室", "政策法规科", "数据管理科", "")),
                "topic_id": None,
                "summary": f"{dept_name}掌握的{subject}数据,包括{'、'.join(item_names[:4])}等信息项,"
                f"{rng.choice(('按', '原则上按'))}{rng.choice(('日', '月', '季度', '年'))}更新。",
                "scenario": rng.choice(SCENARIOS),
                "format_class": format_class,
                "format_type": format_type,
                "share_type": share_type,
                "share_condition": "仅限履行法定职责使用" if share_type == "conditional" else "",
                "share_basis": "《中华人民共和国个人信息保护法》第十三条" if share_type == "none" else "",
                "channel": rng.choice(channels),
                "open_type": "closed",
                "update_cycle": cycle,
                "sensitivity_level": rng.choice(("general", "general", "important")),
                "classified": False,
                "related_codes": [],
                "status": status,
                "reviewing_region_id": region_id,
                "revision": 1,
                "published_version": 1 if status in ("published", "withdrawn") else 0,
                "duplicate_warnings": [],
                "created_at": created,
                "updated_at": created,
                "published_at": created if status in ("published", "withdrawn") else None,
                "version": 1,
            }
        )
        for position, item_name in enumerate(item_names, start=1):
            item_id += 1
            items.append(
                {
                    "id": item_id,
                    "resource_id": rid,
                    "position": position,
                    "name": item_name,
                    "name_key": name_key(item_name),
                    "data_type": rng.choice("CCCND"),
                    "length": rng.choice((18, 32, 64, 128, None)),
                    "description": "",
                    "sensitivity": "id_number" if item_name == "公民身份号码" else "none",
                    "shareable": True,
                    "is_basic": position <= 3,
                }
            )
        if len(batch) >= 5000 or rid == n:
            _bulk_insert(session, "resource", batch)
            _bulk_insert(session, "data_item", items)
            batch, items = [], []
            if rid % 20000 == 0:
                log(f"  … {rid} resources")
    for code, seq in sequences.items():
        session.execute(update(Classification).where(Classification.code == code).values(next_sequence=seq + 1))


def _bulk_insert(session: Session, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Rows straight to the driver: COPY on PostgreSQL, executemany on SQLite (JSON as text)."""
    if not rows:
        return
    table = Base.metadata.tables[table_name]
    defaults: dict[str, Any] = {}
    for col in table.columns:  # what the ORM would fill in
        arg: Any = getattr(col.default, "arg", None)
        if col.name in rows[0] or col.default is None:
            continue
        defaults[col.name] = arg(None) if col.default.is_callable else arg
    rows = [defaults | row for row in rows]
    names = list(rows[0])
    values = [
        tuple(
            json.dumps(v) if isinstance(v, list | dict) else v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v
            for v in (row[k] for k in names)
        )
        for row in rows
    ]
    raw = session.connection().connection.driver_connection
    assert raw is not None
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table_name} ({', '.join(names)}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    placeholders = ", ".join("?" for _ in names)
    raw.executemany(f"INSERT INTO {table_name} ({', '.join(names)}) VALUES ({placeholders})", values)


def count_matching(session: Session, like: str) -> int:
    """How many resources mention ``like`` anywhere (name, summary, scenario, 信息项) — for the report."""
    pattern = f"%{like}%"
    items = select(DataItem.resource_id).where(DataItem.name.like(pattern))
    stmt = select(func.count()).where(
        (Resource.name.like(pattern)) | (Resource.summary.like(pattern)) | Resource.id.in_(items)
    )
    return int(session.execute(stmt).scalar_one())


# --- timing ------------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000.0


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": ordered[-1], "n": float(len(ordered))}


def report_line(label: str, stats: dict[str, float]) -> str:
    return (
        f"{label:<34} n={int(stats['n']):>4}  p50 {stats['p50']:7.2f} ms  p95 {stats['p95']:7.2f} ms"
        f"  p99 {stats['p99']:7.2f} ms  max {stats['max']:7.2f} ms"
    )


def env_pg_url() -> str:
    return os.environ.get("GOVSHARE_BENCH_PG_URL", DEFAULT_PG_URL)


def data_arguments(doc: str | None, *, reps: int, reps_help: str) -> argparse.Namespace:
    """The command line every catalog benchmark shares: which database, how much data, keep/reuse."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--n", type=int, default=100_000, help="number of resources")
    parser.add_argument("--reps", type=int, default=reps, help=reps_help)
    parser.add_argument("--pg-url", default=env_pg_url(), help="PostgreSQL database to create and drop")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument("--sqlite-file", default="", help="SQLite file to use (kept) instead of a temp file")
    parser.add_argument("--reuse", action="store_true", help="reuse the data of a kept database")
    return parser.parse_args()
