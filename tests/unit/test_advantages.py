"""Turn credits, trajectory scores, group z-scores and token advantages (bao.rl.advantages).

Run: .venv/bin/python -m pytest tests/unit/test_advantages.py -q
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from bao.rl.advantages import (CREDITS, SCORES, batch_token_advantages, compute_advantages, group_zscores,
                               pad_credits, rounded_score, token_advantages, weight_negatives)
from bao.rl.shaping import SHAPERS, ShapingParams


def credit(name, rewards, gamma=0.8, k=2.0):
    return CREDITS.get(name)(rewards, gamma=gamma, k=k)


def test_credits_hand_computed():
    assert credit("r2g", [0, 0, 1]) == pytest.approx([0.64, 0.8, 1.0])
    assert credit("r2g", [1, 0, 1], gamma=0.5) == pytest.approx([1.25, 0.5, 1.0])
    assert credit("equalized", [0, 5, -1]) == [1.0, 1.0, 1.0]
    em = credit("em", [0.0, 1.0, 0.5, -0.2])
    assert em[:2] == [0.5, 1.0]
    assert em[2] == round(0.5 + 0.5 * (1 - math.exp(-1)) / (1 - math.exp(-2)), 4) == 0.8655
    assert em[3] == round(0.5 + 0.5 * (1 - math.exp(0.4)) / (1 - math.exp(-2)), 4)
    for name in CREDITS.names():
        assert credit(name, []) == []


def test_scores():
    r = [0.0, -0.15, 1.0]
    assert SCORES.get("sum")(r, gamma=0.8) == pytest.approx(0.85)
    assert SCORES.get("mean_sum")(r, gamma=0.8) == round(0.85 / 3, 4) == 0.2833
    assert SCORES.get("r2g")(r, gamma=0.8) == pytest.approx(-0.15 * 0.8 + 0.64)
    for name in SCORES.names():
        assert SCORES.get(name)([], gamma=0.8) == 0.0


def test_group_zscores():
    z = group_zscores([1.0, 0.0, 0.0, 1.0, 3.0, 2.0, 2.0, 7.0], ["a", "a", "a", "a", "b", "c", "c", "d"])
    s = math.sqrt(1 / 3)  # unbiased std of [1,0,0,1]
    assert z[:4] == pytest.approx([0.5 / (s + 1e-6), -0.5 / (s + 1e-6), -0.5 / (s + 1e-6), 0.5 / (s + 1e-6)])
    assert z[4] == pytest.approx(3.0 / (1 + 1e-6))  # group of one: mu 0, sigma 1
    assert z[5:7] == [0.0, 0.0]  # all-equal group
    assert z[7] == pytest.approx(7.0)
    t = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    assert z[:4] == pytest.approx(((t - t.mean()) / (t.std() + 1e-6)).tolist())
    with pytest.raises(ValueError):
        group_zscores([1.0], [0, 1])


def test_token_advantages_hand_computed():
    token_turn = torch.tensor([-1, -1, 0, 0, 0, 1, 1, 2])
    mask = torch.tensor([0, 0, 1, 1, 0, 1, 1, 1.0])  # tool-obs token 4 masked
    a = token_advantages(2.0, [1.0, 2.0, 3.0], token_turn, mask)
    # values [0,0,1,1,0,2,2,3], N=5, sum=9 -> A = 2*v*5/9
    assert a.tolist() == pytest.approx([0, 0, 10 / 9, 10 / 9, 0, 20 / 9, 20 / 9, 30 / 9])
    assert a.dtype == torch.float32
    assert torch.equal(token_advantages(2.0, [0.0, 0.0, 0.0], token_turn, mask), torch.zeros(8))
    # negative credits: the signed sum keeps the sign of z (A = z * c / mean c)
    neg = token_advantages(-1.0, [-0.3, -0.1, -0.2], token_turn, mask)
    v = torch.tensor([0, 0, -0.3, -0.3, 0, -0.1, -0.1, -0.2])
    assert neg.tolist() == pytest.approx((-1.0 * v * 5 / v.sum()).tolist())
    assert (neg[mask.bool()] < 0).all()
    # a zero credit makes that turn's tokens not count in N
    b = token_advantages(1.0, [0.0, 1.0, 1.0], token_turn, mask)
    assert b.tolist() == pytest.approx([0, 0, 0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError):
        token_advantages(1.0, [1.0], token_turn, mask)


def slow_token_advantages(z, credits, token_turn, mask):
    vals = [credits[t] * m if t >= 0 else 0.0 for t, m in zip(token_turn, mask)]
    total, n = sum(vals), sum(1 for v in vals if v != 0)
    return [0.0 if total == 0 else z * v * n / total for v in vals]


def test_batch_matches_slow_loop():
    rng = random.Random(1)
    for _ in range(30):
        b, lmax = rng.randint(1, 6), rng.randint(1, 40)
        credits = [[rng.choice([0.0, 1.0, -0.2, rng.uniform(-1, 1)]) for _ in range(rng.randint(1, 6))]
                   for _ in range(b)]
        z = [rng.uniform(-2, 2) for _ in range(b)]
        token_turn, mask = [], []
        for c in credits:
            n_prompt = rng.randint(0, 4)
            tt = [-1] * n_prompt + sorted(rng.randrange(len(c)) for _ in range(lmax - n_prompt))
            token_turn.append((tt + [-1] * lmax)[:lmax])
            mask.append([float(t >= 0 and rng.random() < 0.8) for t in token_turn[-1]])
        got = batch_token_advantages(torch.tensor(z), pad_credits(credits), torch.tensor(token_turn),
                                     torch.tensor(mask))
        want = torch.tensor([slow_token_advantages(*args) for args in zip(z, credits, token_turn, mask)])
        assert got.shape == (b, lmax)
        assert torch.allclose(got, want.to(got.dtype), rtol=1e-5, atol=1e-5)
        for i in range(b):
            single = token_advantages(z[i], credits[i], torch.tensor(token_turn[i]), torch.tensor(mask[i]))
            assert torch.allclose(single, got[i])


# A group of 4 rollouts of one Function-Gym task: two successes, two failures with repeated answers.
GROUP = [
    (["action", "answer"], [0.0, 1.0]),
    (["answer", "answer", "answer"], [0.0, 0.0, 0.0]),
    (["action", "answer", "answer", "answer"], [0.0, 0.0, 0.0, 0.0]),
    (["answer", "action", "answer"], [0.0, 0.0, 1.0]),
]


def group_token_advantages(shaping: str, credit_name: str, score: str) -> list[torch.Tensor]:
    shaped = [SHAPERS.get(shaping)(c, r, user_choices=frozenset({"answer"}), params=ShapingParams())
              for c, r in GROUP]
    z, credits = compute_advantages(shaped, [0] * 4, credit=credit_name, score=score, gamma=0.8, k=2.0)
    out = []
    for zb, cb in zip(z, credits):
        token_turn = torch.tensor([-1, -1] + [t for t in range(len(cb)) for _ in range(3)])  # 2 prompt + 3/turn
        out.append(token_advantages(zb, cb, token_turn, (token_turn >= 0).float()))
    return out


def test_bao_vs_userrl_baseline_on_fixed_group():
    bao = group_token_advantages("bao", "r2g", "sum")
    base = group_token_advantages("none", "equalized", "r2g")
    userrl_r2g = group_token_advantages("none", "r2g", "r2g")
    failed = (1, 2)
    for b in failed:
        turns = slice(2, None)
        assert (bao[b][turns] < 0).all()  # BAO: every turn of a failed rollout is pushed down ...
        assert len(set(bao[b][turns].tolist())) > 1  # ... by its own penalty-to-go, not uniformly
        assert (base[b][turns] < 0).all() and len(set(base[b][turns].tolist())) == 1  # baseline: uniform z
        assert torch.equal(userrl_r2g[b], torch.zeros_like(userrl_r2g[b]))  # R2G credits w/o penalties: no signal
        assert not torch.allclose(bao[b], base[b])
    # the more-penalised failure (4 turns, 2 repeated answers: Σ = -0.46) ranks below the 3-turn one (-0.41)
    assert bao[2][2:].mean() < bao[1][2:].mean()
    for b in (0, 3):
        assert (bao[b][2:] >= 0).all() and (bao[b][2:] > 0).any()
    # exact value for one token: rollout 1 shaped [0, -.205, -.205], credits [-.2952, -.369, -.205]
    z = group_zscores([1.0, -0.41, -0.46, 1.0], [0] * 4)[1]
    c = [-0.2952, -0.369, -0.205]
    assert bao[1][2].item() == pytest.approx(z * c[0] * 9 / (3 * sum(c)), rel=1e-5)


def test_sum_score_rounded_to_4_decimals_like_bao_code():
    """BAO's ``compute_turn_credits`` scores a trajectory as ``round(sum(turn_rewards) / 1.0, 4)``: two failures
    whose penalties differ only in the fifth decimal tie, so the group's z-scores are exactly ±√3/2·σ/(σ+ε)."""
    group = [[0.0, 1.0], [0.0, -0.85 / 3], [0.0, -0.28334], [0.0, 0.0, 1.0]]  # -0.283333.. and -0.28334
    z, _ = compute_advantages(group, [0] * 4, credit="r2g", score="sum", gamma=0.8, k=2.0)
    sigma = math.sqrt(4 * (1.0 - 0.35835) ** 2 / 3)  # scores 1, -0.2833, -0.2833, 1: mean 0.35835
    want = math.sqrt(3) / 2 * sigma / (sigma + 1e-6)
    assert z[1] == z[2]
    assert z == pytest.approx([want, -want, -want, want], abs=1e-12)
    exact, _ = compute_advantages(group, [0] * 4, credit="r2g", score="sum", gamma=0.8, k=2.0, score_decimals=None)
    assert exact[1] > exact[2]  # unrounded, the smaller penalty ranks higher
    assert rounded_score(-0.85 / 3, 4) == -0.2833 and rounded_score(-0.85 / 3, None) == -0.85 / 3


