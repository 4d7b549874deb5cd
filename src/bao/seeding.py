"""One seed feeds everything: sub-seeds are derived by hashing, never from a global RNG.

``derive_seed(seed, "rollout", step, i)`` is stable across processes and Python versions (sha256, not
``hash()``, which is salted for strings).
"""

from __future__ import annotations

import hashlib
import random

import numpy as np


def derive_seed(seed: int, *keys: object) -> int:
    """A 31-bit seed derived from ``seed`` and any number of str/int keys."""
    h = hashlib.sha256(repr((int(seed),) + tuple(str(k) for k in keys)).encode())
    return int.from_bytes(h.digest()[:4], "little") & 0x7FFFFFFF


def rng(seed: int, *keys: object) -> random.Random:
    """A private ``random.Random`` for (seed, keys)."""
    return random.Random(derive_seed(seed, *keys))


def np_rng(seed: int, *keys: object) -> np.random.Generator:
    return np.random.default_rng(derive_seed(seed, *keys))


def torch_generator(seed: int, *keys: object, device="cpu"):
    """A seeded ``torch.Generator`` on ``device`` (a CUDA one for sampling next to a CUDA model; the seed is the
    same, the stream is the device's own)."""
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(derive_seed(seed, *keys))
    return g


FRESH_DRAWS = {"test_seen": (7919, "seen"), "val": (104729, "val")}
"""Splits drawn afresh from the training distribution: split -> (seed offset, task-id tag). ``test_seen`` is
evaluated, ``val`` is RL's validation; each has its own offset so neither repeats the other's tasks."""
