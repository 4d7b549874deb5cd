"""Batched multi-turn rollout: KV-cache bookkeeping, masks, determinism."""

import torch

from bao.envs import make
from bao.policy.rollout import GenSettings, _BatchLM, rollout
from bao.teacher.function_teacher import procedural_tasks


def test_padded_incremental_feeding_matches_full_forward(tiny_model, tiny_tok):
    """Rows fed in pieces of different lengths (padding in the middle) give the logits of a plain forward."""
    torch.manual_seed(0)
    seqs = [torch.randint(5, len(tiny_tok), (n,)).tolist() for n in (7, 12, 3)]
    pieces = [[s[:3], s[3:4], s[4:]] for s in seqs]  # uneven middle segments
    lm = _BatchLM(tiny_model.eval(), tiny_tok.pad_token_id)
    for k in range(3):
        logits = lm.feed([p[k] for p in pieces])
    for r, s in enumerate(seqs):
        ref = tiny_model(input_ids=torch.tensor([s])).logits[0, -1]
        if pieces[r][2]:
            assert torch.allclose(logits[r], ref, atol=1e-4), r


def test_cache_row_dropping_keeps_other_rows_intact(tiny_model, tiny_tok):
    seqs = [[10, 11, 12, 13], [20, 21], [30, 31, 32]]
    lm = _BatchLM(tiny_model.eval(), tiny_tok.pad_token_id)
    lm.feed(seqs)
    lm.keep([0, 2])
    logits = lm.feed([[14], [33]])
    for row, s in zip(range(2), (seqs[0] + [14], seqs[2] + [33])):
        ref = tiny_model(input_ids=torch.tensor([s])).logits[0, -1]
        assert torch.allclose(logits[row], ref, atol=1e-4)


def _run(small_cfg, model, tok, seed, batch_size=8, temperature=1.0):
    tasks = procedural_tasks(small_cfg, "train", n=4)
    s = GenSettings(temperature=temperature, max_new_tokens=24, max_episode_tokens=60, batch_size=batch_size)
    g = torch.Generator().manual_seed(seed)
    return rollout(model, tok, lambda: make("function-proc-v0"), tasks * 2, s, g)


def test_trace_masks_and_turn_index_are_consistent(small_cfg, tiny_model, tiny_tok):
    for ep, tr in _run(small_cfg, tiny_model, tiny_tok, 0):
        assert len(tr.ids) == len(tr.loss_mask) == len(tr.turn_of_token) == len(tr.logprobs)
        gen = [i for i, m in zip(tr.ids, tr.loss_mask) if m]
        assert len(gen) == sum(t.n_tokens for t in ep.turns)
        assert all((t >= 0) == bool(m) for t, m in zip(tr.turn_of_token, tr.loss_mask))
        assert max(tr.turn_of_token) == len(ep.turns) - 1
        assert ep.end_reason in ("success", "horizon", "token_budget", "no_tool_call", "finish")


def test_same_seed_same_episodes_other_seed_differs(small_cfg, tiny_model, tiny_tok):
    a = _run(small_cfg, tiny_model, tiny_tok, 1)
    b = _run(small_cfg, tiny_model, tiny_tok, 1)
    c = _run(small_cfg, tiny_model, tiny_tok, 2)
    assert [t.ids for _, t in a] == [t.ids for _, t in b]
    assert [e.to_dict() for e, _ in a] == [e.to_dict() for e, _ in b]
    assert [t.ids for _, t in a] != [t.ids for _, t in c]


def test_greedy_batched_equals_one_at_a_time(small_cfg, tiny_model, tiny_tok):
    batched = _run(small_cfg, tiny_model, tiny_tok, 0, batch_size=8, temperature=0.0)
    single = _run(small_cfg, tiny_model, tiny_tok, 0, batch_size=1, temperature=0.0)
    assert [t.ids for _, t in batched] == [t.ids for _, t in single]


def test_prompt_too_long_is_recorded_not_raised(small_cfg, tiny_model, tiny_tok):
    tasks = procedural_tasks(small_cfg, "train", n=2)
    s = GenSettings(temperature=0.0, max_new_tokens=8, context_length=40)
    out = rollout(tiny_model, tiny_tok, lambda: make("function-proc-v0"), tasks, s)
    assert [e.end_reason for e, _ in out] == ["prompt_too_long"] * 2
    assert all(not e.turns for e, _ in out)
