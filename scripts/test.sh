#!/usr/bin/env bash
# Set up everything and run the whole test suite: import contracts, then pytest on SQLite
# and on a PostgreSQL server that the suite starts itself, end-to-end VM boot included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== import contracts (layers, who may reach the database and hypervisors, a pure core, no import cycles)"
.venv/bin/lint-imports
echo "== pytest"
# what the end-to-end tests keep (VM consoles, the console's screenshots): CI's artefacts
export KSSERVER_E2E_ARTIFACTS=${KSSERVER_E2E_ARTIFACTS:-$PWD/artifacts}
exec .venv/bin/pytest -p no:cacheprovider "$@"
