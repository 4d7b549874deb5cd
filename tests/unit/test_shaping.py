"""Turn reward shaping (bao.rl.shaping) against hand-computed cases and a literal twin of BAO's code.

Run: .venv/bin/python -m pytest tests/unit/test_shaping.py -q
"""

from __future__ import annotations

import random

import pytest

from bao.rl.shaping import (SHAPERS, ShapingParams, info_seeking_penalties, overthinking_penalties,
                            penalty_stats)

UC = frozenset({"answer"})
P = ShapingParams()


def shape(name: str, choices, rewards, params: ShapingParams = P) -> list[float]:
    return SHAPERS.get(name)(choices, rewards, user_choices=UC, params=params)


def reference_functiongym_reward_cal(conversation_history, penalize_over_length_coef=0.0,
                                     repeated_question_pen_coef=0.0):
    """Literal transcription of papers.md §3.2 (BAO core_algos.functiongym_reward_cal); do not tidy."""
    new_conversation_history = [dict(step) for step in conversation_history]
    turn_choices = [step["choice"] for step in conversation_history]
    turn_rewards = [step["reward"] for step in conversation_history]
    penalties = [0.0] * len(turn_choices)
    if sum(turn_rewards) <= 0 and repeated_question_pen_coef > 0:
        for i in range(1, len(turn_choices)):
            if turn_choices[i] == "answer" and turn_choices[i - 1] == "answer":
                penalties[i] = -1 * repeated_question_pen_coef
    if penalize_over_length_coef > 0 and sum(turn_rewards) == 0 and len(turn_rewards) < 15:
        total_penality = penalize_over_length_coef * (15 - len(turn_rewards)) + 0.2
        step_penality = total_penality / (len(turn_rewards) + 1)
        for i in range(1, len(turn_choices)):
            penalties[i] += -1 * step_penality
        if len(turn_choices) == 1:
            penalties[0] -= 0.5
    for i in range(len(new_conversation_history)):
        new_conversation_history[i]["functiongym_reward"] = new_conversation_history[i]["reward"] + penalties[i]
    return new_conversation_history


def test_failed_four_turns_hand_computed():
    choices = ["action", "answer", "answer", "answer"]
    # info: idx 2, 3 -> -0.005; P = 0.05*(15-4)+0.2 = 0.75; per turn 0.75/5 = 0.15 on idx 1..3
    assert shape("bao", choices, [0, 0, 0, 0]) == pytest.approx([0.0, -0.15, -0.155, -0.155])
    assert shape("bao_no_info", choices, [0, 0, 0, 0]) == pytest.approx([0.0, -0.15, -0.15, -0.15])
    assert shape("bao_no_overthink", choices, [0, 0, 0, 0]) == pytest.approx([0.0, 0.0, -0.005, -0.005])
    assert info_seeking_penalties(choices, [0] * 4, user_choices=UC, params=P) == [0.0, 0.0, -0.005, -0.005]
    assert overthinking_penalties(choices, [0] * 4, params=P) == pytest.approx([0.0, -0.15, -0.15, -0.15])


def test_single_turn_failure_gets_minus_half():
    assert shape("bao", ["answer"], [0.0]) == [-0.5]
    assert shape("bao", [None], [0.0]) == [-0.5]


def test_success_is_untouched():
    choices, rewards = ["answer", "answer", "answer"], [0.0, 0.0, 1.0]
    assert shape("bao", choices, rewards) == [0.0, 0.0, 1.0]


def test_no_overthinking_at_or_beyond_horizon():
    choices = ["answer"] * 15
    out = shape("bao", choices, [0.0] * 15)
    assert out == pytest.approx([0.0] + [-0.005] * 14)  # info only
    short = ShapingParams(t_pen=4)
    assert shape("bao_no_info", ["action"] * 4, [0.0] * 4, short) == [0.0] * 4
    assert shape("bao_no_info", ["action"] * 3, [0.0] * 3, short) == pytest.approx([0.0, -0.0625, -0.0625])


def test_none_choice_breaks_a_run_of_answers():
    out = shape("bao_no_overthink", ["answer", None, "answer", "answer"], [0.0] * 4)
    assert out == pytest.approx([0.0, 0.0, 0.0, -0.005])


def test_empty_trajectory():
    for name in SHAPERS.names():
        assert shape(name, [], []) == []


def test_none_and_reweight():
    choices, rewards = ["action", "answer", "answer", "search", "answer"], [0, 0, 0, 0, 1.0]
    assert shape("none", choices, rewards) == [0, 0, 0, 0, 1.0]
    rw = ShapingParams(reweight_w=0.1)
    assert shape("reweight", choices, rewards, rw) == pytest.approx([0.0, -0.1, -0.1, 0.0, 0.9])
    assert shape("reweight", choices, [0.0] * 5, rw) == pytest.approx([0.0, -0.1, -0.1, 0.0, -0.1])


