"""The paper-style tables are computed from the evaluation files: points equal the metrics.json values, the
intervals move when one seed's episodes move, and the paper-vs-ours verdict follows our paired difference."""

from pathlib import Path

import pandas as pd
import pytest

from bao.eval import aggregate
from bao.eval.metrics import summarize
from bao.eval.tables import verdict
from bao.io import write_json, write_jsonl
from bao.types import Episode, Turn

TASKS = [f"t{i}" for i in range(8)]


def _episode(task: str, solved: bool, answers: int) -> Episode:
    turns = [Turn(choice="action", content="q", valid=True, reward=0.0, feedback="", user_involved=False)]
    for k in range(answers):
        r = 1.0 if solved and k == answers - 1 else 0.0
        turns.append(Turn(choice="answer", content="a", valid=True, reward=r, feedback="", user_involved=True))
    return Episode(task_id=task, turns=turns, end_reason="success" if solved else "horizon")


def _write_run(root: Path, method: str, seed: int, solved: list[bool], answers: int) -> None:
    d = root / "eval" / "function" / method / f"seed{seed}" / "test"
    eps = [_episode(t, s, answers) for t, s in zip(TASKS, solved)]
    write_jsonl(d / "episodes.jsonl", [e.to_dict() for e in eps])
    write_json(d / "metrics.json", {"n_episodes": len(eps), **summarize(eps)})


def _tables(tmp: Path, runs: list[str]) -> dict[str, pd.DataFrame]:
    cfg = tmp / "cfg.yaml"
    cfg.write_text("gyms: [function]\nseeds: [0, 1]\neval: {n_boot: 300}\nablation: {gyms: [function], "
                   "reweight_w: [0.1]}\nmethods:\n  bao: {group: main}\n  userrl_grpo: {shaping: none, credit: "
                   "equalized, score: r2g, group: main}\n  bao_no_reg: {shaping: none, group: ablation}\n")
    reported = tmp / "reported.csv"
    reported.write_text("paper,gym,model,metric,method,value,n_tasks,source,status\n"
                        "BAO,function,X,score,bao,0.7,78,s,paper table\n"
                        "BAO,function,X,score,userrl_grpo,0.5,78,s,paper table\n"
                        "BAO,function,X,user_rate,bao,0.2,78,s,paper table\n"
                        "BAO,function,X,user_rate,userrl_grpo,0.4,78,s,paper table\n")
    aggregate.main(["--results", str(tmp), "--gyms", "function", "--splits", "function:test", "--runs",
                    *[f"function/{r}" for r in runs], "--tables", str(tmp / "tables"), "--summary",
                    str(tmp / "summary.json"), "--config", str(cfg), "--reported", str(reported)])
    return {t: pd.read_csv(tmp / "tables" / f"{t}.csv") for t in ("main", "ablation", "paper_vs_ours", "behavior")}


def _setup(tmp: Path, bao_seed1_solved: list[bool]) -> dict[str, pd.DataFrame]:
    _write_run(tmp, "sft", 0, [True, False] * 4, answers=2)
    _write_run(tmp, "bao", 0, [True] * 6 + [False] * 2, answers=1)
    _write_run(tmp, "bao", 1, bao_seed1_solved, answers=1)
    _write_run(tmp, "userrl_grpo", 0, [True] * 2 + [False] * 6, answers=3)
    _write_run(tmp, "userrl_grpo", 1, [True] * 3 + [False] * 5, answers=3)
    _write_run(tmp, "bao_no_reg", 0, [True] * 4 + [False] * 4, answers=2)
    return _tables(tmp, ["sft:0", "bao:0", "bao:1", "userrl_grpo:0", "userrl_grpo:1", "bao_no_reg:0"])


