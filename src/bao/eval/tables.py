"""The paper-style tables, computed from evaluation files only (episodes.jsonl for the intervals).

* **main**: Score, Pass@U-1, UR and reward-translation rate per gym x method on the test split, each with its
  95% paired-bootstrap interval over clusters x seeds (:mod:`bao.eval.stats`) and ``n`` = tasks x seeds.
* **ablation**: BAO against its ablations and the explicit-reweighting sweep on the ablation gyms, with the
  paired difference to BAO and its interval.
* **paper vs ours**: every number of ``data/paper/reported.csv`` beside ours; for each of the paper's pairwise
  claims (BAO above UserRL-GRPO in Score, below it in UR, ...) whether its *direction* holds here: ``yes`` (same
  sign, interval of the difference excludes 0), ``no`` (opposite sign, interval excludes 0), ``unresolved`` (the
  interval contains 0), ``not run`` (a method is missing here). Absolute numbers are not comparable: a 2M model
  on embedded gyms against Qwen3-4B on the originals.

Clusters (``eval.bootstrap``): with ``cluster`` (the default) every interval resamples the units a split holds
out (Function-Gym's rules, Telepathy's entities, Turtle's puzzles; :func:`bao.gyms.task_clusters`) with all
their tasks, so it covers the rule-to-rule variation a claim about unseen rules rests on; with ``task`` it
resamples tasks i.i.d. (narrower when tasks share a rule). Each table's note says what its intervals resample
(:func:`resampled`) and the CSVs carry the number of clusters.

Each table is written as Markdown, CSV and LaTeX (booktabs), atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from bao.eval.stats import METRICS, Runs, paired_bootstrap, shared_clusters
from bao.io import atomic_write_text, read_json, read_jsonl
from bao.types import Episode

METRIC_NAMES = {"score": "Score", "pass_at_u/1": "Pass@U-1", "user_rate": "UR",
                "reward_translation_rate": "RTR"}


BOOTSTRAP_MODES = ("cluster", "task")


def bootstrap_mode(cfg) -> str:
    """``eval.bootstrap``: ``cluster`` (default; resample held-out rules / entities / puzzles) or ``task``."""
    mode = getattr(cfg.eval, "bootstrap", "cluster")
    if mode not in BOOTSTRAP_MODES:
        raise ValueError(f"eval.bootstrap must be one of {BOOTSTRAP_MODES}, got {mode!r}")
    return mode


def split_clusters(cfg, gym: str, split: str) -> dict[str, str] | None:
    """task_id -> cluster of one gym's split under ``eval.bootstrap`` (None: resample tasks). A split whose tasks
    cannot be rebuilt here (a faithful split without the UserRL data) has none."""
    if bootstrap_mode(cfg) == "task":
        return None
    from bao.gyms import SplitUnavailable, task_clusters

    try:
        return task_clusters(cfg, gym, split)
    except (FileNotFoundError, SplitUnavailable) as e:
        print(f"tables: no clusters for {gym}/{split} ({e}); its intervals resample tasks", file=sys.stderr)
        return None


def cluster_unit(gym: str) -> str:
    """What one cluster of ``gym`` is, in words ("rules"); "clusters" for a gym the registry does not know."""
    from bao.gyms import GYMS

    return GYMS.get(gym).cluster_unit if gym in GYMS else "clusters"


def resampled(runs: Mapping[str, Runs], unit: str = "clusters", wanted: bool = False) -> str:
    """What the intervals of one gym x split resample, e.g. ``rules (21 clusters of 100 tasks) x seeds``;
    ``wanted``: clusters were asked for, so their absence is said."""
    if not runs:
        return "no runs"
    c, n = shared_clusters(runs), next(iter(runs.values())).n_tasks
    if c is None:
        return f"{n} tasks x seeds" + (" (no cluster labels for these task ids)" if wanted else "")
    return f"{unit} ({len(set(c))} clusters of {n} tasks) x seeds"


def n_clusters(r: Runs) -> int:
    """The number of units the bootstrap resamples: clusters, or tasks when there are none."""
    return r.n_tasks if r.clusters is None else len(set(r.clusters))


def load_runs(eval_root: Path, runs: Sequence[tuple[str, int]], split: str,
              clusters: Mapping[str, str] | None = None) -> dict[str, Runs]:
    """{method: Runs} for one gym and split; skipped splits are left out; methods share one task order.
    ``clusters`` (task_id -> cluster, e.g. :func:`split_clusters`) labels the task axis; when it does not cover
    the evaluated task ids (the episodes were written under another config) it is dropped with a warning and
    the intervals resample tasks."""
    by_method: dict[str, list[list[Episode]]] = {}
    for m, s in runs:
        d = eval_root / m / f"seed{s}" / split
        if "skipped" in read_json(d / "metrics.json"):
            continue
        by_method.setdefault(m, []).append([Episode.from_dict(r) for r in read_jsonl(d / "episodes.jsonl")])
    if not by_method:
        return {}
    first = next(iter(by_method.values()))[0]
    task_ids = sorted(e.task_id for e in first)
    if clusters is not None and not all(t in clusters for t in task_ids):
        missing = sum(t not in clusters for t in task_ids)
        print(f"tables: {missing} of {len(task_ids)} task ids of {eval_root}/*/{split} are not in the configured "
              "split; no clusters, its intervals resample tasks", file=sys.stderr)
        clusters = None
    return {m: Runs.from_episodes(eps, task_ids, clusters) for m, eps in by_method.items()}


MIN_VALID_SHARE = 0.10
"""Default of ``eval.min_valid_share``: a split on which every model makes a valid call on fewer turns carries
no information."""


def uninformative(runs: Mapping[str, Runs], scripted: Sequence[str] = (),
                  min_share: float = MIN_VALID_SHARE) -> str | None:
    """Why a (gym, split)'s rows say nothing, or None: every model agent (scripted policies aside) makes a valid
    tool call on fewer than ``min_share`` of its turns (``eval.min_valid_share``), so every method scores what
    not acting scores."""
    models = {m: r.valid_call_share for m, r in runs.items() if m not in scripted}
    if models and all(v < min_share for v in models.values()):
        shares = ", ".join(f"{m} {v:.2f}" for m, v in models.items())
        return f"every model makes a valid tool call on < {min_share:.0%} of its turns ({shares})"
    return None


def _cell(p: float, lo: float, hi: float) -> str:
    return f"{p:.3f} [{lo:.2f}, {hi:.2f}]"


def main_table(per_gym: Mapping[str, Mapping[str, Runs]], methods_of: Mapping[str, Sequence[str]],
               n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per gym x method (in ``methods_of[gym]`` order): point, lo, hi per metric and n."""
    rows = []
    for gym, runs in per_gym.items():
        keep = {m: runs[m] for m in methods_of[gym] if m in runs}
        if not keep:
            continue
        cl = shared_clusters(keep)
        boot = {metric: paired_bootstrap(keep, metric, n_boot=n_boot, seed=seed, clusters=cl)["methods"]
                for metric in METRICS}
        for m, r in keep.items():
            row = {"gym": gym, "method": m, "seeds": r.n_seeds, "tasks": r.n_tasks, "clusters": n_clusters(r),
                   "valid_calls": r.valid_call_share}
            for metric in METRICS:
                row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = boot[metric][m]
            rows.append(row)
    return pd.DataFrame(rows)


