"""Function-Gym: guess a hidden arithmetic rule over four numbers, then answer it on a test case.

A faithful re-implementation of UserRL's ``gyms/FunctionGym`` (``FunctionEnv``): same grammar, same feedback
strings (copied from the original source), same reward and end conditions. Two deliberate differences:
the rule is evaluated with :mod:`bao.envs.safe_eval` instead of ``eval`` (so a probe whose result would
exceed 1e15 gets the original's error hint instead of a huge number), and a step after the episode has
ended returns "Episode is over." instead of raising.
"""

from __future__ import annotations

import re

from bao.envs.base import Task, TextEnv
from bao.envs.safe_eval import EvalError, compile_rule

VARIABLES = ("a", "b", "c", "d")
ANSWER_TOLERANCE = 1e-6
_NUMBER = re.compile(r"-?\d+\.?\d*")  # the original's probe-number regex

RESET_FEEDBACK = ("New function problem loaded. You can use [action] with four numbers to test the function, "
                  "[search] for test case, or [answer] with your final guess.")
INVALID_FORMAT = "Invalid action format. Please use [action], [search], [answer], or [finish]."
NO_NUMBERS = "Please provide four numbers after [action]."
NOT_FOUR = "Please provide exactly four numbers."
TEST_CASE_REFUSED = "This is the test case and I cannot provide you with the calculation feedback."
EVAL_ERROR = ("Error parsing numbers or calculating result. This may happen like when division by zero occurs. "
              "Please try again with different number combinations.")
BAD_SEARCH = "Search content should only be 'test' to get the test case."
EMPTY_ANSWER = "Answer is empty. Please provide a numerical answer."
BAD_ANSWER = "Invalid numerical answer. Please provide a valid number."
CORRECT = "Your answer is correct!"
WRONG = ("Your answer is wrong. Please continue to try and reason about the hidden function and make your answer "
         "attempt later.")
FINISHED_CORRECT = "Episode finished. You answered correctly!"
FINISHED_WRONG = "Episode finished without correct answer. The expected result for the test case was: {expected}"


class FunctionGym(TextEnv):
    """Hidden-function guessing game (UserRL FunctionGym).

    ## Description
    A hidden rule ``f(a, b, c, d)`` built from ``+ - * / **`` and parentheses (e.g. ``"c * (a * b) * d"``) and
    a hidden test case (four integers). The agent probes ``f`` on 4-tuples of its choice, retrieves the test
    case, and must submit ``f(test_case)``.

    ## User simulator
    Fully programmatic: the "user" is the rule itself. ``answer`` is the user-involved choice (the agent
    commits a result to the user), so ``user_involved_choices = {"answer"}``.

    ## Action
    A prefixed string (see :func:`bao.envs.base.format_action`):
    ``[action] a b c d`` (numbers matched by ``-?\\d+\\.?\\d*``, exactly four); ``[search] test``;
    ``[answer] <float>``; ``[finish]``. Anything else gets an "Invalid action format" feedback.

    ## Observation
    Feedback text, e.g. ``"For numbers [1.0, 2.0, 3.0, 4.0], the result is 7.5."`` (result rounded to 4
    decimals), ``"Test case: [3, 5, 5, 3]"``, ``"Your answer is correct!"``. Probing the exact test tuple
    is refused; an evaluation error (division by zero, out-of-bound result) returns a hint.

    ## Reward
    1.0 for a correct answer (``|answer - expected| <= 1e-6``), else 0.0 for every step.

    ## Episode end
    Terminated on a correct answer or ``[finish]`` (which reveals the expected value); truncated when the
    step count reaches ``max_steps`` (both flags may be set on the same step, as in UserRL).

    ## Arguments
    ``max_steps`` (default 16, the horizon used for training and eval in UserRL).

    ## Version history
    * v0: faithful to UserRL ``cf55a30``; used by ``function-v0`` (UserRL data) and ``function-proc-v0``
      (procedural rules).
    """

    choices = ("action", "search", "answer")
    user_involved_choices = frozenset({"answer"})

    def __init__(self, max_steps: int = 16):
        super().__init__(max_steps=max_steps)
        self._rule = None

    def _reset(self, task: Task) -> str:
        self._rule = compile_rule(task.rule, frozenset(VARIABLES))
        return RESET_FEEDBACK

    def _step(self, action: str) -> tuple[str, float, str | None, bool]:
        action = action.strip()
        body = action[8:].strip()  # every prefix is 8 characters
        if action.startswith("[action]"):
            return self._probe(body), 0.0, "action", False
        if action.startswith("[search]"):
            feedback = f"Test case: {list(self.task.test_case)}" if body.lower() == "test" else BAD_SEARCH
            return feedback, 0.0, "search", False
        if action.startswith("[answer]"):
            feedback, reward = self._answer(body)
            return feedback, reward, "answer", self.success
        if action.startswith("[finish]"):
            feedback = FINISHED_CORRECT if self.success else FINISHED_WRONG.format(expected=self.task.expected)
            return feedback, 0.0, "finish", True
        return INVALID_FORMAT, 0.0, None, False

    def _probe(self, body: str) -> str:
        if not body:
            return NO_NUMBERS
        numbers = [float(m) for m in _NUMBER.findall(body)]
        if len(numbers) != len(VARIABLES):
            return NOT_FOUR
        if numbers == [float(x) for x in self.task.test_case]:
            return TEST_CASE_REFUSED
        try:
            result = round(self._rule(dict(zip(VARIABLES, numbers))), 4)
        except EvalError:
            return EVAL_ERROR
        return f"For numbers {numbers}, the result is {result}."

    def _answer(self, body: str) -> tuple[str, float]:
        if not body:
            return EMPTY_ANSWER, 0.0
        try:
            answer = float(body)
        except ValueError:
            return BAD_ANSWER, 0.0
        self.success = abs(answer - self.task.expected) <= ANSWER_TOLERANCE
        return (CORRECT, 1.0) if self.success else (WRONG, 0.0)
