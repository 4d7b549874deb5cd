"""Evaluation metrics: pure functions of a list of :class:`bao.types.Episode`.

Sources and choices:

- ``score``: mean over episodes of Σ raw turn rewards (UserRL ``analyze.py`` non-travel score; BAO "Score").
- ``pass_at_u``: BAO's Pass@U-k (papers.md §5), "pass rate using at most k user-involved actions". Our
  definition: the best cumulative raw reward over prefixes that stop before the (k+1)-th user-involved turn
  (the empty prefix counts as 0); for binary gyms this is "solved within k answers".
- ``user_rate``: BAO's UR, U(τ)/T' averaged over episodes (papers.md §5 [I]; T' counts invalid turns;
  a 0-turn episode contributes 0).
- ``reward_translation_rate``: share of user-involved actions with non-zero raw reward, pooled over
  episodes (papers.md §5 [I]).
- ``effective_turns``: UserRL Table 4 "number of turns before the last nonzero reward"; our reading: the
  1-based index of the last turn with non-zero raw reward (0 if none), averaged.
- ``time_weighted_performance``: UserRL Table 4 "reward at turn i weighted 1/(i+1) and summed"; our
  reading: i is the 1-based turn index (first turn weighted 1/2), summed per episode, averaged.
- ``invalid_call_rate``: invalid turns / all turns, pooled.
- ``success_rate``: share of episodes with Σ reward > 0.

Empty episode lists give 0.0 for every mean.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from bao.types import Episode


def _mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else 0.0


def score(eps: Sequence[Episode]) -> float:
    return _mean([e.total_reward for e in eps])


def success_rate(eps: Sequence[Episode]) -> float:
    return _mean([float(e.total_reward > 0) for e in eps])


def _pass_curve(ep: Episode, k_max: int) -> list[float]:
    """best[k] for k = 0..k_max: best cumulative reward before the (k+1)-th user-involved turn."""
    best = [0.0] * (k_max + 1)
    cum, seen, running_best = 0.0, 0, 0.0
    for turn in ep.turns:
        if turn.user_involved:
            best[seen] = running_best  # prefixes before this turn use `seen` user actions
            seen += 1
            if seen > k_max:
                break
        cum += turn.reward
        running_best = max(running_best, cum)
    for k in range(min(seen, k_max + 1), k_max + 1):
        best[k] = running_best
    return best


def pass_at_u(eps: Sequence[Episode], ks: Iterable[int] = range(1, 10)) -> dict[int, float]:
    """{k: mean over episodes of the best cumulative reward using at most k user-involved actions}."""
    ks = list(ks)
    if not ks:
        return {}
    if min(ks) < 0:
        raise ValueError(f"k must be >= 0, got {min(ks)}")
    curves = [_pass_curve(e, max(ks)) for e in eps]
    return {k: _mean([c[k] for c in curves]) for k in ks}


def user_rate(eps: Sequence[Episode]) -> float:
    return _mean([e.num_user_actions / len(e.turns) if e.turns else 0.0 for e in eps])


def mean_user_actions(eps: Sequence[Episode]) -> float:
    return _mean([float(e.num_user_actions) for e in eps])


def mean_turns(eps: Sequence[Episode]) -> float:
    return _mean([float(len(e.turns)) for e in eps])


def invalid_call_rate(eps: Sequence[Episode]) -> float:
    n = sum(len(e.turns) for e in eps)
    return sum(1 for e in eps for t in e.turns if not t.valid) / n if n else 0.0


def effective_turns(eps: Sequence[Episode]) -> float:
    def last_nonzero(e: Episode) -> int:
        return max((i + 1 for i, t in enumerate(e.turns) if t.reward != 0), default=0)

    return _mean([float(last_nonzero(e)) for e in eps])


def time_weighted_performance(eps: Sequence[Episode]) -> float:
    return _mean([sum(t.reward / (i + 2) for i, t in enumerate(e.turns)) for e in eps])  # i+2 = (1-based i)+1


def reward_translation_rate(eps: Sequence[Episode]) -> float:
    user_turns = [t for e in eps for t in e.turns if t.user_involved]
    return sum(1 for t in user_turns if t.reward != 0) / len(user_turns) if user_turns else 0.0


def question_diagnostics(eps: Sequence[Episode], targets: dict[str, str], refusals: Iterable[str]) -> dict:
    """How questions are used (Telepathy/Turtle): the share of questions (``action`` turns) that name the
    task's target (``targets``: task id -> name; a guess verified for free on the faithful gyms) and the share
    the user refused as guesses in disguise (feedback in ``refusals``, the embedded gyms)."""
    refusals = set(refusals)
    qs = [(e.task_id, t) for e in eps for t in e.turns if t.choice == "action"]
    named = sum(1 for tid, t in qs if targets.get(tid) and targets[tid].lower() in (t.content or "").lower())
    refused = sum(1 for _, t in qs if t.feedback in refusals)
    n = len(qs)
    return {"questions_per_episode": n / len(eps) if eps else 0.0,
            "question_names_target_rate": named / n if n else 0.0,
            "question_refused_rate": refused / n if n else 0.0}


def end_reason_counts(eps: Sequence[Episode]) -> dict[str, int]:
    return dict(Counter(e.end_reason for e in eps))


def summarize(eps: Sequence[Episode], ks: Iterable[int] = range(1, 10)) -> dict[str, float]:
    """All metrics as one flat dict (``end_reason/<r>`` are fractions of episodes)."""
    out: dict[str, float] = {
        "n_episodes": float(len(eps)),
        "score": score(eps),
        "success_rate": success_rate(eps),
    }
    out.update({f"pass_at_u/{k}": v for k, v in pass_at_u(eps, ks).items()})
    out.update({
        "user_rate": user_rate(eps),
        "mean_user_actions": mean_user_actions(eps),
        "mean_turns": mean_turns(eps),
        "invalid_call_rate": invalid_call_rate(eps),
        "effective_turns": effective_turns(eps),
        "time_weighted_performance": time_weighted_performance(eps),
        "reward_translation_rate": reward_translation_rate(eps),
    })
    out.update({f"end_reason/{r}": c / len(eps) for r, c in sorted(end_reason_counts(eps).items())})
    return out
