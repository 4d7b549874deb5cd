"""``rl.backend: trl``: the GRPO loop of :mod:`bao.rl.train` on TRL's ``GRPOTrainer`` (trl==1.16.0, pinned).

TRL brings the distributed update (accelerate: DDP, DeepSpeed ZeRO, FSDP; ``config/accelerate/``); everything
that defines BAO stays ours and is imported, never copied:

- rollouts: :func:`bao.policy.rollout.rollout` (our multi-turn loop: same prompts, env feedback, token ids, loss
  masks and sampler log-probs), called through TRL's ``rollout_func``, whose ``env_mask`` is our loss mask;
- advantages: :func:`bao.rl.train.batch_advantages` (registered shaping, credit and score functions, group
  z-scores, per-token spreading) on the union of every rank's episodes, so a group split over ranks is scored
  whole (TRL gathers its rewards for the same reason);
- minibatches: :func:`bao.rl.train.minibatch_rows` on the union; rank r trains rows r, r+P, ... of each, so P
  processes take exactly the native update of the union batch (DDP averages the P gradients and TRL's "dapo"
  normaliser divides by the batch's token count / P);
- π_old: ``rl.old_logprobs`` (the sampler's log-probs, or one no-grad pass per minibatch before the updates);
- optimizer: :func:`bao.rl.train.make_optimizer`.

TRL hooks used (TRL marks ``rollout_func`` experimental; ``tests/unit/test_trl_backend.py`` tests the contract):
``rollout_func``; ``_prepare_inputs`` (our advantages and minibatches replace TRL's scalar advantages, shuffle
and contiguous split; ``_compute_loss`` takes (B, T) advantages as they are); ``create_optimizer``;
``compute_loss`` and ``_clip_grad_norm`` only record the logged loss and gradient norm. TRL's reward path is
never called (its init still wants a reward function: :func:`_unused_reward`).

Settings pinned where TRL's defaults differ from the native trainer (:func:`grpo_args`): fp32 (TRL: bf16), no
gradient checkpointing (TRL: on), constant LR (TRL: linear decay), AdamW β = (0.9, 0.95) on every trainable
parameter (TRL: β₂ 0.999, no decay on biases and norms), ``loss_type="dapo"`` (the batch-wide token mean),
log-probs of the raw logits (``temperature=1``: TRL would divide by the sampling temperature, the native
trainer does not), one PPO pass per batch.
``rl.entropy_coeff`` goes to TRL's ``entropy_coef`` (same sign); TRL averages the entropy over each minibatch's
tokens, the native trainer over the whole batch's (equal when minibatches hold equal token counts).

Not wired yet (errors, not silent differences): ``rl.kl_coef`` > 0; greedy validation (``rl.val_tasks``) is
not run; there is no resumable state (a killed run restarts from ``init``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

from bao.eval.metrics import summarize
from bao.gyms import GYMS
from bao.policy.model import load_policy, load_tokenizer
from bao.policy.rollout import GenSettings, rollout
from bao.rl.train import batch_advantages, make_optimizer, minibatch_rows, rl_tasks, step_draw, task_scores
from bao.seeding import torch_generator

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func's warning: the pin and the tests cover it
from datasets import Dataset  # noqa: E402
from transformers import TrainerCallback  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402
from trl.models import unwrap_model_for_generation  # noqa: E402


def _unused_reward(*args, **kwargs):
    """GRPOTrainer's required reward source; never called: scores come from :mod:`bao.rl.advantages`."""
    raise RuntimeError("rl.backend trl: TRL's reward path is not used (advantages come from bao.rl.advantages)")