def test_failed_rule_and_bad_params():
    # a negative-sum trajectory: code's over-thinking needs Σr == 0 exactly; "nonpositive" fires anyway
    assert shape("bao_no_info", ["action", "action"], [0.0, -1.0]) == [0.0, -1.0]
    out = shape("bao_no_info", ["action", "action"], [0.0, -1.0], ShapingParams(failed_rule="nonpositive"))
    assert out == pytest.approx([0.0, -1.0 - (0.05 * 13 + 0.2) / 3])
    with pytest.raises(ValueError):
        ShapingParams(failed_rule="whatever")
    with pytest.raises(ValueError):
        shape("bao", ["answer"], [0.0, 1.0])
    with pytest.raises(KeyError, match="registered"):
        SHAPERS.get("nope")


def test_below_threshold_rule_keeps_penalties_on_for_partial_scores():
    # Turtle: improvement rewards summing to a partial score 0.5 < threshold 1.0
    choices, rewards = ["action", "answer", "answer"], [0.0, 0.5, 0.0]
    assert shape("bao", choices, rewards) == rewards  # the code's rule: Σr > 0 switches both penalties off
    bt = ShapingParams(failed_rule="below_threshold", success_threshold=1.0)
    step = (0.05 * (15 - 3) + 0.2) / 4  # hand-computed over-thinking share: 0.2
    assert shape("bao", choices, rewards, bt) == pytest.approx([0.0, 0.5 - step, 0.0 - step - 0.005])
    done = ShapingParams(failed_rule="below_threshold", success_threshold=0.5)
    assert shape("bao", choices, rewards, done) == rewards  # reached the bar: not failed
    # binary gyms: identical to the code's rule
    for r in ([0.0, 0.0, 0.0], [0.0, 0.0, 1.0]):
        assert shape("bao", choices, r, bt) == shape("bao", choices, r)


def test_penalty_stats():
    choices, rewards = ["action", "answer", "answer", "answer"], [0.0] * 4
    s = penalty_stats(choices, rewards, shape("bao", choices, rewards))
    assert s == {"info_seeking_fired": 2.0, "overthinking_fired": 1.0, "penalty_sum": pytest.approx(-0.46)}
    s = penalty_stats(choices, rewards, shape("bao_no_info", choices, rewards))
    assert (s["info_seeking_fired"], s["overthinking_fired"]) == (0.0, 1.0)
    s = penalty_stats(choices, rewards, shape("bao_no_overthink", choices, rewards))
    assert (s["info_seeking_fired"], s["overthinking_fired"]) == (2.0, 0.0)
    s = penalty_stats(choices, rewards, shape("none", choices, rewards))
    assert s == {"info_seeking_fired": 0.0, "overthinking_fired": 0.0, "penalty_sum": 0.0}
    s = penalty_stats(["answer"], [1.0], shape("bao", ["answer"], [1.0]))
    assert (s["info_seeking_fired"], s["overthinking_fired"]) == (0.0, 0.0)


def test_matches_literal_reference_on_random_histories():
    rng = random.Random(0)
    vocab = ["action", "search", "answer", None]
    for _ in range(800):
        n = rng.randint(0, 20)
        choices = [rng.choice(vocab) for _ in range(n)]
        p_one = rng.choice([0.0, 0.05, 0.3])
        rewards = [1.0 if rng.random() < p_one else 0.0 for _ in range(n)]
        hist = [{"choice": c, "reward": r} for c, r in zip(choices, rewards)]
        full = [h["functiongym_reward"] for h in reference_functiongym_reward_cal(hist, 0.05, 0.005)]
        only_len = [h["functiongym_reward"] for h in reference_functiongym_reward_cal(hist, 0.05, 0.0)]
        only_rep = [h["functiongym_reward"] for h in reference_functiongym_reward_cal(hist, 0.0, 0.005)]
        assert shape("bao", choices, rewards) == pytest.approx(full, abs=1e-12)
        assert shape("bao_no_info", choices, rewards) == pytest.approx(only_len, abs=1e-12)
        assert shape("bao_no_overthink", choices, rewards) == pytest.approx(only_rep, abs=1e-12)
        assert shape("none", choices, rewards) == rewards
        stats = penalty_stats(choices, rewards, full)
        assert stats["overthinking_fired"] == float(sum(rewards) == 0 and 0 < n < 15)
