"""The training-reward table (bao.eval.training_reward) from hand-made episode files: the RL seeds of a method are
pooled against their SFT start, the deltas are the hand-computed differences, every column is there, and the DVC
metrics file mirrors the CSV."""

from pathlib import Path

import pandas as pd
import pytest

from bao.eval import training_reward as TR
from bao.io import read_json, write_jsonl
from bao.types import Episode, Turn

TASKS = ["t0", "t1", "t2", "t3"]


def _episode(task: str, solved: bool, sample: int, answers: int = 1) -> Episode:
    turns = [Turn(choice="action", content="q", valid=True, reward=0.0, feedback="", user_involved=False)]
    for k in range(answers):
        r = 1.0 if solved and k == answers - 1 else 0.0
        turns.append(Turn(choice="answer", content="a", valid=True, reward=r, feedback="", user_involved=True))
    return Episode(task_id=task, turns=turns, end_reason="success" if solved else "horizon", sample=sample)


def _write(root: Path, method: str, seed: int, mode: str, solved: set, samples: int, answers: int = 1) -> None:
    eps = [_episode(t, t in solved, k, answers) for t in TASKS for k in range(samples)]
    write_jsonl(TR.episode_file(root, "function", method, seed, mode), [e.to_dict() for e in eps])


@pytest.fixture
def results(tmp_path):
    # sampled (4 tasks x 2 samples): SFT solves t0, t1; BAO seed 0 t0-t2, seed 1 all; UserRL-GRPO t0 on both
    # seeds, answering twice (so its Pass@U-1 is 0 while its score is not)
    _write(tmp_path, "sft", 0, "sampled", {"t0", "t1"}, 2)
    _write(tmp_path, "bao", 0, "sampled", {"t0", "t1", "t2"}, 2)
    _write(tmp_path, "bao", 1, "sampled", set(TASKS), 2)
    _write(tmp_path, "userrl_grpo", 0, "sampled", {"t0"}, 2, answers=2)
    _write(tmp_path, "userrl_grpo", 1, "sampled", {"t0"}, 2, answers=2)
    # greedy (4 tasks): SFT solves t0; BAO t0, t1 on both seeds; UserRL-GRPO t0
    _write(tmp_path, "sft", 0, "greedy", {"t0"}, 1)
    for s in (0, 1):
        _write(tmp_path, "bao", s, "greedy", {"t0", "t1"}, 1)
        _write(tmp_path, "userrl_grpo", s, "greedy", {"t0"}, 1, answers=2)
    return tmp_path


PAIRS = ["function/bao:0,1=sft:0", "function/userrl_grpo:0,1=sft:0"]


def test_table_pools_seeds_against_the_sft_start(results):
    df = TR.build_table(results, [TR.Pair.parse(p) for p in PAIRS], n_boot=200, seed=0)
    assert set(["gym", "method", "n_seeds", "metric", "sft", "rl", "delta", "lo", "hi"]) <= set(df.columns)
    assert len(df) == 2 * len(TR.METRICS) and set(df.metric) == set(TR.METRICS)
    assert (df.n_seeds == 2).all() and (df.start == "sft").all() and (df.gym == "function").all()
    row = {(r.method, r.metric): r for r in df.itertuples()}
    expected = {  # (sft, rl) by hand
        ("bao", "sampled_reward"): (0.5, (0.75 + 1.0) / 2),
        ("bao", "sampled_pass_at_u1"): (0.5, 0.875),
        ("bao", "greedy_val_score"): (0.25, 0.5),
        ("userrl_grpo", "sampled_reward"): (0.5, 0.25),
        ("userrl_grpo", "sampled_pass_at_u1"): (0.5, 0.0),
        ("userrl_grpo", "greedy_val_score"): (0.25, 0.25),
        ("bao", "sampled_user_rate"): (0.5, 0.5),            # 1 answer of 2 turns
        ("userrl_grpo", "sampled_user_rate"): (0.5, 2 / 3),  # 2 answers of 3 turns
    }
    for key, (sft, rl) in expected.items():
        r = row[key]
        assert (r.sft, r.rl, r.delta) == pytest.approx((sft, rl, rl - sft)), key
        assert r.lo <= r.delta + 1e-12 and r.delta <= r.hi + 1e-12, key
    assert (row["bao", "sampled_reward"].n_tasks, row["bao", "sampled_reward"].samples) == (4, 2)
    assert (row["bao", "greedy_val_score"].n_tasks, row["bao", "greedy_val_score"].samples) == (4, 1)
    # BAO is never below SFT on any task, UserRL-GRPO never above: the intervals cannot cross to the other side
    assert row["bao", "sampled_reward"].lo >= 0 and row["userrl_grpo", "sampled_reward"].hi <= 0
    assert row["userrl_grpo", "greedy_val_score"].direction == "unresolved"


