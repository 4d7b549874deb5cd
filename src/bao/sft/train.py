"""SFT warm start: train the policy on teacher episodes (``python -m bao.sft.train --help``).

Sized by optimizer steps (``sft.steps`` x ``sft.batch_size`` episodes), never by wall time, so enhanced and
plain teachers get the same number of updates; the tokens seen are reported. Loss = token-mean cross-entropy
on assistant tokens only. Full fine-tune of the tiny model; LoRA when ``model.lora.enabled``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from bao.config import load_config
from bao.io import read_jsonl, write_json
from bao.policy.model import init_policy, load_tokenizer, num_params, resolve_device, save_policy, sha256_state
from bao.provenance import provenance
from bao.resume import TrainState, content_id, fingerprint, rng_state, set_rng_state, state_dir
from bao.seeding import derive_seed, torch_generator
from bao.sft.data import collate, encode_episode


def lr_at(step: int, total: int, warmup: int, base: float) -> float:
    """Linear warmup, then cosine decay to 10% of ``base``."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def length_grouped_batches(examples, batch_size: int, gen: torch.Generator, group: int = 8) -> list[list[int]]:
    """One epoch of index batches: shuffle, sort each window of ``group`` batches by length (less padding),
    cut into batches, shuffle the batches. Deterministic given the generator."""
    order = torch.randperm(len(examples), generator=gen).tolist()
    window = batch_size * group
    batches = []
    for w in range(0, len(order) - batch_size + 1, window):
        chunk = sorted(order[w:w + window], key=lambda i: len(examples[i].ids))
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk) - batch_size + 1, batch_size)]
    perm = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in perm]


def sft_loss(model, ids, attn, lmask) -> tuple[torch.Tensor, int]:
    logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1]  # (B, L-1, V)
    target, m = ids[:, 1:], lmask[:, 1:]
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), target.reshape(-1),
                                           reduction="none").view_as(m)
    n = int(m.sum())
    return (ce * m).sum() / max(1, n), n


def sft_steps(cfg, gym: str | None) -> int:
    """The gym section's ``sft_steps`` when set (> 0), else ``sft.steps``."""
    own = getattr(cfg, gym).sft_steps if gym else 0
    return own if own > 0 else cfg.sft.steps


