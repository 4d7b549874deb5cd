"""Rollouts, log-prob passes, SFT batches and evaluation follow the model's device.

Three tests:

* ``test_cpu_path_is_bit_identical_to_the_recorded_values``: sha256 of what the CPU path computes (SFT weights and
  curve, the ids / log-probs / masks of seeded sampled and greedy rollouts, RL steps, a native RL run, greedy and
  sampled evaluation), recorded from the code *before* the device changes (commit 3ba0ff9, 2026-12-03) on this
  project's machine. Float kernels differ between CPUs (docs/reliability.md), so it runs only where the values
  were recorded (same CPU model, torch version and CPU capability) and skips elsewhere, saying so.
* ``test_one_of_each_stage_runs_on_the_device``: one rollout, one RL step, one SFT step and a greedy evaluation on
  the tiny model, on ``cpu`` always and on ``cuda`` when ``torch.cuda.is_available()`` (``benchmarks/gpu_check.sh``
  runs that case);
* ``test_device_flag``: the CLIs' ``--device`` values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import struct
from pathlib import Path

import pytest
import torch

from bao.config import RLConfig, SFTConfig
from bao.envs import make
from bao.policy.model import save_policy, sha256_state
from bao.policy.rollout import GenSettings, rollout
from bao.teacher.function_teacher import procedural_tasks
from test_training import _copy, _episode_from_teacher  # noqa: E402 (tests/unit is on sys.path under pytest)


# ---- the CPU path, pinned ------------------------------------------------------------------------------------

def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _traces_digest(results) -> str:
    """ids, loss masks, turn indices, the sampler's log-probs (exact float64 bits) and the episodes."""
    parts = []
    for ep, tr in results:
        parts += [tr.ids, tr.loss_mask, tr.turn_of_token, struct.pack(f"{len(tr.logprobs)}d", *tr.logprobs),
                  ep.to_dict()]
    return _digest(*parts)


LATER_CURVE_KEYS = ("rollout/tasks", "rollout/task_scores")  # logged since the values were recorded


def _no_times(curve):
    return [{k: v for k, v in r.items() if not k.startswith("time/") and k not in LATER_CURVE_KEYS} for r in curve]


def cpu_fingerprints(small_cfg, tok, teacher_episodes, tmp: Path) -> dict[str, str]:
    """What the CPU path computes, as sha256 digests. Uses only the APIs (and defaults) of before the device
    changes, so the same function ran on the old code to record :data:`RECORDED`."""
    from bao.eval.run import evaluate
    from bao.rl.train import make_optimizer, rl_step
    from bao.rl.train import train as rl_train
    from bao.sft.train import train as sft_train

    out = {}
    cfg = dataclasses.replace(small_cfg, sft=dataclasses.replace(SFTConfig(), steps=12, batch_size=4, warmup_steps=1))
    model, stats, _ = sft_train(cfg, [e.__dict__ for e in teacher_episodes], tok, 0, progress=False)
    out["sft"] = _digest(sha256_state(model.state_dict()), stats["curve"], stats["tokens_seen"])
    save_policy(model, tok, tmp / "sft")

    tasks = procedural_tasks(small_cfg, "train", n=8) * 2
    env = lambda: make("function-proc-v0")  # noqa: E731
    s = GenSettings(temperature=1.0, max_new_tokens=24, max_episode_tokens=96, batch_size=16)
    sampled = rollout(model, tok, env, tasks, s, torch.Generator().manual_seed(1), [i % 2 for i in range(16)])
    out["rollout_sampled"] = _traces_digest(sampled)
    out["rollout_greedy"] = _traces_digest(rollout(model, tok, env, tasks, dataclasses.replace(s, temperature=0.0)))
    out["_max_turns"] = max(len(ep.turns) for ep, _ in sampled)  # coverage: observations fed into the cache

    def copy(m):
        c = type(m)(m.config)
        c.load_state_dict(m.state_dict())
        return c

    eps, trs = [r[0] for r in sampled], [r[1] for r in sampled]
    for name, rl in (("rl_step_recompute", dict(old_logprobs="recompute")),
                     ("rl_step_rollout_kl", dict(old_logprobs="rollout", kl_coef=0.1, minibatches="random"))):
        rcfg = dataclasses.replace(small_cfg, rl=dataclasses.replace(
            RLConfig(), tasks_per_step=8, group_size=2, num_minibatches=2, lr=1e-3, **rl))
        local = copy(model)
        opt = make_optimizer([p for p in local.parameters() if p.requires_grad], rcfg.rl)
        st = rl_step(local, opt, tok, eps, trs, rcfg.method("bao"), rcfg, torch.Generator().manual_seed(0),
                     frozenset({"answer"}), ref_model=copy(model).eval() if rl.get("kl_coef") else None)
        out[name] = _digest(sha256_state(local.state_dict()), st)

    rcfg = dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), steps=1, tasks_per_step=2, group_size=2, num_minibatches=2, max_new_tokens=32,
        max_episode_tokens=96, val_tasks=2))
    m, _, curve, _ = rl_train(rcfg, "bao", str(tmp / "sft"), 0, progress=False)
    out["rl_train"] = _digest(sha256_state(m.state_dict()), _no_times(curve))

    greedy = evaluate(small_cfg, str(tmp / "sft"), "test", progress=False)
    sampled_eval = evaluate(small_cfg, str(tmp / "sft"), "val", progress=False, temperature=1.0, samples=2, seed=0)
    out["eval"] = _digest([e.to_dict() for e in greedy], [e.to_dict() for e in sampled_eval])
    return out


