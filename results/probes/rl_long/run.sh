#!/usr/bin/env bash
# Long-RL probe: rl.steps 128 (8x the default) at the default lr 3e-5 from the Function SFT start, with
# snapshots at steps 32 / 64 / 96 (snapshot.py) and the sampled reward of every snapshot on 100 fixed val tasks x 4
# at T = 1 against the SFT start (paired). Usage: run.sh <method> [seed]
set -euo pipefail
cd "$(dirname "$0")/../../.."
m=$1; s=${2:-0}
here=results/probes/rl_long
ck=/tmp/probes/long_${m}_seed${s}
sft=${SFT:-results/sft/function/enhanced/seed0/ckpt}
mkdir -p "$ck"
OMP_NUM_THREADS=1 .venv/bin/python $here/snapshot.py $ck/.ckpt.state $sft $ck/snap 32 64 96 > $ck/snapshot.log 2>&1 &
snap=$!; trap 'kill $snap 2>/dev/null || true' EXIT
OMP_NUM_THREADS=1 .venv/bin/python -m bao.rl.train --config $here/cfg_steps128.yaml --gym function --method $m --seed $s \
  --init $sft --out $ck/ckpt --metrics $here/${m}_seed${s}.metrics.json --curve $here/${m}_seed${s}.curve.jsonl \
  > $ck/train.log 2>&1
sleep 20  # snapshot.py ends by itself once the state directory is gone
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sampled_reward.py --config results/config.resolved.yaml --gym function \
  --tasks 100 --samples 4 --episodes /tmp/probes/episodes --out $here/${m}_seed${s}.sampled.json \
  sft=$sft step32=$ck/snap-32 step64=$ck/snap-64 step96=$ck/snap-96 step128=$ck/ckpt > $here/${m}_seed${s}.sampled.log 2>&1
tail -n 6 $here/${m}_seed${s}.sampled.log
