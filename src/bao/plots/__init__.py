"""Figures: one function per paper figure, data frame in, matplotlib figure out."""

from __future__ import annotations

from pathlib import Path

from bao.io import atomic_write_text


def save_figure(fig, df, out: str | Path, dpi: int = 150) -> None:
    """Write ``<out>.png`` and the CSV behind it (``<out>.csv``), each atomically."""
    out = Path(out)
    atomic_write_text(out.with_suffix(".csv"), df.to_csv(index=False))
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, dpi=dpi)
    tmp.replace(out.with_suffix(".png"))
