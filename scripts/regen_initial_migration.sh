#!/usr/bin/env bash
# Until the first release ships, the schema lives in one initial migration regenerated from the
# models. After a release, add migrations instead of running this.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f src/govshare/migrations/versions/*_initial_schema.py
tmp=$(mktemp -d)
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from govshare.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/empty.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
rm -rf "$tmp"
.venv/bin/ruff format -q src/govshare/migrations/versions/ && .venv/bin/ruff check -q --fix src/govshare/migrations/versions/ || true
ls src/govshare/migrations/versions/
