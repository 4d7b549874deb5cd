"""SFT and RL updates on a tiny model: parameters move, losses are finite, runs are seed-deterministic."""

import dataclasses

import pytest
import torch

from bao.config import RLConfig, SFTConfig
from bao.envs import make
from bao.policy.model import sha256_state
from bao.policy.rollout import GenSettings, rollout
from bao.rl.losses import kl_k3, masked_mean
from bao.rl.train import make_optimizer, pad_batch, rl_step, token_logprobs
from bao.sft.train import lr_at, train
from bao.teacher.function_teacher import procedural_tasks


def _rows(eps):
    return [e.__dict__ for e in eps]


def _hash(model) -> str:
    return sha256_state(model.state_dict())


def _sft(cfg, tok, rows, seed, steps=4):
    cfg = dataclasses.replace(cfg, sft=dataclasses.replace(SFTConfig(), steps=steps, batch_size=4, warmup_steps=1))
    return train(cfg, rows, tok, seed, progress=False)


def test_lr_schedule():
    assert lr_at(0, 100, 10, 1.0) == 0.1
    assert abs(lr_at(10, 100, 10, 1.0) - 1.0) < 1e-9
    assert abs(lr_at(100, 100, 10, 1.0) - 0.1) < 1e-9


def test_sft_learns_and_is_seed_deterministic(small_cfg, tiny_tok, teacher_episodes):
    rows = _rows(teacher_episodes)
    m1, s1, _ = _sft(small_cfg, tiny_tok, rows, seed=0, steps=12)
    m2, _, _ = _sft(small_cfg, tiny_tok, rows, seed=0, steps=12)
    m3, _, _ = _sft(small_cfg, tiny_tok, rows, seed=1, steps=12)
    assert s1["curve"][-1]["loss"] < s1["curve"][0]["loss"]
    assert s1["assistant_tokens_trained"] > 0 and s1["tokens_seen"] > s1["assistant_tokens_trained"]
    assert _hash(m1) == _hash(m2)
    assert _hash(m1) != _hash(m3)


def _episode_from_teacher(tok, ep, keep_turns=None):
    """An (Episode, Trace) pair from a teacher episode; ``keep_turns`` cuts it into a failed prefix."""
    from bao.agent.toolcall import parse_assistant
    from bao.policy.rollout import Trace
    from bao.sft.data import encode_episode
    from bao.types import Episode, Turn

    n = len(ep.assistant) if keep_turns is None else keep_turns
    ex = encode_episode(tok, ep.messages, ep.assistant[:n], ep.feedback[:n])
    turn_of, t, prev = [], -1, 0
    for m in ex.mask:
        if m and not prev:
            t += 1
        turn_of.append(t if m else -1)
        prev = m
    turns = []
    for i in range(n):
        p = parse_assistant(ep.assistant[i])
        r = 1.0 if ep.feedback[i].startswith("Your answer is correct") else 0.0
        turns.append(Turn(p.choice, p.content, True, r, ep.feedback[i], p.choice == "answer"))
    end = "success" if sum(x.reward for x in turns) > 0 else "token_budget"
    return Episode(ep.task_id, turns, end), Trace(ex.ids, ex.mask, turn_of, [0.0] * len(ex.ids))


def _one_group_cfg(small_cfg, group_size: int = 4, **rl):
    """``small_cfg`` with an RL section for one group of ``group_size`` recorded episodes in 2 minibatches; the
    traces carry no sampler log-probs, so pi_old is recomputed."""
    return dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), tasks_per_step=1, group_size=group_size, num_minibatches=2, old_logprobs="recompute", **rl))


def _copy(model):
    local = type(model)(model.config)
    local.load_state_dict(model.state_dict())
    return local


