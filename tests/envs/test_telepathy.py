"""Embedded Telepathy-Gym: the knowledge base, the programmatic user's question semantics, the judge, rewards,
and the scripted teachers."""

from __future__ import annotations

import pytest

from bao.envs import make
from bao.envs.telepathy import (IDENTITY_REPLY, TELEPATHY_SYSTEM_PROMPT, EntityTask, KBSpec, KBUser,
                                enumerate_entities, make_entity_tasks, split_entities)
from bao.teacher.telepathy_teacher import TelepathyTeacher

SPEC = KBSpec(attributes=("size", "color", "kind"), values_per_attribute=4)
FROG = EntityTask("t", "small red frog", "animal", (), "test",
                  attributes=(("size", "small"), ("color", "red"), ("kind", "frog")))


@pytest.mark.parametrize("question, reply", [
    ("Is it red?", "Yes"),
    ("Is it red or blue?", "Yes"),
    ("Is it blue or green?", "No"),
    ("Is it a red bird?", "No"),             # values of different attributes must all hold
    ("Is it a small frog?", "Yes"),
    ("Is it a small red frog?", IDENTITY_REPLY),  # pins every attribute: a guess in disguise
    ("Is it a tiny or small red frog?", "Yes"),   # not an identity question: two sizes allowed
    ("Does it purr?", "Maybe"),
    ("", "Maybe"),
])
def test_kb_user_reply(question, reply):
    assert KBUser(SPEC).reply(FROG, question) == reply


@pytest.mark.parametrize("guess, score", [
    ("small red frog", 1.0), ("A small, RED frog!", 1.0), ("red small frog", 1.0),
    ("small red", 0.0), ("small red frog or bird", 0.0), ("big red frog", 0.0), ("", 0.0),
])
def test_kb_judge_is_exact_on_value_words(guess, score):
    assert KBUser(SPEC).judge(FROG, guess).score == score


def test_kb_split_is_disjoint_and_seeded():
    train, test = split_entities(SPEC, 0)
    assert len(train) + len(test) == len(enumerate_entities(SPEC)) == 64
    assert not set(train) & set(test) and len(test) == round(0.2 * 64)
    assert split_entities(SPEC, 0) == (train, test) and split_entities(SPEC, 1) != (train, test)
    tasks = make_entity_tasks(SPEC, "test", 20, 0, TELEPATHY_SYSTEM_PROMPT, 12)
    assert all(t.attributes in test for t in tasks)
    assert "You have 12 rounds" in tasks[0].messages[0]["content"]
    assert "size: tiny, small, large, huge" in tasks[0].messages[1]["content"]


def test_reward_only_on_first_correct_guess_and_questions_are_free():
    env = make("telepathy-proc-v0", kb=SPEC)
    env.reset(options={"task": FROG})
    fb, r, term, _, info = env.step("[action] Is it red?")
    assert (fb, r, term, info["user_involved"]) == ("Yes", 0.0, False, False)
    fb, r, term, _, info = env.step("[answer] big red frog")
    assert r == 0.0 and not term and info["user_involved"] and fb.startswith("No")
    fb, r, term, _, info = env.step("[answer] small red frog")
    assert r == 1.0 and term and info["success"]
    assert env.step("[answer] small red frog")[1] == 0.0


def test_unprefixed_text_is_a_question_and_finish_ends():
    env = make("telepathy-proc-v0", kb=SPEC)
    env.reset(options={"task": FROG})
    assert env.step("is it a frog?")[0] == "Yes"
    fb, r, term, _, info = env.step("[finish]")
    assert term and r == 0.0 and info["choice"] == "finish"


def test_faithful_id_needs_a_user():
    with pytest.raises(ValueError, match="user simulator"):
        make("telepathy-v0")


@pytest.mark.parametrize("style", ["enhanced", "plain"])
def test_teacher_solves_and_is_deterministic(style):
    tasks = make_entity_tasks(SPEC, "train", 40, 0, TELEPATHY_SYSTEM_PROMPT, 12)
    t = TelepathyTeacher(SPEC, style, 0.35, 12)
    eps = [t.play(task, 0) for task in tasks]
    assert sum(e.success for e in eps) == 40
    assert [e.assistant for e in eps] == [t.play(task, 0).assistant for task in tasks]
    assert any(e.num_answers > 1 for e in eps)  # some early guesses, so the data shows recovery


def test_plain_teacher_takes_the_enhanced_actions_without_reasoning():
    tasks = make_entity_tasks(SPEC, "train", 20, 0, TELEPATHY_SYSTEM_PROMPT, 12)
    enh, plain = TelepathyTeacher(SPEC, "enhanced", 0.35, 12), TelepathyTeacher(SPEC, "plain", 0.35, 12)
    for task in tasks:
        a, b = enh.play(task, 0), plain.play(task, 0)
        assert a.feedback == b.feedback
        assert [x.split("<tool_call>")[1] for x in a.assistant] == [x.split("<tool_call>")[1] for x in b.assistant]
        assert "Plan:" in a.assistant[0] and "Plan:" not in b.assistant[0]
