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
    # Score 1; first answer wrong so Pass@U-1 = 0; UR = 2 answers / 3 turns; one of two answers earns reward
    assert v == {"score": 1.0, "pass_at_u/1": 0.0, **{f"pass_at_u/{k}": 1.0 for k in range(2, 10)},
                 "user_rate": pytest.approx(2 / 3), "rtr_num": 1.0, "rtr_den": 2.0}


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


def _reference(runs, metric, n_boot, seed, level):
    """Slow twin: explicit loops over the same random draws."""
    gen = np.random.default_rng(seed)
    n = next(iter(runs.values())).values["score"].shape[1]
    boots = {m: [] for m in runs}
    for _ in range(n_boot):
        tasks = [int(t) for t in gen.integers(0, n, n)]
        draws = {k: [int(s) for s in gen.integers(0, k, k)] for k in sorted({r.n_seeds for r in runs.values()})}
        for m, r in runs.items():
            seeds = draws[r.n_seeds]
            if metric == "reward_translation_rate":
                num = sum(r.values["rtr_num"][s][t] for s in seeds for t in tasks)
                den = sum(r.values["rtr_den"][s][t] for s in seeds for t in tasks)
                boots[m].append(num / den if den else 0.0)
            else:
                cells = [r.values[metric][s][t] for s in seeds for t in tasks]
                boots[m].append(sum(cells) / len(cells))
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