def grpo_args(cfg, seed: int, output_dir: str, world_size: int = 1, **overrides) -> GRPOConfig:
    """The GRPOConfig of one run: one generation = one RL step of ``tasks_per_step x group_size`` rollouts over
    all ranks, cut into ``num_minibatches`` optimizer steps (no gradient accumulation, one PPO pass)."""
    rc = cfg.rl
    batch = rc.tasks_per_step * rc.group_size
    mb = batch // rc.num_minibatches
    if mb % world_size:
        raise ValueError(f"rl.backend trl: a minibatch of {mb} rollouts does not split over {world_size} "
                         f"processes (tasks_per_step * group_size / num_minibatches must be a multiple of it)")
    if rc.kl_coef > 0:
        raise ValueError("rl.backend trl: rl.kl_coef > 0 is not wired into the trl backend yet")
    args = dict(
        output_dir=output_dir, seed=seed, max_steps=rc.steps * rc.num_minibatches,
        per_device_train_batch_size=mb // world_size, steps_per_generation=rc.num_minibatches,
        gradient_accumulation_steps=1, num_iterations=1, num_generations=rc.group_size, shuffle_dataset=False,
        learning_rate=rc.lr, lr_scheduler_type="constant", warmup_steps=0,
        adam_beta1=0.9, adam_beta2=0.95, weight_decay=rc.weight_decay,  # read by DeepSpeed's "auto" optimizer
        max_grad_norm=rc.grad_clip, bf16=rc.bf16, fp16=False,
        activation_checkpointing=rc.gradient_checkpointing,  # transformers' gradient checkpointing
        loss_type="dapo", epsilon=rc.clip_eps, epsilon_high=rc.clip_eps_high or rc.clip_eps, beta=0.0,
        temperature=1.0, top_entropy_quantile=1.0,
        entropy_coef=rc.entropy_coeff,  # TRL's static entropy bonus, same sign: loss - c * H (a mean per minibatch)
        importance_sampling_level="token",
        mask_truncated_completions=False, use_vllm=False,
        # without it transformers treats a torchrun launch on a CPU as one process per rank, no DDP (gloo)
        use_cpu=not torch.cuda.is_available(),
        report_to="none", logging_strategy="no", save_strategy="no", disable_tqdm=True, dataloader_num_workers=0,
    )
    return GRPOConfig(**{**args, **overrides})


