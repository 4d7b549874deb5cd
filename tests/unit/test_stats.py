"""Paired bootstrap: hand-computed points, degenerate cases, and a slow reference twin on random data."""

import numpy as np
import pytest

from bao.eval.stats import Runs, episode_values, paired_bootstrap, point
from bao.types import Episode, Turn


def _ep(task: str, rewards_choices) -> Episode:
    turns = [Turn(choice=c, content="x", valid=True, reward=r, feedback="", user_involved=c == "answer")
             for c, r in rewards_choices]
    return Episode(task_id=task, turns=turns, end_reason="success" if sum(r for _, r in rewards_choices) else "horizon")


def test_episode_values_by_hand():
    ep = _ep("t0", [("action", 0.0), ("answer", 0.0), ("answer", 1.0)])
    v = episode_values(ep)
    # Score 1; first answer wrong so Pass@U-1 = 0; UR = 2 answers / 3 turns; one of two answers earns reward;
    # all 3 turns are well-formed calls
    assert v == {"score": 1.0, "pass_at_u/1": 0.0, **{f"pass_at_u/{k}": 1.0 for k in range(2, 10)},
                 "user_rate": pytest.approx(2 / 3), "rtr_num": 1.0, "rtr_den": 2.0, "valid_turns": 3.0, "turns": 3.0}


def test_point_is_a_mean_and_rtr_a_ratio_of_sums():
    tasks = ["a", "b"]
    seed0 = [_ep("a", [("answer", 1.0)]), _ep("b", [("answer", 0.0), ("answer", 0.0), ("answer", 0.0)])]
    seed1 = [_ep("b", [("answer", 1.0)]), _ep("a", [("action", 0.0), ("answer", 1.0)])]
    r = Runs.from_episodes([seed0, seed1], tasks)
    assert point(r, "score") == pytest.approx(3 / 4)
    # answers: 1 + 3 + 1 + 1 = 6, rewarded: 3 -> 0.5 (a mean of per-episode ratios would give 0.75)
    assert point(r, "reward_translation_rate") == pytest.approx(0.5)
    assert point(r, "user_rate") == pytest.approx((1 + 1 + 1 + 0.5) / 4)


def test_episodes_must_cover_the_shared_tasks():
    with pytest.raises(ValueError, match="do not cover"):
        Runs.from_episodes([[_ep("a", [("answer", 1.0)])]], ["a", "b"])


def _runs(values: np.ndarray) -> Runs:
    """Runs whose score / pass@1 are ``values`` (seeds x tasks), one answer per episode."""
    z = np.zeros_like(values)
    return Runs({"score": values, "pass_at_u/1": values, "user_rate": z + 1.0, "rtr_num": values, "rtr_den": z + 1})


def test_identical_methods_have_a_zero_width_difference():
    gen = np.random.default_rng(3)
    v = (gen.random((2, 30)) > 0.5).astype(float)
    out = paired_bootstrap({"a": _runs(v), "b": _runs(v.copy())}, "score", n_boot=300, pairs=[("a", "b")])
    assert out["pairs"][("a", "b")] == (0.0, 0.0, 0.0)


def test_constant_values_collapse_the_interval():
    out = paired_bootstrap({"a": _runs(np.full((3, 10), 0.25))}, "score", n_boot=200)
    assert out["methods"]["a"] == pytest.approx((0.25, 0.25, 0.25))


def test_pairing_tightens_the_difference():
    """b = a + 0.1 on every task: paired difference is exactly 0.1, while each method's own interval is wide."""
    gen = np.random.default_rng(0)
    a = gen.random((1, 50))
    out = paired_bootstrap({"a": _runs(a), "b": _runs(a + 0.1)}, "score", n_boot=500, pairs=[("b", "a")])
    p, lo, hi = out["pairs"][("b", "a")]
    assert p == pytest.approx(0.1) and lo == pytest.approx(0.1) and hi == pytest.approx(0.1)
    _, alo, ahi = out["methods"]["a"]
    assert ahi - alo > 0.1



def _slow_value(r, metric, seeds, tasks):
    """The metric over the drawn seed x task cells, by explicit loops (a cell drawn twice counts twice)."""
    if metric == "reward_translation_rate":
        num = sum(r.values["rtr_num"][s][t] for s in seeds for t in tasks)
        den = sum(r.values["rtr_den"][s][t] for s in seeds for t in tasks)
        return num / den if den else 0.0
    cells = [r.values[metric][s][t] for s in seeds for t in tasks]
    return sum(cells) / len(cells)

