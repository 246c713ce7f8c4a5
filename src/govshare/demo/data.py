"""The demo's content, as data: Lanzhou departments, people, accounts, catalog resources, topics and
change requests.

Everything here is fictitious but plausible. Department names follow Lanzhou's real structure; their
统一社会信用代码 are generated (``department_uscc``: 11 for 机关, the region's 区划 code, a made-up
组织机构代码 with its GB 11714 check character, and the GB 32100 check character) and belong to no real
body. People's names, phone numbers and 保密审查 reviewers are invented. Laws cited as 不予共享依据 are
real laws; the resources citing them are not real catalog entries.

Nothing here touches the database: ``seed.py`` turns this content into rows through the services.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from govshare.catalog.enums import (
    ChangeTrigger,
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
from govshare.catalog.reference import CLASSES
from govshare.identity.permissions import Role
from govshare.kit.uscc import make_uscc

RANDOM_SEED = 20220731  # the date 城关区 forwarded the measures; any fixed value keeps runs identical
DEMO_PASSWORD = "Lanzhou#Demo2026"
CITY = "兰州市"

# --------------------------------------------------------------------------------------- regions

REGION_CODES: dict[str, str] = {
    "兰州市": "620100",
    "城关区": "620102",
    "七里河区": "620103",
    "榆中县": "620123",
    "兰州新区": "620171",
}


@dataclass(frozen=True)
class AuthoritySpec:
    """A county's 政务数据共享主管机构 (A44.1): its office and the person to call."""

    region: str
    office: str
    contact: str
    phone: str


AUTHORITIES: tuple[AuthoritySpec, ...] = (
    AuthoritySpec("城关区", "城关区大数据服务中心数据资源科", "马晓燕", "0931-8812306"),
    AuthoritySpec("七里河区", "七里河区大数据服务中心数据共享科", "杨志刚", "0931-2335817"),
    AuthoritySpec("榆中县", "榆中县大数据服务中心", "魏宏伟", "0931-5223649"),
    AuthoritySpec("兰州新区", "兰州新区大数据服务中心数据资源部", "孔令杰", "0931-8291470"),
)

# --------------------------------------------------------------------------------------- departments


@dataclass(frozen=True)
class DepartmentSpec:
    key: str  # stable English key; also the prefix of the department's account names
    name: str
    short_name: str
    region: str
    offices: tuple[str, ...]
    sharing_office: str  # the office responsible for data sharing (A6.1); one of ``offices``


def _city(key: str, name: str, short: str, offices: tuple[str, ...], sharing: str = "") -> DepartmentSpec:
    return DepartmentSpec(key, name, short, CITY, offices, sharing or offices[-1])


def _county(key: str, region: str, name: str, short: str, offices: tuple[str, ...]) -> DepartmentSpec:
    return DepartmentSpec(key, name, short, region, offices, offices[-1])


CITY_DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    _city(
        "police",
        "兰州市公安局",
        "市公安局",
        ("人口管理支队", "交通警察支队", "治安管理支队", "出入境管理支队", "科技信息化处"),
    ),
    _city(
        "civil",
        "兰州市民政局",
        "市民政局",
        ("社会救助处", "社会事务处", "社会组织管理局", "养老服务处", "区划地名处", "信息中心"),
    ),
    _city(
        "hrss",
        "兰州市人力资源和社会保障局",
        "市人社局",
        ("社会保险服务中心", "就业促进和失业保险处", "职业能力建设处", "劳动关系处", "信息中心"),
    ),
    _city(
        "samr",
        "兰州市市场监督管理局",
        "市市场监管局",
        ("登记注册局", "信用监督管理处", "食品经营安全监督管理处", "特种设备安全监察处", "信息中心"),
    ),
    _city(
        "health",
        "兰州市卫生健康委员会",
        "市卫健委",
        ("医政医管处", "疾病预防控制处", "妇幼健康处", "规划发展与信息化处"),
    ),
    _city("edu", "兰州市教育局", "市教育局", ("基础教育处", "学生资助管理中心", "教师工作处", "电化教育馆")),
    _city(
        "transport",
        "兰州市交通运输局",
        "市交通运输局",
        ("运输管理处", "道路运输服务中心", "公共交通管理处", "科技信息处"),
    ),
    _city(
        "eco",
        "兰州市生态环境局",
        "市生态环境局",
        ("大气环境处", "水生态环境处", "环境影响评价与排放管理处", "生态环境保护综合行政执法支队", "生态环境监测站"),
    ),
    _city(
        "natres",
        "兰州市自然资源局",
        "市自然资源局",
        ("不动产登记服务中心", "国土空间规划处", "自然资源所有者权益处", "测绘地理信息处"),
    ),
    _city(
        "housing",
        "兰州市住房和城乡建设局",
        "市住建局",
        ("建筑市场监管处", "房地产市场监管处", "住房保障处", "城建档案馆"),
    ),
    _city("medins", "兰州市医疗保障局", "市医保局", ("待遇保障处", "医药服务管理处", "基金监管处", "医疗保障服务中心")),
    _city(
        "agri", "兰州市农业农村局", "市农业农村局", ("种植业管理处", "畜牧兽医处", "合作经济指导处", "农业机械化管理处")
    ),
    _city("finance", "兰州市财政局", "市财政局", ("预算处", "国库处", "社会保障处", "政府采购监督管理处")),
    _city("tax", "国家税务总局兰州市税务局", "市税务局", ("纳税服务科", "征收管理科", "社会保险费科", "信息中心")),
    _city("stats", "兰州市统计局", "市统计局", ("综合处", "人口和就业统计处", "国民经济核算处", "数据管理中心")),
    _city("culture", "兰州市文化和旅游局", "市文旅局", ("资源开发处", "市场管理处", "文物保护处", "公共服务处")),
    _city(
        "emergency",
        "兰州市应急管理局",
        "市应急管理局",
        ("危险化学品安全监督管理处", "风险监测和综合减灾处", "安全生产执法支队", "应急指挥中心"),
    ),
    _city("justice", "兰州市司法局", "市司法局", ("律师工作处", "公证工作处", "社区矫正管理处", "公共法律服务管理处")),
    _city("commerce", "兰州市商务局", "市商务局", ("对外贸易处", "外国投资管理处", "市场运行和消费促进处")),
    _city("urban", "兰州市城市管理局", "市城管局", ("市容环境卫生处", "市政设施管理处", "城市管理综合执法支队")),
    _city("water", "兰州市水务局", "市水务局", ("水资源管理处", "河湖管理处", "供水节水处")),
    _city("veterans", "兰州市退役军人事务局", "市退役军人事务局", ("移交安置和就业创业处", "褒扬纪念处", "优抚处")),
    _city("forestry", "兰州市林业和草原局", "市林草局", ("森林草原防火处", "生态修复处", "资源管理处")),
    _city("ndrc", "兰州市发展和改革委员会", "市发展改革委", ("投资处", "价格管理处", "社会信用体系建设处")),
    _city("audit", "兰州市审计局", "市审计局", ("法规审理处", "电子数据审计处")),
)

COUNTY_DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    _county("cg_police", "城关区", "兰州市公安局城关分局", "城关公安分局", ("户政管理大队", "科技信息化科")),
    _county("cg_civil", "城关区", "兰州市城关区民政局", "城关区民政局", ("社会救助股", "养老服务股", "办公室")),
    _county(
        "cg_hrss",
        "城关区",
        "兰州市城关区人力资源和社会保障局",
        "城关区人社局",
        ("就业服务中心", "社会保险股", "信息股"),
    ),
    _county("cg_samr", "城关区", "兰州市城关区市场监督管理局", "城关区市场监管局", ("登记注册科", "信用监管科")),
    _county("cg_data", "城关区", "兰州市城关区大数据服务中心", "城关区大数据中心", ("数据资源科",)),
    _county("qlh_police", "七里河区", "兰州市公安局七里河分局", "七里河公安分局", ("户政管理大队", "科技信息化科")),
    _county("qlh_civil", "七里河区", "兰州市七里河区民政局", "七里河区民政局", ("社会救助股", "办公室")),
    _county("qlh_hrss", "七里河区", "兰州市七里河区人力资源和社会保障局", "七里河区人社局", ("就业服务中心", "信息股")),
    _county("qlh_data", "七里河区", "兰州市七里河区大数据服务中心", "七里河区大数据中心", ("数据共享科",)),
    _county("yz_police", "榆中县", "榆中县公安局", "榆中县公安局", ("户政管理大队", "科技信息化大队")),
    _county("yz_civil", "榆中县", "榆中县民政局", "榆中县民政局", ("社会救助股", "办公室")),
    _county("yz_hrss", "榆中县", "榆中县人力资源和社会保障局", "榆中县人社局", ("就业服务中心", "信息股")),
    _county("yz_samr", "榆中县", "榆中县市场监督管理局", "榆中县市场监管局", ("食品安全监管股", "登记注册股")),
    _county("yz_data", "榆中县", "榆中县大数据服务中心", "榆中县大数据中心", ("数据资源股",)),
    _county("xq_police", "兰州新区", "兰州新区公安局", "新区公安局", ("人口管理大队", "科技信息化科")),
    _county(
        "xq_social", "兰州新区", "兰州新区社会事务局", "新区社会事务局", ("社会救助科", "就业和社会保障科", "办公室")
    ),
    _county("xq_samr", "兰州新区", "兰州新区市场监督管理局", "新区市场监管局", ("企业登记科", "信用监管科")),
    _county("xq_data", "兰州新区", "兰州新区大数据服务中心", "新区大数据中心", ("数据资源部",)),
)

DEPARTMENTS: tuple[DepartmentSpec, ...] = CITY_DEPARTMENTS + COUNTY_DEPARTMENTS

# Offices added to the bureau (created with the reference data, without offices).
BUREAU_KEY = "bureau"
BUREAU_OFFICES: tuple[str, ...] = ("数据资源处", "数据应用处", "网络安全处", "政务数据共享交换中心")

