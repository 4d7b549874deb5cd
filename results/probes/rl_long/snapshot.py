"""Probe helper: while an RL job runs, turn its resumable states at the chosen steps into loadable checkpoints.

    python snapshot.py STATE_DIR INIT_CKPT OUT_PREFIX 32 64 96
polls STATE_DIR (the job's .ckpt.state/) and, when step-0000NN appears for a chosen NN, writes OUT_PREFIX-NN/
(the init checkpoint's tokenizer + config with the state's weights). Ends when every chosen step is written or
the state directory is gone (the job finished)."""
import sys
import time
from pathlib import Path

import torch

from bao.policy.model import load_policy, load_tokenizer, save_policy

root, init, prefix, steps = Path(sys.argv[1]), sys.argv[2], sys.argv[3], {int(s) for s in sys.argv[4:]}
seen_root = False
while steps:
    seen_root |= root.exists()
    if seen_root and not root.exists():
        break
    for s in sorted(steps):
        d = root / f"step-{s:06d}"
        try:
            state = torch.load(d / "state.pt", map_location="cpu", weights_only=False)
        except Exception:  # noqa: BLE001 - not there yet, or being written
            continue
        model, tok = load_policy(init), load_tokenizer(init)
        model.load_state_dict(state["model"])
        save_policy(model, tok, f"{prefix}-{s}", meta={"stage": "rl-snapshot", "step": s})
        print(f"snapshot step {s} -> {prefix}-{s}", flush=True)
        steps.discard(s)
    time.sleep(10)
print("left unsaved:", sorted(steps), flush=True)
