"""Scripted teachers of the embedded Telepathy-Gym: behavior-enhanced and plain.

The teacher knows the attribute values (they are in the first user message), never the entity: it learns it
only from the user's replies. It keeps, per attribute, the set of values still possible, plus the guesses
already judged wrong; the candidates are the product of those sets minus the wrong guesses. Each turn it

* asks the most informative question: about the attribute with the most values left, naming half of them
  ("Is it red or blue?"), which halves the candidates whatever the reply;
* answers when one candidate is left; with probability ``early_commit_prob`` it already guesses when two
  are left; its last two turns go to guesses whatever is left (budget scheduling). A wrong guess is dropped
  from the candidates. ``Plan:`` states the questions still needed, sum of ceil(log2(values left)).

The **enhanced** teacher's ``<think>`` shows retrospective reasoning (``Memory:`` what each attribute can still
be and the wrong guesses; ``Revise:`` after a wrong guess) and prospective planning (``Plan:`` turns left,
candidates left, questions still needed, the next question or the guess and why). The **plain** teacher takes
the same actions with an empty think block. The format is ours (BAO's teacher prompts are unknown).
"""

from __future__ import annotations

import math
from itertools import product

from bao.agent.toolcall import render_assistant
from bao.envs.telepathy import EntityTask, KBSpec, KBUser, TelepathyGym, entity_name
from bao.envs.base import format_action
from bao.seeding import rng
from bao.teacher import ScriptedTeacher, TeacherEpisode


def _either(values) -> str:
    return " or ".join(values)


class TelepathyTeacher(ScriptedTeacher):
    def __init__(self, spec: KBSpec, style: str, early_commit_prob: float, horizon: int):
        super().__init__(style, early_commit_prob, horizon, KBUser(spec))
        self.spec = spec

    def _candidates(self, left: dict, wrong: list[str]) -> list[str]:
        names = (entity_name(tuple(zip(self.spec.attributes, c)))
                 for c in product(*(left[a] for a in self.spec.attributes)))
        return [n for n in names if n not in wrong]

    def _memory(self, left: dict, wrong: list[str]) -> str:
        parts = []
        for a in self.spec.attributes:
            vs = left[a]
            full = len(vs) == self.spec.values_per_attribute
            parts.append(f"{a} {'unknown' if full else _either(vs)}")
        text = "Memory: " + "; ".join(parts) + "."
        if wrong:
            text += " Wrong: " + ", ".join(wrong) + "."
        return text

    def play(self, task: EntityTask, seed: int) -> TeacherEpisode:
        g = rng(seed, "telepathy-teacher", task.task_id)
        env = TelepathyGym(max_steps=self.horizon, user=self.user)
        env.reset(options={"task": task})
        left = {a: list(v) for a, v in self.spec.values().items()}
        wrong: list[str] = []
        assistant, feedback = [], []
        success, n_answers, early_used = False, 0, False
        for turn in range(self.horizon):
            turns_left = self.horizon - turn
            cands = self._candidates(left, wrong)
            needed = sum(math.ceil(math.log2(len(left[a]))) for a in self.spec.attributes)
            think = [self._memory(left, wrong)] if turn else []
            if feedback and wrong and feedback[-1].startswith("No, that is not"):
                think.append(f"Revise: {wrong[-1]} was wrong; drop it.")
            commit = len(cands) <= 1
            if not commit and len(cands) == 2 and not early_used and g.random() < self.p_early:
                commit = early_used = True
            if not commit and turns_left <= 2:  # budget scheduling: the last two turns go to the best guesses
                commit = True
            if commit and cands:
                guess = cands[0]
                how = "one candidate left" if len(cands) == 1 else f"{len(cands)} candidates left, guess"
                think.append(f"Plan: {turns_left} turns left; {how}; answer {guess}.")
                choice, content = "answer", guess
            else:
                attr = max(self.spec.attributes, key=lambda a: len(left[a]))
                ask = left[attr][: len(left[attr]) // 2]
                think.append(f"Plan: {turns_left} turns left; {len(cands)} candidates, {needed} questions needed; "
                             f"ask the {attr}.")
                choice, content = "action", f"Is it {_either(ask)}?"
            text = render_assistant("\n".join(think) if self.style == "enhanced" else "", choice, content)
            obs, reward, term, trunc, info = env.step(format_action(choice, content))
            assistant.append(text)
            feedback.append(obs)
            if choice == "answer":
                n_answers += 1
                if reward <= 0:
                    wrong.append(content)
            elif obs in ("Yes", "No"):
                left[attr] = ask if obs == "Yes" else [v for v in left[attr] if v not in ask]
            if term or trunc:
                success = bool(info.get("success"))
                break
        return TeacherEpisode(task.task_id, [dict(m) for m in task.messages], assistant, feedback, success,
                              n_answers)
