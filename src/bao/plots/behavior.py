"""How each method behaves (``python -m bao.plots.behavior --help``): four panels per gym and split.

1. turns per episode (the share of episodes that last at least t turns);
2. action mix: environment actions, questions/probes, user-involved answers and malformed calls, as shares of
   all turns;
3. how episodes end (success, horizon, token budget, no tool call, ...);
4. answer length in words, per submitted answer: the paper reports RL agents writing long answers to confuse
   an LLM judge (a reward hack); on the embedded gyms the judge reads only the first words, so a drift shows
   up here before it could pay.

The CSV behind the figure has one row per episode (method, seed, task, turns, end reason, action counts, mean
answer words), so every bar can be recomputed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bao.eval import parse_runs  # noqa: E402
from bao.io import read_json, read_jsonl  # noqa: E402
from bao.plots import LABELS, PALETTE, eval_figure_parser, save_figure  # noqa: E402
from bao.types import Episode  # noqa: E402

ACTIONS = ["search", "action", "answer", "invalid"]


def episode_rows(eval_root: Path, runs, split: str) -> pd.DataFrame:
    rows = []
    for m, s in runs:
        d = eval_root / m / f"seed{s}" / split
        if "skipped" in read_json(d / "metrics.json"):
            continue
        for raw in read_jsonl(d / "episodes.jsonl"):
            ep = Episode.from_dict(raw)
            kinds = ["invalid" if not t.valid else (t.choice if t.choice in ACTIONS else "invalid") for t in ep.turns]
            words = [len((t.content or "").split()) for t in ep.turns if t.user_involved]
            rows.append({"method": m, "seed": s, "task_id": ep.task_id, "turns": len(ep.turns),
                         "end_reason": ep.end_reason, **{f"n_{k}": kinds.count(k) for k in ACTIONS},
                         "answers": len(words), "answer_words": sum(words) / len(words) if words else float("nan")})
    return pd.DataFrame(rows)


def _colour(m: str, i: int) -> str:
    return PALETTE.get(m) or sns.color_palette("tab10")[i % 10]


def _shares(ax, frame: pd.DataFrame, cmap: str, xlabel: str, title: str, ncol: int) -> None:
    """Stacked horizontal bars of shares per method (rows), legend under the axes."""
    frame = frame.copy()
    frame.index = [LABELS.get(m, m) for m in frame.index]
    frame.plot.barh(stacked=True, ax=ax, colormap=cmap, width=0.7)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, frameon=False)


def plot_behavior(df: pd.DataFrame, title: str):
    sns.set_theme(style="whitegrid", context="notebook")
    methods = list(dict.fromkeys(df.method))
    bars = methods[::-1]  # horizontal bars list the first method on top
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))

    ax = axes[0, 0]
    t_max = int(df.turns.max())
    for i, m in enumerate(methods):
        t = df[df.method == m].turns
        ax.plot(range(1, t_max + 1), [(t >= k).mean() for k in range(1, t_max + 1)], marker=".",
                color=_colour(m, i), label=LABELS.get(m, m))
    ax.set_xlabel("turn t")
    ax.set_ylabel("share of episodes lasting ≥ t turns")
    ax.set_title("episode length")
    ax.legend(fontsize=8)

    mix = df.groupby("method", sort=False)[[f"n_{k}" for k in ACTIONS]].sum()
    mix.columns = ["search", "question / probe", "answer (user-involved)", "malformed"]
    _shares(axes[0, 1], mix.div(mix.sum(axis=1), axis=0).loc[bars], "Set2", "share of turns", "action mix", 2)
    ends = pd.crosstab(df.method, df.end_reason, normalize="index").loc[bars]
    _shares(axes[1, 0], ends, "tab20c", "share of episodes", "how episodes end", 5)

    ax = axes[1, 1]
    ans = df.dropna(subset=["answer_words"])
    if len(ans):
        sns.boxplot(data=ans, y="method", x="answer_words", order=[m for m in methods if m in set(ans.method)],
                    ax=ax, palette={m: _colour(m, i) for i, m in enumerate(methods)}, hue="method", legend=False)
        ax.set_yticks(range(len([m for m in methods if m in set(ans.method)])),
                      [LABELS.get(m, m) for m in methods if m in set(ans.method)])
    ax.set_xlabel("words per answer (episode mean)")
    ax.set_ylabel("")
    ax.set_title("answer length")
    for a in axes.flat:
        a.tick_params(labelsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    p = eval_figure_parser(__doc__)
    a = p.parse_args(argv)
    df = episode_rows(Path(a.eval_root), parse_runs(a.runs), a.split)
    if df.empty:
        raise SystemExit(f"behavior: no evaluated runs for split {a.split!r} under {a.eval_root}")
    fig = plot_behavior(df, f"{a.gym.capitalize()}-Gym, {a.split} split: behaviour per method "
                            f"({df.task_id.nunique()} tasks, all seeds pooled)")
    save_figure(fig, df, a.out, dpi=120)
    print(f"behavior: {len(df)} episodes -> {a.out}.png/.csv")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
