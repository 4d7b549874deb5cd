"""Embedded Turtle-Gym: the fact user's answers, the rubric judge (partial credit, no gaming by listing
everything, the word cap), improvement rewards, the split and the scripted teachers."""

from __future__ import annotations

import pytest

from bao.envs import make
from bao.envs.turtle import (SLOT_POOLS, STORY_REPLY, FactUser, PuzzleSpec, PuzzleTask, make_puzzle_tasks,
                             story_text)
from bao.teacher.turtle_teacher import TurtleTeacher

SPEC = PuzzleSpec()
CASE = PuzzleTask("t", "Case 1", "A body was found.", (), "test",
                  facts=(("who", "twin", 0.5), ("means", "arsenic", 0.3), ("place", "garden", 0.2)))


@pytest.mark.parametrize("question, reply", [
    ("Was it the twin?", "Yes"),
    ("Was it someone from the family?", "Yes"),
    ("Was it the butler or the doctor?", "No"),
    ("Did the twin do it with arsenic?", "Yes"),
    ("Did the twin use fire?", "No"),
    ("Was it about money?", "Maybe"),              # the motive does not matter in this story
    ("Was it the twin, for money?", "Maybe"),
    ("The twin, arsenic, the garden?", STORY_REPLY),  # pins every criterion: a story in disguise
    ("Why?", "Maybe"),
])
def test_fact_user_reply(question, reply):
    assert FactUser(SPEC).reply(CASE, question) == reply


@pytest.mark.parametrize("story, scores, total", [
    ("the twin did it, by arsenic, in the garden", (1.0, 1.0, 1.0), 1.0),
    ("the twin did it in the garden", (1.0, 0.0, 1.0), 0.7),
    ("someone from the family used poison outdoors", (0.5, 0.5, 0.5), 0.5),  # classes: half credit
    ("the twin or the butler, by arsenic", (0.0, 1.0, 0.0), 0.3),             # a wrong alternative zeroes it
    ("", (0.0, 0.0, 0.0), 0.0),
])
def test_rubric_judge(story, scores, total):
    v = FactUser(SPEC).judge(CASE, story)
    assert v.criteria == scores and v.score == pytest.approx(total)


def test_listing_everything_scores_zero_and_the_cap_applies():
    everything = " ".join(v for s in SPEC.slots for _, vs in SLOT_POOLS[s] for v in vs)
    assert FactUser(SPEC).judge(CASE, everything).score == 0.0
    padded = " ".join(["so"] * 30) + " the twin did it, by arsenic, in the garden"
    assert FactUser(SPEC).judge(CASE, padded).score == 0.0  # beyond the 30-word cap
    assert FactUser(PuzzleSpec(answer_word_cap=60)).judge(CASE, padded).score == 1.0


def test_feedback_lists_covered_facts_like_the_original():
    v = FactUser(SPEC).judge(CASE, "the twin did it")
    assert v.feedback.startswith("Here's the evaluation points") and "the who is twin: Covered" in v.feedback
    assert "more hidden twists" in v.feedback
    assert FactUser(SPEC).judge(CASE, "the butler").feedback == ("Your answer does not effectively cover any "
                                                                 "evaluation points.")


def test_reward_is_the_improvement_of_the_best_score():
    env = make("turtle-proc-v0")
    env.reset(options={"task": CASE})
    assert env.step("[action] was it the twin?")[0] == "Yes"
    _, r1, term, _, info = env.step("[answer] the twin did it")
    assert r1 == pytest.approx(0.5) and not term and info["user_involved"]
    assert env.step("[answer] the butler")[1] == 0.0  # worse than the best: no reward
    _, r3, term, _, info = env.step("[answer] the twin did it, by arsenic, in the garden")
    assert r3 == pytest.approx(0.5) and term and info["success"]


def test_success_threshold_is_configurable():
    env = make("turtle-proc-v0", success_threshold=0.5)
    env.reset(options={"task": CASE})
    assert env.step("[answer] the twin did it")[2] is True


def test_puzzles_split_and_weights():
    train = make_puzzle_tasks(SPEC, "train", 200, 0, 15)
    test = make_puzzle_tasks(SPEC, "test", 50, 0, 15)
    key = lambda t: frozenset((s, v) for s, v, _ in t.facts)  # noqa: E731
    assert not {key(t) for t in train} & {key(t) for t in test}
    assert all(sum(w for *_, w in t.facts) == pytest.approx(1.0) for t in train)
    assert all(len(t.facts) == 3 for t in test) and "at most 30 words" in test[0].messages[1]["content"]
    assert story_text(CASE.facts) == "the twin did it, by arsenic, in the garden"


@pytest.mark.parametrize("style", ["enhanced", "plain"])
def test_teacher_solves_and_is_deterministic(style):
    tasks = make_puzzle_tasks(SPEC, "train", 40, 0, 15)
    t = TurtleTeacher(SPEC, style, 0.35, 15)
    eps = [t.play(task, 0) for task in tasks]
    assert sum(e.success for e in eps) == 40
    assert [e.assistant for e in eps] == [t.play(task, 0).assistant for task in tasks]


def test_plain_teacher_takes_the_enhanced_actions_without_reasoning():
    tasks = make_puzzle_tasks(SPEC, "train", 20, 0, 15)
    enh, plain = TurtleTeacher(SPEC, "enhanced", 0.5, 15), TurtleTeacher(SPEC, "plain", 0.5, 15)
    for task in tasks:
        a, b = enh.play(task, 0), plain.play(task, 0)
        assert a.feedback == b.feedback
        assert [x.split("<tool_call>")[1] for x in a.assistant] == [x.split("<tool_call>")[1] for x in b.assistant]
