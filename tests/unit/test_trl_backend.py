"""``rl.backend: trl`` (TRL's GRPOTrainer) against the native trainer: one process on fixed episodes, two real
processes (torchrun, accelerate launch), the CLI, the accelerate configs.

Run: ``OMP_NUM_THREADS=1 .venv/bin/pytest -q tests/unit/test_trl_backend.py`` (about 50 s on this 2-core machine,
2026-12-03; 37 s of it the three 2-process tests).
"""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from bao.config import RLConfig
from bao.rl import train as native
from bao.seeding import torch_generator
from test_training import _copy, _episode_from_teacher  # noqa: E402 (tests/unit is on sys.path under pytest)
from trl_ddp_worker import fixed_episodes  # noqa: E402

trl_backend = pytest.importorskip("bao.rl.trl_backend")

USER_CHOICES = frozenset({"answer"})
# keep_turns of one task's G = 8 rollouts: None = the whole teacher episode (a success), k = its first k turns (a
# failure that ends early, so BAO's over-thinking penalty fires and every group has non-zero advantages)
GROUP = (None, 1, None, 2, 3, None, 1, 2)


def fixed_steps(tok, teacher_episodes, steps=2, tasks_per_step=2):
    """(Episode, Trace) pairs of every step: ``tasks_per_step`` teacher tasks x ``GROUP``, new tasks each step."""
    eps = [e for e in teacher_episodes if len(e.assistant) >= 4]
    assert len(eps) >= steps * tasks_per_step
    out = []
    for s in range(steps):
        pairs = []
        for ep in eps[s * tasks_per_step:(s + 1) * tasks_per_step]:
            for k, keep in enumerate(GROUP):
                e, tr = _episode_from_teacher(tok, ep, keep_turns=keep)
                pairs.append((dataclasses.replace(e, sample=k), tr))
        out.append(pairs)
    return out


def rl_cfg(small_cfg, **rl):
    return dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), steps=2, tasks_per_step=2, group_size=len(GROUP), num_minibatches=8, lr=1e-3,
        old_logprobs="recompute", **rl))


def run_native(model, tok, cfg, method, steps_pairs, seed=0):
    """rl_step per step; returns the minibatch losses (recorded from ppo_clip_loss) and parameters after each."""
    losses, params = [], []
    real = native.ppo_clip_loss

    def recording(*a, **k):
        loss, st = real(*a, **k)
        losses.append(loss.item())
        return loss, st

    opt = native.make_optimizer([p for p in model.parameters() if p.requires_grad], cfg.rl)
    native.ppo_clip_loss = recording
    try:
        for step, pairs in enumerate(steps_pairs):
            native.rl_step(model, opt, tok, [p[0] for p in pairs], [p[1] for p in pairs], method, cfg,
                           torch_generator(seed, "ppo", step), USER_CHOICES)
            params.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    finally:
        native.ppo_clip_loss = real
    return losses, params


def run_trl(model, tok, cfg, method, steps_pairs, tmp_path, seed=0):
    """The TRL backend on the same episodes; returns minibatch losses, parameters after each step, curve rows."""
    params, rows = [], []
    T = cfg.rl.tasks_per_step
    trainer = trl_backend.BaoGRPOTrainer(
        model, tok, cfg, method, [f"task{i}" for i in range(cfg.rl.steps * T)],
        args=trl_backend.grpo_args(cfg, seed, str(tmp_path)), seed=seed, user_choices=USER_CHOICES,
        episodes_fn=fixed_episodes(steps_pairs),
        on_step=lambda row: (rows.append(row), params.append(
            {k: v.detach().clone() for k, v in model.state_dict().items()})))
    trainer.train()
    return trainer.minibatch_losses, params, rows


def max_diff_and_update(a, b, start):
    """(max |a - b| over every parameter, the largest change of the reference b from ``start``)."""
    diff = max(float((a[k] - b[k]).abs().max()) for k in b)
    moved = max(float((b[k] - start[k]).abs().max()) for k in b)
    return diff, moved


