"""A platform database of a test's own, for tests whose work must really commit and be seen by several
sessions or processes (the usual test rolls back its one transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from govshare import migrate
from govshare.db import Database
from govshare.identity.reference import ensure_reference_data
from tests import pg


@contextmanager
def own_platform_database(database_url: str, folder: Path, name: str) -> Iterator[Database]:
    """A migrated database with the reference data: the SQLite file ``folder/<name>.db``, or the PostgreSQL
    database named after the suite's with ``_<name>`` appended when the suite runs on PostgreSQL. Disposed
    (and the PostgreSQL one dropped) afterwards, even when the test fails."""
    if database_url.startswith("postgres"):
        url = pg.create_database(pg.sibling_url(database_url, f"_{name}"))
    else:
        url = f"sqlite:///{(folder / f'{name}.db').as_posix()}"
    database = Database(url)
    try:
        migrate.upgrade(database.engine)
        with database.session_scope() as s:
            ensure_reference_data(s)
        yield database
    finally:
        database.dispose()
        if url.startswith("postgres"):
            pg.drop_database(url)
