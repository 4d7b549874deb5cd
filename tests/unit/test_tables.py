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
    def read(t):
        f = tmp / "tables" / f"{t}.csv"
        return pd.read_csv(f) if f.read_text().strip() else pd.DataFrame()

    return {t: read(t) for t in ("main", "ablation", "paper_vs_ours", "behavior")}


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


# --- cluster bootstrap in the tables -----------------------------------------------------------------------

def test_tables_without_cluster_labels_say_they_resample_tasks(tmp_path):
    """Hand-made task ids t0..t7 are not tasks of the configured split: the intervals resample tasks, and the
    notes say so."""
    _setup(tmp_path, [True] * 7 + [False])
    main_md = (tmp_path / "tables/main.md").read_text()
    assert "over 8 tasks x seeds (no cluster labels for these task ids)" in main_md
    assert set(pd.read_csv(tmp_path / "tables/main.csv").clusters) == {8}


def _cluster_setup(tmp: Path, mode: str, monkeypatch) -> tuple[dict, dict, list[str]]:
    """Episodes on the real task ids of a 12-task Function-Gym test split; solved iff the task's rule is among
    the first half of the split's rules (so tasks of one rule agree: a correlated, clustered design)."""
    from bao.config import load_config
    from bao.eval import tables as T
    from bao.gyms import task_clusters

    tmp.mkdir(parents=True)
    cfg_path = tmp / "cfg.yaml"
    cfg_path.write_text("gyms: [function]\nseeds: [0, 1]\nfunction: {n_test_tasks: 12}\neval: {n_boot: 300}\n"
                        "ablation: {gyms: [function], reweight_w: [0.1]}\nmethods:\n  bao: {group: main}\n"
                        "  userrl_grpo: {shaping: none, credit: equalized, score: r2g, group: main}\n")
    clusters = task_clusters(load_config(cfg_path), "function", "test")
    rules = list(dict.fromkeys(clusters[t] for t in sorted(clusters)))
    good = set(rules[: len(rules) // 2])
    ids = sorted(clusters)
    for method, seed, flip in (("bao", 0, 0), ("bao", 1, 1), ("userrl_grpo", 0, 2), ("userrl_grpo", 1, 3)):
        d = tmp / "eval" / "function" / method / f"seed{seed}" / "test"
        eps = [_episode(t, (clusters[t] in good) != (j == flip), 1 if method == "bao" else 2)
               for j, t in enumerate(ids)]
        write_jsonl(d / "episodes.jsonl", [e.to_dict() for e in eps])
        write_json(d / "metrics.json", {"n_episodes": len(eps), **summarize(eps)})
    if mode == "task":
        monkeypatch.setattr(T, "bootstrap_mode", lambda cfg: "task")
    aggregate.main(["--results", str(tmp), "--gyms", "function", "--splits", "function:test", "--runs",
                    "function/bao:0", "function/bao:1", "function/userrl_grpo:0", "function/userrl_grpo:1",
                    "--tables", str(tmp / "tables"), "--summary", str(tmp / "summary.json"), "--config",
                    str(cfg_path)])
    return pd.read_csv(tmp / "tables/main.csv").set_index("method"), clusters, rules


def test_main_table_resamples_the_held_out_rules(tmp_path, monkeypatch):
    from bao.eval.stats import paired_bootstrap
    from bao.eval.tables import load_runs, shared_clusters

    main, clusters, rules = _cluster_setup(tmp_path / "c", "cluster", monkeypatch)
    assert 2 < len(rules) < 12  # several tasks share a rule
    assert set(main.clusters) == {len(rules)} and set(main.tasks) == {12}
    md = (tmp_path / "c/tables/main.md").read_text()
    assert f"over rules ({len(rules)} clusters of 12 tasks) x seeds" in md and "eval.bootstrap: cluster" in md
    # every cell is the cluster bootstrap of the episodes, with the tables' seed and replicates
    runs = load_runs(tmp_path / "c/eval/function", [("bao", 0), ("bao", 1), ("userrl_grpo", 0), ("userrl_grpo", 1)],
                     "test", clusters)
    out = paired_bootstrap(runs, "score", n_boot=300, seed=0, clusters=shared_clusters(runs))["methods"]
    for m in ("bao", "userrl_grpo"):
        assert tuple(main.loc[m, ["score", "score_lo", "score_hi"]]) == pytest.approx(out[m])
    # eval.bootstrap: task gives the task bootstrap, narrower on this clustered design, and says so
    task, _, _ = _cluster_setup(tmp_path / "t", "task", monkeypatch)
    assert set(task.clusters) == {12}
    assert "over 12 tasks x seeds; tasks are resampled i.i.d." in (tmp_path / "t/tables/main.md").read_text()
    for m in ("bao", "userrl_grpo"):
        assert task.loc[m, "score"] == pytest.approx(main.loc[m, "score"])
        assert task.loc[m, "score_hi"] - task.loc[m, "score_lo"] < main.loc[m, "score_hi"] - main.loc[m, "score_lo"]


def test_bootstrap_mode_is_read_defensively():
    from types import SimpleNamespace

    from bao.eval.tables import bootstrap_mode, split_clusters

    assert bootstrap_mode(SimpleNamespace(eval=SimpleNamespace())) == "cluster"  # key absent: the default
    assert bootstrap_mode(SimpleNamespace(eval=SimpleNamespace(bootstrap="task"))) == "task"
    assert split_clusters(SimpleNamespace(eval=SimpleNamespace(bootstrap="task")), "function", "test") is None
    with pytest.raises(ValueError, match="eval.bootstrap"):
        bootstrap_mode(SimpleNamespace(eval=SimpleNamespace(bootstrap="rules")))


def _invalid_episode(task: str) -> Episode:
    """A model that never manages a tool call: two malformed turns, then the token budget."""
    bad = Turn(choice=None, content=None, valid=False, reward=0.0, feedback="Invalid tool call", user_involved=False)
    return Episode(task_id=task, turns=[bad, bad], end_reason="token_budget")


def test_valid_call_share_is_a_main_table_column(tmp_path):
    t = _setup(tmp_path, [True] * 8)
    assert t["main"].set_index("method")["valid_calls"].tolist() == [1.0] * 3
    lines = (tmp_path / "tables" / "main.md").read_text().splitlines()
    assert any(ln.startswith("| gym | method |") and ln.endswith("| valid calls |") for ln in lines)


def test_a_split_no_model_can_act_on_is_left_out_with_the_reason(tmp_path):
    for m in ("sft", "bao", "userrl_grpo"):
        d = tmp_path / "eval" / "function" / m / "seed0" / "test"
        eps = [_invalid_episode(t) for t in TASKS]
        write_jsonl(d / "episodes.jsonl", [e.to_dict() for e in eps])
        write_json(d / "metrics.json", {"n_episodes": len(eps), **summarize(eps)})
    t = _tables(tmp_path, ["sft:0", "bao:0", "userrl_grpo:0"])
    assert t["main"].empty and t["paper_vs_ours"].empty
    note = (tmp_path / "tables" / "main.md").read_text()
    assert "Left out" in note and "function/test: every model makes a valid tool call on < 10% of its turns " \
                                  "(sft 0.00, bao 0.00, userrl_grpo 0.00)" in note


def test_min_valid_share_zero_keeps_every_split(tmp_path):
    for m in ("sft", "bao"):
        d = tmp_path / "eval" / "function" / m / "seed0" / "test"
        eps = [_invalid_episode(t) for t in TASKS]
        write_jsonl(d / "episodes.jsonl", [e.to_dict() for e in eps])
        write_json(d / "metrics.json", {"n_episodes": len(eps), **summarize(eps)})
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("gyms: [function]\nseeds: [0]\neval: {n_boot: 50, min_valid_share: 0.0}\n")
    aggregate.main(["--results", str(tmp_path), "--gyms", "function", "--splits", "function:test", "--runs",
                    "function/sft:0", "function/bao:0", "--tables", str(tmp_path / "tables"), "--summary",
                    str(tmp_path / "summary.json"), "--config", str(cfg)])
    main = pd.read_csv(tmp_path / "tables" / "main.csv")
    assert list(main.method) == ["sft", "bao"] and (main.valid_calls == 0.0).all()