def test_rl_step_updates_parameters_and_logs_penalties(small_cfg, tiny_tok, teacher_episodes):
    """One group: two teacher successes and two failed prefixes. BAO penalises the failures (they would get
    zero advantage under R2G credits without the penalties) and the update moves the parameters."""
    model, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=0)
    cfg = _one_group_cfg(small_cfg)
    eps = [e for e in teacher_episodes if len(e.assistant) >= 3][:1] * 4
    pairs = [_episode_from_teacher(tiny_tok, eps[0]), _episode_from_teacher(tiny_tok, eps[1]),
             _episode_from_teacher(tiny_tok, eps[2], keep_turns=2), _episode_from_teacher(tiny_tok, eps[3], keep_turns=1)]
    assert [p[0].end_reason for p in pairs] == ["success", "success", "token_budget", "token_budget"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    stats = rl_step(model, opt, tiny_tok, [p[0] for p in pairs], [p[1] for p in pairs], cfg.method("bao"), cfg,
                    torch.Generator().manual_seed(0), frozenset({"answer"}))
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "no parameter changed after an RL step"
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert stats["penalty/overthinking_episodes"] == 2
    assert stats["train/zero_adv_episodes"] == 0
    assert stats["train/adv_std"] > 0


def test_truncated_mask_drops_cut_off_episodes_from_the_loss(small_cfg, tiny_tok, teacher_episodes):
    """rl.truncated=mask: the two token-budget episodes of the group leave the loss (their tokens are not
    counted) while the two successes still train; with every episode cut off no parameter moves."""
    model, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=0)
    ep = [e for e in teacher_episodes if len(e.assistant) >= 3][0]
    pairs = [_episode_from_teacher(tiny_tok, ep), _episode_from_teacher(tiny_tok, ep),
             _episode_from_teacher(tiny_tok, ep, keep_turns=2), _episode_from_teacher(tiny_tok, ep, keep_turns=1)]

    def step(truncated, group):
        cfg = _one_group_cfg(small_cfg, len(group), truncated=truncated)
        local = _copy(model)
        before = {k: v.clone() for k, v in local.state_dict().items()}
        opt = torch.optim.AdamW(local.parameters(), lr=1e-3, weight_decay=0.0)
        st = rl_step(local, opt, tiny_tok, [p[0] for p in group], [p[1] for p in group], cfg.method("bao"), cfg,
                     torch.Generator().manual_seed(0), frozenset({"answer"}))
        moved = any(not torch.equal(v, before[k]) for k, v in local.state_dict().items())
        return st, moved

    kept, _ = step("keep", pairs)
    masked, moved = step("mask", pairs)
    success_tokens = sum(sum(p[1].loss_mask[1:]) for p in pairs[:2])
    assert kept["train/tokens"] > masked["train/tokens"] == success_tokens
    assert masked["train/masked_episodes"] == 2 and kept["train/masked_episodes"] == 0
    assert moved
    cut_only, moved = step("mask", pairs[2:])
    assert cut_only["train/tokens"] == 0 and not moved


def test_rl_training_is_seed_deterministic(tmp_path, small_cfg, tiny_tok, teacher_episodes):
    """Same config + seed -> identical checkpoint and curve; another seed -> different rollouts."""
    from bao.policy.model import save_policy
    from bao.rl.train import train as rl_train

    model, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=0)
    save_policy(model, tiny_tok, tmp_path / "sft")
    cfg = dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), steps=1, tasks_per_step=2, group_size=2, num_minibatches=2, max_new_tokens=32,
        max_episode_tokens=96))

    def run(seed):
        m, _, curve, _ = rl_train(cfg, "bao", str(tmp_path / "sft"), seed, progress=False)
        drop = ("time/rollout_s", "time/step_s")
        return _hash(m), [{k: v for k, v in r.items() if k not in drop} for r in curve]

    a, b, c = run(0), run(0), run(1)
    assert a == b
    # the barely trained policy fails every rollout, so the update may be a no-op; the episodes must differ
    assert a[1] != c[1]


