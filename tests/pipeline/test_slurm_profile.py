"""profiles/slurm (snakemake-executor-plugin-slurm, pinned): the profile parses, names real rules, and gives each
training and evaluation job the SLURM resources it sets; with stub ``sbatch`` / ``sacct`` / ``squeue`` / ``sinfo``
/ ``scontrol`` / ``sacctmgr`` on PATH (no cluster here) the plugin really submits the jobs and the test reads the
sbatch arguments. The config overlay is ``rl: {backend: trl, processes: 8}`` (the profile's ``gpu: 8``).

Not tested here: anything on a real cluster (the jobs never run; the stub sacct reports them failed).
Measured 2026-12-03 on this 2-core machine: about 25 s for the module.
"""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
PROFILE = ROOT / "profiles/slurm"
# smoke minibatches of tasks_per_step 8 x group_size 2 / 2 = 8 rollouts split over 8 processes
OVERLAY = {"rl": {"backend": "trl", "processes": 8, "tasks_per_step": 8}}

STUBS = {
    # records the call and prints a job id, as `sbatch --parsable` does
    "sbatch": 'n=$(( $(cat "$STUB_DIR/n" 2>/dev/null || echo 100) + 1 )); echo $n > "$STUB_DIR/n"\n'
              'printf "%s\\n" "$*" >> "$STUB_DIR/sbatch.log"\necho $n\n',
    # the status query (`--name <run id>`): every submitted job has failed, so Snakemake stops after submitting
    "sacct": 'case "$*" in *--name*) for j in $(seq 101 $(cat "$STUB_DIR/n" 2>/dev/null || echo 100)); do '
             'echo "$j|FAILED"; done;; esac\n',
    "squeue": "",
    "sinfo": 'echo PARTITION; echo "cpu*"; echo gpu\n',
    "scontrol": 'echo "MaxArraySize = 1001"\n',
    "sacctmgr": "",
}


def _env(tmp: Path) -> dict:
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in STUBS.items():
        f = bin_dir / name
        f.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> "$STUB_DIR/calls.log"\n{body}')
        f.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STUB_DIR": str(tmp),
            "OMP_NUM_THREADS": "1"}


def _snakemake(tmp: Path, *extra: str, targets=()) -> subprocess.CompletedProcess:
    (tmp / "overlay.yaml").write_text(yaml.safe_dump(OVERLAY))
    cmd = [SNAKEMAKE, "--profile", str(PROFILE), "--configfile", "config/smoke.yaml", str(tmp / "overlay.yaml"),
           "--config", f"results_dir={tmp}/results", f"data_dir={tmp}/data", "--slurm-logdir", str(tmp / "slurm"),
           *extra, "--", *targets]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=_env(tmp))


def _jobs(out: str) -> list[tuple[str, dict, str]]:
    """(rule, resources, shell command) of every job block that ``snakemake -n -p`` printed."""
    jobs = []
    for block in out.split("\nrule ")[1:]:
        rule = block.split(":", 1)[0]
        res = {}
        for line in block.splitlines():
            if line.strip().startswith("resources:"):
                res = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].strip().split(", "))
        shell = block.split("Shell command:", 1)[1].split("\n")[0] if "Shell command:" in block else ""
        jobs.append((rule, res, shell))
    return jobs


