"""Creating and dropping scratch PostgreSQL databases for tests that need a database of their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _admin_execute(url: str, *statements: str) -> None:
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


def create_database(url: str) -> str:
    """(Re)create the database ``url`` names, empty; returns the URL with the psycopg driver."""
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    name = parsed.database
    _admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return parsed.render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    _admin_execute(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def sibling_url(url: str, suffix: str) -> str:
    """The URL of a database named after ``url``'s with ``suffix`` appended."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}{suffix}").render_as_string(hide_password=False)


@contextmanager
def scratch_database(url: str, suffix: str) -> Iterator[str]:
    """A fresh database beside ``url``'s for the duration of the block, dropped afterwards."""
    target = create_database(sibling_url(url, suffix))
    try:
        yield target
    finally:
        drop_database(target)