def _reference(runs, metric, n_boot, seed, level):
    """Slow twin: explicit loops over the same random draws."""
    gen = np.random.default_rng(seed)
    n = next(iter(runs.values())).values["score"].shape[1]
    boots = {m: [] for m in runs}
    for _ in range(n_boot):
        tasks = [int(t) for t in gen.integers(0, n, n)]
        draws = {k: [int(s) for s in gen.integers(0, k, k)] for k in sorted({r.n_seeds for r in runs.values()})}
        for m, r in runs.items():
            boots[m].append(_slow_value(r, metric, draws[r.n_seeds], tasks))
    q = ((1 - level) / 2 * 100, (1 + level) / 2 * 100)
    return {m: tuple(np.percentile(b, q)) for m, b in boots.items()}


@pytest.mark.parametrize("metric", ["score", "reward_translation_rate"])
def test_matches_the_slow_reference(metric):
    gen = np.random.default_rng(11)
    runs = {}
    for m, n_seeds in (("sft", 1), ("bao", 3), ("base", 2)):
        v = (gen.random((n_seeds, 12)) > 0.4).astype(float)
        den = gen.integers(0, 4, (n_seeds, 12)).astype(float)
        runs[m] = Runs({"score": v, "pass_at_u/1": v, "user_rate": v, "rtr_num": np.minimum(v, den), "rtr_den": den})
    fast = paired_bootstrap(runs, metric, n_boot=150, seed=5)
    slow = _reference(runs, metric, 150, 5, 0.95)
    for m in runs:
        assert fast["methods"][m][1:] == pytest.approx(slow[m])


# --- cluster bootstrap -----------------------------------------------------------------------------------------

def _random_runs(gen, n_tasks, seeds=(("sft", 1), ("bao", 3), ("base", 2))):
    runs = {}
    for m, n_seeds in seeds:
        v = (gen.random((n_seeds, n_tasks)) > 0.4).astype(float)
        den = gen.integers(0, 4, (n_seeds, n_tasks)).astype(float)
        runs[m] = Runs({"score": v, "pass_at_u/1": v, "user_rate": gen.random((n_seeds, n_tasks)),
                        "rtr_num": np.minimum(v, den), "rtr_den": den})
    return runs


@pytest.mark.parametrize("metric", ["score", "user_rate", "reward_translation_rate"])
def test_singleton_clusters_are_exactly_the_task_bootstrap(metric):
    """Every task its own cluster: cluster j is task j, so the same draws give bit-identical intervals."""
    runs = _random_runs(np.random.default_rng(2), 15)
    pairs = [("bao", "base"), ("bao", "sft")]
    task = paired_bootstrap(runs, metric, n_boot=400, seed=9, pairs=pairs)
    clus = paired_bootstrap(runs, metric, n_boot=400, seed=9, pairs=pairs, clusters=[f"rule-{j}" for j in range(15)])
    assert clus == task


def test_two_homogeneous_clusters_span_zero_to_one():
    """Cluster A: 10 tasks all 0; cluster B: 10 tasks all 1 (one seed). Drawing 2 clusters gives AA = 0, AB = 0.5,
    BB = 1 with probabilities 1/4, 1/2, 1/4, so the 2.5% / 97.5% percentiles are exactly 0 and 1 (failing needs
    < 50 of 2000 replicates to be AA or BB: probability ~1e-300). Resampling tasks i.i.d. instead gives a mean of
    20 fair coin flips: sd = sqrt(0.25 / 20) = 0.11, so a 95% interval about 0.5 +- 0.22."""
    v = np.array([[0.0] * 10 + [1.0] * 10])
    runs = {"a": _runs(v)}
    labels = ["A"] * 10 + ["B"] * 10
    assert paired_bootstrap(runs, "score", n_boot=2000, clusters=labels)["methods"]["a"] == (0.5, 0.0, 1.0)
    _, lo, hi = paired_bootstrap(runs, "score", n_boot=2000)["methods"]["a"]
    assert 0.3 < hi - lo < 0.6 and lo > 0.2 and hi < 0.8


def test_unequal_cluster_sizes_weigh_by_tasks_and_rtr_is_a_ratio_of_sums():
    """Cluster A: 2 tasks (score 0, 2 unrewarded answers each); cluster B: 8 tasks (score 1, 1 rewarded answer)."""
    from bao.eval.stats import _replicates, cluster_codes

    score = np.array([[0.0] * 2 + [1.0] * 8])
    r = Runs({"score": score, "rtr_num": score.copy(), "rtr_den": np.array([[2.0] * 2 + [1.0] * 8])})
    codes, c = cluster_codes(["A", "A"] + ["B"] * 8, 10)
    assert c == 2 and list(codes) == [0, 0] + [1] * 8
    unit_w = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 2.0]])  # replicates AA, AB, BB
    task_w, seed_w = unit_w[:, codes], np.ones((3, 1))
    # mean over the tasks drawn: AB = 8 of 10 tasks solved = 0.8 (a mean of cluster means would say 0.5)
    assert list(_replicates(r, "score", seed_w, task_w)) == [0.0, 0.8, 1.0]
    # AB: 8 rewarded of 2 * 2 + 8 answers = 2/3
    assert list(_replicates(r, "reward_translation_rate", seed_w, task_w)) == pytest.approx([0.0, 2 / 3, 1.0])
    assert point(r, "score") == pytest.approx(0.8)  # the point stays the plain mean over tasks
    out = paired_bootstrap({"r": _runs(score)}, "score", n_boot=2000, clusters=["A", "A"] + ["B"] * 8)
    assert out["methods"]["r"] == (pytest.approx(0.8), 0.0, 1.0)