@pytest.mark.parametrize("method, rl", [
    ("bao", {}),
    ("userrl_grpo", {"minibatches": "random", "truncated": "mask", "neg_weight": 0.5, "clip_eps_high": 0.28}),
])
def test_trl_backend_equals_native_on_fixed_episodes(small_cfg, tiny_model, tiny_tok, teacher_episodes,
                                                     tmp_path, method, rl):
    """2 steps x 8 minibatches of 2 rollouts, π_old recomputed: the TRL backend's loss on every minibatch and its
    parameters after every step equal the native trainer's.

    Tolerances: the two compute the same fp32 arithmetic in a different order (TRL's chunked fused LM head vs a
    full log-softmax; TRL's reductions), so they agree to float rounding, not bitwise: losses to 1e-5 relative,
    and parameters to 1e-3 of the step's largest update (a systematic difference, e.g. another advantage, LR,
    β₂ or normaliser, is of the order of the update itself; the differences measured are ~5e-5 of it, while a
    β₂ of 0.999 moved the parameters by 2e-2 of the update and a temperature of 1.05 by 0.26)."""
    cfg = rl_cfg(small_cfg, **rl)
    steps_pairs = fixed_steps(tiny_tok, teacher_episodes)
    start = {k: v.detach().clone() for k, v in tiny_model.state_dict().items()}
    n_loss, n_params = run_native(_copy(tiny_model), tiny_tok, cfg, cfg.method(method), steps_pairs)
    t_loss, t_params, rows = run_trl(_copy(tiny_model), tiny_tok, cfg, cfg.method(method), steps_pairs, tmp_path)

    assert len(n_loss) == len(t_loss) == 2 * 8
    assert any(abs(x) > 1e-4 for x in n_loss), "the fixed episodes carry no learning signal"
    torch.testing.assert_close(torch.tensor(t_loss), torch.tensor(n_loss), rtol=1e-5, atol=1e-7)
    assert len(n_params) == len(t_params) == 2
    before = start
    for step, (a, b) in enumerate(zip(t_params, n_params)):
        diff, moved = max_diff_and_update(a, b, before)
        assert moved > 1e-4, f"step {step}: the native update did not move the parameters"
        assert diff <= 1e-3 * moved, f"step {step}: max |trl - native| = {diff:.3g}, update {moved:.3g}"
        before = b
        print(f"step {step}: max |trl - native| = {diff:.3g} of an update of {moved:.3g}; losses "
              f"{float((torch.tensor(t_loss) - torch.tensor(n_loss)).abs().max()):.3g} apart")
    assert [r["step"] for r in rows] == [0, 1]
    assert rows[0]["train/zero_adv_episodes"] < 16 and rows[0]["train/tokens"] > 0
    if method == "bao":  # the curve row carries the batch's penalty counts (native rl_step's keys)
        assert rows[0]["penalty/overthinking_episodes"] > 0


def test_trl_settings_pin_the_native_update(small_cfg, tmp_path):
    """Where GRPOConfig's defaults differ from the native trainer, grpo_args pins ours."""
    cfg = rl_cfg(small_cfg, clip_eps_high=None)
    a = trl_backend.grpo_args(cfg, 0, str(tmp_path))
    assert (a.bf16, a.fp16, a.gradient_checkpointing, a.activation_checkpointing) == (False, False, False, False)
    assert a.lr_scheduler_type == "constant" and a.warmup_steps == 0
    assert (a.adam_beta1, a.adam_beta2, a.learning_rate) == (0.9, 0.95, 1e-3)
    assert (a.loss_type, a.beta, a.temperature, a.num_iterations) == ("dapo", 0.0, 1.0, 1)
    assert (a.epsilon, a.epsilon_high) == (0.2, 0.2)
    assert a.entropy_coef == cfg.rl.entropy_coeff  # rl.entropy_coeff reaches TRL's entropy bonus, same sign
    assert trl_backend.grpo_args(rl_cfg(small_cfg, entropy_coeff=-3.0), 0, str(tmp_path)).entropy_coef == -3.0
    # one generation = one RL step: 16 rollouts, 8 optimizer steps of 2, no accumulation
    assert (a.steps_per_generation, a.per_device_train_batch_size, a.gradient_accumulation_steps) == (8, 2, 1)
    assert a.generation_batch_size == 16 and a.max_steps == 16 and a.shuffle_dataset is False
    with pytest.raises(ValueError, match="does not split over 4 processes"):
        trl_backend.grpo_args(cfg, 0, str(tmp_path), world_size=4)
    with pytest.raises(ValueError, match="kl_coef"):
        trl_backend.grpo_args(rl_cfg(small_cfg, kl_coef=0.1), 0, str(tmp_path))
    # the paper configs' GPU settings reach TRL (rl.bf16, rl.gradient_checkpointing; off above)
    gpu = trl_backend.grpo_args(rl_cfg(small_cfg, bf16=True, gradient_checkpointing=True), 0, str(tmp_path))
    assert gpu.bf16 is True and gpu.activation_checkpointing is True


