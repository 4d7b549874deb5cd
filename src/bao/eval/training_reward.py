"""Training reward: did RL raise the reward it optimises? (``python -m bao.eval.training_reward --help``)

The per-step rollout reward of ``bao.rl.train`` is measured on a few freshly drawn tasks a step, so its trend
mixes learning with how hard the drawn tasks were (two methods trained with the same seed see the same draws and
move together). Here every checkpoint plays the same fixed tasks of the ``val`` split (fresh training-
distribution tasks, never the test split), with the same sampling seed, and each RL method is paired against the
SFT checkpoint(s) it started from:

* ``play``: one checkpoint, one mode. ``sampled``: the first ``training_reward.tasks`` val tasks, each played
  ``training_reward.samples`` times at ``training_reward.temperature`` (what RL optimises); ``greedy``: the first
  ``training_reward.greedy_tasks`` val tasks at temperature 0. Writes ``episodes.jsonl`` and ``metrics.json``.
* ``table``: ``training_reward.{md,csv}`` and a DVC metrics JSON. One row per gym x RL method x metric
  (``sampled_reward``, ``sampled_pass_at_u1``, ``sampled_user_rate``, ``greedy_val_score``): the SFT start(s),
  the method's RL seeds pooled, their difference and its 95% paired-bootstrap interval (:mod:`bao.eval.stats`).
  Each seed x sample of a checkpoint is one row of the task matrix; a replicate resamples the tasks (one draw
  shared by every checkpoint of the gym) and the rows, so the interval is over tasks x samples x seeds. The val
  tasks are i.i.d. draws of the training distribution (its rules / entities / puzzles are fixed, not sampled),
  so tasks are resampled one by one, without clusters. ``rl_curve_reward`` rows: the RL curve on fixed tasks
  (:func:`curve_quarters`), the last quarter's mean rollout reward against the first quarter's on the same tasks
  (``rl.replay_first_quarter``), read from each run's ``curve.jsonl``.

    python -m bao.eval.training_reward play --config results/config.resolved.yaml --gym function \\
        --checkpoint results/rl/function/bao/seed0/ckpt --mode sampled --method bao --seed 0 \\
        --out-dir results/eval/function/bao/seed0/val_sampled
    python -m bao.eval.training_reward table --config results/config.resolved.yaml --results results \\
        --pairs function/bao:0,1,2=sft:0 function/userrl_grpo:0,1,2=sft:0 \\
        --md results/tables/training_reward.md --csv results/tables/training_reward.csv \\
        --json results/training_reward.json

``benchmarks/sampled_reward.py`` uses :func:`play` and :func:`compare` for ad-hoc checkpoints outside the DAG.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from bao.eval.stats import Runs, paired_bootstrap
from bao.types import Episode

MODES = ("sampled", "greedy")
METRICS = {  # table metric -> (mode whose episodes it reads, per-episode value of bao.eval.stats)
    "sampled_reward": ("sampled", "score"),
    "sampled_pass_at_u1": ("sampled", "pass_at_u/1"),
    "sampled_user_rate": ("sampled", "user_rate"),
    "greedy_val_score": ("greedy", "score"),
}
COLUMNS = ["gym", "method", "start", "n_seeds", "n_tasks", "samples", "metric", "sft", "rl", "delta", "lo", "hi",
           "direction"]


def settings(cfg, mode: str, gym: str = "") -> dict:
    """``{"tasks", "samples", "temperature"}`` of one mode, from ``cfg.training_reward`` (with its ``per_gym``
    entry for ``gym``)."""
    tr = cfg.training_reward.for_gym(gym)
    if mode == "sampled":
        return {"tasks": tr.tasks, "samples": tr.samples, "temperature": tr.temperature}
    if mode == "greedy":
        return {"tasks": tr.greedy_tasks, "samples": 1, "temperature": 0.0}
    raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")


def play(cfg, checkpoint: str, gym: str, tasks: int, samples: int, temperature: float, seed: int | None = None,
         progress: bool = False) -> list[Episode]:
    """``samples`` episodes on each of the first ``tasks`` val tasks at ``temperature`` (0 = greedy). ``seed`` is
    the sampling seed (default: the config's ``seed``), the same for every checkpoint compared."""
    from bao.eval.run import evaluate

    return evaluate(cfg, checkpoint, "val", progress=progress, gym=gym, temperature=temperature, samples=samples,
                    seed=cfg.seed if seed is None else seed, n_tasks=tasks)


def rows_of(episodes: Sequence[Episode]) -> list[list[Episode]]:
    """One checkpoint's episodes as rows of the task matrix, one row per sample index."""
    samples = sorted({e.sample for e in episodes})
    return [[e for e in episodes if e.sample == k] for k in samples]


def to_runs(rows: Sequence[Sequence[Episode]], task_ids: Sequence[str] | None = None) -> Runs:
    """The rows (seeds x samples of one or several pooled checkpoints) as :class:`Runs` over ``task_ids``
    (default: the sorted task ids of the first row)."""
    return Runs.from_episodes(rows, sorted({e.task_id for e in rows[0]}) if task_ids is None else task_ids)


def compare(rows: Mapping[str, Sequence[Sequence[Episode]]], pairs: Sequence[tuple[str, str]], metric: str,
            n_boot: int, seed: int) -> dict:
    """:func:`bao.eval.stats.paired_bootstrap` of named row sets (each a checkpoint or a pool of checkpoints, all
    on the same tasks): ``{"methods": {name: (point, lo, hi)}, "pairs": {(a, b): (delta, lo, hi)}}``."""
    first = next(iter(rows.values()))
    task_ids = sorted({e.task_id for e in first[0]})
    runs = {name: to_runs(r, task_ids) for name, r in rows.items()}
    return paired_bootstrap(runs, metric, n_boot=n_boot, seed=seed, pairs=list(pairs))


@dataclass(frozen=True)
class Pair:
    """One row group of the table: an RL method's seeds on a gym against the SFT checkpoint(s) they started from."""

    gym: str
    method: str
    seeds: tuple[int, ...]
    start: str
    """the SFT row of the start (``sft`` = enhanced teacher, ``sft_plain`` = plain teacher)."""
    start_seeds: tuple[int, ...]

    @classmethod
    def parse(cls, spec: str) -> "Pair":
        """``gym/method:s,s,...=start:s,...``, e.g. ``function/bao:0,1,2=sft:0``."""
        try:
            rl, start = spec.split("=")
            gym, rl = rl.split("/")
            method, seeds = rl.rsplit(":", 1)
            start, start_seeds = start.rsplit(":", 1)
            return cls(gym, method, tuple(map(int, seeds.split(","))), start, tuple(map(int, start_seeds.split(","))))
        except ValueError:
            raise ValueError(f"pair {spec!r}: expected <gym>/<method>:<seeds>=<sft row>:<seeds>, e.g. "
                             "function/bao:0,1,2=sft:0") from None


CURVE_METRIC = "rl_curve_reward"
"""the row of the RL curve: last- vs first-quarter rollout reward on the same tasks (``rl.replay_first_quarter``)."""


def curve_file(results: Path, gym: str, method: str, seed: int) -> Path:
    """The per-step RL log of one run (``train_rl``'s ``--curve``)."""
    return Path(results) / "rl" / gym / method / f"seed{seed}" / "curve.jsonl"


def curve_quarters(curves: Sequence[Sequence[dict]], n_boot: int, seed: int) -> dict | None:
    """Last- minus first-quarter mean rollout reward of RL runs on the same tasks, seeds pooled.

    Each curve's step ``n - q + j`` (``q = n // 4``) must have rolled out the tasks of step ``j``, as
    ``rl.replay_first_quarter`` makes them; a unit is one (seed, task) of those steps and its value the group's mean
    reward (``rollout/task_scores``). The 95% interval is a percentile bootstrap over units. ``None`` when a curve
    is shorter than 4 steps or its quarters do not share tasks (replay off, or an old log without task ids)."""
    import numpy as np

    first, last, n_tasks, samples = [], [], 0, 0
    for curve in curves:
        q = len(curve) // 4
        if q == 0:
            return None
        for a, b in zip(curve[:q], curve[len(curve) - q:]):
            if "rollout/tasks" not in a or a["rollout/tasks"] != b.get("rollout/tasks"):
                return None
            first += a["rollout/task_scores"]
            last += b["rollout/task_scores"]
        n_tasks = sum(len(r["rollout/tasks"]) for r in curve[:q])
        samples = round(curve[0]["rollout/n_episodes"] / len(curve[0]["rollout/tasks"]))
    d = np.asarray(last) - np.asarray(first)
    boot = d[np.random.default_rng(seed).integers(0, len(d), (n_boot, len(d)))].mean(axis=1)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return {"first": float(np.mean(first)), "last": float(np.mean(last)), "delta": float(d.mean()),
            "lo": float(lo), "hi": float(hi), "n_tasks": n_tasks, "samples": samples}


def episode_file(results: Path, gym: str, method: str, seed: int, mode: str) -> Path:
    """Where ``play`` writes one checkpoint's episodes of one mode (beside its test-split evaluations)."""
    return Path(results) / "eval" / gym / method / f"seed{seed}" / f"val_{mode}" / "episodes.jsonl"


def _direction(lo: float, hi: float) -> str:
    return "up" if lo > 0 else "down" if hi < 0 else "unresolved"


def build_table(results: Path, pairs: Sequence[Pair], n_boot: int, seed: int) -> pd.DataFrame:
    """The table of :data:`COLUMNS` from the episode files under ``results`` (one bootstrap per gym and metric,
    shared by every checkpoint of the gym, so the RL methods of a gym are paired with each other too)."""
    from bao.io import read_jsonl

    cache: dict[Path, list[list[Episode]]] = {}

    def rows(gym: str, method: str, seeds: Sequence[int], mode: str) -> list[list[Episode]]:
        out = []
        for s in seeds:
            f = episode_file(results, gym, method, s, mode)
            if f not in cache:
                cache[f] = rows_of([Episode.from_dict(r) for r in read_jsonl(f)])
            out += cache[f]
        return out

    out = []
    for gym in dict.fromkeys(p.gym for p in pairs):
        group = [p for p in pairs if p.gym == gym]
        for metric, (mode, value) in METRICS.items():
            named = {}
            for p in group:
                named.setdefault(f"{p.start}:{p.start_seeds}", rows(gym, p.start, p.start_seeds, mode))
                named[p.method] = rows(gym, p.method, p.seeds, mode)
            res = compare(named, [(p.method, f"{p.start}:{p.start_seeds}") for p in group], value, n_boot, seed)
            for p in group:
                ref = f"{p.start}:{p.start_seeds}"
                delta, lo, hi = res["pairs"][(p.method, ref)]
                n_tasks = len(named[p.method][0])
                out.append({"gym": gym, "method": p.method, "start": p.start, "n_seeds": len(p.seeds),
                            "n_tasks": n_tasks, "samples": len(named[p.method]) // len(p.seeds), "metric": metric,
                            "sft": res["methods"][ref][0], "rl": res["methods"][p.method][0], "delta": delta,
                            "lo": lo, "hi": hi, "direction": _direction(lo, hi)})
        for p in group:  # the RL curve on fixed tasks: columns sft / rl hold its first / last quarter
            files = [curve_file(results, gym, p.method, s) for s in p.seeds]
            if not all(f.exists() for f in files):
                continue
            q = curve_quarters([read_jsonl(f) for f in files], n_boot, seed)
            if q is not None:
                out.append({"gym": gym, "method": p.method, "start": "first quarter", "n_seeds": len(p.seeds),
                            "n_tasks": q["n_tasks"], "samples": q["samples"], "metric": CURVE_METRIC,
                            "sft": q["first"], "rl": q["last"], "delta": q["delta"], "lo": q["lo"], "hi": q["hi"],
                            "direction": _direction(q["lo"], q["hi"])})
    return pd.DataFrame(out, columns=COLUMNS)


def note(cfg) -> str:
    tr = cfg.training_reward
    sizes = "; ".join(f"{g}: {o}" for g, o in (tr.per_gym or {}).items())
    return (f"Fixed `val` tasks (fresh draws of the training distribution, never the test split), the same for "
            f"every checkpoint: `sampled_*` = the first {tr.tasks} tasks x {tr.samples} samples at temperature "
            f"{tr.temperature:g} (what RL optimises; same sampling seed for every checkpoint), `greedy_val_score` = "
            f"{tr.greedy_tasks} tasks at temperature 0{f' (per gym: {sizes})' if sizes else ''}. sft = the SFT "
            "start(s) of the method, rl = its RL seeds "
            f"pooled, delta = rl - sft with a 95% paired-bootstrap interval ({cfg.eval.n_boot} replicates): each "
            "replicate resamples the tasks (one draw for every checkpoint of the gym) and the rows of the task "
            "matrix (one per seed x sample of a checkpoint), i.e. tasks x samples x seeds. direction: up / down "
            f"when the interval excludes 0, else unresolved. `{CURVE_METRIC}`: the RL curve on fixed tasks, "
            "SFT = the mean rollout reward of the first quarter of the RL steps, RL = of the last quarter, which "
            "replays the first quarter's tasks (`rl.replay_first_quarter`; n = tasks per seed x group size); the "
            "interval resamples the (seed, task) units.")


def write_outputs(df: pd.DataFrame, md: Path, csv: Path, json: Path | None, cfg) -> None:
    """``csv`` (every number unrounded), ``md`` (title, what is resampled, table) and the DVC metrics ``json``
    (``{gym: {method: {metric: {sft, rl, delta, lo, hi}}}}``)."""
    from bao.eval.tables import markdown
    from bao.io import atomic_write_text, write_json

    atomic_write_text(csv, df.to_csv(index=False))
    head = ["gym", "method", "start", "n (tasks x samples x seeds)", "metric", "SFT", "RL", "Δ [95% CI]", "direction"]
    body = [[r.gym, r.method, r.start, f"{r.n_tasks} x {r.samples} x {r.n_seeds}", r.metric, f"{r.sft:.3f}",
             f"{r.rl:.3f}", f"{r.delta:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]", r.direction] for r in df.itertuples()]
    table = markdown(head, body) if body else "No runs to tabulate."
    atomic_write_text(md, f"# Training reward: RL checkpoints against their SFT start\n\n{note(cfg)}\n\n{table}\n")
    if json is not None:
        metrics: dict = {}
        for r in df.itertuples():
            metrics.setdefault(r.gym, {}).setdefault(r.method, {})[r.metric] = {
                "sft": r.sft, "rl": r.rl, "delta": r.delta, "lo": r.lo, "hi": r.hi}
        write_json(json, metrics)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("play", help="one checkpoint's val episodes (sampled or greedy)",
                        description="Play one checkpoint on the fixed val tasks of `training_reward` in the config "
                                    "and write episodes.jsonl + metrics.json to --out-dir.")
    pl.add_argument("--config", required=True, help="pipeline config YAML (the `training_reward` section sizes it)")
    pl.add_argument("--gym", default="function")
    pl.add_argument("--checkpoint", required=True, help="policy checkpoint directory")
    pl.add_argument("--mode", required=True, choices=MODES,
                    help="sampled: tasks x samples at temperature; greedy: greedy_tasks at temperature 0")
    pl.add_argument("--method", required=True, help="label written into metrics.json (e.g. sft, bao)")
    pl.add_argument("--seed", type=int, required=True, help="the checkpoint's training seed (a label; the sampling "
                                                            "seed is the config's `seed`, the same for all)")
    pl.add_argument("--out-dir", required=True)
    tb = sub.add_parser("table", help="the paired RL-vs-SFT table from the played episodes",
                        description="Build training_reward.{md,csv} and the DVC metrics JSON from the episode files "
                                    "under <results>/eval/<gym>/<method>/seed<s>/val_{sampled,greedy}/.")
    tb.add_argument("--config", required=True, help="pipeline config YAML (eval.n_boot, seed, training_reward)")
    tb.add_argument("--results", required=True, help="results directory holding eval/")
    tb.add_argument("--pairs", nargs="+", required=True,
                    help="<gym>/<method>:<seeds>=<sft row>:<seeds>, e.g. function/bao:0,1,2=sft:0 (the RL seeds "
                         "pooled against the SFT checkpoint(s) they started from; sft_plain = the plain teacher)")
    tb.add_argument("--md", required=True)
    tb.add_argument("--csv", required=True)
    tb.add_argument("--json", default=None, help="DVC metrics file")
    a = p.parse_args(argv)

    from bao.config import load_config

    cfg = load_config(a.config)
    if a.cmd == "play":
        from bao.eval.metrics import summarize
        from bao.io import write_json, write_jsonl
        from bao.provenance import provenance

        st = settings(cfg, a.mode, a.gym)
        t0 = time.time()
        eps = play(cfg, a.checkpoint, a.gym, **st)
        metrics = summarize(eps, range(1, cfg.eval.pass_k + 1))
        out = Path(a.out_dir)
        write_jsonl(out / "episodes.jsonl", [e.to_dict() for e in eps])
        write_json(out / "metrics.json", {
            "gym": a.gym, "method": a.method, "split": "val", "mode": a.mode, "seed": a.seed, **st, **metrics,
            "provenance": provenance(cfg, seed=a.seed, wall_time_s=time.time() - t0, checkpoint=a.checkpoint,
                                     sampling_seed=cfg.seed)})
        print(f"training_reward[{a.gym}/val_{a.mode}] {a.method} seed {a.seed}: score {metrics['score']:.3f} "
              f"pass@U-1 {metrics['pass_at_u/1']:.3f} UR {metrics['user_rate']:.3f} ({len(eps)} episodes, "
              f"{st['tasks']} tasks x {st['samples']}, T={st['temperature']:g}, {time.time() - t0:.0f} s)")
        return
    df = build_table(Path(a.results), [Pair.parse(s) for s in a.pairs], cfg.eval.n_boot, cfg.seed)
    write_outputs(df, Path(a.md), Path(a.csv), Path(a.json) if a.json else None, cfg)
    for r in df.itertuples():
        print(f"{r.gym:10s} {r.method:18s} {r.metric:20s} sft {r.sft:.3f} rl {r.rl:.3f} "
              f"delta {r.delta:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}] ({r.n_tasks} x {r.samples} x {r.n_seeds})")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
