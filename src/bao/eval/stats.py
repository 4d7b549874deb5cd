"""Confidence intervals: a paired bootstrap over test tasks x seeds (pure functions, numpy only).

Why paired: every method is evaluated on the same test tasks, so one bootstrap replicate draws one multiset of
task indices and applies it to every method. Differences between methods (BAO - UserRL-GRPO) then keep the
task-level correlation, and their intervals are much tighter than two independent intervals would suggest.
Within a replicate the seeds are resampled too, with one draw shared by every method that has the same number
of seeds (RL seed i of BAO and of UserRL-GRPO start from the same SFT checkpoint and see the same training
tasks, so they are paired as well); a method with one seed, e.g. a shared SFT checkpoint, keeps it. So the
seed-to-seed spread of RL enters the interval. Three seeds alone cannot
give a meaningful interval; tasks x seeds can, and every table states n = tasks x seeds.

Per-episode values come from :func:`episode_values` (Score, Pass@U-1, UR) plus a numerator/denominator pair for
the reward-translation rate, which is a ratio over all answers (not a mean of per-episode ratios).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from bao.eval.metrics import pass_at_u
from bao.types import Episode

METRICS = ("score", "pass_at_u/1", "user_rate", "reward_translation_rate")


K_MAX = 9


def episode_values(ep: Episode) -> dict[str, float]:
    """One episode's contribution to each metric of :data:`METRICS` and to Pass@U-k for k = 1..9
    (``rtr_num``/``rtr_den`` for the reward-translation ratio)."""
    answers = [t for t in ep.turns if t.user_involved]
    passes = pass_at_u([ep], range(1, K_MAX + 1))
    return {"score": float(ep.total_reward),
            **{f"pass_at_u/{k}": v for k, v in passes.items()},
            "user_rate": ep.num_user_actions / len(ep.turns) if ep.turns else 0.0,
            "rtr_num": float(sum(1 for t in answers if t.reward != 0)),
            "rtr_den": float(len(answers))}


@dataclass(frozen=True)
class Runs:
    """One method's per-episode values as (seeds, tasks) arrays, tasks in a fixed order shared by all methods."""

    values: dict[str, np.ndarray]

    @classmethod
    def from_episodes(cls, by_seed: Sequence[Sequence[Episode]], task_ids: Sequence[str]) -> "Runs":
        """``by_seed[s]`` = the episodes of seed ``s``; each must cover exactly ``task_ids`` (any order)."""
        keys = ("score", *(f"pass_at_u/{k}" for k in range(1, K_MAX + 1)), "user_rate", "rtr_num", "rtr_den")
        out = {k: np.zeros((len(by_seed), len(task_ids))) for k in keys}
        col = {t: j for j, t in enumerate(task_ids)}
        for i, eps in enumerate(by_seed):
            if sorted(e.task_id for e in eps) != sorted(task_ids):
                raise ValueError(f"seed {i}: episodes do not cover the shared task list ({len(eps)} episodes, "
                                 f"{len(task_ids)} tasks)")
            for e in eps:
                for k, v in episode_values(e).items():
                    out[k][i, col[e.task_id]] = v
        return cls(out)

    @property
    def n_seeds(self) -> int:
        return self.values["score"].shape[0]


def point(r: Runs, metric: str, seed_idx: np.ndarray | None = None, task_idx: np.ndarray | None = None) -> float:
    """The metric over the given seeds x tasks (all by default): a mean, or a ratio of sums for the RTR."""
    def take(a: np.ndarray) -> np.ndarray:
        a = a if seed_idx is None else a[seed_idx]
        return a if task_idx is None else a[:, task_idx]

    if metric == "reward_translation_rate":
        den = take(r.values["rtr_den"]).sum()
        return float(take(r.values["rtr_num"]).sum() / den) if den else 0.0
    return float(take(r.values[metric]).mean())


def paired_bootstrap(runs: Mapping[str, Runs], metric: str, n_boot: int = 2000, seed: int = 0,
                     level: float = 0.95, pairs: Sequence[tuple[str, str]] = ()) -> dict:
    """Percentile intervals of ``metric`` per method and of the differences ``a - b`` for ``pairs``.

    Returns ``{"methods": {m: (point, lo, hi)}, "pairs": {(a, b): (point, lo, hi)}}``. Every method must share
    the task axis (same length, same order)."""
    n_tasks = {r.values["score"].shape[1] for r in runs.values()}
    if len(n_tasks) != 1:
        raise ValueError(f"methods disagree on the number of tasks: {sorted(n_tasks)}")
    n = n_tasks.pop()
    gen = np.random.default_rng(seed)
    boots = {m: np.empty(n_boot) for m in runs}
    seed_counts = sorted({r.n_seeds for r in runs.values()})
    for b in range(n_boot):
        task_idx = gen.integers(0, n, n)
        seed_idx = {k: gen.integers(0, k, k) for k in seed_counts}  # seed i of every method drawn together
        for m, r in runs.items():
            boots[m][b] = point(r, metric, seed_idx[r.n_seeds], task_idx)
    q = ((1 - level) / 2 * 100, (1 + level) / 2 * 100)

    def interval(x: float, samples: np.ndarray) -> tuple[float, float, float]:
        lo, hi = np.percentile(samples, q)
        return float(x), float(lo), float(hi)

    return {"methods": {m: interval(point(r, metric), boots[m]) for m, r in runs.items()},
            "pairs": {(a, b): interval(point(runs[a], metric) - point(runs[b], metric), boots[a] - boots[b])
                      for a, b in pairs}}
