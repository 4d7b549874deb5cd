"""Multi-turn GRPO with BAO's behavior regularization (``python -m bao.rl.train --help``).

One loop, top to bottom, per step:

1. draw ``rl.tasks_per_step`` training tasks and roll each out ``rl.group_size`` times (temperature
   ``rl.temperature``, KV cache kept across turns; :mod:`bao.policy.rollout`);
2. shape the raw turn rewards with the method's regularizers (:mod:`bao.rl.shaping`), compute turn credits
   and trajectory scores, z-score the scores within each task's group and spread them over the tokens in
   proportion to turn credit (:mod:`bao.rl.advantages`);
3. take π_old of the sampled ids (by default the log-probs the sampler recorded, ``rl.old_logprobs``), cut
   the batch into ``rl.num_minibatches`` (by default length-sorted slices in a random order,
   ``rl.minibatches``) and run one PPO-clip update per minibatch (token-mean over the batch's assistant
   tokens, no KL unless ``rl.kl_coef`` > 0; :mod:`bao.rl.losses`).

The same trainer with ``shaping: none, credit: equalized, score: r2g`` is the UserRL-GRPO baseline.

Departures from the paper's setup, all forced by CPU scale and configurable: a 2M-parameter model instead of
Qwen3-1.7B/4B, ``tasks_per_step`` x ``group_size`` = 8 x 8 rollouts per step instead of 128 x 8, a learning
rate sized for a from-scratch tiny model, a dozen steps instead of 90. The policy is trained on exactly the
token ids it sampled.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from bao.config import load_config
from bao.eval.metrics import summarize
from bao.io import write_json
from bao.policy.model import load_policy, load_tokenizer, model_device, resolve_device, save_policy
from bao.policy.rollout import GenSettings, rollout
from bao.provenance import provenance
from bao.rl.advantages import (CREDITS, SCORES, batch_token_advantages, group_zscores, pad_credits, rounded_score,
                               weight_negatives)
from bao.rl.losses import entropy_from_logits, kl_k3, masked_mean, ppo_clip_loss
from bao.resume import TrainState, fingerprint, rng_state, set_rng_state, state_dir
from bao.rl.shaping import SHAPERS, ShapingParams, penalty_stats
from bao.seeding import rng, torch_generator
from bao.gyms import GYMS


def pad_batch(traces, pad_id: int):
    """(B, L) ids, attention mask, loss mask, turn index (-1 off-turn) and the sampler's log-probs (0 off-turn),
    right-padded."""
    L = max(len(t.ids) for t in traces)
    B = len(traces)
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    attn = torch.zeros((B, L), dtype=torch.long)
    lmask = torch.zeros((B, L), dtype=torch.float32)
    turn = torch.full((B, L), -1, dtype=torch.long)
    logp = torch.zeros((B, L), dtype=torch.float32)
    for i, t in enumerate(traces):
        n = len(t.ids)
        ids[i, :n] = torch.tensor(t.ids)
        attn[i, :n] = 1
        lmask[i, :n] = torch.tensor(t.loss_mask, dtype=torch.float32)
        turn[i, :n] = torch.tensor(t.turn_of_token)
        logp[i, :n] = torch.tensor(t.logprobs, dtype=torch.float32)
    return ids, attn, lmask, turn, logp


def minibatch_rows(lengths: torch.Tensor, num_minibatches: int, how: str, gen: torch.Generator) -> list[torch.Tensor]:
    """Row indices of each PPO minibatch, in the order they are visited (``rl.minibatches``).

    ``length``: consecutive slices of the rows sorted by length (longest first), visited in a random order;
    ``random``: a random split. Rows beyond ``num_minibatches * (B // num_minibatches)`` are left out."""
    B = lengths.numel()
    mb = B // num_minibatches
    if how == "length":
        by_len = torch.argsort(lengths, descending=True, stable=True)
        slices = [by_len[u * mb:(u + 1) * mb] for u in range(num_minibatches)]
        return [slices[int(u)] for u in torch.randperm(num_minibatches, generator=gen)]
    if how == "random":
        order = torch.randperm(B, generator=gen)
        return [order[u * mb:(u + 1) * mb] for u in range(num_minibatches)]
    raise ValueError(f"rl.minibatches: unknown {how!r}")


def token_logprobs(model, ids, attn, with_entropy: bool = False):
    """log pi(ids[:, 1:]) -> (B, L-1) (and the entropy of each next-token distribution).

    Rows are right-padded, so only the first ``n`` = longest real length columns are run through the model
    (causal attention: padding never changes a real position); the rest is returned as 0. On the model's device."""
    ids, attn = ids.to(model_device(model)), attn.to(model_device(model))
    L = ids.shape[1]
    n = min(L, max(2, int(attn.sum(1).max())))
    logits = model(input_ids=ids[:, :n], attention_mask=attn[:, :n]).logits[:, :-1].float()
    logp = F.pad(torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:n, None]).squeeze(-1), (0, L - n))
    return (logp, F.pad(entropy_from_logits(logits), (0, L - n))) if with_entropy else (logp, None)


