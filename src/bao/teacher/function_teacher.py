"""Scripted Function-Gym teachers: behavior-enhanced and plain (run through ``python -m bao.teacher --help``).

Both teachers play the real env and see the hidden rule only through it. They track the *candidate set*:
every rule of the procedural grammar (the teacher knows the grammar, not the rule) that reproduces every probe
result so far. Each turn they either

* ``search`` the test case (first turn),
* ``action``: probe the tuple from a fixed pool that splits the candidates' predicted outputs most finely
  (the most informative query), or
* ``answer``: commit when every candidate predicts the same test-case value; with probability
  ``teacher.early_commit_prob`` they already commit when 2-3 values remain (the plurality value), and they
  commit on their last two turns whatever is left (budget scheduling). A wrong answer removes every
  candidate that predicted it, so the data shows recovery from a wrong answer (retrospective revision).

The **enhanced** teacher writes its reasoning into ``<think>`` (paper: behavior enhancement; the exact format of
BAO's teacher is unknown, this one is ours):

* retrospective reasoning - ``Memory:`` the test case (values named a..d), the latest probe and every wrong
  answer; ``Check:`` the current hypothesis recomputed on the latest probe, one operation at a time;
  ``Revise:`` after a wrong answer;
* prospective planning - ``Plan:`` turns left, how many answers the candidates still allow, and the next
  query (probe to split them / answer now, or guess when the budget runs out); ``Test:`` the committed
  hypothesis applied to the test case, one operation at a time.

``teacher.think: compact`` (ours) keeps the same behaviours in fewer tokens: a probe turn writes only the latest
probe result, the wrong answers and a one-clause plan; an answer turn adds the test case and the ``Test:``
computation (the arithmetic the answer needs); ``Check:`` and the restated test case on probe turns are dropped.

``teacher.mistake_prob`` (ours): in that share of episodes the first answer is a deliberate wrong one (the value
of another rule of the grammar, with that rule's ``Test:`` arithmetic), which SFT sees as context but does not
train on; the turns after it show the recovery (``Revise:``, then the teacher's own next decision). The
policy's own greedy failures are almost all after a wrong first answer, which it recovers from in ~5% of
episodes ([probes.md](../../../docs/probes.md)); the teacher's data shows a wrong answer in few episodes only.

The **plain** teacher takes exactly the same actions with an empty think block (the "-enhancement" ablation).
"""

from __future__ import annotations

import ast
import re
from collections import Counter

from bao.agent.prompts import FUNCTION_SYSTEM_PROMPT, FUNCTION_USER_PROMPT
from bao.agent.toolcall import render_assistant
from bao.envs import format_action, make
from bao.envs.base import Task
from bao.envs.function_gym import VARIABLES
from bao.envs.procedural import ProceduralSpec, enumerate_rules, make_tasks, rules_consistent
from bao.envs.procedural import _apply as apply_rule
from bao.envs.safe_eval import EvalError, evaluate
from bao.seeding import FRESH_DRAWS, rng
from bao.teacher import ScriptedTeacher, TeacherEpisode

