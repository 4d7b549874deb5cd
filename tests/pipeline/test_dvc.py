"""DVC x Snakemake together, from a fresh clone: `dvc repro` runs every stage once, `dvc status` is then clean,
metrics and params are visible, a param change dirties only the stages that read it, and
`dvc push` to a local remote lets a second clone `dvc pull` the same artifacts byte for byte.

The clone gets a tiny config/config.yaml (smoke sizes, default paths) committed on top, so the real dvc.yaml
runs unmodified. About 1.5 minutes on 2 cores.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(cmd, cwd, timeout=1200):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout + r.stderr


@pytest.mark.smoke
def test_dvc_repro_from_a_clone(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "clone"
    _run(["git", "clone", "-q", str(ROOT), str(clone)], tmp_path)
    # the working tree's uncommitted files are not in the clone: copy the ones this test exercises
    for rel in ["dvc.yaml", "Snakefile", "config/smoke.yaml"]:
        shutil.copy(ROOT / rel, clone / rel)
    for d in ["src", "workflow", ".dvc"]:
        shutil.copytree(ROOT / d, clone / d, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "tmp"))
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for k, v in yaml.safe_load((ROOT / "config/smoke.yaml").read_text()).items():
        base[k] = {**base[k], **v} if isinstance(v, dict) else v
    base.update(results_dir="results", data_dir="data", gyms=["function"])  # one gym keeps this test short
    userrl = Path(os.environ.get("BAO_USERRL_DIR", ROOT.parent / "shared" / "userrl"))
    base["data"]["userrl_dir"] = str(userrl.resolve())
    (clone / "config/config.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    _run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A"], clone)
    _run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "tiny config"], clone)
    _run(["dvc", "remote", "add", "-f", "-d", "local", str(tmp_path / "remote")], clone)

    out = _run(["dvc", "repro"], clone)
    for stage in ("data", "sft", "rl", "eval", "report"):
        assert f"Running stage '{stage}'" in out
    assert "Data and pipelines are up to date" in _run(["dvc", "status"], clone)
    assert "function/test/bao/score" in _run(["dvc", "metrics", "show"], clone)
    assert (clone / "results/figures/pareto_function_test.png").exists()

    cfg = yaml.safe_load((clone / "config/config.yaml").read_text())
    cfg["rl"]["steps"] += 1
    (clone / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    status = _run(["dvc", "status"], clone)
    assert "rl:" in status and "sft:" not in status and "data:" not in status
    assert "rl.steps" in _run(["dvc", "params", "diff"], clone)
    assert "pushed" in _run(["dvc", "push"], clone)

    # how a lab shares the exact artifacts behind its tables: a second clone pulls them from the remote
    _run(["git", "checkout", "config/config.yaml"], clone)
    # git carries dvc.lock, the remote's address and the small outputs DVC leaves to git (cache: false)
    _run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A"], clone)
    _run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "lock"], clone)
    other = tmp_path / "other"
    _run(["git", "clone", "-q", str(clone), str(other)], tmp_path)
    assert not (other / "results/sft").exists()
    _run(["dvc", "pull"], other)
    pulled = sorted(p.relative_to(other) for p in (other / "results/sft").rglob("*") if p.is_file())
    assert pulled and all((other / p).read_bytes() == (clone / p).read_bytes() for p in pulled)
    assert "Data and pipelines are up to date" in _run(["dvc", "status"], other)
