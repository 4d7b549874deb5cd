"""Structured fuzzing: inputs built to reach the code, not random strings that die in the first check.

Strategies generate well-formed tool calls (each choice with contents of the right shape: four integers, a
number, ``test``, a question, an entity, a story), near misses of them (truncated, a brace or quote dropped, a
wrong key / tool / choice, non-string content, arguments as a JSON string, a missing closing tag) and garbage,
and feed them through the path the rollout takes: ``parse_assistant`` -> ``env.step`` or ``env.invalid_step``
on every registered gym. Also ``safe_eval`` on generated expressions and the config loader on generated
overrides. Properties: nothing raises, no step takes longer than ``STEP_BOUND_S``, and the env's state stays
consistent (step count, done flags, rewards in [0, 1], no reward after the end).

CI runs ``FUZZ_EXAMPLES`` (200) inputs per property; ``RUN_SLOW=1`` runs 10,000 per property and
``test_fuzz_report`` prints how many inputs reached ``step`` and beyond, and the branch coverage of the code
under test (``coverage``).
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bao.agent.toolcall import CHOICES, TOOL_NAME, parse_assistant, render_assistant
from bao.config import ConfigError, config_from_dict
from bao.envs import make
from bao.envs.base import format_action
from bao.envs.safe_eval import EvalError, UnsafeExpression, evaluate

from test_contract import IDS, SAMPLES  # noqa: E402 (tests/envs is on sys.path under pytest)

SLOW = os.environ.get("RUN_SLOW") == "1"
FUZZ_EXAMPLES = int(os.environ.get("BAO_FUZZ_EXAMPLES", 10_000 if SLOW else 200))
STEP_BOUND_S = 2.0  # a hang guard, not a speed target (CI machines are shared)
REACHED: Counter = Counter()
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))

# --- tool-call messages -------------------------------------------------------------------------------------
_ints = st.integers(-20, 20)
_content = {
    "action": st.one_of(st.tuples(_ints, _ints, _ints, _ints).map(lambda t: " ".join(map(str, t))),
                        st.sampled_from(["is it red?", "is it an animal?", "did he use a knife?", "1 2 3"]),
                        st.text(max_size=40)),
    "answer": st.one_of(st.integers(-500, 500).map(str), st.floats(-50, 50, allow_nan=False).map(lambda x: f"{x:g}"),
                        st.sampled_from(["red square", "the butler, poison, kitchen, money", "7", ""]),
                        st.text(max_size=40)),
    "search": st.one_of(st.just("test"), st.text(max_size=20)),
}
_call = st.sampled_from(CHOICES).flatmap(lambda c: st.tuples(st.just(c), _content[c]))
well_formed = st.tuples(st.text(max_size=60), _call).map(lambda t: render_assistant(t[0], *t[1]))


def _mutate(text: str, how: str, k: int) -> str:
    i = k % max(1, len(text))
    return {
        "truncate": text[:i],
        "drop_char": text[:i] + text[i + 1:],
        "drop_brace": text.replace("}", "", 1),
        "drop_quote": text.replace('"', "", 1),
        "wrong_tool": text.replace(TOOL_NAME, "interact"),
        "wrong_key": text.replace('"choice"', '"chioce"'),
        "wrong_choice": text.replace('"choice": "', '"choice": "X', 1),
        "no_close_tag": text.replace("</tool_call>", ""),
        "numeric_content": text.replace('"content": "', '"content": 12, "x": "', 1),
        "list_content": text.replace('"content": "', '"content": ["', 1).replace('"}}', '"]}}', 1),
        "string_arguments": text.replace('"arguments": {', '"arguments": "{', 1),
        "nested": text.replace('"arguments": {', '"arguments": {"arguments": {', 1),
        "two_calls": text + text,
    }[how]


_MUTATIONS = ["truncate", "drop_char", "drop_brace", "drop_quote", "wrong_tool", "wrong_key", "wrong_choice",
              "no_close_tag", "numeric_content", "list_content", "string_arguments", "nested", "two_calls"]
near_miss = st.tuples(well_formed, st.sampled_from(_MUTATIONS), st.integers(0, 10**6)).map(lambda t: _mutate(*t))
garbage = st.one_of(st.text(max_size=200), st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
                    st.text(alphabet=st.sampled_from(list('<>/{}[]":,\\ tool_call think\n0123456789')), max_size=200))
message = st.one_of(well_formed, near_miss, garbage)


@FUZZ
@given(st.tuples(st.text(max_size=60), _call))
def test_fuzz_well_formed_calls_parse_back_exactly(parts):
    think, (choice, content) = parts
    p = parse_assistant(render_assistant(think, choice, content))
    REACHED["parser/valid"] += 1
    assert p.valid and (p.choice, p.content) == (choice, content)


@FUZZ
@given(st.one_of(near_miss, garbage))
def test_fuzz_near_misses_and_garbage_never_raise(text):
    p = parse_assistant(text)
    REACHED["parser/" + ("valid" if p.valid else "error" if p.has_tool_call else "no_call")] += 1
    assert p.valid or not p.has_tool_call or p.error


# --- every registered gym, through the rollout's path -----------------------------------------------------
@pytest.mark.parametrize("env_id", IDS)
@FUZZ
@given(messages=st.lists(message, min_size=1, max_size=24))
def test_fuzz_every_gym_stays_consistent(env_id, messages):
    task, kwargs, _ = SAMPLES[env_id]
    env = make(env_id, **kwargs)
    env.reset(seed=0, options={"task": task})
    done, steps = False, 0
    for text in messages:
        p = parse_assistant(text)
        if not p.has_tool_call:
            break  # the rollout ends the episode here
        t0 = time.perf_counter()
        if p.valid:
            out = env.step(format_action(p.choice, p.content))
            REACHED[f"{env_id}/step/{p.choice}"] += 1
        else:
            out = env.invalid_step(p.error)
            REACHED[f"{env_id}/invalid_step"] += 1
        assert time.perf_counter() - t0 < STEP_BOUND_S
        feedback, reward, terminated, truncated, info = out
        steps += 1
        assert isinstance(feedback, str) and type(reward) is float and 0.0 <= reward <= 1.0
        if done:
            assert reward == 0.0  # nothing counts after the end
            REACHED[f"{env_id}/after_end"] += 1
            continue
        assert info["step"] == min(steps, env.max_steps)
        if p.valid and p.choice in env.user_involved_choices:
            assert info["user_involved"]
        if terminated:
            REACHED[f"{env_id}/terminated"] += 1
        done = terminated or truncated


# --- safe_eval and the config loader -----------------------------------------------------------------------
_atom = st.one_of(st.sampled_from(list("abcd")), st.integers(-30, 30).map(str), st.just("0.5"))
_arith = st.recursive(_atom, lambda e: st.one_of(
    st.tuples(e, st.sampled_from(["+", "-", "*", "/", "**"]), e).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    e.map(lambda x: f"-{x}")), max_leaves=12)
_unsafe = st.tuples(_arith, st.sampled_from(["__import__({})", "abs({})", "{}.real", "[{}]", "{} if a else b",
                                             "lambda: {}", "({} // 2)", "({} % 3)", "e", "{} and 1", "'{}'"]))
_expr = st.one_of(_arith, _arith, _arith, _unsafe.map(lambda t: t[1].format(t[0])))


@FUZZ
@given(_expr, st.tuples(*[st.integers(-10, 10)] * 4))
def test_fuzz_safe_eval_returns_a_number_or_one_of_its_errors(expr, vals):
    t0 = time.perf_counter()
    try:
        v = evaluate(expr, dict(zip("abcd", vals)))
        REACHED["safe_eval/value"] += 1
        assert isinstance(v, (int, float))
    except (UnsafeExpression, EvalError):
        REACHED["safe_eval/refused"] += 1
    assert time.perf_counter() - t0 < STEP_BOUND_S


# (section, key) -> values the loader must accept; every key also gets arbitrary values it must refuse cleanly
_VALID = {("rl", "lr"): st.floats(1e-7, 1.0), ("rl", "steps"): st.integers(1, 50),
          ("rl", "optimizer"): st.sampled_from(["adamw", "sgd"]), ("rl", "score_decimals"): st.one_of(
              st.none(), st.integers(0, 12)), ("sft", "batch_size"): st.integers(1, 64),
          ("eval", "bootstrap"): st.sampled_from(["cluster", "task"]), ("function", "value_max"): st.integers(2, 12),
          ("resume", "rl_every"): st.integers(0, 10), ("seeds", None): st.lists(st.integers(0, 5), min_size=1,
                                                                                 max_size=3, unique=True),
          ("gyms", None): st.sampled_from([["function"], ["telepathy", "turtle"]])}
_any = st.one_of(st.none(), st.booleans(), st.integers(-5, 100), st.floats(allow_nan=True), st.text(max_size=12),
                 st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
_override = st.sampled_from(sorted(_VALID, key=str)).flatmap(
    lambda k: st.tuples(st.just(k), st.one_of(_VALID[k], _VALID[k], _any)))


@FUZZ
@given(st.lists(_override, max_size=4))
def test_fuzz_config_overrides_load_or_raise_one_config_error(overrides):
    raw: dict = {}
    for (section, key), value in overrides:
        if key is None:
            raw[section] = value
        else:
            raw.setdefault(section, {})[key] = value
    try:
        config_from_dict(raw)
        REACHED["config/loaded"] += 1
    except ConfigError as e:
        REACHED["config/ConfigError"] += 1
        assert str(e)


@pytest.fixture(scope="module", autouse=True)
def _print_reached():
    """After the module: what the inputs reached (printed with ``-s``; the slow report runs the module so)."""
    yield
    if SLOW:
        print(f"\nfuzz: {FUZZ_EXAMPLES} inputs per property; reached:")
        for k in sorted(REACHED):
            print(f"  {k:40s} {REACHED[k]:>8d}")


@pytest.mark.slow
def test_fuzz_report():
    """RUN_SLOW=1: the properties above at 10,000 inputs each, in a child pytest under branch coverage; prints
    what the inputs reached and the coverage of the code under test."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    data = root / "benchmarks" / "out" / ".coverage.fuzz"
    data.parent.mkdir(parents=True, exist_ok=True)
    include = "*/bao/agent/toolcall.py,*/bao/envs/*.py,*/bao/config.py"
    t0 = time.time()
    run = subprocess.run([sys.executable, "-m", "coverage", "run", f"--data-file={data}", "--branch",
                          f"--include={include}", "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                          str(Path(__file__)), "-k", "not test_fuzz_report"],
                         cwd=root, capture_output=True, text=True, env={**os.environ, "RUN_SLOW": "1"})
    report = subprocess.run([sys.executable, "-m", "coverage", "report", f"--data-file={data}"], cwd=root,
                            capture_output=True, text=True)
    print(run.stdout[-6000:], f"\nfuzz wall time: {time.time() - t0:.0f} s\n", report.stdout)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    counts = dict(line.split() for line in run.stdout.splitlines() if line.startswith("  ") and len(line.split()) == 2)
    assert int(counts["parser/valid"]) >= FUZZ_EXAMPLES
    assert all(int(counts.get(f"{e}/step/{c}", 0)) > 0 for e in IDS for c in ("action", "answer", "search"))
