"""Alembic environment. The migrations live inside the package (not at the repository root as
CONVENTIONS.md sketches) so that an installed ``govshare init`` can find them without a checkout."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import govshare.models  # noqa: F401 - registers every table
from govshare.config import get_settings
from govshare.db import Base, create_db_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url
    engine = create_db_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("离线迁移不受支持,请连接数据库执行 govshare init")
run_migrations_online()
