#!/usr/bin/env bash
# One RL recipe probe: train from the shared Function SFT checkpoint, then its sampled reward on 100 fixed val
# tasks x 4 samples against the SFT start (paired). Usage: run.sh <variant> [method] [seed]
set -euo pipefail
cd "$(dirname "$0")/../../.."
v=$1; m=${2:-bao}; s=${3:-0}
here=results/probes/rl_function_recipes
ck=${PROBE_CKPTS:-/tmp/probes}/${v}_${m}_seed${s}
sft=${SFT:-results/sft/function/enhanced/seed0/ckpt}
mkdir -p "$ck"
OMP_NUM_THREADS=1 .venv/bin/python -m bao.rl.train --config $here/cfg_$v.yaml --gym function --method $m --seed $s \
  --init $sft --out $ck/ckpt --metrics $here/${v}_${m}_seed${s}.metrics.json --curve $here/${v}_${m}_seed${s}.curve.jsonl \
  > $ck/train.log 2>&1
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sampled_reward.py --config $here/cfg_default.yaml --gym function \
  --tasks 100 --samples 4 --episodes ${PROBE_CKPTS:-/tmp/probes}/episodes --out $here/${v}_${m}_seed${s}.sampled.json \
  sft=$sft ${v}=$ck/ckpt > $here/${v}_${m}_seed${s}.sampled.log 2>&1
tail -n 3 $here/${v}_${m}_seed${s}.sampled.log
