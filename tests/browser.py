"""Browser-test support: a real uvicorn server on a real database, and headless Debian Chromium.

Without Chromium the browser tests are skipped with a plain reason — except under CI, where that is
a failure. The live server uses its own database (a file SQLite, or ``<test db>_live`` on
PostgreSQL), because the pages must see committed data.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from govshare import migrate
from govshare.app import create_app
from govshare.db import Database
from govshare.identity.reference import ensure_reference_data
from tests import pg

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    explicit = os.environ.get("GOVSHARE_CHROMIUM")
    if explicit and Path(explicit).exists():
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class LiveServer:
    url: str
    db: Database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _live_database_url(base_url: str, tmp: Path) -> str:
    if base_url.startswith("postgres"):
        return pg.create_database(pg.sibling_url(base_url, "_live"))
    return f"sqlite:///{(tmp / 'live.db').as_posix()}"


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = _live_database_url(database_url, tmp_path_factory.mktemp("live"))
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.session_scope() as session:
        ensure_reference_data(session)
    port = _free_port()
    config = uvicorn.Config(create_app(db=db), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield LiveServer(url=f"http://127.0.0.1:{port}", db=db)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    if url.startswith("postgres"):
        pg.drop_database(url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI 要求运行浏览器测试,但未找到 Chromium(apt-get install chromium)")
        pytest.skip("未找到 Chromium:跳过浏览器测试(Debian/Ubuntu 上 apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    p = context.new_page()
    yield p
    context.close()
