"""The Pass@U-k Pareto frontier (``python -m bao.plots.pareto --help``).

BAO's frontier (notebook ``plot_pareto_frontier.ipynb``): success rate when the agent may use at most k
user-involved actions, k = 1..9, one curve per method, mean ± std over seeds as a band. Writes the PNG and the
CSV behind it (long format: method, seed, k, pass_rate).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bao.eval import parse_runs  # noqa: E402
from bao.io import read_json  # noqa: E402
from bao.plots import plot_method_bands, save_figure  # noqa: E402



def frontier_frame(eval_root: Path, runs, split: str, k_max: int = 9) -> pd.DataFrame:
    rows = []
    for m, s in runs:
        d = read_json(eval_root / m / f"seed{s}" / split / "metrics.json")
        if "skipped" not in d:
            rows += [{"method": m, "seed": s, "k": k, "pass_rate": d[f"pass_at_u/{k}"]} for k in range(1, k_max + 1)]
    return pd.DataFrame(rows)


def plot_frontier(df: pd.DataFrame, title: str):
    sns.set_theme(style="whitegrid", context="talk", font_scale=0.8)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    plot_method_bands(ax, df, "k", "pass_rate", marker="o")
    ax.set_xlabel("k = user-involved actions allowed (answers)")
    ax.set_ylabel("Pass@U-k (success rate)")
    ax.set_xticks(range(1, int(df.k.max()) + 1))
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=True)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval-root", required=True)
    p.add_argument("--runs", nargs="+", required=True, help="<method>:<seed> runs to draw, e.g. sft:0 bao:0 bao:1")
    p.add_argument("--split", default="test")
    p.add_argument("--gym", default="function", help="gym name for the title")
    p.add_argument("--out", required=True, help="output path without extension (.png and .csv are written)")
    a = p.parse_args(argv)
    df = frontier_frame(Path(a.eval_root), parse_runs(a.runs), a.split)
    n = df.groupby("method").seed.nunique().max()
    fig = plot_frontier(df, f"{a.gym.capitalize()}-Gym ({a.split} split), mean ± std over up to {n} seeds")
    save_figure(fig, df, a.out, dpi=150)
    print(f"pareto: {len(df)} points -> {a.out}.png/.csv")


if __name__ == "__main__":
    main()
