"""``rl.backend: trl`` through the real Snakemake pipeline, started the way a user starts it: an overlay config
with ``rl: {backend: trl, processes: 2}`` gives each train_rl job ``threads: 2`` and the resource ``processes=2``,
and its CLI re-starts itself as ``torchrun --standalone --nproc_per_node 2 -m bao.rl.train`` (two gloo processes
on this CPU; the rule's shell command is the 1-process one, so finished runs keep their recorded code).

Run: ``OMP_NUM_THREADS=1 .venv/bin/pytest -q tests/pipeline/test_trl_pipeline.py`` (61-75 s on this 2-core
machine with the other core busy, 2026-12-03, in three runs: 58-70 s the 2-process test, of which about 45 s the
Snakemake run of tokenizer, teacher data, SFT and the two RL jobs, 13 s each; 3-4 s the config error).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bao.io import read_json, read_jsonl

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
METHODS = ("bao", "userrl_grpo")  # config/smoke.yaml's main methods: the RL targets of the rl_curves figure


def _snakemake(tmp: Path, overlay: dict, *extra: str) -> subprocess.CompletedProcess:
    """Snakemake on config/smoke.yaml + ``overlay`` (a YAML config file), outputs under ``tmp``."""
    (tmp / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    cmd = [SNAKEMAKE, "--cores", "2", "--configfile", "config/smoke.yaml", str(tmp / "overlay.yaml"),
           "--config", f"results_dir={tmp}/results", f"data_dir={tmp}/data", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def _planned(r: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts per rule from ``snakemake -n --quiet rules``."""
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return {p[0]: int(p[1]) for p in (ln.split() for ln in r.stdout.splitlines())
            if len(p) == 2 and p[1].isdigit() and p[0] != "total"}


@pytest.mark.smoke
def test_smoke_rl_jobs_run_on_two_trl_processes(tmp_path):
    """Function-Gym's smoke RL jobs (BAO, UserRL-GRPO) and their curve figure, from scratch, under ``rl.backend:
    trl`` with ``rl.processes: 2``: Snakemake gives each train_rl job 2 threads and the ``processes=2`` resource
    and runs it under torchrun; each log says world size 2 over gloo and that rank 0 alone wrote the outputs;
    checkpoint, metrics and curve exist, every curve row counts both ranks' episodes; the curve figure plots both
    runs. A rerun has nothing to do; going back to 1 process re-trains both runs (their rollouts differ)."""
    R = tmp_path / "results"
    overlay = {"gyms": ["function"], "rl": {"backend": "trl", "processes": 2}}
    targets = [str(R / f"rl/function/{m}/seed0/metrics.json") for m in METHODS]
    targets.append(str(R / "figures/rl_curves_function.png"))
    r = _snakemake(tmp_path, overlay, "-p", "--", *targets)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]

    # the rule's plan: two threads and the processes resource; the shell command is the 1-process one
    blocks = out.split("rule train_rl:")[1:]
    assert len(blocks) == len(METHODS)
    for b in blocks:
        head, shell = b.split("Shell command:", 1)
        assert "threads: 2" in head and "processes=2" in head, head
        cmd = shell.split("\n")[0].strip()
        assert cmd.startswith("OMP_NUM_THREADS=2 ") and " -m bao.rl.train " in cmd and "torch.distributed" not in cmd

    smoke_rl = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())["rl"]
    per_step = smoke_rl["tasks_per_step"] * smoke_rl["group_size"]  # over both ranks
    for m in METHODS:
        run = R / f"rl/function/{m}/seed0"
        log = (R / f"logs/train_rl/function_{m}_seed0.log").read_text()
        assert "rl.processes 2: re-starting as torchrun --standalone --nproc_per_node 2 -m bao.rl.train" in log
        assert f"rl[function/{m}] trl: world size 2, MULTI_CPU, process group gloo" in log, log[-3000:]
        assert log.count(f"rl[function/{m}] seed 0: reward") == 1, log[-3000:]  # rank 0 wrote the outputs once
        assert (run / "ckpt/model.safetensors").stat().st_size > 0
        metrics = read_json(run / "metrics.json")
        assert metrics["method"] == m and metrics["steps"] == smoke_rl["steps"]
        curve = read_jsonl(run / "curve.jsonl")
        assert [row["step"] for row in curve] == list(range(smoke_rl["steps"]))
        assert all(row["rollout/n_episodes"] == per_step for row in curve), curve
        assert all("train/loss" in row and "time/rollout_s" in row for row in curve)
        assert not (run / "curve.partial.jsonl").exists()
    assert (R / "figures/rl_curves_function.png").stat().st_size > 0
    import pandas as pd

    df = pd.read_csv(R / "figures/rl_curves_function.csv")
    assert set(df.method) == set(METHODS) and set(df.step) == set(range(smoke_rl["steps"]))

    again = _snakemake(tmp_path, overlay, "-n", "--", *targets)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stdout[-2000:]
    one = _planned(_snakemake(tmp_path, {**overlay, "rl": {"backend": "trl", "processes": 1}}, "-n", "--quiet",
                              "rules", "--", *targets))
    assert one.get("train_rl") == len(METHODS), one


def test_processes_without_the_trl_backend_is_one_config_error(tmp_path):
    """``rl.processes: 2`` with the native trainer stops Snakemake before planning with one readable line."""
    r = _snakemake(tmp_path, {"rl": {"processes": 2}}, "-n")
    assert r.returncode != 0
    err = r.stdout + r.stderr
    assert "Config error: rl.processes: 2 processes need rl.backend: trl" in err, err[-2000:]
    assert "Traceback" not in err