def _machine() -> dict:
    name = platform.processor()
    try:
        name = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": name, "torch": torch.__version__, "capability": torch.backends.cpu.get_cpu_capability()}


RECORDED_ON = {"cpu": "AMD EPYC", "torch": "2.13.0+cpu", "capability": "AVX512"}
RECORDED = {
    'sft': '57a634085c3de2d5a42b378371b95d2c32107d1e1631e4a83c1a4855f6742347',
    'rollout_sampled': '5eb41c88ddc584f180bfe790f31185e1559649b95fa045470c9080ade06c1df4',
    'rollout_greedy': 'a1032152f3f3615934c1866f85ca6ba5e65b8409d11cc5570aada3797a6b0ab7',
    '_max_turns': 2,
    'rl_step_recompute': '4cda53d95043c30531e8f01763abd75c9bc9f7427ffb3ce26fc365e28327d684',
    'rl_step_rollout_kl': '08079c910feb7ff52bfaee60b30d1f7fa5cb7e2d8065df28d72229e172b8b2eb',
    'rl_train': '36d0b2183a1c584e40de3eba692ffcdc417fba21061a4bcb4490a6d2cf287f82',
    'eval': 'fd2f4073e1144031d041cf68201eb713ce3c08aece9eaf154b89e52d63d363a4',
}


def test_cpu_path_is_bit_identical_to_the_recorded_values(tmp_path, small_cfg, tiny_tok, teacher_episodes):
    if _machine() != RECORDED_ON:
        pytest.skip(f"the values were recorded on {RECORDED_ON}, this is {_machine()}: float kernels differ "
                    f"between CPUs (docs/reliability.md), so only that machine can compare bit for bit")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as recorded (every stage sets its own *.threads, 1 in the config)
    try:
        got = cpu_fingerprints(small_cfg, tiny_tok, teacher_episodes, tmp_path)
    finally:
        torch.set_num_threads(threads)
    assert got["_max_turns"] >= 2  # the multi-turn path ran: observations fed into the cache, rows dropped
    assert {k: v for k, v in got.items() if v != RECORDED[k]} == {}


# ---- every stage on the device -------------------------------------------------------------------------------

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason=f"no CUDA GPU visible to torch {torch.__version__} here"))]