@dataclass(frozen=True)
class AdvantageBatch:
    """One rollout batch, padded (:func:`pad_batch`), with its token advantages (:func:`batch_advantages`)."""

    ids: torch.Tensor
    attn: torch.Tensor
    lmask: torch.Tensor
    """(B, L) loss mask, already 0 on the cut-off rows under ``rl.truncated: mask``."""
    sampled_logp: torch.Tensor
    adv: torch.Tensor
    """(B, L) advantage of token i at column i (the loss reads columns 1..L-1: token i is predicted at i-1)."""
    scores: list
    z: list
    fired: Counter
    cut: list
    """rows of the episodes that ended at the token budget."""

    def stats(self, rc) -> dict:
        """The batch's logged advantage, score, penalty and token statistics."""
        adv, mask = self.adv[:, 1:], self.lmask[:, 1:]
        adv_tok = adv[mask > 0]
        return {
            "train/adv_mean": round(adv_tok.mean().item(), 6) if adv_tok.numel() else 0.0,
            "train/adv_std": round(adv_tok.std().item(), 6) if adv_tok.numel() > 1 else 0.0,
            "train/shaped_score_mean": round(sum(self.scores) / len(self.scores), 6),
            "train/zero_adv_episodes": sum(1 for v in self.z if abs(v) < 1e-9),
            "penalty/info_seeking_turns": self.fired["info_seeking_turns"],
            "penalty/info_seeking_episodes": self.fired["info_seeking_episodes"],
            "penalty/overthinking_episodes": self.fired["overthinking_episodes"],
            "train/tokens": int(mask.sum()),
            "train/masked_episodes": len(self.cut) if rc.truncated == "mask" else 0,
        }


def batch_advantages(episodes, traces, method, cfg, user_choices, pad_id: int, t_pen: int = 15,
                     success_threshold: float = 1.0) -> AdvantageBatch:
    """Shaped turn rewards -> turn credits and trajectory scores -> group z-scores -> token advantages of one
    rollout batch (:mod:`bao.rl.shaping`, :mod:`bao.rl.advantages`). Both backends call it; ``rl.backend: trl``
    on the union of its ranks' episodes, so every group's z-score sees all of its rollouts."""
    rc = cfg.rl
    params = ShapingParams(c_rep=rc.c_rep, c_len=rc.c_len, t_pen=t_pen, reweight_w=method.reweight_w,
                           failed_rule=rc.failed_rule, success_threshold=success_threshold)
    shaper, credit_fn, score_fn = SHAPERS.get(method.shaping), CREDITS.get(method.credit), SCORES.get(method.score)
    shaped, credits, scores, fired = [], [], [], Counter()
    for ep in episodes:
        s = shaper(ep.choices, ep.rewards, user_choices=user_choices, params=params)
        shaped.append(s)
        credits.append(credit_fn(s, gamma=rc.gamma, k=rc.em_k))
        scores.append(rounded_score(score_fn(s, gamma=rc.gamma), rc.score_decimals))
        st = penalty_stats(ep.choices, ep.rewards, s, user_choices=user_choices, params=params)
        fired["info_seeking_turns"] += st["info_seeking_fired"]
        fired["info_seeking_episodes"] += int(st["info_seeking_fired"] > 0)
        fired["overthinking_episodes"] += st["overthinking_fired"]
    z = weight_negatives(group_zscores(scores, [ep.task_id for ep in episodes], scale=rc.adv_norm), rc.neg_weight)

    ids, attn, lmask, turn, sampled_logp = pad_batch(traces, pad_id)
    cut = [i for i, ep in enumerate(episodes) if ep.end_reason == "token_budget"]
    if rc.truncated == "mask" and cut:  # out of the loss; their scores stayed in the group statistics above
        lmask[cut] = 0.0
    adv = batch_token_advantages(torch.tensor(z, dtype=torch.float32), pad_credits(credits), turn, lmask)
    return AdvantageBatch(ids, attn, lmask, sampled_logp, adv, scores, z, fired, cut)


