"""Quality-check benchmark: ``exchange.quality`` on synced batches of 人口基本信息.

    .venv/bin/python bench/exchange_quality.py --rows 100000 --batch 10000

Six 信息项 (公民身份号码 as the key, 姓名, 性别, 出生日期, 手机号码, 月收入), about 1% of values missing
or wrong. Measured in the same run, as the floor of any per-cell check in Python: a bare loop that
reads every cell once and counts the ``None`` values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from decimal import Decimal
from typing import Any

from govshare.exchange.quality import ItemSpec, QualityTally, make_id_number

ITEMS = [
    ItemSpec("公民身份号码", "C", 18, "id_number"),
    ItemSpec("姓名", "C", 50, "person_name"),
    ItemSpec("性别", "C", 1),
    ItemSpec("出生日期", "D", 8),
    ItemSpec("手机号码", "C", 11, "phone"),
    ItemSpec("月收入", "Y", 12),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
AREAS = ("620102", "620103", "620104", "620105", "620111", "620121", "620122", "620123")


def make_rows(n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    start = dt.date(1940, 1, 1).toordinal()
    for i in range(n):
        birth = dt.date.fromordinal(start + rng.randrange(30_000))
        body = f"{rng.choice(AREAS)}{birth:%Y%m%d}{i % 1000:03d}"
        id_number = make_id_number(body)
        if rng.random() < 0.005:
            id_number = id_number[:17] + ("0" if id_number[17] != "0" else "1")
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        phone: str | None = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        if rng.random() < 0.01:
            phone = None
        income = Decimal(rng.randrange(150_000, 3_000_000)) / 100
        rows.append((id_number, name, rng.choice("12"), birth, phone, income))
    return rows


def bare_loop(rows: list[tuple[Any, ...]]) -> int:
    missing = 0
    for row in rows:
        for value in row:
            if value is None:
                missing += 1
    return missing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = make_rows(args.rows)
    batches = [rows[i : i + args.batch] for i in range(0, len(rows), args.batch)]
    best = floor = float("inf")
    summary = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        tally = QualityTally(ITEMS, key=["公民身份号码"])
        for batch in batches:
            tally.add(batch)
        summary = tally.summary()
        best = min(best, time.perf_counter() - started)
        started = time.perf_counter()
        bare_loop(rows)
        floor = min(floor, time.perf_counter() - started)
    assert summary is not None
    print(summary["text"])
    for item in summary["items"]:
        print("  " + item["text"])
    print(
        f"quality check: {args.rows:,} rows × {len(ITEMS)} items in {best * 1000:.0f} ms "
        f"= {args.rows / best:,.0f} rows/s (best of {args.repeat}, batches of {args.batch:,})"
    )
    print(
        f"bare loop over the cells: {floor * 1000:.0f} ms = {args.rows / floor:,.0f} rows/s; "
        f"ratio quality/bare = {best / floor:.1f}×"
    )


if __name__ == "__main__":
    main()
