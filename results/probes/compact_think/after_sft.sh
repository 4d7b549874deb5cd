#!/usr/bin/env bash
# Compact-think probe, after its SFT: greedy test / test_seen of the SFT start, then BAO from it (rl_levers).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export PYTHONPATH=$PWD/src OMP_NUM_THREADS=1
C=/work/main/results/compact
sft=$C/sft/function/enhanced/seed0/ckpt
for sp in test test_seen; do
  .venv/bin/python -m bao.eval.run --config $C/config.resolved.yaml --gym function --checkpoint $sft --split $sp \
    --method sft --seed 0 --out-dir $C/eval/function/sft/seed0/$sp > /tmp/probes/compact_eval_$sp.log 2>&1
done
results/probes/rl_levers/run.sh compact_bao steps64 $sft bao 16 32 48
