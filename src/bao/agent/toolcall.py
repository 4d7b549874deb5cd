"""Render and parse the single ``interact_with_env`` tool call (Qwen3/Hermes style).

An assistant message is an optional think block followed by one tool call::

    <think>
    ...reasoning...
    </think>
    <tool_call>
    {"name": "interact_with_env", "arguments": {"choice": "action", "content": "1 2 3 4"}}
    </tool_call>

Parsing never raises. A message without ``<tool_call>`` ends the episode (as in the UserRL rollout, where a
turn without a tool call stops the loop); a message with a broken call (bad JSON, wrong tool name, missing or
non-string arguments, choice outside the enum) becomes an error string that the env returns as feedback, and
the episode goes on. If a message holds several tool calls only the first is executed (our choice; UserRL
executes all of them and keeps the last reward).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

TOOL_NAME = "interact_with_env"
CHOICES = ("action", "answer", "search")

_CALL_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.S)
_THINK_RE = re.compile(r"<think>(.*?)</think>", re.S)


@dataclass(frozen=True)
class ParsedTurn:
    has_tool_call: bool
    """False when the message holds no ``<tool_call>`` at all (the episode ends)."""
    choice: str | None = None
    content: str | None = None
    error: str | None = None
    """why the call is malformed (None for a valid call)."""
    think: str = ""

    @property
    def valid(self) -> bool:
        return self.has_tool_call and self.error is None


def render_tool_call(choice: str, content: str) -> str:
    """The exact text of a call, as the chat template writes it."""
    payload = json.dumps({"name": TOOL_NAME, "arguments": {"choice": choice, "content": content}}, ensure_ascii=False)
    return f"<tool_call>\n{payload}\n</tool_call>"


def render_assistant(think: str, choice: str, content: str) -> str:
    """A full assistant message: think block (possibly empty) then the call."""
    return f"<think>\n{think}\n</think>\n{render_tool_call(choice, content)}" if think else \
        f"<think>\n</think>\n{render_tool_call(choice, content)}"


def parse_assistant(text: str) -> ParsedTurn:
    """Parse one assistant message. Never raises."""
    m_think = _THINK_RE.search(text)
    think = m_think.group(1).strip() if m_think else ""
    m = _CALL_RE.search(text)
    if m is None:
        return ParsedTurn(has_tool_call=False, think=think)
    body = m.group(1).strip()
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        return ParsedTurn(True, error="the tool call is not valid JSON", think=think)
    if not isinstance(obj, dict):
        return ParsedTurn(True, error="the tool call must be a JSON object with 'name' and 'arguments'", think=think)
    if obj.get("name") != TOOL_NAME:
        return ParsedTurn(True, error=f"unknown tool {str(obj.get('name'))[:40]!r}; the only tool is {TOOL_NAME}",
                          think=think)
    args = obj.get("arguments")
    if isinstance(args, str):  # some models emit arguments as a JSON string
        try:
            args = json.loads(args)
        except (ValueError, RecursionError):
            args = None
    if not isinstance(args, dict):
        return ParsedTurn(True, error="'arguments' must be an object with 'choice' and 'content'", think=think)
    choice, content = args.get("choice"), args.get("content")
    if choice not in CHOICES:
        return ParsedTurn(True, error=f"'choice' must be one of {list(CHOICES)}", think=think)
    if not isinstance(content, str):
        if isinstance(content, (int, float)) and not isinstance(content, bool):
            content = str(content)
        else:
            return ParsedTurn(True, choice=choice, error="'content' must be a string", think=think)
    return ParsedTurn(True, choice=choice, content=content, think=think)
