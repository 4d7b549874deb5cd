"""The Gymnasium-shaped contract, parametrized over every registered gym id.

Each id needs a sample task (and, for LLM-user ids, an offline stand-in user) in ``SAMPLES``; registering a gym
without one fails ``test_every_registered_id_has_a_sample``.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bao.envs import ENVS, Task, make
from bao.envs.telepathy import TELEPATHY_SYSTEM_PROMPT, KBSpec, KBUser, make_entity_tasks
from bao.envs.turtle import FactUser, PuzzleSpec, make_puzzle_tasks, story_text

_FUNCTION_TASK = Task(task_id="t-1", rule="c * (a * b) * d", test_case=(3, 5, 5, 3), expected=225.0,
                      messages=({"role": "system", "content": "sys"}, {"role": "user", "content": "go"}),
                      split="test")
_ENTITY_TASK = make_entity_tasks(KBSpec(), "test", 1, 0, TELEPATHY_SYSTEM_PROMPT, 12)[0]
_PUZZLE = make_puzzle_tasks(PuzzleSpec(), "test", 1, 0, 15)[0]

# env id -> (sample task, make() kwargs, a winning action)
SAMPLES = {
    "function-v0": (_FUNCTION_TASK, {}, "[answer] 225"),
    "function-proc-v0": (_FUNCTION_TASK, {}, "[answer] 225"),
    "telepathy-v0": (_ENTITY_TASK, {"user": KBUser(KBSpec())}, f"[answer] {_ENTITY_TASK.target}"),
    "telepathy-proc-v0": (_ENTITY_TASK, {}, f"[answer] {_ENTITY_TASK.target}"),
    "turtle-v0": (_PUZZLE, {"user": FactUser(PuzzleSpec())}, f"[answer] {story_text(_PUZZLE.facts)}"),
    "turtle-proc-v0": (_PUZZLE, {}, f"[answer] {story_text(_PUZZLE.facts)}"),
}
IDS = ENVS.names()


def _env(env_id):
    task, kwargs, _ = SAMPLES[env_id]
    env = make(env_id, **kwargs)
    return env, env.reset(seed=0, options={"task": task})


def test_every_registered_id_has_a_sample():
    assert set(IDS) == set(SAMPLES)
    for env_id in IDS:
        domain, _, version = env_id.rpartition("-v")
        assert domain and version.isdigit()


@pytest.mark.parametrize("env_id", IDS)
def test_reset_step_signature_and_info(env_id):
    env, (obs, info) = _env(env_id)
    assert isinstance(obs, str) and isinstance(info, dict)
    assert set(info) == {"choice", "user_involved", "success", "step", "task_id"} and info["step"] == 0
    feedback, reward, terminated, truncated, info = env.step("[action] is it 1 2 3 4")
    assert isinstance(feedback, str) and type(reward) is float
    assert type(terminated) is bool and type(truncated) is bool and info["step"] == 1


@pytest.mark.parametrize("env_id", IDS)
def test_reset_requires_a_task_of_the_right_type(env_id):
    _, kwargs, _ = SAMPLES[env_id]
    with pytest.raises(ValueError):
        make(env_id, **kwargs).reset(seed=0)
    other = _ENTITY_TASK if SAMPLES[env_id][0] is _FUNCTION_TASK else _FUNCTION_TASK
    with pytest.raises(ValueError, match="needs options"):
        make(env_id, **kwargs).reset(options={"task": other})


@pytest.mark.parametrize("env_id", IDS)
def test_same_task_same_actions_same_episode(env_id):
    win = SAMPLES[env_id][2]
    actions = ["[action] 1 2 3 4", "[search] test", "garbage", "[answer] 7", "[action] is it red?", win]
    runs = []
    for _ in range(2):
        env, first = _env(env_id)
        runs.append([first] + [env.step(a) for a in actions])
    assert runs[0] == runs[1]
    assert runs[0][-1][1] == 1.0 and runs[0][-1][2]  # the winning action wins and terminates


@pytest.mark.parametrize("env_id", IDS)
def test_horizon_truncates_and_user_actions_are_flagged(env_id):
    env, _ = _env(env_id)
    for i in range(1, env.max_steps + 1):
        *_, truncated, info = env.step("[answer] 0")
        assert info["user_involved"] and truncated == (i == env.max_steps)
    assert env.step(SAMPLES[env_id][2])[:2][1] == 0.0  # nothing counts after the end


_actions = st.one_of(
    st.text(max_size=200),
    st.tuples(st.sampled_from(["", "[action] ", "[answer] ", "[search] ", "[finish]", "[ans"]),
              st.text(max_size=200)).map("".join),
)


@pytest.mark.parametrize("env_id", IDS)
@settings(max_examples=100, deadline=None)
@given(actions=st.lists(_actions, min_size=1, max_size=20))
def test_fuzzed_actions_never_raise_or_hang(env_id, actions):
    env, _ = _env(env_id)
    for a in actions:
        t0 = time.perf_counter()
        feedback, reward, terminated, truncated, info = env.step(a)
        assert time.perf_counter() - t0 < 0.5
        assert isinstance(feedback, str) and 0.0 <= reward <= 1.0 and info["step"] <= env.max_steps


def test_gym_world_is_the_one_its_tasks_are_drawn_from():
    """``Gym.world(cfg)``: the spec the programmatic user answers from; every drawn task lives in it."""
    from pathlib import Path

    from bao.config import load_config
    from bao.gyms import GYMS

    cfg = load_config(Path(__file__).resolve().parents[2] / "config/config.yaml")
    assert GYMS.get("function").world(cfg) is None
    kb = GYMS.get("telepathy").world(cfg)
    assert isinstance(kb, KBSpec)
    for t in GYMS.get("telepathy").tasks(cfg, "test", 20):
        assert all(v in kb.values()[a] for a, v in t.attributes)
    spec = GYMS.get("turtle").world(cfg)
    assert isinstance(spec, PuzzleSpec)
    for t in GYMS.get("turtle").tasks(cfg, "test", 20):
        assert all(v in spec.values(s) for s, v, _ in t.facts)
