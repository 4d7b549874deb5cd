"""Turn-credited multi-turn GRPO advantages (UserRL ``grpo_multiturn``, as used by BAO).

Source: UserRL/BAO ``core_algos.compute_turn_credits`` and ``compute_grpo_multiturn_advantage``, transcribed
in papers.md §4.2–4.3 and userrl_repo.md §4.3. Per rollout b of a prompt group:

1. shaped turn rewards r̂_t (``bao.rl.shaping``);
2. trajectory score S_b (``SCORES``): ``"sum"`` Σ r̂_t (BAO), ``"mean_sum"`` round(mean r̂_t, 4) (what the
   UserRL code calls "Sum"), ``"r2g"`` Σ γ^{t−1} r̂_t;
3. turn credits c_t (``CREDITS``): ``"equalized"`` 1, ``"r2g"`` reward-to-go, ``"em"`` exponential map;
   The score is then rounded to ``rl.score_decimals`` = 4 decimals (:func:`rounded_score`), as BAO's
   ``compute_turn_credits`` does with its Sum (``round(sum(turn_rewards) / 1.0, 4)``).
4. z_b = (S_b − μ_Q) / (σ_Q + 1e-6), σ unbiased (torch.std); a group of one uses μ=0, σ=1;
5. token i of turn t(i) with loss mask m_i: A_i = z_b · c_{t(i)} m_i · N_b / Σ_j c_{t(j)} m_j, N_b the number of
   tokens with non-zero c·m; A_b = 0 when Σ c·m == 0.

Step 5 divides by the *signed* sum, as the code does (papers.md reads it as A = z·c_t / mean_nonzero(c)).
Consequences: when all credits of a trajectory share one sign (every BAO trajectory: a success has c ≥ 0,
a penalised failure c ≤ 0) the factor c_t·N/Σc is positive, so every token's advantage has the sign of z_b
and is scaled by |c_t| / mean|c|. With mixed-sign credits (only possible with ``"reweight"`` shaping and R2G
credits) tokens with the minority sign flip, and a near-zero Σc inflates |A|; we keep the code's behaviour.

Our choice: scores, credits and z-scores are computed in float64 Python (the code uses float32 tensors).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable, Hashable, Sequence

import torch

from bao.registry import Registry

CreditFn = Callable[..., list[float]]
ScoreFn = Callable[..., float]
CREDITS: Registry[CreditFn] = Registry("turn credit")
SCORES: Registry[ScoreFn] = Registry("trajectory score")


# ---- turn credits: fn(rewards (T,), *, gamma, k) -> (T,) ---------------------------------------------------

@CREDITS.register("equalized")
def credit_equalized(rewards: Sequence[float], *, gamma: float, k: float) -> list[float]:
    """c_t = 1 (plain GRPO when combined with the token rescaling)."""
    return [1.0] * len(rewards)


@CREDITS.register("r2g")
def credit_r2g(rewards: Sequence[float], *, gamma: float, k: float) -> list[float]:
    """c_t = Σ_{j≥t} γ^{j−t} r̂_j, computed backwards like the code (c_T = r̂_T, c_t = r̂_t + γ c_{t+1})."""
    out = [0.0] * len(rewards)
    acc = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        acc = float(rewards[t]) + gamma * acc
        out[t] = acc
    return out


@CREDITS.register("em")
def credit_em(rewards: Sequence[float], *, gamma: float, k: float) -> list[float]:
    """c_t = round(0.5 + 0.5·(1 − e^{−k r̂_t}) / (1 − e^{−k}), 4); maps 0 → 0.5 and 1 → 1.0."""
    denom = 1.0 - math.exp(-k)
    return [round(0.5 + 0.5 * (1.0 - math.exp(-k * float(r))) / denom, 4) for r in rewards]


# ---- trajectory scores: fn(rewards (T,), *, gamma) -> float ------------------------------------------------

@SCORES.register("sum")
def score_sum(rewards: Sequence[float], *, gamma: float) -> float:
    """S = Σ r̂_t (BAO's "Sum")."""
    return float(sum(float(r) for r in rewards))


@SCORES.register("mean_sum")
def score_mean_sum(rewards: Sequence[float], *, gamma: float) -> float:
    """S = round(mean r̂_t, 4): UserRL code's "Sum" (longer trajectories are diluted)."""
    if not rewards:
        return 0.0
    return round(sum(float(r) for r in rewards) / len(rewards), 4)


@SCORES.register("r2g")
def score_r2g(rewards: Sequence[float], *, gamma: float) -> float:
    """S = Σ_t γ^{t−1} r̂_t (the first turn's reward-to-go)."""
    return credit_r2g(rewards, gamma=gamma, k=0.0)[0] if rewards else 0.0


def rounded_score(score: float, decimals: int | None) -> float:
    """The trajectory score as the group statistics see it (``rl.score_decimals``): BAO's code returns
    ``round(sum(turn_rewards) / 1.0, 4)``; ``None`` keeps the exact float."""
    return float(score) if decimals is None else round(float(score), decimals)


# ---- group normalisation -------------------------------------------------------------------------------

def group_zscores(scores: Sequence[float], group_ids: Sequence[Hashable], eps: float = 1e-6,
                  scale: str = "std") -> list[float]:
    """GRPO z-scores within groups sharing a prompt id, shape (B,) -> (B,).

    μ = group mean, σ = unbiased std (torch.std); z = (S − μ)/(σ + eps). A group of size 1 uses μ=0, σ=1,
    so z = S/(1+eps) (verl's convention). ``scale="none"`` (``rl.adv_norm``) drops the division: z = S − μ
    (Dr. GRPO, arXiv 2503.20783; a group of 1 keeps z = S), so a lone failure among successes is not inflated
    to |z| ≈ 2.5 by a small σ.
    """
    if scale not in ("std", "none"):
        raise ValueError(f"scale must be 'std' or 'none', got {scale!r}")
    if len(scores) != len(group_ids):
        raise ValueError(f"scores ({len(scores)}) and group_ids ({len(group_ids)}) differ in length")
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, g in enumerate(group_ids):
        members[g].append(i)
    z = [0.0] * len(scores)
    for idx in members.values():
        vals = [float(scores[i]) for i in idx]
        if len(vals) == 1:
            mu, sigma = 0.0, 1.0
        else:
            mu = sum(vals) / len(vals)
            sigma = math.sqrt(sum((v - mu) ** 2 for v in vals) / (len(vals) - 1))
        for i, v in zip(idx, vals):
            z[i] = (v - mu) / (sigma + eps) if scale == "std" else v - mu
    return z


def weight_negatives(z: Sequence[float], weight: float) -> list[float]:
    """``rl.neg_weight``: negative group advantages times ``weight``, positive ones unchanged, (B,) -> (B,).
    ``weight`` 1 is GRPO; 0 keeps only the pull towards each group's better rollouts."""
    return [float(v) * weight if v < 0 else float(v) for v in z]


# ---- token advantages ----------------------------------------------------------------------------------

def token_advantages(z: float, turn_credits: Sequence[float], token_turn: torch.Tensor,
                     loss_mask: torch.Tensor) -> torch.Tensor:
    """One trajectory's token advantages, shape (L,).

    ``token_turn`` (L,) long: the 0-based assistant turn of each token, −1 for tokens outside any turn
    (prompt, padding). ``loss_mask`` (L,): 1 on trained tokens, 0 on tool observations etc.
    value_i = c_{t(i)}·m_i; A_i = z · value_i · N / Σ value (0 everywhere when Σ value == 0).
    """
    credits = torch.tensor([float(c) for c in turn_credits], dtype=torch.float64)
    out = batch_token_advantages(torch.tensor([float(z)], dtype=torch.float64), credits[None],
                                 token_turn[None], loss_mask[None])
    return out[0]


def batch_token_advantages(z: torch.Tensor, credits: torch.Tensor, token_turn: torch.Tensor,
                           loss_mask: torch.Tensor) -> torch.Tensor:
    """Vectorised :func:`token_advantages` over a batch.

    Shapes: z (B,), credits (B, Tmax) padded (padding is never read if ``token_turn`` is right),
    token_turn (B, L) long with −1 outside turns, loss_mask (B, L). Returns (B, L) in the floating dtype of
    ``loss_mask`` (float32 if the mask is not floating).
    """
    out_dtype = loss_mask.dtype if loss_mask.is_floating_point() else torch.float32
    if credits.shape[1] == 0:
        return torch.zeros(token_turn.shape, dtype=out_dtype)
    if token_turn.numel() and int(token_turn.max()) >= credits.shape[1]:
        raise ValueError(f"token_turn refers to turn {int(token_turn.max())} but credits have {credits.shape[1]}")
    credits = credits.to(torch.float64)
    in_turn = token_turn >= 0
    per_token = torch.gather(credits, 1, token_turn.clamp_min(0).long())
    values = torch.where(in_turn, per_token, torch.zeros_like(per_token)) * loss_mask.to(torch.float64)
    total = values.sum(dim=1, keepdim=True)
    n_nonzero = (values != 0).sum(dim=1, keepdim=True).to(torch.float64)
    zero = total == 0
    scale = torch.where(zero, torch.zeros_like(total), n_nonzero / torch.where(zero, torch.ones_like(total), total))
    return (z.to(torch.float64)[:, None] * values * scale).to(out_dtype)


def compute_advantages(batch_rewards: list[list[float]], group_ids: Sequence[Hashable], *, credit: str,
                       score: str, gamma: float, k: float,
                       score_decimals: int | None = 4, adv_norm: str = "std") -> tuple[list[float], list[list[float]]]:
    """Shaped per-turn rewards of B trajectories -> (z-scores (B,), per-trajectory turn credits (B, T_b))."""
    score_fn, credit_fn = SCORES.get(score), CREDITS.get(credit)
    scores = [rounded_score(score_fn(r, gamma=gamma), score_decimals) for r in batch_rewards]
    credits = [credit_fn(r, gamma=gamma, k=k) for r in batch_rewards]
    return group_zscores(scores, group_ids, scale=adv_norm), credits


def pad_credits(credits: Sequence[Sequence[float]]) -> torch.Tensor:
    """Right-pad ragged turn credits with 0 into a (B, Tmax) float64 tensor for :func:`batch_token_advantages`."""
    t_max = max((len(c) for c in credits), default=0)
    out = torch.zeros(len(credits), t_max, dtype=torch.float64)
    for b, c in enumerate(credits):
        if c:
            out[b, :len(c)] = torch.tensor([float(x) for x in c], dtype=torch.float64)
    return out
