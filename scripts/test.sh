#!/usr/bin/env bash
# Install, then run the test suite (servers it needs are started by the tests on 127.0.0.1).
# Pass pytest arguments through, e.g. `bash scripts/test.sh -m "not slow"` for the fast set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
ruff check .
python -m pytest "$@"
