"""Scripted reference policies, evaluated like a model (``python -m bao.eval.run --policy guess_spam``).

``guess_spam`` measures how far guessing alone goes: it never gathers information from the environment and
spends every turn on a user-involved ``answer``, walking through the answers a knowledgeable guesser would try
first. It is the user-burden extreme of BAO's trade-off (UR near 1), the point a policy that "relies on the user
to verify its answers" drifts toward.

* Function-Gym: one ``search`` for the test case (free), then the values the grammar's rules give on it, most
  common first. The grammar is the procedural one of the config (for the faithful split too: a guesser that
  knows our grammar, not the original 538 rules).
* Telepathy-Gym: the knowledge base's entities in the order the values are listed in the first message.
* Turtle-Gym: a story naming one value of every slot; the judge's feedback lists the covered facts (as the
  original's does), so the spammer keeps those and moves every other slot to its next value.

A policy is a generator of ``(choice, content)`` that receives each feedback through ``send``.

Episodes are recorded exactly like model rollouts (``Turn``/``Episode``; ``n_tokens`` = 0), so every metric and
table treats them the same way.
"""

from __future__ import annotations

from collections import Counter
from itertools import product
from typing import Callable, Iterator

from bao.envs import format_action
from bao.registry import Registry
from bao.types import Episode, Turn

#: (cfg, gym name) -> a function task -> iterator of (choice, content) actions
SCRIPTED: Registry[Callable] = Registry("scripted policy")


@SCRIPTED.register("guess_spam")
def guess_spam(cfg, gym: str) -> Callable[[object], Iterator[tuple[str, str]]]:
    if gym == "function":
        from bao.envs.procedural import _apply, enumerate_rules
        from bao.envs.safe_eval import EvalError
        from bao.teacher.function_teacher import fmt, spec_from_config

        rules = enumerate_rules(spec_from_config(cfg.function))

        def actions(task):
            yield "search", "test"
            counts = Counter()
            for r in rules:
                try:
                    counts[fmt(_apply(r, task.test_case))] += 1
                except EvalError:
                    pass
            for value, _ in counts.most_common():
                yield "answer", value
        return actions
    if gym == "telepathy":
        from bao.gyms import _kb

        kb = _kb(cfg)

        def actions(task):
            for combo in product(*kb.values().values()):
                yield "answer", " ".join(combo)
        return actions
    if gym == "turtle":
        import re

        from bao.envs.turtle import PHRASES
        from bao.gyms import _puzzles

        spec = _puzzles(cfg)

        def actions(task):
            pos = {s: 0 for s in spec.slots}
            while True:
                story = {s: spec.values(s)[pos[s] % len(spec.values(s))] for s in spec.slots}
                feedback = yield "answer", ", ".join(PHRASES[s].format(v) for s, v in story.items())
                covered = dict(re.findall(r"the (\w+) is (\w+): Covered", feedback or ""))
                for s in spec.slots:
                    if covered.get(s) != story[s]:
                        pos[s] += 1
        return actions
    raise ValueError(f"guess_spam has no script for gym {gym!r}")


def play(make_env: Callable[[], object], tasks, policy: Callable) -> list[Episode]:
    """Run ``policy`` on every task; an exhausted script ends the episode with ``finish``."""
    episodes = []
    for task in tasks:
        env = make_env()
        env.reset(options={"task": task})
        turns, end, script, obs = [], "finish", policy(task), None
        while True:
            try:
                choice, content = script.send(obs) if turns else next(script)
            except StopIteration:
                break
            obs, reward, term, trunc, info = env.step(format_action(choice, content))
            turns.append(Turn(choice, content, True, float(reward), obs, bool(info.get("user_involved")), "", 0))
            if term or trunc:
                end = "success" if info.get("success") else ("finish" if term else "horizon")
                break
        episodes.append(Episode(task_id=task.task_id, turns=turns, end_reason=end))
    return episodes