def rl_step(model, opt, tok, episodes, traces, method, cfg, gen: torch.Generator, user_choices,
            t_pen: int = 15, success_threshold: float = 1.0, ref_model=None) -> dict:
    """Advantages + PPO updates on one rollout batch; returns the step's logged statistics.

    ``ref_model`` (the frozen RL start) is needed when ``rl.kl_coef`` > 0: β·k3(π_θ ‖ π_ref) joins the loss."""
    rc = cfg.rl
    if rc.kl_coef > 0 and ref_model is None:
        raise ValueError("rl.kl_coef > 0 needs the reference model (ref_model)")
    b = batch_advantages(episodes, traces, method, cfg, user_choices, tok.pad_token_id, t_pen, success_threshold)
    dev = model_device(model)  # the batch is built on the CPU (pad_batch); the update runs where the model is
    ids, attn, sampled_logp = b.ids.to(dev), b.attn.to(dev), b.sampled_logp.to(dev)
    adv, mask = b.adv[:, 1:].to(dev), b.lmask[:, 1:].to(dev)  # token i is predicted at position i-1

    minibatches = [idx.to(dev) for idx in minibatch_rows(b.attn.sum(1), rc.num_minibatches, rc.minibatches, gen)]
    if rc.old_logprobs == "rollout":
        old = sampled_logp[:, 1:]
    else:  # one no-grad pass, minibatch by minibatch (length-sorted ones carry little padding)
        old = torch.zeros_like(sampled_logp[:, 1:])
        with torch.no_grad():
            for idx in minibatches:
                old[idx] = token_logprobs(model, ids[idx], attn[idx])[0]
    # token-mean over the whole batch: a token's weight does not depend on the minibatch it is in
    denom = float(sum(mask[idx].sum() for idx in minibatches)) / rc.num_minibatches
    stats = Counter()
    model.train()
    for idx in minibatches:
        new, ent = token_logprobs(model, ids[idx], attn[idx], with_entropy=True)
        loss, st = ppo_clip_loss(new, old[idx], adv[idx], mask[idx], clip_eps=rc.clip_eps, denom=denom,
                                 clip_eps_high=rc.clip_eps_high)
        if rc.kl_coef > 0:
            with torch.no_grad():
                ref = token_logprobs(ref_model, ids[idx], attn[idx])[0]
            kl = (kl_k3(new, ref) * mask[idx]).sum() / max(denom, 1e-8)
            loss = loss + rc.kl_coef * kl
            stats["kl_ref"] += kl.item() / rc.num_minibatches
        if rc.entropy_coeff:  # verl's sign: loss - c * H (c < 0 minimises the entropy)
            loss = loss - rc.entropy_coeff * (ent * mask[idx]).sum() / max(denom, 1e-8)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], rc.grad_clip)
        opt.step()
        stats["loss"] += loss.item() / rc.num_minibatches
        stats["grad_norm"] += float(gnorm) / rc.num_minibatches
        stats["entropy"] += masked_mean(ent.detach(), mask[idx]).item() / rc.num_minibatches
        for k in ("clip_frac", "approx_kl"):
            stats[k] += float(st[k]) / rc.num_minibatches
    return {**{f"train/{k}": round(v, 6) for k, v in stats.items()}, **b.stats(rc)}


