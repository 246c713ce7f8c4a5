"""Test fixtures: a real database (SQLite by default, PostgreSQL with GOVSHARE_TEST_DATABASE_URL),
migrated once per run; each test runs inside a transaction that is rolled back afterwards.

Under CI (CI=true) nothing may be skipped: a missing PostgreSQL or Chromium fails the run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from govshare import migrate
from govshare.app import create_app
from govshare.config import get_settings
from govshare.db import Database, create_db_engine
from govshare.identity.actor import Actor
from govshare.identity.reference import ensure_reference_data
from govshare.kit import clock
from tests import pg
from tests.factories import Factory

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
pytest_plugins = ["tests.browser", "tests.obligations"]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GOVSHARE_ENVIRONMENT", "test")
    get_settings.cache_clear()


def _test_url(tmp_root: Path) -> str:
    url = os.environ.get("GOVSHARE_TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        # One database per test process, so that parallel runs never drop each other's.
        parsed = make_url(url)
        return parsed.set(database=f"{parsed.database}_{os.getpid()}").render_as_string(hide_password=False)
    return url or f"sqlite:///{(tmp_root / 'test.db').as_posix()}"


def _prepare_postgres(url: str) -> None:
    try:
        pg.create_database(url)
    except Exception as exc:  # a loud failure, never a silent skip
        raise pytest.UsageError(f"PostgreSQL 不可用({url}):{exc}") from exc


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _test_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    if database_url.startswith("postgres"):
        _prepare_postgres(database_url)
    eng = create_db_engine(database_url)
    migrate.upgrade(eng)
    setup = Database(database_url)
    with setup.session_scope() as s:
        ensure_reference_data(s)
    setup.dispose()
    yield eng
    eng.dispose()
    if database_url.startswith("postgres"):
        pg.drop_database(database_url)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield s
    s.close()


class _TestDatabase(Database):
    """Hands every request the test's own session, so the test's rollback undoes requests too."""

    own_connections = False  # the consumer data API's asynchronous path could not see the test's data

    def __init__(self, session: Session, url: str) -> None:
        self._session = session
        self.url = url
        self.engine = session.get_bind()  # type: ignore[assignment]

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        try:
            yield self._session
            self._session.commit()
        except BaseException:
            self._session.rollback()
            raise


@pytest.fixture
def app(session: Session, database_url: str) -> Any:
    return create_app(db=_TestDatabase(session, database_url))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def system() -> Actor:
    return Actor.system()


@pytest.fixture
def factory(session: Session) -> Factory:
    return Factory(session)


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.set_now(None)


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="govshare-test-") as d:
        yield Path(d)
