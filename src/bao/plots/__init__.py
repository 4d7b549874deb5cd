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


LABELS = {"sft": "SFT (behavior-enhanced)", "userrl_grpo": "UserRL-GRPO", "bao": "BAO",
          "guess_spam": "guess-spam (scripted, no questions)"}
PALETTE = {"sft": "#7f7f7f", "userrl_grpo": "#1f77b4", "bao": "#d62728", "guess_spam": "#bcbd22"}
LINESTYLES = {"guess_spam": "--"}
"""reference policies (scripted, chat-model agents) are dashed; other names get matplotlib's next colour."""


def plot_method_bands(ax, df, x: str, y: str, **line_kw) -> None:
    """One line per method (mean of ``y`` over seeds at each ``x``) with a ±1 std band, in the method's colour."""
    for m, g in df.groupby("method", sort=False):
        st = g.groupby(x)[y].agg(["mean", "std"]).fillna(0.0)
        ax.plot(st.index, st["mean"], label=LABELS.get(m, m), color=PALETTE.get(m),
                linestyle=LINESTYLES.get(m, "-"), **line_kw)
        ax.fill_between(st.index, st["mean"] - st["std"], st["mean"] + st["std"], alpha=0.2, color=PALETTE.get(m))


def eval_figure_parser(description: str, bootstrap: bool = False):
    """The arguments every evaluation figure takes (eval root, runs, split, gym, output; optionally bootstrap)."""
    import argparse

    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval-root", required=True, help="results/eval/<gym>")
    p.add_argument("--runs", nargs="+", required=True, help="<method>:<seed> runs to draw, e.g. sft:0 bao:0 bao:1")
    p.add_argument("--split", default="test")
    p.add_argument("--gym", default="function", help="gym name for the title")
    p.add_argument("--out", required=True, help="output path without extension (.png and .csv are written)")
    if bootstrap:
        p.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates behind the 95%% intervals")
        p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    return p
