"""Provenance block written into every results file: code version, config hash, seed, package versions, time."""

from __future__ import annotations

import platform
import re
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bao.io import write_json

_PACKAGES = ("torch", "transformers", "tokenizers", "peft", "numpy", "pandas")


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        commit = out.stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10, cwd=Path(__file__).resolve().parent).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "missing"
    return out


def cpu_info() -> dict[str, str]:
    """The CPU model and the float kernels torch uses: outputs are bit-exact only on the same CPU and backend."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model)
    except OSError:
        pass
    out = {"cpu": model}
    try:
        import torch

        show = torch.__config__.show()
        m = re.search(r"BLAS_INFO=([^,\s]+)", show)
        blas = m.group(1) if m else "unknown"
        cap = next((ln.split(":", 1)[1].strip() for ln in show.splitlines() if "CPU capability usage" in ln), "unknown")
        out.update({"blas": blas, "cpu_capability": cap, "torch_threads": str(torch.get_num_threads())})
    except Exception:  # noqa: BLE001 - provenance must never fail a run
        pass
    return out


def provenance(cfg=None, *, seed: int | None = None, wall_time_s: float | None = None, **extra: Any) -> dict:
    d: dict[str, Any] = {
        "git_commit": git_commit(),
        "config_hash": cfg.hash() if cfg is not None else None,
        "seed": seed,
        "versions": versions(),
        "machine": f"{platform.machine()} {platform.system()}",
        **cpu_info(),
        "created_unix": int(time.time()),
    }
    if wall_time_s is not None:
        d["wall_time_s"] = round(wall_time_s, 2)
    d.update(extra)
    return d


def write_provenance(path, cfg=None, *, seed: int | None = None, extra: dict | None = None) -> None:
    write_json(path, provenance(cfg, seed=seed, **(extra or {})))