class BaoGRPOTrainer(GRPOTrainer):
    """GRPOTrainer whose rollouts, advantages, minibatches and optimizer are the native trainer's.

    ``step_tasks``: the tasks of every RL step in order (``tasks_per_step`` per step; the dataset's ``prompt`` is
    an index into it). ``episodes_fn(trainer, rows, samples, step) -> [(Episode, Trace)]`` plays this rank's
    share of a step (default :meth:`sampled_episodes`; the differential test feeds fixed episodes)."""

    def __init__(self, model, tok, cfg, method, step_tasks, *, args: GRPOConfig, seed: int, user_choices,
                 t_pen: int = 15, success_threshold: float = 1.0, env_factory=None, settings: GenSettings = None,
                 episodes_fn=None, on_step=None):
        self.cfg, self.method, self.step_tasks, self.bao_seed = cfg, method, step_tasks, seed
        self.user_choices, self.t_pen, self.success_threshold = user_choices, t_pen, success_threshold
        self.env_factory, self.settings = env_factory, settings
        self.episodes_fn = episodes_fn or BaoGRPOTrainer.sampled_episodes
        self.on_step = on_step
        self.minibatch_losses: list[float] = []  # one per optimizer step, the whole minibatch's loss
        self._logged = defaultdict(list)  # grad_norm, entropy, clip_frac: one per optimizer step
        self._step_row, self._step_t0 = {}, 0.0  # the RL step being trained: its batch statistics, start time
        super().__init__(model=model, reward_funcs=_unused_reward, args=args, processing_class=tok,
                         train_dataset=Dataset.from_dict({"prompt": list(range(len(step_tasks)))}),
                         rollout_func=self._rollout, callbacks=[_StepEnd(self)])

    # ---- rollouts --------------------------------------------------------------------------------------

    def sampled_episodes(self, rows, samples, step):
        """Our rollout of this rank's rows with the current weights, unwrapped as TRL's own generation does
        (ZeRO-3 and FSDP parameters gathered); on one process the sampler's seed is the native trainer's, so both
        play the same episodes."""
        rank, world = self.accelerator.process_index, self.accelerator.num_processes
        key = ("rollout", step) if world == 1 else ("rollout", step, "rank", rank)
        with (unwrap_model_for_generation(self.model_wrapped, self.accelerator,
                                          gather_deepspeed3_params=self.args.ds3_gather_for_generation) as model,
              self._dist.summon_full_params(self.model_wrapped, recurse=False)):
            gen = torch_generator(self.bao_seed, *key, device=self.accelerator.device)  # beside the model
            return rollout(model, self.processing_class, self.env_factory, [self.step_tasks[i] for i in rows],
                           self.settings, gen, samples)

    def _rollout(self, prompts, trainer):
        """TRL's ``rollout_func``: our episodes, split at the end of each prompt for TRL's bookkeeping."""
        step = self._step // self.args.steps_per_generation
        first = self.accelerator.process_index * len(prompts)  # this rank's slice of the step's batch
        samples = [(first + j) % self.args.num_generations for j in range(len(prompts))]
        pairs = self.episodes_fn(self, list(prompts), samples, step)
        split = [_prompt_len(tr) for _, tr in pairs]
        return {"prompt_ids": [tr.ids[:p] for (_, tr), p in zip(pairs, split)],
                "completion_ids": [tr.ids[p:] for (_, tr), p in zip(pairs, split)],
                "logprobs": [tr.logprobs[p:] for (_, tr), p in zip(pairs, split)],
                "env_mask": [tr.loss_mask[p:] for (_, tr), p in zip(pairs, split)],
                "bao_pairs": pairs}

    # ---- advantages and minibatches ----------------------------------------------------------------------

    def _prepare_inputs(self, generation_batch):
        if not self.model.training:
            return super()._prepare_inputs(generation_batch)
        S = self.args.steps_per_generation
        if self._step % S == 0 or self._buffered_inputs is None:
            self._buffered_inputs = self._score_minibatches(generation_batch)
        return self._buffered_inputs[self._step % S]

    def _score_minibatches(self, inputs) -> list[dict]:
        """Roll out, gather every rank's episodes, compute the native advantages and minibatches on the union,
        and return this rank's rows of each minibatch as ``_compute_loss`` inputs (π_old included)."""
        from accelerate.utils import gather_object

        t0 = time.time()
        rc, S = self.cfg.rl, self.args.steps_per_generation
        step = self._step // S
        extra = self._generate([x["prompt"] for x in inputs])[5]
        pairs = gather_object(extra["bao_pairs"])  # rank order = the step's batch order
        episodes, traces = [p[0] for p in pairs], [p[1] for p in pairs]
        t_roll = time.time() - t0
        b = batch_advantages(episodes, traces, self.method, self.cfg, self.user_choices,
                             self.processing_class.pad_token_id, self.t_pen, self.success_threshold)
        minibatches = minibatch_rows(b.attn.sum(1), S, rc.minibatches, torch_generator(self.bao_seed, "ppo", step))
        n_items = torch.tensor(float(sum(b.lmask[idx, 1:].sum() for idx in minibatches)))  # native: denom x S
        # one split for all rows: no left padding, so positions are the native trainer's (token 0 is never trained)
        p = max(1, min(_prompt_len(t) for t in traces))
        rank, world, dev = self.accelerator.process_index, self.accelerator.num_processes, self.accelerator.device
        out = []
        for idx in minibatches:
            rows = idx[rank::world]
            n = max(p + 1, int(b.attn[rows].sum(1).max()))  # the longest row: token_logprobs' columns
            ids, attn = b.ids[rows, :n].to(dev), b.attn[rows, :n].to(dev)
            mb = {"prompt_ids": ids[:, :p], "prompt_mask": attn[:, :p], "completion_ids": ids[:, p:],
                  "completion_mask": attn[:, p:], "tool_mask": b.lmask[rows, p:n].to(dev),
                  "advantages": b.adv[rows, p:n].to(dev), "num_items_in_batch": n_items.to(dev)}
            if rc.old_logprobs == "rollout":
                mb["old_per_token_logps"] = b.sampled_logp[rows, p:n].to(dev)
            else:  # before any update of this step, as the native trainer does
                with torch.no_grad():
                    mb["old_per_token_logps"] = self._get_per_token_logps_and_entropies(
                        self.model, ids, attn, n - p, batch_size=len(rows))[0]
            out.append(mb)
        self._step_row = {"step": step,
                          **{f"rollout/{k}": round(v, 6) for k, v in summarize(episodes, range(1, 2)).items()},
                          **task_scores(episodes),
                          **b.stats(rc), "rollout/gen_tokens": sum(t.n_tokens for e in episodes for t in e.turns)}
        self._step_row["time/rollout_s"] = round(t_roll, 2)
        self._step_t0 = t0
        return out

    # ---- optimizer and logging -------------------------------------------------------------------------

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            opt_model = self.model if model is None else model
            self.optimizer = make_optimizer([p for p in opt_model.parameters() if p.requires_grad], self.cfg.rl)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        # each rank holds its rows' share; their mean over ranks is the whole minibatch's loss
        self.minibatch_losses.append(float(self.accelerator.reduce(loss.detach().clone(), reduction="mean")))
        m = self._metrics["train"]  # what TRL's _compute_loss just measured over all ranks
        self._logged["entropy"].append(m["entropy"][-1])
        self._logged["clip_frac"].append(m["clip_ratio/region_mean"][-1])
        return loss

    def _clip_grad_norm(self, model):
        g = super()._clip_grad_norm(model)
        self._logged["grad_norm"].append(float(g))
        return g

    def finish_step(self) -> dict:
        """The curve row of the RL step just trained (after its last minibatch); native keys where they exist."""
        S = self.args.steps_per_generation
        row = {**self._step_row, "train/loss": round(sum(self.minibatch_losses[-S:]) / S, 6)}
        for k in ("grad_norm", "entropy", "clip_frac"):
            row[f"train/{k}"] = round(sum(self._logged[k][-S:]) / S, 6)
        row["time/step_s"] = round(time.time() - self._step_t0, 2)
        return row