ROOT = Path(__file__).resolve().parents[2]
LAUNCHERS = {
    "torchrun": [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"],
    "accelerate": [str(Path(sys.executable).with_name("accelerate")), "launch", "--config_file",
                   str(ROOT / "config/accelerate/ddp_cpu.yaml")],
}


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_two_processes_take_the_native_update_of_the_union_batch(small_cfg, tiny_model, tiny_tok, teacher_episodes,
                                                                  tmp_path, launcher):
    """``torchrun --standalone --nproc_per_node 2`` or ``accelerate launch --config_file
    config/accelerate/ddp_cpu.yaml`` on tests/unit/trl_ddp_worker.py: two real CPU processes (world size 2, gloo,
    DDP), each rolling out (here: handed) half of every step's 16 episodes and training 1 of the 2 rows of each
    minibatch. After each step both ranks hold bit-identical weights (sha256), and the weights equal a 1-process
    update on the union batch, both the native trainer's and the 1-process TRL backend's.

    Tolerance: the same 1e-3 of the step's update as the differential test; DDP sums two ranks' fp32 gradients
    where one process sums all rows at once, which moves nothing beyond rounding (measured: ~3e-5 of the update).
    Measured 2026-12-03 on this 2-core machine (the other core busy): 14-28 s each, 12-17 s of it the two processes
    (mostly their imports)."""
    from bao.policy.model import save_policy

    cfg = rl_cfg(small_cfg)
    steps_pairs = fixed_steps(tiny_tok, teacher_episodes)
    save_policy(tiny_model, tiny_tok, tmp_path / "model")
    torch.save({"cfg": cfg, "method": "bao", "steps_pairs": steps_pairs, "model_dir": str(tmp_path / "model"),
                "user_choices": USER_CHOICES}, tmp_path / "bundle.pt")
    out = tmp_path / "out"
    out.mkdir()
    worker = Path(__file__).with_name("trl_ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    t0 = time.time()
    res = subprocess.run(LAUNCHERS[launcher] + [str(worker), str(tmp_path / "bundle.pt"), str(out)], env=env,
                         capture_output=True, text=True, timeout=300)
    print(f"{launcher}: {time.time() - t0:.1f} s")
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["world_size"] == 2 and report["backend"] == "gloo"
    assert report["distributed_type"] == "MULTI_CPU" and report["ddp"]  # one DDP run, not two lone processes
    assert report["rows_per_rank_minibatch"] == 1
    assert len(report["hashes"]) == 2 and all(h[0] == h[1] for h in report["hashes"]), report["hashes"]

    start = {k: v.detach().clone() for k, v in tiny_model.state_dict().items()}
    n_loss, n_params = run_native(_copy(tiny_model), tiny_tok, cfg, cfg.method("bao"), steps_pairs)
    _, t_params, _ = run_trl(_copy(tiny_model), tiny_tok, cfg, cfg.method("bao"), steps_pairs, tmp_path / "one")
    torch.testing.assert_close(torch.tensor(report["losses"]), torch.tensor(n_loss), rtol=1e-5, atol=1e-6)
    before = start
    for step in range(2):
        two = torch.load(out / f"step{step}.pt")
        for ref in (n_params[step], t_params[step]):
            diff, moved = max_diff_and_update(two, ref, before)
            assert diff <= 1e-3 * moved, f"step {step}: max |2 procs - 1 proc| = {diff:.3g}, update {moved:.3g}"
        print(f"step {step}: max |2 procs - native| = {max_diff_and_update(two, n_params[step], before)[0]:.3g} "
              f"of an update of {moved:.3g}")
        before = n_params[step]


def _cli_start(small_cfg, tiny_tok, teacher_episodes, tmp_path):
    """A tiny SFT checkpoint (tmp_path/sft) and a 2-step trl-backend config (tmp_path/cfg.yaml, returned) for the
    CLI tests."""
    import yaml

    from bao.policy.model import save_policy
    from test_training import _rows, _sft

    model, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=0)
    save_policy(model, tiny_tok, tmp_path / "sft")
    cfg = dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), steps=2, tasks_per_step=2, group_size=2, num_minibatches=2, max_new_tokens=32,
        max_episode_tokens=96, val_tasks=0, backend="trl"))
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg.to_dict()))
    return cfg