def test_cli_writes_md_csv_and_dvc_metrics(results):
    cfg = results / "cfg.yaml"
    cfg.write_text("gyms: [function]\nseeds: [0, 1]\neval: {n_boot: 100}\n"
                   "training_reward: {tasks: 4, samples: 2, greedy_tasks: 4}\n")
    md, csv, js = results / "tables/training_reward.md", results / "tables/training_reward.csv", results / "tr.json"
    TR.main(["table", "--config", str(cfg), "--results", str(results), "--pairs", *PAIRS, "--md", str(md),
             "--csv", str(csv), "--json", str(js)])
    df = pd.read_csv(csv)
    assert list(df.columns) == TR.COLUMNS and len(df) == 8
    text = md.read_text()
    assert "tasks x samples x seeds" in text and "| function | bao | sft | 4 x 2 x 2 | sampled_reward |" in text
    metrics = read_json(js)
    assert metrics["function"]["bao"]["sampled_reward"]["delta"] == pytest.approx(0.375)
    assert set(metrics["function"]["userrl_grpo"]["greedy_val_score"]) == {"sft", "rl", "delta", "lo", "hi"}


def test_pooled_sft_starts_pair_seed_by_seed(results):
    """With one SFT checkpoint per seed (``sft.shared: false``) the starts are pooled like the RL seeds."""
    _write(results, "sft", 1, "sampled", set(TASKS), 2)
    _write(results, "sft", 1, "greedy", {"t0"}, 1)
    df = TR.build_table(results, [TR.Pair.parse("function/bao:0,1=sft:0,1")], n_boot=50, seed=0)
    r = df[df.metric == "sampled_reward"].iloc[0]
    assert (r.sft, r.rl, r.delta) == pytest.approx((0.75, 0.875, 0.125))


def test_pair_spec_and_mode_settings():
    p = TR.Pair.parse("function/bao_no_enh:0=sft_plain:0")
    assert (p.gym, p.method, p.seeds, p.start, p.start_seeds) == ("function", "bao_no_enh", (0,), "sft_plain", (0,))
    with pytest.raises(ValueError, match="expected <gym>/<method>"):
        TR.Pair.parse("function/bao")
    from bao.config import config_from_dict

    cfg = config_from_dict({"training_reward": {"tasks": 5, "samples": 3, "temperature": 0.7, "greedy_tasks": 9}})
    assert TR.settings(cfg, "sampled") == {"tasks": 5, "samples": 3, "temperature": 0.7}
    assert TR.settings(cfg, "greedy") == {"tasks": 9, "samples": 1, "temperature": 0.0}
    per = config_from_dict({"training_reward": {"tasks": 5, "greedy_tasks": 9, "per_gym": {"turtle": {"tasks": 2}}}})
    assert TR.settings(per, "sampled", "turtle")["tasks"] == 2 and TR.settings(per, "sampled", "function")["tasks"] == 5
    assert TR.settings(per, "greedy", "turtle")["tasks"] == 9


