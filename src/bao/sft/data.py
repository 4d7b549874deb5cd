"""Teacher episodes -> token ids + loss masks, built from the same chat pieces the rollout appends.

Only assistant tokens are trained on (the closing ``<|im_end|>`` included); system, user and tool-observation
tokens have loss mask 0, and so has an assistant message the teacher marks as not trained on (``trained``: a
deliberate mistake that only gives the context for the recovery after it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bao.policy.chat import IM_END, render_observation, render_prompt


@dataclass
class Example:
    ids: list[int]
    mask: list[int]


def encode_episode(tok, messages, assistant: list[str], feedback: list[str],
                   trained: list[bool] | None = None) -> Example:
    def enc(s):
        return tok(s, add_special_tokens=False)["input_ids"]

    if trained is not None and len(trained) != len(assistant):
        raise ValueError(f"trained has {len(trained)} flags for {len(assistant)} assistant messages")
    ids = enc(render_prompt(messages))
    mask = [0] * len(ids)
    for i, a in enumerate(assistant):
        a_ids = enc(a + IM_END)
        ids += a_ids
        mask += [int(trained is None or trained[i])] * len(a_ids)
        if i + 1 < len(assistant):  # the last feedback is never shown to the policy
            o_ids = enc(render_observation(feedback[i]))
            ids += o_ids
            mask += [0] * len(o_ids)
    return Example(ids, mask)


def collate(examples: list[Example], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded (B, L) input ids, attention mask and label mask."""
    L = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), L), pad_id, dtype=torch.long)
    attn = torch.zeros((len(examples), L), dtype=torch.long)
    lmask = torch.zeros((len(examples), L), dtype=torch.float32)
    for i, e in enumerate(examples):
        n = len(e.ids)
        ids[i, :n] = torch.tensor(e.ids)
        attn[i, :n] = 1
        lmask[i, :n] = torch.tensor(e.mask, dtype=torch.float32)
    return ids, attn, lmask
