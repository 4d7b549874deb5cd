"""Where a decode step's time goes: one forward of 1 new token per row against a KV cache of ``L`` tokens, at
batch 1 and batch B, on the default tiny model (1 thread). Explains the ceiling of the batched-rollout
speed-up measured by ``rollout_throughput.py``.

    .venv/bin/python benchmarks/decode_step.py --checkpoint results/sft/function/enhanced/seed0/ckpt

Prints ms per step and per generated token for each (batch, cache length), the bytes of cache each step
reads, and the speed-up the batch could give over batch 1 at that length: per-token time at batch 1 divided
by per-token time at batch B.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bao.policy.kv import GrowingCache
from bao.policy.model import load_policy


@torch.no_grad()
def step_ms(model, batch: int, length: int, reps: int = 20) -> float:
    vocab = model.config.vocab_size
    cache = GrowingCache()
    ids = torch.randint(5, vocab, (batch, length))
    out = model(input_ids=ids, attention_mask=torch.ones(batch, length, dtype=torch.long), cache=cache,
                use_cache=True)
    mask = torch.ones(batch, length, dtype=torch.long)
    times = []
    for i in range(reps + 3):
        mask = torch.cat([mask, torch.ones(batch, 1, dtype=torch.long)], dim=1)
        t0 = time.perf_counter()
        out = model(input_ids=torch.randint(5, vocab, (batch, 1)), attention_mask=mask,
                    position_ids=torch.full((batch, 1), length + i), cache=out.cache, use_cache=True)
        times.append(time.perf_counter() - t0)
    return 1000 * sorted(times[3:])[len(times[3:]) // 2]  # median


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="results/sft/function/enhanced/seed0/ckpt")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lengths", type=int, nargs="+", default=[200, 600, 1200])
    a = p.parse_args()
    if not Path(a.checkpoint).exists():
        raise SystemExit(f"no checkpoint at {a.checkpoint}: run `make run` first or pass --checkpoint")
    torch.set_num_threads(1)
    model = load_policy(a.checkpoint).eval()
    c = model.config
    kv_bytes_per_token = 2 * c.num_hidden_layers * c.num_key_value_heads * (c.hidden_size // c.num_attention_heads) * 4
    print(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, "
          f"{kv_bytes_per_token} bytes of KV cache per token, 1 thread")
    for L in a.lengths:
        one, many = step_ms(model, 1, L), step_ms(model, a.batch, L)
        read_mb = a.batch * L * kv_bytes_per_token / 1e6
        print(f"cache {L:5d}: batch 1 {one:6.2f} ms/token | batch {a.batch} {many:6.2f} ms/step = "
              f"{many / a.batch:5.3f} ms/token, reads {read_mb:6.1f} MB/step ({read_mb / many:5.1f} GB/s) | "
              f"batch speed-up at this length {one / (many / a.batch):4.1f}x")


if __name__ == "__main__":
    main()
