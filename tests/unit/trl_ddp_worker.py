"""One rank of the 2-process check of ``rl.backend: trl`` (tests/unit/test_trl_backend.py starts it).

``torchrun --standalone --nproc_per_node 2 tests/unit/trl_ddp_worker.py BUNDLE OUT``: BUNDLE (torch.save) holds
the config, method, fixed episodes and the model directory; every rank trains on its share of them, and after
each RL step the ranks compare sha256 of their weights. Rank 0 writes ``OUT/report.json`` (world size, backend,
per-step hashes of every rank, minibatch losses) and ``OUT/step<k>.pt`` (the weights after step k).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def fixed_episodes(steps_pairs):
    """An ``episodes_fn`` that plays nothing: the rows' episodes of the step, from ``steps_pairs``."""
    def play(trainer, rows, samples, step):
        T, G = trainer.cfg.rl.tasks_per_step, trainer.cfg.rl.group_size
        return [steps_pairs[step][(r - step * T) * G + k] for r, k in zip(rows, samples)]
    return play


def main(bundle: str, out: str) -> None:
    import os
    import tempfile

    import torch
    import torch.distributed as dist

    from bao.policy.model import load_policy, load_tokenizer, sha256_state
    from bao.rl import trl_backend

    torch.set_num_threads(1)
    b = torch.load(bundle, weights_only=False)
    cfg, steps_pairs = b["cfg"], b["steps_pairs"]
    tok, model = load_tokenizer(b["model_dir"]), load_policy(b["model_dir"])
    world = int(os.environ["WORLD_SIZE"])
    args = trl_backend.grpo_args(cfg, 0, tempfile.mkdtemp(prefix="bao-ddp-"), world_size=world)
    report = {"hashes": []}

    def on_step(row):
        hashes = [None] * dist.get_world_size()
        dist.all_gather_object(hashes, sha256_state(model.state_dict()))
        if dist.get_rank() == 0:
            report["hashes"].append(hashes)
            torch.save(model.state_dict(), Path(out) / f"step{row['step']}.pt")

    trainer = trl_backend.BaoGRPOTrainer(
        model, tok, cfg, cfg.method(b["method"]), [f"task{i}" for i in range(cfg.rl.steps * cfg.rl.tasks_per_step)],
        args=args, seed=0, user_choices=b["user_choices"], episodes_fn=fixed_episodes(steps_pairs), on_step=on_step)
    trainer.train()
    if dist.get_rank() == 0:
        report.update(world_size=dist.get_world_size(), backend=dist.get_backend(),
                      distributed_type=trainer.accelerator.distributed_type.name,
                      ddp=isinstance(trainer.model_wrapped, torch.nn.parallel.DistributedDataParallel),
                      rows_per_rank_minibatch=args.per_device_train_batch_size, losses=trainer.minibatch_losses)
        (Path(out) / "report.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:3])
