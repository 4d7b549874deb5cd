"""The smoke config end to end with the model on one device: seconds per step and peak memory of each stage.

``benchmarks/gpu_check.sh`` runs it with ``--device cuda`` after the device test; ``--device cpu`` runs the same on
the CPU (how it was checked on a machine without a GPU). In a temporary directory, from nothing:

1. the smoke config's Function-Gym tokenizer and enhanced teacher data (the real CLIs, on the CPU, as in the
   pipeline);
2. SFT for the smoke config's steps on the device (``bao.sft.train.train(..., device=)``);
3. ``rl.steps`` (2) BAO steps of the native trainer on the device (``bao.rl.train.train(..., device=)``);
4. the same 2 steps under ``rl.backend: trl`` on one process (accelerate places the model: the GPU when torch sees
   one, else the CPU; its device is printed);
5. a greedy evaluation of the test split on the device.

Prints each stage's wall seconds, each RL step's ``time/step_s`` (the first includes warm-up) and the peak memory:
``torch.cuda.max_memory_allocated`` since the stage began on a CUDA device, the process's peak RSS on the CPU.

    .venv/bin/python benchmarks/gpu_check.py --device cuda
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402
import yaml  # noqa: E402

from bao.config import config_from_dict  # noqa: E402
from bao.policy.model import model_device, resolve_device  # noqa: E402


def smoke_config():
    """config/config.yaml with config/smoke.yaml merged over it section by section (as Snakemake does)."""
    raw = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for k, v in (yaml.safe_load((ROOT / "config/smoke.yaml").read_text()) or {}).items():
        raw[k] = {**raw[k], **v} if isinstance(v, dict) and isinstance(raw.get(k), dict) else v
    return raw


class Stage:
    """Wall time and peak memory of one stage on ``dev``."""

    def __init__(self, dev: torch.device):
        self.dev = dev

    def __enter__(self):
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
            torch.cuda.reset_peak_memory_stats(self.dev)
        self.t0 = time.time()
        return self

    def __exit__(self, *exc):
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
            self.peak = f"{torch.cuda.max_memory_allocated(self.dev) / 2**20:.1f} MiB allocated on {self.dev}"
        else:
            self.peak = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB process peak RSS"
        self.wall = time.time() - self.t0
        return False


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", type=resolve_device, default="cuda", help="cuda (the default), cuda:<i> or cpu")
    a = p.parse_args()
    dev = a.device
    from bao.eval.metrics import summarize
    from bao.eval.run import evaluate
    from bao.io import read_jsonl
    from bao.policy.model import load_tokenizer, save_policy
    from bao.rl.train import train as rl_train
    from bao.sft.train import sft_steps
    from bao.sft.train import train as sft_train

    raw = smoke_config()
    cfg = config_from_dict(raw)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
    print(f"gpu_check: smoke config, Function-Gym, BAO, seed 0, device {dev} ({name}), torch {torch.__version__}",
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bao-gpu-check-") as tmp:
        work = Path(tmp)
        (work / "cfg.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        env = {**os.environ, "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
        t0 = time.time()
        for cmd in (["-m", "bao.policy.tokenizer", "--gym", "function", "--out", str(work / "tok")],
                    ["-m", "bao.teacher", "--gym", "function", "--style", "enhanced", "--out", str(work / "t.jsonl")]):
            r = subprocess.run([sys.executable, *cmd, "--config", str(work / "cfg.yaml")], env=env,
                               capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"gpu_check: {' '.join(cmd[:2])} failed:\n{r.stderr[-3000:]}")
        rows.append(("tokenizer + teacher data (CPU)", time.time() - t0, "", ""))

        tok = load_tokenizer(work / "tok")
        with Stage(dev) as st:
            model, stats, _ = sft_train(cfg, read_jsonl(work / "t.jsonl"), tok, 0, progress=False,
                                        steps=sft_steps(cfg, "function"), device=dev)
            assert model_device(model).type == dev.type
        rows.append((f"SFT ({stats['steps']} steps)", st.wall, f"{st.wall / stats['steps']:.3f}", st.peak))
        save_policy(model, tok, work / "sft")

        for backend in ("native", "trl"):
            c = dataclasses.replace(cfg, rl=dataclasses.replace(cfg.rl, backend=backend))
            with Stage(dev) as st:
                m, _, curve, _ = rl_train(c, "bao", str(work / "sft"), 0, progress=backend == "trl",
                                          device=dev if backend == "native" else None)
            where = model_device(m)
            assert len(curve) == cfg.rl.steps, curve
            if backend == "native":
                assert where.type == dev.type, where
            per_step = " ".join(f"{r['time/step_s']:.2f}" for r in curve)
            rows.append((f"RL {backend} ({len(curve)} steps, model on {where})", st.wall, per_step, st.peak))

        with Stage(dev) as st:
            eps = evaluate(cfg, str(work / "sft"), "test", progress=False, device=dev)
        m = summarize(eps, range(1, 2))
        rows.append((f"greedy eval ({len(eps)} test tasks, score {m['score']:.3f})", st.wall,
                     f"{st.wall / len(eps):.3f} per episode", st.peak))

    w = max(len(r[0]) for r in rows)
    print(f"\n{'stage':<{w}}  {'wall s':>7}  {'s per step':<22}  peak memory")
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:7.2f}  {r[2]:<22}  {r[3]}")
    print("gpu_check: OK")


if __name__ == "__main__":
    main()