def test_lora_sft_trains_adapters_and_saves_a_plain_checkpoint(tmp_path, small_cfg, tiny_tok, teacher_episodes):
    """model.lora.enabled wraps the policy in a peft adapter; the saved checkpoint is merged and loads plainly."""
    from bao.config import LoraConfig
    from bao.policy.model import load_policy, save_policy

    cfg = dataclasses.replace(small_cfg, model=dataclasses.replace(
        small_cfg.model, lora=LoraConfig(enabled=True, r=4, alpha=8, dropout=0.0)))
    model, stats, _ = _sft(cfg, tiny_tok, _rows(teacher_episodes), seed=0, steps=3)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    save_policy(model, tiny_tok, tmp_path / "ckpt")
    reloaded = load_policy(tmp_path / "ckpt")
    assert not any("lora_" in n for n, _ in reloaded.named_parameters())
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert torch.allclose(model(input_ids=ids).logits, reloaded(input_ids=ids).logits, atol=1e-4)


def test_token_logprobs_ignore_right_padding(tiny_model):
    from bao.rl.train import token_logprobs

    g = torch.Generator().manual_seed(0)
    rows = [torch.randint(5, 300, (n,), generator=g) for n in (9, 4, 6)]
    ids = torch.zeros((3, 12), dtype=torch.long)
    attn = torch.zeros((3, 12), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)], attn[i, : len(r)] = r, 1
    tiny_model.eval()
    with torch.no_grad():
        logp, ent = token_logprobs(tiny_model, ids, attn, with_entropy=True)
        assert logp.shape == ent.shape == (3, 11)
        for i, r in enumerate(rows):
            alone, _ = token_logprobs(tiny_model, r[None], torch.ones((1, len(r)), dtype=torch.long))
            torch.testing.assert_close(logp[i, : len(r) - 1], alone[0], rtol=1e-4, atol=1e-5)
        assert (logp[:, 8:] == 0).all()  # columns past the longest row are never computed


def test_sampler_logprobs_match_a_recomputed_pass(small_cfg, tiny_model, tiny_tok):
    """rl.old_logprobs=rollout uses the log-probs recorded while sampling (KV cache, padding in the middle);
    they equal a plain forward pass over the finished trace on every generated token."""
    from bao.rl.train import pad_batch, token_logprobs

    tasks = procedural_tasks(small_cfg, "train", n=3)
    s = GenSettings(temperature=1.0, max_new_tokens=24, max_episode_tokens=60, batch_size=6)
    traces = [tr for _, tr in rollout(tiny_model, tiny_tok, lambda: make("function-proc-v0"), tasks * 2, s,
                                      torch.Generator().manual_seed(0))]
    ids, attn, lmask, _, sampled = pad_batch(traces, tiny_tok.pad_token_id)
    with torch.no_grad():
        recomputed, _ = token_logprobs(tiny_model.eval(), ids, attn)
    m = lmask[:, 1:] > 0
    assert m.sum() > 50
    assert torch.allclose(sampled[:, 1:][m], recomputed[m], atol=1e-4)
    assert (sampled[:, 1:][~m] == 0).all()


def test_minibatches_partition_the_batch_and_length_slices_are_sorted():
    from bao.rl.train import minibatch_rows

    lengths = torch.tensor([5, 90, 12, 40, 7, 300, 33, 61])
    for how in ("length", "random"):
        mbs = minibatch_rows(lengths, 4, how, torch.Generator().manual_seed(3))
        assert sorted(torch.cat(mbs).tolist()) == list(range(8)) and all(len(m) == 2 for m in mbs)
        again = minibatch_rows(lengths, 4, how, torch.Generator().manual_seed(3))
        assert all(torch.equal(a, b) for a, b in zip(mbs, again))
    slices = {tuple(sorted(lengths[m].tolist())) for m in minibatch_rows(lengths, 4, "length", torch.Generator())}
    assert slices == {(90, 300), (40, 61), (12, 33), (5, 7)}


def test_batch_token_mean_does_not_depend_on_the_minibatch_split():
    """With denom = batch tokens / M, the M minibatch losses sum to M x the token-mean over the whole batch,
    however the rows are split (here at ratio 1, i.e. the first update's starting point)."""
    from bao.rl.losses import masked_mean, ppo_clip_loss
    from bao.rl.train import minibatch_rows

    g = torch.Generator().manual_seed(0)
    B, L, M = 8, 10, 4
    logp = -torch.rand(B, L, generator=g)
    adv = torch.randn(B, L, generator=g)
    mask = (torch.rand(B, L, generator=g) < torch.linspace(0.1, 0.9, B)[:, None]).float()
    whole = masked_mean(-adv, mask)
    for how in ("length", "random"):
        mbs = minibatch_rows(mask.sum(1), M, how, torch.Generator().manual_seed(1))
        denom = float(mask.sum()) / M
        total = sum(ppo_clip_loss(logp[i], logp[i], adv[i], mask[i], denom=denom)[0] for i in mbs)
        assert torch.allclose(total, M * whole, atol=1e-6)


