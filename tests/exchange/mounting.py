"""A provider department with a 人口基本信息-like 库表 resource and a real SQLite source, for the
mount, run, freshness and quality tests (pages, API and services)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.exchange import mounts, run_repository
from govshare.exchange.models import Mount
from govshare.exchange.quality import make_id_number
from govshare.exchange.schemas import TableMountCreate
from govshare.identity.models import Department
from tests.factories import Factory

# (name, data type, length, sensitivity, source column)
ITEMS: list[tuple[str, str, int | None, str, str]] = [
    ("编号", "I", None, "none", "id"),
    ("姓名", "C", 20, "person_name", "name"),
    ("公民身份号码", "C", 18, "id_number", "id_number"),
    ("手机号码", "C", 11, "phone", "phone"),
    ("出生日期", "D", None, "none", "born"),
]
SOURCE_PASSWORD = "S3cret-源库口令"
_names = itertools.count(1)


def id_number(n: int) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=n % 15000)
    return make_id_number(f"620102{born:%Y%m%d}{n % 1000:03d}")


def source_row(n: int) -> dict[str, Any]:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=n % 15000)
    return {
        "id": n,
        "name": f"王测试{n}",
        "id_number": id_number(n),
        "phone": f"139{n:08d}",
        "born": born.isoformat(),
        "seq": n,
    }


@dataclass
class SqliteSource:
    url: str
    table: str = "people"

    def create(self, rows: int, *, tweak: dict[int, dict[str, Any]] | None = None) -> None:
        """``rows`` valid people; ``tweak`` overrides some values of some rows (bad data)."""
        engine = create_engine(self.url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
            conn.execute(
                text(
                    f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, name TEXT, id_number TEXT,"
                    " phone TEXT, born TEXT, seq INTEGER NOT NULL)"
                )
            )
            batch = []
            for n in range(1, rows + 1):
                row = source_row(n)
                row.update((tweak or {}).get(n, {}))
                batch.append(row)
            if batch:
                conn.execute(
                    text(
                        f"INSERT INTO {self.table} (id, name, id_number, phone, born, seq)"
                        " VALUES (:id, :name, :id_number, :phone, :born, :seq)"
                    ),
                    batch,
                )
        engine.dispose()


def sqlite_source(tmp_path: Path) -> SqliteSource:
    return SqliteSource(f"sqlite:///{(tmp_path / 'provider.db').as_posix()}")


def people_resource(factory: Factory, department: Department, *, published: bool = True, **overrides: Any) -> Resource:
    items = [
        {"name": name, "data_type": data_type, "length": length, "sensitivity": sensitivity}
        for name, data_type, length, sensitivity, _ in ITEMS
    ]
    fields: dict[str, Any] = {
        "name": f"人口基本信息{next(_names)}",
        "items": items,
        "update_cycle": "daily",
    } | overrides
    if published:
        return factory.published_resource(department, **fields)
    return factory.resource(department, **fields)


def mapping_of(session: Session, resource: Resource) -> dict[int, str]:
    items = run_repository.items_of(session, resource.id)
    return {item.id: column for item, (*_, column) in zip(items, ITEMS, strict=True)}


def mount_people(
    session: Session,
    factory: Factory,
    department: Department,
    resource: Resource,
    source: SqliteSource,
    *,
    sync_mode: str = "full",
) -> Mount:
    data = TableMountCreate(
        resource_id=resource.id,
        url=source.url,
        password=SOURCE_PASSWORD,
        table=source.table,
        mapping=mapping_of(session, resource),
        sync_mode="incremental" if sync_mode == "incremental" else "full",
        watermark_column="seq" if sync_mode == "incremental" else "",
        key_column="id",
    )
    return mounts.create_table_mount(session, factory.compiler(department), data)
