#!/usr/bin/env bash
# Evaluate one SFT checkpoint of the steps probe: greedy test (100 tasks) and val (200 tasks), sampled val reward
# (100 tasks x 4, T = 1; episodes cached in /tmp/probes/episodes). Usage: eval.sh <name> <ckpt>
set -euo pipefail
cd "$(dirname "$0")/../../.."
n=$1; ck=$2; P=results/probes/sft_steps
for split in test val; do
  OMP_NUM_THREADS=1 .venv/bin/python -m bao.eval.run --config results/config.resolved.yaml --gym function \
    --checkpoint $ck --split $split --method $n --seed 0 --out-dir /tmp/probes/eval_$n/$split > /tmp/probes/eval_$n.$split.log 2>&1
  cp /tmp/probes/eval_$n/$split/metrics.json $P/$n.$split.metrics.json
done
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sampled_reward.py --config results/config.resolved.yaml --gym function \
  --tasks 100 --samples 4 --episodes /tmp/probes/episodes --out $P/$n.sampled.json $n=$ck > $P/$n.sampled.log 2>&1
tail -n 2 $P/$n.sampled.log
