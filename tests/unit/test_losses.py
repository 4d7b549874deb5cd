"""PPO clipped loss, masked mean and entropy (bao.rl.losses).

Run: .venv/bin/python -m pytest tests/unit/test_losses.py -q
"""

from __future__ import annotations

import math

import pytest
import torch

from bao.rl.losses import entropy_from_logits, masked_mean, ppo_clip_loss


def test_ratio_one_is_minus_token_mean_advantage():
    logp = torch.randn(2, 5)
    adv = torch.randn(2, 5)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1.0]])
    loss, stats = ppo_clip_loss(logp.clone(), logp, adv, mask)
    assert loss.item() == pytest.approx(-(adv * mask).sum().item() / 8, rel=1e-6)
    assert stats["clip_frac"] == 0.0 and stats["ratio_mean"] == pytest.approx(1.0)
    assert stats["approx_kl"] == pytest.approx(0.0, abs=1e-7)


def test_clipping_hand_checked():
    ratios = torch.tensor([[1.5, 1.5, 0.5, 0.5, 1.1, 1.0]])
    adv = torch.tensor([[1.0, -1.0, 1.0, -1.0, 2.0, 1.0]])
    mask = torch.ones(1, 6)
    old = torch.zeros(1, 6)
    loss, stats = ppo_clip_loss(ratios.log(), old, adv, mask)
    # per token -min(rA, clip(r)A): A>0,r=1.5 -> -1.2 (clipped); A<0,r=1.5 -> 1.5 (unclipped);
    # A>0,r=0.5 -> -0.5 (unclipped); A<0,r=0.5 -> 0.8 (clipped); inside the band -> -rA
    per = [-1.2, 1.5, -0.5, 0.8, -2.2, -1.0]
    assert loss.item() == pytest.approx(sum(per) / 6, rel=1e-6)
    assert stats["clip_frac"] == pytest.approx(2 / 6)
    assert stats["ratio_mean"] == pytest.approx(6.1 / 6)
    k3 = sum((r - 1) - math.log(r) for r in ratios[0].tolist()) / 6
    assert stats["approx_kl"] == pytest.approx(k3, rel=1e-5)


def test_dual_clip_caps_negative_advantage_loss():
    logp = torch.tensor([[math.log(5.0)]])
    loss, _ = ppo_clip_loss(logp, torch.zeros(1, 1), torch.tensor([[-1.0]]), torch.ones(1, 1))
    assert loss.item() == pytest.approx(5.0)
    loss, _ = ppo_clip_loss(logp, torch.zeros(1, 1), torch.tensor([[-1.0]]), torch.ones(1, 1), dual_clip=3.0)
    assert loss.item() == pytest.approx(3.0)


def test_masked_tokens_do_not_contribute():
    logp_old = torch.zeros(1, 4)
    adv = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    a = torch.tensor([[0.1, -0.1, 0.0, 0.0]])
    b = torch.tensor([[0.1, -0.1, 9.0, -9.0]])
    la, sa = ppo_clip_loss(a, logp_old, adv, mask)
    lb, sb = ppo_clip_loss(b, logp_old, adv, mask)
    assert la.item() == pytest.approx(lb.item()) and sa == pytest.approx(sb)


def test_gradient_flows_only_through_masked_tokens():
    logp_new = torch.zeros(2, 3, requires_grad=True)
    adv = torch.tensor([[1.0, -1.0, 2.0], [0.5, 0.5, 0.5]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    loss, _ = ppo_clip_loss(logp_new, torch.zeros(2, 3), adv, mask)
    loss.backward()
    # d/dlogp of -rA at r=1 is -A, token-mean over 3 tokens
    assert logp_new.grad.flatten().tolist() == pytest.approx([-1 / 3, 1 / 3, 0.0, -0.5 / 3, 0.0, 0.0])


def test_masked_mean_and_entropy():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    m = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert masked_mean(x, m).item() == pytest.approx(8 / 3)
    assert masked_mean(x, m, dim=1).tolist() == pytest.approx([1.0, 3.5])
    assert masked_mean(x, torch.zeros(2, 2)).item() == 0.0
    logits = torch.randn(2, 3, 7)
    ent = entropy_from_logits(logits)
    assert ent.shape == (2, 3)
    ref = torch.distributions.Categorical(logits=logits).entropy()
    assert torch.allclose(ent, ref, atol=1e-5)
    assert entropy_from_logits(torch.zeros(1, 1, 4)).item() == pytest.approx(math.log(4))


def test_kl_k3_hand_checked():
    """k3 = e^δ − δ − 1, δ = log π_ref − log π: 0 where the policies agree, e.g. π = 1/2, π_ref = 1/4 gives
    1/2 + ln 2 − 1 = 0.19315, and π = 1/4, π_ref = 1/2 gives 2 − ln 2 − 1 = 0.30685."""
    from bao.rl.losses import kl_k3

    logp = torch.log(torch.tensor([0.5, 0.5, 0.25]))
    ref = torch.log(torch.tensor([0.5, 0.25, 0.5]))
    assert kl_k3(logp, ref).tolist() == pytest.approx([0.0, 0.5 + math.log(2) - 1, 1 - math.log(2)], abs=1e-6)
    # δ = −100 is clamped to −20 (k3 = 19 + e^−20), then to the [−10, 10] bound
    assert float(kl_k3(torch.tensor([0.0]), torch.tensor([-100.0]))) == 10.0


def test_clip_higher_hand_checked():
    """DAPO's clip-higher: with ε_high = 0.5 a positive-advantage token at ratio 1.4 is inside the band
    (−1.4), at 1.6 clipped to −1.5; the lower bound stays 1 − 0.2."""
    ratios = torch.tensor([[1.4, 1.6, 0.5]])
    adv = torch.tensor([[1.0, 1.0, -1.0]])
    loss, stats = ppo_clip_loss(ratios.log(), torch.zeros(1, 3), adv, torch.ones(1, 3), clip_eps_high=0.5)
    assert loss.item() == pytest.approx((-1.4 - 1.5 + 0.8) / 3, rel=1e-6)
    assert stats["clip_frac"] == pytest.approx(2 / 3)
    sym, _ = ppo_clip_loss(ratios.log(), torch.zeros(1, 3), adv, torch.ones(1, 3))
    assert sym.item() == pytest.approx((-1.2 - 1.2 + 0.8) / 3, rel=1e-6)