def test_cli_with_the_trl_backend_replays_the_native_run(small_cfg, tiny_tok, teacher_episodes, tmp_path):
    """``python -m bao.rl.train`` with ``rl.backend: trl`` (one process, real rollouts through TRL's rollout_func):
    the same seeded episodes as the native trainer, the same curve statistics, checkpoint and metrics written.
    The barely trained policy fails every episode alike, so every advantage is 0 and neither trainer may move a
    parameter (nothing besides the policy gradient acts); the update itself is tested on fixed episodes above."""
    from bao.policy.model import load_policy

    cfg = _cli_start(small_cfg, tiny_tok, teacher_episodes, tmp_path)
    native.main(["--config", str(tmp_path / "cfg.yaml"), "--method", "bao", "--seed", "0", "--init",
                 str(tmp_path / "sft"), "--out", str(tmp_path / "ckpt"), "--metrics", str(tmp_path / "m.json"),
                 "--curve", str(tmp_path / "curve.jsonl"), "--state", "none"])
    trl_curve = [json.loads(line) for line in (tmp_path / "curve.jsonl").read_text().splitlines()]
    metrics = json.loads((tmp_path / "m.json").read_text())
    ref_cfg = dataclasses.replace(cfg, rl=dataclasses.replace(cfg.rl, backend="native"))
    ref_model, _, ref_curve, _ = native.train(ref_cfg, "bao", str(tmp_path / "sft"), 0, progress=False)
    assert metrics["steps"] == len(trl_curve) == len(ref_curve) == 2
    for a, b in zip(trl_curve, ref_curve):
        same = [k for k in b if k.startswith(("rollout/", "penalty/")) or k in ("train/tokens", "train/adv_mean")]
        assert len(same) > 10 and {k: a[k] for k in same} == {k: b[k] for k in same}
        assert a["train/loss"] == pytest.approx(b["train/loss"], rel=1e-4, abs=1e-6)
    trained = load_policy(tmp_path / "ckpt").state_dict()
    for k, v in ref_model.state_dict().items():
        torch.testing.assert_close(trained[k], v, rtol=0, atol=1e-5)


ACCELERATE_CONFIGS = {  # file: (distributed_type, processes, CPU, what a config of that kind must pin)
    "ddp_cpu.yaml": ("MULTI_GPU", 2, True, {}),  # MULTI_GPU + use_cpu: 2 processes; run by the test above
    "ddp_gpu.yaml": ("MULTI_GPU", 8, False, {}),
    "deepspeed_zero2.yaml": ("DEEPSPEED", 8, False, {"zero_stage": 2, "gradient_accumulation_steps": 1}),
    "deepspeed_zero3.yaml": ("DEEPSPEED", 8, False, {"zero_stage": 3, "zero3_init_flag": True,
                                                     "gradient_accumulation_steps": 1}),
    "fsdp.yaml": ("FSDP", 8, False, {"fsdp_version": 2, "fsdp_transformer_layer_cls_to_wrap": "Qwen3DecoderLayer"}),
}


def test_accelerate_configs_parse_and_pin_their_engine():
    """Every config/accelerate/*.yaml loads with accelerate's own loader (unknown keys fail there) and sets its
    engine, process count and fp32 (the native trainer's precision); the FSDP wrap class exists."""
    from accelerate.commands.config.config_args import load_config_from_file
    from transformers.models.qwen3 import modeling_qwen3

    assert {p.name for p in (ROOT / "config/accelerate").glob("*.yaml")} == set(ACCELERATE_CONFIGS)
    for name, (kind, procs, cpu, pinned) in ACCELERATE_CONFIGS.items():
        c = load_config_from_file(str(ROOT / "config/accelerate" / name))
        assert (c.distributed_type.name, c.num_processes, c.use_cpu, c.mixed_precision) == (kind, procs, cpu, "no")
        engine = c.deepspeed_config if kind == "DEEPSPEED" else c.fsdp_config
        assert {k: engine.get(k) for k in pinned} == pinned, name
    assert hasattr(modeling_qwen3, "Qwen3DecoderLayer")


def test_cli_on_two_processes_trains_the_union_and_writes_once(small_cfg, tiny_tok, teacher_episodes, tmp_path):
    """``torchrun --standalone --nproc_per_node 2 -m bao.rl.train`` with ``rl.backend: trl``, as a user starts it:
    each rank rolls out half of every step (its own sampler seed), the curve counts the union's episodes, and
    rank 0 alone writes the checkpoint, metrics and curve. Measured 2026-12-03 on this machine: ~12 s."""
    from bao.policy.model import load_policy

    cfg = _cli_start(small_cfg, tiny_tok, teacher_episodes, tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cli = ["-m", "bao.rl.train", "--config", str(tmp_path / "cfg.yaml"), "--method", "bao", "--seed", "0", "--init",
           str(tmp_path / "sft"), "--out", str(tmp_path / "ckpt"), "--metrics", str(tmp_path / "m.json"), "--curve",
           str(tmp_path / "curve.jsonl")]
    res = subprocess.run(LAUNCHERS["torchrun"] + cli, env=env, capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    curve = [json.loads(line) for line in (tmp_path / "curve.jsonl").read_text().splitlines()]
    assert [r["step"] for r in curve] == [0, 1]
    assert all(r["rollout/n_episodes"] == 4 for r in curve)  # 2 tasks x 2 rollouts, over both ranks
    assert json.loads((tmp_path / "m.json").read_text())["steps"] == 2
    assert res.stdout.count("seed 0: reward") == 1  # one process wrote the outputs
    load_policy(tmp_path / "ckpt")
