"""Catalog page benchmark: the HTML list (browse/search) and detail pages through the real app.

    .venv/bin/python bench/catalog_pages.py --db sqlite --n 100000
    .venv/bin/python bench/catalog_pages.py --db postgresql --n 100000

Acceptance: p95 under 100 ms for the catalog list and detail pages at 100,000 resources. Requests
go through the whole application — middleware, session cookie, permission check, service,
Jinja2 rendering — with FastAPI's TestClient (in process, no network), signed in as a department
user, each request its own database transaction as in production.

Baselines measured in the same run:
- the list page with words, with ``catalog.search.search`` swapped for a naive ``LIKE '%word%'``
  search (same filters, visibility and page), to show what the index buys on the page;
- ``GET /api/v1/me``, the cheapest signed-in request, as the floor of the stack's own cost.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from _common import bench_database, data_arguments, percentiles, populate, report_line, timed
from govshare.app import create_app
from govshare.catalog import repository
from govshare.catalog import search as catalog_search
from govshare.catalog.models import DataItem, Resource
from govshare.catalog.schemas import ResourcePage, ResourceSummary
from govshare.db import Database
from govshare.identity.actor import Actor
from govshare.identity.models import Department, User
from govshare.identity.permissions import Role
from govshare.identity.service import create_user

PASSWORD = "Lz-Bench-Passw0rd!"
WORDS = ("人口", "社保", "企业", "登记", "婚姻", "医疗", "许可", "信息", "低保", "出生")


def _naive_search(
    session: Session, actor: Actor, *, q: str, page: int = 1, page_size: int = 20, **f: Any
) -> ResourcePage:
    """The baseline search: LIKE '%q%' over the same text, same filters and visibility."""
    pattern = f"%{q.strip()}%"
    conditions: list[ColumnElement[bool]] = []
    if q.strip():
        conditions.append(
            or_(
                Resource.name.like(pattern),
                Resource.code.like(pattern),
                Resource.summary.like(pattern),
                Resource.scenario.like(pattern),
                Resource.provider_office.like(pattern),
                Resource.provider_id.in_(select(Department.id).where(Department.name.like(pattern))),
                Resource.id.in_(select(DataItem.resource_id).where(DataItem.name.like(pattern))),
            )
        )
    if f.get("classification"):
        conditions.append(
            Resource.classification_id.in_(repository.classification_ids_under(session, f["classification"]))
        )
    for key in ("share_type", "status", "channel", "provider_id", "topic_id"):
        if f.get(key) not in (None, ""):
            conditions.append(getattr(Resource, key) == f[key])
    visibility = repository.visibility_clause(actor)
    if visibility is not None:
        conditions.append(visibility)
    stmt = select(Resource).where(*conditions)
    rows = list(
        session.execute(stmt.order_by(Resource.id.desc()).offset((page - 1) * page_size).limit(page_size + 1)).scalars()
    )
    capped = stmt.with_only_columns(Resource.id).limit(catalog_search.COUNT_CAP).subquery()
    total = int(session.execute(select(func.count()).select_from(capped)).scalar_one())
    return ResourcePage(
        items=[ResourceSummary.model_validate(r) for r in rows[:page_size]],
        page=page,
        page_size=page_size,
        total=total,
        has_next=len(rows) > page_size,
    )


def _sign_in(client: TestClient, username: str) -> None:
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": client.cookies["gs_csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def run(kind: str, n: int, reps: int, pg_url: str, keep: bool, sqlite_file: str, reuse: bool) -> int:
    print(f"catalog page benchmark — {kind}, {n} resources (HTML through the app, TestClient)")
    with bench_database(kind, pg_url, keep or reuse, sqlite_file, reuse) as url:
        db = Database(url)
        ds = populate(db, n)
        with db.session_scope() as s:
            user = s.execute(select(User).where(User.username == "bench-user")).scalar_one_or_none()
            if user is None:
                create_user(
                    s,
                    Actor.system(),
                    username="bench-user",
                    display_name="基准测试用户",
                    department_id=ds.actor_department_id,
                    password=PASSWORD,
                    roles=[(Role.dept_user, None)],
                    must_change_password=False,
                )
            visible = list(
                s.execute(
                    select(Resource.id).where(Resource.status == "published").order_by(func.random()).limit(200)
                ).scalars()
            )
        rng = random.Random(11)
        providers = rng.sample(ds.departments, 5)
        lists = [
            "/catalog",
            "/catalog?page=3",
            "/catalog?status=published&channel=api",
            "/catalog?classification=1",
            *(f"/catalog?provider_id={p}" for p in providers),
            *(f"/catalog?q={w}" for w in WORDS),
            *(f"/catalog?q={w}&share_type=conditional" for w in WORDS[:5]),
            *(f"/catalog?q={w}&page=2" for w in WORDS[5:]),
        ]
        worded = [u for u in lists if "q=" in u]
        details = [f"/catalog/{i}" for i in visible]

        app = create_app(db=db)
        with TestClient(app, base_url="http://testserver") as client:
            _sign_in(client, "bench-user")

            def get(path: str) -> Callable[[], object]:
                def call() -> object:
                    r = client.get(path)
                    assert r.status_code == 200, (path, r.status_code, r.text[:300])
                    return r

                return call

            for path in [*lists, *details[:20], "/api/v1/me"]:  # warm up
                get(path)()
            results: dict[str, dict[str, float]] = {}
            results["list pages"] = percentiles([timed(get(p)) for _ in range(reps) for p in lists])
            results["list pages with words"] = percentiles([timed(get(p)) for _ in range(reps) for p in worded])
            results["detail pages"] = percentiles([timed(get(p)) for p in details * max(1, reps // 2)])
            results["floor: GET /api/v1/me"] = percentiles([timed(get("/api/v1/me")) for _ in range(100)])
            with mock.patch.object(catalog_search, "search", _naive_search):
                for path in worded:
                    get(path)()
                results["baseline: words via LIKE scan"] = percentiles(
                    [timed(get(p)) for _ in range(reps) for p in worded]
                )

        for label, stats in results.items():
            print(report_line(label, stats))
        naive, ours = results["baseline: words via LIKE scan"], results["list pages with words"]
        floor = results["floor: GET /api/v1/me"]
        print(
            "ratio LIKE baseline / index, list pages with words: "
            + "  ".join(f"{k} ×{naive[k] / ours[k]:.1f}" for k in ("p50", "p95", "p99"))
        )
        print(
            "ratio to the floor (p50): "
            f"list ×{results['list pages']['p50'] / floor['p50']:.1f}, "
            f"detail ×{results['detail pages']['p50'] / floor['p50']:.1f}"
        )
        ok = results["list pages"]["p95"] < 100 and results["detail pages"]["p95"] < 100
        print(f"acceptance (list and detail p95 < 100 ms): {'PASS' if ok else 'FAIL'}")
        db.dispose()
        return 0 if ok else 1


def main() -> int:
    args = data_arguments(__doc__, reps=5, reps_help="repetitions of the page mix")
    return run(args.db, args.n, args.reps, args.pg_url, args.keep, args.sqlite_file, args.reuse)


if __name__ == "__main__":
    raise SystemExit(main())
