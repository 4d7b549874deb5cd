"""The LLM teacher: enhanced keeps the model's reasoning as the think block, plain drops it, both record the
same actions through the env; the instruction is appended to the task's system prompt; teacher.source: llm
drives the teacher CLI on the original training tasks."""

import json
from pathlib import Path

import pytest
import yaml

from bao.agent.toolcall import parse_assistant
from bao.envs import make
from bao.envs.telepathy import EntityTask, KBSpec
from bao.teacher.llm_teacher import INSTRUCTIONS, generate

FROG = EntityTask("t", "small red frog", "animal", ({"role": "system", "content": "sys"},
                                                    {"role": "user", "content": "guess"}), "train",
                  attributes=(("size", "small"), ("color", "red"), ("kind", "frog")))


class FakeChat:
    def __init__(self, replies):
        self.replies, self.calls = list(replies), []

    def message(self, messages, tools=None, max_tokens=None):
        self.calls.append(messages)
        return self.replies.pop(0)


def _replies():
    call = '<tool_call>\n{{"name": "interact_with_env", "arguments": {{"choice": "{}", "content": "{}"}}}}\n</tool_call>'
    return [{"role": "assistant", "content": "<think>Colour first.</think>\n" + call.format("action", "Is it red?")},
            {"role": "assistant", "content": "It is red; size next? No, guess.\n" +
             call.format("answer", "small red frog")}]


@pytest.mark.parametrize("style", ["enhanced", "plain"])
def test_llm_teacher_episode(style):
    chat = FakeChat(_replies())
    env = lambda: make("telepathy-proc-v0", kb=KBSpec(values_per_attribute=4))  # noqa: E731
    [ep] = generate(chat, env, [FROG], style)
    assert ep.success and ep.num_answers == 1 and ep.feedback[0] == "Yes"
    assert chat.calls[0][0]["content"] == "sys" + INSTRUCTIONS[style]
    assert ep.messages[0]["content"] == "sys"  # SFT data keeps the task's own prompt
    thinks = [parse_assistant(a).think for a in ep.assistant]
    assert thinks == (["Colour first.", "It is red; size next? No, guess."] if style == "enhanced" else ["", ""])
    assert [parse_assistant(a).choice for a in ep.assistant] == ["action", "answer"]


def test_teacher_cli_with_an_llm_teacher_on_original_tasks(tmp_path, userrl_dir, serve):
    from bao.io import read_jsonl
    from bao.teacher.__main__ import main

    answer = {"choices": [{"message": {"content": "<think>Try it.</think>\n<tool_call>\n" + json.dumps(
        {"name": "interact_with_env", "arguments": {"choice": "answer", "content": "0"}}) + "\n</tool_call>"}}]}
    srv = serve([("raw", json.dumps(answer))] * 100)
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "config/config.yaml").read_text())
    raw["data"]["userrl_dir"] = str(userrl_dir)
    raw["teacher"].update(source="llm", n_episodes=3)
    raw["teacher"]["llm"].update(kind="endpoint", base_url=srv.url, model="teacher", retries=0,
                                 cache_dir=str(tmp_path / "cache"))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    main(["--config", str(tmp_path / "c.yaml"), "--gym", "function", "--style", "enhanced",
          "--out", str(tmp_path / "t.jsonl")])
    stats = json.loads((tmp_path / "t.stats.json").read_text())
    assert stats["episodes"] == 3 and stats["kept_successful"] == len(read_jsonl(tmp_path / "t.jsonl"))
    from bao.envs.faithful import load_original_tasks

    first = load_original_tasks(userrl_dir, "train")[0]
    assert srv.requests[0][1]["messages"][1]["content"] == first.messages[1]["content"]  # the original prompts
    assert srv.requests[0][1]["messages"][0]["content"].endswith(INSTRUCTIONS["enhanced"])
