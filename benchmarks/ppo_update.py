"""Cost of the PPO update of one RL step, with and without the two savings of ``bao.rl.train``.

One rollout batch (``rl.tasks_per_step`` x ``rl.group_size`` episodes at ``rl.temperature``) is sampled once
from a checkpoint; then :func:`bao.rl.train.rl_step` runs on it under each setting of ``rl.old_logprobs`` x
``rl.minibatches``, every time from the same weights and a fresh optimizer, alternating the settings
``--repeats`` times so that a busy machine slows all of them alike. Prints seconds per update, the padded
positions the forward passes run over, and each setting's speed-up over ``recompute`` + ``random`` (the
trainer before 2026-11-27).

    python benchmarks/ppo_update.py --config config/config.yaml --gym function \\
        --ckpt results/sft/function/enhanced/seed0/ckpt
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402

from bao.config import load_config  # noqa: E402
from bao.gyms import GYMS  # noqa: E402
from bao.policy.model import load_policy, load_tokenizer  # noqa: E402
from bao.policy.rollout import GenSettings, rollout  # noqa: E402
from bao.rl.train import minibatch_rows, pad_batch, rl_step  # noqa: E402
from bao.seeding import rng, torch_generator  # noqa: E402

SETTINGS = [("recompute", "random"), ("recompute", "length"), ("rollout", "random"), ("rollout", "length")]


def padded_positions(lengths: torch.Tensor, num_minibatches: int, how: str, passes: int) -> int:
    """Positions the forward passes cover: each minibatch is cut to its longest row."""
    mbs = minibatch_rows(lengths, num_minibatches, how, torch.Generator().manual_seed(0))
    return passes * sum(len(m) * int(lengths[m].max()) for m in mbs)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True)
    p.add_argument("--gym", default="function")
    p.add_argument("--ckpt", required=True, help="checkpoint to roll out and update (e.g. the SFT one)")
    p.add_argument("--method", default="bao")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    rc, g = cfg.rl, GYMS.get(a.gym)
    torch.set_num_threads(rc.threads)
    tok = load_tokenizer(a.ckpt)
    model = load_policy(a.ckpt, cfg.model)
    chosen = rng(a.seed, "bench-tasks").sample(g.tasks(cfg, "train"), rc.tasks_per_step)
    batch = [t for t in chosen for _ in range(rc.group_size)]
    settings = GenSettings(temperature=rc.temperature, max_new_tokens=rc.max_new_tokens,
                           max_episode_tokens=rc.max_episode_tokens, context_length=cfg.model.context_length,
                           batch_size=len(batch))
    env_factory = g.env_factory(cfg, "train")
    t0 = time.time()
    results = rollout(model, tok, env_factory, batch, settings, torch_generator(a.seed, "bench-rollout"))
    episodes, traces = [r[0] for r in results], [r[1] for r in results]
    lengths = pad_batch(traces, tok.pad_token_id)[1].sum(1)
    print(f"rollout: {len(batch)} episodes, {int(lengths.sum())} tokens (longest {int(lengths.max())}), "
          f"{time.time() - t0:.1f}s")
    user_choices = env_factory().user_involved_choices
    times = {s: [] for s in SETTINGS}
    for _ in range(a.repeats):
        for old, how in SETTINGS:
            c = dataclasses.replace(cfg, rl=dataclasses.replace(rc, old_logprobs=old, minibatches=how))
            m = copy.deepcopy(model)
            opt = torch.optim.AdamW([q for q in m.parameters() if q.requires_grad], lr=rc.lr, betas=(0.9, 0.95))
            t = time.time()
            rl_step(m, opt, tok, episodes, traces, c.method(a.method), c, torch.Generator().manual_seed(0),
                    user_choices, t_pen=g.t_pen(cfg), success_threshold=g.success_threshold(cfg))
            times[(old, how)].append(time.time() - t)
    base = min(times[SETTINGS[0]])
    print(f"{'old_logprobs':<13}{'minibatches':<13}{'s/update (best)':>16}{'positions':>12}{'speed-up':>10}")
    for old, how in SETTINGS:
        passes = 3 + (1 if old == "recompute" else 0)  # forward + backward ~ 3 forward passes
        pos = padded_positions(lengths, rc.num_minibatches, how, passes)
        best = min(times[(old, how)])
        print(f"{old:<13}{how:<13}{best:>16.2f}{pos:>12}{base / best:>9.2f}x")


if __name__ == "__main__":
    main()
