"""Scripted teachers that write the SFT warm-start data (one module per gym; ``python -m bao.teacher``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TeacherEpisode:
    """One teacher episode as SFT consumes it: the opening messages, each assistant message and each feedback.
    ``trained``: per assistant message, whether SFT trains on it (``None``: all; a deliberate mistake shown only
    as context is ``False``)."""

    task_id: str
    messages: list
    assistant: list[str]
    feedback: list[str]
    success: bool
    num_answers: int
    trained: list[bool] | None = None

    def row(self) -> dict:
        """The JSONL row (``trained`` only where some message is not trained on: default data stays as it was)."""
        return {k: v for k, v in self.__dict__.items() if not (k == "trained" and v is None)}


STYLES = ("enhanced", "plain")


class ScriptedTeacher:
    """What every scripted teacher holds: its style (``enhanced`` writes the reasoning, ``plain`` an empty
    think), the chance of committing early, the gym's horizon, and (Telepathy, Turtle) the programmatic user it
    consults for its own bookkeeping."""

    def __init__(self, style: str, early_commit_prob: float, horizon: int, user=None):
        if style not in STYLES:
            raise ValueError(f"teacher style must be 'enhanced' or 'plain', got {style!r}")
        self.style, self.p_early, self.horizon, self.user = style, early_commit_prob, horizon, user


def sample_corpus(cfg, seed: int, n: int = 300, gyms=None) -> list[str]:
    """Rendered teacher episodes of both styles for ``gyms`` (default: every configured gym): the tokenizer's
    training corpus."""
    from bao.gyms import GYMS
    from bao.policy.chat import render_conversation

    texts = []
    for gym in cfg.gyms if gyms is None else gyms:
        for style in ("enhanced", "plain"):
            for ep in GYMS.get(gym).teacher_episodes(cfg, style, n, seed + 1):
                texts.append(render_conversation(ep.messages, ep.assistant, ep.feedback[:-1]))
    return texts
