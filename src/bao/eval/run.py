"""Evaluate a checkpoint greedily on one split (``python -m bao.eval.run --help``).

Splits: ``test`` (embedded gym, rules never seen in training), ``test_seen`` (training rules, fresh test cases)
and ``faithful`` (the original UserRL Function-Gym test split, 78 tasks, original prompts; skipped with a
recorded reason when the UserRL data directory is absent). Writes ``episodes.jsonl`` (every turn's text,
choice, feedback and reward) and ``metrics.json`` (Score, Pass@U-k, UR, ... + provenance).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bao.config import load_config, resolve_path
from bao.envs import make
from bao.eval.metrics import summarize
from bao.io import write_json, write_jsonl
from bao.policy.model import load_policy, load_tokenizer
from bao.policy.rollout import GenSettings, rollout
from bao.provenance import provenance
from bao.teacher.function_teacher import procedural_tasks

SPLITS = ("test", "test_seen", "faithful")


def load_split(cfg, split: str):
    """(env id, tasks) of an eval split."""
    if split == "faithful":
        from bao.envs.faithful import load_original_tasks

        tasks = load_original_tasks(resolve_path(cfg.data.userrl_dir), "test")[: cfg.eval.faithful_max_tasks]
        return "function-v0", tasks
    if split in ("test", "test_seen"):
        return cfg.env.id, procedural_tasks(cfg, split)
    raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")


def evaluate(cfg, checkpoint: str, split: str, progress: bool = True):
    torch.set_num_threads(cfg.eval.threads)
    env_id, tasks = load_split(cfg, split)
    tok = load_tokenizer(checkpoint)
    model = load_policy(checkpoint)
    settings = GenSettings(temperature=0.0, max_new_tokens=cfg.eval.max_new_tokens,
                           max_episode_tokens=cfg.eval.max_episode_tokens, context_length=cfg.model.context_length,
                           batch_size=cfg.eval.batch_size, show_reward=False, on_long_prompt=cfg.eval.on_long_prompt)
    results = rollout(model, tok, lambda: make(env_id, max_steps=cfg.env.horizon), tasks, settings,
                      progress=progress, desc=f"eval[{split}]")
    return [r[0] for r in results]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="pipeline config YAML")
    p.add_argument("--checkpoint", required=True, help="policy checkpoint directory")
    p.add_argument("--split", required=True, choices=SPLITS)
    p.add_argument("--method", required=True, help="label written into the results (e.g. sft, bao)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out-dir", required=True, help="directory for episodes.jsonl and metrics.json")
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    out = Path(a.out_dir)
    t0 = time.time()
    try:
        episodes = evaluate(cfg, a.checkpoint, a.split)
    except FileNotFoundError as e:
        if a.split != "faithful":
            raise
        # Honest placeholder: the faithful split cannot run without the UserRL data; say why, score nothing.
        write_jsonl(out / "episodes.jsonl", [])
        write_json(out / "metrics.json", {"skipped": str(e), "method": a.method, "split": a.split,
                                          "provenance": provenance(cfg, seed=a.seed)})
        print(f"eval[{a.split}] skipped: {e}")
        return
    metrics = summarize(episodes, range(1, cfg.eval.pass_k + 1))
    write_jsonl(out / "episodes.jsonl", [e.to_dict() for e in episodes])
    write_json(out / "metrics.json", {
        "method": a.method, "split": a.split, "seed": a.seed, **metrics,
        "provenance": provenance(cfg, seed=a.seed, wall_time_s=time.time() - t0, checkpoint=str(a.checkpoint)),
    })
    print(f"eval[{a.split}] {a.method} seed {a.seed}: score {metrics['score']:.3f} "
          f"pass@U-1 {metrics['pass_at_u/1']:.3f} UR {metrics['user_rate']:.3f} ({len(episodes)} episodes)")


if __name__ == "__main__":
    main()
