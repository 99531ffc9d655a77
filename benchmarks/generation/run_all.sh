#!/usr/bin/env bash
# Side-by-side throughput run: our LLMClient next to every peer tool, REPS interleaved
# repetitions, one latency server. Venvs from setup_venvs.sh; ours uses the project venv.
# Output: raw.jsonl (one MEASURE object per line) and logs/.
set -u
cd "$(dirname "$0")"
PORT=${PORT:-8765}; N=${N:-1000}; C=${C:-64}; L=${L:-0.2}; REPS=${REPS:-3}
OURS=${OURS:-../../.venv/bin/python}
M="/tmp/venv_srv/bin/python measure.py --port $PORT"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True
export TELEMETRY_ENABLED=false CURATOR_DISABLE_RICH_DISPLAY=1
# Curator's openai backend loads tiktoken cl100k_base at construction; offline it must come
# from a local cache: litellm ships the file, so point tiktoken there.
export TIKTOKEN_CACHE_DIR=/tmp/venv_curator/lib/python3.11/site-packages/litellm/litellm_core_utils/tokenizers
OUT=raw.jsonl; : > $OUT; mkdir -p logs

/tmp/venv_srv/bin/python latency_server.py --port $PORT --latency $L > logs/server.log 2>&1 &
SRV=$!; trap 'kill $SRV' EXIT; sleep 1.5

m() { # label, cmd...
  local label=$1; shift
  $M --label "$label" --log "logs/${label// /_}.log" -- "$@" | sed 's/^MEASURE //' | tee -a $OUT
}
for r in $(seq 1 $REPS); do
  rm -rf /tmp/sp_cache_$r
  m "r$r synth-pipeline" $OURS bench_ours.py -n $N -c $C --port $PORT --cache /tmp/sp_cache_$r
  m "r$r synth-pipeline rerun" $OURS bench_ours.py -n $N -c $C --port $PORT --cache /tmp/sp_cache_$r
  rm -rf /tmp/sp_cache_l$r
  m "r$r synth-pipeline-litellm" $OURS bench_ours.py -n $N -c $C --port $PORT --cache /tmp/sp_cache_l$r --transport litellm
  m "r$r aiohttp" /tmp/venv_srv/bin/python bench_aiohttp.py -n $N -c $C --port $PORT
  m "r$r litellm" /tmp/venv_litellm/bin/python bench_litellm.py -n $N -c $C --port $PORT
  rm -rf /tmp/dl_cache_$r
  DISTILABEL_CACHE_DIR=/tmp/dl_cache_$r m "r$r distilabel-openai" /tmp/venv_distilabel/bin/python bench_distilabel.py -n $N -c $C --port $PORT
  DISTILABEL_CACHE_DIR=/tmp/dl_cache_$r m "r$r distilabel-openai rerun" /tmp/venv_distilabel/bin/python bench_distilabel.py -n $N -c $C --port $PORT --use-cache
  rm -rf /tmp/cur_cache_$r
  CURATOR_CACHE_DIR=/tmp/cur_cache_$r m "r$r curator-openai" /tmp/venv_curator/bin/python bench_curator.py -n $N -c $C --port $PORT
  CURATOR_CACHE_DIR=/tmp/cur_cache_$r m "r$r curator-openai rerun" /tmp/venv_curator/bin/python bench_curator.py -n $N -c $C --port $PORT
done