def _one_recorded_group(tiny_tok, teacher_episodes):
    """Four copies of one successful teacher episode (an all-success group) and their padded batch."""
    ep = [e for e in teacher_episodes if len(e.assistant) >= 3][0]
    pairs = [_episode_from_teacher(tiny_tok, ep) for _ in range(4)]
    ids, attn, lmask, _, _ = pad_batch([p[1] for p in pairs], tiny_tok.pad_token_id)
    return pairs, ids, attn, lmask


def _all_success_updates(model, small_cfg, tiny_tok, pairs, n, ref=None, **rl):
    """``n`` rl_step updates of a copy of ``model`` on one all-success group (every advantage 0), so only the
    extra loss terms in ``rl`` move it; returns the copy and the last step's statistics."""
    cfg = _one_group_cfg(small_cfg, **rl)
    local = _copy(model)
    opt = torch.optim.AdamW(local.parameters(), lr=1e-3, weight_decay=0.0)
    for _ in range(n):
        st = rl_step(local, opt, tiny_tok, [p[0] for p in pairs], [p[1] for p in pairs], cfg.method("bao"),
                     cfg, torch.Generator().manual_seed(0), frozenset({"answer"}), ref_model=ref)
    return local, st


def test_kl_loss_pulls_the_policy_toward_the_reference(small_cfg, tiny_tok, teacher_episodes):
    """rl.kl_coef > 0 with an all-success group (every advantage 0): the policy term is silent, so the only
    gradient is the KL to the reference, and the updates lower it. With kl_coef = 0 nothing moves."""
    model, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=0)
    ref, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=1)
    pairs, ids, attn, lmask = _one_recorded_group(tiny_tok, teacher_episodes)

    def kl_to_ref(m):
        with torch.no_grad():
            new, old = token_logprobs(m, ids, attn)[0], token_logprobs(ref, ids, attn)[0]
        return float(masked_mean(kl_k3(new, old), lmask[:, 1:]))

    def steps(kl_coef, n):
        return _all_success_updates(model, small_cfg, tiny_tok, pairs, n, ref=ref, kl_coef=kl_coef)

    start = kl_to_ref(model)
    assert start > 0
    off, st = steps(0.0, 1)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in off.state_dict().items()) and "train/kl_ref" not in st
    on, st = steps(1.0, 3)
    assert st["train/zero_adv_episodes"] == 4 and st["train/kl_ref"] > 0
    assert kl_to_ref(on) < start


def test_entropy_coeff_moves_the_entropy_its_sign_says(small_cfg, tiny_tok, teacher_episodes):
    """rl.entropy_coeff with an all-success group (every advantage 0): the policy term is silent, so the only
    gradient is the entropy term; c < 0 lowers the token-mean entropy on the batch, c > 0 raises it (verl's
    sign)."""
    model, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=0)
    pairs, ids, attn, lmask = _one_recorded_group(tiny_tok, teacher_episodes)

    def entropy(m):
        with torch.no_grad():
            return float(masked_mean(token_logprobs(m, ids, attn, with_entropy=True)[1], lmask[:, 1:]))

    def steps(coeff, n):
        return _all_success_updates(model, small_cfg, tiny_tok, pairs, n, entropy_coeff=coeff)

    start = entropy(model)
    assert start > 0
    lower, st = steps(-1.0, 3)
    assert st["train/zero_adv_episodes"] == 4
    assert entropy(lower) < start
    higher, _ = steps(1.0, 3)
    assert entropy(higher) > start


