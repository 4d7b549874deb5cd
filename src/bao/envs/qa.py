"""The shared mechanics of UserRL's question-and-answer gyms (Telepathy, Turtle; ``userrl_repo.md`` §1.6-1.7).

``[answer] <text>`` is judged by the user (``user.judge`` -> a score in [0, 1] and feedback); the reward is the
improvement of the best score so far (``max(0, score - best)``), so an episode's rewards add up to its best
score; the episode ends once the best score reaches ``success_threshold``. ``[finish]`` ends it with nothing.
Every other action, ``[action] <question>`` included, is a question (the 8-character prefix stripped) that the
user answers (``user.reply``). U(tau) counts answers.
"""

from __future__ import annotations

from bao.envs.base import TextEnv


class QuestionAnswerGym(TextEnv):
    choices = ("action", "answer")
    user_involved_choices = frozenset({"answer"})

    def __init__(self, max_steps: int, user, success_threshold: float = 1.0):
        super().__init__(max_steps)
        self.user = user
        self.success_threshold = success_threshold
        self.best = 0.0

    def _reset(self, task) -> str:
        self.best = 0.0
        return self._opening(task)

    def _opening(self, task) -> str:
        """The reset observation (as in UserRL, never shown to the policy)."""
        raise NotImplementedError

    def _step(self, action: str) -> tuple[str, float, str | None, bool]:
        text = action.strip()
        if text.startswith("[finish]"):
            return "Episode finished.", 0.0, "finish", True
        if text.startswith("[answer]"):
            verdict = self.user.judge(self.task, text[8:].strip())
            reward = max(0.0, verdict.score - self.best)
            self.best = max(self.best, verdict.score)
            if self.best >= self.success_threshold - 1e-9:
                self.success = True
            return verdict.feedback, round(reward, 6), "answer", self.success
        question = text[8:].strip() if text[:1] == "[" and text[7:8] == "]" else text
        return self.user.reply(self.task, question), 0.0, "action", False