_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(body8: str) -> str:
    """A 组织机构代码: eight characters and the GB 11714 check character."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def department_uscc(spec: DepartmentSpec) -> str:
    """A fake but well-formed 统一社会信用代码 for a government body (登记管理部门 1, 类别 1 机关)."""
    number = int.from_bytes(hashlib.sha256(f"govshare-demo:{spec.key}".encode()).digest()[:8], "big")
    body = f"01{number % 1_000_000:06d}"
    return make_uscc(f"11{REGION_CODES[spec.region]}{_org_code(body)}")


# --------------------------------------------------------------------------------------- people

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
GIVEN_NAMES: tuple[str, ...] = (
    "建国", "志强", "晓燕", "海燕", "立新", "文博", "丽娟", "国庆", "振华", "红梅", "永刚", "春花", "晓东",
    "玉兰", "少华", "卫东", "秀英", "俊杰", "雅琴", "瑞年", "宏伟", "亚楠", "德明", "慧敏", "子涵", "婷婷",
    "兴旺", "学军", "金凤", "世杰", "浩然", "静怡", "占魁", "培林", "文娟", "光明", "小军", "淑芳", "克勤",
)  # fmt: skip


@dataclass(frozen=True)
class AccountSpec:
    """An account the demo prints, with what a visitor can try with it."""

    username: str
    display_name: str
    department: str  # department key, or BUREAU_KEY
    role: Role
    region: str | None = None  # region_reviewer only
    note: str = ""


FEATURED_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("bureau_admin", "赵建国", BUREAU_KEY, Role.bureau_admin, note="系统管理:区域、部门、账号、工作日历"),
    AccountSpec(
        "bureau_reviewer", "李晓燕", BUREAU_KEY, Role.bureau_reviewer, note="审核市直部门报送的目录、变更申请与延期"
    ),
    AccountSpec("chengguan_reviewer", "马晓燕", "cg_data", Role.region_reviewer, "城关区", "审核城关区部门报送的目录"),
    AccountSpec("yuzhong_reviewer", "魏宏伟", "yz_data", Role.region_reviewer, "榆中县", "审核榆中县部门报送的目录"),
    AccountSpec(
        "police_admin", "王志强", "police", Role.dept_admin, note="编目、保密审查、报送;对已发布资源提出变更申请"
    ),
    AccountSpec("police_user", "张立新", "police", Role.dept_user, note="查阅目录(只读)"),
    AccountSpec("civil_admin", "陈丽娟", "civil", Role.dept_admin, note="编目;看“一数一源”重复采集提示"),
    AccountSpec("civil_user", "刘文博", "civil", Role.dept_user, note="查阅目录(只读)"),
    AccountSpec("cg_civil_admin", "周红梅", "cg_civil", Role.dept_admin, note="县区部门编目,由城关区审核"),
    AccountSpec("auditor", "孙振华", "audit", Role.auditor, note="只读:审计日志、哈希链校验"),
)

# Reviewers of the regions without a featured one, so their departments' resources can be published.
EXTRA_REVIEWERS: tuple[AccountSpec, ...] = (
    AccountSpec("qilihe_reviewer", "杨志刚", "qlh_data", Role.region_reviewer, "七里河区", "审核七里河区部门目录"),
    AccountSpec("xinqu_reviewer", "孔令杰", "xq_data", Role.region_reviewer, "兰州新区", "审核兰州新区部门目录"),
)


def admin_username(department_key: str) -> str:
    """Every department with resources has a 数据资源管理员 account named ``<key>_admin``."""
    return f"{department_key}_admin"


def totp_secret(username: str) -> str:
    """A fixed TOTP secret per demo account, so an authenticator entry survives ``--reset``.

    Public by construction (it is printed and derivable): acceptable for the demo database only.
    """
    return base64.b32encode(hashlib.sha256(f"govshare-demo-totp:{username}".encode()).digest()[:20]).decode()


# --------------------------------------------------------------------------------------- 信息项


@dataclass(frozen=True)
class ItemSpec:
    name: str
    data_type: DataType
    length: int | None = None
    sensitivity: Sensitivity = Sensitivity.none
    description: str = ""
    shareable: bool = True


def it(
    name: str,
    data_type: DataType,
    length: int | None = None,
    sensitivity: Sensitivity = Sensitivity.none,
    description: str = "",
    shareable: bool = True,
) -> ItemSpec:
    return ItemSpec(name, data_type, length, sensitivity, description, shareable)


C, N, Y, D, T, L, M = DataType.C, DataType.N, DataType.Y, DataType.D, DataType.T, DataType.L, DataType.M
INT = DataType.I
S = Sensitivity

ID_NUMBER = it("公民身份号码", C, 18, S.id_number, "18 位公民身份号码")
PERSON_NAME = it("姓名", C, 50, S.person_name)
GENDER = it("性别", C, 1, description="GB/T 2261.1:1 男,2 女")
BIRTH_DATE = it("出生日期", D, 8, description="YYYYMMDD")
ETHNICITY = it("民族", C, 2, description="GB/T 3304 民族代码")
HUKOU_ADDRESS = it("户籍地址", C, 200, S.address)
HOME_ADDRESS = it("现居住地址", C, 200, S.address)
PHONE = it("联系电话", C, 11, S.phone)
USCC = it("统一社会信用代码", C, 18, description="GB 32100")
ENTERPRISE_NAME = it("企业名称", C, 200)
LEGAL_REPRESENTATIVE = it("法定代表人", C, 50, description="依法公示的法定代表人姓名")
REGISTERED_CAPITAL = it("注册资本", Y, 18, description="万元")
FOUNDED_ON = it("成立日期", D, 8)
DOMICILE = it("住所", C, 200, description="登记住所")
BUSINESS_SCOPE = it("经营范围", M)
REGISTRAR = it("登记机关", C, 100)
AREA_CODE = it("行政区划代码", C, 6, description="GB/T 2260")
LICENSE_NUMBER = it("许可证编号", C, 50)
ISSUED_ON = it("发证日期", D, 8)
VALID_UNTIL = it("有效期至", D, 8)
ISSUER = it("发证机关", C, 100)
DECISION_NUMBER = it("行政处罚决定书文号", C, 100)
VIOLATION = it("违法行为类型", C, 200)
PENALTY = it("处罚内容", M)
DECIDED_ON = it("处罚决定日期", D, 8)
DECIDING_BODY = it("处罚机关", C, 100)
LONGITUDE = it("经度", N, 12, description="CGCS2000,保留 6 位小数")
LATITUDE = it("纬度", N, 12, description="CGCS2000,保留 6 位小数")
UPDATED_AT = it("数据更新时间", T, 14)
UNIT_NAME = it("单位名称", C, 200)
AMOUNT = it("金额", Y, 18, description="元")


def penalty_items(subject: str = "当事人名称") -> tuple[ItemSpec, ...]:
    return (
        DECISION_NUMBER,
        it(subject, C, 200),
        USCC,
        VIOLATION,
        it("处罚依据", M),
        PENALTY,
        it("罚款金额", Y, 18, description="万元"),
        DECIDED_ON,
        DECIDING_BODY,
    )


def licence_items(holder: str = "企业名称", *extra: ItemSpec) -> tuple[ItemSpec, ...]:
    return (LICENSE_NUMBER, it(holder, C, 200), USCC, LEGAL_REPRESENTATIVE, *extra, ISSUED_ON, VALID_UNTIL, ISSUER)


# --------------------------------------------------------------------------------------- resources


def classification_code(class_name: str, item_name: str) -> str:
    """The 分类码 of a 项 in the reference tree, e.g. ("基础", "人口") → "101"."""
    for class_code, name, items in CLASSES:
        if name.startswith(class_name) and item_name in items:
            return f"{class_code}{items.index(item_name) + 1:02d}"
    raise KeyError(f"{class_name}/{item_name}")


class Fate(StrEnum):
    """Where the demo leaves a resource (``returned_then`` paths go through one return first)."""

    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    published = "published"
    withdrawn = "withdrawn"

    @property
    def status(self) -> ResourceStatus:
        return ResourceStatus(self.value)


@dataclass(frozen=True)
class ResourceSpec:
    key: str
    provider: str  # department key
    name: str
    classification: str  # 分类码, via classification_code()
    office: str
    summary: str
    scenario: str
    format_class: FormatClass
    format_type: str
    channel: Channel
    update_cycle: UpdateCycle
    items: tuple[ItemSpec, ...]
    share_type: ShareType = ShareType.unconditional
    share_condition: str = ""
    share_basis: str = ""
    open_type: OpenType = OpenType.closed
    open_condition: str = ""
    sensitivity_level: SensitivityLevel = SensitivityLevel.general
    topic: str | None = None
    fate: Fate = Fate.published
    returned_comment: str = ""  # the reviewer's comment when it was sent back once
    withdraw_reason: str = ""


BASIC_POPULATION = classification_code("基础", "人口")
BASIC_LEGAL = classification_code("基础", "法人单位")
BASIC_GEO = classification_code("基础", "自然资源和空间地理")
BASIC_CREDIT = classification_code("基础", "社会信用")
BASIC_LICENCE = classification_code("基础", "电子证照")
TOPIC_GOVERNANCE = classification_code("主题", "综合政务")
TOPIC_SOCIETY = classification_code("主题", "社会发展")
TOPIC_ECONOMY = classification_code("主题", "经济发展")
TOPIC_TRAFFIC = classification_code("主题", "交通运行")
TOPIC_SAFETY = classification_code("主题", "公共安全")
TOPIC_ECOLOGY = classification_code("主题", "生态环保")
TOPIC_TOURISM = classification_code("主题", "文化旅游")
TOPIC_HEALTH = classification_code("主题", "卫生健康")
TOPIC_SOCIAL_SECURITY = classification_code("主题", "社会保障")
TOPIC_MARKET = classification_code("主题", "市场监管")
DEPT_SERVICE = classification_code("部门", "政务服务")
DEPT_ENFORCEMENT = classification_code("部门", "行政执法")
DEPT_PUBLIC = classification_code("部门", "公共服务")
DEPT_INTERNAL = classification_code("部门", "内部管理")

DB, SHEET, FILE, JSON = (
    FormatClass.database,
    FormatClass.spreadsheet,
    FormatClass.electronic_file,
    FormatClass.self_describing,
)
API, TABLE, FILES = Channel.api, Channel.table, Channel.file
U = UpdateCycle
COND, NONE = ShareType.conditional, ShareType.none
OPEN = OpenType.open
IMPORTANT = SensitivityLevel.important
CORE = SensitivityLevel.core

COND_IDENTITY = (
    "仅向因履行法定职责需要核验或使用公民身份信息的政务部门提供;使用部门须提交共享申请,"
    "写明履职依据和应用场景,经提供部门同意后按最小必要原则获取授权信息项,不得向第三方提供。"
)
COND_ASSISTANCE = (
    "仅限社会救助、社会保障待遇审核和困难群众帮扶等法定职责使用;经提供部门审核同意后"
    "以接口核验方式获取,身份证号、联系电话按平台规则脱敏。"
)
COND_INSURANCE = (
    "仅限社会保险、医疗保障、社会救助待遇审核和就业服务使用;使用部门须说明履职依据,"
    "经提供部门同意后按授权信息项获取,禁止批量下载和对外提供。"
)
COND_PROPERTY = (
    "依据《不动产登记暂行条例》第二十七条,仅向因办理公务需要的国家机关提供;"
    "须逐案提出申请并说明用途,查询结果不得用于其他目的。"
)
COND_HEALTH = "仅限卫生健康、医疗保障、民政、公安户籍等部门履行法定职责使用;须经提供部门审核同意,个人信息脱敏后提供。"
COND_EDU = "仅限教育、人社、民政等部门在学生资助、就业服务、社会救助审核中使用;须经提供部门同意,按授权信息项获取。"
COND_TAX = "仅限纳税信用评价结果应用及政府部门依法核验使用;须经提供部门同意,涉税明细不在共享范围内。"
COND_VEHICLE = "仅限交通运输、应急管理、城市管理等部门履行监管职责使用;须经提供部门同意,车辆所有人信息脱敏后提供。"
COND_DEFAULT = "使用部门须提交共享申请并说明履职依据和应用场景,经提供部门同意后按授权信息项使用,不得向第三方提供。"


def _r(
    key: str,
    provider: str,
    name: str,
    classification: str,
    office: str,
    summary: str,
    scenario: str,
    fmt: tuple[FormatClass, str, Channel],
    cycle: UpdateCycle,
    items: tuple[ItemSpec, ...],
    **more: object,
) -> ResourceSpec:
    format_class, format_type, channel = fmt
    return ResourceSpec(
        key,
        provider,
        name,
        classification,
        office,
        summary,
        scenario,
        format_class,
        format_type,
        channel,
        cycle,
        items,
        **more,  # type: ignore[arg-type]
    )


DB_API = (DB, "达梦 DM8", API)
DB_API_PG = (DB, "PostgreSQL", API)
DB_TABLE = (DB, "MySQL", TABLE)
DB_TABLE_KB = (DB, "人大金仓 KingbaseES", TABLE)
DB_TABLE_ORA = (DB, "Oracle", TABLE)
JSON_API = (JSON, "JSON", API)
SHEET_FILE = (SHEET, "xlsx", FILES)
CSV_FILE = (SHEET, "csv", FILES)
PDF_FILE = (FILE, "pdf", FILES)
SHP_FILE = (FILE, "shp", FILES)

RESOURCES: tuple[ResourceSpec, ...] = (
    # ---- 市公安局
    _r("population", "police", "人口基本信息", BASIC_POPULATION, "人口管理支队",
       "全市户籍人口和登记流动人口的身份基础信息,由公安人口信息管理系统汇聚。",
       "政务服务身份核验、社会救助对象认定、人口统计分析", DB_API, U.realtime,
       (ID_NUMBER, PERSON_NAME, GENDER, ETHNICITY, BIRTH_DATE, it("出生地", C, 200), HUKOU_ADDRESS,
        it("文化程度", C, 2, description="GB/T 4658"), it("人员状态", C, 1, description="正常、死亡、迁出、注销")),
       share_type=COND, share_condition=COND_IDENTITY, sensitivity_level=IMPORTANT),
    _r("household", "police", "户籍人口信息", BASIC_POPULATION, "人口管理支队",
       "以户为单位的户籍登记信息,含户主及家庭成员关系、迁入迁出记录。",
       "低保家庭成员核对、入学资格审核、住房保障家庭认定", DB_TABLE_ORA, U.daily,
       (it("户号", C, 9), ID_NUMBER, PERSON_NAME, it("与户主关系", C, 2, description="GB/T 4761"), HUKOU_ADDRESS,
        it("迁入日期", D, 8), it("迁入原因", C, 100), it("户籍登记机关", C, 100)),
       share_type=COND, share_condition=COND_IDENTITY, sensitivity_level=IMPORTANT),
    _r("driver_licence", "police", "机动车驾驶证信息", DEPT_SERVICE, "交通警察支队",
       "全市核发的机动车驾驶证基本信息、准驾车型及状态。",
       "道路运输从业资格审核、网约车驾驶员资格核验", DB_API, U.daily,
       (it("驾驶证号", C, 18, S.id_number, "与公民身份号码一致"), PERSON_NAME, it("准驾车型", C, 10),
        it("初次领证日期", D, 8), VALID_UNTIL, it("驾驶证状态", C, 2), it("累积记分", INT, 2)),
       share_type=COND, share_condition=COND_VEHICLE),
    _r("vehicle", "police", "机动车登记信息", DEPT_SERVICE, "交通警察支队",
       "全市登记机动车的号牌、车辆类型、使用性质和登记状态。",
       "道路运输车辆核查、渣土车辆监管、新能源汽车补贴审核", DB_API, U.daily,
       (it("号牌号码", C, 10), it("号牌种类", C, 2), it("车辆类型", C, 4), it("车辆识别代号", C, 17),
        it("机动车所有人", C, 100, S.person_name), it("使用性质", C, 2), it("初次登记日期", D, 8),
        it("机动车状态", C, 2)),
       share_type=COND, share_condition=COND_VEHICLE,
       returned_comment="请补充“机动车状态”代码说明,并将车辆所有人信息项标注为姓名类敏感信息。"),
    _r("residence_permit", "police", "居住证签发信息", BASIC_POPULATION, "治安管理支队",
       "在本市居住半年以上流动人口居住证的申领、签发和签注信息。",
       "随迁子女入学、积分落户、公共服务均等化", DB_TABLE_ORA, U.daily,
       (ID_NUMBER, PERSON_NAME, HOME_ADDRESS, it("居住证编号", C, 20), ISSUED_ON, VALID_UNTIL, it("签注次数", INT, 3)),
       share_type=COND, share_condition=COND_IDENTITY),
    _r("exit_entry", "police", "出入境证件签发信息", DEPT_INTERNAL, "出入境管理支队",
       "普通护照、往来港澳通行证、往来台湾通行证的受理和签发记录。",
       "公安机关内部出入境管理", DB_TABLE_ORA, U.daily,
       (ID_NUMBER, PERSON_NAME, it("证件类型", C, 2), it("证件号码", C, 20), ISSUED_ON, VALID_UNTIL),
       share_type=NONE, sensitivity_level=CORE,
       share_basis="《中华人民共和国出境入境管理法》第八十五条及《中华人民共和国个人信息保护法》第三十四条:"
       "出入境证件信息仅用于出入境管理,未经法定程序不得向其他部门提供。"),
    # ---- 市民政局
    _r("marriage", "civil", "婚姻登记信息", BASIC_POPULATION, "社会事务处",
       "全市各婚姻登记机关办理的结婚、离婚、补领登记信息。",
       "住房保障和公积金贷款婚姻状况核验、户籍变更、社会救助家庭认定", DB_API_PG, U.daily,
       (it("登记类型", C, 1, description="1 结婚,2 离婚,3 补领"), it("男方姓名", C, 50, S.person_name),
        it("男方公民身份号码", C, 18, S.id_number), it("女方姓名", C, 50, S.person_name),
        it("女方公民身份号码", C, 18, S.id_number), it("登记日期", D, 8), it("登记机关", C, 100),
        it("结婚证字号", C, 30)),
       share_type=COND, share_condition=COND_ASSISTANCE, sensitivity_level=IMPORTANT),
    _r("subsistence", "civil", "低保对象信息", TOPIC_SOCIAL_SECURITY, "社会救助处",
       "城乡最低生活保障对象的家庭信息、保障人数和保障金额,按月更新。",
       "医疗救助一站式结算、教育资助、住房保障和公共服务减免资格核验", DB_API_PG, U.monthly,
       (ID_NUMBER, PERSON_NAME, HOME_ADDRESS, PHONE, it("保障类别", C, 1, description="1 城市,2 农村"),
        it("保障人数", INT, 2), it("月保障金额", Y, 10, description="元"), it("保障起始日期", D, 8), AREA_CODE),
       share_type=COND, share_condition=COND_ASSISTANCE, topic="社会保障", sensitivity_level=IMPORTANT),
    _r("extreme_poverty", "civil", "特困人员供养信息", TOPIC_SOCIAL_SECURITY, "社会救助处",
       "特困人员认定、供养方式(集中/分散)及基本生活标准。",
       "医疗救助、残疾人补贴、养老服务补贴资格核验", DB_API_PG, U.monthly,
       (ID_NUMBER, PERSON_NAME, HOME_ADDRESS, it("供养方式", C, 1, description="1 集中,2 分散"),
        it("生活自理能力", C, 1), it("基本生活标准", Y, 10, description="元/月"), it("认定日期", D, 8)),
       share_type=COND, share_condition=COND_ASSISTANCE, topic="社会保障", fate=Fate.submitted),
    _r("social_org", "civil", "社会组织登记信息", BASIC_LEGAL, "社会组织管理局",
       "在市民政局登记的社会团体、民办非企业单位和基金会的登记信息。",
       "社会组织年检、政府购买服务主体资格审核、信用监管", DB_API_PG, U.daily,
       (USCC, it("社会组织名称", C, 200), it("社会组织类型", C, 1), LEGAL_REPRESENTATIVE, it("业务主管单位", C, 100),
        DOMICILE, it("注册资金", Y, 18, description="万元"), it("成立登记日期", D, 8), it("登记状态", C, 2)),
       open_type=OPEN),
    _r("elderly_care", "civil", "养老机构信息", DEPT_PUBLIC, "养老服务处",
       "全市备案养老机构的名称、床位、服务类型和收费标准。",
       "养老服务地图、养老机构运营补贴核算", SHEET_FILE, U.quarterly,
       (UNIT_NAME, USCC, it("机构地址", C, 200), it("床位数", INT, 5), it("护理型床位数", INT, 5),
        it("收费标准", C, 200), it("联系电话(机构)", C, 20), LONGITUDE, LATITUDE),
       open_type=OPEN),
    _r("place_names", "civil", "标准地名信息", BASIC_GEO, "区划地名处",
       "经批准的道路、街巷、住宅区和建筑物标准地名及门楼牌。",
       "地址标准化、110/119/120 调度定位、不动产坐落核对", DB_API_PG, U.monthly,
       (it("标准地名", C, 100), it("地名类别", C, 4), AREA_CODE, it("罗马字母拼写", C, 200), it("批准文号", C, 100),
        LONGITUDE, LATITUDE),
       open_type=OPEN),
    _r("funeral", "civil", "殡葬服务信息", DEPT_SERVICE, "社会事务处",
       "殡仪馆火化记录及惠民殡葬补贴发放信息。",
       "养老金停发核对、社保待遇资格认证、户籍注销", DB_TABLE, U.daily,
       (ID_NUMBER, PERSON_NAME, it("火化日期", D, 8), it("殡仪馆名称", C, 100), it("惠民殡葬补贴金额", Y, 10)),
       share_type=COND, share_condition=COND_ASSISTANCE, fate=Fate.draft),
    # ---- 市人社局
    _r("social_insurance", "hrss", "社保参保信息", TOPIC_SOCIAL_SECURITY, "社会保险服务中心",
       "企业职工基本养老、失业、工伤保险的参保登记和缴费状态。",
       "就业补贴、人才引进、积分落户、购房资格审核中的参保核验", DB_API, U.daily,
       (ID_NUMBER, PERSON_NAME, it("参保险种", C, 3, description="110 养老,210 失业,410 工伤"),
        it("参保状态", C, 1), it("参保日期", D, 8), it("缴费基数", Y, 12, description="元"),
        it("参保单位名称", C, 200), it("参保单位统一社会信用代码", C, 18), it("累计缴费月数", INT, 4)),
       share_type=COND, share_condition=COND_INSURANCE, topic="社会保障", sensitivity_level=IMPORTANT),
    _r("pension", "hrss", "养老保险待遇领取信息", TOPIC_SOCIAL_SECURITY, "社会保险服务中心",
       "按月领取基本养老金人员的待遇标准和领取状态。",
       "低保收入核算、待遇领取资格认证、死亡人员待遇停发", DB_API, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("待遇类型", C, 2), it("月养老金", Y, 10, description="元"), it("开始领取年月", C, 6),
        it("领取状态", C, 1)),
       share_type=COND, share_condition=COND_INSURANCE, topic="社会保障"),
    _r("employment", "hrss", "就业登记信息", DEPT_SERVICE, "就业促进和失业保险处",
       "城镇新增就业、就业困难人员认定和灵活就业登记信息。",
       "就业补贴发放、创业担保贷款资格审核", DB_TABLE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("就业形式", C, 2), it("就业单位名称", C, 200), it("就业登记日期", D, 8),
        it("是否就业困难人员", L, 1)),
       share_type=COND, share_condition=COND_INSURANCE),
    _r("unemployment_benefit", "hrss", "失业保险金发放信息", TOPIC_SOCIAL_SECURITY, "就业促进和失业保险处",
       "失业保险金申领、核定和按月发放记录。",
       "低保收入核算、就业援助对象认定", DB_TABLE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("发放年月", C, 6), it("发放金额", Y, 10, description="元"), it("核定领取期限", INT,
        2)),
       share_type=COND, share_condition=COND_INSURANCE, topic="社会保障", fate=Fate.returned,
       returned_comment="“核定领取期限”请注明计量单位(月),并补充应用场景中的具体使用部门。"),
    _r("skill_cert", "hrss", "职业技能等级证书信息", BASIC_LICENCE, "职业能力建设处",
       "经备案的职业技能等级认定机构颁发的职业技能等级证书。",
       "技能人才补贴、人才引进、职称评审资格核验", DB_API, U.weekly,
       (it("证书编号", C, 30), PERSON_NAME, ID_NUMBER, it("职业(工种)", C, 100), it("技能等级", C, 1), ISSUED_ON,
        it("评价机构", C, 200)),
       share_type=COND, share_condition=COND_DEFAULT),
    _r("labour_inspection", "hrss", "劳动保障监察案件信息", DEPT_ENFORCEMENT, "劳动关系处",
       "拖欠农民工工资等劳动保障违法案件的立案、处理和结案信息。",
       "欠薪失信联合惩戒、工程建设领域信用监管", DB_TABLE, U.weekly, penalty_items("用人单位名称"),
       fate=Fate.draft),
    # ---- 市市场监管局
    _r("enterprise", "samr", "企业登记信息", BASIC_LEGAL, "登记注册局",
       "全市企业法人及分支机构的设立、变更、注销登记信息。",
       "一网通办免提交营业执照、招投标主体资格核验、信用监管", DB_API, U.realtime,
       (USCC, ENTERPRISE_NAME, it("企业类型", C, 4), LEGAL_REPRESENTATIVE, REGISTERED_CAPITAL, FOUNDED_ON, DOMICILE,
        BUSINESS_SCOPE, REGISTRAR, it("登记状态", C, 2)),
       open_type=OPEN),
    _r("individual_business", "samr", "个体工商户登记信息", BASIC_LEGAL, "登记注册局",
       "个体工商户的设立、变更、注销登记信息。",
       "个体户纾困补贴、小微企业贷款贴息、网格化管理", DB_TABLE_KB, U.daily,
       (USCC, it("个体工商户名称", C, 200), it("经营者姓名", C, 50, S.person_name), it("经营场所", C, 200),
        it("组成形式", C, 1), it("资金数额", Y, 18, description="万元"), FOUNDED_ON, BUSINESS_SCOPE, it("登记状态", C,
        2)),
       share_type=COND, share_condition=COND_DEFAULT),
    _r("food_licence", "samr", "食品经营许可信息", BASIC_LICENCE, "食品经营安全监督管理处",
       "食品经营许可证的核发、变更、延续和注销信息。",
       "网络订餐平台入驻审核、校园食品安全监管", DB_API, U.daily,
       licence_items("经营者名称", it("经营场所", C, 200), it("主体业态", C, 50), it("经营项目", M)),
       open_type=OPEN),
    _r("samr_penalty", "samr", "市场监管行政处罚信息", BASIC_CREDIT, "信用监督管理处",
       "市场监管部门作出的行政处罚决定信息,依法公示。",
       "信用中国(甘肃兰州)公示、联合惩戒、招投标信用审查", DB_API, U.daily, penalty_items(),
       open_type=OPEN),
    _r("abnormal_list", "samr", "企业经营异常名录", TOPIC_MARKET, "信用监督管理处",
       "列入和移出经营异常名录的企业及原因。",
       "政府采购和招投标信用审查、评优评先审核", DB_API, U.daily,
       (USCC, ENTERPRISE_NAME, it("列入原因", C, 200), it("列入日期", D, 8), it("作出决定机关", C, 100),
        it("移出原因", C, 200), it("移出日期", D, 8)),
       topic="市场监管", open_type=OPEN),
    _r("special_equipment", "samr", "特种设备使用登记信息", DEPT_ENFORCEMENT, "特种设备安全监察处",
       "电梯、锅炉、压力容器等特种设备的使用登记和定期检验信息。",
       "电梯应急处置平台、安全生产监管", DB_TABLE_KB, U.monthly,
       (it("设备代码", C, 20), it("设备类别", C, 4), it("使用单位名称", C, 200), USCC, it("设备使用地点", C, 200),
        it("使用登记证编号", C, 30), it("下次检验日期", D, 8)),
       fate=Fate.withdrawn, withdraw_reason="该资源已并入省级特种设备安全监管平台统一提供,市级目录撤销。"),
    # ---- 市卫健委
    _r("birth_cert", "health", "出生医学证明信息", TOPIC_HEALTH, "妇幼健康处",
       "全市助产机构签发的出生医学证明信息。",
       "新生儿落户、医保参保、预防接种建档“出生一件事”联办", DB_API, U.realtime,
       (it("出生医学证明编号", C, 10), it("新生儿姓名", C, 50, S.person_name), GENDER,
        it("出生时间", T, 14), it("出生地点", C, 200), it("母亲姓名", C, 50, S.person_name),
        it("母亲公民身份号码", C, 18, S.id_number), it("父亲姓名", C, 50, S.person_name),
        it("父亲公民身份号码", C, 18, S.id_number), it("签发机构", C, 100)),
       share_type=COND, share_condition=COND_HEALTH, topic="卫生健康", sensitivity_level=IMPORTANT),
    _r("death_cert", "health", "居民死亡医学证明信息", TOPIC_HEALTH, "规划发展与信息化处",
       "医疗卫生机构签发的居民死亡医学证明(推断)书信息。",
       "户籍注销、养老金停发、殡葬服务“身后一件事”联办", DB_API, U.daily,
       (ID_NUMBER, PERSON_NAME, it("死亡日期", D, 8), it("死亡地点类别", C, 1), it("签发机构", C, 100)),
       share_type=COND, share_condition=COND_HEALTH, topic="卫生健康"),
    _r("medical_institution", "health", "医疗机构执业登记信息", BASIC_LICENCE, "医政医管处",
       "医疗机构执业许可证登记信息,含诊疗科目和床位。",
       "医保定点资格审核、就医地图、卫生监督执法", DB_API, U.weekly,
       licence_items("医疗机构名称", it("诊疗科目", M), it("核定床位数", INT, 5), it("机构类别", C, 10)),
       open_type=OPEN),
    _r("physician", "health", "医师执业注册信息", BASIC_LICENCE, "医政医管处",
       "在本市注册执业的医师的执业地点、类别和范围。",
       "互联网医院医师资质核验、医保医师管理", DB_API, U.weekly,
       (PERSON_NAME, it("医师资格证书编码", C, 30), it("执业证书编码", C, 30), it("执业类别", C, 2),
        it("执业范围", C, 100), it("主要执业机构", C, 200)),
       share_type=COND, share_condition=COND_HEALTH),
    _r("epidemic_report", "health", "法定传染病疫情报告信息", DEPT_INTERNAL, "疾病预防控制处",
       "医疗机构网络直报的法定传染病个案信息。",
       "卫生健康部门疫情监测与处置", DB_TABLE_KB, U.realtime,
       (ID_NUMBER, PERSON_NAME, it("病种", C, 10), it("诊断日期", D, 8), it("报告单位", C, 200)),
       share_type=NONE, sensitivity_level=CORE,
       share_basis="《中华人民共和国传染病防治法》第十二条、第六十八条:疾病预防控制机构、医疗机构不得泄露涉及个人隐私的有关信息、资料。"),
    _r("vaccination_sites", "health", "预防接种门诊信息", DEPT_PUBLIC, "疾病预防控制处",
       "全市预防接种门诊的地址、服务时间和可接种疫苗种类。",
       "便民服务地图、疫苗接种预约", SHEET_FILE, U.monthly,
       (UNIT_NAME, it("门诊地址", C, 200), it("服务时间", C, 100), it("可接种疫苗", M), LONGITUDE, LATITUDE),
       open_type=OPEN, fate=Fate.submitted),
    # ---- 市教育局
    _r("student_roll", "edu", "学籍信息", DEPT_SERVICE, "基础教育处",
       "全市中小学在校学生的电子学籍信息。",
       "学生资助精准认定、随迁子女入学、义务教育控辍保学", DB_TABLE, U.half_yearly,
       (it("全国学籍号", C, 19), ID_NUMBER, PERSON_NAME, GENDER, BIRTH_DATE, it("学校名称", C, 200),
        it("年级", C, 2), it("入学年月", C, 6), it("学籍状态", C, 2)),
       share_type=COND, share_condition=COND_EDU, sensitivity_level=IMPORTANT),
    _r("schools", "edu", "中小学校基本信息", DEPT_PUBLIC, "基础教育处",
       "全市公办、民办中小学和幼儿园的办学信息。",
       "学区查询、招生入学服务、教育资源布局规划", SHEET_FILE, U.yearly,
       (it("学校标识码", C, 10), it("学校名称", C, 200), it("办学类型", C, 3), it("举办者类型", C, 1),
        it("学校地址", C, 200), it("在校生数", INT, 6), LONGITUDE, LATITUDE),
       open_type=OPEN),
    _r("student_aid", "edu", "学生资助信息", TOPIC_SOCIAL_SECURITY, "学生资助管理中心",
       "学前至高中阶段家庭经济困难学生资助的认定和发放信息。",
       "困难学生精准资助、低保家庭子女资助核对", DB_TABLE, U.half_yearly,
       (ID_NUMBER, PERSON_NAME, it("学校名称", C, 200), it("资助项目", C, 50), it("资助金额", Y, 10, description="元"),
        it("发放日期", D, 8)),
       share_type=COND, share_condition=COND_EDU, fate=Fate.returned,
       returned_comment="学生资助信息未列入“社会保障”主题的共建部门,请改为部门类(类 3)或先向市大数据局申请加入主题。"),
    _r("teacher_cert", "edu", "教师资格认定信息", BASIC_LICENCE, "教师工作处",
       "教师资格认定和证书颁发信息。",
       "教师招聘资格核验、校外培训机构从业人员核查", DB_API, U.monthly,
       (it("教师资格证书号码", C, 17), PERSON_NAME, ID_NUMBER, it("资格种类", C, 50), it("任教学科", C, 50), ISSUED_ON),
       share_type=COND, share_condition=COND_EDU, fate=Fate.draft),
    # ---- 市交通运输局
    _r("road_transport_permit", "transport", "道路运输经营许可", BASIC_LICENCE, "道路运输服务中心",
       "道路旅客运输、货物运输、机动车维修经营许可信息。",
       "网络货运平台准入、运输企业信用评价", DB_API, U.daily,
       licence_items("经营业户名称", it("经营范围", C, 200), it("经营许可证字号", C, 30)),
       open_type=OPEN),
    _r("transport_workers", "transport", "道路运输从业人员资格信息", BASIC_LICENCE, "道路运输服务中心",
       "道路旅客、货物运输驾驶员及危险货物运输从业人员资格证件信息。",
       "网约车驾驶员资格审核、危险货物运输监管", DB_API, U.daily,
       (PERSON_NAME, ID_NUMBER, it("从业资格证号", C, 20), it("从业资格类别", C, 50), ISSUED_ON, VALID_UNTIL),
       share_type=COND, share_condition=COND_VEHICLE),
    _r("bus_routes", "transport", "公交线路及站点信息", TOPIC_TRAFFIC, "公共交通管理处",
       "城市公交线路、站点位置、首末班时间。",
       "出行服务、公交线网优化、交通运行监测", JSON_API, U.weekly,
       (it("线路编号", C, 10), it("线路名称", C, 50), it("站点名称", C, 100), it("站序", INT, 3), LONGITUDE, LATITUDE,
        it("首班时间", C, 5), it("末班时间", C, 5)),
       open_type=OPEN),
    _r("taxi_operation", "transport", "巡游出租汽车运营信息", TOPIC_TRAFFIC, "运输管理处",
       "巡游出租汽车经营企业、车辆和营运里程统计。",
       "出租汽车行业监管、运力调控", DB_TABLE, U.monthly,
       (it("车牌号码", C, 10), it("经营企业名称", C, 200), USCC, it("月营运里程", N, 10, description="公里"),
        it("月载客次数", INT, 6)),
       fate=Fate.submitted),
    # ---- 市生态环境局
    _r("air_quality", "eco", "空气质量监测数据", TOPIC_ECOLOGY, "生态环境监测站",
       "全市国控、省控空气质量自动监测站点的小时浓度数据。",
       "重污染天气应急、交通限行决策、公众健康提示", JSON_API, U.realtime,
       (it("监测站点", C, 50), it("监测时间", T, 14), it("PM2.5浓度", N, 8, description="μg/m³"),
        it("PM10浓度", N, 8, description="μg/m³"), it("二氧化硫浓度", N, 8), it("二氧化氮浓度", N, 8),
        it("臭氧浓度", N, 8), it("一氧化碳浓度", N, 8, description="mg/m³"), it("空气质量指数", INT, 3)),
       open_type=OPEN),
    _r("key_polluters", "eco", "重点排污单位信息", TOPIC_ECOLOGY, "环境影响评价与排放管理处",
       "纳入重点排污单位名录的企业及其主要污染物类别。",
       "环境信用评价、绿色信贷、执法检查计划", SHEET_FILE, U.yearly,
       (USCC, UNIT_NAME, it("所在区县", C, 20), it("重点排污类别", C, 50), it("主要污染物", C, 200), LONGITUDE,
        LATITUDE),
       open_type=OPEN),
    _r("discharge_permit", "eco", "排污许可信息", BASIC_LICENCE, "环境影响评价与排放管理处",
       "排污许可证核发、变更、延续信息。",
       "环境执法、企业环境信用评价", DB_API, U.daily,
       licence_items("单位名称", it("行业类别", C, 100), it("许可排放量", M)),
       open_type=OPEN),
    _r("eco_penalty", "eco", "生态环境行政处罚信息", BASIC_CREDIT, "生态环境保护综合行政执法支队",
       "生态环境部门作出的行政处罚决定,依法公示。",
       "信用联合惩戒、环境信用评价", DB_API, U.daily, penalty_items(),
       open_type=OPEN),
    _r("eia_approval", "eco", "建设项目环评审批信息", DEPT_SERVICE, "环境影响评价与排放管理处",
       "建设项目环境影响报告书(表)审批结果。",
       "工程建设项目审批、施工许可联动", DB_TABLE, U.weekly,
       (it("项目名称", C, 200), it("建设单位", C, 200), USCC, it("批复文号", C, 50), it("批复日期", D, 8),
        it("建设地点", C, 200)),
       fate=Fate.returned, returned_comment="共享方式为库表时请提供测试账号与测试表;“建设地点”请细化到区县。"),
    # ---- 市自然资源局
    _r("real_estate", "natres", "不动产登记信息", BASIC_GEO, "不动产登记服务中心",
       "国有建设用地使用权及房屋所有权等不动产权利登记信息。",
       "住房保障资格审核、社会救助家庭财产核对、司法协助查询", DB_API, U.realtime,
       (it("不动产单元号", C, 28), it("权利人", C, 100, S.person_name), it("权利人证件号码", C, 18, S.id_number),
        it("坐落", C, 200, S.address), it("不动产权证书号", C, 50), it("权利类型", C, 4), it("用途", C, 50),
        it("面积", N, 12, description="平方米"), it("登记日期", D, 8)),
       share_type=COND, share_condition=COND_PROPERTY, sensitivity_level=IMPORTANT),
    _r("land_transfer", "natres", "国有建设用地使用权出让信息", BASIC_GEO, "自然资源所有者权益处",
       "国有建设用地使用权招拍挂出让结果及合同信息。",
       "土地市场监测、工程建设项目审批", SHEET_FILE, U.monthly,
       (it("宗地编号", C, 30), it("土地坐落", C, 200), it("土地用途", C, 50), it("出让面积", N, 12,
        description="平方米"),
        it("成交价款", Y, 18, description="万元"), it("竞得人", C, 200), it("合同签订日期", D, 8)),
       open_type=OPEN),
    _r("land_use", "natres", "土地利用现状数据", BASIC_GEO, "测绘地理信息处",
       "第三次全国国土调查成果及年度变更调查的地类图斑数据。",
       "国土空间规划、耕地保护监管、项目选址分析", SHP_FILE, U.yearly,
       (it("图斑编号", C, 20), it("地类编码", C, 4), it("地类名称", C, 50), it("图斑面积", N, 14), AREA_CODE),
       share_type=COND, share_condition="仅向因国土空间规划、耕地保护和项目审批需要的政务部门提供;不得对外公开发布。"),
    _r("planning_permit", "natres", "建设工程规划许可信息", DEPT_SERVICE, "国土空间规划处",
       "建设工程规划许可证核发信息。",
       "施工许可联动审批、竣工验收", DB_API, U.daily,
       (LICENSE_NUMBER, it("建设单位", C, 200), it("项目名称", C, 200), it("建设位置", C, 200),
        it("建设规模", N, 14, description="平方米"), ISSUED_ON),
       open_type=OPEN, fate=Fate.submitted),
    # ---- 市住建局
    _r("construction_permit", "housing", "建设工程施工许可", BASIC_LICENCE, "建筑市场监管处",
       "房屋建筑和市政基础设施工程施工许可证核发信息。",
       "农民工工资专户监管、安全生产监督、竣工验收备案", DB_API, U.daily,
       (it("施工许可证编号", C, 30), it("项目名称", C, 200), it("建设单位", C, 200), it("施工单位", C, 200),
        it("合同价格", Y, 18, description="万元"), it("建设规模", N, 14, description="平方米"), ISSUED_ON),
       open_type=OPEN),
    _r("presale_permit", "housing", "商品房预售许可信息", DEPT_SERVICE, "房地产市场监管处",
       "商品房预售许可证核发信息及预售资金监管账户。",
       "购房资格审核、房地产市场监测", DB_API, U.daily,
       (it("预售许可证号", C, 30), it("项目名称", C, 200), it("开发企业", C, 200), USCC,
        it("预售面积", N, 14, description="平方米"), it("预售套数", INT, 6), ISSUED_ON),
       open_type=OPEN),
    _r("public_housing", "housing", "公租房保障对象信息", TOPIC_SOCIAL_SECURITY, "住房保障处",
       "公共租赁住房配租家庭及租金补贴发放信息。",
       "住房保障资格复核、低保家庭住房救助", DB_TABLE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("家庭人口", INT, 2), it("保障方式", C, 1), it("租金补贴金额", Y, 10,
        description="元/月"),
        it("配租房源地址", C, 200, S.address)),
       share_type=COND, share_condition=COND_ASSISTANCE),
    _r("builder_qualification", "housing", "建筑业企业资质信息", BASIC_LICENCE, "建筑市场监管处",
       "建筑业企业资质证书及资质等级信息。",
       "招投标资格审查、建筑市场信用评价", DB_API, U.weekly,
       licence_items("企业名称", it("资质类别及等级", M)),
       open_type=OPEN, fate=Fate.draft),
    # ---- 市医保局
    _r("medical_insured", "medins", "医保参保人员信息", TOPIC_SOCIAL_SECURITY, "医疗保障服务中心",
       "城镇职工和城乡居民基本医疗保险参保登记及缴费状态。",
       "医疗救助一站式结算、参保扩面、新生儿参保", DB_API, U.daily,
       (ID_NUMBER, PERSON_NAME, it("险种类型", C, 3, description="310 职工医保,390 居民医保"), it("参保状态", C, 1),
        it("参保地", C, 6), it("缴费年度", C, 4), it("参保日期", D, 8)),
       share_type=COND, share_condition=COND_INSURANCE, topic="社会保障", sensitivity_level=IMPORTANT),
    _r("designated_pharmacy", "medins", "定点医药机构信息", TOPIC_HEALTH, "医药服务管理处",
       "医保定点医疗机构和定点零售药店名单。",
       "参保人就医购药指引、医保基金监管", SHEET_FILE, U.monthly,
       (it("定点机构编码", C, 12), it("机构名称", C, 200), USCC, it("机构类型", C, 2), it("机构地址", C, 200),
        LONGITUDE, LATITUDE),
       topic="卫生健康", open_type=OPEN),
    _r("medical_settlement", "medins", "医保结算信息", TOPIC_SOCIAL_SECURITY, "基金监管处",
       "参保人员住院和门诊结算的费用汇总信息。",
       "医疗救助对象费用核算、大病保险理赔", DB_TABLE_KB, U.daily,
       (ID_NUMBER, PERSON_NAME, it("结算日期", D, 8), it("医疗机构名称", C, 200), it("医疗费用总额", Y, 12),
        it("统筹基金支付", Y, 12), it("个人自付", Y, 12)),
       share_type=COND, share_condition=COND_INSURANCE, topic="社会保障", sensitivity_level=IMPORTANT),
    _r("chronic_disease", "medins", "门诊慢特病待遇认定信息", DEPT_SERVICE, "待遇保障处",
       "门诊慢性病、特殊疾病待遇资格认定结果。",
       "医疗救助、长期护理保险资格核验", DB_TABLE_KB, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("病种名称", C, 100), it("认定日期", D, 8), VALID_UNTIL),
       share_type=COND, share_condition=COND_INSURANCE, fate=Fate.submitted,
       returned_comment="病种名称请采用国家医保疾病诊断分类代码,并补充有效期信息项。"),
    # ---- 市农业农村局
    _r("farm_machinery_subsidy", "agri", "农机购置补贴", DEPT_SERVICE, "农业机械化管理处",
       "农机购置与应用补贴的申请、核验和资金兑付信息。",
       "惠农补贴“一卡通”发放核对、补贴资金审计", DB_TABLE, U.monthly,
       (it("购机者姓名", C, 50, S.person_name), ID_NUMBER, it("所在乡镇", C, 50), it("机具品目", C, 100),
        it("生产企业", C, 200), it("补贴金额", Y, 10, description="元"), it("兑付日期", D, 8)),
       share_type=COND, share_condition="仅限财政、审计、纪检监察部门在惠农补贴资金监管中使用;须经提供部门同意。"),
    _r("land_contract", "agri", "农村土地承包经营权确权信息", BASIC_GEO, "合作经济指导处",
       "农村土地承包经营权确权登记颁证信息。",
       "耕地地力保护补贴发放、土地流转管理", DB_TABLE, U.yearly,
       (it("承包方代表姓名", C, 50, S.person_name), ID_NUMBER, it("承包地块编码", C, 19),
        it("承包面积", N, 10, description="亩"), it("经营权证编号", C, 30), AREA_CODE),
       share_type=COND, share_condition=COND_DEFAULT),
    _r("animal_epidemic_cert", "agri", "动物防疫条件合格证信息", BASIC_LICENCE, "畜牧兽医处",
       "动物饲养场、屠宰加工场所的动物防疫条件合格证核发信息。",
       "畜禽养殖监管、食品安全溯源", DB_API, U.monthly,
       licence_items("单位名称", it("场所类型", C, 50), it("场所地址", C, 200)),
       open_type=OPEN),
    _r("family_farms", "agri", "家庭农场名录", DEPT_PUBLIC, "合作经济指导处",
       "纳入名录管理的家庭农场基本信息。",
       "新型经营主体扶持、涉农贷款贴息", SHEET_FILE, U.half_yearly,
       (it("家庭农场名称", C, 200), USCC, it("经营者姓名", C, 50, S.person_name), it("经营类型", C, 50),
        it("经营土地面积", N, 10, description="亩"), AREA_CODE),
       fate=Fate.draft),
    # ---- 市财政局
    _r("procurement_contract", "finance", "政府采购合同信息", DEPT_PUBLIC, "政府采购监督管理处",
       "政府采购项目的合同公告信息。",
       "采购监管、审计监督、中小企业政策落实评估", DB_API, U.daily,
       (it("合同编号", C, 50), it("采购项目名称", C, 200), it("采购人", C, 200), it("供应商名称", C, 200), USCC,
        it("合同金额", Y, 18, description="元"), it("合同签订日期", D, 8)),
       open_type=OPEN),
    _r("benefit_payment", "finance", "惠民惠农财政补贴资金发放信息", TOPIC_SOCIAL_SECURITY, "社会保障处",
       "通过“一卡通”发放的各类惠民惠农补贴资金明细。",
       "补贴资金监管、重复享受核查", DB_TABLE_ORA, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("补贴项目", C, 100), AMOUNT, it("发放日期", D, 8), it("主管部门", C, 100)),
       share_type=COND, share_condition=COND_DEFAULT, topic="社会保障"),
    _r("budget_units", "finance", "预算单位基本信息", DEPT_INTERNAL, "预算处",
       "市级预算单位的名称、统一社会信用代码、主管部门和单位性质。",
       "部门履职数据对接、预算绩效管理", SHEET_FILE, U.yearly,
       (UNIT_NAME, USCC, it("主管部门", C, 200), it("单位性质", C, 20), it("预算级次", C, 2))),
    # ---- 市税务局
    _r("taxpayer", "tax", "纳税人登记信息", BASIC_LEGAL, "征收管理科",
       "单位纳税人和个体工商户的税务登记及纳税人资格信息。",
       "企业开办一网通办、信用监管、招投标主体资格核验", DB_API, U.daily,
       (USCC, it("纳税人名称", C, 200), it("纳税人状态", C, 2), it("登记注册类型", C, 3), it("主管税务机关", C, 100),
        it("增值税一般纳税人", L, 1)),
       share_type=COND, share_condition=COND_TAX),
    _r("tax_credit_a", "tax", "纳税信用A级纳税人名单", BASIC_CREDIT, "纳税服务科",
       "年度纳税信用评价为 A 级的纳税人名单。",
       "守信激励、绿色通道、银税互动", SHEET_FILE, U.yearly,
       (USCC, it("纳税人名称", C, 200), it("评价年度", C, 4)),
       open_type=OPEN),
    _r("tax_arrears", "tax", "欠税公告信息", BASIC_CREDIT, "征收管理科",
       "依法公告的欠缴税款纳税人信息。",
       "失信联合惩戒、政府采购信用审查", DB_API, U.quarterly,
       (USCC, it("纳税人名称", C, 200), LEGAL_REPRESENTATIVE, it("欠税税种", C, 50), it("欠税余额", Y, 18)),
       open_type=OPEN),
    _r("tax_details", "tax", "纳税人涉税明细信息", DEPT_INTERNAL, "征收管理科",
       "纳税人申报、缴款和发票明细。",
       "税务机关内部征管", DB_TABLE_ORA, U.daily,
       (USCC, it("纳税人名称", C, 200), it("税种", C, 20), it("所属期", C, 6), it("实缴税额", Y, 18)),
       share_type=NONE, sensitivity_level=CORE,
       share_basis="《中华人民共和国税收征收管理法》第八条:税务机关应当依法为纳税人、扣缴义务人的情况保密。"),
    _r("social_insurance_fee", "tax", "社会保险费征缴信息", TOPIC_SOCIAL_SECURITY, "社会保险费科",
       "税务部门征收的社会保险费缴费明细。",
       "社保待遇核定、参保缴费核对", DB_TABLE_ORA, U.monthly,
       (USCC, it("缴费单位名称", C, 200), ID_NUMBER, PERSON_NAME, it("费款所属期", C, 6), it("缴费金额", Y, 12)),
       share_type=COND, share_condition=COND_INSURANCE, fate=Fate.draft),
    # ---- 市统计局
    _r("economy_indicators", "stats", "国民经济主要指标", TOPIC_ECONOMY, "综合处",
       "地区生产总值、规上工业增加值、固定资产投资、社会消费品零售总额等月度指标。",
       "经济运行监测、政策效果评估", SHEET_FILE, U.monthly,
       (it("指标名称", C, 100), it("统计期", C, 6), it("本期值", N, 16), it("同比增长", N, 8, description="%"),
        it("计量单位", C, 20)),
       open_type=OPEN),
    _r("census_summary", "stats", "人口抽样调查汇总数据", TOPIC_SOCIETY, "人口和就业统计处",
       "年度人口变动抽样调查的分区县汇总数据。",
       "公共服务设施规划、人口发展规划", SHEET_FILE, U.yearly,
       (AREA_CODE, it("常住人口", INT, 10), it("出生率", N, 6, description="‰"), it("死亡率", N, 6, description="‰"),
        it("城镇化率", N, 6, description="%")),
       open_type=OPEN),
    _r("survey_microdata", "stats", "统计调查对象原始资料", DEPT_INTERNAL, "数据管理中心",
       "统计调查中取得的能够识别单个调查对象的原始资料。",
       "统计机构内部统计加工", DB_TABLE_KB, U.monthly,
       (USCC, UNIT_NAME, it("调查表号", C, 20), it("填报期别", C, 6), it("指标值", M)),
       share_type=NONE, sensitivity_level=IMPORTANT,
       share_basis="《中华人民共和国统计法》第二十五条:统计调查中获得的能够识别或者推断单个统计调查对象身份的资料,"
       "任何单位和个人不得对外提供、泄露,不得用于统计以外的目的。"),
    # ---- 市文旅局
    _r("scenic_spots", "culture", "A级旅游景区信息", TOPIC_TOURISM, "资源开发处",
       "全市 A 级旅游景区名录、等级、开放时间和最大承载量。",
       "智慧旅游服务、节假日客流预警", SHEET_FILE, U.quarterly,
       (it("景区名称", C, 200), it("景区等级", C, 2), it("景区地址", C, 200), it("开放时间", C, 100),
        it("最大承载量", INT, 8, description="人次/日"), LONGITUDE, LATITUDE),
       open_type=OPEN),
    _r("travel_agency", "culture", "旅行社经营许可信息", BASIC_LICENCE, "市场管理处",
       "旅行社业务经营许可证核发信息。",
       "旅游市场监管、游客投诉处理", DB_API, U.monthly,
       licence_items("旅行社名称", it("经营范围", C, 200)),
       open_type=OPEN),
    _r("heritage_sites", "culture", "文物保护单位信息", TOPIC_TOURISM, "文物保护处",
       "全国、省、市级文物保护单位名录及保护范围。",
       "建设项目选址避让、文旅融合规划", SHP_FILE, U.yearly,
       (it("文物保护单位名称", C, 200), it("保护级别", C, 10), it("公布批次", C, 20), it("地址", C, 200),
        it("保护范围", M)),
       open_type=OPEN, fate=Fate.withdrawn,
       withdraw_reason="保护范围矢量数据待与国土空间规划“一张图”重新校核后再发布。"),
    # ---- 市应急管理局
    _r("hazchem_licence", "emergency", "危险化学品经营许可信息", BASIC_LICENCE, "危险化学品安全监督管理处",
       "危险化学品经营许可证核发、变更和注销信息。",
       "危险货物运输监管、消防安全检查", DB_API, U.weekly,
       licence_items("企业名称", it("经营方式", C, 50), it("许可范围", M)),
       open_type=OPEN),
    _r("safety_penalty", "emergency", "安全生产行政处罚信息", BASIC_CREDIT, "安全生产执法支队",
       "安全生产领域行政处罚决定信息。",
       "安全生产失信联合惩戒", DB_API, U.weekly, penalty_items(),
       open_type=OPEN),
    _r("shelters", "emergency", "应急避难场所信息", TOPIC_SAFETY, "风险监测和综合减灾处",
       "全市应急避难场所位置、类型和可容纳人数。",
       "应急疏散指引、防灾减灾规划", SHEET_FILE, U.yearly,
       (it("场所名称", C, 200), it("场所类型", C, 20), it("地址", C, 200), it("可容纳人数", INT, 8),
        it("有效面积", N, 12, description="平方米"), LONGITUDE, LATITUDE),
       open_type=OPEN),
    _r("major_hazards", "emergency", "危险化学品重大危险源信息", TOPIC_SAFETY, "危险化学品安全监督管理处",
       "危险化学品重大危险源的企业、等级、物质和在线监测接入情况。",
       "应急指挥调度、风险研判、消防救援预案", DB_TABLE_KB, U.monthly,
       (UNIT_NAME, USCC, it("危险源名称", C, 200), it("危险源等级", C, 1), it("主要危险化学品", C, 200),
        LONGITUDE, LATITUDE),
       share_type=COND, sensitivity_level=IMPORTANT,
       share_condition="仅向应急管理、消防救援、公安、生态环境等负有安全监管和应急处置职责的部门提供;不得对外公开。"),
    # ---- 市司法局
    _r("lawyers", "justice", "律师执业信息", BASIC_LICENCE, "律师工作处",
       "律师执业证及执业机构信息。",
       "法律援助指派、公共法律服务网络查询", DB_API, U.monthly,
       (PERSON_NAME, it("执业证号", C, 17), it("执业机构", C, 200), it("执业类别", C, 10), it("首次执业日期", D, 8),
        it("执业状态", C, 2)),
       open_type=OPEN),
    _r("legal_aid", "justice", "法律援助案件信息", DEPT_SERVICE, "公共法律服务管理处",
       "法律援助申请、受理、指派和结案信息。",
       "困难群众法律援助资格核验、农民工欠薪维权", DB_TABLE, U.monthly,
       (it("案件编号", C, 30), PERSON_NAME, ID_NUMBER, it("案件类型", C, 20), it("受理日期", D, 8), it("承办律师", C,
        50)),
       share_type=COND, share_condition=COND_DEFAULT),
    _r("community_correction", "justice", "社区矫正对象信息", DEPT_INTERNAL, "社区矫正管理处",
       "社区矫正对象的入矫、监管和解矫信息。",
       "司法行政机关社区矫正管理", DB_TABLE_KB, U.daily,
       (ID_NUMBER, PERSON_NAME, it("矫正类别", C, 2), it("入矫日期", D, 8), it("矫正期限", INT, 3)),
       share_type=NONE, sensitivity_level=CORE,
       share_basis="《中华人民共和国社区矫正法》第四条、第五十四条:社区矫正工作中知悉的社区矫正对象身份信息和个人隐私应当保密。"),
    _r("notaries", "justice", "公证机构及公证员信息", DEPT_PUBLIC, "公证工作处",
       "公证机构名录和执业公证员信息。",
       "公共法律服务查询", SHEET_FILE, U.quarterly,
       (it("公证机构名称", C, 200), it("机构地址", C, 200), it("公证员姓名", C, 50), it("执业证号", C, 20)),
       open_type=OPEN, fate=Fate.submitted),
    # ---- 市商务局
    _r("foreign_trade", "commerce", "对外贸易经营者备案信息", BASIC_LEGAL, "对外贸易处",
       "对外贸易经营者备案登记信息。",
       "外贸企业扶持政策兑现、出口退税协同", DB_API, U.weekly,
       (USCC, ENTERPRISE_NAME, it("备案登记表编号", C, 20), it("进出口企业代码", C, 20), it("备案日期", D, 8)),
       open_type=OPEN),
    _r("prepaid_cards", "commerce", "单用途商业预付卡备案企业信息", TOPIC_MARKET, "市场运行和消费促进处",
       "发行单用途商业预付卡的企业备案信息。",
       "预付卡消费投诉处理、资金存管监管", SHEET_FILE, U.quarterly,
       (USCC, ENTERPRISE_NAME, it("发卡企业类型", C, 20), it("备案日期", D, 8), it("资金存管银行", C, 100)),
       topic="市场监管", open_type=OPEN),
    _r("price_monitoring", "commerce", "重要生活必需品价格监测数据", TOPIC_ECONOMY, "市场运行和消费促进处",
       "粮油、肉蛋、蔬菜等重要生活必需品零售价格监测。",
       "市场保供稳价、价格异常预警", CSV_FILE, U.weekly,
       (it("监测品种", C, 50), it("监测点", C, 100), it("监测日期", D, 8), it("零售价格", Y, 10,
        description="元/公斤")),
       open_type=OPEN),
    # ---- 市城管局
    _r("urban_penalty", "urban", "城市管理行政处罚信息", BASIC_CREDIT, "城市管理综合执法支队",
       "城市管理综合执法部门的行政处罚决定信息。",
       "信用联合惩戒、违法建设治理", DB_API, U.weekly, penalty_items(),
       open_type=OPEN),
    _r("outdoor_ads", "urban", "户外广告设施设置许可信息", DEPT_SERVICE, "市容环境卫生处",
       "户外广告设施和招牌设置许可信息。",
       "市容秩序巡查、安全隐患排查", DB_TABLE, U.monthly,
       (LICENSE_NUMBER, it("设置单位", C, 200), USCC, it("设置地点", C, 200), it("规格", C, 50), VALID_UNTIL)),
    _r("waste_points", "urban", "生活垃圾分类收运点位信息", TOPIC_ECOLOGY, "市容环境卫生处",
       "生活垃圾分类投放点、中转站和收运线路。",
       "垃圾分类督导、环卫作业调度", CSV_FILE, U.quarterly,
       (it("点位名称", C, 100), it("点位类型", C, 20), it("所在街道", C, 50), LONGITUDE, LATITUDE),
       open_type=OPEN),
    # ---- 市水务局
    _r("water_permit", "water", "取水许可信息", BASIC_LICENCE, "水资源管理处",
       "取水许可证核发信息及许可水量。",
       "水资源税征收协同、用水总量控制", DB_API, U.monthly,
       licence_items("取水权人名称", it("取水地点", C, 200), it("许可水量", N, 14, description="万立方米/年")),
       open_type=OPEN),
    _r("river_chiefs", "water", "河湖长制信息", TOPIC_ECOLOGY, "河湖管理处",
       "全市河湖名录及各级河湖长、责任河段。",
       "河湖巡查、水环境问题督办", SHEET_FILE, U.half_yearly,
       (it("河湖名称", C, 100), it("河湖长姓名", C, 50), it("河湖长职务", C, 100), it("责任河段", C, 200)),
       open_type=OPEN),
    _r("water_quality", "water", "城市供水水质信息", TOPIC_HEALTH, "供水节水处",
       "城市集中式供水出厂水和管网水水质检测结果。",
       "饮用水安全监测、公众信息公开", SHEET_FILE, U.monthly,
       (it("水厂名称", C, 100), it("检测日期", D, 8), it("检测指标", C, 50), it("检测值", N, 12), it("是否达标", L, 1)),
       open_type=OPEN, fate=Fate.draft),
    # ---- 市退役军人事务局
    _r("veterans", "veterans", "退役军人信息", TOPIC_SOCIAL_SECURITY, "移交安置和就业创业处",
       "退役军人基本信息、安置方式和就业创业情况。",
       "优待证发放、就业创业扶持、社保接续", DB_TABLE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("退役时间", D, 8), it("安置方式", C, 2), it("就业状态", C, 1), HOME_ADDRESS),
       share_type=COND, share_condition=COND_ASSISTANCE, topic="社会保障", sensitivity_level=IMPORTANT),
    _r("entitled_groups", "veterans", "优抚对象信息", TOPIC_SOCIAL_SECURITY, "优抚处",
       "享受抚恤补助的优抚对象类别和标准。",
       "医疗优待、住房保障优先、社会救助核对", DB_TABLE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("优抚对象类别", C, 2), it("抚恤补助标准", Y, 10, description="元/月"),
        it("认定日期", D, 8)),
       share_type=COND, share_condition=COND_ASSISTANCE, topic="社会保障", fate=Fate.submitted),
    # ---- 市林草局
    _r("logging_permit", "forestry", "林木采伐许可信息", BASIC_LICENCE, "资源管理处",
       "林木采伐许可证核发信息。",
       "森林资源监管、木材运输检查", DB_API, U.monthly,
       licence_items("申请单位(个人)", it("采伐地点", C, 200), it("采伐蓄积", N, 10, description="立方米")),
       open_type=OPEN),
    _r("ancient_trees", "forestry", "古树名木信息", TOPIC_ECOLOGY, "生态修复处",
       "全市古树名木的树种、树龄、位置和保护等级。",
       "城市建设避让、古树名木保护巡查", SHEET_FILE, U.yearly,
       (it("古树编号", C, 20), it("树种", C, 50), it("估测树龄", INT, 4), it("保护等级", C, 2), it("生长地点", C, 200),
        LONGITUDE, LATITUDE),
       open_type=OPEN),
    # ---- 市发展改革委
    _r("dishonest_list", "ndrc", "失信被执行人及联合惩戒对象名单", BASIC_CREDIT, "社会信用体系建设处",
       "汇集法院、税务、市场监管等部门的失信联合惩戒对象名单。",
       "政府采购、招投标、评优评先、财政资金申报的信用审查", DB_API, U.daily,
       (it("主体名称", C, 200), it("主体类型", C, 1), USCC, it("列入领域", C, 50), it("列入日期", D, 8),
        it("认定部门", C, 100)),
       open_type=OPEN),
    _r("investment_projects", "ndrc", "固定资产投资项目审批信息", DEPT_SERVICE, "投资处",
       "企业投资项目核准、备案及政府投资项目审批信息。",
       "工程建设项目并联审批、重点项目调度", DB_API, U.daily,
       (it("项目代码", C, 24), it("项目名称", C, 200), it("项目单位", C, 200), USCC, it("总投资", Y, 18,
        description="万元"),
        it("审批类型", C, 10), it("审批日期", D, 8)),
       open_type=OPEN),
    # ---- 市审计局
    _r("audit_results", "audit", "审计结果公告信息", DEPT_PUBLIC, "法规审理处",
       "依法向社会公告的审计结果。",
       "审计整改督办、政务公开", PDF_FILE, U.other,
       (it("公告标题", C, 200), it("公告文号", C, 50), it("公告日期", D, 8), it("公告全文", M)),
       open_type=OPEN),
    # ---- 市大数据局 (topic resource compiled by a lead department is below)
    # ---- 城关区
    _r("cg_floating", "cg_police", "城关区流动人口居住登记信息", BASIC_POPULATION, "户政管理大队",
       "城关区辖区流动人口居住登记和居住证申领信息。",
       "社区网格管理、随迁子女入学审核", DB_TABLE, U.daily,
       (ID_NUMBER, PERSON_NAME, HOME_ADDRESS, PHONE, it("登记日期", D, 8), it("所属街道", C, 50)),
       share_type=COND, share_condition=COND_IDENTITY),
    _r("cg_subsistence", "cg_civil", "城关区城乡低保对象名册", DEPT_SERVICE, "社会救助股",
       "城关区各街道城乡低保对象名册,按月更新。",
       "街道社会救助审核、临时救助资格核对", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("所属街道", C, 50), it("保障人数", INT, 2), it("月保障金额", Y, 10,
        description="元")),
       share_type=COND, share_condition=COND_ASSISTANCE),
    _r("cg_temporary_aid", "cg_civil", "城关区临时救助信息", DEPT_SERVICE, "社会救助股",
       "城关区临时救助申请、审批和发放信息。",
       "急难救助、重复救助核查", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("救助事由", C, 200), it("救助金额", Y, 10, description="元"), it("审批日期", D, 8)),
       share_type=COND, share_condition=COND_ASSISTANCE, fate=Fate.submitted),
    _r("cg_elderly", "cg_civil", "城关区居家养老服务对象信息", DEPT_PUBLIC, "养老服务股",
       "享受政府购买居家养老服务的老年人及服务内容。",
       "养老服务补贴核算、助餐服务调度", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, HOME_ADDRESS, it("服务项目", C, 100), it("补贴标准", Y, 10, description="元/月")),
       share_type=COND, share_condition=COND_ASSISTANCE, fate=Fate.returned,
       returned_comment="“服务项目”请使用区民政局统一的服务项目代码;共享条件请写明可使用的部门范围。"),
    _r("cg_hard_to_employ", "cg_hrss", "城关区就业困难人员认定信息", DEPT_SERVICE, "就业服务中心",
       "城关区就业困难人员认定及援助情况。",
       "公益性岗位安置、社保补贴发放", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("困难类别", C, 2), it("认定日期", D, 8), it("援助措施", C, 200)),
       share_type=COND, share_condition=COND_INSURANCE),
    _r("cg_annual_report", "cg_samr", "城关区个体工商户年报信息", BASIC_LEGAL, "信用监管科",
       "城关区个体工商户年度报告公示信息。",
       "信用监管、经营异常名录管理", DB_TABLE, U.yearly,
       (USCC, it("个体工商户名称", C, 200), it("年报年度", C, 4), it("从业人数", INT, 5), it("营业额区间", C, 20)),
       open_type=OPEN),
    _r("cg_food_stalls", "cg_samr", "城关区小餐饮经营登记信息", DEPT_SERVICE, "登记注册科",
       "城关区小餐饮店、食品摊贩登记信息。",
       "夜市经济管理、食品安全巡查", SHEET_FILE, U.monthly,
       (it("登记证编号", C, 30), it("经营者姓名", C, 50, S.person_name), it("经营地址", C, 200), it("经营类别", C, 50),
        VALID_UNTIL),
       fate=Fate.draft),
    # ---- 七里河区
    _r("qlh_grid_population", "qlh_police", "七里河区社区网格人口信息", BASIC_POPULATION, "户政管理大队",
       "七里河区以社区网格为单元的实有人口登记信息。",
       "网格化社会治理、疫情防控排查", DB_TABLE, U.weekly,
       (ID_NUMBER, PERSON_NAME, it("所属网格", C, 50), HOME_ADDRESS, it("人员类别", C, 2)),
       share_type=COND, share_condition=COND_IDENTITY),
    _r("qlh_aid", "qlh_civil", "七里河区困难群众救助信息", DEPT_SERVICE, "社会救助股",
       "七里河区低保、特困、临时救助对象汇总信息。",
       "困难群众动态监测、精准帮扶", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("救助类型", C, 2), it("救助金额", Y, 10, description="元"), it("所属街道", C, 50)),
       share_type=COND, share_condition=COND_ASSISTANCE),
    _r("qlh_public_jobs", "qlh_hrss", "七里河区公益性岗位安置信息", DEPT_SERVICE, "就业服务中心",
       "七里河区公益性岗位开发、安置人员和补贴发放信息。",
       "岗位补贴发放、就业援助跟踪", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("岗位名称", C, 100), it("用人单位", C, 200), it("岗位补贴", Y, 10,
        description="元/月")),
       share_type=COND, share_condition=COND_INSURANCE, fate=Fate.submitted),
    # ---- 榆中县
    _r("yz_floating", "yz_police", "榆中县流动人口居住登记信息", BASIC_POPULATION, "户政管理大队",
       "榆中县辖区流动人口居住登记信息,含和平、定远等园区务工人员。",
       "园区务工人员服务、随迁子女入学审核", DB_TABLE, U.daily,
       (ID_NUMBER, PERSON_NAME, HOME_ADDRESS, PHONE, it("登记日期", D, 8), it("所属乡镇", C, 50)),
       share_type=COND, share_condition=COND_IDENTITY),
    _r("yz_rural_subsistence", "yz_civil", "榆中县农村低保对象信息", DEPT_SERVICE, "社会救助股",
       "榆中县农村低保对象及保障金发放信息。",
       "防返贫动态监测、医疗救助", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("所属乡镇", C, 50), it("保障人数", INT, 2), it("月保障金额", Y, 10,
        description="元")),
       share_type=COND, share_condition=COND_ASSISTANCE),
    _r("yz_migrant_workers", "yz_hrss", "榆中县农民工转移就业信息", DEPT_SERVICE, "就业服务中心",
       "榆中县农村劳动力转移就业和劳务输转信息。",
       "劳务输转补贴、返乡创业扶持", SHEET_FILE, U.quarterly,
       (ID_NUMBER, PERSON_NAME, it("所属乡镇", C, 50), it("务工地", C, 100), it("务工行业", C, 50)),
       share_type=COND, share_condition=COND_INSURANCE, fate=Fate.submitted),
    _r("yz_agri_producers", "yz_samr", "榆中县食用农产品生产经营主体信息", DEPT_ENFORCEMENT, "食品安全监管股",
       "榆中县高原夏菜等食用农产品生产基地和经营主体信息。",
       "食用农产品合格证管理、质量追溯", SHEET_FILE, U.quarterly,
       (it("主体名称", C, 200), USCC, it("主体类型", C, 20), it("主要产品", C, 100), it("所在乡镇", C, 50)),
       open_type=OPEN),
    _r("yz_market_penalty", "yz_samr", "榆中县市场监管行政处罚信息", BASIC_CREDIT, "登记注册股",
       "榆中县市场监管局作出的行政处罚决定信息。",
       "信用联合惩戒、公示", SHEET_FILE, U.monthly, penalty_items(),
       open_type=OPEN, fate=Fate.returned, returned_comment="“处罚依据”应引用具体法律条款,请补充后重新报送。"),
    # ---- 兰州新区
    _r("xq_residence", "xq_police", "兰州新区居住证办理信息", BASIC_POPULATION, "人口管理大队",
       "兰州新区居住证申领和签发信息。",
       "新区人才引进、子女入学、公共服务", DB_TABLE, U.daily,
       (ID_NUMBER, PERSON_NAME, HOME_ADDRESS, it("居住证编号", C, 20), ISSUED_ON),
       share_type=COND, share_condition=COND_IDENTITY),
    _r("xq_social_aid", "xq_social", "兰州新区社会救助对象信息", DEPT_SERVICE, "社会救助科",
       "兰州新区低保、特困和临时救助对象信息。",
       "救助资格核对、医疗救助结算", SHEET_FILE, U.monthly,
       (ID_NUMBER, PERSON_NAME, it("救助类型", C, 2), it("救助金额", Y, 10, description="元"), it("所属镇街", C, 50)),
       share_type=COND, share_condition=COND_ASSISTANCE),
    _r("xq_business_start", "xq_samr", "兰州新区企业开办信息", BASIC_LEGAL, "企业登记科",
       "兰州新区企业开办全流程(登记、刻章、领票、社保登记)办理信息。",
       "企业开办一网通办、营商环境评价", DB_API_PG, U.daily,
       (USCC, ENTERPRISE_NAME, it("开办环节", C, 20), it("办结时间", T, 14), it("办理时长", N, 8, description="小时")),
       open_type=OPEN, fate=Fate.draft),
)  # fmt: skip

# 库表 editions of 人口基本信息, 企业登记信息 and 社保参保信息 (published above for 接口对接), which the
# demo mounts on real provider databases (``sources.py``) and syncs into the base (``exchange_seed.py``).
EXCHANGE_RESOURCES: tuple[ResourceSpec, ...] = (
    _r("population_table", "police", "人口基本信息(库表)", BASIC_POPULATION, "人口管理支队",
       "全市户籍人口身份基础信息的库表交换版本,按变更序号增量同步至大数据基座。",
       "人口统计分析、社会救助对象比对、政务服务“免证办”批量核验", (DB, "SQLite", TABLE), U.daily,
       (ID_NUMBER, PERSON_NAME, GENDER, BIRTH_DATE, ETHNICITY, HUKOU_ADDRESS, it("手机号码", C, 11, S.phone),
        it("人员状态", C, 1, description="1 正常,2 死亡,3 迁出,4 注销"), UPDATED_AT),
       share_type=COND, share_condition=COND_IDENTITY, sensitivity_level=IMPORTANT),
    _r("enterprise_table", "samr", "企业登记信息(库表)", BASIC_LEGAL, "登记注册局",
       "全市企业登记信息的库表交换版本,按变更序号增量同步至大数据基座。",
       "招投标主体资格批量核验、信用监管、经济运行分析", (DB, "MariaDB", TABLE), U.daily,
       (USCC, ENTERPRISE_NAME, it("企业类型", C, 4, description="市场主体类型代码"), LEGAL_REPRESENTATIVE,
        REGISTERED_CAPITAL, FOUNDED_ON, DOMICILE, BUSINESS_SCOPE, REGISTRAR, it("登记状态", C, 2)),
       open_type=OPEN),
    _r("social_insurance_table", "hrss", "社保参保信息(库表)", TOPIC_SOCIAL_SECURITY, "社会保险服务中心",
       "企业职工基本养老、失业、工伤保险参保记录的库表交换版本,每日全量同步至大数据基座。",
       "就业补贴发放、社会救助收入核对、人才引进资格批量核验", (DB, "PostgreSQL", TABLE), U.daily,
       (ID_NUMBER, PERSON_NAME, it("参保险种", C, 3, description="110 养老,210 失业,410 工伤"),
        it("参保状态", C, 1, description="1 参保缴费,2 暂停缴费,3 终止参保"), it("参保日期", D, 8),
        it("缴费基数", Y, 12, description="元"), it("参保单位名称", C, 200), it("参保单位统一社会信用代码", C, 18),
        it("累计缴费月数", INT, 4)),
       share_type=COND, share_condition=COND_INSURANCE, topic="社会保障", sensitivity_level=IMPORTANT),
)  # fmt: skip
RESOURCES += EXCHANGE_RESOURCES


# --------------------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class TopicSpec:
    name: str
    classification: str
    lead: str
    contributors: tuple[str, ...]
    description: str


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "社会保障",
        TOPIC_SOCIAL_SECURITY,
        "hrss",
        ("civil", "medins", "veterans", "finance"),
        "围绕参保、待遇、救助、优抚的社会保障主题数据,由市人社局牵头,市民政局、市医保局、市退役军人事务局、"
        "市财政局共建,支撑社会救助和社保待遇“一网通办”。",
    ),
    TopicSpec(
        "市场监管",
        TOPIC_MARKET,
        "samr",
        ("tax", "commerce", "ndrc"),
        "汇聚市场主体登记、经营异常、预付卡备案和信用信息的市场监管主题数据,由市市场监管局牵头。",
    ),
    TopicSpec(
        "卫生健康",
        TOPIC_HEALTH,
        "health",
        ("medins", "water"),
        "出生、死亡医学证明和医疗机构、定点医药机构等卫生健康主题数据,由市卫健委牵头,市医保局、市水务局共建。",
    ),
)

# --------------------------------------------------------------------------------------- change requests


class ChangeOutcome(StrEnum):
    open = "open"  # trigger recorded, not filed yet
    filed = "filed"  # filed, awaiting the authority
    approved = "approved"  # approved: a new version is published
    rejected = "rejected"


@dataclass(frozen=True)
class ChangeSpec:
    """A change request on a published resource (article 17) and how far the demo takes it."""

    resource: str  # resource key
    trigger: ChangeTrigger
    working_days_ago: int  # the trigger date, counted back in working days from today
    description: str
    reason: str
    outcome: ChangeOutcome
    extension: str = "none"  # none | requested | granted | refused
    extension_days: int = 0
    extension_reason: str = ""
    extension_comment: str = ""
    decision_comment: str = ""
    add_items: tuple[ItemSpec, ...] = ()
    set_fields: dict[str, str] = field(default_factory=dict)


CHANGES: tuple[ChangeSpec, ...] = (
    ChangeSpec(
        "marriage",
        ChangeTrigger.law,
        5,
        "民政部婚姻登记管理信息系统升级,婚姻登记实行“全国通办”,登记机关代码改用全国统一编码。",
        "登记机关信息项改为全国统一编码,并增加“是否跨省办理”信息项。",
        ChangeOutcome.approved,
        add_items=(it("是否跨省办理", L, 1),),
    ),
    ChangeSpec(
        "enterprise",
        ChangeTrigger.law,
        6,
        "《中华人民共和国公司法》(2023 年修订)施行,有限责任公司注册资本实行五年内认缴期限。",
        "增加“认缴出资期限”信息项,便于使用部门核验出资情况。",
        ChangeOutcome.approved,
        add_items=(it("认缴出资期限", D, 8),),
    ),
    ChangeSpec(
        "medical_institution",
        ChangeTrigger.duty,
        8,
        "医疗机构执业登记电子化改革,执业许可证改为电子证照,更新周期需由每周改为每日。",
        "更新周期改为每日,并增加电子证照标识信息项。",
        ChangeOutcome.approved,
        add_items=(it("电子证照标识", C, 64),),
        set_fields={"update_cycle": "daily"},
    ),
    ChangeSpec(
        "social_insurance",
        ChangeTrigger.reorganisation,
        3,
        "社会保险费征收职责划转税务部门后,缴费基数信息由税务部门提供。",
        "删除“缴费基数”信息项的共享,改由市税务局社会保险费征缴信息提供。",
        ChangeOutcome.filed,
        set_fields={"summary": "企业职工基本养老、失业、工伤保险的参保登记状态;缴费信息由市税务局提供。"},
    ),
    ChangeSpec(
        "population",
        ChangeTrigger.duty,
        18,
        "居民身份证异地受理和“跨省通办”业务上线,人员状态代码调整。",
        "人员状态增加“异地受理中”取值,信息项说明同步更新。",
        ChangeOutcome.filed,
        set_fields={"scenario": "政务服务身份核验、跨省通办业务身份核验、社会救助对象认定、人口统计分析"},
    ),
    ChangeSpec(
        "construction_permit",
        ChangeTrigger.law,
        7,
        "《甘肃省建筑工程施工许可管理实施细则》修订,限额以下小型工程不再核发施工许可证。",
        "摘要与应用场景按新细则调整。",
        ChangeOutcome.open,
    ),
    ChangeSpec(
        "road_transport_permit",
        ChangeTrigger.law,
        16,
        "《道路运输条例》修订,道路货物运输经营许可(总质量 4.5 吨及以下普通货运车辆)取消。",
        "调整经营范围信息项说明。",
        ChangeOutcome.open,
    ),
    ChangeSpec(
        "employment",
        ChangeTrigger.reorganisation,
        9,
        "市就业服务局与市人才交流中心整合,就业登记业务承办处室变更。",
        "变更提供方内部部门。",
        ChangeOutcome.open,
        extension="requested",
        extension_days=15,
        extension_reason="就业登记系统与人才服务系统合并,数据迁移预计需三周,申请延长 15 个工作日。",
    ),
    ChangeSpec(
        "real_estate",
        ChangeTrigger.duty,
        13,
        "不动产登记与房屋交易“一窗受理”改革,增加交易合同备案信息。",
        "增加“网签合同备案号”信息项。",
        ChangeOutcome.open,
        extension="granted",
        extension_days=20,
        extension_reason="需与市住建局房屋交易系统联调接口,申请延长 20 个工作日。",
        extension_comment="同意延长 20 个工作日,请在延长期限内完成联调并提交变更申请。",
        add_items=(it("网签合同备案号", C, 30),),
    ),
    ChangeSpec(
        "scenic_spots",
        ChangeTrigger.duty,
        11,
        "景区最大承载量核定标准调整。",
        "“最大承载量”改为“瞬时最大承载量”和“日最大承载量”两项。",
        ChangeOutcome.open,
        extension="refused",
        extension_days=10,
        extension_reason="景区承载量需逐一重新核定。",
        extension_comment="承载量核定不影响目录结构调整,不同意延期,请按期提交。",
    ),
    ChangeSpec(
        "key_polluters",
        ChangeTrigger.law,
        4,
        "《环境信息依法披露制度改革方案》实施,重点排污单位名录调整为依法披露企业名单。",
        "资源名称与摘要同步调整。",
        ChangeOutcome.rejected,
        set_fields={"summary": "依法披露环境信息的企业名单及其主要污染物类别。"},
        decision_comment="名录调整应在次年名录发布后统一变更,本次不予调整,请维持现有目录。",
    ),
    ChangeSpec(
        "cg_floating",
        ChangeTrigger.reorganisation,
        6,
        "城关区街道行政区划调整,新增两个街道。",
        "“所属街道”代码表更新。",
        ChangeOutcome.approved,
        set_fields={"summary": "城关区辖区流动人口居住登记和居住证申领信息(按调整后的街道划分)。"},
    ),
)

# --------------------------------------------------------------------------------------- data admins


@dataclass(frozen=True)
class PreviousAdmin:
    """A former 数据资源管理员 of a department, ended on ``days_ago`` for ``reason``."""

    department: str
    name: str
    office: str
    started_days_ago: int
    ended_days_ago: int
    reason: str


PREVIOUS_ADMINS: tuple[PreviousAdmin, ...] = (
    PreviousAdmin("police", "何俊杰", "科技信息化处", 900, 240, "岗位调整:原管理员调任交通警察支队"),
    PreviousAdmin("civil", "吕雅琴", "信息中心", 700, 120, "机构改革:信息中心职能并入办公室"),
    PreviousAdmin("hrss", "梁德明", "信息中心", 1000, 400, "退休"),
    PreviousAdmin("cg_civil", "邓婷婷", "办公室", 500, 60, "工作调动:调往七里河区民政局"),
)

# Departments without a registered 数据资源管理员, so that the register shows the gap.
DEPARTMENTS_WITHOUT_ADMIN: tuple[str, ...] = ("forestry",)
