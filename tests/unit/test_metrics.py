"""Evaluation metrics over hand-built episodes (bao.eval.metrics).

Run: .venv/bin/python -m pytest tests/unit/test_metrics.py -q
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bao.eval import metrics as M
from bao.types import Episode, Turn

USER = {"answer"}


def turn(choice: str | None, reward: float = 0.0, valid: bool = True) -> Turn:
    return Turn(choice=choice, content="x" if valid else None, valid=valid, reward=reward, feedback="",
                user_involved=choice in USER)


def episode(*turns: Turn, end_reason: str = "horizon") -> Episode:
    return Episode(task_id="t", turns=list(turns), end_reason=end_reason)


# success on the 2nd answer, with actions in between
SECOND = episode(turn("action"), turn("answer"), turn("search"), turn("answer", 1.0), end_reason="success")
# success on the 1st answer
FIRST = episode(turn("answer", 1.0), end_reason="success")
# failure: invalid call, two answers, an action
FAIL = episode(turn(None, valid=False), turn("answer"), turn("answer"), turn("action"), end_reason="no_tool_call")
EMPTY = episode(end_reason="prompt_too_long")


def test_pass_at_u_success_on_second_answer():
    p = M.pass_at_u([SECOND])
    assert p[1] == 0.0 and all(p[k] == 1.0 for k in range(2, 10))
    assert M.pass_at_u([SECOND], ks=[0]) == {0: 0.0}
    p = M.pass_at_u([SECOND, FIRST, FAIL, EMPTY], ks=[1, 2, 3])
    assert p == {1: 0.25, 2: 0.5, 3: 0.5}


def test_pass_at_u_graded_rewards_keeps_best_prefix():
    # Turtle-like increments: 0.3 on 1st answer, 0.5 more on 3rd
    ep = episode(turn("answer", 0.3), turn("action"), turn("answer"), turn("answer", 0.5))
    assert M.pass_at_u([ep], ks=[0, 1, 2, 3, 4]) == pytest.approx({0: 0.0, 1: 0.3, 2: 0.3, 3: 0.8, 4: 0.8})
    # a reward earned by a non-user turn after the k-th answer still counts for budget k
    ep = episode(turn("answer"), turn("search", 0.2), turn("answer", 1.0))
    assert M.pass_at_u([ep], ks=[1, 2]) == pytest.approx({1: 0.2, 2: 1.2})


def test_rates_and_counts():
    eps = [SECOND, FIRST, FAIL, EMPTY]
    assert M.score(eps) == 0.5 and M.success_rate(eps) == 0.5
    assert M.user_rate(eps) == pytest.approx((2 / 4 + 1 / 1 + 2 / 4 + 0) / 4)
    assert M.mean_turns(eps) == pytest.approx(9 / 4)
    assert M.mean_user_actions(eps) == pytest.approx(5 / 4)
    assert M.invalid_call_rate(eps) == pytest.approx(1 / 9)
    assert M.effective_turns(eps) == pytest.approx((4 + 1 + 0 + 0) / 4)
    assert M.time_weighted_performance(eps) == pytest.approx((1 / 5 + 1 / 2) / 4)
    assert M.reward_translation_rate(eps) == pytest.approx(2 / 5)
    assert M.end_reason_counts(eps) == {"success": 2, "no_tool_call": 1, "prompt_too_long": 1}
    for fn in (M.score, M.user_rate, M.invalid_call_rate, M.reward_translation_rate, M.effective_turns):
        assert fn([]) == 0.0


def test_summarize_keys():
    s = M.summarize([SECOND, FIRST, FAIL, EMPTY])
    expected = {"score", "success_rate", "user_rate", "mean_turns", "invalid_call_rate", "effective_turns",
                "time_weighted_performance", "reward_translation_rate", "mean_user_actions", "n_episodes"}
    expected |= {f"pass_at_u/{k}" for k in range(1, 10)}
    expected |= {"end_reason/success", "end_reason/no_tool_call", "end_reason/prompt_too_long"}
    assert set(s) == expected
    assert s["end_reason/success"] == 0.5 and s["n_episodes"] == 4.0
    assert s["pass_at_u/9"] == s["score"]  # every episode uses at most 9 answers
    assert all(isinstance(v, float) for v in s.values())


turns_st = st.builds(turn, st.sampled_from(["action", "search", "answer", None]),
                     st.sampled_from([0.0, 0.0, 1.0, 0.5, -0.2]), st.booleans())
episodes_st = st.lists(st.lists(turns_st, max_size=12).map(lambda ts: episode(*ts)), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(episodes_st)
def test_pass_at_u_is_non_decreasing_and_bounded(eps):
    p = M.pass_at_u(eps, ks=range(0, 14))
    vals = [p[k] for k in range(14)]
    assert all(a <= b + 1e-12 for a, b in zip(vals, vals[1:]))
    for k in (0, 1, 2, 5):  # brute force: best prefix holding at most k user-involved turns
        ref = [max([0.0] + [sum(t.reward for t in e.turns[:i + 1]) for i in range(len(e.turns))
                            if sum(t.user_involved for t in e.turns[:i + 1]) <= k]) for e in eps]
        assert p[k] == pytest.approx(sum(ref) / len(ref))
    # with budget >= every episode's answer count, it is the mean of each episode's best prefix
    best = [max([0.0] + [sum(t.reward for t in e.turns[:i + 1]) for i in range(len(e.turns))]) for e in eps]
    assert p[13] == pytest.approx(sum(best) / len(best))
    assert 0.0 <= M.user_rate(eps) <= 1.0


def test_question_diagnostics_hand_computed():
    from bao.eval.metrics import question_diagnostics

    def t(choice, content, feedback=""):
        return Turn(choice, content, True, 0.0, feedback, choice == "answer")

    eps = [Episode("a", [t("action", "Is it a Kiwi?", "Yes"), t("action", "Is it red?", "No"), t("answer", "kiwi")],
                   "success"),
           Episode("b", [t("action", "Is it a small red frog?", "REFUSED"), t("answer", "frog")], "horizon")]
    d = question_diagnostics(eps, {"a": "kiwi", "b": "small red frog"}, ["REFUSED"])
    assert d == {"questions_per_episode": 1.5, "question_names_target_rate": 2 / 3, "question_refused_rate": 1 / 3}
    assert question_diagnostics([], {}, [])["question_names_target_rate"] == 0.0
