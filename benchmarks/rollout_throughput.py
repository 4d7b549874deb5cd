"""Multi-turn rollout throughput: batched with the KV cache kept across turns vs one episode at a time with the
whole history re-encoded every turn. Same model, same tasks, greedy decoding (so both produce the same episodes,
which the script checks).

    .venv/bin/python benchmarks/rollout_throughput.py --checkpoint results/sft/function/enhanced/seed0/ckpt --tasks 32

Prints generated tokens/s of each and the ratio (target >= 10x).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from transformers import DynamicCache

from bao.agent.toolcall import parse_assistant
from bao.config import load_config
from bao.envs import format_action, make
from bao.policy.chat import IM_END, render_observation, render_prompt
from bao.policy.model import load_policy, load_tokenizer
from bao.policy.rollout import GenSettings, rollout
from bao.teacher.function_teacher import procedural_tasks


@torch.no_grad()
def naive_rollout(model, tok, make_env, tasks, s: GenSettings):
    """Reference loop: one episode at a time; every turn re-encodes the full history, then decodes with a
    cache that lives only for that turn."""
    im_end = tok.convert_tokens_to_ids(IM_END)
    out = []
    for task in tasks:
        env = make_env()
        env.reset(options={"task": task})
        ids = tok(render_prompt(task.messages), add_special_tokens=False)["input_ids"]
        gen_total, texts = 0, []
        for _ in range(env.max_steps):
            cache = DynamicCache()
            o = model(input_ids=torch.tensor([ids]), cache=cache, use_cache=True)
            new: list[int] = []
            room = min(s.max_new_tokens, s.max_episode_tokens - gen_total, s.context_length - len(ids) - 1)
            while len(new) < room:
                t = int(o.logits[0, -1].argmax())
                new.append(t)
                if t == im_end:
                    break
                o = model(input_ids=torch.tensor([[t]]), cache=o.cache, use_cache=True)
            gen_total += len(new)
            ids = ids + new
            text = tok.decode(new[:-1] if new and new[-1] == im_end else new, skip_special_tokens=False)
            texts.append(text)
            p = parse_assistant(text)
            if not new or new[-1] != im_end or not p.has_tool_call:
                break
            obs, r, term, trunc, _ = env.step(format_action(p.choice, p.content)) if p.valid else \
                env.invalid_step(p.error)
            if term or trunc or gen_total >= s.max_episode_tokens:
                break
            ids = ids + tok(render_observation(obs), add_special_tokens=False)["input_ids"]
        out.append((texts, gen_total))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="results/sft/function/enhanced/seed0/ckpt")
    p.add_argument("--config", default="config/config.yaml")
    p.add_argument("--tasks", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    if not Path(a.checkpoint).exists():
        raise SystemExit(f"no checkpoint at {a.checkpoint}: run `make run` first or pass --checkpoint")
    torch.set_num_threads(a.threads)
    cfg = load_config(a.config)
    tok, model = load_tokenizer(a.checkpoint), load_policy(a.checkpoint).eval()
    tasks = procedural_tasks(cfg, "test", n=a.tasks)
    s = GenSettings(temperature=0.0, max_new_tokens=cfg.eval.max_new_tokens,
                    max_episode_tokens=cfg.eval.max_episode_tokens, context_length=cfg.model.context_length,
                    batch_size=a.tasks)
    env = lambda: make(cfg.function.id, max_steps=cfg.function.horizon)  # noqa: E731

    t0 = time.perf_counter()
    batched = rollout(model, tok, env, tasks, s)
    t_batched = time.perf_counter() - t0
    n_batched = sum(t.n_tokens for e, _ in batched for t in e.turns)

    # the same batched loop on transformers' DynamicCache (torch.cat per step), to show what GrowingCache adds
    import bao.policy.rollout as rollout_module

    rollout_module.GrowingCache, grow = DynamicCache, rollout_module.GrowingCache
    t0 = time.perf_counter()
    plain = rollout(model, tok, env, tasks, s)
    t_plain = time.perf_counter() - t0
    rollout_module.GrowingCache = grow
    n_plain = sum(t.n_tokens for e, _ in plain for t in e.turns)

    t0 = time.perf_counter()
    naive = naive_rollout(model, tok, env, tasks, s)
    t_naive = time.perf_counter() - t0
    n_naive = sum(g for _, g in naive)

    same = sum(1 for (e, _), (texts, _) in zip(batched, naive) if [t.text for t in e.turns] == texts)
    turns = sum(len(e.turns) for e, _ in batched) / len(batched)
    print(f"tasks={a.tasks} threads={a.threads} mean turns/episode={turns:.2f} checkpoint={a.checkpoint}")
    print(f"batched + KV cache across turns : {n_batched:6d} tokens in {t_batched:7.2f} s = "
          f"{n_batched / t_batched:8.1f} tokens/s")
    print(f"  same loop on DynamicCache      : {n_plain:6d} tokens in {t_plain:7.2f} s = "
          f"{n_plain / t_plain:8.1f} tokens/s")
    print(f"one at a time, history re-encoded: {n_naive:6d} tokens in {t_naive:7.2f} s = "
          f"{n_naive / t_naive:8.1f} tokens/s")
    print(f"speed-up: {(n_batched / t_batched) / (n_naive / t_naive):.1f}x   identical episodes: {same}/{a.tasks}")


if __name__ == "__main__":
    main()
