"""Evaluate a checkpoint on one split (``python -m bao.eval.run --help``); greedy unless ``--temperature`` > 0.

Splits (see :mod:`bao.gyms`): ``test`` (embedded gym, rules/entities never seen in training), ``test_seen``
(training rules/entities, fresh draws) and ``faithful`` (the original UserRL Function-Gym test split, 78 tasks,
original prompts; skipped with a recorded reason when the UserRL data directory is absent). Writes ``episodes.jsonl`` (every turn's text,
choice, feedback and reward) and ``metrics.json`` (Score, Pass@U-k, UR, ... + provenance).

``--split val --temperature 1 --samples 4`` measures what RL optimises, the *sampled* reward on a fixed set of
training-distribution tasks, free of the task-draw noise of the per-step rollout reward (every task is
played ``--samples`` times; metrics average over all episodes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bao.config import load_config
from bao.eval.metrics import summarize
from bao.io import write_json, write_jsonl
from bao.policy.model import load_policy, load_tokenizer, resolve_device
from bao.policy.rollout import GenSettings, rollout
from bao.provenance import provenance
from bao.seeding import torch_generator
from bao.gyms import GYMS, SplitUnavailable

SPLITS = ("test", "test_seen", "faithful", "val")


def evaluate(cfg, checkpoint: str | None, split: str, progress: bool = True, gym: str = "function",
             policy: str | None = None, agent: str | None = None, temperature: float = 0.0, samples: int = 1,
             seed: int = 0, n_tasks: int | None = None, device="cpu"):
    """Episodes on one split of a checkpoint (greedy, or ``samples`` sampled episodes per task at
    ``temperature``), a scripted ``policy`` (bao.agent.scripted) or a configured chat-model ``agent``.
    ``n_tasks``: how many tasks of a drawn split (``val``, ``test_seen``, ...) to play instead of the gym's
    ``n_test_tasks``. ``device``: where the checkpoint's model plays (and samples)."""
    torch.set_num_threads(cfg.eval.threads)
    g = GYMS.get(gym)
    if split not in g.eval_splits(cfg) and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    tasks = g.tasks(cfg, split) if n_tasks is None else g.tasks(cfg, split, n=n_tasks)
    if policy is not None:
        from bao.agent.scripted import SCRIPTED, play

        return play(g.env_factory(cfg, split), tasks, SCRIPTED.get(policy)(cfg, gym))
    if agent is not None:
        from bao.agent import endpoint_agent
        from bao.gyms import make_chat

        if agent not in cfg.agents:
            raise ValueError(f"unknown agent {agent!r}; configured under agents: {sorted(cfg.agents)}")
        a = cfg.agents[agent]
        # a local hf model (as the agent or as the faithful gym's user) generates in this process: one at a time
        workers = a.workers if a.kind == "endpoint" and cfg.users.eval.kind != "hf" else 1
        return endpoint_agent.play(make_chat(a), g.env_factory(cfg, split), tasks, workers=workers)
    tok = load_tokenizer(checkpoint)
    model = load_policy(checkpoint).to(device)
    settings = GenSettings(temperature=temperature, max_new_tokens=cfg.eval.max_new_tokens,
                           max_episode_tokens=cfg.eval.max_episode_tokens, context_length=cfg.model.context_length,
                           batch_size=cfg.eval.batch_size, show_reward=False, on_long_prompt=cfg.eval.on_long_prompt)
    batch = [t for t in tasks for _ in range(samples)]
    gen = torch_generator(seed, "eval-sampling", device=device) if temperature > 0 else None
    results = rollout(model, tok, g.env_factory(cfg, split), batch, settings, gen,
                      [k for _ in tasks for k in range(samples)], progress=progress, desc=f"eval[{gym}/{split}]")
    return [r[0] for r in results]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="pipeline config YAML")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--checkpoint", help="policy checkpoint directory")
    who.add_argument("--policy", help="a scripted policy instead of a model (bao.agent.scripted: guess_spam)")
    who.add_argument("--agent", help="a chat model configured under `agents:` (OpenAI-compatible endpoint)")
    p.add_argument("--gym", default="function", help="a gym of the config's `gyms:` (function, telepathy)")
    p.add_argument("--split", required=True, choices=SPLITS)
    p.add_argument("--method", required=True, help="label written into the results (e.g. sft, bao)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out-dir", required=True, help="directory for episodes.jsonl and metrics.json")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (the pipeline's evaluation)")
    p.add_argument("--samples", type=int, default=1, help="episodes per task (with --temperature > 0)")
    p.add_argument("--device", type=resolve_device, default="cpu",
                   help="where a --checkpoint model plays: cpu (the default), cuda, cuda:<i> or auto (cuda when torch "
                        "sees a GPU)")
    a = p.parse_args(argv)
    if a.samples < 1 or (a.samples > 1 and a.temperature <= 0):
        p.error("--samples > 1 needs --temperature > 0 (greedy episodes of one task are identical)")
    cfg = load_config(a.config)
    out = Path(a.out_dir)
    t0 = time.time()
    try:
        episodes = evaluate(cfg, a.checkpoint, a.split, gym=a.gym, policy=a.policy, agent=a.agent,
                            temperature=a.temperature, samples=a.samples, seed=a.seed, device=a.device)
    except (FileNotFoundError, SplitUnavailable) as e:
        if a.split != "faithful":
            raise
        # Honest placeholder: the faithful split cannot run without the UserRL data or an LLM user; say why,
        # score nothing.
        write_jsonl(out / "episodes.jsonl", [])
        write_json(out / "metrics.json", {"skipped": str(e), "gym": a.gym, "method": a.method, "split": a.split,
                                          "provenance": provenance(cfg, seed=a.seed)})
        print(f"eval[{a.split}] skipped: {e}")
        return
    metrics = summarize(episodes, range(1, cfg.eval.pass_k + 1))
    if a.gym in ("telepathy", "turtle"):
        from bao.envs.telepathy import IDENTITY_REPLY
        from bao.envs.turtle import STORY_REPLY
        from bao.eval.metrics import question_diagnostics

        tasks = GYMS.get(a.gym).tasks(cfg, a.split)
        targets = {t.task_id: getattr(t, "target", "") for t in tasks}
        metrics.update(question_diagnostics(episodes, targets, (IDENTITY_REPLY, STORY_REPLY)))
    write_jsonl(out / "episodes.jsonl", [e.to_dict() for e in episodes])
    write_json(out / "metrics.json", {
        "gym": a.gym, "method": a.method, "split": a.split, "seed": a.seed, **metrics,
        "provenance": provenance(cfg, seed=a.seed, wall_time_s=time.time() - t0, checkpoint=str(a.checkpoint or (f"scripted:{a.policy}" if a.policy else f"agent:{a.agent}"))),
    })
    print(f"eval[{a.gym}/{a.split}] {a.method} seed {a.seed}: score {metrics['score']:.3f} "
          f"pass@U-1 {metrics['pass_at_u/1']:.3f} UR {metrics['user_rate']:.3f} ({len(episodes)} episodes)")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
