"""Explicit reweighting against BAO in (UR, Score) space (``python -m bao.plots.sweep --help``).

The paper argues that putting a weight w on every user-involved action ("reweighting", the naive way to
optimise E[R - w U]) does not move the Pareto frontier, while BAO's behaviour shaping does. Here every method
is one point: its user-involvement rate UR (lower is better) against its Score (higher is better), each with a
95% paired-bootstrap interval over test tasks x seeds (with ``--config`` under ``eval.bootstrap: cluster``, the
default: over the split's held-out rules / entities / puzzles x seeds). The reweighting frontier is the
non-dominated subset of {w = 0 (BAO without regularizers), w in ``ablation.reweight_w``}; its hypervolume is the
area it dominates up to the reference point (UR = 1, Score = 0). If adding BAO's point to that set raises the
hypervolume, BAO moves the frontier. Writes the PNG, the points CSV and ``<out>_hypervolume.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bao.eval import parse_runs  # noqa: E402
from bao.eval.stats import paired_bootstrap, shared_clusters  # noqa: E402
from bao.eval.tables import load_runs, n_clusters  # noqa: E402
from bao.io import atomic_write_text  # noqa: E402
from bao.plots import LABELS, PALETTE, eval_figure_parser, save_figure  # noqa: E402

REF = (1.0, 0.0)  # (UR, Score): the worst corner


def pareto_front(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Non-dominated (UR, Score) points (lower UR, higher Score), sorted by UR."""
    pts = sorted(set(points), key=lambda p: (p[0], -p[1]))
    front, best = [], float("-inf")
    for ur, sc in pts:
        if sc > best:
            front.append((ur, sc))
            best = sc
    return front


def hypervolume(points: Iterable[tuple[float, float]], ref: tuple[float, float] = REF) -> float:
    """Area dominated by ``points`` inside the box from the point to ``ref`` = (UR_max, Score_min)."""
    front = [(ur, sc) for ur, sc in pareto_front(points) if ur < ref[0] and sc > ref[1]]
    area = 0.0
    for i, (ur, sc) in enumerate(front):
        next_ur = front[i + 1][0] if i + 1 < len(front) else ref[0]
        area += (next_ur - ur) * (sc - ref[1])  # the staircase step from this point to the next one
    return area


def points_frame(eval_root: Path, runs, split: str, weights: dict[str, float], n_boot: int, seed: int,
                 clusters=None) -> pd.DataFrame:
    """One row per method: UR and Score with their intervals (over the clusters of ``clusters``, task_id ->
    cluster, when given)."""
    per_method = load_runs(eval_root, runs, split, clusters)
    if not per_method:
        return pd.DataFrame()
    cl = shared_clusters(per_method)
    sc = paired_bootstrap(per_method, "score", n_boot=n_boot, seed=seed, clusters=cl)["methods"]
    ur = paired_bootstrap(per_method, "user_rate", n_boot=n_boot, seed=seed, clusters=cl)["methods"]
    return pd.DataFrame([{"method": m, "w": weights.get(m), "user_rate": ur[m][0], "ur_lo": ur[m][1],
                          "ur_hi": ur[m][2], "score": sc[m][0], "score_lo": sc[m][1], "score_hi": sc[m][2],
                          "seeds": r.n_seeds, "clusters": n_clusters(r)} for m, r in per_method.items()])


def frontiers(df: pd.DataFrame, sweep: Sequence[str], reference: str = "bao") -> pd.DataFrame:
    """Hypervolume of the reweighting set, of BAO alone, and of both together."""
    pt = {r.method: (r.user_rate, r.score) for r in df.itertuples()}
    sets = {"reweighting (w sweep)": [pt[m] for m in sweep if m in pt],
            "BAO": [pt[reference]] if reference in pt else [],
            "reweighting + BAO": [pt[m] for m in [*sweep, reference] if m in pt]}
    return pd.DataFrame([{"frontier": k, "points": len(v), "hypervolume": hypervolume(v)} for k, v in sets.items()])


def plot_sweep(df: pd.DataFrame, sweep: Sequence[str], hv: pd.DataFrame, title: str):
    sns.set_theme(style="whitegrid", context="talk", font_scale=0.8)
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    sw = df[df.method.isin(sweep)].sort_values("w")
    ax.errorbar(sw.user_rate, sw.score, xerr=[sw.user_rate - sw.ur_lo, sw.ur_hi - sw.user_rate],
                yerr=[sw.score - sw.score_lo, sw.score_hi - sw.score], fmt="o", color="#9467bd", alpha=0.8,
                label="explicit reweighting (label: w)")
    for r in sw.itertuples():
        ax.annotate(f"w={r.w:g}", (r.user_rate, r.score), textcoords="offset points", xytext=(6, 4), fontsize=9)
    front = pareto_front(zip(sw.user_rate, sw.score))
    if front:
        xs = [p[0] for p in front] + [REF[0]]
        ys = [p[1] for p in front] + [front[-1][1]]
        ax.step(xs, ys, where="post", color="#9467bd", linestyle=":", label="reweighting frontier")
    for r in df[~df.method.isin(sweep)].itertuples():
        ax.errorbar(r.user_rate, r.score, xerr=[[r.user_rate - r.ur_lo], [r.ur_hi - r.user_rate]],
                    yerr=[[r.score - r.score_lo], [r.score_hi - r.score]], fmt="s" if r.method == "bao" else "D",
                    color=PALETTE.get(r.method), label=LABELS.get(r.method, r.method), markersize=8)
    hvs = dict(zip(hv.frontier, hv.hypervolume))
    ax.set_xlabel("user-involvement rate UR (answers / turns; lower = less user burden)")
    ax.set_ylabel("Score (success rate)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{title}\nhypervolume (ref UR=1, Score=0): reweighting {hvs.get('reweighting (w sweep)', 0):.3f}, "
                 f"+BAO {hvs.get('reweighting + BAO', 0):.3f}", fontsize=11)
    ax.legend(loc="best", fontsize=9, frameon=True)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    p = eval_figure_parser(__doc__, bootstrap=True)
    p.add_argument("--sweep", nargs="+", required=True,
                   help="<method>=<w> of the reweighting set, e.g. bao_no_reg=0 reweight_w0.05=0.05")
    p.add_argument("--config", default=None, help="pipeline config: with eval.bootstrap: cluster (its default) the "
                                                 "intervals resample the split's held-out rules/entities/puzzles")
    a = p.parse_args(argv)
    weights = {s.split("=")[0]: float(s.split("=")[1]) for s in a.sweep}
    clusters = None
    if a.config:
        from bao.config import load_config
        from bao.eval.tables import split_clusters

        clusters = split_clusters(load_config(a.config), a.gym, a.split)
    df = points_frame(Path(a.eval_root), parse_runs(a.runs), a.split, weights, a.n_boot, a.seed, clusters)
    if df.empty:
        raise SystemExit(f"sweep: no evaluated runs for split {a.split!r} under {a.eval_root}")
    hv = frontiers(df, list(weights))
    fig = plot_sweep(df, list(weights), hv, f"{a.gym.capitalize()}-Gym, {a.split} split: reweighting vs BAO")
    save_figure(fig, df, a.out, dpi=150)
    atomic_write_text(Path(f"{a.out}_hypervolume.csv"), hv.to_csv(index=False))
    print(f"sweep: {len(df)} methods; " + ", ".join(f"{r.frontier} HV {r.hypervolume:.3f}" for r in hv.itertuples()))


if __name__ == "__main__":
    from bao.cli import run

    run(main)
