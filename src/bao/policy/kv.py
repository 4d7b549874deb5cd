"""A KV cache that grows in place, for the batched rollout.

``DynamicCache`` appends with ``torch.cat``, so every decode step copies the whole cache of every layer: with
32 episodes and ~1k cached tokens that copy took 8.7 s of a 32 s rollout (cProfile, 1 thread, the default
tiny model). ``GrowingCache`` keeps one buffer per layer whose capacity doubles when full, writes new keys and
values in place and hands attention a view, so an append costs O(new tokens); the same rollout took 21.6 s.

What is left per decode step is attention reading the cache (memory-bound: about 13 GB/s on this machine's
one core) and the linear layers; see ``benchmarks/rollout_throughput.py`` and docs/benchmarks.md for the figures.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import Cache, DynamicLayer


class GrowingLayer(DynamicLayer):
    """A ``DynamicLayer`` whose append writes into a pre-allocated buffer (capacity doubles when full)."""

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states, value_states)
        self._k: torch.Tensor | None = None
        self._v: torch.Tensor | None = None
        self._n = 0

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        need = self._n + key_states.shape[-2]
        if self._k is None or need > self._k.shape[-2]:
            cap = max(need, 64, 2 * (0 if self._k is None else self._k.shape[-2]))
            b, h, _, _ = key_states.shape
            k = key_states.new_empty(b, h, cap, key_states.shape[-1])
            v = value_states.new_empty(b, h, cap, value_states.shape[-1])
            if self._n:
                k[:, :, : self._n] = self._k[:, :, : self._n]
                v[:, :, : self._n] = self._v[:, :, : self._n]
            self._k, self._v = k, v
        self._k[:, :, self._n:need] = key_states
        self._v[:, :, self._n:need] = value_states
        self._n = need
        self.keys, self.values = self._k[:, :, :need], self._v[:, :, :need]
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.is_initialized and self._n:
            indices = indices.to(self._k.device)  # the buffers live on the model's device (lazy_initialization)
            self._k, self._v = self._k[indices], self._v[indices]
            self.keys, self.values = self._k[:, :, : self._n], self._v[:, :, : self._n]


class GrowingCache(DynamicCache):
    """``DynamicCache`` built from ``GrowingLayer``s: the same interface, O(new tokens) appends."""

    def __init__(self) -> None:
        Cache.__init__(self, layer_class_to_replicate=GrowingLayer)
