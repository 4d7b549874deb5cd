"""The rollout's incremental token ids equal the chat template's rendering of the same conversation."""

import pytest

from bao.policy import chat
from bao.sft.data import encode_episode


def test_incremental_ids_equal_template_rendering(tiny_tok, teacher_episodes):
    for ep in teacher_episodes:
        messages = list(ep.messages)
        for a, f in zip(ep.assistant[:-1], ep.feedback[:-1]):
            messages += [{"role": "assistant", "content": a}, {"role": "tool", "content": f}]
        messages.append({"role": "assistant", "content": ep.assistant[-1]})
        rendered = tiny_tok.apply_chat_template(messages, tokenize=False)
        assert rendered == chat.render_conversation(ep.messages, ep.assistant, ep.feedback[:-1]) + "\n"
        full_ids = tiny_tok(rendered, add_special_tokens=False)["input_ids"]
        incremental = encode_episode(tiny_tok, ep.messages, ep.assistant, ep.feedback).ids
        newline = tiny_tok("\n", add_special_tokens=False)["input_ids"]
        assert full_ids == incremental + newline


def test_generation_prompt_matches_template(tiny_tok, teacher_episodes):
    msgs = teacher_episodes[0].messages
    assert tiny_tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True) == chat.render_prompt(msgs)


def test_loss_mask_covers_exactly_the_assistant_messages(tiny_tok, teacher_episodes):
    ep = teacher_episodes[0]
    ex = encode_episode(tiny_tok, ep.messages, ep.assistant, ep.feedback)
    trained = tiny_tok.decode([i for i, m in zip(ex.ids, ex.mask) if m], skip_special_tokens=False)
    assert trained == "".join(a + chat.IM_END for a in ep.assistant)


def test_a_message_marked_untrained_gets_loss_mask_zero(tiny_tok, teacher_episodes):
    ep = teacher_episodes[0]
    assert len(ep.assistant) >= 2
    flags = [True] * len(ep.assistant)
    flags[1] = False
    ex = encode_episode(tiny_tok, ep.messages, ep.assistant, ep.feedback, flags)
    trained = tiny_tok.decode([i for i, m in zip(ex.ids, ex.mask) if m], skip_special_tokens=False)
    assert trained == "".join(a + chat.IM_END for k, a in enumerate(ep.assistant) if k != 1)
    assert ex.ids == encode_episode(tiny_tok, ep.messages, ep.assistant, ep.feedback).ids
    with pytest.raises(ValueError, match="flags for"):
        encode_episode(tiny_tok, ep.messages, ep.assistant, ep.feedback, flags[:1])


def test_digits_are_single_tokens(tiny_tok):
    toks = tiny_tok.convert_ids_to_tokens(tiny_tok("f(12 345)=678", add_special_tokens=False)["input_ids"])
    assert all(len(t.lstrip("Ġ")) <= 1 for t in toks if t.lstrip("Ġ").isdigit())
