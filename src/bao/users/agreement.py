"""How often an LLM user / judge agrees with the programmatic one, on embedded tasks whose truth is known.

The faithful Telepathy and Turtle gyms need an LLM to answer questions and to judge answers. A small model can
do that badly, and every number it produces inherits its mistakes, so this measures them first: embedded test
tasks are rewritten in the faithful gyms' terms (an entity ``description``; a puzzle's ``bottom`` and weighted
``criteria``), and the LLM user (:mod:`bao.users.llm`, the same prompts the faithful gyms use) and the
programmatic one (:class:`~bao.envs.telepathy.KBUser`, :class:`~bao.envs.turtle.FactUser`) get the same
questions and answers:

* questions: for each task one attribute / slot, asked once with its true value (truth: Yes) and once with a
  wrong one (truth: No);
* answers: the right entity / story, and one with a single attribute / fact changed (truth: wrong; for Turtle
  the story then covers all criteria but one).

Agreement is the share of identical replies (questions) and identical verdicts (answer judged a success or not);
unreadable replies count as disagreement and are reported. A table, not a test: a weak judge is a finding.

    python -m bao.users.agreement --config config/config.yaml --model data/models/smollm2-135m-instruct \\
        --tasks 12 --out results/judge_agreement/smollm2.json
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

from bao.io import atomic_write_text, write_json


def telepathy_cases(cfg, n: int, seed: int):
    """(task rewritten for the LLM user, [(question, truth)], [(guess, truth)]) for ``n`` embedded test tasks."""
    from bao.envs.telepathy import entity_name
    from bao.gyms import GYMS

    values = GYMS.get("telepathy").world(cfg).values()
    g = random.Random(seed)
    out = []
    for t in GYMS.get("telepathy").tasks(cfg, "test", n):
        desc = (f"A {t.category} called the {t.target}. "
                + "; ".join(f"its {a} is {v}" for a, v in t.attributes) + ".")
        a, v = g.choice(t.attributes)
        wrong = g.choice([w for w in values[a] if w != v])
        questions = [(f"Is its {a} {v}?", "Yes"), (f"Is its {a} {wrong}?", "No")]
        other = tuple((b, wrong if b == a else u) for b, u in t.attributes)
        guesses = [(f"It is the {t.target}.", True), (f"It is the {entity_name(other)}.", False)]
        out.append((replace(t, description=desc), questions, guesses))
    return out


def turtle_cases(cfg, n: int, seed: int):
    """(puzzle rewritten for the LLM judge, [(question, truth)], [(story, truth)]) for ``n`` embedded test puzzles."""
    from bao.envs.turtle import PHRASES, story_text
    from bao.gyms import GYMS

    spec = GYMS.get("turtle").world(cfg)
    g = random.Random(seed)
    out = []
    for t in GYMS.get("turtle").tasks(cfg, "test", n):
        llm_task = replace(t, bottom=story_text(t.facts).capitalize() + ".",
                           criteria=tuple((story_text([f]).capitalize() + ".", f[2]) for f in t.facts))
        s, v, _ = g.choice(t.facts)
        wrong = g.choice([w for w in spec.values(s) if w != v])
        phrase = PHRASES[s]
        questions = [(f"Was it {phrase.format(v)}?", "Yes"), (f"Was it {phrase.format(wrong)}?", "No")]
        changed = [(x, wrong if x == s else u, w) for x, u, w in t.facts]
        stories = [(story_text(t.facts).capitalize() + ".", True), (story_text(changed).capitalize() + ".", False)]
        out.append((llm_task, questions, stories))
    return out


def measure(cfg, chat, n: int, seed: int = 0, progress: bool = True) -> dict:
    """Agreement of the LLM user/judge backed by ``chat`` (``complete(messages) -> str``) with the programmatic
    ones, per gym."""
    from bao.envs.telepathy import KBUser
    from bao.envs.turtle import FactUser
    from bao.gyms import GYMS
    from bao.users.llm import LLMTelepathyUser, LLMTurtleUser

    threshold = cfg.turtle.success_threshold
    gyms = {"telepathy": (telepathy_cases(cfg, n, seed), LLMTelepathyUser(chat), KBUser(GYMS.get("telepathy").world(cfg)), 1.0),
            "turtle": (turtle_cases(cfg, n, seed), LLMTurtleUser(chat), FactUser(GYMS.get("turtle").world(cfg)), threshold)}
    result = {}
    for gym, (cases, llm, prog, thr) in gyms.items():
        t0 = time.perf_counter()
        q = {"n": 0, "agree": 0, "prog_agrees_with_truth": 0, "llm_replies": {}}
        a = {"n": 0, "agree": 0, "llm_correct_on_right": 0, "llm_correct_on_wrong": 0, "n_right": 0, "n_wrong": 0}
        for i, (task, questions, answers) in enumerate(cases):
            for question, truth in questions:
                mine, theirs = llm.reply(task, question), prog.reply(task, question)
                q["n"] += 1
                q["agree"] += mine == theirs
                q["prog_agrees_with_truth"] += theirs == truth
                q["llm_replies"][mine] = q["llm_replies"].get(mine, 0) + 1
            for answer, right in answers:
                mine = llm.judge(task, answer).score >= thr
                theirs = prog.judge(task, answer).score >= thr
                a["n"] += 1
                a["agree"] += mine == theirs
                a["n_right" if right else "n_wrong"] += 1
                a["llm_correct_on_right" if right else "llm_correct_on_wrong"] += mine
            if progress:
                print(f"{gym}: {i + 1}/{len(cases)} tasks, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        calls = q["n"] + a["n"]
        result[gym] = {
            "tasks": len(cases), "questions": q["n"],
            "question_agreement": q["agree"] / q["n"], "programmatic_question_accuracy": q["prog_agrees_with_truth"] / q["n"],
            "llm_replies": q["llm_replies"], "answers": a["n"], "verdict_agreement": a["agree"] / a["n"],
            "llm_accepts_right_answer": a["llm_correct_on_right"] / max(1, a["n_right"]),
            "llm_accepts_wrong_answer": a["llm_correct_on_wrong"] / max(1, a["n_wrong"]),
            "unreadable": llm.unreadable, "calls": calls, "seconds": round(time.perf_counter() - t0, 1),
            "seconds_per_call": round((time.perf_counter() - t0) / calls, 2)}
    return result


def markdown(result: dict, label: str) -> str:
    rows = ["| gym | tasks | question replies agreeing (of) | LLM replies | verdicts agreeing (of) "
            "| LLM accepts the right answer | LLM accepts a wrong one | unreadable | s / call |",
            "|---|---|---|---|---|---|---|---|---|"]
    for gym, r in result.items():
        replies = ", ".join(f"{k} {v}" for k, v in sorted(r["llm_replies"].items()))
        rows.append(f"| {gym} | {r['tasks']} | {r['question_agreement']:.2f} ({r['questions']}) | {replies} "
                    f"| {r['verdict_agreement']:.2f} ({r['answers']}) | {r['llm_accepts_right_answer']:.2f} "
                    f"| {r['llm_accepts_wrong_answer']:.2f} | {r['unreadable']} | {r['seconds_per_call']} |")
    return (f"LLM user and judge: {label}, against the programmatic user and judge on embedded test tasks "
            "(python -m bao.users.agreement).\n\n" + "\n".join(rows) + "\n")


def main(argv: list[str] | None = None) -> None:
    from bao.config import load_config

    p = argparse.ArgumentParser(prog="bao.users.agreement", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="config whose embedded Telepathy / Turtle gyms give the tasks")
    p.add_argument("--model", required=True, help="HF model directory playing the LLM user and judge")
    p.add_argument("--label", default="", help="how the table names the model (default: its directory)")
    p.add_argument("--tasks", type=int, default=12, help="embedded test tasks per gym (2 questions + 2 answers each)")
    p.add_argument("--seed", type=int, default=0, help="which attribute / fact each task's cases change")
    p.add_argument("--out", required=True, help="JSON written here, the table beside it (.md)")
    args = p.parse_args(argv)
    cfg = load_config(args.config)
    from bao.users.llm import HFChat

    result = measure(cfg, HFChat(args.model, max_new_tokens=256), args.tasks, args.seed)
    label = args.label or Path(args.model).name
    from bao.provenance import provenance

    write_json(args.out, {"model": label, "result": result, "provenance": provenance(cfg)})
    atomic_write_text(str(Path(args.out).with_suffix(".md")), markdown(result, label))
    print(markdown(result, label))


if __name__ == "__main__":
    from bao.cli import run

    run(main)