@pytest.mark.parametrize("method", ["bao", "userrl_grpo"])
def test_repeated_rl_steps_make_successes_likelier_and_failures_less_likely(small_cfg, tiny_tok, teacher_episodes,
                                                                           method):
    """The sign of the whole update path (shaping, credits, z-scores, token advantages, PPO, optimizer): one
    group of two successes and two failures (another task's episode with its rewards zeroed), five steps on
    that fixed batch. The successes' assistant tokens gain log-probability and the failures' lose it."""
    model, _, _ = _sft(small_cfg, tiny_tok, _rows(teacher_episodes), seed=0)
    long_eps = [e for e in teacher_episodes if len(e.assistant) >= 3]
    win, lose = long_eps[0], next(e for e in long_eps if e.task_id != long_eps[0].task_id)
    pairs = [_episode_from_teacher(tiny_tok, win) for _ in range(2)]
    for _ in range(2):
        ep, tr = _episode_from_teacher(tiny_tok, lose)
        turns = [dataclasses.replace(t, reward=0.0) for t in ep.turns]
        pairs.append((dataclasses.replace(ep, task_id=win.task_id, turns=turns, end_reason="horizon"), tr))
    assert [p[0].total_reward for p in pairs] == [1.0, 1.0, 0.0, 0.0]
    ids, attn, lmask, _, _ = pad_batch([p[1] for p in pairs], tiny_tok.pad_token_id)
    m = lmask[:, 1:]

    def mean_logp(rows):
        with torch.no_grad():
            lp = token_logprobs(model, ids, attn)[0]
        return float((lp[rows] * m[rows]).sum() / m[rows].sum())

    before = mean_logp([0, 1]), mean_logp([2, 3])
    cfg = _one_group_cfg(small_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    for step in range(5):
        st = rl_step(model, opt, tiny_tok, [p[0] for p in pairs], [p[1] for p in pairs], cfg.method(method), cfg,
                     torch.Generator().manual_seed(step), frozenset({"answer"}))
        assert st["train/zero_adv_episodes"] == 0
    after = mean_logp([0, 1]), mean_logp([2, 3])
    assert after[0] > before[0] and after[1] < before[1], (before, after)


def test_sgd_moves_each_parameter_by_lr_times_its_gradient_and_adamw_by_about_lr():
    """``rl.optimizer``: one SGD step is θ − lr·g exactly; AdamW's first step is ≈ lr·sign(g) whatever |g|."""
    for name in ("sgd", "adamw"):
        w = torch.nn.Parameter(torch.tensor([1.0, 1.0]))
        opt = make_optimizer([w], dataclasses.replace(RLConfig(), optimizer=name, lr=0.1))
        (w * torch.tensor([2.0, 1e-3])).sum().backward()  # gradient (2, 0.001)
        opt.step()
        step = (1.0 - w.detach())
        expected = torch.tensor([0.2, 1e-4]) if name == "sgd" else torch.tensor([0.1, 0.1])
        assert torch.allclose(step, expected, rtol=1e-3), (name, step)


def test_the_last_quarter_replays_the_first_quarters_task_draws():
    """rl.replay_first_quarter: steps 12-15 of 16 draw exactly the tasks of steps 0-3 (so the RL curve has fixed
    tasks to compare), the middle steps draw fresh ones, and with the key off every step is a fresh draw; the TRL
    backend's task order is the same sequence."""
    from bao.config import config_from_dict
    from bao.rl.train import step_draw
    from bao.rl.trl_backend import step_tasks

    tasks = list(range(500))
    on = config_from_dict({"rl": {"steps": 16, "replay_first_quarter": True}})
    off = config_from_dict({"rl": {"steps": 16, "replay_first_quarter": False}})
    draw = {name: [step_draw(tasks, 3, i, c.rl) for i in range(16)] for name, c in (("on", on), ("off", off))}
    assert draw["on"][12:] == draw["on"][:4] and draw["on"][:12] == draw["off"][:12]
    assert all(draw["off"][12 + j] != draw["off"][j] for j in range(4))
    assert len({tuple(d) for d in draw["on"]}) == 12 and all(len(d) == on.rl.tasks_per_step for d in draw["on"])
    assert step_tasks(tasks, on, 3) == [t for d in draw["on"] for t in d]
