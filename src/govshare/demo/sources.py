"""The demo's provider sources: real databases and files filled with synthetic Lanzhou data.

``build_sources`` writes one SQLite provider database (always; ``<var_dir>/demo-sources/provider.db``)
holding every table: 人口基本信息 (``person``, 100,000 people by default), 企业登记信息 (``enterprise``),
社保参保信息 (``social_insurance``, linked to the people and the enterprises) and 不动产登记信息
(``real_estate``, served by the provider API of ``provider_api.py``). When a MariaDB or PostgreSQL
server answers a short connect, the enterprises are copied to MariaDB (``demo_enterprise``) and the
insurance records to PostgreSQL (database ``govshare_demo_source``, table ``demo_social_insurance``),
recreated on every run, so that the demo mounts one source of each kind. The files of the 文件
resource (养老机构信息) are written as CSV and XLSX.

Everything is invented but well-formed: 公民身份号码 carry Lanzhou area codes (6201xx), a real birth
date, the order code's parity for the sex and the GB 11643 check character; 统一社会信用代码 are
valid under GB 32100 (``kit.uscc``); phones have real Chinese mobile prefixes (a few are missing
and a handful malformed, so the quality figures have something to show); addresses name real
Lanzhou districts, streets and roads. Data is generated from a fixed seed and a fixed reference
date, so every run produces the same rows. Loading is by big ``executemany`` batches (SQLite,
MariaDB) and COPY (PostgreSQL); rows are generated and written in batches, never all held at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sqlite3
import time
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Numeric, String, Table, Text, create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from govshare.demo.data import RANDOM_SEED, SURNAMES
from govshare.exchange.quality import make_id_number
from govshare.kit.uscc import make_uscc

DEFAULT_PEOPLE = 100_000
ELDERLY_CARE_ROWS = 160
REFERENCE_DATE = dt.date(2025, 6, 30)  # "today" of the generated data: fixed, so every run is identical
BATCH = 10_000
DEFAULT_MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/govshare_demo_source"

Echo = Callable[[str], None]
T = TypeVar("T")

# --------------------------------------------------------------------------------------- places

# 区划代码 → (区县, [(街道或乡镇, [道路或村])]); the codes are the ones printed in real 公民身份号码.
DISTRICTS: dict[str, tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "620102": (
        "城关区",
        (
            ("张掖路街道", ("张掖路", "永昌路", "武都路", "中山路")),
            ("酒泉路街道", ("酒泉路", "金塔巷", "秦安路")),
            ("皋兰路街道", ("皋兰路", "白银路", "平凉路")),
            ("东岗西路街道", ("东岗西路", "天水南路", "民主西路")),
            ("铁路东村街道", ("火车站东路", "东岗西路", "平凉路")),
            ("雁南街道", ("雁南路", "雁滩路", "南河路")),
            ("拱星墩街道", ("东岗东路", "焦家湾路", "拱星墩路")),
            ("嘉峪关路街道", ("嘉峪关西路", "团结新村", "天水北路")),
            ("伏龙坪街道", ("伏龙坪路", "五泉南路")),
            ("盐场路街道", ("盐场路", "北面滩路")),
        ),
    ),
    "620103": (
        "七里河区",
        (
            ("西园街道", ("西津东路", "硷沟沿", "小西湖东街")),
            ("西湖街道", ("西津西路", "七里河北街", "西湖南街")),
            ("建兰路街道", ("建兰路", "五里铺", "小稍门外")),
            ("敦煌路街道", ("敦煌路", "武威路", "兰工坪路")),
            ("西站街道", ("西站东路", "西站西路", "土门墩")),
        ),
    ),
    "620104": (
        "西固区",
        (
            ("西固城街道", ("西固中路", "玉门街", "山丹街")),
            ("福利路街道", ("福利东路", "福利西路", "合水北路")),
            ("先锋路街道", ("先锋路", "寺儿沟路")),
            ("陈坪街道", ("陈官营路", "陈坪中路")),
        ),
    ),
    "620105": (
        "安宁区",
        (
            ("培黎街道", ("安宁西路", "北滨河西路", "培黎路")),
            ("西路街道", ("安宁西路", "万新路", "莫高大道")),
            ("刘家堡街道", ("北环路", "刘家堡路")),
            ("安宁堡街道", ("安宁堡路", "枣林路")),
        ),
    ),
    "620111": ("红古区", (("海石湾镇", ("平安路", "海石湾大道", "红古路")), ("窑街街道", ("窑街路", "下窑路")))),
    "620121": ("永登县", (("城关镇", ("东大街", "西大街", "滨河路")), ("红城镇", ("红城大街",)))),
    "620122": ("皋兰县", (("石洞镇", ("金盛路", "兰秦快速路")), ("忠和镇", ("忠和路",)))),
    "620123": ("榆中县", (("城关镇", ("栖云北路", "兴隆路", "文成路")), ("和平镇", ("和平东路", "高崖路")))),
}
# How people's 户籍 spread over the districts (城关区 is the most populous).
DISTRICT_WEIGHTS = {
    "620102": 36,
    "620103": 17,
    "620104": 10,
    "620105": 9,
    "620111": 3,
    "620121": 9,
    "620122": 4,
    "620123": 12,
}
RURAL_TOWNS = ("城关镇", "和平镇", "红城镇", "忠和镇", "海石湾镇", "石洞镇")
VILLAGES = ("新庄", "王家庄", "河湾", "上川", "下川", "李家坪", "红星", "大营", "金岸", "高崖")

# --------------------------------------------------------------------------------------- people

COMMON_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗魏牛秦安汪苏董常段"
MALE_CHARS = "伟强军磊勇杰涛明超刚平辉鹏华飞斌宇浩凯健俊帆林海东志建国文兵峰"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲婷雪琳慧颖晶洁梅兰英红秀萍倩瑶蕾璐"
ETHNICITIES = (("01", 900), ("03", 60), ("04", 15), ("26", 10), ("30", 5), ("11", 5), ("02", 5))
MOBILE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "186",
    "187",
    "189",
    "199",
)
PERSON_STATUS = (("1", 960), ("2", 10), ("3", 25), ("4", 5))  # 1 正常,2 死亡,3 迁出,4 注销

# --------------------------------------------------------------------------------------- enterprises

TRADE_NAMES = (
    "金城", "黄河", "陇原", "皋兰", "西北", "丝路", "兰石", "华夏", "亚欧", "宏达", "鑫源", "恒通", "瑞丰", "天庆",
    "正宁", "永和", "泰安", "中川", "榆丰", "雁滩", "五泉", "白塔", "敦煌", "飞天", "祁连", "陇海", "同辉", "盛华",
    "兴陇", "安泰", "润泽", "博远", "嘉禾", "汇通", "德隆", "云帆", "星河", "锦程", "和顺", "丰源",
)  # fmt: skip
INDUSTRIES = (
    ("商贸", "日用百货、五金交电、建筑材料的批发零售"),
    ("建筑工程", "房屋建筑工程、市政公用工程施工;建筑劳务分包"),
    ("信息技术", "软件开发;信息系统集成服务;数据处理和存储支持服务"),
    ("餐饮管理", "餐饮服务;餐饮管理;食品销售"),
    ("物流", "道路货物运输;仓储服务;装卸搬运"),
    ("农业开发", "蔬菜、水果种植与销售;农产品初加工;农业技术推广服务"),
    ("文化传媒", "广告设计、制作、代理;文艺创作;会议及展览服务"),
    ("医药", "药品零售;医疗器械经营;保健食品销售"),
    ("机械制造", "通用设备制造;机械零部件加工;金属制品销售"),
    ("房地产开发", "房地产开发经营;物业管理;房屋租赁"),
    ("新能源科技", "光伏设备及元器件销售;储能技术服务;合同能源管理"),
    ("牛肉面餐饮", "餐饮服务;预包装食品销售;餐饮管理"),
)
ENTERPRISE_TYPES = (("1130", 55), ("1151", 25), ("1110", 3), ("1221", 5), ("4540", 7), ("4530", 5))
ENTERPRISE_SUFFIX = {"1221": "股份有限公司", "4540": "经营部", "4530": "企业(普通合伙)"}
ENTERPRISE_STATUS = (("存续", 88), ("在业", 5), ("注销", 5), ("吊销", 2))
INSURANCE_TYPES = (("110", 1.0), ("210", 0.8), ("410", 0.7))  # 养老 always, then 失业, 工伤
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# --------------------------------------------------------------------------------------- tables

_metadata = MetaData()
PERSON = Table(
    "person",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("id_number", String(18), nullable=False, unique=True),
    Column("name", String(50), nullable=False),
    Column("gender", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("ethnicity", String(2), nullable=False),
    Column("hukou_address", String(200), nullable=False),
    Column("mobile", String(20)),
    Column("status", String(1), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("change_seq", Integer, nullable=False, index=True),
)
ENTERPRISE = Table(
    "enterprise",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("uscc", String(18), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("type_code", String(4), nullable=False),
    Column("legal_representative", String(50), nullable=False),
    Column("registered_capital", Numeric(18, 2), nullable=False),
    Column("founded_on", Date, nullable=False),
    Column("domicile", String(200), nullable=False),
    Column("business_scope", Text, nullable=False),
    Column("registrar", String(100), nullable=False),
    Column("status", String(4), nullable=False),
    Column("change_seq", Integer, nullable=False, index=True),
)
INSURANCE = Table(
    "social_insurance",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    Column("insurance_type", String(3), nullable=False),
    Column("status", String(1), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("contribution_base", Numeric(12, 2), nullable=False),
    Column("employer_name", String(200), nullable=False),
    Column("employer_uscc", String(18), nullable=False),
    Column("paid_months", Integer, nullable=False),
)
REAL_ESTATE = Table(
    "real_estate",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_number", String(28), nullable=False, unique=True),
    Column("holder", String(100), nullable=False),
    Column("holder_id_number", String(18), nullable=False, index=True),
    Column("location", String(200), nullable=False),
    Column("certificate_number", String(50), nullable=False),
    Column("right_type", String(4), nullable=False),
    Column("usage", String(50), nullable=False),
    Column("area", Numeric(12, 2), nullable=False),
    Column("registered_on", Date, nullable=False),
)
ELDERLY_CARE_HEADER = (
    "单位名称",
    "统一社会信用代码",
    "机构地址",
    "床位数",
    "护理型床位数",
    "收费标准",
    "联系电话(机构)",
    "经度",
    "纬度",
)


@dataclass(frozen=True)
class BuiltSource:
    """One source table the demo can mount: where it is and how many rows it holds."""

    kind: str  # SQLite | MariaDB | PostgreSQL
    url: str  # the address to mount (the demo's own local servers, no password)
    table: str
    rows: int


@dataclass
class DemoSources:
    directory: Path
    sqlite_path: Path
    people: BuiltSource
    enterprises: BuiltSource
    insurance: BuiltSource
    real_estate_rows: int
    files: list[Path]
    notes: list[str] = field(default_factory=list)  # one printed line per server used or skipped
    seconds: float = 0.0


# --------------------------------------------------------------------------------------- generation


class _FastRandom:
    """The few ``random.Random`` methods the generator uses, built on ``random()`` alone: ``randrange``
    and ``choice`` go through Python-level rejection sampling in the standard library, which made
    generating 100,000 people take twice as long. Deterministic for a seed like the original."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self.random = self._rng.random
        self.uniform = self._rng.uniform
        self.triangular = self._rng.triangular

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def randint(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def choices(self, population: Sequence[T], weights: Sequence[float]) -> list[T]:
        cumulative = list(accumulate(weights))
        return [population[bisect(cumulative, self.random() * cumulative[-1])]]


class _Generator:
    """Deterministic synthetic rows; ``people`` streams in batches and feeds the linked tables."""

    def __init__(self, seed: int = RANDOM_SEED) -> None:
        self.rng = _FastRandom(seed)
        self.districts = list(DISTRICT_WEIGHTS)
        self.district_weights = list(DISTRICT_WEIGHTS.values())
        self.ethnic_codes = [c for c, _ in ETHNICITIES]
        self.ethnic_weights = [w for _, w in ETHNICITIES]
        self.status_codes = [c for c, _ in PERSON_STATUS]
        self.status_weights = [w for _, w in PERSON_STATUS]
        self.surnames = COMMON_SURNAMES + SURNAMES
        self.used_ids: set[str] = set()
        self.used_uscc: set[str] = set()
        self.used_units: set[str] = set()
        self.employers: list[tuple[str, str]] = []

    # ---- small pieces

    def name(self, male: bool | None = None) -> str:
        rng = self.rng
        if male is None:
            male = rng.random() < 0.5
        chars = MALE_CHARS if male else FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.72 else "")
        return rng.choice(self.surnames) + given

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def address(self, code: str) -> str:
        rng = self.rng
        district, streets = DISTRICTS[code]
        street, roads = rng.choice(streets)
        if street in RURAL_TOWNS and rng.random() < 0.6:
            return f"甘肃省兰州市{district}{street}{rng.choice(VILLAGES)}村{rng.randint(1, 9)}社{rng.randint(1, 120)}号"
        return (
            f"甘肃省兰州市{district}{street}{rng.choice(roads)}{rng.randint(1, 899)}号"
            f"{rng.randint(1, 28)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
        )

    def birth_date(self) -> dt.date:
        age_days = int(self.rng.triangular(0, 95, 36) * 365.25)
        return REFERENCE_DATE - dt.timedelta(days=age_days + 1)

    def id_number(self, code: str, born: dt.date, male: bool) -> str:
        while True:
            order = self.rng.randrange(500) * 2 + (1 if male else 0)  # odd for men, even for women
            number = make_id_number(f"{code}{born:%Y%m%d}{order:03d}")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def uscc(self, first2: str, code: str) -> str:
        while True:
            body = "".join(self.rng.choice(USCC_CHARS[:10]) for _ in range(8))
            total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
            check = 11 - total % 11
            org = body + {10: "X", 11: "0"}.get(check, str(check))
            value = make_uscc(f"{first2}{code}{org}")
            if value not in self.used_uscc:
                self.used_uscc.add(value)
                return value

    def weighted(self, pairs: Sequence[tuple[str, int]]) -> str:
        return self.rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]

    # ---- tables

    def enterprises(self, count: int) -> Iterator[list[tuple[Any, ...]]]:
        rng = self.rng
        names: set[str] = set()
        batch: list[tuple[Any, ...]] = []
        for n in range(1, count + 1):
            code = rng.choices(self.districts, weights=self.district_weights)[0]
            district = DISTRICTS[code][0]
            type_code = self.weighted(ENTERPRISE_TYPES)
            industry, scope = rng.choice(INDUSTRIES)
            region = rng.choice(("兰州", "甘肃", "兰州", f"兰州{district.removesuffix('区').removesuffix('县')}"))
            trade = rng.choice(TRADE_NAMES) + (rng.choice(TRADE_NAMES) if rng.random() < 0.5 else "")
            suffix = ENTERPRISE_SUFFIX.get(type_code, "有限公司" if rng.random() < 0.8 else "有限责任公司")
            name = f"{region}{trade}{industry}{suffix}"
            while name in names:
                trade += rng.choice("鑫泰源达兴盛华通")
                name = f"{region}{trade}{industry}{suffix}"
            names.add(name)
            uscc = self.uscc("92" if type_code == "4540" and rng.random() < 0.3 else "91", code)
            capital = rng.choice((10, 50, 100, 200, 300, 500, 1000, 2000, 5000)) * rng.choice((1, 1, 1, 2, 3))
            founded = REFERENCE_DATE - dt.timedelta(days=rng.randint(30, 365 * 30))
            legal = self.name()
            status = self.weighted(ENTERPRISE_STATUS)
            registrar = "兰州市市场监督管理局" if rng.random() < 0.4 else f"兰州市{district}市场监督管理局"
            if status in ("存续", "在业"):
                self.employers.append((uscc, name))
            batch.append(
                (
                    n,
                    uscc,
                    name,
                    type_code,
                    legal,
                    f"{capital}.00",
                    founded.isoformat(),
                    self.address(code).removeprefix("甘肃省"),
                    scope,
                    registrar,
                    status,
                    n,
                )
            )
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def people(
        self, count: int
    ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """Batches of (people, their insurance records, their real-estate records)."""
        rng = self.rng
        people: list[tuple[Any, ...]] = []
        insurance: list[tuple[Any, ...]] = []
        estates: list[tuple[Any, ...]] = []
        insurance_id = estate_id = 0
        start = dt.datetime(2023, 1, 1, 8, 0, 0)  # noqa: DTZ001 - the provider keeps naive local time
        for n in range(1, count + 1):
            code = rng.choices(self.districts, weights=self.district_weights)[0]
            male = rng.random() < 0.51
            born = self.birth_date()
            id_number = self.id_number(code, born, male)
            name = self.name(male)
            # A few people registered elsewhere in the city than where they were born.
            hukou = code if rng.random() < 0.85 else rng.choices(self.districts, weights=self.district_weights)[0]
            age = (REFERENCE_DATE - born).days // 365
            mobile: str | None = self.mobile() if age >= 12 and rng.random() < 0.93 else None
            if mobile is not None and rng.random() < 0.001:
                mobile = mobile[:10]  # a mistyped number: the quality check should flag it
            updated = start + dt.timedelta(seconds=n * 571 + rng.randrange(500))
            people.append(
                (
                    n,
                    id_number,
                    name,
                    "1" if male else "2",
                    born.isoformat(),
                    rng.choices(self.ethnic_codes, weights=self.ethnic_weights)[0],
                    self.address(hukou),
                    mobile,
                    rng.choices(self.status_codes, weights=self.status_weights)[0],
                    updated.isoformat(sep=" "),
                    n,
                )
            )
            if 18 <= age <= 65 and self.employers and rng.random() < 0.7:
                uscc, employer = rng.choice(self.employers)
                first_job = born.replace(year=born.year + 18, day=min(born.day, 28))
                begun = first_job + dt.timedelta(days=rng.randint(0, max((REFERENCE_DATE - first_job).days, 0)))
                months = max((REFERENCE_DATE.year - begun.year) * 12 + REFERENCE_DATE.month - begun.month, 1)
                status = "1" if rng.random() < 0.9 else rng.choice("23")
                base = rng.randrange(3800, 26000, 100)
                for insurance_type, share in INSURANCE_TYPES:
                    if rng.random() < share:
                        insurance_id += 1
                        insurance.append(
                            (
                                insurance_id,
                                id_number,
                                name,
                                insurance_type,
                                status,
                                begun.isoformat(),
                                f"{base}.00",
                                employer,
                                uscc,
                                months,
                            )
                        )
            if age >= 22 and rng.random() < 0.25:
                for _ in range(1 if rng.random() < 0.85 else 2):
                    estate_id += 1
                    estates.append(self._estate(estate_id, name, id_number, hukou, born))
            if len(people) >= BATCH:
                yield people, insurance, estates
                people, insurance, estates = [], [], []
        if people:
            yield people, insurance, estates

    def _estate(self, n: int, holder: str, id_number: str, code: str, born: dt.date) -> tuple[Any, ...]:
        rng = self.rng
        while True:
            unit = (
                f"{code}{rng.randint(1, 20):03d}{rng.randint(1, 12):03d}GB{rng.randint(1, 99999):05d}"
                f"F{rng.randint(1, 40):04d}{rng.randint(1, 3300):04d}"
            )
            if unit not in self.used_units:
                self.used_units.add(unit)
                break
        earliest = born.replace(year=born.year + 22, day=min(born.day, 28))
        registered = earliest + dt.timedelta(days=rng.randint(0, max((REFERENCE_DATE - earliest).days, 0)))
        usage = rng.choices(("住宅", "商业", "办公", "车库"), weights=(85, 7, 4, 4))[0]
        area = round(rng.uniform(45, 160) if usage == "住宅" else rng.uniform(12, 300), 2)
        return (
            n,
            unit,
            holder,
            id_number,
            self.address(code).removeprefix("甘肃省兰州市"),
            f"甘({registered.year})兰州市不动产权第{rng.randrange(10**7):07d}号",
            "0401",  # 国有建设用地使用权/房屋所有权
            usage,
            f"{area:.2f}",
            registered.isoformat(),
        )

    def elderly_care(self, count: int) -> list[tuple[Any, ...]]:
        rng = self.rng
        rows: list[tuple[Any, ...]] = []
        kinds = ("养老院", "老年公寓", "颐养中心", "社区日间照料中心", "护理院")
        for _ in range(count):
            code = rng.choices(self.districts, weights=self.district_weights)[0]
            district = DISTRICTS[code][0]
            kind = rng.choice(kinds)
            name = f"兰州市{district}{rng.choice(TRADE_NAMES)}{kind}"
            beds = rng.choice((30, 50, 80, 100, 120, 150, 200, 300))
            rows.append(
                (
                    name,
                    self.uscc("52" if rng.random() < 0.7 else "12", code),
                    self.address(code).removeprefix("甘肃省").split("号楼")[0].rsplit("号", 1)[0] + "号",
                    beds,
                    int(beds * rng.uniform(0.3, 0.7)),
                    f"{rng.randrange(1800, 5200, 100)}-{rng.randrange(5200, 9800, 100)}元/月",
                    f"0931-{rng.choice('2345678')}{rng.randrange(10**6):06d}",
                    f"{rng.uniform(103.62, 104.12):.6f}",
                    f"{rng.uniform(35.92, 36.18):.6f}",
                )
            )
        return rows


# --------------------------------------------------------------------------------------- writing


def _insert_sql(table: Table, placeholder: str) -> str:
    names = ", ".join(c.name for c in table.columns)
    values = ", ".join(placeholder for _ in table.columns)
    return f"INSERT INTO {table.name} ({names}) VALUES ({values})"  # noqa: S608 - fixed table and column names


def _build_sqlite(path: Path, gen: _Generator, people: int, enterprises: int) -> dict[str, int]:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path.as_posix()}")
    try:
        _metadata.create_all(engine)
    finally:
        engine.dispose()
    counts = {"person": 0, "enterprise": 0, "social_insurance": 0, "real_estate": 0}
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        for batch in gen.enterprises(enterprises):
            conn.executemany(_insert_sql(ENTERPRISE, "?"), batch)
            counts["enterprise"] += len(batch)
        for person_rows, insurance_rows, estate_rows in gen.people(people):
            conn.executemany(_insert_sql(PERSON, "?"), person_rows)
            conn.executemany(_insert_sql(INSURANCE, "?"), insurance_rows)
            conn.executemany(_insert_sql(REAL_ESTATE, "?"), estate_rows)
            counts["person"] += len(person_rows)
            counts["social_insurance"] += len(insurance_rows)
            counts["real_estate"] += len(estate_rows)
        conn.commit()
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file for readers
    finally:
        conn.close()
    return counts