def test_profile_names_real_rules_and_options():
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert prof["executor"] == "slurm"
    r = subprocess.run([SNAKEMAKE, "--list-rules", "--configfile", "config/smoke.yaml"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    rules = set(r.stdout.split())
    assert set(prof["set-resources"]) <= rules, set(prof["set-resources"]) - rules  # a typo would do nothing
    assert prof["set-resources"]["train_rl"]["gpu"] == 8 == OVERLAY["rl"]["processes"]
    # the plugin and its jobstep executor are pinned, at the versions installed
    from importlib.metadata import version

    req = (ROOT / "requirements.txt").read_text()
    for pkg in ("snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep"):
        assert f"{pkg}=={version(pkg)}" in req, pkg


def test_dry_run_plans_the_smoke_grid_with_the_profile_resources(tmp_path):
    """``snakemake -n -p --profile profiles/slurm`` (executor slurm): every job of the smoke grid is planned; each
    train_rl job asks for 8 GPUs on the gpu partition and ``processes=8`` (its CLI re-starts itself under
    torchrun with 8 processes); SFT and evaluation jobs ask for CPUs only, with their own wall times and
    memory."""
    r = _snakemake(tmp_path, "-n", "-p")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    jobs = _jobs(r.stdout + r.stderr)
    by_rule = {}
    for rule, res, shell in jobs:
        by_rule.setdefault(rule, []).append((res, shell))
    assert len(by_rule["train_rl"]) == 3 * 2 + 5  # bao, userrl_grpo x 3 gyms + 5 Function ablations (smoke)
    assert len(by_rule["train_sft"]) == 4 and len(by_rule["evaluate"]) > 20
    for res, shell in by_rule["train_rl"]:
        assert (res["gpu"], res["processes"], res["slurm_partition"]) == ("8", "8", "gpu"), res
        assert (res["runtime"], res["mem_mb"]) == ("2880", "512000"), res
        # (a dry run caps the printed threads at its cores; the submitted --cpus-per-task=8 is checked below)
        assert " -m bao.rl.train " in shell, shell
    for rule, runtime, mem in (("train_sft", "720", "64000"), ("evaluate", "240", "32000"),
                               ("training_reward_play", "240", "32000")):
        for res, _ in by_rule[rule]:
            assert "gpu" not in res and res["slurm_partition"] == "cpu", (rule, res)
            assert (res["runtime"], res["mem_mb"]) == (runtime, mem), (rule, res)
    for res, _ in by_rule["tokenizer"]:  # default-resources
        assert (res["runtime"], res["mem_mb"], res["slurm_partition"]) == ("60", "8000", "cpu"), res


def _sbatch_calls(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """rule -> (sbatch options, the wrapped job command) of each recorded submission."""
    calls = {}
    for line in (tmp / "sbatch.log").read_text().splitlines():
        opts, wrap = line.split(" --wrap=", 1)
        opts = shlex.split(opts)
        rule = opts[opts.index("--comment") + 1].split("_wildcards_")[0].removeprefix("rule_")
        calls[rule] = (opts, wrap)
    return calls


def test_stub_sbatch_receives_the_gpu_time_and_cpu_arguments(tmp_path):
    """A real (not dry) run through the profile with the stubs on PATH, one job of each kind ready to submit (its
    inputs faked, upstream rules not allowed): train_sft of Function-Gym, train_rl of Telepathy-Gym, evaluate of
    Turtle-Gym. sbatch receives ``--gpus=8 --cpus-per-task=8`` and no ``--ntasks`` (torchrun starts the 8 processes
    inside one task) for train_rl; one task, CPUs and no GPU for the others; each its partition, wall time and
    memory; the wrapped command runs exactly that job."""
    R, D = tmp_path / "results", tmp_path / "data"
    for f in (D / "teacher/function/enhanced.jsonl", D / "tokenizer/function/tokenizer.json",
              R / "sft/telepathy/enhanced/seed0/ckpt/model.safetensors",
              R / "rl/turtle/bao/seed0/ckpt/model.safetensors"):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.touch()
    targets = [str(R / "sft/function/enhanced/seed0/metrics.json"), str(R / "rl/telepathy/bao/seed0/metrics.json"),
               str(R / "eval/turtle/bao/seed0/test/metrics.json")]
    r = _snakemake(tmp_path, "--allowed-rules", "train_sft", "train_rl", "evaluate", "--retries", "0",
                   "--latency-wait", "0", "--slurm-init-seconds-before-status-checks", "1", targets=targets)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "SLURM status is: 'FAILED'" in out, out[-3000:]  # submitted, then "failed"
    calls = _sbatch_calls(tmp_path)
    assert set(calls) == {"train_sft", "train_rl", "evaluate"}, calls

    def has(opts, *flags):
        return all(f in opts for f in flags)

    rl, wrap = calls["train_rl"]
    assert has(rl, "--gpus=8", "--cpus-per-task=8", "-t", "2880", "--mem", "512000", "-p", "gpu"), rl
    assert rl[rl.index("-t") + 1] == "2880" and rl[rl.index("--mem") + 1] == "512000"
    assert not any(o.startswith(("--ntasks", "--gres")) for o in rl), rl
    assert "--target-jobs 'train_rl:gym=telepathy,method=bao,seed=0'" in wrap
    for rule, gym, t, mem in (("train_sft", "function", "720", "64000"), ("evaluate", "turtle", "240", "32000")):
        opts, wrap = calls[rule]
        assert has(opts, "--ntasks=1", "--cpus-per-task=1", "-p", "cpu"), (rule, opts)
        assert opts[opts.index("-t") + 1] == t and opts[opts.index("--mem") + 1] == mem, (rule, opts)
        assert not any(o.startswith(("--gpus", "--gres")) for o in opts), (rule, opts)
        assert f"--target-jobs '{rule}:gym={gym}," in wrap, wrap
