"""Scripted teachers of the embedded Turtle-Gym: behavior-enhanced and plain.

The teacher knows the slots, classes and values (they are in the first user message), not the story. Per slot
it tracks whether the slot matters (unknown / irrelevant / relevant) and which values are still possible.
Each turn it

* asks about the first unresolved slot in list order: first its class ("Does it involve family?": Maybe means
  the slot does not matter, Yes/No settle the class), then half of the remaining values;
* answers with the facts pinned so far once every slot is resolved; with probability ``early_commit_prob``
  it already answers when a single slot has two values left (the feedback says which facts are covered,
  and an uncovered guess is dropped); its last two turns always go to answers (budget scheduling).

The **enhanced** teacher's ``<think>`` shows retrospective reasoning (``Memory:`` what each slot can still be;
``Revise:`` after feedback) and prospective planning (``Plan:`` turns left, slots left, next question or the
answer and why). The **plain** teacher takes the same actions with an empty think block. Ours.
"""

from __future__ import annotations

import re

from bao.agent.toolcall import render_assistant
from bao.envs.base import format_action
from bao.envs.turtle import PHRASES, FactUser, PuzzleSpec, PuzzleTask, TurtleGym
from bao.seeding import rng
from bao.teacher import ScriptedTeacher, TeacherEpisode

_COVERED = re.compile(r"the (\w+) is (\w+): Covered")


class TurtleTeacher(ScriptedTeacher):
    def __init__(self, spec: PuzzleSpec, style: str, early_commit_prob: float, horizon: int):
        super().__init__(style, early_commit_prob, horizon, FactUser(spec))
        self.spec = spec

    def _memory(self, state: dict) -> str:
        parts = []
        for s in self.spec.slots:
            st = state[s]
            if st["relevant"] is None:
                parts.append(f"{s} unknown")
            elif not st["relevant"]:
                parts.append(f"{s} does not matter")
            else:
                parts.append(f"{s} {' or '.join(st['values'])}")
        return "Memory: " + "; ".join(parts) + "."

    def _story(self, state: dict) -> str:
        facts = [(s, state[s]["values"][0]) for s in self.spec.slots if state[s]["relevant"] and state[s]["values"]]
        return ", ".join(PHRASES[s].format(v) for s, v in facts) or "nothing is known yet"

    def play(self, task: PuzzleTask, seed: int) -> TeacherEpisode:
        g = rng(seed, "turtle-teacher", task.task_id)
        env = TurtleGym(max_steps=self.horizon, user=self.user)
        env.reset(options={"task": task})
        state = {s: {"relevant": None, "values": list(self.spec.values(s))} for s in self.spec.slots}
        assistant, feedback = [], []
        success, n_answers, early_used = False, 0, False
        guessed: list[tuple[str, str]] = []
        for turn in range(self.horizon):
            left = self.horizon - turn
            open_slots = [s for s in self.spec.slots
                          if state[s]["relevant"] is None or (state[s]["relevant"] and len(state[s]["values"]) > 1)]
            think = [self._memory(state)] if turn else []
            if feedback and n_answers and feedback[-1] != "Maybe" and choice == "answer":
                think.append("Revise: keep the covered facts, drop the guesses that were not covered.")
            two_left = (len(open_slots) == 1 and state[open_slots[0]]["relevant"]
                        and len(state[open_slots[0]]["values"]) == 2)
            commit = not open_slots
            if not commit and two_left and not early_used and g.random() < self.p_early:
                commit = early_used = True
            if not commit and left <= 2:
                commit = True
            if commit:
                story = self._story(state)
                how = "every fact pinned" if not open_slots else f"{len(open_slots)} open, answer what I have"
                think.append(f"Plan: {left} turns left; {how}; answer the story.")
                choice, content = "answer", story
                guessed = [(s, state[s]["values"][0]) for s in self.spec.slots
                           if state[s]["relevant"] and state[s]["values"]]
            else:
                slot = open_slots[0]
                st = state[slot]
                if st["relevant"] is None:
                    cls = self.spec.classes(slot)[0][0]
                    ask, content = ("class", cls), f"Does it involve {cls}?"
                else:
                    half = st["values"][: len(st["values"]) // 2]
                    ask, content = ("values", half), f"Does it involve {' or '.join(half)}?"
                think.append(f"Plan: {left} turns left; {len(open_slots)} open; ask about {slot}.")
                choice = "action"
            text = render_assistant("\n".join(think) if self.style == "enhanced" else "", choice, content)
            obs, reward, term, trunc, info = env.step(format_action(choice, content))
            assistant.append(text)
            feedback.append(obs)
            if choice == "answer":
                n_answers += 1
                covered = {s: v for s, v in _COVERED.findall(obs)}
                for s, v in guessed:
                    if covered.get(s) == v:
                        state[s]["values"] = [v]
                    elif v in state[s]["values"] and len(state[s]["values"]) > 1:
                        state[s]["values"].remove(v)
            else:
                st = state[slot]
                if ask[0] == "class":
                    if obs == "Maybe":
                        st["relevant"] = False
                    elif obs in ("Yes", "No"):
                        st["relevant"] = True
                        keep = dict(self.spec.classes(slot))[ask[1]]
                        st["values"] = [v for v in st["values"] if (v in keep) == (obs == "Yes")]
                elif obs in ("Yes", "No"):
                    st["values"] = [v for v in st["values"] if (v in ask[1]) == (obs == "Yes")]
            if term or trunc:
                success = bool(info.get("success"))
                break
        return TeacherEpisode(task.task_id, [dict(m) for m in task.messages], assistant, feedback, success,
                              n_answers)
