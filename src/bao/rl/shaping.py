"""Turn-level reward shaping: r̂_t = r_t + p_t (BAO's two behaviour regularizers and baselines).

Source: BAO's released ``verl/trainer/ppo/core_algos.py::functiongym_reward_cal`` as transcribed in
papers.md §3.2. Every shaper maps one trajectory's per-turn tool choices and raw env rewards to shaped
per-turn rewards of the same length; all functions are pure.

Departures / choices (ours):

- The code hard-codes ``"answer"`` as the user-involved choice and 15 as the horizon; here they are
  ``user_choices`` and ``params.t_pen`` (defaults reproduce Function-Gym: ``{"answer"}``, 15).
- ``params.failed_rule``: ``"zero_reward"`` is the code exactly (info-seeking fires when Σr <= 0,
  over-thinking when Σr == 0); ``"nonpositive"`` uses Σr <= 0 for both (identical for the
  non-negative rewards of our gyms); ``"below_threshold"`` calls a trajectory failed when Σr (= the best
  score, for Turtle's improvement rewards) stays below ``params.success_threshold``, so partial Turtle scores
  do not switch the penalties off. For binary gyms all three agree.
- ``"reweight"`` (−w on every user-involved turn, every trajectory) is our explicit-reweighting baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from bao.registry import Registry

Shaper = Callable[..., list[float]]
SHAPERS: Registry[Shaper] = Registry("reward shaping")

FAILED_RULES = ("zero_reward", "nonpositive", "below_threshold")


@dataclass(frozen=True)
class ShapingParams:
    c_rep: float = 0.005
    """info-seeking penalty per redundant user-involved turn (``repeated_question_pen_coef``)."""
    c_len: float = 0.05
    """over-thinking coefficient per missing turn (``penalize_over_length_coef``)."""
    t_pen: int = 15
    """over-thinking horizon (hard-coded 15 in the code)."""
    reweight_w: float = 0.0
    """penalty per user-involved turn for the ``"reweight"`` baseline."""
    failed_rule: str = "zero_reward"
    """see module docstring."""
    success_threshold: float = 1.0
    """the ``below_threshold`` rule's bar (the gym's success threshold)."""

    def __post_init__(self) -> None:
        if self.failed_rule not in FAILED_RULES:
            raise ValueError(f"failed_rule must be one of {FAILED_RULES}, got {self.failed_rule!r}")


def failed(rewards: Sequence[float], params: ShapingParams, *, branch: str) -> bool:
    """Is the trajectory failed for the penalty ``branch`` (``info`` or ``overthink``) under the rule?"""
    total = sum(rewards)
    if params.failed_rule == "below_threshold":
        return total < params.success_threshold - 1e-9
    if params.failed_rule == "zero_reward" and branch == "overthink":
        return total == 0
    return total <= 0


def info_seeking_penalties(choices: Sequence[str | None], rewards: Sequence[float], *,
                           user_choices: frozenset[str], params: ShapingParams) -> list[float]:
    """Per-turn info-seeking penalties, shape (T',).

    −c_rep on each user-involved turn whose previous turn was also user-involved, only when the trajectory
    failed (code: Σr <= 0). Code: branch (A) of ``functiongym_reward_cal``.
    """
    pen = [0.0] * len(choices)
    if not failed(rewards, params, branch="info") or params.c_rep <= 0:  # the code guards on the coefficient too
        return pen
    for i in range(1, len(choices)):
        if choices[i] in user_choices and choices[i - 1] in user_choices:
            pen[i] = -params.c_rep
    return pen


def overthinking_penalties(choices: Sequence[str | None], rewards: Sequence[float], *,
                           params: ShapingParams) -> list[float]:
    """Per-turn over-thinking penalties, shape (T',).

    For a failed trajectory that ended before ``t_pen`` turns: P = c_len·(t_pen − T') + 0.2, −P/(T'+1) on
    turns 2..T' (indices 1..T'−1); a one-turn trajectory gets −0.5 instead. Code: branch (B).
    """
    n = len(choices)
    pen = [0.0] * n
    if params.c_len <= 0 or not failed(rewards, params, branch="overthink") or n == 0 or n >= params.t_pen:
        return pen
    step = (params.c_len * (params.t_pen - n) + 0.2) / (n + 1)
    for i in range(1, n):
        pen[i] = -step
    if n == 1:
        pen[0] = -0.5
    return pen


def _add(rewards: Sequence[float], *penalties: list[float]) -> list[float]:
    return [float(r) + sum(p[i] for p in penalties) for i, r in enumerate(rewards)]


def _check(choices: Sequence[str | None], rewards: Sequence[float]) -> None:
    if len(choices) != len(rewards):
        raise ValueError(f"choices ({len(choices)}) and rewards ({len(rewards)}) differ in length")


@SHAPERS.register("none")
def shape_none(choices: Sequence[str | None], rewards: Sequence[float], *, user_choices: frozenset[str],
               params: ShapingParams) -> list[float]:
    """Identity: UserRL baseline (raw env rewards)."""
    _check(choices, rewards)
    return [float(r) for r in rewards]


@SHAPERS.register("bao")
def shape_bao(choices: Sequence[str | None], rewards: Sequence[float], *, user_choices: frozenset[str],
              params: ShapingParams) -> list[float]:
    """BAO: info-seeking + over-thinking penalties (papers.md §3.2)."""
    _check(choices, rewards)
    return _add(rewards, info_seeking_penalties(choices, rewards, user_choices=user_choices, params=params),
                overthinking_penalties(choices, rewards, params=params))


@SHAPERS.register("bao_no_info")
def shape_bao_no_info(choices: Sequence[str | None], rewards: Sequence[float], *, user_choices: frozenset[str],
                      params: ShapingParams) -> list[float]:
    """Ablation: over-thinking penalty only."""
    _check(choices, rewards)
    return _add(rewards, overthinking_penalties(choices, rewards, params=params))


@SHAPERS.register("bao_no_overthink")
def shape_bao_no_overthink(choices: Sequence[str | None], rewards: Sequence[float], *,
                           user_choices: frozenset[str], params: ShapingParams) -> list[float]:
    """Ablation: info-seeking penalty only."""
    _check(choices, rewards)
    return _add(rewards, info_seeking_penalties(choices, rewards, user_choices=user_choices, params=params))


@SHAPERS.register("reweight")
def shape_reweight(choices: Sequence[str | None], rewards: Sequence[float], *, user_choices: frozenset[str],
                   params: ShapingParams) -> list[float]:
    """Explicit-reweighting baseline (ours): −reweight_w on every user-involved turn, success or not."""
    _check(choices, rewards)
    return [float(r) - (params.reweight_w if c in user_choices else 0.0) for c, r in zip(choices, rewards)]


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b))


def penalty_stats(choices: Sequence[str | None], rewards: Sequence[float], shaped: Sequence[float], *,
                  user_choices: frozenset[str] = frozenset({"answer"}),
                  params: ShapingParams = ShapingParams()) -> dict[str, float]:
    """Which regularizers actually fired in ``shaped`` (for logging).

    The applied penalty p = shaped − rewards is matched against the info-seeking vector i and the
    over-thinking vector o recomputed with ``params``: info fired iff p ∈ {i, i+o} (counted per penalised
    turn), over-thinking fired iff o ≠ 0 and p ∈ {o, i+o}. This reads the ablation shapers correctly
    without knowing their name; under ``"none"``/``"reweight"`` both are 0 (p matches neither).

    Returns ``{"info_seeking_fired": count, "overthinking_fired": 0|1, "penalty_sum": Σp}``.
    """
    _check(choices, rewards)
    p = [s - r for s, r in zip(shaped, rewards)]
    i = info_seeking_penalties(choices, rewards, user_choices=user_choices, params=params)
    o = overthinking_penalties(choices, rewards, params=params)
    both = [a + b for a, b in zip(i, o)]
    has_i, has_o = any(i), any(o)
    info_on = has_i and (_close(p, i) or _close(p, both))
    over_on = has_o and (_close(p, o) or _close(p, both))
    return {"info_seeking_fired": float(sum(1 for x in i if x != 0) if info_on else 0),
            "overthinking_fired": float(over_on),
            "penalty_sum": float(sum(p))}
