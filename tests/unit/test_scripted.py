"""Scripted reference policies: guess-spam only answers (after Function's free test-case search) and is
recorded like a model's episodes."""

import pytest

from bao.agent.scripted import SCRIPTED, play
from bao.config import ConfigError, config_from_dict
from bao.eval.metrics import summarize
from bao.gyms import GYMS


@pytest.mark.parametrize("gym", ["function", "telepathy", "turtle"])
def test_guess_spam_spends_every_turn_on_the_user(small_cfg, gym):
    g = GYMS.get(gym)
    tasks = g.tasks(small_cfg, "test", n=12)
    eps = play(g.env_factory(small_cfg, "test"), tasks, SCRIPTED.get("guess_spam")(small_cfg, gym))
    assert len(eps) == 12
    for ep in eps:
        body = ep.turns[1:] if gym == "function" else ep.turns
        assert all(t.choice == "answer" and t.user_involved for t in body)
        assert ep.end_reason in ("success", "horizon", "finish")
        if gym == "turtle":  # improvement rewards add up to the best rubric score
            assert ep.total_reward == pytest.approx(1.0) if ep.end_reason == "success" else ep.total_reward < 1.0
        else:
            assert ep.total_reward == (1.0 if ep.end_reason == "success" else 0.0)
    m = summarize(eps, range(1, 10))
    assert m["user_rate"] > 0.5 and 0.0 <= m["score"] <= 1.0
    again = play(g.env_factory(small_cfg, "test"), tasks, SCRIPTED.get("guess_spam")(small_cfg, gym))
    assert [e.to_dict() for e in again] == [e.to_dict() for e in eps]


def test_function_guess_spam_tries_the_most_common_value_first(small_cfg):
    g = GYMS.get("function")
    task = g.tasks(small_cfg, "test", n=1)[0]
    first = list(SCRIPTED.get("guess_spam")(small_cfg, "function")(task))[:2]
    assert first[0] == ("search", "test") and first[1][0] == "answer"


def test_unknown_scripted_policy_is_a_config_error():
    with pytest.raises(ConfigError, match="eval.scripted"):
        config_from_dict({"eval": {"scripted": ["oracle"]}})
    with pytest.raises(ConfigError, match="clashing"):
        config_from_dict({"eval": {"scripted": ["guess_spam"]}, "methods": {"guess_spam": {}}})
