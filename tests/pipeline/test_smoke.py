"""End-to-end: the real Snakemake pipeline on config/smoke.yaml (every rule, all three gyms, a few RL steps).

Outputs go to a temporary directory (``--config results_dir=... data_dir=...``), so the working tree is not
touched. Takes about four minutes on 2 cores.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bao.io import read_json, read_jsonl, sha256_file

ROOT = Path(__file__).resolve().parents[2]
GYMS = ("function", "telepathy", "turtle")  # config/smoke.yaml
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def _snakemake(tmp: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [SNAKEMAKE, "--cores", "2", "--configfile", "config/smoke.yaml",
           "--config", f"results_dir={tmp}/results", f"data_dir={tmp}/data", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200,
                          env=None if env is None else {**os.environ, **env})


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smoke")
    r = _snakemake(tmp)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return tmp


@pytest.mark.smoke
def test_pipeline_produces_every_output(smoke_run):
    R = smoke_run / "results"
    assert (R / "summary.json").stat().st_size > 0
    for g in GYMS:
        assert (smoke_run / f"data/tokenizer/{g}/tokenizer.json").exists()
    for g in GYMS:
        for rel in [f"tables/{g}_summary.md", f"tables/{g}_summary.csv",
                    f"figures/pareto_{g}_test.png", f"figures/pareto_{g}_test.csv", f"figures/pareto_{g}_test_seen.png",
                    f"figures/rl_curves_{g}.png", f"figures/rl_curves_{g}.csv",
                    f"sft/{g}/enhanced/seed0/ckpt/model.safetensors", f"rl/{g}/bao/seed0/ckpt/model.safetensors",
                    f"rl/{g}/userrl_grpo/seed0/ckpt/model.safetensors"]:
            assert (R / rel).exists() and (R / rel).stat().st_size > 0, rel
        assert (smoke_run / f"data/teacher/{g}/plain.jsonl").exists()
        for rule_log in [f"train_sft/{g}_enhanced_seed0.log", f"train_rl/{g}_bao_seed0.log"]:
            assert (R / "logs" / rule_log).exists(), rule_log
    assert (R / "logs/tokenizer/function.log").exists()
    for rel in ["figures/reweighting_function.png", "figures/reweighting_function_hypervolume.csv",
                "sft/function/plain/seed0/ckpt/model.safetensors", "rl/function/bao_no_enh/seed0/metrics.json",
                "rl/function/reweight_w0.05/seed0/metrics.json", "report.md", "report.html",
                "tables/training_reward.md", "tables/training_reward.csv", "training_reward.json",
                *[f"eval/{g}/{m}/seed0/val_{mode}/episodes.jsonl" for g in GYMS for m in ("sft", "bao", "userrl_grpo")
                  for mode in ("sampled", "greedy")], "eval/function/sft_plain/seed0/val_sampled/episodes.jsonl",
                *[f"tables/{t}.{ext}" for t in ("main", "ablation", "paper_vs_ours", "behavior")
                  for ext in ("md", "csv", "tex")], *[f"figures/behavior_{g}.png" for g in GYMS]]:
        assert (R / rel).exists() and (R / rel).stat().st_size > 0, rel
    report = (R / "report.md").read_text()
    for link in ["figures/pareto_function_test.png", "figures/reweighting_function.png", "tables/main.csv",
                 "tables/training_reward.md"]:
        assert link in report, link
    assert "| train_rl |" in report  # per-rule wall times from the benchmark files
    summary = read_json(R / "summary.json")
    assert {k.split("/")[0] for k in summary} == set(GYMS)


@pytest.mark.smoke
def test_report_page_renders_in_a_real_browser(smoke_run):
    """Headless Chromium opens the smoke run's report.html: every image loaded (natural width > 0), every
    relative link resolves, every table has data rows. CI installs Chromium (make test), so it never skips there."""
    from bao import report_check

    chromium = report_check.browser()
    if chromium is None:
        assert os.environ.get("CI") != "true", "CI must have Chromium (make test installs it)"
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    page = smoke_run / "results" / "report.html"
    seen = report_check.inspect(page, chromium)
    assert len(seen["images"]) >= 10 and len(seen["tables"]) >= 3 and seen["links"], seen
    assert report_check.faults(page, seen) == []


@pytest.mark.smoke
def test_training_reward_pairs_every_rl_method_with_its_sft_start(smoke_run):
    """config/smoke.yaml: 3 val tasks x 2 samples and 3 greedy tasks per checkpoint; one row per gym x RL method x
    metric; the plain-teacher ablation is paired against the plain SFT start."""
    import pandas as pd

    R = smoke_run / "results"
    df = pd.read_csv(R / "tables/training_reward.csv")
    methods = {"function": 7, "telepathy": 2, "turtle": 2}  # bao, userrl_grpo (+ 4 ablations + 1 w on Function)
    assert len(df) == 4 * sum(methods.values())
    assert set(df.metric) == {"sampled_reward", "sampled_pass_at_u1", "sampled_user_rate", "greedy_val_score"}
    sampled, greedy = df[df.metric == "sampled_reward"], df[df.metric == "greedy_val_score"]
    assert (sampled.n_tasks == 3).all() and (sampled.samples == 2).all() and (greedy.n_tasks == 3).all()
    assert df[df.method == "bao_no_enh"].start.eq("sft_plain").all() and (df.n_seeds == 1).all()
    assert (df.delta - (df.rl - df.sft)).abs().max() < 1e-9
    m = read_json(R / "eval/function/bao/seed0/val_sampled/metrics.json")
    assert (m["split"], m["mode"], m["n_episodes"], m["temperature"]) == ("val", "sampled", 6, 1.0)
    metrics = read_json(R / "training_reward.json")
    assert set(metrics) == set(GYMS) and set(metrics["function"]["bao"]) == set(df.metric)


@pytest.mark.smoke
def test_metrics_have_the_paper_metrics_and_provenance(smoke_run):
    R = smoke_run / "results"
    for g, method in [(g, m) for g in GYMS for m in ("sft", "bao", "userrl_grpo")]:
        m = read_json(R / f"eval/{g}/{method}/seed0/test/metrics.json")
        for key in ["score", "user_rate", "mean_turns", "invalid_call_rate", "reward_translation_rate",
                    *[f"pass_at_u/{k}" for k in range(1, 10)]]:
            assert key in m, key
        assert [m[f"pass_at_u/{k}"] for k in range(1, 10)] == sorted(m[f"pass_at_u/{k}"] for k in range(1, 10))
        prov = m["provenance"]
        assert prov["git_commit"] and prov["config_hash"] and prov["seed"] == 0 and "torch" in prov["versions"]
        assert m["gym"] == g
        eps = read_jsonl(R / f"eval/{g}/{method}/seed0/test/episodes.jsonl")
        assert len(eps) == m["n_episodes"]
    curve = read_jsonl(R / "rl/telepathy/bao/seed0/curve.jsonl")
    assert len(curve) == 2 and "penalty/overthinking_episodes" in curve[0] and "train/clip_frac" in curve[0]


@pytest.mark.smoke
def test_table_cells_come_from_the_metrics_files(smoke_run):
    import pandas as pd

    R = smoke_run / "results"
    for g in GYMS:
        df = pd.read_csv(R / f"tables/{g}_summary.csv")
        assert len(df) >= 6
        for _, row in df.iterrows():
            m = read_json(R / f"eval/{g}/{row['method']}/seed{row['seed']}/{row['split']}/metrics.json")
            assert row["score"] == pytest.approx(m["score"]) and row["user_rate"] == pytest.approx(m["user_rate"])


@pytest.mark.smoke
def test_rerun_has_nothing_to_do(smoke_run):
    r = _snakemake(smoke_run, "-n")
    assert r.returncode == 0
    assert "Nothing to be done" in r.stdout + r.stderr


def _planned_jobs(tmp: Path, overrides: str) -> dict[str, int]:
    """``snakemake -n`` job counts per rule for the smoke config plus a YAML config file of overrides, with
    results and data under ``tmp`` (an empty plan-only directory, or the finished smoke run)."""
    (tmp / "overrides.yaml").write_text(overrides)
    cmd = [SNAKEMAKE, "-n", "--quiet", "rules", "--configfile", "config/smoke.yaml", str(tmp / "overrides.yaml"),
           "--config", f"results_dir={tmp}/results", f"data_dir={tmp}/data"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    counts = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.parametrize("shared, sft_runs", [("true", 1), ("false", 3)])
def test_planned_jobs_follow_seeds_groups_and_sharing(tmp_path, shared, sft_runs):
    """seeds [0, 1, 2] x 3 gyms: one SFT per gym and teacher when shared, one per seed otherwise; main methods
    train on every gym x seed, ablations and the reweighting sweep on Function-Gym x the first seed only."""
    sft = {**yaml.safe_load((ROOT / "config/smoke.yaml").read_text())["sft"], "shared": shared == "true"}
    jobs = _planned_jobs(tmp_path, yaml.safe_dump({"seeds": [0, 1, 2], "sft": sft}))
    n_main, n_ablation = 2, 4 + 1  # bao, userrl_grpo; 4 ablations + 1 reweighting w (smoke)
    # SFT: enhanced on 3 gyms + plain on Function-Gym (the plain-teacher ablation starts from it)
    assert jobs["train_sft"] == (3 + 1) * sft_runs
    assert jobs["train_rl"] == 3 * n_main * 3 + n_ablation
    # evaluations per split: main x 3 seeds + SFT rows + guess_spam; Function-Gym adds sft_plain and ablations
    per_split = {"function": n_main * 3 + 2 * sft_runs + 1 + n_ablation, "telepathy": n_main * 3 + sft_runs + 1,
                 "turtle": n_main * 3 + sft_runs + 1}
    n_splits = {"function": 3, "telepathy": 2, "turtle": 2}  # function adds the faithful split
    assert jobs["evaluate"] == sum(per_split[g] * n_splits[g] for g in per_split)
    # training reward: every RL run and the SFT start(s) of its seeds (enhanced x 3 gyms x sft_runs; the plain
    # start of the one-seed ablation once), sampled and greedy; then one table
    assert jobs["training_reward_play"] == 2 * (jobs["train_rl"] + 3 * sft_runs + 1)
    assert jobs["training_reward"] == 1


@pytest.mark.smoke
def test_changing_one_method_reruns_only_what_depends_on_it(smoke_run):
    """After a full smoke run, a new credit rule for one ablation re-trains that method only and re-evaluates
    it; every other checkpoint, evaluation and figure stays (snakemake -n on the finished run)."""
    jobs = _planned_jobs(smoke_run, yaml.safe_dump({"methods": {"bao_no_info": {"credit": "em"}}}))
    # one RL run, its evaluation on Function-Gym's three splits and its two training-reward runs (sampled,
    # greedy), then the tables and the report that list it
    assert jobs == {"train_rl": 1, "evaluate": 3, "training_reward_play": 2, "aggregate": 1, "training_reward": 1,
                    "report": 1, "all": 1}, jobs


@pytest.mark.smoke
def test_resizing_the_training_reward_reruns_only_its_sampled_runs(smoke_run):
    """More sampled episodes re-play every checkpoint's sampled run (not its greedy one, nor any training or
    evaluation), then the table and the report (snakemake -n on the finished smoke run)."""
    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())["training_reward"]
    jobs = _planned_jobs(smoke_run, yaml.safe_dump({"training_reward": {**smoke, "samples": smoke["samples"] + 1}}))
    n_ckpt = len(list((smoke_run / "results" / "eval").glob("*/*/seed*/val_sampled/episodes.jsonl")))
    assert jobs == {"training_reward_play": n_ckpt, "training_reward": 1, "report": 1, "all": 1}, jobs


@pytest.mark.smoke
@pytest.mark.parametrize("key,value", [("truncated", "keep"), ("truncated", "mask"), ("kl_coef", 0.0),
                                       ("kl_coef", 0.1), ("processes", 1)])
def test_late_rl_keys_rerun_only_when_they_change_behaviour(smoke_run, key, value):
    """A key of ``RL_LATE_KEYS`` at its original value leaves every finished run up to date; any other value
    re-trains every RL run (snakemake -n on the finished smoke run)."""
    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    current = {**yaml.safe_load((ROOT / "config/config.yaml").read_text())["rl"], **smoke["rl"]}
    jobs = _planned_jobs(smoke_run, yaml.safe_dump({"rl": {**smoke["rl"], key: value}}))
    n_rl = sum(1 for _ in (smoke_run / "results" / "rl").glob("*/*/seed*/metrics.json"))
    if value == current[key]:
        assert jobs == {}, jobs
    else:
        assert jobs.get("train_rl") == n_rl > 0, jobs


def test_faithful_config_plans_llm_teacher_rl_and_original_test_splits(tmp_path):
    """config/faithful.yaml switches every gym to the original tasks with LLM users: the plan gains the
    original test split on every gym (nothing is contacted by `snakemake -n`)."""
    base = _planned_jobs(tmp_path, "{}")
    jobs = _planned_jobs(tmp_path, (ROOT / "config/faithful.yaml").read_text())
    assert jobs["train_rl"] == base["train_rl"] and jobs["train_sft"] == base["train_sft"]
    # Function-Gym already had its faithful split; Telepathy and Turtle each gain one evaluation per policy
    # (BAO and UserRL-GRPO x 1 smoke seed, SFT, guess-spam)
    assert jobs["evaluate"] == base["evaluate"] + 2 * (2 + 1 + 1)



def test_smollm2_overlay_plans_the_model_its_tokenizer_and_the_method_runs(tmp_path):
    """config/smollm2.yaml: the model directory is built by prepare_model when missing, the tokenizer rule copies
    its tokenizer, one LoRA SFT, BAO and UserRL-GRPO on Function-Gym, no ablations (nothing is run by -n)."""
    cmd = [SNAKEMAKE, "-n", "--quiet", "rules", "--configfile", "config/smollm2.yaml",
           "--config", f"results_dir={tmp_path}/results", f"data_dir={tmp_path}/data"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    jobs = {p[0]: int(p[1]) for p in (ln.split() for ln in r.stdout.splitlines())
            if len(p) == 2 and p[1].isdigit() and p[0] != "total"}
    model_missing = not (ROOT / "data/models/smollm2-135m-instruct").exists()
    assert jobs.get("prepare_model", 0) == int(model_missing)
    assert jobs["tokenizer"] == 1 and jobs["train_sft"] == 1 and jobs["train_rl"] == 2, jobs


@pytest.mark.parametrize("overlay, target", [
    ("smollm2-agent", "eval/{g}/smollm2_zeroshot/seed0/test/metrics.json"),
    ("smollm2-user", "eval/{g}/guess_spam/seed0/faithful/metrics.json")])
def test_smollm2_agent_and_user_overlays_plan_the_model_before_their_evaluations(tmp_path, overlay, target):
    """config/smollm2-agent.yaml (SmolLM2 zero-shot as the agent) and config/smollm2-user.yaml (SmolLM2 as the
    faithful gyms' user and judge): the local model is an input of each evaluation, so a fresh clone prepares it
    first; nothing else is trained for these targets (nothing is run by -n)."""
    gyms = ["telepathy", "turtle"] + (["function"] if overlay == "smollm2-agent" else [])
    targets = [f"{tmp_path}/results/" + target.format(g=g) for g in gyms]
    cmd = [SNAKEMAKE, "-n", "--quiet", "rules", "--configfile", f"config/{overlay}.yaml",
           "--config", f"results_dir={tmp_path}/results", f"data_dir={tmp_path}/data", "--", *targets]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    jobs = {p[0]: int(p[1]) for p in (ln.split() for ln in r.stdout.splitlines())
            if len(p) == 2 and p[1].isdigit() and p[0] != "total"}
    model_missing = not (ROOT / "data/models/smollm2-135m-instruct").exists()
    assert jobs == {"evaluate": len(gyms), **({"prepare_model": 1} if model_missing else {})}, jobs
    if not model_missing:  # the prepared directory is what the evaluations read
        r = subprocess.run([*cmd[:2], "--forceall", *cmd[2:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert "prepare_model" in r.stdout, r.stdout[-2000:]


def test_smollm2_teacher_overlay_plans_the_model_before_the_teacher_data(tmp_path):
    """config/smollm2-teacher.yaml (``teacher.source: llm`` with SmolLM2): the local model is an input of the
    teacher rule, so a fresh clone prepares it first (nothing is run by -n)."""
    target = f"{tmp_path}/data/teacher/function/enhanced.stats.json"
    cmd = [SNAKEMAKE, "-n", "--quiet", "rules", "--configfile", "config/smollm2-teacher.yaml",
           "--config", f"results_dir={tmp_path}/results", f"data_dir={tmp_path}/data", "--", target]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    jobs = {p[0]: int(p[1]) for p in (ln.split() for ln in r.stdout.splitlines())
            if len(p) == 2 and p[1].isdigit() and p[0] != "total"}
    model_missing = not (ROOT / "data/models/smollm2-135m-instruct").exists()
    assert jobs == {"teacher_data": 1, **({"prepare_model": 1} if model_missing else {})}, jobs
    if not model_missing:
        r = subprocess.run([*cmd[:2], "--forceall", *cmd[2:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert "prepare_model" in r.stdout, r.stdout[-2000:]


def _same_run(a: dict, b: dict) -> bool:
    """Two metrics files describe the same run: equal but for wall-clock fields and provenance."""
    drop = ("provenance", "tokens_per_s")
    return {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}


# last in the module: it re-makes an SFT checkpoint, which leaves the downstream outputs older than it
@pytest.mark.smoke
@pytest.mark.parametrize("job, log, step", [("rl/function/bao/seed0", "train_rl/function_bao_seed0.log", 1),
                                            ("sft/function/enhanced/seed0", "train_sft/function_enhanced_seed0.log", 4)])
def test_a_job_sigkilled_mid_stage_resumes_at_its_saved_step_and_ends_identical(smoke_run, job, log, step):
    """SIGKILL a real smoke job right after its state of ``step`` is saved (``BAO_KILL_AFTER_SAVE``), rerun the
    same target with ``--rerun-incomplete``: its log says where it resumed, and the checkpoint and metrics equal
    the uninterrupted run's."""
    out = smoke_run / "results" / job
    ref_sha, ref_metrics = sha256_file(out / "ckpt" / "model.safetensors"), read_json(out / "metrics.json")
    target = str(out / "metrics.json")
    killed = _snakemake(smoke_run, "--forcerun", target, "--", target, env={"BAO_KILL_AFTER_SAVE": str(step)})
    assert killed.returncode != 0 and not (out / "metrics.json").exists()
    assert (out / ".ckpt.state" / "LATEST").read_text().strip() == f"step-{step:06d}"
    again = _snakemake(smoke_run, "--rerun-incomplete", "--", target)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert f"resumed at step {step}" in (smoke_run / "results" / "logs" / log).read_text()
    assert sha256_file(out / "ckpt" / "model.safetensors") == ref_sha
    assert _same_run(read_json(out / "metrics.json"), ref_metrics)
    assert not (out / ".ckpt.state").exists()


@pytest.mark.parametrize("name", ["paper-qwen3-4b", "paper-qwen3-1.7b"])
def test_paper_configs_validate_and_plan_the_grid_without_the_model(tmp_path, name):
    """config/paper-qwen3-*.yaml (the released recipe at the paper's scale, TRL backend on 8 processes): it
    validates, and `snakemake -n` plans the whole grid (3 gyms x BAO / UserRL-GRPO, Function's ablations and
    sweep) before the user's model directory exists, every RL job asking for 8 processes (nothing runs)."""
    from bao.config import config_from_dict

    raw = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    paper = yaml.safe_load((ROOT / f"config/{name}.yaml").read_text())
    for key, value in paper.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and isinstance(raw.get(key), dict) else value
    cfg = config_from_dict(raw)
    assert not (ROOT / cfg.model.init_from).exists()
    assert (cfg.rl.backend, cfg.rl.processes, cfg.rl.bf16, cfg.rl.lr, cfg.rl.tasks_per_step, cfg.rl.steps) == \
        ("trl", 8, True, 1e-6, 128, 90)
    cmd = [SNAKEMAKE, "-n", "--configfile", f"config/{name}.yaml",
           "--config", f"results_dir={tmp_path}/results", f"data_dir={tmp_path}/data"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    blocks = r.stdout.split("\nrule ")
    rl = [b for b in blocks if b.startswith("train_rl:")]
    n_main = 3 * 2  # gyms x main methods, one seed
    n_function_extra = len(raw["ablation"]["reweight_w"]) + sum(
        1 for m in raw["methods"].values() if m["group"] == "ablation")
    assert len(rl) == n_main + n_function_extra, len(rl)
    assert all("processes=8" in b for b in rl)
    assert not any(b.startswith("prepare_model:") for b in blocks)
