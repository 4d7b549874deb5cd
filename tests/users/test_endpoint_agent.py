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
    srv = serve([("raw", json.dumps(reply))] * 30)  # 2 episodes x 12 turns, played at once
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


def test_many_episodes_in_flight_lose_nothing_and_keep_the_cache_consistent(tmp_path):
    """24 episodes, 8 at a time, against a real HTTP endpoint whose replies depend only on each request (with a
    random delay, so requests interleave): the episodes equal a one-at-a-time run's, in task order, none lost or
    duplicated; at most 8 requests were ever in flight (and more than 1); every cache file is whole and the
    counters match the server's; a rerun over the cache sends nothing and gives the same episodes."""
    import random
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bao.users.endpoint import ChatEndpoint, EndpointSettings

    state = {"in_flight": 0, "max": 0, "requests": 0}
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state["in_flight"] += 1
                state["max"] = max(state["max"], state["in_flight"])
                state["requests"] += 1
            time.sleep(random.uniform(0.005, 0.03))
            n_tool = sum(m["role"] == "tool" for m in body["messages"])
            guess = body["messages"][1]["content"].split("|")[1]  # each task names its own (possibly wrong) guess
            msg = _native("action", "Is it red?") if n_tool == 0 else _native("answer", guess)
            payload = json.dumps({"choices": [{"message": msg}],
                                  "usage": {"prompt_tokens": 3, "completion_tokens": 1}}).encode()
            with lock:
                state["in_flight"] -= 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    guesses = ["small red frog", "big red frog", "tiny blue frog"]
    tasks = [EntityTask(f"t{i}", FROG.target, "animal", ({"role": "system", "content": "s"},
                                                          {"role": "user", "content": f"guess|{guesses[i % 3]}|{i}"}),
                        "test", attributes=FROG.attributes) for i in range(24)]

    def client(cache):
        return ChatEndpoint(EndpointSettings(base_url=url, model="m", retries=0, cache_dir=str(cache)))

    try:
        chat = client(tmp_path / "cache")
        parallel = play(chat, _env, tasks, workers=8)
        assert 1 < state["max"] <= 8
        assert [e.task_id for e in parallel] == [t.task_id for t in tasks]
        n_turns = sum(len(e.turns) for e in parallel)  # one request a turn, every request distinct
        assert chat.stats.calls == state["requests"] == n_turns == chat.stats.completion_tokens
        files = sorted((tmp_path / "cache").rglob("*.json"))
        assert len(files) == n_turns and not list((tmp_path / "cache").rglob("*.tmp"))
        assert all(set(json.loads(f.read_text())) == {"request", "reply"} for f in files)

        serial = play(client(tmp_path / "cache2"), _env, tasks, workers=1)
        key = [[(t.choice, t.content, t.reward, t.feedback) for t in e.turns] + [e.end_reason] for e in parallel]
        assert key == [[(t.choice, t.content, t.reward, t.feedback) for t in e.turns] + [e.end_reason]
                       for e in serial]
        assert [e.end_reason for e in parallel[:3]] == ["success", "horizon", "horizon"]

        before = state["requests"]
        again = client(tmp_path / "cache")
        assert [e.turns for e in play(again, _env, tasks, workers=8)] == [e.turns for e in parallel]
        assert state["requests"] == before and again.stats.cache_hits == n_turns
    finally:
        httpd.shutdown()


def test_tools_reach_a_chat_template_without_tool_support():
    """SmolLM2's template ignores ``tools``: the tool schema and the episode's calls / results are then written into
    the plain messages (Hermes convention), so a zero-shot model sees the same task a tool-aware template shows."""
    from bao.agent.endpoint_agent import TOOL_SCHEMA
    from bao.users.llm import hermes_tool_messages

    history = [{"role": "system", "content": "Game rules."},
               {"role": "user", "content": "Begin."},
               {"role": "assistant", "content": "<think>probe</think>", "tool_calls": [
                   {"id": "c0", "type": "function", "function": {
                       "name": "interact_with_env", "arguments": '{"choice": "action", "content": "1 2 3 4"}'}}]},
               {"role": "tool", "tool_call_id": "c0", "content": "f(1, 2, 3, 4) = 5"}]
    out = hermes_tool_messages(history, [TOOL_SCHEMA])
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"].startswith("Game rules.\n\n") and '"interact_with_env"' in out[0]["content"]
    assert "<tools>" in out[0]["content"] and "<tool_call>" in out[0]["content"]
    assert out[2]["content"] == ('<think>probe</think>\n<tool_call>\n{"name": "interact_with_env", "arguments": '
                                 '{"choice": "action", "content": "1 2 3 4"}}\n</tool_call>')
    assert out[3]["content"] == "<tool_response>\nf(1, 2, 3, 4) = 5\n</tool_response>"
    assert all(set(m) == {"role", "content"} for m in out)
    # without a system message the tool block becomes one
    assert hermes_tool_messages([{"role": "user", "content": "hi"}], [TOOL_SCHEMA])[0]["role"] == "system"
