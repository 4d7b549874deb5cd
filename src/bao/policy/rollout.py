"""Batched multi-turn rollout with the KV cache kept across turns.

A batch of episodes advances turn by turn. In each turn every live episode generates tokens until it writes
``<|im_end|>`` (or runs out of its per-turn / per-episode token budget or of context); then each assistant
message is parsed, the env answers, and the answers' tokens are appended to the *same* cache. Nothing is ever
re-encoded, so the cost of a turn does not grow with the history (``benchmarks/rollout_throughput.py`` measures
the gain over re-encoding the whole history each turn).

Episodes in one batch have different lengths. Rows are therefore padded *in the middle*: when one row feeds 3
observation tokens and another 9, the first gets 6 padding slots whose attention-mask entry is 0, and each row
keeps its own position counter, so padding changes neither attention nor positions. Finished episodes are
dropped from the cache (``batch_select_indices``).

The token ids recorded for training are exactly the ids that were sampled or fed (never a re-rendering through
the chat template). ``loss_mask`` is 1 on generated tokens (the closing ``<|im_end|>`` included) and 0 on prompt
and observation tokens; ``turn_of_token`` gives each generated token its assistant-turn index (-1 elsewhere).

Device: the model's inputs and cache live on the model's device (``next(model.parameters()).device``); the
per-row bookkeeping (segment lengths, positions) stays on the CPU, so it costs no device synchronisation. Sampling
uses the given generator on its own device: pass one on the model's device
(``bao.seeding.torch_generator(..., device=...)``); a CPU generator with a CUDA model samples on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from bao.agent.toolcall import parse_assistant
from bao.envs import format_action
from bao.policy.chat import IM_END, render_observation, render_prompt
from bao.policy.kv import GrowingCache
from bao.policy.model import model_device
from bao.types import Episode, Turn


@dataclass(frozen=True)
class GenSettings:
    temperature: float = 1.0
    """0 = greedy."""
    max_new_tokens: int = 160
    max_episode_tokens: int = 1600
    context_length: int = 2048
    batch_size: int = 64
    show_reward: bool = False
    on_long_prompt: str = "skip"


@dataclass
class Trace:
    """Token-level record of one episode (what the trainer consumes)."""

    ids: list[int] = field(default_factory=list)
    loss_mask: list[int] = field(default_factory=list)
    turn_of_token: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)


@dataclass
class _Row:
    env: object
    task_id: str
    sample: int
    trace: Trace
    turns: list[Turn] = field(default_factory=list)
    generated: int = 0
    end_reason: str | None = None


class PromptTooLong(ValueError):
    pass


def _encode(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


class _BatchLM:
    """A batch of sequences sharing one GrowingCache, each with its own position counter."""

    def __init__(self, model, pad_id: int):
        self.model, self.pad_id, self.device = model, pad_id, model_device(model)
        self.cache = GrowingCache()
        self.mask: torch.Tensor | None = None  # (n, cache_len), on the model's device
        self.pos: torch.Tensor | None = None  # (n,) next position per row, on the CPU

    @torch.no_grad()
    def feed(self, segments: Sequence[Sequence[int]]) -> torch.Tensor:
        """Append one segment per row; returns (n, V) logits after each row's last real token
        (rows fed an empty segment get a row of zeros: their logits are not used)."""
        n = len(segments)
        lens = torch.tensor([len(s) for s in segments])
        L = max(1, int(lens.max()))
        if L == 1:  # decode step: one token (or none) per row, built without a per-row loop
            ids = torch.tensor([[s[0] if s else self.pad_id] for s in segments], dtype=torch.long)
            new_mask = (lens > 0).long()[:, None]
        else:
            ids = torch.full((n, L), self.pad_id, dtype=torch.long)
            new_mask = torch.zeros((n, L), dtype=torch.long)
            for r, s in enumerate(segments):
                if s:
                    ids[r, : len(s)] = torch.tensor(s)
                    new_mask[r, : len(s)] = 1
        if self.pos is None:
            self.pos = torch.zeros(n, dtype=torch.long)
        pos = self.pos[:, None] + torch.arange(L)[None, :]
        dev = self.device
        ids, new_mask, pos = ids.to(dev), new_mask.to(dev), pos.to(dev)
        self.mask = new_mask if self.mask is None else torch.cat([self.mask, new_mask], dim=1)
        out = self.model(input_ids=ids, attention_mask=self.mask, position_ids=pos, cache=self.cache, use_cache=True)
        self.cache = out.cache if out.cache is not None else self.cache
        self.pos = self.pos + lens
        last = (lens - 1).clamp(min=0)
        logits = out.logits[torch.arange(n, device=dev), last.to(dev)].float()
        logits[(lens == 0).to(dev)] = 0.0
        return logits

    def keep(self, idx: list[int]) -> None:
        t = torch.tensor(idx, dtype=torch.long)
        self.cache.batch_select_indices(t.to(self.device))
        self.mask, self.pos = self.mask[t.to(self.device)], self.pos[t]


def _sample(logits: torch.Tensor, temperature: float, gen: torch.Generator | None):
    logp = torch.log_softmax(logits, dim=-1)
    if temperature <= 0:
        tokens = logits.argmax(dim=-1)
    else:
        probs = torch.softmax(logits / temperature, dim=-1)
        if gen is not None and gen.device != probs.device:  # sample where the generator is (see the module doc)
            probs = probs.to(gen.device)
        tokens = torch.multinomial(probs, 1, generator=gen).squeeze(1).to(logits.device)
    return tokens, logp.gather(1, tokens[:, None]).squeeze(1)


def rollout(model, tok, make_env: Callable[[], object], tasks: Sequence, settings: GenSettings,
            generator: torch.Generator | None = None, samples: Sequence[int] | None = None,
            progress: bool = False, desc: str = "rollout") -> list[tuple[Episode, Trace]]:
    """Run one episode per entry of ``tasks`` (repeat a task for a GRPO group); returns them in order."""
    samples = list(samples) if samples is not None else [0] * len(tasks)
    out: list[tuple[Episode, Trace]] = []
    chunks = range(0, len(tasks), settings.batch_size)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc=desc, unit="ep", dynamic_ncols=True)
    was_training = model.training
    model.eval()
    try:
        for c in chunks:
            out.extend(_rollout_chunk(model, tok, make_env, tasks[c:c + settings.batch_size],
                                      samples[c:c + settings.batch_size], settings, generator))
            if bar is not None:
                bar.update(len(tasks[c:c + settings.batch_size]))
    finally:
        model.train(was_training)
        if bar is not None:
            bar.close()
    return out


def _rollout_chunk(model, tok, make_env, tasks, samples, s: GenSettings, gen) -> list[tuple[Episode, Trace]]:
    im_end = tok.convert_tokens_to_ids(IM_END)
    rows: list[_Row] = []
    for task, k in zip(tasks, samples):
        env = make_env()
        env.reset(options={"task": task})
        rows.append(_Row(env=env, task_id=task.task_id, sample=k, trace=Trace()))

    # Prompts: encode, drop those that cannot fit (documented policy), prefill the rest together.
    live: list[int] = []
    segments: list[list[int]] = []
    for i, (row, task) in enumerate(zip(rows, tasks)):
        ids = _encode(tok, render_prompt(task.messages))
        if len(ids) + min(s.max_new_tokens, 16) > s.context_length:
            if s.on_long_prompt == "error":
                raise PromptTooLong(f"task {task.task_id}: prompt of {len(ids)} tokens does not fit "
                                    f"model.context_length={s.context_length}")
            row.end_reason = "prompt_too_long"
            continue
        row.trace.ids += ids
        row.trace.loss_mask += [0] * len(ids)
        row.trace.turn_of_token += [-1] * len(ids)
        row.trace.logprobs += [0.0] * len(ids)
        live.append(i)
        segments.append(ids)

    lm = _BatchLM(model, tok.pad_token_id)
    if live:
        logits = lm.feed(segments)
    turn = 0
    while live:
        n = len(live)
        turn_tokens: list[list[int]] = [[] for _ in range(n)]
        closed = [False] * n  # wrote <|im_end|>
        room = []
        for j, i in enumerate(live):
            r = rows[i]
            room.append(min(s.max_new_tokens, s.max_episode_tokens - r.generated,
                            s.context_length - int(lm.pos[j]) - 1))
        active = [room[j] > 0 for j in range(n)]
        while any(active):
            tokens, logps = _sample(logits, s.temperature, gen)
            tokens, logps = tokens.tolist(), logps.tolist()  # one device-to-host copy per decode step
            feed: list[list[int]] = []
            for j in range(n):
                if not active[j]:
                    feed.append([])
                    continue
                t = tokens[j]
                turn_tokens[j].append(t)
                rows[live[j]].trace.logprobs.append(logps[j])
                if t == im_end:
                    closed[j], active[j] = True, False
                    feed.append([])  # <|im_end|> is fed together with the observation
                elif len(turn_tokens[j]) >= room[j]:
                    active[j] = False
                    feed.append([])
                else:
                    feed.append([t])
            if any(active):
                logits = lm.feed(feed)

        # Execute the turn in every live episode.
        keep: list[int] = []
        next_segments: list[list[int]] = []
        for j, i in enumerate(live):
            r = rows[i]
            toks = turn_tokens[j]
            r.trace.ids += toks
            r.trace.loss_mask += [1] * len(toks)
            r.trace.turn_of_token += [turn] * len(toks)
            r.generated += len(toks)
            text = tok.decode(toks[:-1] if closed[j] else toks, skip_special_tokens=False)
            if not closed[j]:
                r.turns.append(Turn(None, None, False, 0.0, "", False, text, len(toks)))
                r.end_reason = "token_budget"
                continue
            parsed = parse_assistant(text)
            if not parsed.has_tool_call:
                r.turns.append(Turn(None, None, False, 0.0, "", False, text, len(toks)))
                r.end_reason = "no_tool_call"
                continue
            if parsed.valid:
                obs, reward, term, trunc, info = r.env.step(format_action(parsed.choice, parsed.content))
            else:
                obs, reward, term, trunc, info = r.env.invalid_step(parsed.error)
            r.turns.append(Turn(parsed.choice if parsed.valid else None, parsed.content if parsed.valid else None,
                                parsed.valid, float(reward), obs, bool(info.get("user_involved", False)), text,
                                len(toks)))
            if term:
                r.end_reason = "success" if info.get("success") else "finish"
                continue
            if trunc:
                r.end_reason = "horizon"
                continue
            feedback = obs + (f"\nReward: {reward}" if s.show_reward else "")
            seg = [im_end] + _encode(tok, render_observation(feedback))
            if (r.generated >= s.max_episode_tokens
                    or int(lm.pos[j]) + len(seg) + 1 >= s.context_length):
                r.end_reason = "token_budget"
                continue
            keep.append(j)
            next_segments.append(seg)
        # observation tokens are appended to the trace only for episodes that go on
        for j, seg in zip(keep, next_segments):
            t = rows[live[j]].trace
            t.ids += seg[1:]
            t.loss_mask += [0] * (len(seg) - 1)
            t.turn_of_token += [-1] * (len(seg) - 1)
            t.logprobs += [0.0] * (len(seg) - 1)
        live = [live[j] for j in keep]
        if live:
            lm.keep(keep)
            logits = lm.feed(next_segments)
        turn += 1

    episodes = []
    for row in rows:
        ep = Episode(task_id=row.task_id, turns=row.turns, end_reason=row.end_reason or "horizon", sample=row.sample)
        episodes.append((ep, row.trace))
    return episodes
