#!/usr/bin/env bash
# RL lever probe: train one method from an SFT start under cfg_<variant>.yaml, turn the resumable states at the
# chosen steps into checkpoints (../rl_long/snapshot.py), then measure the sampled reward of the start, every
# snapshot and the final checkpoint on 100 fixed val tasks x 4 at T = 1, paired against the start.
# Usage: run.sh <name> <variant> <sft ckpt> <method> <snap steps...>     (from any directory)
set -euo pipefail
cd "$(dirname "$0")/../../.."
name=$1; variant=$2; sft=$3; m=$4; shift 4
here=results/probes/rl_levers
ck=/tmp/probes/$name
mkdir -p "$ck"
OMP_NUM_THREADS=1 .venv/bin/python results/probes/rl_long/snapshot.py $ck/.ckpt.state $sft $ck/snap "$@" > $ck/snapshot.log 2>&1 &
snap=$!; trap 'kill $snap 2>/dev/null || true' EXIT
OMP_NUM_THREADS=1 .venv/bin/python -m bao.rl.train --config $here/cfg_$variant.yaml --gym function --method $m --seed 0 \
  --init $sft --out $ck/ckpt --metrics $here/$name.metrics.json --curve $here/$name.curve.jsonl > $ck/train.log 2>&1
sleep 20  # snapshot.py ends by itself once the state directory is gone
ckpts="start=$sft"; for s in "$@"; do ckpts="$ckpts step$s=$ck/snap-$s"; done
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sampled_reward.py --config $here/cfg_$variant.yaml --gym function \
  --tasks 100 --samples 4 --episodes /tmp/probes/episodes --out $here/$name.sampled.json \
  $ckpts final=$ck/ckpt > $here/$name.sampled.log 2>&1
tail -n 8 $here/$name.sampled.log