def test_group_scores_without_std_are_dr_grpo():
    """``adv_norm: none``: z = S − group mean; a lone failure among successes gets −0.875, not −2.47."""
    scores = [1.0] * 7 + [0.0]
    z_none = group_zscores(scores, [0] * 8, scale="none")
    assert z_none == pytest.approx([0.125] * 7 + [-0.875])
    z_std = group_zscores(scores, [0] * 8)
    sigma = math.sqrt((7 * 0.125 ** 2 + 0.875 ** 2) / 7)  # 0.3536
    assert z_std[-1] == pytest.approx(-0.875 / (sigma + 1e-6)) and z_std[-1] < -2.4
    assert group_zscores([3.0, 2.0, 2.0], ["a", "b", "b"], scale="none") == [3.0, 0.0, 0.0]  # group of 1: S
    with pytest.raises(ValueError):
        group_zscores([1.0], [0], scale="mad")


def test_weight_negatives_scales_only_the_failures_side():
    """``rl.neg_weight``: a group of 7 successes and 1 failure (Dr. GRPO z = +0.125 x 7, −0.875) at 0.25 keeps
    the successes' +0.125 and moves the failure to −0.21875; 1 is GRPO unchanged; 0 drops the push entirely."""
    z = group_zscores([1.0] * 7 + [0.0], [0] * 8, scale="none")
    assert weight_negatives(z, 0.25) == pytest.approx([0.125] * 7 + [-0.21875])
    assert weight_negatives(z, 1.0) == z
    assert weight_negatives([-1.0, 0.0, 2.0], 0.0) == [0.0, 0.0, 2.0]
