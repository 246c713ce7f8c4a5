"""Reference data every installation starts with: the regions of A44.1 and the bureau itself."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from govshare.identity import repository as repo
from govshare.identity.models import Department, Region, RegionLevel
from govshare.kit.uscc import make_uscc


@dataclass(frozen=True)
class RegionSeed:
    code: str
    name: str
    authority: str


PROVINCE = RegionSeed("620000", "甘肃省", "甘肃省大数据中心")
CITY = RegionSeed("620100", "兰州市", "兰州市大数据管理局")
COUNTIES: tuple[RegionSeed, ...] = (
    RegionSeed("620102", "城关区", "城关区政务数据共享主管机构"),
    RegionSeed("620103", "七里河区", "七里河区政务数据共享主管机构"),
    RegionSeed("620104", "西固区", "西固区政务数据共享主管机构"),
    RegionSeed("620105", "安宁区", "安宁区政务数据共享主管机构"),
    RegionSeed("620111", "红古区", "红古区政务数据共享主管机构"),
    RegionSeed("620121", "永登县", "永登县政务数据共享主管机构"),
    RegionSeed("620122", "皋兰县", "皋兰县政务数据共享主管机构"),
    RegionSeed("620123", "榆中县", "榆中县政务数据共享主管机构"),
    RegionSeed("620171", "兰州新区", "兰州新区政务数据共享主管机构"),
    RegionSeed("620172", "高新区", "兰州高新技术产业开发区政务数据共享主管机构"),
    RegionSeed("620173", "经济区", "兰州经济技术开发区政务数据共享主管机构"),
)
BUREAU_NAME = "兰州市大数据管理局"
BUREAU_USCC = make_uscc("11620100MB1234567")


def ensure_reference_data(session: Session) -> None:
    """Create the province, the city, its eleven regions, the bureau and the catalog classes (idempotent)."""
    province = _region(session, PROVINCE, RegionLevel.province, None)
    city = _region(session, CITY, RegionLevel.city, province.id)
    for seed in COUNTIES:
        _region(session, seed, RegionLevel.county, city.id)
    if repo.department_by_name(session, BUREAU_NAME) is None:
        session.add(
            Department(
                name=BUREAU_NAME,
                short_name="市大数据局",
                uscc=BUREAU_USCC,
                region_id=city.id,
                is_bureau=True,
                sharing_office="数据资源处",
            )
        )
    session.flush()
    from govshare.catalog.reference import ensure_classifications  # the catalog's own reference data

    ensure_classifications(session)


def _region(session: Session, seed: RegionSeed, level: RegionLevel, parent_id: int | None) -> Region:
    found = repo.region_by_code(session, seed.code)
    if found is not None:
        return found
    region = Region(code=seed.code, name=seed.name, level=level, parent_id=parent_id, authority_name=seed.authority)
    session.add(region)
    session.flush()
    return region


def city_region(session: Session) -> Region:
    found = repo.region_by_code(session, CITY.code)
    if found is None:
        raise LookupError("reference data missing: run `govshare init`")
    return found


def bureau(session: Session) -> Department:
    found = repo.department_by_name(session, BUREAU_NAME)
    if found is None:
        raise LookupError("reference data missing: run `govshare init`")
    return found
