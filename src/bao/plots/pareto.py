"""The Pass@U-k Pareto frontier (``python -m bao.plots.pareto --help``).

BAO's frontier (notebook ``plot_pareto_frontier.ipynb``): success rate when the agent may use at most k
user-involved actions, k = 1..9, one curve per method, with its 95% paired-bootstrap interval as a band
(:mod:`bao.eval.stats`): over test tasks x seeds, or with ``--config`` under ``eval.bootstrap: cluster`` (the
default) over the split's held-out rules / entities / puzzles x seeds. Writes the PNG and the CSV behind it
(method, k, pass_rate, lo, hi, seeds, tasks, clusters).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bao.eval import parse_runs  # noqa: E402
from bao.eval.stats import K_MAX, paired_bootstrap, shared_clusters  # noqa: E402
from bao.eval.tables import cluster_unit, load_runs, n_clusters  # noqa: E402
from bao.plots import LABELS, LINESTYLES, PALETTE, eval_figure_parser, save_figure  # noqa: E402


def frontier_frame(eval_root: Path, runs, split: str, n_boot: int = 2000, seed: int = 0,
                   k_max: int = K_MAX, clusters=None) -> pd.DataFrame:
    """Pass@U-k for k = 1..k_max per method: point and 95% paired-bootstrap interval (resampling the clusters of
    ``clusters``, task_id -> cluster, when given; :func:`bao.eval.tables.load_runs`)."""
    per_method = load_runs(eval_root, runs, split, clusters)
    cl = shared_clusters(per_method) if per_method else None
    rows = []
    for k in range(1, k_max + 1):
        out = paired_bootstrap(per_method, f"pass_at_u/{k}", n_boot=n_boot, seed=seed,
                               clusters=cl)["methods"] if per_method else {}
        for m, (p, lo, hi) in out.items():
            r = per_method[m]
            rows.append({"method": m, "k": k, "pass_rate": p, "lo": lo, "hi": hi, "seeds": r.n_seeds,
                         "tasks": r.n_tasks, "clusters": n_clusters(r)})
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
    p.add_argument("--config", default=None, help="pipeline config: with eval.bootstrap: cluster (its default) the "
                                                 "bands resample the split's held-out rules/entities/puzzles")
    a = p.parse_args(argv)
    clusters = None
    if a.config:
        from bao.config import load_config
        from bao.eval.tables import split_clusters

        clusters = split_clusters(load_config(a.config), a.gym, a.split)
    df = frontier_frame(Path(a.eval_root), parse_runs(a.runs), a.split, a.n_boot, a.seed, clusters=clusters)
    if df.empty:
        raise SystemExit(f"pareto: no evaluated runs for split {a.split!r} under {a.eval_root}")
    n_tasks, n_seeds, n_cl = int(df.tasks.max()), int(df.seeds.max()), int(df.clusters.max())
    over = f"{n_cl} {cluster_unit(a.gym)}" if clusters is not None and n_cl != n_tasks else "tasks"
    fig = plot_frontier(df, f"{a.gym.capitalize()}-Gym, {a.split} split\n{n_tasks} tasks × up to {n_seeds} seeds\n"
                            f"bands: 95% bootstrap interval over {over} × seeds")
    save_figure(fig, df, a.out, dpi=150)
    print(f"pareto: {len(df)} points -> {a.out}.png/.csv")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