@pytest.mark.parametrize("device", DEVICES)
def test_one_of_each_stage_runs_on_the_device(device, tmp_path, small_cfg, tiny_tok, teacher_episodes):
    """SFT step, rollout, RL step and greedy evaluation with the model on ``device``: every stage runs, the model
    stays there, and what the device computed agrees with the CPU computing the same thing."""
    from bao.eval.run import evaluate
    from bao.policy.model import build_tiny_qwen3, model_device
    from bao.rl.train import make_optimizer, rl_step, token_logprobs
    from bao.rl.train import train as rl_train
    from bao.seeding import torch_generator
    from bao.sft.train import train as sft_train

    dev = torch.device(device)
    rows = [e.__dict__ for e in teacher_episodes]

    # one SFT step: its loss (before the update) is the CPU's
    cfg = dataclasses.replace(small_cfg, sft=dataclasses.replace(SFTConfig(), steps=1, batch_size=4, warmup_steps=1))
    model, stats, _ = sft_train(cfg, rows, tiny_tok, 0, progress=False, device=dev)
    _, cpu_stats, _ = sft_train(cfg, rows, tiny_tok, 0, progress=False)
    assert model_device(model).type == dev.type
    assert stats["assistant_tokens_trained"] == cpu_stats["assistant_tokens_trained"] > 0
    assert stats["curve"][0]["loss"] == pytest.approx(cpu_stats["curve"][0]["loss"], rel=1e-4)

    # one sampled rollout on the device; the sampler's log-probs are what the CPU model gives the same ids
    cpu_model = build_tiny_qwen3(small_cfg.model, tiny_tok, seed=0)
    on_dev = build_tiny_qwen3(small_cfg.model, tiny_tok, seed=0).to(dev)
    tasks = procedural_tasks(small_cfg, "train", n=4) * 2
    s = GenSettings(temperature=1.0, max_new_tokens=24, max_episode_tokens=60, batch_size=8)
    results = rollout(on_dev, tiny_tok, lambda: make("function-proc-v0"), tasks, s,
                      torch_generator(0, "rollout", 0, device=dev))
    again = rollout(on_dev, tiny_tok, lambda: make("function-proc-v0"), tasks, s,
                    torch_generator(0, "rollout", 0, device=dev))
    assert [t.ids for _, t in results] == [t.ids for _, t in again]  # the device generator is seeded
    assert model_device(on_dev).type == dev.type
    for ep, tr in results:
        assert len(tr.ids) == len(tr.loss_mask) == len(tr.logprobs) and sum(tr.loss_mask) > 0
        ids = torch.tensor([tr.ids])
        ref = token_logprobs(cpu_model.eval(), ids, torch.ones_like(ids))[0][0]
        gen_pos = [i for i, m in enumerate(tr.loss_mask) if m and i > 0]
        got = torch.tensor([tr.logprobs[i] for i in gen_pos])
        assert torch.allclose(got, ref[[i - 1 for i in gen_pos]], atol=1e-4)
        on_device = token_logprobs(on_dev, ids, torch.ones_like(ids))[0]
        assert on_device.device.type == dev.type

    # one RL step on a group with non-zero advantages (two teacher successes, two failed prefixes), one
    # minibatch, so the logged loss and gradient norm are the pre-update ones: equal to the CPU's
    ep = [e for e in teacher_episodes if len(e.assistant) >= 3][0]
    pairs = [_episode_from_teacher(tiny_tok, ep), _episode_from_teacher(tiny_tok, ep),
             _episode_from_teacher(tiny_tok, ep, keep_turns=2), _episode_from_teacher(tiny_tok, ep, keep_turns=1)]
    rcfg = dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), tasks_per_step=1, group_size=4, num_minibatches=1, old_logprobs="recompute", kl_coef=0.1))
    step, cpu_copy = {}, _copy(model)  # copied before the device model's update
    for where, m in (("device", model), ("cpu", cpu_copy)):
        before = {k: v.detach().cpu().clone() for k, v in m.state_dict().items()}
        opt = make_optimizer([p for p in m.parameters() if p.requires_grad], rcfg.rl)
        step[where] = rl_step(m, opt, tiny_tok, [p[0] for p in pairs], [p[1] for p in pairs], rcfg.method("bao"),
                              rcfg, torch.Generator().manual_seed(0), frozenset({"answer"}),
                              ref_model=_copy(m).to(model_device(m)).eval())
        assert any(not torch.equal(v.cpu(), before[k]) for k, v in m.state_dict().items()), where
    assert model_device(model).type == dev.type
    for k in ("train/loss", "train/grad_norm", "train/entropy"):
        assert step["device"][k] == pytest.approx(step["cpu"][k], rel=1e-4, abs=1e-6), k

    # the native trainer for one step on the device (rollouts, KL to the frozen start, greedy validation)
    save_policy(model, tiny_tok, tmp_path / "sft")
    rcfg = dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), steps=1, tasks_per_step=2, group_size=2, num_minibatches=2, max_new_tokens=24,
        max_episode_tokens=60, val_tasks=2, kl_coef=0.1))
    trained, _, curve, _ = rl_train(rcfg, "bao", str(tmp_path / "sft"), 0, progress=False, device=dev)
    assert model_device(trained).type == dev.type
    assert len(curve) == 1 and "val/score" in curve[0] and "val/score_before" in curve[0]
    assert all(torch.isfinite(torch.tensor(float(v))) for k, v in curve[0].items() if k.startswith("train/"))

    # greedy evaluation on the device
    eps = evaluate(small_cfg, str(tmp_path / "sft"), "test", progress=False, device=dev)
    assert len(eps) == small_cfg.function.n_test_tasks and all(e.turns for e in eps)


def test_device_flag(capsys):
    from argparse import ArgumentTypeError

    from bao.eval.run import main
    from bao.policy.model import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ArgumentTypeError, match="not a torch device"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            main(["--config", "x.yaml", "--checkpoint", "c", "--split", "test", "--method", "m", "--seed", "0",
                  "--out-dir", "o", "--device", "cuda"])
        assert "argument --device: 'cuda': torch" in capsys.readouterr().err