_RESULT_RE = re.compile(r"For numbers \[([^\]]*)\], the result is (-?[\d.]+(?:e-?\d+)?)\.")
_TEST_RE = re.compile(r"Test case: \[([^\]]*)\]")
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def fmt(x: float) -> str:
    """Numbers as the teacher writes them: integers without a trailing .0."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:.4f}".rstrip("0").rstrip(".")


def explain(rule: str, case) -> tuple[str, float]:
    """Evaluate ``rule`` on ``case`` one operation at a time: ("2*3=6 6+4=10", 10.0)."""
    env = dict(zip(VARIABLES, map(float, case)))
    steps: list[str] = []

    def walk(node) -> float:
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            op = _OPS[type(node.op)]
            value = evaluate(f"x {op} y", {"x": left, "y": right})
            steps.append(f"{fmt(left)}{op}{fmt(right)}={fmt(value)}")
            return value
        raise ValueError(f"unsupported node in rule {rule!r}")

    value = walk(ast.parse(rule, mode="eval").body)
    return " ".join(steps), value


def _pretty(rule: str) -> str:
    return rule.replace(" ", "")


def _bind(rule: str, case) -> str:
    """The rule's variables with their values, in order of appearance: ``c=5 d=1 b=4``. Writing the
    substitution out makes the arithmetic that follows a local computation."""
    seen = []
    for ch in rule:
        if ch in VARIABLES and ch not in seen:
            seen.append(ch)
    return " ".join(f"{v}={fmt(case[VARIABLES.index(v)])}" for v in seen)


def _named(case) -> str:
    """``a=3 b=5 c=5 d=3``: values next to their names, so applying a rule needs no positional lookup."""
    return " ".join(f"{v}={fmt(x)}" for v, x in zip(VARIABLES, case))


THINK_FORMS = ("full", "compact")


class FunctionTeacher(ScriptedTeacher):
    def __init__(self, spec: ProceduralSpec, style: str, early_commit_prob: float, probe_pool_size: int,
                 horizon: int, seed: int, think: str = "full", mistake_prob: float = 0.0):
        super().__init__(style, early_commit_prob, horizon)
        self.p_mistake = mistake_prob
        if think not in THINK_FORMS:
            raise ValueError(f"teacher.think must be one of {THINK_FORMS}, got {think!r}")
        self.compact = think == "compact"
        self.hypotheses = enumerate_rules(spec)
        g = rng(seed, "teacher", "probe-pool")
        lo, hi = spec.value_range
        self.pool = [tuple(g.randint(lo, min(hi, 6)) for _ in VARIABLES) for _ in range(probe_pool_size)]

    # --- decisions -------------------------------------------------------------------------------------------
    def _predictions(self, cands, test) -> Counter:
        c: Counter = Counter()
        for r in cands:
            v = self._safe(r, test)
            if v is not None:
                c[v] += 1
        return c

    def _best_probe(self, cands, test, used):
        def split(p):
            outs = Counter()
            for r in cands:
                v = self._safe(r, p)
                outs[None if v is None else round(v, 4)] += 1
            return max(outs.values())  # size of the largest indistinguishable class (smaller is better)

        options = [p for p in self.pool if p != tuple(test) and p not in used] or \
                  [p for p in self.pool if p != tuple(test)]
        return min(options, key=lambda p: (split(p), self.pool.index(p)))

    # --- one episode -----------------------------------------------------------------------------------------
    def play(self, task: Task, seed: int) -> TeacherEpisode:
        g = rng(seed, "teacher-episode", task.task_id)
        env = make("function-proc-v0", max_steps=self.horizon)
        env.reset(options={"task": task})
        cands = list(self.hypotheses)
        test = None
        observations: list[tuple[tuple, float]] = []
        wrong: list[float] = []
        used: list[tuple] = []
        assistant, feedback = [], []
        success, n_answers, early_used = False, 0, 0
        last_feedback = ""
        trained: list[bool] = []
        # its own stream, so episodes without a mistake are the same as with mistake_prob 0
        mistake = self.p_mistake > 0 and rng(seed, "teacher-mistake", task.task_id).random() < self.p_mistake
        for turn in range(self.horizon):
            left = self.horizon - turn
            think: list[str] = []
            deliberate = False  # this turn's answer is the deliberate mistake (not trained on)
            if test is None:
                choice, content = "search", "test"
                think.append(f"Plan: {left} left; get the test case." if self.compact else
                             f"Plan: {left} turns left. Get the test case, probe the rule, answer only when sure.")
            else:
                preds = self._predictions(cands, test)
                n_values = len(preds)
                if self.compact:
                    think.append(self._memory(None, observations, wrong) if observations or wrong else "")
                else:
                    think.append(self._memory(test, observations, wrong))
                    if last_feedback.startswith("Your answer is wrong") and wrong:
                        think.append(f"Revise: {fmt(wrong[-1])} was wrong; drop the rules that give it.")
                    hyp = cands[0] if cands else None
                    if hyp is not None and observations:
                        steps, _ = explain(hyp, observations[-1][0])
                        think.append(f"Check: {_pretty(hyp)} with {_bind(hyp, observations[-1][0])}: {steps} ok.")
                commit = n_values <= 1
                if not commit and n_values <= 3 and early_used == 0 and g.random() < self.p_early:
                    commit, early_used = True, 1
                if not commit and left <= 2:  # budget scheduling: the last turns go to the best guesses
                    commit = True
                if commit and preds:
                    value = preds.most_common(1)[0][0]
                    hyp = next(r for r in cands if self._safe(r, test) == value)
                    if mistake and n_answers == 0 and left >= 3:  # the deliberate wrong first answer
                        deliberate = True
                        hyp, value = self._wrong_rule(rng(seed, "teacher-mistake-rule", task.task_id), test,
                                                      set(preds))
                    steps, _ = explain(hyp, test)
                    how = "sure" if n_values == 1 else f"{n_values} answers possible, guess"
                    if self.compact:
                        think[-1] = self._memory(test, observations, wrong)
                        think.append(f"Test: {_pretty(hyp)}: {steps}.")
                        think.append(f"Plan: {left} left; {how}.")
                    else:
                        think.append(f"Test: {_pretty(hyp)} with {_bind(hyp, test)}: {steps}.")
                        think.append(f"Plan: {left} turns left; {how}; answer {fmt(value)}.")
                    choice, content = "answer", fmt(value)
                else:
                    probe = self._best_probe(cands, test, used)
                    used.append(probe)
                    think.append(f"Plan: {left} left; {n_values} answers possible; probe." if self.compact else
                                 f"Plan: {left} turns left; {n_values} answers possible; probe to split them.")
                    choice, content = "action", " ".join(map(str, probe))
            text = render_assistant("\n".join(t for t in think if t) if self.style == "enhanced" else "", choice,
                                    content)
            trained.append(not deliberate)
            obs, reward, term, trunc, info = env.step(format_action(choice, content))
            assistant.append(text)
            feedback.append(obs)
            last_feedback = obs
            if choice == "answer":
                n_answers += 1
            if choice == "search":
                m = _TEST_RE.search(obs)
                test = tuple(int(float(x)) for x in m.group(1).split(",")) if m else None
            elif choice == "action":
                m = _RESULT_RE.search(obs)
                if m:
                    observations.append((probe, float(m.group(2))))
                    cands = rules_consistent(cands, [observations[-1]])
            elif choice == "answer" and reward <= 0:
                wrong.append(float(content))
                cands = [r for r in cands if self._safe(r, test) != float(content)]
            if term or trunc:
                success = bool(info.get("success"))
                break
        return TeacherEpisode(task.task_id, [dict(m) for m in task.messages], assistant, feedback, success,
                              n_answers, trained if not all(trained) else None)

    def _wrong_rule(self, g, test, right_values):
        """A rule of the grammar whose test-case value no current candidate predicts, and that value."""
        order = list(range(len(self.hypotheses)))
        g.shuffle(order)
        for i in order:
            v = self._safe(self.hypotheses[i], test)
            if v is not None and v not in right_values:
                return self.hypotheses[i], v
        raise RuntimeError("no rule of the grammar gives a wrong test-case value")

    @staticmethod
    def _safe(rule, case):
        try:
            return apply_rule(rule, case)
        except EvalError:
            return None

    @staticmethod
    def _memory(test, observations, wrong) -> str:
        """``Memory:`` the test case (unless ``test`` is None), the latest probe and every wrong answer."""
        parts = ["Memory:"] if test is None else [f"Memory: test {_named(test)}."]
        if observations:
            p, v = observations[-1]
            parts.append(f"Probe {len(observations)}: f({' '.join(fmt(x) for x in p)})={fmt(v)}.")
        if wrong:
            parts.append("Wrong: " + ", ".join(fmt(w) for w in wrong) + ".")
        return " ".join(parts)


def spec_from_config(env_cfg) -> ProceduralSpec:
    return ProceduralSpec(num_ops=env_cfg.num_ops, num_vars=env_cfg.num_vars, ops=tuple(env_cfg.ops),
                          value_range=(env_cfg.value_min, env_cfg.value_max), test_fraction=env_cfg.test_fraction)


def system_prompt(env_cfg) -> str:
    return FUNCTION_SYSTEM_PROMPT.format(horizon=env_cfg.horizon)


def procedural_tasks(cfg, split: str, n: int | None = None, seed: int | None = None) -> list[Task]:
    """Tasks of the embedded gym. ``split``: train | test (unseen rules) | test_seen (training rules, new cases)
    | val (training rules, new cases, another seed: RL's validation)."""
    spec = spec_from_config(cfg.function)
    base_seed = cfg.seed if seed is None else seed
    if split in FRESH_DRAWS:
        offset, tag = FRESH_DRAWS[split]
        n = cfg.function.n_test_tasks if n is None else n
        tasks = make_tasks(spec, "train", n, base_seed + offset, system_prompt(cfg.function), FUNCTION_USER_PROMPT)
        return [Task(task_id=t.task_id.replace("train", tag), rule=t.rule, test_case=t.test_case,
                     expected=t.expected, messages=t.messages, split=split, meta=t.meta) for t in tasks]
    if n is None:
        n = cfg.function.n_train_tasks if split == "train" else cfg.function.n_test_tasks
    return make_tasks(spec, split, n, base_seed, system_prompt(cfg.function), FUNCTION_USER_PROMPT)


def generate(cfg, style: str, n: int, seed: int, progress: bool = False) -> list[TeacherEpisode]:
    teacher = FunctionTeacher(spec_from_config(cfg.function), style, cfg.teacher.early_commit_prob,
                              cfg.teacher.probe_pool_size, cfg.function.horizon, cfg.seed, cfg.teacher.think,
                              cfg.teacher.mistake_prob)
    tasks = procedural_tasks(cfg, "train", n=n, seed=seed)
    it = tasks
    if progress:
        from tqdm import tqdm

        it = tqdm(tasks, desc=f"teacher[{style}]", unit="ep", dynamic_ncols=True)
    return [teacher.play(t, seed) for t in it]