def test_cells_come_from_the_evaluation_files(tmp_path):
    t = _setup(tmp_path, [True] * 7 + [False])
    main = t["main"].set_index("method")
    assert list(main.index) == ["sft", "bao", "userrl_grpo"]  # main rows only; the ablation has its own table
    for m, seeds in (("sft", [0]), ("bao", [0, 1]), ("userrl_grpo", [0, 1])):
        per_seed = [pd.read_json(tmp_path / f"eval/function/{m}/seed{s}/test/metrics.json", typ="series")
                    for s in seeds]
        for metric in ("score", "user_rate", "pass_at_u/1", "reward_translation_rate"):
            assert main.loc[m, metric] == pytest.approx(sum(x[metric] for x in per_seed) / len(seeds))
        assert main.loc[m, "score_lo"] <= main.loc[m, "score"] <= main.loc[m, "score_hi"]
        assert (main.loc[m, "seeds"], main.loc[m, "tasks"]) == (len(seeds), len(TASKS))
    beh = t["behavior"].set_index("method")
    per_seed = [pd.read_json(tmp_path / f"eval/function/userrl_grpo/seed{s}/test/metrics.json", typ="series")
                for s in (0, 1)]
    assert beh.loc["userrl_grpo", "effective_turns"] == pytest.approx(sum(x["effective_turns"] for x in per_seed) / 2)
    abl = t["ablation"].set_index("method")
    assert abl.loc["bao_no_reg", "score_delta"] == pytest.approx(0.5 - (6 + 7) / 16)
    assert set(abl.index) == {"bao", "sft", "bao_no_reg"}
    assert "| bao_no_reg | 8 x 1 |" in (tmp_path / "tables/ablation.md").read_text()
    assert "bao\\_no\\_reg & 8 x 1" in (tmp_path / "tables/ablation.tex").read_text()


def test_intervals_follow_the_seeds(tmp_path):
    """Changing only BAO's second seed moves its point and its interval (the CI comes from the seeds)."""
    a = _setup(tmp_path / "a", [True] * 7 + [False])["main"].set_index("method")
    b = _setup(tmp_path / "b", [False] * 8)["main"].set_index("method")
    assert b.loc["bao", "score"] == pytest.approx(6 / 16) and a.loc["bao", "score"] == pytest.approx(13 / 16)
    assert (a.loc["bao", "score_lo"], a.loc["bao", "score_hi"]) != (b.loc["bao", "score_lo"], b.loc["bao", "score_hi"])
    assert b.loc["bao", "score_hi"] - b.loc["bao", "score_lo"] > a.loc["bao", "score_hi"] - a.loc["bao", "score_lo"]
    assert a.loc["sft", "score_lo"] == b.loc["sft", "score_lo"]  # untouched rows keep their interval


def test_paper_claims_are_checked_by_direction(tmp_path):
    pv = _setup(tmp_path, [True] * 7 + [False])["paper_vs_ours"]
    score = pv[(pv.metric == "score") & (pv.b == "userrl_grpo")].iloc[0]
    assert score.paper_sign == 1.0 and score.ours_delta == pytest.approx(13 / 16 - 5 / 16)
    assert score.direction_holds == "yes"
    ur = pv[(pv.metric == "user_rate") & (pv.b == "userrl_grpo")].iloc[0]
    assert ur.ours_delta < 0 and ur.direction_holds == "yes"  # 1 answer in 2 turns vs 3 in 4


@pytest.mark.parametrize("sign, lo, hi, p, expected", [
    (1, 0.1, 0.3, 0.2, "yes"), (1, -0.3, -0.1, -0.2, "no"), (-1, -0.3, -0.1, -0.2, "yes"),
    (1, -0.1, 0.2, 0.05, "unresolved"), (-1, 0.0, 0.0, 0.0, "unresolved")])
def test_verdict(sign, lo, hi, p, expected):
    assert verdict(sign, lo, hi, p) == expected


def test_rule_times_sum_wall_and_cpu_seconds_per_rule(tmp_path):
    """Per-rule totals come from the last row of each Snakemake benchmark file (hand-made here)."""
    from bao.report import rule_times

    head = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for rel, s, rss, cpu in [("train_rl/a.tsv", 300.0, 1500.0, 280.0), ("train_rl/b.tsv", 100.0, 1700.0, 90.0),
                             ("tokenizer.tsv", 4.0, 200.0, 3.0)]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(head + f"{s}\t0:00:00\t{rss}\t0\t0\t0\t0\t0\t90\t{cpu}\n")
    df = rule_times(tmp_path)
    assert list(df.index) == ["train_rl", "tokenizer"]
    rl = df.loc["train_rl"]
    assert (rl.jobs, rl.total_s, rl.mean_s, rl.cpu_s, rl.max_rss_mb) == (2, 400.0, 200.0, 370.0, 1700.0)