class _StepEnd(TrainerCallback):
    """Closes an RL step after its ``num_minibatches``-th optimizer step."""

    def __init__(self, trainer: BaoGRPOTrainer):
        self.trainer = trainer

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % args.steps_per_generation == 0 and self.trainer.on_step is not None:
            self.trainer.on_step(self.trainer.finish_step())


def _prompt_len(trace) -> int:
    """Tokens before the first trained one (the prompt), at most all but the last token."""
    if len(trace.ids) < 2:
        raise ValueError("rl.backend trl: an episode of fewer than 2 tokens (a prompt too long for the context?)")
    first = trace.loss_mask.index(1) if 1 in trace.loss_mask else len(trace.ids)
    return min(first, len(trace.ids) - 1)


def step_tasks(tasks, cfg, seed: int) -> list:
    """The native trainer's tasks of every step, in order (:func:`bao.rl.train.step_draw`)."""
    return [t for step in range(cfg.rl.steps) for t in step_draw(tasks, seed, step, cfg.rl)]


def train(cfg, method_name: str, init: str, seed: int, log_path: Path | None = None, progress: bool = True,
          gym: str = "function", state=None):
    """:func:`bao.rl.train.train` on TRL (same signature and return value). Under torchrun / ``accelerate
    launch`` every process runs it; rank 0 writes the curve. ``state`` is accepted and not used (no resume)."""
    rc = cfg.rl
    g = GYMS.get(gym)
    torch.set_num_threads(rc.threads)
    tok = load_tokenizer(init)
    model = load_policy(init, cfg.model)
    tasks, _, env_factory = rl_tasks(g, cfg)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    settings = GenSettings(temperature=rc.temperature, max_new_tokens=rc.max_new_tokens,
                           max_episode_tokens=rc.max_episode_tokens, context_length=cfg.model.context_length,
                           batch_size=rc.tasks_per_step * rc.group_size // world, show_reward=rc.show_reward)
    curve: list[dict] = []
    main = int(os.environ.get("RANK", "0")) == 0
    log_f = None
    if log_path is not None and main:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_f = open(log_path, "w")

    def on_step(row):
        curve.append(row)
        if log_f is not None:
            log_f.write(json.dumps(row) + "\n")
            log_f.flush()
        if progress and main:
            print(f"rl[{gym}/{method_name}] trl step {row['step']}: reward {row['rollout/score']:.3f} "
                  f"loss {row['train/loss']:.4f} {row['time/step_s']}s", flush=True)

    if main and rc.val_tasks > 0:
        print(f"rl.backend trl: rl.val_tasks={rc.val_tasks} greedy validation is not run (not wired yet)", flush=True)
    t_start = time.time()
    with tempfile.TemporaryDirectory(prefix="bao-trl-") as out_dir:
        trainer = BaoGRPOTrainer(model, tok, cfg, cfg.method(method_name), step_tasks(tasks, cfg, seed),
                                 args=grpo_args(cfg, seed, out_dir, world), seed=seed,
                                 user_choices=env_factory().user_involved_choices, t_pen=g.t_pen(cfg),
                                 success_threshold=g.success_threshold(cfg), env_factory=env_factory,
                                 settings=settings, on_step=on_step)
        if main:  # what the launcher started (the Snakemake log of an rl.processes > 1 job shows it)
            acc = trainer.accelerator
            dist = torch.distributed.get_backend() if torch.distributed.is_initialized() else "none"
            print(f"rl[{gym}/{method_name}] trl: world size {acc.num_processes}, {acc.distributed_type.name}, "
                  f"process group {dist}, device {acc.device}", flush=True)
        trainer.train()
    if log_f is not None:
        log_f.close()
    return trainer.accelerator.unwrap_model(trainer.model), tok, curve, time.time() - t_start
