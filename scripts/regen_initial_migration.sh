#!/usr/bin/env bash
# Until the first release ships, the schema lives in one initial migration regenerated from the
# models. After a release, add migrations instead of running this.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f src/govshare/migrations/versions/*_initial_schema.py
tmp=$(mktemp -d)
# Hand-written later migrations (0002_catalog_search …, down_revision "0001") are set aside while
# 0001 is regenerated, so that autogenerate starts from an empty history; they are put back after.
mkdir "$tmp/later"
restore_later() { mv "$tmp"/later/*.py src/govshare/migrations/versions/ 2>/dev/null || true; }
trap 'restore_later; rm -rf "$tmp"' EXIT
find src/govshare/migrations/versions -maxdepth 1 -name '2*.py' -exec mv {} "$tmp/later/" \;
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from govshare.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/empty.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
restore_later
.venv/bin/ruff format -q src/govshare/migrations/versions/ && .venv/bin/ruff check -q --fix src/govshare/migrations/versions/ || true
ls src/govshare/migrations/versions/
