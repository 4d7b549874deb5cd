"""Text environments: the task record, a Gymnasium-shaped base class, the tool-call formatter and the registry.

UserRL gyms are Gymnasium-style classes driven by prefixed strings (``"[action] 1 2 3 4"``); the policy itself
calls one tool, ``interact_with_env(choice, content)``, which :func:`format_action` maps to such a string
exactly like UserRL's ``InteractTool``. :class:`TextEnv` holds the bookkeeping every gym shares (step count,
horizon truncation, the info dict, malformed calls, steps after the end) so a concrete gym only implements
:meth:`TextEnv._reset` and :meth:`TextEnv._step`. Agent input never raises: only misuse by the caller
(``step`` before ``reset``, a missing task) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bao.registry import Registry

EPISODE_OVER = "Episode is over. No further actions are accepted; the environment must be reset."


@dataclass(frozen=True)
class Task:
    """One Function-Gym problem: a hidden rule, its test case, the expected answer and the opening messages."""

    task_id: str
    rule: str
    test_case: tuple[int, ...]
    expected: float
    messages: tuple[dict, ...] = field(hash=False)
    """initial conversation: ``({"role": "system", ...}, {"role": "user", ...})``."""
    split: str
    meta: dict = field(default_factory=dict, compare=False, hash=False)


class TextEnv:
    """Base class of the text gyms (Gymnasium's ``Env`` contract with ``str`` actions and observations).

    Subclasses set :attr:`choices`, :attr:`user_involved_choices` and implement :meth:`_reset` and
    :meth:`_step`. ``info`` always carries ``choice``, ``user_involved``, ``success``, ``step`` and ``task_id``.
    After the episode has ended every further call returns :data:`EPISODE_OVER`, reward 0, without counting.
    """

    choices: tuple[str, ...] = ()
    user_involved_choices: frozenset[str] = frozenset()
    task_type: type = Task
    """the task record this gym plays (every task type has ``task_id``, ``messages`` and ``split``)."""

    def __init__(self, max_steps: int = 16):
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        self.max_steps = max_steps
        self.task: Task | None = None
        self.step_count = 0
        self.success = False
        self.terminated = False
        self.truncated = False

    # -- the Gymnasium-shaped API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        """Start an episode on ``options["task"]``; ``seed`` is accepted for API compatibility (envs here are
        deterministic given the task)."""
        task = (options or {}).get("task")
        if not isinstance(task, self.task_type):
            raise ValueError(f"{type(self).__name__}.reset needs options={{'task': {self.task_type.__name__}}}, "
                             f"got {options!r}")
        self.task = task
        self.step_count = 0
        self.success = self.terminated = self.truncated = False
        return self._reset(task), self._info(None)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Apply one prefixed action string; returns (feedback, reward, terminated, truncated, info)."""
        if self._episode_over():
            return EPISODE_OVER, 0.0, self.terminated, self.truncated, self._info(None)
        self.step_count += 1
        feedback, reward, choice, terminated = self._step(str(action))
        return self._finish(feedback, reward, choice, terminated)

    def invalid_step(self, message: str) -> tuple[str, float, bool, bool, dict]:
        """Record a malformed tool call as a turn (counts toward ``max_steps``, reward 0)."""
        if self._episode_over():
            return EPISODE_OVER, 0.0, self.terminated, self.truncated, self._info(None)
        self.step_count += 1
        feedback = (f"Invalid tool call: {message}. Call the tool `interact_with_env` with arguments "
                    f'{{"choice": <one of {", ".join(self.choices)}>, "content": <string>}}.')
        return self._finish(feedback, 0.0, None, False)

    # -- for subclasses ---------------------------------------------------------------------------------------
    def _reset(self, task: Task) -> str:
        """Set up per-episode state; return the reset observation text."""
        raise NotImplementedError

    def _step(self, action: str) -> tuple[str, float, str | None, bool]:
        """Handle one action: (feedback, reward, parsed choice or None, terminated). Must never raise."""
        raise NotImplementedError

    # -- shared bookkeeping -----------------------------------------------------------------------------------
    def _episode_over(self) -> bool:
        if self.task is None:
            raise RuntimeError(f"{type(self).__name__}: call reset() before step()")
        return self.terminated or self.truncated

    def _finish(self, feedback: str, reward: float, choice: str | None,
                terminated: bool) -> tuple[str, float, bool, bool, dict]:
        self.terminated = terminated
        # as in UserRL, both flags can be set when the horizon step also ends the episode
        self.truncated = self.step_count >= self.max_steps
        return feedback, float(reward), self.terminated, self.truncated, self._info(choice)

    def _info(self, choice: str | None) -> dict[str, Any]:
        assert self.task is not None
        return {"choice": choice, "user_involved": choice in self.user_involved_choices, "success": self.success,
                "step": self.step_count, "task_id": self.task.task_id}


def format_action(choice: str, content: str) -> str:
    """Map an ``interact_with_env(choice, content)`` call to the gym's prefixed string (UserRL ``InteractTool``)."""
    if choice in ("action", "answer", "search"):
        prefix = f"[{choice}]"
        return content if content.startswith(prefix) else f"{prefix} {content}"
    if choice == "finish":
        return "[finish]"
    return content


ENVS: Registry[tuple[type[TextEnv], dict[str, Any]]] = Registry("env")


def register(env_id: str, cls: type[TextEnv], **default_kwargs: Any) -> None:
    """Register ``cls`` under ``env_id`` (``<domain>-vN``) with constructor defaults."""
    domain, _, version = env_id.rpartition("-v")
    if not domain or not version.isdigit():
        raise ValueError(f"env id must look like '<domain>-vN', got {env_id!r}")
    ENVS.register(env_id, (cls, dict(default_kwargs)))


def make(env_id: str, **kwargs: Any) -> TextEnv:
    """Instantiate a registered env; ``kwargs`` override the registered defaults."""
    cls, defaults = ENVS.get(env_id)
    return cls(**{**defaults, **kwargs})
