"""Tests of the Function-Gym mechanics (both function ids), the UserRL loader and the procedural tasks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bao.envs import ENVS, Task, TextEnv, format_action, make
from bao.envs.faithful import load_original_tasks
from bao.envs.procedural import ProceduralSpec, enumerate_rules, make_tasks, rules_consistent, split_rules

USERRL_DIR = Path(os.environ.get("BAO_USERRL_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "userrl"))
ENV_IDS = [i for i in ENVS.names() if i.startswith("function")]  # every gym: test_contract.py
TASK = Task(task_id="t-1", rule="c * (a * b) * d", test_case=(3, 5, 5, 3), expected=225.0,
            messages=({"role": "system", "content": "sys"}, {"role": "user", "content": "go"}), split="test")


def _env(env_id: str) -> TextEnv:
    env = make(env_id)
    env.reset(seed=0, options={"task": TASK})
    return env


def test_registered_ids():
    assert {"function-v0", "function-proc-v0"} <= set(ENV_IDS)
    with pytest.raises(KeyError, match="function-v0"):
        make("nope-v0")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reset_and_step_types(env_id):
    env = make(env_id)
    obs, info = env.reset(seed=0, options={"task": TASK})
    assert isinstance(obs, str) and isinstance(info, dict)
    assert info == {"choice": None, "user_involved": False, "success": False, "step": 0, "task_id": "t-1"}
    out = env.step("[action] 1 2 3 4")
    assert len(out) == 5
    feedback, reward, terminated, truncated, info = out
    assert isinstance(feedback, str) and type(reward) is float
    assert type(terminated) is bool and type(truncated) is bool
    assert feedback == "For numbers [1.0, 2.0, 3.0, 4.0], the result is 24.0."
    assert info["choice"] == "action" and info["step"] == 1 and not info["user_involved"]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reset_requires_task(env_id):
    with pytest.raises(ValueError):
        make(env_id).reset(seed=0)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_deterministic(env_id):
    actions = ["[action] 1 2 3 4", "[search] test", "garbage", "[action] 0 0 1 7", "[answer] 7", "[answer] 225"]
    runs = []
    for _ in range(2):
        env = make(env_id)
        runs.append([env.reset(seed=3, options={"task": TASK})] + [env.step(a) for a in actions])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_horizon_truncation(env_id):
    env = _env(env_id)
    for i in range(1, 17):
        _, reward, terminated, truncated, info = env.step("[action] 1 1 1 1")
        assert info["step"] == i and reward == 0.0 and not terminated
        assert truncated == (i == 16)
    feedback, reward, terminated, truncated, info = env.step("[answer] 225")
    assert feedback.startswith("Episode is over") and reward == 0.0 and truncated and info["step"] == 16


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_answer_tolerance(env_id):
    env = _env(env_id)
    feedback, reward, terminated, _, info = env.step(f"[answer] {225.0 + 2e-6!r}")
    assert reward == 0.0 and not terminated and not info["success"] and feedback.startswith("Your answer is wrong")
    assert info["choice"] == "answer" and info["user_involved"]
    feedback, reward, terminated, _, info = env.step(f"[answer] {225.0 + 0.9e-6!r}")
    assert feedback == "Your answer is correct!" and reward == 1.0 and terminated and info["success"]
    assert env.step("[answer] 225")[:2] == ("Episode is over. No further actions are accepted; the environment "
                                            "must be reset.", 0.0)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_test_case_refused_and_search(env_id):
    env = _env(env_id)
    assert env.step("[action] 3 5 5 3")[0] == ("This is the test case and I cannot provide you with the "
                                               "calculation feedback.")
    assert env.step("[search] test")[0] == "Test case: [3, 5, 5, 3]"
    assert env.step("[search] the rule")[0].startswith("Search content should only be 'test'")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_finish_reveals_expected(env_id):
    env = _env(env_id)
    feedback, reward, terminated, _, info = env.step("[finish]")
    assert "225.0" in feedback and reward == 0.0 and terminated and info["choice"] == "finish"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_malformed_and_invalid_steps_count(env_id):
    env = _env(env_id)
    assert env.step("[action] 1 2 3")[0] == "Please provide exactly four numbers."
    assert env.step("[action]")[0] == "Please provide four numbers after [action]."
    assert env.step("[answer] twelve")[0] == "Invalid numerical answer. Please provide a valid number."
    assert env.step("hello")[0].startswith("Invalid action format")
    feedback, reward, terminated, truncated, info = env.invalid_step("no tool call found")
    assert "no tool call found" in feedback and "interact_with_env" in feedback and reward == 0.0
    assert info["step"] == 5 and info["choice"] is None and not (terminated or truncated)
    assert env.step("[action] 1 0 0 0")[0].startswith("For numbers")  # still running
    for _ in range(10):
        env.invalid_step("bad json")
    assert env.truncated and env.step_count == 16


def test_division_by_zero_hint():
    env = make("function-v0")
    env.reset(options={"task": Task("t-2", "a / (b - c)", (1, 2, 3, 4), -1.0, (), "test")})
    assert env.step("[action] 1 2 2 4")[0].startswith("Error parsing numbers or calculating result")


@pytest.mark.parametrize("choice, content, expected", [
    ("action", "1 2 3 4", "[action] 1 2 3 4"),
    ("action", "[action] 1 2 3 4", "[action] 1 2 3 4"),
    ("answer", "5", "[answer] 5"),
    ("search", "test", "[search] test"),
    ("finish", "whatever", "[finish]"),
    ("dance", "raw text", "raw text"),
])
def test_format_action(choice, content, expected):
    assert format_action(choice, content) == expected


_prefixes = st.sampled_from(["", "[action]", "[action] ", "[search] ", "[answer] ", "[finish]", "[act"])
_actions = st.one_of(
    st.text(max_size=200),
    st.tuples(_prefixes, st.text(alphabet="0123456789-. e+*/[]abcdtest", max_size=300)).map("".join),
    st.tuples(_prefixes, st.lists(st.integers(-10**400, 10**400).map(str), max_size=6)).map(
        lambda t: t[0] + " ".join(t[1])),
)


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=200, deadline=None)
@given(actions=st.lists(_actions, min_size=1, max_size=20))
def test_fuzz_actions_never_raise(env_id, actions):
    env = make(env_id)
    env.reset(options={"task": Task("t-3", "c ** d ** b ** a", (3, 3, 1, 10), 1.0, (), "test")})
    for a in actions:
        t0 = time.perf_counter()
        feedback, reward, terminated, truncated, info = env.step(a)
        assert time.perf_counter() - t0 < 0.5
        assert isinstance(feedback, str) and reward in (0.0, 1.0) and info["step"] <= 16


# -- the UserRL tasks ---------------------------------------------------------------------------------------
def test_faithful_loader():
    if not (USERRL_DIR / "FunctionGym" / "functions.json").exists():
        pytest.skip(f"UserRL data not found at {USERRL_DIR} (set BAO_USERRL_DIR)")
    train, test = load_original_tasks(USERRL_DIR, "train"), load_original_tasks(USERRL_DIR, "test")
    assert (len(train), len(test)) == (460, 78)
    assert not {t.task_id for t in train} & {t.task_id for t in test}
    t = train[0]
    assert t.task_id == "func-486" and t.expected == -16.0 and t.split == "train"
    assert [m["role"] for m in t.messages] == ["system", "user"]
    assert all(type(m["content"]) is str for m in t.messages)
    env = make("function-v0")
    env.reset(options={"task": t})
    env.step("[search] test")
    assert env.step(f"[answer] {t.expected}")[1] == 1.0


def test_faithful_loader_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="data.userrl_dir"):
        load_original_tasks(tmp_path / "absent", "train")


# -- procedural tasks ---------------------------------------------------------------------------------------
def test_enumeration_deterministic_and_sizes():
    spec = ProceduralSpec()
    rules = enumerate_rules(spec)
    assert rules == enumerate_rules(spec) == sorted(rules)
    one_op = enumerate_rules(ProceduralSpec(num_ops=1, num_vars=2))
    print(f"distinct rules: default spec {len(rules)}, num_ops=1 {len(one_op)}")
    assert len(rules) == 104 and len(one_op) == 24
    assert "a * b + c" in rules and "(b + c) * a" in rules and "(a - b) * c" in rules
    assert "a + (b + c)" not in rules and "a * (b + c)" not in rules  # represented by a + b + c, (b + c) * a
    assert "b + a" not in one_op and "b - a" in one_op


def test_split_disjoint_and_seeded():
    spec = ProceduralSpec()
    rules = enumerate_rules(spec)
    train, test = split_rules(rules, spec, seed=0)
    assert not set(train) & set(test) and sorted(train + test) == rules
    assert len(test) == round(len(rules) * spec.test_fraction)
    assert split_rules(rules, spec, seed=0) == (train, test) != split_rules(rules, spec, seed=1)


def test_make_tasks():
    spec = ProceduralSpec()
    kw = dict(system_prompt="S", user_prompt="U")
    tasks = make_tasks(spec, "train", 50, seed=0, **kw)
    assert tasks == make_tasks(spec, "train", 50, seed=0, **kw) != make_tasks(spec, "train", 50, seed=1, **kw)
    train_rules, test_rules = split_rules(enumerate_rules(spec), spec, seed=0)
    assert {t.rule for t in tasks} <= set(train_rules)
    assert {t.rule for t in make_tasks(spec, "test", 50, seed=0, **kw)} <= set(test_rules)
    t = tasks[12]
    assert t.task_id == "proc-train-00012" and t.messages[1] == {"role": "user", "content": "U"}
    assert len(t.test_case) == 4 and all(1 <= x <= 9 for x in t.test_case) and t.expected.is_integer()
    env = make("function-proc-v0")
    env.reset(options={"task": t})
    assert env.step(f"[answer] {t.expected}")[1] == 1.0


def test_rules_consistent():
    rules = ["a + b", "a * b", "a - b", "b - a", "a * b + c", "a / b"]
    assert rules_consistent(rules, []) == rules
    assert rules_consistent(rules, [((2, 2, 0, 0), 4.0)]) == ["a + b", "a * b", "a * b + c"]
    assert rules_consistent(rules, [((2, 2, 0, 0), 4.0), ((3, 1, 5, 0), 4.0)]) == ["a + b"]
    assert rules_consistent(rules, [((1, 3, 0, 0), 0.3333)]) == ["a / b"]  # matches the 4-decimal feedback
    assert rules_consistent(rules, [((1, 0, 0, 0), 1.0)]) == ["a + b", "a - b"]  # a / b fails on b = 0
