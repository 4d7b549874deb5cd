"""A chat model as the agent: native tool calls and Hermes text both drive the env through the same parser;
a reply without a tool call ends the episode; the eval CLI runs it from the config over a fake endpoint."""

import json
from pathlib import Path

import pytest
import yaml

from bao.agent.endpoint_agent import TOOL_SCHEMA, play
from bao.envs import make
from bao.envs.telepathy import EntityTask, KBSpec

FROG = EntityTask("t", "small red frog", "animal", ({"role": "system", "content": "s"},
                                                    {"role": "user", "content": "guess"}), "test",
                  attributes=(("size", "small"), ("color", "red"), ("kind", "frog")))


class FakeChat:
    def __init__(self, replies):
        self.replies, self.calls = list(replies), []

    def message(self, messages, tools=None, max_tokens=None):
        self.calls.append((json.loads(json.dumps(messages)), tools))
        return self.replies.pop(0)


def _native(choice, content):
    return {"role": "assistant", "content": "", "tool_calls": [{"id": "x", "type": "function", "function": {
        "name": "interact_with_env", "arguments": json.dumps({"choice": choice, "content": content})}}]}


def _env():
    return make("telepathy-proc-v0", kb=KBSpec(values_per_attribute=4))


def test_native_and_text_tool_calls_play_an_episode():
    chat = FakeChat([
        _native("action", "Is it red?"),
        {"role": "assistant", "content": '<tool_call>\n{"name": "interact_with_env", "arguments": '
                                         '{"choice": "answer", "content": "big red frog"}}\n</tool_call>'},
        _native("answer", "small red frog"),
    ])
    [ep] = play(chat, _env, [FROG])
    assert [t.choice for t in ep.turns] == ["action", "answer", "answer"]
    assert ep.turns[0].feedback == "Yes" and ep.end_reason == "success" and ep.total_reward == 1.0
    msgs, tools = chat.calls[-1]
    assert tools == [TOOL_SCHEMA]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert msgs[3]["content"] == "Yes" and msgs[3]["tool_call_id"] == msgs[2]["tool_calls"][0]["id"]


def test_malformed_call_is_feedback_and_no_call_ends():
    chat = FakeChat([_native("dance", "x"), {"role": "assistant", "content": "I give up."}])
    [ep] = play(chat, _env, [FROG])
    assert not ep.turns[0].valid and "Invalid tool call" in ep.turns[0].feedback
    assert ep.end_reason == "no_tool_call" and len(ep.turns) == 2


def test_eval_cli_runs_a_configured_agent(tmp_path, serve):
    from bao.eval.run import main
    from bao.io import read_json

    reply = {"choices": [{"message": _native("answer", "tiny red frog")}]}
    srv = serve([("raw", json.dumps(reply))] * 20)
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "config/config.yaml").read_text())
    raw["telepathy"]["n_test_tasks"] = 2
    raw["agents"] = {"chatbot": {"kind": "endpoint", "base_url": srv.url, "model": "m", "retries": 0,
                                 "cache_dir": str(tmp_path / "cache")}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    main(["--config", str(tmp_path / "c.yaml"), "--gym", "telepathy", "--agent", "chatbot", "--split", "test",
          "--method", "chatbot", "--seed", "0", "--out-dir", str(tmp_path / "out")])
    m = read_json(tmp_path / "out/metrics.json")
    assert m["n_episodes"] == 2 and m["user_rate"] == 1.0 and m["provenance"]["checkpoint"] == "agent:chatbot"
    assert srv.requests[0][1]["tools"][0]["function"]["name"] == "interact_with_env"


def test_agent_config_is_validated():
    from bao.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="agents.x: an endpoint needs base_url and model"):
        config_from_dict({"agents": {"x": {"kind": "endpoint"}}})
    with pytest.raises(ConfigError, match="clashes"):
        config_from_dict({"agents": {"bao": {"kind": "endpoint", "base_url": "u", "model": "m"}}})
