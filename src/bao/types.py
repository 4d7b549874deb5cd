"""Plain records shared by the rollout, the trainer, evaluation and the metrics.

An :class:`Episode` is what one agent did on one task: its assistant turns, each with the raw env reward, and
why it ended. ``episodes.jsonl`` rows are ``Episode.to_dict()``; metrics are pure functions of episodes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

END_REASONS = ("success", "horizon", "token_budget", "no_tool_call", "finish", "prompt_too_long")


@dataclass
class Turn:
    """One assistant turn and the environment's answer to it."""

    choice: str | None
    """``action`` | ``search`` | ``answer`` (or ``finish``); None when the tool call was missing or malformed."""
    content: str | None
    """the tool call's ``content`` argument (None when malformed)."""
    valid: bool
    """True for a well-formed ``interact_with_env`` call."""
    reward: float
    """raw env reward of this turn (before any shaping)."""
    feedback: str
    """observation text returned to the agent ("" after a turn without tool call)."""
    user_involved: bool
    """True when ``choice`` is in the gym's user-involved set (Function-Gym: ``answer``)."""
    text: str = ""
    """the assistant message as decoded text (think block + tool call)."""
    n_tokens: int = 0
    """number of generated tokens in this turn."""


@dataclass
class Episode:
    task_id: str
    turns: list[Turn]
    end_reason: str
    """one of END_REASONS."""
    sample: int = 0
    """index of this rollout within its task's group."""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def rewards(self) -> list[float]:
        return [t.reward for t in self.turns]

    @property
    def choices(self) -> list[str | None]:
        return [t.choice for t in self.turns]

    @property
    def total_reward(self) -> float:
        return float(sum(self.rewards))

    @property
    def num_user_actions(self) -> int:
        """U(tau): number of user-involved actions."""
        return sum(1 for t in self.turns if t.user_involved)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Episode":
        turns = [Turn(**t) for t in d["turns"]]
        return cls(task_id=d["task_id"], turns=turns, end_reason=d["end_reason"], sample=d.get("sample", 0),
                   meta=dict(d.get("meta", {})))