def test_cluster_bootstrap_keeps_methods_paired():
    gen = np.random.default_rng(4)
    v = (gen.random((3, 24)) > 0.5).astype(float)
    labels = [f"r{j % 5}" for j in range(24)]
    out = paired_bootstrap({"a": _runs(v), "b": _runs(v.copy())}, "score", n_boot=300, pairs=[("a", "b")],
                           clusters=labels)
    assert out["pairs"][("a", "b")] == (0.0, 0.0, 0.0)
    # b = a + 0.1 on every task: every replicate's difference is 0.1, whatever clusters it drew
    out = paired_bootstrap({"a": _runs(v), "b": _runs(v + 0.1)}, "score", n_boot=300, pairs=[("b", "a")],
                           clusters=labels)
    assert out["pairs"][("b", "a")] == pytest.approx((0.1, 0.1, 0.1))


def _reference_cluster(runs, metric, n_boot, seed, level, labels):
    """Slow twin of the one-stage cluster bootstrap: per replicate draw C clusters (numbered in order of first
    appearance) with replacement, list every task of each drawn cluster, draw the seeds, average the cells."""
    order = list(dict.fromkeys(labels))
    members = [[t for t, c in enumerate(labels) if c == u] for u in order]
    gen = np.random.default_rng(seed)
    boots = {m: [] for m in runs}
    for _ in range(n_boot):
        tasks = [t for u in gen.integers(0, len(order), len(order)) for t in members[int(u)]]
        draws = {k: [int(s) for s in gen.integers(0, k, k)] for k in sorted({r.n_seeds for r in runs.values()})}
        for m, r in runs.items():
            boots[m].append(_slow_value(r, metric, draws[r.n_seeds], tasks))
    q = ((1 - level) / 2 * 100, (1 + level) / 2 * 100)
    return {m: tuple(np.percentile(b, q)) for m, b in boots.items()}, {
        (a, b): tuple(np.percentile(np.array(boots[a]) - np.array(boots[b]), q)) for a in runs for b in runs}


@pytest.mark.parametrize("metric", ["score", "user_rate", "reward_translation_rate"])
def test_cluster_bootstrap_matches_the_slow_reference(metric):
    gen = np.random.default_rng(17)
    runs = _random_runs(gen, 14)
    labels = [str(x) for x in gen.choice(["r3", "r1", "r7", "r0", "r5"], 14, p=[0.4, 0.3, 0.15, 0.1, 0.05])]
    fast = paired_bootstrap(runs, metric, n_boot=200, seed=6, pairs=[("bao", "base")], clusters=labels)
    slow, slow_pairs = _reference_cluster(runs, metric, 200, 6, 0.95, labels)
    for m in runs:
        assert fast["methods"][m][1:] == pytest.approx(slow[m], abs=1e-12)
    assert fast["pairs"][("bao", "base")][1:] == pytest.approx(slow_pairs[("bao", "base")], abs=1e-12)


def test_clusters_from_episodes_follow_the_task_axis():
    from bao.eval.stats import shared_clusters

    eps = [_ep("b", [("answer", 1.0)]), _ep("a", [("answer", 0.0)]), _ep("c", [("answer", 1.0)])]
    r = Runs.from_episodes([eps], ["a", "b", "c"], {"c": "rule-1", "a": "rule-2", "b": "rule-1", "z": "rule-9"})
    assert r.clusters == ("rule-2", "rule-1", "rule-1")
    assert shared_clusters({"x": r, "y": r}) == r.clusters
    assert shared_clusters({"x": Runs(r.values)}) is None
    with pytest.raises(ValueError, match="disagree"):
        shared_clusters({"x": r, "y": Runs(r.values)})
    with pytest.raises(ValueError, match="no cluster label"):
        Runs.from_episodes([eps], ["a", "b", "c"], {"a": "rule-2"})
    with pytest.raises(ValueError, match="3 cluster labels for 2 tasks"):
        paired_bootstrap({"x": _runs(np.zeros((1, 2)))}, "score", n_boot=5, clusters=["a", "b", "c"])
