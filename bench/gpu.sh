#!/usr/bin/env bash
# One prepared run for a GPU machine, 15 minutes at most in all: training throughput of the resnet18_fashion_mnist
# and gru_lyrics networks at precision 32 and bf16-mixed, with and without channels_last (the CNN) and torch.compile,
# printed as one table (bench/gpu_throughput.py). Run from anywhere: bash bench/gpu.sh [extra gpu_throughput args]
#   LIMIT=840 (seconds, the hard stop), PY=.venv/bin/python, LOG=runs/bench/gpu.log
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LIMIT=${LIMIT:-840}
LOG=${LOG:-runs/bench/gpu.log}
mkdir -p "$(dirname "$LOG")"
start=$(date +%s)
{
  echo "== bench/gpu.sh $(date -u +%FT%TZ), hard limit ${LIMIT}s"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
  "$PY" -c "import torch; print('cuda available:', torch.cuda.is_available())"
} | tee "$LOG"
# new configurations start only while 3 minutes are left (a compile and 10 timed seconds fit in them)
timeout --kill-after=20 "$LIMIT" "$PY" bench/gpu_throughput.py --device cuda --budget $((LIMIT - 180)) "$@" 2>&1 \
  | grep --line-buffered -v "^\s*$" | tee -a "$LOG"
rc=${PIPESTATUS[0]}
echo "== bench/gpu.sh: exit ${rc} after $(( $(date +%s) - start ))s (124: stopped by the ${LIMIT}s limit); log ${LOG}" \
  | tee -a "$LOG"
exit "$rc"
