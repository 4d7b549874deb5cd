"""Evaluation: greedy episodes, metrics, tables."""

from __future__ import annotations


def parse_runs(specs) -> list[tuple[str, int]]:
    """``["sft:0", "bao:0", "bao:1"]`` -> ``[("sft", 0), ("bao", 0), ("bao", 1)]`` (the pipeline says which
    method x seed runs exist: a shared SFT checkpoint or a deterministic scripted policy has one seed)."""
    out = []
    for spec in specs:
        method, sep, seed = str(spec).rpartition(":")
        if not sep or not method or not seed.isdigit():
            raise ValueError(f"run {spec!r}: expected <method>:<seed>, e.g. bao:0")
        out.append((method, int(seed)))
    return out
