"""catalog search: the dialect-specific full-text structures over resource_search

Hand-written (the initial migration is regenerated from the models; these structures are not
models). ``resource_search`` holds each resource's text as space-separated tokens (Chinese
character bigrams, trailing single characters, lowercase ASCII words — see catalog/search.py).

- SQLite: an FTS5 table ``resource_search_fts`` with external content ``resource_search`` and
  the ``ascii`` tokenizer (spaces separate our tokens; every non-ASCII character is a token
  character), kept in step by triggers.
- PostgreSQL: generated ``tsvector`` columns (config ``simple``, which keeps our tokens as they
  are): ``tsv`` over all the text and ``name_tsv`` over the name alone (name hits rank first), each
  with a GIN index. Separate columns rather than weights, so that the planner's statistics estimate
  name hits correctly and it picks a GIN scan for rare words and an ordered scan for common ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE resource_search_fts USING fts5(
        name_tokens, code_tokens, body_tokens,
        content='resource_search', content_rowid='resource_id',
        tokenize='ascii', prefix='1', columnsize=0
    )""",
    """CREATE TRIGGER resource_search_ai AFTER INSERT ON resource_search BEGIN
        INSERT INTO resource_search_fts(rowid, name_tokens, code_tokens, body_tokens)
        VALUES (new.resource_id, new.name_tokens, new.code_tokens, new.body_tokens);
    END""",
    """CREATE TRIGGER resource_search_ad AFTER DELETE ON resource_search BEGIN
        INSERT INTO resource_search_fts(resource_search_fts, rowid, name_tokens, code_tokens, body_tokens)
        VALUES ('delete', old.resource_id, old.name_tokens, old.code_tokens, old.body_tokens);
    END""",
    """CREATE TRIGGER resource_search_au AFTER UPDATE ON resource_search BEGIN
        INSERT INTO resource_search_fts(resource_search_fts, rowid, name_tokens, code_tokens, body_tokens)
        VALUES ('delete', old.resource_id, old.name_tokens, old.code_tokens, old.body_tokens);
        INSERT INTO resource_search_fts(rowid, name_tokens, code_tokens, body_tokens)
        VALUES (new.resource_id, new.name_tokens, new.code_tokens, new.body_tokens);
    END""",
    # Rows written before this migration (none before the first release, but be exact).
    "INSERT INTO resource_search_fts(resource_search_fts) VALUES ('rebuild')",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS resource_search_au",
    "DROP TRIGGER IF EXISTS resource_search_ad",
    "DROP TRIGGER IF EXISTS resource_search_ai",
    "DROP TABLE IF EXISTS resource_search_fts",
]

POSTGRES_UP = [
    """ALTER TABLE resource_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, name_tokens || ' ' || code_tokens || ' ' || body_tokens)
    ) STORED""",
    """ALTER TABLE resource_search ADD COLUMN name_tsv tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, name_tokens)
    ) STORED""",
    "CREATE INDEX ix_resource_search_tsv ON resource_search USING gin (tsv)",
    "CREATE INDEX ix_resource_search_name_tsv ON resource_search USING gin (name_tsv)",
]

POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_resource_search_name_tsv",
    "DROP INDEX IF EXISTS ix_resource_search_tsv",
    "ALTER TABLE resource_search DROP COLUMN IF EXISTS name_tsv",
    "ALTER TABLE resource_search DROP COLUMN IF EXISTS tsv",
]


def _statements(up: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if dialect == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    raise RuntimeError(f"目录检索仅支持 SQLite 与 PostgreSQL,不支持 {dialect}")


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
