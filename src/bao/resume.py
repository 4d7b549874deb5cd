"""Resume inside a stage: SFT and RL write their full training state every ``resume.<stage>_every`` steps.

A state lives in a versioned directory ``<root>/step-<k>/state.pt`` written with :func:`bao.io.atomic_dir`;
the pointer file ``<root>/LATEST`` names the newest one and is replaced atomically after it is complete, so a
kill at any instant leaves either the previous state or the new one. Older step directories are removed once
the pointer has moved. The state carries a fingerprint of what the job computes (config hash, seed, inputs):
a state written under another config is ignored with a message, never resumed from.

``root`` sits outside the job's Snakemake outputs (by default ``.ckpt.state`` beside the checkpoint directory),
because ``--rerun-incomplete`` deletes the incomplete outputs of a killed job. A job that finishes removes its
state directory.

Fault injection for the tests: ``BAO_KILL_AFTER_SAVE=k`` makes the process SIGKILL itself right after the
state of step ``k`` is saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import torch

from bao.io import MANIFEST, CorruptOutput, atomic_dir, atomic_write_text, sha256_file, verify_dir

POINTER = "LATEST"


def content_id(path: str | os.PathLike) -> str:
    """The content of an input: a file's sha256, or a directory's manifest (else the sha256 of its files), so a
    retrained checkpoint or regenerated data at the same path never matches an old state."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    if (path / MANIFEST).is_file():
        return sha256_file(path / MANIFEST)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode() + sha256_file(f).encode())
    return h.hexdigest()


def fingerprint(cfg, inputs: tuple = (), **parts: Any) -> str:
    """A stable hash of what a job computes: the whole config except ``resume:`` (how often state is saved
    does not change the result), the content of its ``inputs`` (paths) and ``parts`` (stage, seed ...)."""
    config = {k: v for k, v in cfg.to_dict().items() if k != "resume"}
    blob = json.dumps({"config": config, "inputs": [content_id(p) for p in inputs], **parts}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def state_dir(arg: str | None, out: str | os.PathLike) -> Path | None:
    """The ``--state`` of a stage CLI: a path, ``none`` (no state), or by default ``.<name>.state`` beside the
    output checkpoint ``out`` (outside the Snakemake outputs, so ``--rerun-incomplete`` keeps it)."""
    if arg is None:
        out = Path(out)
        return out.parent / f".{out.name}.state"
    return None if arg.lower() == "none" else Path(arg)


class TrainState:
    """Save / load one job's training state under ``root`` (``None`` = resumption off)."""

    def __init__(self, root: str | os.PathLike | None, fp: str, every: int, name: str = "train"):
        self.root = Path(root) if root else None
        self.fp, self.every, self.name = fp, int(every), name

    @property
    def enabled(self) -> bool:
        return self.root is not None and self.every > 0

    def due(self, steps_done: int, total: int) -> bool:
        """Save after ``steps_done`` steps? Every ``every`` steps, never after the last (the job ends there)."""
        return self.enabled and steps_done % self.every == 0 and steps_done < total

    def load(self) -> dict | None:
        """The newest complete state of this job, or None (no state, another config's state, or resumption off).
        A state whose files fail their manifest is an error: it is named, never silently skipped."""
        if not self.enabled or not (self.root / POINTER).is_file():
            return None
        d = self.root / (self.root / POINTER).read_text().strip()
        verify_dir(d, ["state.pt"])
        try:
            state = torch.load(d / "state.pt", map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001 - any unpickling failure is one clear error
            raise CorruptOutput(f"{d}/state.pt: cannot be loaded ({e}); delete {self.root} to start over") from None
        if state.get("fingerprint") != self.fp:
            print(f"{self.name}: the state in {self.root} was written under another config or seed; starting fresh",
                  flush=True)
            return None
        print(f"{self.name}: resumed at step {state['step']} from {d}", flush=True)
        return state

    def save(self, step: int, state: dict) -> None:
        """Write the state after ``step`` steps, move the pointer onto it, drop the older ones."""
        if not self.enabled:
            return
        name = f"step-{step:06d}"
        with atomic_dir(self.root / name) as d:
            torch.save({**state, "step": step, "fingerprint": self.fp}, d / "state.pt")
        atomic_write_text(self.root / POINTER, name + "\n")
        for old in self.root.glob("step-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        if os.environ.get("BAO_KILL_AFTER_SAVE") == str(step):
            os.kill(os.getpid(), signal.SIGKILL)

    def clear(self) -> None:
        """Remove the state directory (the job has written its final outputs)."""
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def rng_state() -> dict:
    """The global RNG streams a training step may touch (torch's CPU generator)."""
    return {"torch": torch.get_rng_state()}


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
