#!/usr/bin/env bash
# Set up everything and run the whole test suite: import contracts, then pytest on SQLite
# and on a PostgreSQL server that the suite starts itself, end-to-end VM boot included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== import contracts (layers, who may reach the database and hypervisors, a pure core, no import cycles)"
.venv/bin/lint-imports
echo "== pytest"
exec .venv/bin/pytest -p no:cacheprovider "$@"
