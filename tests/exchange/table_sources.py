"""Real provider source databases for the table-sync tests: SQLite files, PostgreSQL, MariaDB.

Under CI (CI=true) an unreachable PostgreSQL or MariaDB fails the run; elsewhere those sources
are skipped when their server is not running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from govshare.db import create_db_engine
from govshare.exchange import base
from govshare.exchange.base import ColumnSpec
from govshare.exchange.channels import MountSpec
from tests import pg

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MARIADB_URL = os.environ.get("GOVSHARE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/govshare_test"

# The resource's 信息项: (item id, name, type, source column). Ids are fixed: the channel only
# needs them to name base columns.
ITEMS: list[tuple[int, str, str, str]] = [
    (1, "编号", "I", "id"),
    (2, "姓名", "C", "name"),
    (3, "金额", "N", "amount"),
    (4, "出生日期", "D", "born"),
    (5, "有效", "L", "active"),
]
COLUMNS = [ColumnSpec(item_id=i, name=n, data_type=t) for i, n, t, _ in ITEMS]
MAPPING = {i: col for i, _, _, col in ITEMS}
SURNAMES = "王李张刘陈杨赵黄周吴"


def pg_url() -> str:
    url = os.environ.get("GOVSHARE_TEST_DATABASE_URL", "")
    return url if url.startswith("postgres") else DEFAULT_PG


def unavailable(what: str, exc: Exception) -> None:
    if IN_CI:
        pytest.fail(f"{what} 不可用:{exc}")
    pytest.skip(f"{what} 不可用:{exc}")


def make_row(n: int, seq: int) -> dict[str, Any]:
    return {
        "id": n,
        "name": f"{SURNAMES[n % 10]}测试{n}",
        "amount": str(Decimal(n % 997) + Decimal("0.25")),
        "born": (dt.date(1960, 1, 1) + dt.timedelta(days=n % 15000)).isoformat(),
        "active": n % 3 != 0,
        "seq": seq,
    }


@dataclass
class Source:
    """One provider table with columns id, name, amount, born, active and the watermark ``seq``."""

    kind: str
    url: str
    engine: Engine
    table: str
    next_seq: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def create(self, rows: int) -> None:
        boolean = "BOOLEAN" if self.kind != "mariadb" else "TINYINT(1)"
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
            conn.execute(
                text(
                    f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, name VARCHAR(64), amount NUMERIC(12, 2),"
                    f" born DATE, active {boolean}, seq BIGINT NOT NULL)"
                )
            )
        self.insert(range(1, rows + 1))

    def insert(self, ids: Iterable[int]) -> None:
        batch = []
        for n in ids:
            batch.append(make_row(n, self.next_seq))
            self.next_seq += 1
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {self.table} (id, name, amount, born, active, seq)"
                    " VALUES (:id, :name, :amount, :born, :active, :seq)"
                ),
                batch,
            )

    def update(self, ids: Sequence[int]) -> None:
        with self.engine.begin() as conn:
            for n in ids:
                conn.execute(
                    text(f"UPDATE {self.table} SET name = :name, amount = amount + 1, seq = :seq WHERE id = :id"),
                    {"name": f"已更新{n}", "seq": self.next_seq, "id": n},
                )
                self.next_seq += 1

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params or {})

    def rows(self) -> list[Sequence[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(f"SELECT id, name, amount, born, active FROM {self.table}")))

    def spec(self, resource_id: int, *, sync_mode: str = "full", batch_size: int = 500) -> MountSpec:
        parsed = make_url(self.url)
        return MountSpec(
            mount_id=1,
            resource_id=resource_id,
            channel="table",
            config={"url": parsed._replace(password=None).render_as_string(hide_password=False), "table": self.table},
            secret={"password": str(parsed.password or "")},
            columns=COLUMNS,
            mapping=dict(MAPPING),
            sync_mode=sync_mode,
            watermark_column="seq",
            key_column="id",
            test_table=self.table,
            batch_size=batch_size,
        )


def _normal(row: Sequence[Any]) -> tuple[str, ...]:
    ident, name, amount, born, active = row
    return (
        str(int(ident)),
        str(name),
        str(Decimal(str(amount)).quantize(Decimal("0.01"))),
        str(born)[:10],
        str(bool(int(active))),
    )


def checksum(rows: Iterable[Sequence[Any]]) -> tuple[int, int]:
    """(row count, order-independent checksum) over rows normalised by type."""
    count, total = 0, 0
    for row in rows:
        count += 1
        total = (total + int.from_bytes(hashlib.sha256(repr(_normal(row)).encode()).digest()[:8], "big")) % 2**64
    return count, total


def base_rows(engine: Engine, resource_id: int) -> list[Sequence[Any]]:
    cols = ", ".join(c.column for c in COLUMNS)
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT {cols} FROM {base.table_name(resource_id)}")))


def sqlite_source(tmp_path: Path) -> Iterator[Source]:
    url = f"sqlite:///{(tmp_path / 'provider.db').as_posix()}"
    engine = create_engine(url)
    yield Source("sqlite", url, engine, "people")
    engine.dispose()


def postgres_source() -> Iterator[Source]:
    url = pg.sibling_url(pg_url(), f"_src_{os.getpid()}")
    try:
        url = pg.create_database(url)
    except Exception as exc:
        unavailable("PostgreSQL 源库", exc)
    engine = create_engine(url)
    try:  # also on gen.close(), which tests that drive the generator by hand call
        yield Source("postgresql", url, engine, "people")
    finally:
        engine.dispose()
        pg.drop_database(url)


def mariadb_source() -> Iterator[Source]:
    engine = create_engine(MARIADB_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        unavailable("MariaDB 源库", exc)
    name = f"people_{uuid.uuid4().hex[:8]}"
    try:
        yield Source("mariadb", MARIADB_URL, engine, name)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        engine.dispose()


def base_database(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    """A base of its own (GOVSHARE_BASE_URL style): PostgreSQL when the suite runs on it, else SQLite."""
    if database_url.startswith("postgres"):
        url = pg.create_database(pg.sibling_url(database_url, "_base"))
        engine = create_db_engine(url)
        yield engine
        engine.dispose()
        pg.drop_database(url)
    else:
        engine = create_db_engine(f"sqlite:///{(tmp_path / 'base.db').as_posix()}")
        yield engine
        engine.dispose()
