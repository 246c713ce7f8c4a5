"""authorisation epoch: a counter that moves with every committed change of what the data API checks

Hand-written. ``authz_epoch`` holds one row (id 1). On PostgreSQL, a deferred constraint trigger on
every table that the consumer rows call reads to authorise a call (the resource, its 信息项, its base
table and active mount, the grant with its 信息项 and systems, the consumer system) moves it forward
when a transaction that changed any of them commits, once per transaction: to the current time in
microseconds, or one more if that is not larger. One value is therefore one state of those rows, even
across a restore from a backup (a restored epoch is older than any the running servers read since). The rows path
(``sharing/consumer_rows.py``) keeps what it read to authorise a system for a resource with the epoch
read in the same statement, and reads each page on the condition that the epoch has not moved (the same
statement, so the same snapshot): a grant revoked, a system disabled, a secret rotated, a resource
withdrawn is seen by the next call exactly as if everything were read afresh.

The trigger is deferred (it runs at COMMIT, after every other lock of the transaction is held), so the
counter's row lock cannot take part in a deadlock; a transaction holds it only while it commits.
Columns that change on every sync (``base_table.row_count``, ``last_good_sync_at`` …) do not move the
epoch: ``base_table`` and ``mount`` fire only for the columns the authorisation reads
(``tests/sharing/test_consumer_rows.py`` checks that list against the statement).

SQLite gets the table only; its deployments read everything afresh on every call.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the columns whose update moves the epoch (None: any column)
WATCHED: dict[str, tuple[str, ...] | None] = {
    "resource": None,
    "data_item": None,
    "base_table": ("resource_id", "table_name", "columns"),
    "mount": ("id", "resource_id", "status", "key_column", "mapping"),
    "data_grant": None,
    "grant_item": None,
    "grant_system": None,
    "consumer_system": None,
}

FUNCTION = """
CREATE FUNCTION authz_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- once per transaction: the setting is local to it
    IF current_setting('govshare.authz_epoch_bumped', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('govshare.authz_epoch_bumped', 'yes', true);
        -- never a value seen before, even after a restore from a backup (the clock has moved on)
        UPDATE authz_epoch
        SET value = greatest(value + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
        WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "authz_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authz_epoch")),
    )
    op.execute("INSERT INTO authz_epoch (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, columns in WATCHED.items():
        update = "UPDATE" if columns is None else "UPDATE OF " + ", ".join(columns)
        op.execute(
            f"CREATE CONSTRAINT TRIGGER authz_epoch_{table} AFTER INSERT OR {update} OR DELETE ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION authz_epoch_bump()"
        )
        op.execute(
            f"CREATE TRIGGER authz_epoch_{table}_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION authz_epoch_bump()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS authz_epoch_{table}_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS authz_epoch_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS authz_epoch_bump()")
    op.drop_table("authz_epoch")