def ablation_table(runs: Mapping[str, Runs], reference: str, methods: Sequence[str], gym: str,
                   n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Each method beside ``reference`` (BAO): its values and the paired difference method - reference."""
    keep = {m: runs[m] for m in [reference, *methods] if m in runs}
    if reference not in keep:
        return pd.DataFrame()
    rows = {m: {"gym": gym, "method": m, "seeds": r.n_seeds, "tasks": r.n_tasks, "clusters": n_clusters(r)}
            for m, r in keep.items()}
    cl = shared_clusters(keep)
    for metric in METRICS:
        pairs = [(m, reference) for m in keep if m != reference]
        out = paired_bootstrap(keep, metric, n_boot=n_boot, seed=seed, pairs=pairs, clusters=cl)
        for m in keep:
            rows[m][metric], rows[m][f"{metric}_lo"], rows[m][f"{metric}_hi"] = out["methods"][m]
            d = out["pairs"].get((m, reference), (0.0, 0.0, 0.0))
            rows[m][f"{metric}_delta"], rows[m][f"{metric}_delta_lo"], rows[m][f"{metric}_delta_hi"] = d
    return pd.DataFrame(list(rows.values()))


def verdict(paper_sign: float, lo: float, hi: float, p: float) -> str:
    """Does our paired difference (point ``p``, interval [lo, hi]) go the paper's way (``paper_sign``)?"""
    if lo <= 0 <= hi:
        return "unresolved"
    return "yes" if (p > 0) == (paper_sign > 0) else "no"


def paper_claims(reported: pd.DataFrame) -> pd.DataFrame:
    """The paper's pairwise claims: for each (paper, gym, metric), BAO (or an ablation) against the others."""
    claims = []
    for (paper, gym, metric), g in reported.groupby(["paper", "gym", "metric"], sort=False):
        vals = dict(zip(g.method, g.value))
        if "bao" not in vals:
            continue
        for other, v in vals.items():
            if other != "bao" and v != vals["bao"]:
                claims.append({"paper": paper, "gym": gym, "metric": metric, "a": "bao", "b": other,
                               "paper_a": vals["bao"], "paper_b": v, "paper_sign": 1.0 if vals["bao"] > v else -1.0})
    return pd.DataFrame(claims)


def paper_vs_ours(reported: pd.DataFrame, ours: Mapping[tuple[str, str], Mapping[str, Runs]],
                  n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Every paper claim against our runs of each (gym, split) in ``ours``."""
    rows = []
    for c in paper_claims(reported).to_dict("records"):
        for (gym, split), runs in ours.items():
            if gym != c["gym"]:
                continue
            row = {**c, "split": split}
            if c["a"] in runs and c["b"] in runs:
                two = {k: runs[k] for k in (c["a"], c["b"])}
                out = paired_bootstrap(two, c["metric"], n_boot=n_boot, seed=seed, pairs=[(c["a"], c["b"])],
                                       clusters=shared_clusters(two))
                row["ours_a"], row["ours_b"] = out["methods"][c["a"]][0], out["methods"][c["b"]][0]
                p, lo, hi = out["pairs"][(c["a"], c["b"])]
                row.update({"ours_delta": p, "ours_delta_lo": lo, "ours_delta_hi": hi,
                            "n": f"{runs[c['a']].n_tasks} tasks"
                                 + ("" if runs[c["a"]].clusters is None else f" ({n_clusters(runs[c['a']])} clusters)")
                                 + f" x {runs[c['a']].n_seeds}/{runs[c['b']].n_seeds} seeds",
                            "clusters": n_clusters(runs[c["a"]]),
                            "direction_holds": verdict(c["paper_sign"], lo, hi, p)})
            else:
                row["direction_holds"] = "not run"
            rows.append(row)
    return pd.DataFrame(rows)


# --- rendering ---------------------------------------------------------------------------------------------

def _rows_main(df: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    head = ["gym", "method", "n (tasks x seeds)"] + [METRIC_NAMES[m] for m in METRICS] + ["valid calls"]
    body = [[r["gym"], r["method"], f"{r['tasks']} x {r['seeds']}"] +
            [_cell(r[m], r[f"{m}_lo"], r[f"{m}_hi"]) for m in METRICS] + [f"{r.get('valid_calls', float('nan')):.2f}"]
            for _, r in df.iterrows()]
    return head, body


def _rows_ablation(df: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    head = ["gym", "method", "n (tasks x seeds)"] + [f"{METRIC_NAMES[m]} (Δ vs BAO)" for m in METRICS]
    body = []
    for _, r in df.iterrows():
        cells = []
        for m in METRICS:
            d = "" if r["method"] == "bao" else (f" ({r[f'{m}_delta']:+.3f} [{r[f'{m}_delta_lo']:+.2f}, "
                                                  f"{r[f'{m}_delta_hi']:+.2f}])")
            cells.append(f"{r[m]:.3f}{d}")
        body.append([r["gym"], r["method"], f"{r['tasks']} x {r['seeds']}", *cells])
    return head, body


def _rows_paper(df: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    head = ["gym", "split", "metric", "claim (paper)", "paper a / b", "ours a / b", "ours a - b [95% CI]", "n",
            "direction holds"]
    body = []
    for _, r in df.iterrows():
        rel = ">" if r["paper_sign"] > 0 else "<"
        ours = "—" if r["direction_holds"] == "not run" else f"{r['ours_a']:.3f} / {r['ours_b']:.3f}"
        delta = ("—" if r["direction_holds"] == "not run" else
                 f"{r['ours_delta']:+.3f} [{r['ours_delta_lo']:+.2f}, {r['ours_delta_hi']:+.2f}]")
        body.append([r["gym"], r["split"], METRIC_NAMES.get(r["metric"], r["metric"]), f"{r['a']} {rel} {r['b']}",
                     f"{r['paper_a']:.3f} / {r['paper_b']:.3f}", ours, delta,
                     r["n"] if isinstance(r.get("n"), str) else "—",
                     r["direction_holds"]])
    return head, body


BEHAVIOR = {"effective_turns": "effective turns", "time_weighted_performance": "time-weighted perf.",
            "mean_turns": "turns", "mean_user_actions": "answers U", "invalid_call_rate": "malformed calls"}


def behavior_table(per_gym: Mapping[str, pd.DataFrame], methods_of: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """UserRL Table 4 and friends from the metrics files: mean and sample std over seeds per gym x method."""
    rows = []
    for gym, df in per_gym.items():
        sub = df[df.split == "test"]
        for m in methods_of[gym]:
            g = sub[sub.method == m]
            if g.empty:
                continue
            row = {"gym": gym, "method": m, "seeds": len(g)}
            for c in BEHAVIOR:
                row[c], row[f"{c}_std"] = float(g[c].mean()), float(g[c].std()) if len(g) > 1 else 0.0
            rows.append(row)
    return pd.DataFrame(rows)


def _rows_behavior(df: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    head = ["gym", "method", "seeds", *BEHAVIOR.values()]
    body = [[r["gym"], r["method"], str(r["seeds"])] +
            [f"{r[c]:.3f}" + (f" ± {r[f'{c}_std']:.3f}" if r["seeds"] > 1 else "") for c in BEHAVIOR]
            for _, r in df.iterrows()]
    return head, body


ROWS = {"main": _rows_main, "ablation": _rows_ablation, "paper_vs_ours": _rows_paper, "behavior": _rows_behavior}


def markdown(head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def latex(head: Sequence[str], body: Sequence[Sequence[str]], caption: str) -> str:
    def esc(x) -> str:
        return (str(x).replace("\\", "\\textbackslash{}").replace("_", "\\_").replace("%", "\\%")
                .replace("&", "\\&").replace("#", "\\#").replace("Δ", "$\\Delta$").replace("—", "--").replace("`", ""))

    lines = ["\\begin{table}[t]", "\\centering", "\\small", f"\\caption{{{esc(caption)}}}",
             "\\begin{tabular}{" + "l" * len(head) + "}", "\\toprule", " & ".join(esc(h) for h in head) + " \\\\",
             "\\midrule"]
    lines += [" & ".join(esc(c) for c in row) + " \\\\" for row in body]
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, kind: str, out: Path, title: str, note: str) -> None:
    """``<out>.csv`` (every number, unrounded), ``<out>.md`` (title, note, table) and ``<out>.tex``."""
    atomic_write_text(out.with_suffix(".csv"), df.to_csv(index=False))
    if df.empty:
        text = f"# {title}\n\n{note}\n\nNo runs to tabulate.\n"
        atomic_write_text(out.with_suffix(".md"), text)
        atomic_write_text(out.with_suffix(".tex"), f"% {title}: no runs to tabulate\n")
        return
    head, body = ROWS[kind](df)
    atomic_write_text(out.with_suffix(".md"), f"# {title}\n\n{note}\n\n{markdown(head, body)}\n")
    atomic_write_text(out.with_suffix(".tex"), latex(head, body, f"{title}. {note}"))
