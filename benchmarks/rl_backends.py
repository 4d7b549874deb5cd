"""Seconds per RL step: the native trainer vs ``rl.backend: trl`` on 1 process vs ``trl`` on 2 processes.

Each variant is the real CLI (``python -m bao.rl.train``; under ``torchrun --standalone --nproc_per_node 2`` for
2 processes) from the same checkpoint, config and seed, ``--steps`` RL steps of ``--tasks-per-step`` x
``--group-size`` rollouts in ``--num-minibatches`` PPO minibatches, no greedy validation. Native and 1-process
trl play the same seeded episodes (a test: tests/unit/test_trl_backend.py); 2 processes play as many episodes
with per-rank sampler seeds, so their lengths differ a little (the generated tokens per step are printed).

From every run's curve: ``time/rollout_s`` (the multi-turn rollout of the step; on 2 processes, rank 0's half
of it plus the gather), ``time/step_s`` (rollout + advantages + the PPO updates) and update = step - rollout,
averaged over the steps after the first (warm-up); and the wall time of the whole command (imports, process
start, model load, save). The variants alternate ``--repeats`` times, so a busy machine slows all of them alike.
Prints a table and the ratios to native.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rl_backends.py \\
        --ckpt results/smoke/sft/function/enhanced/seed0/ckpt

(the smoke model's SFT checkpoint: ``.venv/bin/snakemake --cores 1 --configfile config/smoke.yaml
results/smoke/sft/function/enhanced/seed0/metrics.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import yaml  # noqa: E402

from bao.config import config_from_dict  # noqa: E402

VARIANTS = {  # name: (rl.backend, processes)
    "native": ("native", 1),
    "trl, 1 process": ("trl", 1),
    "trl, 2 processes": ("trl", 2),
}


def merged(paths: list[str]) -> dict:
    """config/config.yaml with each file merged over it section by section (as Snakemake's --configfile does)."""
    out = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for p in paths:
        for k, v in (yaml.safe_load(Path(p).read_text()) or {}).items():
            out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def run_variant(raw: dict, backend: str, procs: int, a, work: Path, tag: str) -> dict:
    raw = {**raw, "rl": {**raw["rl"], "backend": backend, "processes": procs}}
    cfg = config_from_dict(raw)  # validates (e.g. the minibatch splits over the processes)
    cfg_path = work / f"{tag}.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    launch = [] if procs == 1 else ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(procs)]
    cmd = [sys.executable, *launch, "-m", "bao.rl.train", "--config", str(cfg_path), "--gym", a.gym,
           "--method", a.method, "--seed", str(a.seed), "--init", a.ckpt, "--out", str(work / f"{tag}_ckpt"),
           "--metrics", str(work / f"{tag}.json"), "--curve", str(work / f"{tag}.jsonl"), "--state", "none"]
    env = {**os.environ, "OMP_NUM_THREADS": str(cfg.rl.threads),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    t0 = time.time()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=work)
    wall = time.time() - t0
    if r.returncode != 0:
        sys.exit(f"{tag} failed:\n{r.stderr[-3000:]}")
    curve = [json.loads(line) for line in (work / f"{tag}.jsonl").read_text().splitlines()]
    assert len(curve) == a.steps and all(row["rollout/n_episodes"] == a.tasks_per_step * a.group_size
                                         for row in curve), curve
    rows = curve[1:] or curve
    roll = statistics.mean(row["time/rollout_s"] for row in rows)
    step = statistics.mean(row["time/step_s"] for row in rows)
    return {"rollout_s": roll, "update_s": step - roll, "step_s": step, "wall_s": wall,
            "gen_tokens": statistics.mean(row["rollout/gen_tokens"] for row in curve)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="checkpoint to train from (e.g. the smoke SFT checkpoint)")
    p.add_argument("--config", nargs="*", default=[str(ROOT / "config/smoke.yaml")],
                   help="config files merged over config/config.yaml (default: config/smoke.yaml)")
    p.add_argument("--gym", default="function")
    p.add_argument("--method", default="bao")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--tasks-per-step", type=int, default=8)
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--num-minibatches", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args(argv)
    raw = merged(a.config)
    raw["rl"] = {**raw["rl"], "steps": a.steps, "tasks_per_step": a.tasks_per_step, "group_size": a.group_size,
                 "num_minibatches": a.num_minibatches, "val_tasks": 0}
    print(f"{a.gym}/{a.method} from {a.ckpt}: {a.steps} steps x {a.tasks_per_step} tasks x {a.group_size} rollouts, "
          f"{a.num_minibatches} minibatches, max_new_tokens {raw['rl']['max_new_tokens']}, max_episode_tokens "
          f"{raw['rl']['max_episode_tokens']}, {raw['rl']['threads']} thread(s) per process; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
    res = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="bao-rl-backends-") as tmp:
        for rep in range(a.repeats):
            for i, (name, (backend, procs)) in enumerate(VARIANTS.items()):
                res[name].append(run_variant(raw, backend, procs, a, Path(tmp), f"r{rep}v{i}"))
                print(f"  repeat {rep}, {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in res[name][-1].items()),
                      flush=True)
    mean = {n: {k: statistics.mean(r[k] for r in rs) for k in rs[0]} for n, rs in res.items()}
    base = mean["native"]
    print(f"\nmeans over {a.repeats} repeat(s), steps 2..{a.steps} (step 1 is warm-up):")
    print("| variant | rollout s/step | update s/step | step s | x native (step) | x native (rollout) | "
          "x native (update) | command wall s | gen tokens/step |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, m in mean.items():
        print(f"| {n} | {m['rollout_s']:.2f} | {m['update_s']:.2f} | {m['step_s']:.2f} | "
              f"{m['step_s'] / base['step_s']:.2f} | {m['rollout_s'] / base['rollout_s']:.2f} | "
              f"{m['update_s'] / base['update_s']:.2f} | {m['wall_s']:.1f} | {m['gen_tokens']:.0f} |")


if __name__ == "__main__":
    main()
