"""The faithful Telepathy user/judge over a chat backend: prompts carry the entity, replies are normalised,
unreadable replies never crash, and it plugs into telepathy-v0 (also through the real endpoint client)."""

import json
from pathlib import Path

import pytest

from bao.envs import make
from bao.envs.telepathy import EntityTask, load_original_entities
from bao.users.endpoint import ChatEndpoint, EndpointSettings
from bao.users.llm import LLMTelepathyUser

KIWI = EntityTask("t", "Kiwi", "food", (), "test", description="Kiwi - a small, brown, fuzzy fruit")


class Scripted:
    def __init__(self, replies):
        self.replies, self.seen = list(replies), []

    def complete(self, messages, max_tokens=None):
        self.seen.append(messages)
        return self.replies.pop(0)


@pytest.mark.parametrize("raw, expected", [("Yes.", "Yes"), ("no", "No"), ("Maybe, hard to say", "Maybe"),
                                           ("I think the answer is yes", "Yes"), ("", "Maybe"), ("42", "Maybe")])
def test_question_replies_are_normalised(raw, expected):
    user = LLMTelepathyUser(Scripted([raw]))
    assert user.reply(KIWI, "Is it a fruit?") == expected
    assert user.unreadable == (1 if expected == "Maybe" and "maybe" not in raw.lower() else 0)
    sent = user.chat.seen[0]
    assert "Kiwi - a small, brown, fuzzy fruit" in sent[1]["content"] and "Is it a fruit?" in sent[1]["content"]


@pytest.mark.parametrize("raw, score", [
    ('{"thought": "same", "judgment": "Yes", "feedback": "Correct!"}', 1.0),
    ('Sure! ```json\n{"thought": "x", "judgment": "No", "feedback": "Not quite."}\n```', 0.0),
    ("not json at all", 0.0),
    ('{"judgment": "perhaps"}', 0.0),
])
def test_judge_reads_json_and_survives_garbage(raw, score):
    user = LLMTelepathyUser(Scripted([raw]))
    verdict = user.judge(KIWI, "kiwifruit")
    assert verdict.score == score and isinstance(verdict.feedback, str) and verdict.feedback
    assert user.unreadable == (1 if raw in ("not json at all", '{"judgment": "perhaps"}') else 0)


def test_faithful_gym_with_an_llm_user():
    user = LLMTelepathyUser(Scripted(["Yes", '{"judgment": "No", "feedback": "No."}',
                                      '{"judgment": "Yes", "feedback": "Yes!"}']))
    env = make("telepathy-v0", user=user)
    env.reset(options={"task": KIWI})
    assert env.step("[action] Is it a fruit?")[0] == "Yes"
    assert env.step("[answer] apple")[1] == 0.0
    _, r, term, _, info = env.step("[answer] kiwi")
    assert r == 1.0 and term and info["success"]


def test_llm_user_through_the_endpoint_client_and_its_cache(tmp_path, serve):
    srv = serve([("ok", "No"), ("ok", json.dumps({"judgment": "Yes", "feedback": "Right"}))])
    settings = EndpointSettings(base_url=srv.url, model="user", cache_dir=str(tmp_path), retries=0)
    user = LLMTelepathyUser(ChatEndpoint(settings))
    assert user.reply(KIWI, "Is it a vegetable?") == "No"
    assert user.judge(KIWI, "kiwi").score == 1.0
    replay = LLMTelepathyUser(ChatEndpoint(settings))  # same prompts: served from the cache
    assert replay.reply(KIWI, "Is it a vegetable?") == "No" and replay.chat.stats.cache_hits == 1
    assert len(srv.requests) == 2


def test_original_entities_load(userrl_dir):
    test = load_original_entities(userrl_dir, "test")
    train = load_original_entities(userrl_dir, "train")
    assert (len(train), len(test)) == (360, 41)
    t = test[0]
    assert t.target == "Kiwi" and t.category == "food" and t.description.startswith("Kiwi - ")
    assert [m["role"] for m in t.messages] == ["system", "user"]
    with pytest.raises(FileNotFoundError, match="telepathy_multiturn"):
        load_original_entities(Path("/nonexistent"), "test")


def _cfg_with_eval_user(tmp_path, userrl_dir, **user):
    import yaml

    from bao.config import config_from_dict

    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "config/config.yaml").read_text())
    raw["data"]["userrl_dir"] = str(userrl_dir)
    raw["telepathy"]["faithful_eval"] = True
    raw["users"]["eval"].update(user)
    raw["eval"]["faithful_max_tasks"] = 3
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(raw))
    return config_from_dict(raw), path


def test_faithful_split_without_a_user_is_skipped_with_the_reason(tmp_path, userrl_dir):
    from bao.eval.run import main
    from bao.io import read_json

    _, path = _cfg_with_eval_user(tmp_path, userrl_dir)
    main(["--config", str(path), "--gym", "telepathy", "--policy", "guess_spam", "--split", "faithful",
          "--method", "guess_spam", "--seed", "0", "--out-dir", str(tmp_path / "out")])
    m = read_json(tmp_path / "out/metrics.json")
    assert "no LLM user configured" in m["skipped"] and m["gym"] == "telepathy"


def test_faithful_split_over_an_endpoint_user(tmp_path, userrl_dir, serve):
    from bao.eval.run import main
    from bao.io import read_json

    no = json.dumps({"judgment": "No", "feedback": "No."})
    srv = serve([("ok", no)] * 200)
    _, path = _cfg_with_eval_user(tmp_path, userrl_dir, kind="endpoint", base_url=srv.url, model="judge",
                                  cache_dir=str(tmp_path / "cache"))
    main(["--config", str(path), "--gym", "telepathy", "--policy", "guess_spam", "--split", "faithful",
          "--method", "guess_spam", "--seed", "0", "--out-dir", str(tmp_path / "out")])
    m = read_json(tmp_path / "out/metrics.json")
    assert m["n_episodes"] == 3 and m["score"] == 0.0 and m["user_rate"] == 1.0
    assert len(srv.requests) == 3 * 12 and "Kiwi - " in srv.requests[0][1]["messages"][1]["content"]


def test_endpoint_user_without_url_is_a_config_error():
    from bao.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="users.eval: an endpoint user needs base_url and model"):
        config_from_dict({"users": {"eval": {"kind": "endpoint"}}})
    with pytest.raises(ConfigError, match="users.train.kind"):
        config_from_dict({"users": {"train": {"kind": "gpt"}}})
