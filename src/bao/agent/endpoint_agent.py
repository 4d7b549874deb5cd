"""A chat model behind an OpenAI-compatible endpoint as the *agent* (the paper's GPT-4o row), evaluation only.

The model is offered the single tool ``interact_with_env`` (the schema of UserRL's ``interact_tool.yaml``) and
sees the task's own messages; each turn's reply is turned into our tool-call text and parsed by the same
:func:`bao.agent.toolcall.parse_assistant` as the tiny model's, so malformed calls, missing calls and the
episode ends follow exactly the same rules. A model that writes Hermes-style ``<tool_call>`` text instead of
native tool calls works too. Episodes are recorded like model rollouts (``n_tokens`` = completion tokens are
not known per turn: 0).
"""

from __future__ import annotations

import json

from bao.agent.toolcall import CHOICES, TOOL_NAME, parse_assistant
from bao.envs import format_action
from bao.types import Episode, Turn

TOOL_SCHEMA = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Interact with the environment: ask, probe or search with 'action'/'search', "
                       "or submit an answer with 'answer'.",
        "parameters": {
            "type": "object",
            "properties": {
                "choice": {"type": "string", "enum": list(CHOICES)},
                "content": {"type": "string", "description": "the question, probe, search query or answer"},
            },
            "required": ["choice", "content"],
        },
    },
}


def _as_text(msg: dict) -> str:
    """The reply as our assistant-message text: its prose, then its first native tool call (if any)."""
    text = msg.get("content") or ""
    calls = msg.get("tool_calls") or []
    if calls:
        fn = (calls[0] or {}).get("function") or {}
        args = fn.get("arguments")
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                pass
        payload = json.dumps({"name": fn.get("name"), "arguments": args}, ensure_ascii=False)
        text = f"{text}\n<tool_call>\n{payload}\n</tool_call>"
    return text


def play(chat, make_env, tasks, show_reward: bool = False, workers: int = 1) -> list[Episode]:
    """One greedy episode per task with ``chat.message(messages, tools=...)`` choosing every action, in task order.

    ``workers`` > 1 plays that many episodes at once in a bounded thread pool (the endpoint's latency, not our
    CPU, is what an endpoint episode waits on); each episode's env and messages are its own, so the episodes
    are the same for any ``workers``. ``chat`` must then be thread-safe (:class:`bao.users.endpoint.ChatEndpoint`
    is)."""
    if workers <= 1 or len(tasks) <= 1:
        return [_play_one(chat, make_env, t, show_reward) for t in tasks]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent-episode") as pool:
        return list(pool.map(lambda t: _play_one(chat, make_env, t, show_reward), tasks))


def _play_one(chat, make_env, task, show_reward: bool) -> Episode:
    env = make_env()
    env.reset(options={"task": task})
    messages = [dict(m) for m in task.messages]
    turns, end = [], "horizon"
    for _ in range(env.max_steps):
        msg = chat.message(messages, tools=[TOOL_SCHEMA])
        text = _as_text(msg)
        parsed = parse_assistant(text)
        if not parsed.has_tool_call:
            turns.append(Turn(None, None, False, 0.0, "", False, text, 0))
            end = "no_tool_call"
            break
        if parsed.valid:
            obs, reward, term, trunc, info = env.step(format_action(parsed.choice, parsed.content))
        else:
            obs, reward, term, trunc, info = env.invalid_step(parsed.error)
        turns.append(Turn(parsed.choice if parsed.valid else None, parsed.content if parsed.valid else None,
                          parsed.valid, float(reward), obs, bool(info.get("user_involved")), text, 0))
        call_id = f"call_{len(turns)}"
        messages.append({"role": "assistant", "content": msg.get("content") or "",
                         "tool_calls": [{"id": call_id, "type": "function", "function": {
                             "name": TOOL_NAME, "arguments": json.dumps({"choice": parsed.choice or "",
                                                                         "content": parsed.content or ""})}}]})
        messages.append({"role": "tool", "tool_call_id": call_id,
                         "content": obs + (f"\nReward: {reward}" if show_reward else "")})
        if term or trunc:
            end = "success" if info.get("success") else ("finish" if term else "horizon")
            break
    return Episode(task_id=task.task_id, turns=turns, end_reason=end)
