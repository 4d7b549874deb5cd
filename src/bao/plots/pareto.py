"""The Pass@U-k Pareto frontier (``python -m bao.plots.pareto --help``).

BAO's frontier (notebook ``plot_pareto_frontier.ipynb``): success rate when the agent may use at most k
user-involved actions, k = 1..9, one curve per method, with its 95% paired-bootstrap interval over test tasks x
seeds as a band (:mod:`bao.eval.stats`). Writes the PNG and the CSV behind it (method, k, pass_rate, lo, hi,
seeds, tasks).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bao.eval import parse_runs  # noqa: E402
from bao.eval.stats import K_MAX, paired_bootstrap  # noqa: E402
from bao.eval.tables import load_runs  # noqa: E402
from bao.plots import LABELS, LINESTYLES, PALETTE, eval_figure_parser, save_figure  # noqa: E402


def frontier_frame(eval_root: Path, runs, split: str, n_boot: int = 2000, seed: int = 0,
                   k_max: int = K_MAX) -> pd.DataFrame:
    """Pass@U-k for k = 1..k_max per method: point and 95% paired-bootstrap interval."""
    per_method = load_runs(eval_root, runs, split)
    rows = []
    for k in range(1, k_max + 1):
        out = paired_bootstrap(per_method, f"pass_at_u/{k}", n_boot=n_boot, seed=seed)["methods"] if per_method else {}
        for m, (p, lo, hi) in out.items():
            r = per_method[m]
            rows.append({"method": m, "k": k, "pass_rate": p, "lo": lo, "hi": hi, "seeds": r.n_seeds,
                         "tasks": r.values["score"].shape[1]})
    return pd.DataFrame(rows)


def plot_frontier(df: pd.DataFrame, title: str):
    sns.set_theme(style="whitegrid", context="talk", font_scale=0.8)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    for m, g in df.groupby("method", sort=False):
        ax.plot(g.k, g.pass_rate, marker="o", label=LABELS.get(m, m), color=PALETTE.get(m),
                linestyle=LINESTYLES.get(m, "-"))
        ax.fill_between(g.k, g.lo, g.hi, alpha=0.15, color=ax.lines[-1].get_color())
    ax.set_xlabel("k = user-involved actions allowed (answers)")
    ax.set_ylabel("Pass@U-k (success rate)")
    ax.set_xticks(range(1, int(df.k.max()) + 1))
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=True)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    p = eval_figure_parser(__doc__, bootstrap=True)
    a = p.parse_args(argv)
    df = frontier_frame(Path(a.eval_root), parse_runs(a.runs), a.split, a.n_boot, a.seed)
    if df.empty:
        raise SystemExit(f"pareto: no evaluated runs for split {a.split!r} under {a.eval_root}")
    n_tasks, n_seeds = int(df.tasks.max()), int(df.seeds.max())
    fig = plot_frontier(df, f"{a.gym.capitalize()}-Gym, {a.split} split\n{n_tasks} tasks × up to {n_seeds} seeds; "
                            "bands: 95% bootstrap interval")
    save_figure(fig, df, a.out, dpi=150)
    print(f"pareto: {len(df)} points -> {a.out}.png/.csv")


if __name__ == "__main__":
    main()