def train(cfg, teacher_rows: list[dict], tok, seed: int, progress: bool = True, steps: int | None = None,
          state: TrainState | None = None, device="cpu"):
    """SFT for ``steps`` optimizer steps on ``device``. With ``state`` (:class:`bao.resume.TrainState`) the full
    training state is saved as it goes and a saved one is resumed from: the result is the same as an
    uninterrupted run."""
    torch.set_num_threads(cfg.sft.threads)
    model = init_policy(cfg.model, tok, derive_seed(seed, "init")).to(device)  # initialised on the CPU, then moved
    examples = [encode_episode(tok, r["messages"], r["assistant"], r["feedback"], r.get("trained"))
                for r in teacher_rows]
    kept = [e for e in examples if len(e.ids) <= cfg.sft.max_seq_len]
    if not kept:
        raise SystemExit(f"sft: no teacher episode fits sft.max_seq_len={cfg.sft.max_seq_len}")
    if len(kept) < len(examples):
        longest = max(len(e.ids) for e in examples)
        print(f"sft: WARNING {len(examples) - len(kept)} of {len(examples)} teacher episodes are longer than "
              f"sft.max_seq_len={cfg.sft.max_seq_len} (longest {longest} tokens) and are not trained on; raise "
              f"sft.max_seq_len (and model.context_length) or shorten the episodes", flush=True)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.sft.lr, weight_decay=cfg.sft.weight_decay, betas=(0.9, 0.95))
    gen = torch_generator(seed, "sft-batches")
    batches = length_grouped_batches(kept, cfg.sft.batch_size, gen)
    steps = cfg.sft.steps if steps is None else steps
    tokens_total, tokens_trained, start, elapsed = 0, 0, 0, 0.0
    curve = []
    saved = state.load() if state is not None else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        gen.set_state(saved["batch_generator"])
        set_rng_state(saved["rng"])
        batches, curve = saved["batches"], saved["curve"]
        tokens_total, tokens_trained, start, elapsed = (saved["tokens_total"], saved["tokens_trained"],
                                                        saved["step"], saved["elapsed_s"])
    t0 = time.time() - elapsed
    model.train()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, initial=start, desc="sft", unit="step", dynamic_ncols=True)
    for step in range(start, steps):
        if not batches:
            batches = length_grouped_batches(kept, cfg.sft.batch_size, gen)
        batch = [kept[i] for i in batches.pop()]
        ids, attn, lmask = (x.to(device) for x in collate(batch, tok.pad_token_id))
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, cfg.sft.warmup_steps, cfg.sft.lr)
        loss, n = sft_loss(model, ids, attn, lmask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        tokens_total += int(attn.sum())
        tokens_trained += n
        if step % 25 == 0 or step == steps - 1:
            curve.append({"step": step, "loss": round(loss.item(), 5), "grad_norm": round(float(gnorm), 4),
                          "lr": opt.param_groups[0]["lr"]})
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tokens_total / (time.time() - t0):.0f}")
        if state is not None and state.due(step + 1, steps):
            state.save(step + 1, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                  "batch_generator": gen.get_state(), "rng": rng_state(), "batches": batches,
                                  "curve": curve, "tokens_total": tokens_total, "tokens_trained": tokens_trained,
                                  "elapsed_s": time.time() - t0})
    if bar is not None:
        bar.close()
    wall = time.time() - t0
    stats = {
        "steps": steps, "batch_size": cfg.sft.batch_size, "examples": len(examples),
        "dropped_too_long": len(examples) - len(kept), "tokens_seen": tokens_total,
        "assistant_tokens_trained": tokens_trained, "tokens_per_s": round(tokens_total / wall, 1),
        "final_loss": curve[-1]["loss"], "num_params": num_params(model), "curve": curve,
    }
    return model, stats, wall


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="pipeline config YAML")
    p.add_argument("--teacher-data", required=True, help="teacher episodes (.jsonl from bao.teacher)")
    p.add_argument("--tokenizer", required=True, help="tokenizer directory (or the HF model directory)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--gym", default=None, help="the gym whose section may set its own sft_steps")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--metrics", required=True, help="metrics JSON to write")
    p.add_argument("--state", default=None,
                   help="directory for the resumable training state, saved every resume.sft_every steps "
                        "(default: .<out>.state beside --out, outside the job's outputs); rerunning a killed "
                        "job resumes from it, and it is removed when the job finishes. 'none': no state")
    p.add_argument("--device", type=resolve_device, default="cpu",
                   help="where the model trains: cpu (the default), cuda, cuda:<i> or auto (cuda when torch "
                        "sees a GPU)")
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    tok = load_tokenizer(a.tokenizer)
    rows = read_jsonl(a.teacher_data)
    steps = sft_steps(cfg, a.gym)
    fp = fingerprint(cfg, inputs=(a.teacher_data, a.tokenizer), stage="sft", seed=a.seed, steps=steps)
    state = TrainState(state_dir(a.state, a.out), fp, cfg.resume.sft_every, name="sft")
    model, stats, wall = train(cfg, rows, tok, a.seed, steps=steps, state=state, device=a.device)
    stats["provenance"] = provenance(cfg, seed=a.seed, wall_time_s=wall, teacher_data=str(a.teacher_data))
    # what the run read and wrote, by content: two runs that differ here differ in their inputs, two that
    # agree here but not in weights differ in the machine's float kernels (docs/reliability.md)
    tok_json = Path(a.tokenizer) / "tokenizer.json"
    stats["inputs_sha256"] = {"teacher_data": content_id(a.teacher_data),
                              "tokenizer": content_id(tok_json if tok_json.is_file() else a.tokenizer)}
    save_policy(model, tok, a.out, meta={"stage": "sft", "seed": a.seed, **stats["provenance"]})
    stats["weights_sha256"] = sha256_state(load_file(Path(a.out) / "model.safetensors"))  # as saved
    write_json(a.metrics, stats)
    state.clear()
    print(f"sft: {stats['steps']} steps, final loss {stats['final_loss']}, {stats['tokens_per_s']} tok/s, "
          f"{wall:.0f}s -> {a.out}")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
