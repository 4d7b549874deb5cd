"""Did RL raise the reward it optimises? Sampled reward on fixed training-distribution tasks, paired.

The per-step rollout reward of ``bao.rl.train`` is measured on 6 freshly drawn tasks a step, so its trend mixes
learning with how hard the drawn tasks were (two methods trained on the same seed see the same draws and move
together). This script removes that noise: every checkpoint plays the same ``--tasks`` tasks of the ``val``
split (fresh training-distribution tasks, never the test split) ``--samples`` times at temperature 1, with the
same sampling seed, and the difference to the reference checkpoint (the SFT start) gets a 95% paired-bootstrap
interval over tasks x samples (:mod:`bao.eval.stats`). The logic lives in :mod:`bao.eval.training_reward`,
which the pipeline runs on every checkpoint of the grid (``results/tables/training_reward.md``); this script is
its ad-hoc caller for any checkpoints, e.g. probes outside the DAG.

    python benchmarks/sampled_reward.py --config results/config.resolved.yaml --gym function \\
        sft=results/sft/function/enhanced/seed0/ckpt bao_s0=results/rl/function/bao/seed0/ckpt ... \\
        bao=results/rl/function/bao/seed0/ckpt,results/rl/function/bao/seed1/ckpt,...

Prints one line per checkpoint; ``--out`` also writes the numbers as JSON. With ``--episodes DIR`` every
checkpoint's episodes are kept in ``DIR`` (keyed by the weights' sha256 and the sampling settings) and read back
on the next call, so checkpoints can be played by several processes at once and compared in a last, quick call.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bao.config import load_config  # noqa: E402
from bao.eval.training_reward import compare, play as play_val, rows_of  # noqa: E402
from bao.io import read_jsonl, write_json, write_jsonl  # noqa: E402
from bao.types import Episode  # noqa: E402


def episodes_file(root: Path, checkpoint: str, a: argparse.Namespace) -> Path:
    """Where ``checkpoint``'s episodes under the settings of ``a`` are kept: the weights' sha256 and the
    settings name the file, so a retrained checkpoint at the same path is played again."""
    h = hashlib.sha256()
    for w in sorted(Path(checkpoint).glob("*.safetensors")):
        h.update(w.read_bytes())
    h.update(f"{a.gym}/{a.tasks}/{a.samples}/{a.temperature}/{a.seed}".encode())
    return root / f"{'_'.join(Path(checkpoint).parts[-3:])}-{h.hexdigest()[:16]}.jsonl"


def play(cfg, checkpoint: str, a: argparse.Namespace) -> list[Episode]:
    """The sampled episodes of one checkpoint, read from ``--episodes`` when it already holds them."""
    cached = episodes_file(Path(a.episodes), checkpoint, a) if a.episodes else None
    if cached is not None and cached.exists():
        return [Episode.from_dict(r) for r in read_jsonl(cached)]
    eps = play_val(cfg, checkpoint, a.gym, a.tasks, a.samples, a.temperature, seed=a.seed)
    if cached is not None:
        write_jsonl(cached, [e.to_dict() for e in eps])
    return eps


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True)
    p.add_argument("--gym", default="function")
    p.add_argument("--tasks", type=int, default=100, help="val tasks (fixed by the config's seed)")
    p.add_argument("--samples", type=int, default=4, help="sampled episodes per task")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0, help="sampling seed, the same for every checkpoint")
    p.add_argument("--out", default=None, help="JSON file for the numbers")
    p.add_argument("--episodes", default=None, help="folder that keeps each checkpoint's episodes (reused)")
    p.add_argument("checkpoints", nargs="+",
                   help="name=path[,path...]; the first is the reference (the SFT start). Several paths pool "
                        "checkpoints (e.g. the seeds of one method): each adds its samples as rows, so the "
                        "interval is over tasks x (checkpoints x samples)")
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    rows, times, played = {}, {}, {}
    for spec in a.checkpoints:
        name, _, paths = spec.partition("=")
        t0 = time.time()
        rows[name] = []
        for path in paths.split(","):
            if path not in played:  # a checkpoint listed alone and in a pool plays once
                played[path] = play(cfg, path, a)
            rows[name] += rows_of(played[path])
        times[name] = time.time() - t0
    ref = next(iter(rows))
    out = {"gym": a.gym, "tasks": a.tasks, "samples": a.samples, "temperature": a.temperature, "reference": ref,
           "metrics": {}}
    for metric in ("score", "user_rate"):
        res = compare(rows, [(m, ref) for m in rows if m != ref], metric, n_boot=cfg.eval.n_boot, seed=cfg.seed)
        out["metrics"][metric] = {m: {"value": v[0], "lo": v[1], "hi": v[2],
                                      "delta": res["pairs"].get((m, ref), (0.0, 0.0, 0.0))}
                                  for m, v in res["methods"].items()}
    print(f"sampled reward on {a.tasks} val tasks x {a.samples} samples (T={a.temperature}), 95% paired bootstrap:")
    for m in rows:
        s, u = out["metrics"]["score"][m], out["metrics"]["user_rate"][m]
        d = "" if m == ref else (f"  vs {ref}: {s['delta'][0]:+.3f} [{s['delta'][1]:+.3f}, {s['delta'][2]:+.3f}]"
                                 f", UR {u['delta'][0]:+.3f} [{u['delta'][1]:+.3f}, {u['delta'][2]:+.3f}]")
        print(f"  {m:14s} reward {s['value']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}]  UR {u['value']:.3f}{d}"
              f"  ({times[m]:.0f} s)")
    if a.out:
        write_json(a.out, out)


if __name__ == "__main__":
    main()
