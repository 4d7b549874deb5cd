"""Scripted teachers: deterministic, solve the embedded gym, and differ only in their reasoning."""

from bao.agent.toolcall import parse_assistant
from bao.teacher.function_teacher import explain, generate


def test_explain_is_step_by_step():
    assert explain("a * b + c", (2, 3, 4, 9)) == ("2*3=6 6+4=10", 10.0)
    assert explain("(b - d) * a", (3, 1, 2, 4)) == ("1-4=-3 -3*3=-9", -9.0)


def test_teacher_is_deterministic_and_solves_most_tasks(small_cfg):
    a = generate(small_cfg, "enhanced", 40, seed=5)
    b = generate(small_cfg, "enhanced", 40, seed=5)
    assert [e.assistant for e in a] == [e.assistant for e in b]
    assert sum(e.success for e in a) / len(a) >= 0.9


def test_plain_teacher_takes_the_same_actions_without_reasoning(small_cfg):
    enh = generate(small_cfg, "enhanced", 20, seed=6)
    plain = generate(small_cfg, "plain", 20, seed=6)
    for e, p in zip(enh, plain):
        ca = [(parse_assistant(x).choice, parse_assistant(x).content) for x in e.assistant]
        cp = [(parse_assistant(x).choice, parse_assistant(x).content) for x in p.assistant]
        assert ca == cp
        assert all(parse_assistant(x).think == "" for x in p.assistant)
        assert all("Plan:" in parse_assistant(x).think for x in e.assistant)


def test_enhanced_teacher_shows_revision_after_a_wrong_answer(small_cfg):
    eps = generate(small_cfg, "enhanced", 200, seed=7)
    revised = [e for e in eps if e.num_answers > 1]
    assert revised, "the data must contain recovery from a wrong answer"
    assert any("Revise:" in a for e in revised for a in e.assistant)


def test_compact_think_takes_the_same_actions_in_fewer_characters(small_cfg):
    """``teacher.think: compact``: the same choices and contents as ``full``, every think shorter or equal,
    the answer's ``Test:`` arithmetic kept, no ``Check:`` line."""
    import dataclasses

    compact_cfg = dataclasses.replace(small_cfg, teacher=dataclasses.replace(small_cfg.teacher, think="compact"))
    full, compact = generate(small_cfg, "enhanced", 30, seed=8), generate(compact_cfg, "enhanced", 30, seed=8)
    for f, c in zip(full, compact):
        pf, pc = [parse_assistant(x) for x in f.assistant], [parse_assistant(x) for x in c.assistant]
        assert [(p.choice, p.content) for p in pf] == [(p.choice, p.content) for p in pc]
        assert all(len(b.think) < len(a.think) for a, b in zip(pf, pc))
        assert all("Test:" in p.think for p in pc if p.choice == "answer")
        assert not any("Check:" in p.think for p in pc)


def test_a_deliberate_mistake_is_context_only_and_leaves_other_episodes_unchanged(small_cfg):
    """``teacher.mistake_prob``: a mistake episode's first answer is wrong (the env says so), that message alone
    is marked not trained on, the episode still succeeds; every other episode is the one mistake_prob 0 writes,
    and default rows carry no ``trained`` key."""
    import dataclasses

    base = generate(small_cfg, "enhanced", 60, seed=9)
    cfg = dataclasses.replace(small_cfg, teacher=dataclasses.replace(small_cfg.teacher, mistake_prob=0.5))
    mixed = generate(cfg, "enhanced", 60, seed=9)
    assert all("trained" not in e.row() for e in base)
    masked = [e for e in mixed if e.trained is not None]
    assert 10 <= len(masked) <= 45
    for b, m in zip(base, mixed):
        if m.trained is None:
            assert m.row() == b.row()
    for e in masked:
        assert e.trained.count(False) == 1
        i = e.trained.index(False)
        assert parse_assistant(e.assistant[i]).choice == "answer"
        assert e.feedback[i].startswith("Your answer is wrong")
        assert all(parse_assistant(a).choice != "answer" for a in e.assistant[:i])
        assert "Revise:" in e.assistant[i + 1] and e.success and e.num_answers >= 2