def make_optimizer(params, rc) -> torch.optim.Optimizer:
    """``rl.optimizer``: AdamW with β = (0.9, 0.95) or plain SGD, at ``rl.lr`` and ``rl.weight_decay``."""
    if rc.optimizer == "sgd":
        return torch.optim.SGD(params, lr=rc.lr, weight_decay=rc.weight_decay)
    return torch.optim.AdamW(params, lr=rc.lr, weight_decay=rc.weight_decay, betas=(0.9, 0.95))


def rl_tasks(g, cfg) -> tuple[list, list, object]:
    """Training tasks, validation tasks and the env factory of both (``rl.tasks``).

    ``embedded``: the gym's procedural ``train`` split and ``rl.val_tasks`` fresh draws of it (split ``val``).
    ``faithful``: the original training split (``faithful_train``, the LLM user ``users.train`` where the gym
    has one); its last ``rl.val_tasks`` tasks (at most a fifth of it) are held out for validation."""
    rc = cfg.rl
    if rc.tasks == "faithful":
        pool = g.tasks(cfg, "faithful_train")
        n_val = min(rc.val_tasks, len(pool) // 5)
        return pool[:len(pool) - n_val], pool[len(pool) - n_val:], g.env_factory(cfg, "faithful_train")
    val = g.tasks(cfg, "val", n=rc.val_tasks) if rc.val_tasks > 0 else []
    return g.tasks(cfg, "train"), val, g.env_factory(cfg, "train")


def step_draw(tasks: list, seed: int, step: int, rc) -> list:
    """The ``rl.tasks_per_step`` tasks of one step, drawn from (seed, step). With ``rl.replay_first_quarter`` the
    last ``steps // 4`` steps draw as the first ones did (step ``steps - q + j`` replays step ``j``), so the RL curve
    has a first and a last quarter on the same tasks (:func:`bao.eval.training_reward.curve_quarters`)."""
    q = rc.steps // 4 if rc.replay_first_quarter else 0
    source = step - (rc.steps - q) if q and step >= rc.steps - q else step
    return rng(seed, "rl-tasks", source).sample(tasks, rc.tasks_per_step)


def task_scores(episodes) -> dict:
    """``rollout/tasks`` (task ids, in order of first appearance) and ``rollout/task_scores`` (each task's mean
    episode reward this step): the per-task RL curve that :func:`bao.eval.training_reward.curve_quarters` pairs."""
    by_task: dict[str, list[float]] = {}
    for e in episodes:
        by_task.setdefault(e.task_id, []).append(e.total_reward)
    return {"rollout/tasks": list(by_task),
            "rollout/task_scores": [round(sum(v) / len(v), 6) for v in by_task.values()]}


def train(cfg, method_name: str, init: str, seed: int, log_path: Path | None = None, progress: bool = True,
          gym: str = "function", state: TrainState | None = None, device=None):
    """``rl.steps`` GRPO steps from ``init``. Every sub-seed is derived from (seed, step), so with ``state``
    (:class:`bao.resume.TrainState`: model, optimizer, curve) a resumed run equals an uninterrupted one.
    ``device``: where the native trainer puts the model (default the CPU); under ``rl.backend: trl`` accelerate
    places it, and a device is refused."""
    if cfg.rl.backend == "trl":  # the same rollouts, advantages and minibatches on TRL's GRPOTrainer
        from bao.rl.trl_backend import train as trl_train

        if device is not None:
            raise ValueError("rl.backend trl: accelerate places the model; a device is for rl.backend native")
        return trl_train(cfg, method_name, init, seed, log_path=log_path, progress=progress, gym=gym, state=state)
    rc = cfg.rl
    g = GYMS.get(gym)
    method = cfg.method(method_name)
    torch.set_num_threads(rc.threads)
    tok = load_tokenizer(init)
    device = torch.device(device or "cpu")
    model = load_policy(init, cfg.model).to(device)
    ref_model = None
    if rc.kl_coef > 0:  # the frozen start of this run, for the KL loss
        ref_model = load_policy(init, cfg.model).to(device).eval().requires_grad_(False)
    opt = make_optimizer([p for p in model.parameters() if p.requires_grad], rc)
    tasks, val_tasks, env_factory = rl_tasks(g, cfg)
    settings = GenSettings(temperature=rc.temperature, max_new_tokens=rc.max_new_tokens,
                           max_episode_tokens=rc.max_episode_tokens, context_length=cfg.model.context_length,
                           batch_size=rc.tasks_per_step * rc.group_size, show_reward=rc.show_reward)
    user_choices = env_factory().user_involved_choices
    val_settings = replace(settings, temperature=0.0, batch_size=max(1, len(val_tasks)))

    def validate(after_steps: int) -> dict:
        """Greedy episodes on the fixed validation tasks: the training-reward trend without sampling noise."""
        if not val_tasks or not (after_steps % rc.val_every == 0 or after_steps == rc.steps):
            return {}
        eps = [r[0] for r in rollout(model, tok, env_factory, val_tasks, val_settings)]
        m = summarize(eps, range(1, 2))
        return {"val/score": round(m["score"], 6), "val/user_rate": round(m["user_rate"], 6),
                "val/pass_at_u/1": round(m["pass_at_u/1"], 6), "val/mean_turns": round(m["mean_turns"], 6)}

    saved = state.load() if state is not None else None
    if saved is None:
        curve, start, elapsed = [], 0, 0.0
        val0 = validate(0)
    else:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        set_rng_state(saved["rng"])
        curve, start, elapsed, val0 = saved["curve"], saved["step"], saved["elapsed_s"], saved["val0"]
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_f = open(log_path, "w")
        log_f.writelines(json.dumps(row) + "\n" for row in curve)
    t_start = time.time() - elapsed
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=rc.steps, initial=start, desc=f"rl[{gym}/{method_name}]", unit="step", dynamic_ncols=True)
    for step in range(start, rc.steps):
        t0 = time.time()
        chosen = step_draw(tasks, seed, step, rc)
        batch = [t for t in chosen for _ in range(rc.group_size)]
        samples = [k for _ in chosen for k in range(rc.group_size)]
        gen = torch_generator(seed, "rollout", step, device=device)  # on the CPU the stream of every earlier run
        results = rollout(model, tok, env_factory, batch, settings, gen, samples)
        episodes, traces = [r[0] for r in results], [r[1] for r in results]
        t_roll = time.time() - t0
        row = {"step": step, **{f"rollout/{k}": round(v, 6) for k, v in summarize(episodes, range(1, 2)).items()},
               **task_scores(episodes)}
        row.update(rl_step(model, opt, tok, episodes, traces, method, cfg, torch_generator(seed, "ppo", step),
                           user_choices, t_pen=g.t_pen(cfg), success_threshold=g.success_threshold(cfg),
                           ref_model=ref_model))
        if step == 0:
            row.update({f"{k}_before": v for k, v in val0.items()})
        row.update(validate(step + 1))  # after this step's update
        row.update({"time/rollout_s": round(t_roll, 2), "time/step_s": round(time.time() - t0, 2),
                    "rollout/gen_tokens": sum(t.n_tokens for e in episodes for t in e.turns)})
        curve.append(row)
        if log_path is not None:
            log_f.write(json.dumps(row) + "\n")
            log_f.flush()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(reward=f"{row['rollout/score']:.2f}", ur=f"{row['rollout/user_rate']:.2f}",
                            pen=row["penalty/overthinking_episodes"] + row["penalty/info_seeking_episodes"])
        if state is not None and state.due(step + 1, rc.steps):
            state.save(step + 1, {"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": rng_state(),
                                  "curve": curve, "val0": val0, "elapsed_s": time.time() - t_start})
    if bar is not None:
        bar.close()
    if log_path is not None:
        log_f.close()
    return model, tok, curve, time.time() - t_start


