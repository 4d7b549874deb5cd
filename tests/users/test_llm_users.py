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
    assert "no LLM configured" in m["skipped"] and m["gym"] == "telepathy"


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

    with pytest.raises(ConfigError, match="users.eval: an endpoint needs base_url and model"):
        config_from_dict({"users": {"eval": {"kind": "endpoint"}}})
    with pytest.raises(ConfigError, match="users.train.kind"):
        config_from_dict({"users": {"train": {"kind": "gpt"}}})


# -- Turtle ------------------------------------------------------------------------------------------------
from bao.envs.turtle import PuzzleTask, load_original_stories  # noqa: E402
from bao.users.llm import LLMTurtleUser  # noqa: E402

NAILS = PuzzleTask("t", "The Broken Nails", "Author:", (), "test", bottom="A woman was strangled ...",
                   criteria=(("The husband strangled her.", 0.6), ("She clawed at the rope.", 0.4)))


@pytest.mark.parametrize("raw, scores, total", [
    ('{"scores": [1, 0.5], "feedback": "ok"}', (1.0, 0.5), 0.8),
    ('Here: {"scores": [0.9, 0.2]}', (1.0, 0.0), 0.6),     # snapped to {0, 0.5, 1}
    ('{"scores": [1]}', (), 0.0),                            # wrong count: unreadable
    ("garbage", (), 0.0),
])
def test_turtle_judge_weights_the_rubric_and_survives_garbage(raw, scores, total):
    user = LLMTurtleUser(Scripted([raw]))
    v = user.judge(NAILS, "her husband did it")
    assert v.criteria == scores and v.score == pytest.approx(total)
    sent = user.chat.seen[0][1]["content"]
    assert "1. The husband strangled her." in sent and "0.6" not in sent  # criteria without weights
    if scores == (1.0, 0.5):
        assert "The husband strangled her.: Covered" in v.feedback and "hidden twists" in v.feedback
    assert user.unreadable == (0 if scores else 1)


def test_faithful_turtle_gym_with_an_llm_judge():
    user = LLMTurtleUser(Scripted(["No", '{"scores": [1, 0]}', '{"scores": [1, 1]}']))
    env = make("turtle-v0", user=user)
    env.reset(options={"task": NAILS})
    assert env.step("[action] Was it suicide?")[0] == "No"
    assert env.step("[answer] her husband")[1] == pytest.approx(0.6)
    _, r, term, _, info = env.step("[answer] her husband, and she clawed at the rope")
    assert r == pytest.approx(0.4) and term and info["success"]


def test_original_stories_load(userrl_dir):
    test, train = load_original_stories(userrl_dir, "test"), load_original_stories(userrl_dir, "train")
    assert (len(train), len(test)) == (423, 48)
    t = test[0]
    assert t.title == "The Broken Nails" and t.bottom.startswith("A woman was frequently abused")
    assert 1 <= len(t.criteria) <= 5 and sum(w for _, w in t.criteria) == pytest.approx(1.0)
    assert all(sum(w for _, w in x.criteria) == pytest.approx(1.0) for x in train + test)


def test_rl_tasks_faithful_uses_the_original_train_split_and_the_training_user(tmp_path, userrl_dir, serve):
    """rl.tasks=faithful: RL draws from the original training entities (its last val_tasks held out for
    validation) and the env asks users.train, not users.eval."""
    import dataclasses

    from bao.gyms import GYMS
    from bao.rl.train import rl_tasks

    srv = serve([("ok", "Yes")])
    cfg, _ = _cfg_with_eval_user(tmp_path, userrl_dir, kind="endpoint", base_url="http://127.0.0.1:9/v1",
                                 model="eval-user")
    cfg = dataclasses.replace(
        cfg, rl=dataclasses.replace(cfg.rl, tasks="faithful", val_tasks=8),
        users=dataclasses.replace(cfg.users, train=dataclasses.replace(
            cfg.users.train, kind="endpoint", base_url=srv.url, model="train-user", retries=0,
            cache_dir=str(tmp_path / "cache"))))
    train, val, env_factory = rl_tasks(GYMS.get("telepathy"), cfg)
    originals = load_original_entities(userrl_dir, "train")
    assert [t.task_id for t in train + val] == [t.task_id for t in originals]
    assert len(val) == 8 and not {t.task_id for t in val} & {t.task_id for t in train}
    env = env_factory()
    env.reset(options={"task": train[0]})
    assert env.step("[action] Is it alive?")[0] == "Yes"
    assert [r[1]["model"] for r in srv.requests] == ["train-user"]


def test_rl_step_on_the_original_function_split(tmp_path, userrl_dir, small_cfg, tiny_model, tiny_tok):
    """One RL step on the original Function-Gym training rules (code-checked, no endpoint) runs end to end."""
    import yaml

    from bao.io import read_json
    from bao.policy.model import save_policy
    from bao.rl.train import main

    save_policy(tiny_model, tiny_tok, tmp_path / "init")
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "config/config.yaml").read_text())
    raw["data"]["userrl_dir"] = str(userrl_dir)
    raw["model"].update({k: getattr(small_cfg.model, k) for k in ("vocab_size", "hidden_size", "num_layers",
                                                                  "num_heads", "num_kv_heads", "intermediate_size")})
    raw["rl"].update(tasks="faithful", steps=1, tasks_per_step=2, group_size=2, num_minibatches=2,
                     max_new_tokens=16, max_episode_tokens=32, val_tasks=2, val_every=1)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    main(["--config", str(tmp_path / "c.yaml"), "--gym", "function", "--method", "bao", "--seed", "0",
          "--init", str(tmp_path / "init"), "--out", str(tmp_path / "ckpt"), "--metrics", str(tmp_path / "m.json"),
          "--curve", str(tmp_path / "curve.jsonl")])
    m = read_json(tmp_path / "m.json")
    assert m["steps"] == 1 and "val_score_after" in m
    row = json.loads((tmp_path / "curve.jsonl").read_text())
    assert row["rollout/n_episodes"] == 4


def test_judge_agreement_cases_and_counts():
    """The agreement benchmark's cases are right by the programmatic user, and a chat that always says Yes /
    accepts everything gets the hand-computed agreement: half the questions (the true-value ones), half the
    verdicts (the right answers)."""
    from bao.config import load_config
    from bao.users.agreement import measure

    class AlwaysYes:
        def complete(self, messages, max_tokens=None):
            system, user = messages[0]["content"], messages[-1]["content"]
            if "Criteria:" in user:  # the Turtle rubric: full marks on every criterion
                n = len(user.split("Criteria:\n")[1].split("\n\n")[0].splitlines())
                return '{"scores": [' + ", ".join(["1"] * n) + '], "feedback": "ok"}'
            if "JSON" in system:  # the Telepathy judge
                return '{"thought": "", "judgment": "Yes", "feedback": "Correct!"}'
            return "Yes"

    cfg = load_config("config/config.yaml")
    r = measure(cfg, AlwaysYes(), n=3, progress=False)
    for gym in ("telepathy", "turtle"):
        assert r[gym]["programmatic_question_accuracy"] == 1.0
        assert r[gym]["questions"] == 6 and r[gym]["answers"] == 6
        assert r[gym]["question_agreement"] == 0.5 and r[gym]["llm_replies"] == {"Yes": 6}
        assert r[gym]["llm_accepts_right_answer"] == 1.0 and r[gym]["llm_accepts_wrong_answer"] == 1.0
        assert r[gym]["verdict_agreement"] == 0.5 and r[gym]["unreadable"] == 0
