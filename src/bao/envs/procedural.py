"""Procedurally generated Function-Gym tasks: a small rule grammar with a held-out rule split.

The UserRL data has only 538 hand-written rules. Enumerating every rule of a small grammar gives an
unlimited supply of tasks with a clean generalisation test: the test split uses rules that never occur in
training. A rule combines ``num_vars`` distinct variables (ordered, from ``a b c d``) with ``num_ops``
binary operators; with two operators both bracketings are generated. Rules that compute the same function
(``a + b + c`` / ``a + (b + c)``) are merged by their outputs on fixed probe tuples, keeping the simplest
spelling. Test cases are always four numbers (the gym's action grammar), unused variables are ignored, and
only integer-valued answers are kept, as in the original data (all 538 expected results are integers).
:func:`rules_consistent` is the candidate set a scripted teacher narrows down with probes.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from bao.envs.base import Task
from bao.envs.function_gym import VARIABLES
from bao.envs.safe_eval import EvalError, compile_rule
from bao.seeding import rng

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 3}
_N_PROBES = 20
_MAX_DRAWS = 1000  # (rule, test case) draws per task before giving up on integer-valued answers


@dataclass(frozen=True)
class ProceduralSpec:
    num_ops: int = 2
    num_vars: int = 3
    ops: tuple[str, ...] = ("+", "-", "*")
    value_range: tuple[int, int] = (1, 9)
    test_fraction: float = 0.2

    def __post_init__(self):
        if self.num_ops not in (1, 2):
            raise ValueError(f"num_ops must be 1 or 2, got {self.num_ops}")
        if self.num_vars != self.num_ops + 1:
            raise ValueError(f"num_vars must be num_ops + 1 = {self.num_ops + 1}, got {self.num_vars}")
        unknown = set(self.ops) - set(_PRECEDENCE)
        if not self.ops or unknown:
            raise ValueError(f"ops must be a non-empty subset of {sorted(_PRECEDENCE)}, got {self.ops}")
        lo, hi = self.value_range
        if lo > hi:
            raise ValueError(f"value_range must be (lo, hi) with lo <= hi, got {self.value_range}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")


@functools.lru_cache(maxsize=None)
def _compiled(rule: str) -> Callable[[Mapping[str, float]], float]:
    return compile_rule(rule, frozenset(VARIABLES))


def _apply(rule: str, case: Sequence[float]) -> float:
    return _compiled(rule)(dict(zip(VARIABLES, map(float, case))))


def _combine(left: str, left_op: str | None, op: str, right: str, right_op: str | None) -> str:
    """``left op right`` with the parentheses Python's precedence needs (``**`` is right-associative)."""
    p = _PRECEDENCE[op]
    if left_op and (_PRECEDENCE[left_op] < p or (_PRECEDENCE[left_op] == p and op == "**")):
        left = f"({left})"
    if right_op and (_PRECEDENCE[right_op] < p or (_PRECEDENCE[right_op] == p and op != "**")):
        right = f"({right})"
    return f"{left} {op} {right}"


def _candidates(spec: ProceduralSpec) -> list[str]:
    out = []
    for names in itertools.permutations(VARIABLES, spec.num_vars):
        if spec.num_ops == 1:
            out += [_combine(names[0], None, op, names[1], None) for op in spec.ops]
            continue
        x, y, z = names
        for o1, o2 in itertools.product(spec.ops, repeat=2):
            out.append(_combine(_combine(x, None, o1, y, None), o1, o2, z, None))  # (x o1 y) o2 z
            out.append(_combine(x, None, o1, _combine(y, None, o2, z, None), o2))  # x o1 (y o2 z)
    return out


def _signature(rule: str, probes: Sequence[tuple[int, ...]]) -> tuple[str | None, ...]:
    sig = []
    for case in probes:
        try:
            sig.append(f"{_apply(rule, case):.10g}")  # 10 significant digits absorb float reassociation noise
        except EvalError:
            sig.append(None)
    return tuple(sig)


def enumerate_rules(spec: ProceduralSpec) -> list[str]:
    """All functionally distinct rules of the grammar, sorted; the simplest spelling represents each function."""
    gen = rng(0, "procedural", "probes")
    lo, hi = spec.value_range
    probes = [tuple(gen.randint(lo, hi) for _ in VARIABLES) for _ in range(_N_PROBES)]
    seen: set[tuple[str | None, ...]] = set()
    kept = []
    # fewest parentheses first, so "a + b + c" represents its class rather than "a + (b + c)"
    for rule in sorted(set(_candidates(spec)), key=lambda r: (r.count("("), r)):
        sig = _signature(rule, probes)
        if all(v is None for v in sig) or sig in seen:
            continue
        seen.add(sig)
        kept.append(rule)
    return sorted(kept)


def split_rules(rules: Sequence[str], spec: ProceduralSpec, seed: int) -> tuple[list[str], list[str]]:
    """Deterministic disjoint (train, test) partition; the test share is ``spec.test_fraction`` (at least one)."""
    if len(rules) < 2:
        raise ValueError(f"need at least 2 rules to split, got {len(rules)}")
    order = sorted(rules)
    rng(seed, "procedural", "split", repr(spec)).shuffle(order)
    n_test = min(len(order) - 1, max(1, round(len(order) * spec.test_fraction)))
    return sorted(order[n_test:]), sorted(order[:n_test])


def make_tasks(spec: ProceduralSpec, split: str, n: int, seed: int, system_prompt: str,
               user_prompt: str) -> list[Task]:
    """``n`` (rule, test case) tasks from ``split``'s rules, drawn with ``rng(seed, "tasks", split)``."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    train, test = split_rules(enumerate_rules(spec), spec, seed)
    pool = train if split == "train" else test
    gen = rng(seed, "tasks", split)
    lo, hi = spec.value_range
    messages = ({"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt})
    tasks = []
    for i in range(n):
        for _ in range(_MAX_DRAWS):
            rule = gen.choice(pool)
            case = tuple(gen.randint(lo, hi) for _ in VARIABLES)
            try:
                expected = _apply(rule, case)
            except EvalError:
                continue
            if expected.is_integer():
                break
        else:
            raise RuntimeError(f"no integer-valued (rule, test case) found in {_MAX_DRAWS} draws for {spec}")
        tasks.append(Task(task_id=f"proc-{split}-{i:05d}", rule=rule, test_case=case, expected=expected,
                          messages=messages, split=split, meta={"source": "procedural"}))
    return tasks


def rules_consistent(rules: Sequence[str], observations: Sequence[tuple[tuple[float, ...], float]]) -> list[str]:
    """Rules that reproduce every observed ``(probe, result)``.

    A result matches within 1e-6 of the exact value or of the value rounded to 4 decimals (the gym's probe
    feedback is rounded); a rule that fails numerically on a probe is inconsistent with it.
    """

    def fits(rule: str) -> bool:
        for case, observed in observations:
            try:
                v = _apply(rule, case)
            except EvalError:
                return False
            if abs(v - observed) > 1e-6 and abs(round(v, 4) - observed) > 1e-6:
                return False
        return True

    return [r for r in rules if fits(r)]