def val_summary(curve: list[dict]) -> dict:
    """Greedy validation score before RL (logged on step 0 as ``val/score_before``) and after the last step."""
    after = [r for r in curve if "val/score" in r]
    if not curve or "val/score_before" not in curve[0] or not after:
        return {}
    return {"val_score_before": curve[0]["val/score_before"], "val_score_after": after[-1]["val/score"],
            "val_user_rate_before": curve[0]["val/user_rate_before"],
            "val_user_rate_after": after[-1]["val/user_rate"]}


def relaunch_under_torchrun(cfg, argv: list[str] | None) -> None:
    """``rl.processes`` N > 1 (``rl.backend: trl``): replace this process by ``torchrun --standalone
    --nproc_per_node N -m bao.rl.train <same arguments>`` on this node (gloo on CPUs, NCCL on GPUs), each process
    with ``rl.threads`` OpenMP threads. The Snakemake rule calls the CLI this way, so its shell command is the
    same for 1 and N processes; a launch by hand with ``torchrun`` / ``accelerate launch`` is left as it is."""
    import sys

    n = cfg.rl.processes
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n),
           "-m", "bao.rl.train", *(sys.argv[1:] if argv is None else argv)]
    print(f"rl.processes {n}: re-starting as torchrun {' '.join(cmd[3:6])} -m bao.rl.train", flush=True)
    os.execve(sys.executable, cmd, {**os.environ, "OMP_NUM_THREADS": str(cfg.rl.threads)})


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="pipeline config YAML")
    p.add_argument("--gym", default="function", help="a gym of the config's `gyms:` (function, telepathy)")
    p.add_argument("--method", required=True, help="a key of `methods:` in the config (e.g. bao, userrl_grpo)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--init", required=True, help="starting checkpoint directory (the SFT checkpoint)")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--metrics", required=True, help="summary JSON to write")
    p.add_argument("--curve", required=True, help="per-step JSONL log (written as training goes)")
    p.add_argument("--state", default=None,
                   help="directory for the resumable training state, saved every resume.rl_every steps "
                        "(default: .<out>.state beside --out, outside the job's outputs); rerunning a killed "
                        "job resumes from it, and it is removed when the job finishes. 'none': no state")
    p.add_argument("--device", type=resolve_device, default=None,
                   help="rl.backend native: where the model trains and rolls out: cpu (the default), cuda, cuda:<i> "
                        "or auto (cuda when torch sees a GPU). Under rl.backend trl accelerate places the model")
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    if a.device is not None and cfg.rl.backend == "trl":
        p.error("--device is for rl.backend native; under rl.backend trl accelerate places the model (each "
                "process's GPU when torch sees one)")
    if cfg.rl.processes > 1 and "WORLD_SIZE" not in os.environ:  # not yet under torchrun / accelerate launch
        relaunch_under_torchrun(cfg, argv)
    tmp_curve = Path(a.curve).with_suffix(".partial.jsonl")
    fp = fingerprint(cfg, inputs=(a.init,), stage="rl", gym=a.gym, method=a.method, seed=a.seed)
    state = TrainState(state_dir(a.state, a.out), fp, cfg.resume.rl_every, name=f"rl[{a.gym}/{a.method}]")
    model, tok, curve, wall = train(cfg, a.method, a.init, a.seed, log_path=tmp_curve, gym=a.gym, state=state,
                                    device=a.device)
    if int(os.environ.get("RANK", "0")) > 0:  # launched by torchrun / accelerate (rl.backend trl): rank 0 writes
        return
    tmp_curve.replace(a.curve)
    half = max(1, len(curve) // 3)

    def avg(rows, k):
        return round(sum(r[k] for r in rows) / len(rows), 6)

    summary = {
        "gym": a.gym, "method": a.method, "recipe": cfg.method(a.method).__dict__, "steps": len(curve),
        "reward_first_third": avg(curve[:half], "rollout/score"),
        "reward_last_third": avg(curve[-half:], "rollout/score"),
        "user_rate_first_third": avg(curve[:half], "rollout/user_rate"),
        "user_rate_last_third": avg(curve[-half:], "rollout/user_rate"),
        **val_summary(curve),
        "penalty_info_seeking_turns_total": sum(r["penalty/info_seeking_turns"] for r in curve),
        "penalty_overthinking_episodes_total": sum(r["penalty/overthinking_episodes"] for r in curve),
        "provenance": provenance(cfg, seed=a.seed, wall_time_s=wall, init=str(a.init)),
    }
    save_policy(model, tok, a.out, meta={"stage": "rl", "method": a.method, **summary["provenance"]})
    write_json(a.metrics, summary)
    state.clear()
    print(f"rl[{a.gym}/{a.method}] seed {a.seed}: reward {summary['reward_first_third']} -> {summary['reward_last_third']}"
          f", {wall:.0f}s -> {a.out}")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
