"""Provenance block written into every results file: code version, config hash, seed, package versions, time."""

from __future__ import annotations

import platform
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


def provenance(cfg=None, *, seed: int | None = None, wall_time_s: float | None = None, **extra: Any) -> dict:
    d: dict[str, Any] = {
        "git_commit": git_commit(),
        "config_hash": cfg.hash() if cfg is not None else None,
        "seed": seed,
        "versions": versions(),
        "machine": f"{platform.machine()} {platform.system()}",
        "created_unix": int(time.time()),
    }
    if wall_time_s is not None:
        d["wall_time_s"] = round(wall_time_s, 2)
    d.update(extra)
    return d


def write_provenance(path, cfg=None, *, seed: int | None = None, extra: dict | None = None) -> None:
    write_json(path, provenance(cfg, seed=seed, **(extra or {})))
