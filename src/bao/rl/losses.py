"""PPO clipped policy loss with verl's "token-mean" aggregation, no KL term by default (BAO/UserRL actor loss).

Source: papers.md §4.1 / §7.3 (clip ratio 0.2, ``loss_agg_mode=token-mean``, ``use_kl_loss=False``,
entropy_coeff 0) and verl ``core_algos.compute_policy_loss``. Departures (ours):

- verl also applies dual-clip (c = 3) to negative advantages; it is off by default here (``dual_clip=None``)
  and can be switched on with ``dual_clip=3.0``.
- ``approx_kl`` uses the k3 estimator (ρ − 1) − log ρ (non-negative, unbiased for KL(π_old‖π_new));
  verl logs the k1 estimate mean(logp_old − logp_new).
- The log-ratio is clamped to [−20, 20] before exp, as in verl, for numerical safety.
- :func:`kl_k3` is verl's ``low_var_kl`` for an optional KL loss to the RL start (``rl.kl_coef``; off in the
  paper's recipe).
"""

from __future__ import annotations

import torch


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Σ x·m / Σ m over ``dim`` (all elements when None); 0 where the mask is empty."""
    mask = mask.to(x.dtype)
    if dim is None:
        return (x * mask).sum() / mask.sum().clamp_min(1e-8)
    return (x * mask).sum(dim) / mask.sum(dim).clamp_min(1e-8)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Categorical entropy per position: logits (B, L, V) -> (B, L). H = logsumexp(z) − Σ softmax(z)·z."""
    probs = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (probs * logits).sum(dim=-1)


def kl_k3(logp: torch.Tensor, logp_ref: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(π ‖ π_ref) from samples of π: e^{δ} − δ − 1 with δ = logp_ref − logp,
    δ clamped to [−20, 20] and the result to [−10, 10] (verl's ``low_var_kl``). Non-negative, 0 where equal."""
    d = (logp_ref - logp).clamp(-20.0, 20.0)
    return (torch.exp(d) - d - 1.0).clamp(-10.0, 10.0)


def ppo_clip_loss(logp_new: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                  clip_eps: float = 0.2, dual_clip: float | None = None,
                  denom: float | None = None, clip_eps_high: float | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Token-mean PPO-clip loss.

    All inputs (B, L); ``mask`` is the loss mask (assistant tokens). Per token
    ℓ = −min(ρA, clip(ρ, 1−ε, 1+ε)A), ρ = exp(logp_new − logp_old); loss = Σ ℓ·m / Σ m, or Σ ℓ·m / ``denom``
    when given (the trainer passes the batch's token count / number of minibatches, so that a token's weight
    does not depend on which minibatch holds it).
    With ``dual_clip`` = c > 1, tokens with A < 0 use min(ℓ, −cA) (verl's dual-clip). ``clip_eps_high`` sets
    the upper bound 1+ε_high apart from the lower one (DAPO's clip-higher; None = symmetric).

    Returns (scalar loss with grad to ``logp_new``, stats): ``clip_frac`` share of masked tokens where the
    clipped branch is active (clipped loss strictly larger), ``approx_kl`` (k3), ``ratio_mean``.
    """
    log_ratio = (logp_new - logp_old).clamp(-20.0, 20.0)
    ratio = torch.exp(log_ratio)
    loss_unclipped = -advantages * ratio
    high = clip_eps if clip_eps_high is None else clip_eps_high
    loss_clipped = -advantages * ratio.clamp(1.0 - clip_eps, 1.0 + high)
    per_token = torch.maximum(loss_unclipped, loss_clipped)
    if dual_clip is not None:
        per_token = torch.where(advantages < 0, torch.minimum(per_token, -dual_clip * advantages), per_token)
    loss = masked_mean(per_token, mask) if denom is None else (per_token * mask).sum() / max(denom, 1e-8)
    with torch.no_grad():
        stats = {
            "clip_frac": float(masked_mean((loss_clipped > loss_unclipped).to(ratio.dtype), mask)),
            "approx_kl": float(masked_mean((ratio - 1.0) - log_ratio, mask)),
            "ratio_mean": float(masked_mean(ratio, mask)),
        }
    return loss, stats
