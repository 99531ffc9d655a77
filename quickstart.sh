#!/usr/bin/env bash
# Install, then run the whole pipeline on the embedded defaults (no keys, no network, no servers).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
. .venv/bin/activate
VERSION="${1:-quickstart-$(date -u +%Y%m%d-%H%M%S)}"
synth-pipeline run --config examples/quickstart/pipeline.yaml --version "$VERSION" --out datasets