def _read_batches(path: Path, table: Table) -> Iterator[list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        names = ", ".join(c.name for c in table.columns)
        cursor = conn.execute(f"SELECT {names} FROM {table.name} ORDER BY id")  # noqa: S608 - fixed names
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        conn.close()


def reachable(url: str, *, timeout: int = 3) -> tuple[Engine | None, str]:
    """An engine on ``url`` when its server answers within ``timeout`` seconds, else the reason."""
    parsed = _with_driver(make_url(url))
    engine = create_engine(parsed, connect_args={"connect_timeout": timeout}, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        return None, str(exc.__class__.__name__)
    return engine, ""


def _with_driver(url: URL) -> URL:
    drivers = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql"}
    drivers["mariadb"] = "mysql+pymysql"
    return url.set(drivername=drivers.get(url.drivername, url.drivername))


def _plain(url: URL) -> str:
    """The address as a mount takes it: the bare dialect name (the platform picks its driver)."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)


def _copy_to_mariadb(engine: Engine, sqlite_path: Path, source: Table, name: str) -> int:
    target = source.to_metadata(MetaData(), name=name)
    target.drop(engine, checkfirst=True)
    target.create(engine)
    rows = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        sql = _insert_sql(target, "%s")
        for batch in _read_batches(sqlite_path, source):
            cursor.executemany(sql, batch)  # PyMySQL folds this into multi-row INSERTs
            rows += len(batch)
        raw.commit()
    finally:
        raw.close()
    return rows


def _ensure_pg_database(url: URL) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def _copy_to_postgres(engine: Engine, sqlite_path: Path, source: Table, name: str) -> int:
    target = source.to_metadata(MetaData(), name=name)
    target.drop(engine, checkfirst=True)
    target.create(engine)
    rows = 0
    names = ", ".join(c.name for c in target.columns)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for batch in _read_batches(sqlite_path, source):
                for row in batch:
                    copy.write_row(row)
                rows += len(batch)
        raw.commit()
    finally:
        raw.close()
    return rows


def _write_files(directory: Path, rows: list[tuple[Any, ...]]) -> list[Path]:
    from openpyxl import Workbook

    directory.mkdir(parents=True, exist_ok=True)
    csv_path = directory / "养老机构信息.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ELDERLY_CARE_HEADER)
        writer.writerows(rows)
    xlsx_path = directory / "养老机构信息.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("养老机构信息")
    sheet.append(list(ELDERLY_CARE_HEADER))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    book.save(xlsx_path)
    return [csv_path, xlsx_path]


def _cell(value: Any) -> Any:
    # Coordinates are numbers in the workbook (text in the CSV, as a CSV has no types).
    if isinstance(value, str) and value.replace(".", "", 1).isdigit() and "." in value:
        return float(value)
    return value


def build_sources(
    directory: Path,
    *,
    people: int = DEFAULT_PEOPLE,
    mariadb_url: str = DEFAULT_MARIADB_URL,
    postgres_url: str = DEFAULT_POSTGRES_URL,
    table_prefix: str = "demo_",
    echo: Echo | None = None,
) -> DemoSources:
    """Write the SQLite provider database and the files; copy to MariaDB / PostgreSQL when reachable.

    An empty ``mariadb_url`` or ``postgres_url`` skips that server. Tables on the servers are named
    ``<table_prefix>enterprise`` and ``<table_prefix>social_insurance`` and recreated on every run.
    """
    say = echo or (lambda _line: None)
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    sqlite_path = directory / "provider.db"
    gen = _Generator()
    enterprise_count = max(people // 5, 200)
    counts = _build_sqlite(sqlite_path, gen, people, enterprise_count)
    files = _write_files(directory / "files", gen.elderly_care(ELDERLY_CARE_ROWS))
    sqlite_url = f"sqlite:///{sqlite_path.resolve().as_posix()}"
    result = DemoSources(
        directory=directory,
        sqlite_path=sqlite_path,
        people=BuiltSource("SQLite", sqlite_url, PERSON.name, counts["person"]),
        enterprises=BuiltSource("SQLite", sqlite_url, ENTERPRISE.name, counts["enterprise"]),
        insurance=BuiltSource("SQLite", sqlite_url, INSURANCE.name, counts["social_insurance"]),
        real_estate_rows=counts["real_estate"],
        files=files,
    )
    say(f"  SQLite 提供方库 {sqlite_path}:人口 {counts['person']:,}、企业 {counts['enterprise']:,}、"
        f"社保参保 {counts['social_insurance']:,}、不动产 {counts['real_estate']:,} 行")  # fmt: skip

    if mariadb_url:
        parsed = _with_driver(make_url(mariadb_url))
        engine, why = reachable(mariadb_url)
        if engine is None:
            result.notes.append(f"MariaDB 不可达({why}),企业登记信息改用 SQLite 提供方库")
        else:
            name = f"{table_prefix}enterprise"
            try:
                rows = _copy_to_mariadb(engine, sqlite_path, ENTERPRISE, name)
            except Exception as exc:  # e.g. no such database or no right to create tables: use SQLite
                result.notes.append(f"MariaDB 写入失败({exc.__class__.__name__}),企业登记信息改用 SQLite 提供方库")
            else:
                result.enterprises = BuiltSource("MariaDB", _plain(parsed), name, rows)
                result.notes.append(f"MariaDB {parsed.render_as_string()}:{name} {rows:,} 行")
            finally:
                engine.dispose()
    if postgres_url:
        parsed = _with_driver(make_url(postgres_url))
        admin, why = reachable(parsed.set(database="postgres").render_as_string(hide_password=False))
        if admin is None:
            result.notes.append(f"PostgreSQL 不可达({why}),社保参保信息改用 SQLite 提供方库")
        else:
            admin.dispose()
            name = f"{table_prefix}social_insurance"
            engine = create_engine(parsed)
            try:
                _ensure_pg_database(parsed)
                rows = _copy_to_postgres(engine, sqlite_path, INSURANCE, name)
            except Exception as exc:  # e.g. no right to create the database: use SQLite
                result.notes.append(f"PostgreSQL 写入失败({exc.__class__.__name__}),社保参保信息改用 SQLite 提供方库")
            else:
                result.insurance = BuiltSource("PostgreSQL", _plain(parsed), name, rows)
                result.notes.append(f"PostgreSQL {parsed.render_as_string()}:{name} {rows:,} 行")
            finally:
                engine.dispose()
    for note in result.notes:
        say(f"  {note}")
    result.seconds = time.perf_counter() - started
    return result


def drop_server_tables(sources: DemoSources) -> None:
    """Drop the tables ``build_sources`` made on MariaDB / PostgreSQL (tests clean up with this)."""
    for source in (sources.enterprises, sources.insurance):
        if source.kind == "SQLite":
            continue
        engine = create_engine(_with_driver(make_url(source.url)))
        try:
            with engine.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {source.table}"))
        finally:
            engine.dispose()
