"""Confidence intervals: a paired bootstrap over test tasks (or clusters of tasks) x seeds (pure functions, numpy
only).

Why paired: every method is evaluated on the same test tasks, so one bootstrap replicate draws one multiset of
task indices and applies it to every method. Differences between methods (BAO - UserRL-GRPO) then keep the
task-level correlation, and their intervals are much tighter than two independent intervals would suggest.
Within a replicate the seeds are resampled too, with one draw shared by every method that has the same number
of seeds (RL seed i of BAO and of UserRL-GRPO start from the same SFT checkpoint and see the same training
tasks, so they are paired as well); a method with one seed, e.g. a shared SFT checkpoint, keeps it. So the
seed-to-seed spread of RL enters the interval. Three seeds alone cannot
give a meaningful interval; tasks x seeds can, and every table states n = tasks x seeds.

Clusters. The embedded test splits draw many tasks from few held-out units: Function-Gym's 100 test tasks come
from ~21 unseen rules, Telepathy's from unseen entities, Turtle's from unseen puzzles. Tasks of one rule are
correlated, so resampling tasks i.i.d. gives intervals that are too narrow for a claim about *unseen rules*.
With ``clusters`` (one label per task), :func:`paired_bootstrap` runs a one-stage cluster bootstrap: each
replicate draws the clusters with replacement and takes all the tasks of each drawn cluster (see its docstring).
Without them every task is its own cluster, which is exactly the task bootstrap.

Per-episode values come from :func:`episode_values` (Score, Pass@U-1, UR) plus a numerator/denominator pair for
the reward-translation rate, which is a ratio over all answers (not a mean of per-episode ratios).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence

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
            "rtr_den": float(len(answers)),
            "valid_turns": float(sum(1 for t in ep.turns if t.valid)),
            "turns": float(len(ep.turns))}


@dataclass(frozen=True)
class Runs:
    """One method's per-episode values as (seeds, tasks) arrays, tasks in a fixed order shared by all methods;
    optionally the cluster label of each task column (the held-out rule / entity / puzzle it was drawn from)."""

    values: dict[str, np.ndarray]
    clusters: tuple | None = None
    """one label per task column, or None (no grouping known: every task its own cluster)."""

    @classmethod
    def from_episodes(cls, by_seed: Sequence[Sequence[Episode]], task_ids: Sequence[str],
                      clusters: Mapping[str, Hashable] | None = None) -> "Runs":
        """``by_seed[s]`` = the episodes of seed ``s``; each must cover exactly ``task_ids`` (any order).
        ``clusters``: task id -> cluster label, covering every task id (or None)."""
        keys = ("score", *(f"pass_at_u/{k}" for k in range(1, K_MAX + 1)), "user_rate", "rtr_num", "rtr_den",
                "valid_turns", "turns")
        out = {k: np.zeros((len(by_seed), len(task_ids))) for k in keys}
        col = {t: j for j, t in enumerate(task_ids)}
        for i, eps in enumerate(by_seed):
            if sorted(e.task_id for e in eps) != sorted(task_ids):
                raise ValueError(f"seed {i}: episodes do not cover the shared task list ({len(eps)} episodes, "
                                 f"{len(task_ids)} tasks)")
            for e in eps:
                for k, v in episode_values(e).items():
                    out[k][i, col[e.task_id]] = v
        if clusters is not None:
            missing = [t for t in task_ids if t not in clusters]
            if missing:
                raise ValueError(f"no cluster label for {len(missing)} of {len(task_ids)} tasks, e.g. {missing[0]!r}")
            clusters = tuple(clusters[t] for t in task_ids)
        return cls(out, clusters)

    @property
    def n_seeds(self) -> int:
        return self.values["score"].shape[0]

    @property
    def n_tasks(self) -> int:
        return self.values["score"].shape[1]

    @property
    def valid_call_share(self) -> float:
        """Share of all turns (pooled over seeds and tasks) that made a well-formed tool call; NaN when the
        runs were built without turn counts."""
        if "turns" not in self.values:
            return float("nan")
        turns = float(self.values["turns"].sum())
        return float(self.values["valid_turns"].sum()) / turns if turns else 0.0


def shared_clusters(runs: Mapping[str, Runs]) -> tuple | None:
    """The cluster labels every method carries (they must agree), or None when none carries any."""
    labels = {r.clusters for r in runs.values()}
    if len(labels) > 1:
        raise ValueError("methods disagree on the cluster labels of the shared task axis")
    return labels.pop() if labels else None


def cluster_codes(clusters: Sequence[Hashable], n: int) -> tuple[np.ndarray, int]:
    """(cluster index of each task, number of clusters); clusters are numbered in order of first appearance, so
    when every task is its own cluster, cluster j is task j."""
    if len(clusters) != n:
        raise ValueError(f"{len(clusters)} cluster labels for {n} tasks")
    index: dict = {}
    return np.array([index.setdefault(c, len(index)) for c in clusters], dtype=np.int64), len(index)


def point(r: Runs, metric: str, seed_idx: np.ndarray | None = None, task_idx: np.ndarray | None = None) -> float:
    """The metric over the given seeds x tasks (all by default): a mean, or a ratio of sums for the RTR."""
    def take(a: np.ndarray) -> np.ndarray:
        a = a if seed_idx is None else a[seed_idx]
        return a if task_idx is None else a[:, task_idx]

    if metric == "reward_translation_rate":
        den = take(r.values["rtr_den"]).sum()
        return float(take(r.values["rtr_num"]).sum() / den) if den else 0.0
    return float(take(r.values[metric]).mean())


def _replicates(r: Runs, metric: str, seed_w: np.ndarray, task_w: np.ndarray) -> np.ndarray:
    """The metric in every replicate, from how often each seed (``seed_w``, replicates x seeds) and each task
    (``task_w``, replicates x tasks) was drawn: the mean over the drawn seed x task cells (a cell drawn twice
    counts twice), or for the RTR the ratio of sums over them."""
    def total(a: np.ndarray) -> np.ndarray:
        return ((seed_w @ a) * task_w).sum(axis=1)

    if metric == "reward_translation_rate":
        num, den = total(r.values["rtr_num"]), total(r.values["rtr_den"])
        return np.divide(num, den, out=np.zeros_like(num), where=den != 0)
    return total(r.values[metric]) / (seed_w.sum(axis=1) * task_w.sum(axis=1))


def paired_bootstrap(runs: Mapping[str, Runs], metric: str, n_boot: int = 2000, seed: int = 0,
                     level: float = 0.95, pairs: Sequence[tuple[str, str]] = (),
                     clusters: Sequence[Hashable] | None = None) -> dict:
    """Percentile intervals of ``metric`` per method and of the differences ``a - b`` for ``pairs``.

    Returns ``{"methods": {m: (point, lo, hi)}, "pairs": {(a, b): (point, lo, hi)}}``. Every method must share
    the task axis (same length, same order). The point is always the plain metric over all seeds x tasks.

    ``clusters`` (one label per task, in task-axis order; e.g. :func:`shared_clusters` of ``runs``) switches
    from the task bootstrap to a *one-stage cluster bootstrap*: a replicate draws C clusters with replacement out
    of the C clusters and takes every task of each drawn cluster (a cluster drawn twice enters twice), then
    draws the seeds as before; its value is the mean over the tasks it drew (clusters of unequal size weigh by
    their size), or for the RTR the ratio of sums. One draw is applied to every method, so methods stay paired
    by task and cluster. Why one stage: the claim is about unseen clusters (rules), so the clusters are the
    sampled units and the between-cluster spread is what the interval must carry; the spread of tasks within a
    cluster is already inside each drawn cluster's contribution, and resampling tasks within clusters as well
    (two stages) would count it a second time and overstate the variance (Davison & Hinkley 1997, section 3.8;
    Field & Welsh 2007). With few clusters (say < 20) percentile intervals still undercover somewhat; callers
    state the number of clusters. ``clusters=None`` (or all labels distinct) is the task bootstrap: the same
    random draws give the same replicates, because cluster j is then task j (:func:`cluster_codes`).

    Random draws, per replicate in this order: the C cluster (or task) indices, then for each distinct seed
    count k (ascending) k seed indices shared by every method with k seeds. The replicates are then computed
    for all replicates at once from the draw counts."""
    n_tasks = {r.n_tasks for r in runs.values()}
    if len(n_tasks) != 1:
        raise ValueError(f"methods disagree on the number of tasks: {sorted(n_tasks)}")
    n = n_tasks.pop()
    codes, n_units = (np.arange(n), n) if clusters is None else cluster_codes(clusters, n)
    gen = np.random.default_rng(seed)
    seed_counts = sorted({r.n_seeds for r in runs.values()})
    unit_w = np.empty((n_boot, n_units))
    seed_w = {k: np.empty((n_boot, k)) for k in seed_counts}
    for b in range(n_boot):
        unit_w[b] = np.bincount(gen.integers(0, n_units, n_units), minlength=n_units)
        for k in seed_counts:  # seed i of every method drawn together
            seed_w[k][b] = np.bincount(gen.integers(0, k, k), minlength=k)
    task_w = unit_w[:, codes]  # how often each task enters each replicate
    boots = {m: _replicates(r, metric, seed_w[r.n_seeds], task_w) for m, r in runs.items()}
    q = ((1 - level) / 2 * 100, (1 + level) / 2 * 100)

    def interval(x: float, samples: np.ndarray) -> tuple[float, float, float]:
        lo, hi = np.percentile(samples, q)
        return float(x), float(lo), float(hi)

    return {"methods": {m: interval(point(r, metric), boots[m]) for m, r in runs.items()},
            "pairs": {(a, b): interval(point(runs[a], metric) - point(runs[b], metric), boots[a] - boots[b])
                      for a, b in pairs}}