def _curve(scores_by_step: list[list[float]], tasks_by_step: list[list[str]], group: int = 2) -> list[dict]:
    return [{"step": i, "rollout/n_episodes": group * len(t), "rollout/tasks": t, "rollout/task_scores": sc}
            for i, (sc, t) in enumerate(zip(scores_by_step, tasks_by_step))]


def test_curve_quarters_pairs_the_last_quarter_with_the_first_on_the_same_tasks():
    """8 steps (q = 2) x 2 tasks a step; steps 6, 7 replay the tasks of steps 0, 1. Seed 0 gains 0.5 on every
    (step, task) unit, seed 1 gains 0 on its four: pooled delta 0.25 by hand; first-quarter mean (0 x 4 +
    0.5 x 4) / 8."""
    draws = [["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"], ["i", "j"], ["k", "l"], ["a", "b"], ["c", "d"]]
    mid = [[0.3, 0.3]] * 4
    seed0 = _curve([[0.0, 0.0], [0.0, 0.0], *mid, [0.5, 0.5], [0.5, 0.5]], draws)
    seed1 = _curve([[0.5, 0.5], [0.5, 0.5], *mid, [0.5, 0.5], [0.5, 0.5]], draws)
    q = TR.curve_quarters([seed0, seed1], n_boot=500, seed=0)
    assert (q["first"], q["last"], q["delta"]) == pytest.approx((0.25, 0.5, 0.25))
    assert (q["n_tasks"], q["samples"]) == (4, 2)
    assert 0.0 <= q["lo"] <= 0.25 <= q["hi"] <= 0.5
    only_gains = TR.curve_quarters([seed0], n_boot=200, seed=0)  # every unit gains 0.5: no spread at all
    assert (only_gains["lo"], only_gains["hi"]) == pytest.approx((0.5, 0.5))
    fresh = [*draws[:6], ["m", "n"], ["o", "p"]]  # rl.replay_first_quarter off: nothing to pair
    assert TR.curve_quarters([_curve([[0.0, 0.0]] * 8, fresh)], n_boot=10, seed=0) is None
    assert TR.curve_quarters([seed0[:3]], n_boot=10, seed=0) is None  # under 4 steps: no quarters


def test_table_adds_the_rl_curve_row_when_the_runs_logged_their_tasks(results):
    from bao.io import write_jsonl

    draws = [["a"], ["b"], ["c"], ["a"]]
    for s, last in ((0, 1.0), (1, 0.5)):
        write_jsonl(TR.curve_file(results, "function", "bao", s), _curve([[0.0], [0.2], [0.4], [last]], draws, 8))
    df = TR.build_table(results, [TR.Pair.parse(p) for p in PAIRS], n_boot=100, seed=0)
    curve = df[df.metric == TR.CURVE_METRIC]
    assert list(curve.method) == ["bao"]  # UserRL-GRPO logged no curve here: no row
    r = curve.iloc[0]
    assert (r.sft, r.rl, r.delta, r.n_tasks, r.samples, r.n_seeds) == pytest.approx((0.0, 0.75, 0.75, 1, 8, 2))
    assert r.start == "first quarter" and r.direction == "up"


def test_val_tasks_are_sized_by_the_section_not_by_the_gym():
    """``evaluate(..., n_tasks=)`` plays that many val tasks (a scripted policy here), and the sampled tasks are
    the first of the greedy ones."""
    from bao.config import config_from_dict
    from bao.eval.run import evaluate

    cfg = config_from_dict({"gyms": ["function"], "function": {"n_test_tasks": 3}})
    few = evaluate(cfg, None, "val", gym="function", policy="guess_spam", n_tasks=5)
    more = evaluate(cfg, None, "val", gym="function", policy="guess_spam", n_tasks=8)
    assert len(few) == 5 and [e.task_id for e in more[:5]] == [e.task_id for e in few]
    assert all("val" in e.task_id for e in more)
