"""RL training curves per method (``python -m bao.plots.curves --help``).

One panel per logged quantity (rollout reward, user-involvement rate, turns, invalid-call rate, penalty
firing, entropy, clip fraction, greedy validation score), x = policy updates done, mean ± std over seeds. Writes the PNG and the long-format CSV.
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
from bao.io import read_jsonl  # noqa: E402
from bao.plots import plot_method_bands, save_figure  # noqa: E402

PANELS = [
    ("rollout/score", "train reward (sampled rollouts)"),
    ("val/score", "greedy score on fixed val tasks"),
    ("rollout/user_rate", "user-involvement rate UR"),
    ("rollout/mean_user_actions", "answers per episode U(τ)"),
    ("rollout/mean_turns", "turns per episode"),
    ("rollout/invalid_call_rate", "invalid-call rate"),
    ("penalty/info_seeking_turns", "info-seeking penalty firings"),
    ("penalty/overthinking_episodes", "over-thinking penalty firings"),
    ("train/entropy", "policy entropy (nats/token)"),
    ("train/clip_frac", "PPO clip fraction"),
]


def curves_frame(rl_root: Path, runs) -> pd.DataFrame:
    rows = []
    for m, s in runs:
        for r in read_jsonl(rl_root / m / f"seed{s}" / "curve.jsonl"):
            # a row's rollout ran before its update; its validation ran after it
            rows += [{"method": m, "seed": s, "step": r["step"] + k.startswith("val/"), "metric": k,
                      "value": r[k]} for k, _ in PANELS if k in r]
            if "val/score_before" in r:  # greedy validation before the first update
                rows.append({"method": m, "seed": s, "step": 0, "metric": "val/score",
                             "value": r["val/score_before"]})
    return pd.DataFrame(rows)


def plot_curves(df: pd.DataFrame):
    sns.set_theme(style="whitegrid", context="notebook")
    ncols = 4
    nrows = -(-len(PANELS) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.4 * nrows))
    for ax in axes.flat[len(PANELS):]:
        ax.set_visible(False)
    for ax, (key, title) in zip(axes.flat, PANELS):
        sub = df[df.metric == key]
        plot_method_bands(ax, sub, "step", "value")
        ax.set_title(title)
        ax.set_xlabel("RL step (updates done)")
    axes.flat[0].legend()
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rl-root", required=True)
    p.add_argument("--runs", nargs="+", required=True, help="<method>:<seed> RL runs to draw, e.g. bao:0 bao:1")
    p.add_argument("--out", required=True, help="output path without extension")
    a = p.parse_args(argv)
    df = curves_frame(Path(a.rl_root), parse_runs(a.runs))
    fig = plot_curves(df)
    save_figure(fig, df, a.out, dpi=120)
    print(f"curves: {len(df)} points -> {a.out}.png/.csv")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
