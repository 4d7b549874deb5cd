"""One page that links every table and figure (``python -m bao.report --help``).

Writes ``results/report.md`` and ``results/report.html`` (rendered with markdown-it, images and links relative,
so the folder can be copied or served as is). Each table and figure gets one line saying what it shows; the main
and paper-vs-ours tables are inlined. Provenance: git commit, config hash, machine, Python/torch versions, and the
wall time of every rule from Snakemake's ``benchmark:`` files (summed per rule and in total).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bao.config import load_config
from bao.io import atomic_write_text
from bao.provenance import provenance

TABLES = {
    "main": "Score, Pass@U-1, UR and reward-translation rate per gym and method, with 95% paired-bootstrap intervals "
            "(the paper's main table).",
    "paper_vs_ours": "The paper's reported numbers beside ours, and whether the direction of each claim holds here.",
    "ablation": "BAO against its ablations and the explicit-reweighting sweep (paired differences to BAO).",
    "behavior": "Turn efficiency (UserRL Table 4: effective turns, time-weighted performance) and interaction counts.",
    "training_reward": "The training reward: sampled reward, sampled Pass@U-1 and UR and the greedy score of every RL "
                       "method's seeds pooled against their SFT start on fixed val tasks (training distribution), "
                       "with 95% paired-bootstrap intervals; the sampled-reward rows are shown.",
}
FIGURES = {
    "pareto": "Pass@U-k frontier: success within the first k user-involved actions, k = 1..9 (BAO's main figure).",
    "reweighting": "Explicit reweighting (-w per answer) against BAO in (UR, Score) space, with frontier hypervolumes.",
    "rl_curves": "RL training curves: sampled reward, greedy validation score, UR, turns, penalties, entropy, clipping.",
    "behavior": "Episode length, action mix, end reasons and answer length per method.",
}


def rule_times(bench_root: Path):
    """One row per rule from ``<bench_root>/<rule>/*.tsv`` (or ``<bench_root>/<rule>.tsv``): jobs, mean and total
    wall seconds, total CPU seconds, max RSS (MB); heaviest rule first. Empty when there are no benchmark files.

    Wall seconds grow when jobs share cores; CPU seconds do not, so Σ CPU / cores is the wall time of an
    uninterrupted run with every core busy (a lower bound: the DAG is not always wide enough)."""
    import pandas as pd

    rows = []
    for tsv in sorted(bench_root.rglob("*.tsv")):
        d = pd.read_csv(tsv, sep="\t")
        if len(d):
            rows.append({"rule": tsv.relative_to(bench_root).parts[0].removesuffix(".tsv"),
                         "s": float(d["s"].iloc[-1]), "cpu_s": float(d["cpu_time"].iloc[-1]),
                         "max_rss_mb": float(d["max_rss"].iloc[-1])})
    if not rows:
        return pd.DataFrame(columns=["jobs", "mean_s", "total_s", "cpu_s", "max_rss_mb"])
    df = pd.DataFrame(rows).groupby("rule").agg(jobs=("s", "size"), mean_s=("s", "mean"), total_s=("s", "sum"),
                                                cpu_s=("cpu_s", "sum"), max_rss_mb=("max_rss_mb", "max"))
    return df.sort_values("total_s", ascending=False)


def _figures(results: Path) -> list[tuple[str, str]]:
    figs = []
    for png in sorted((results / "figures").glob("*.png")):
        kind = next((k for k in FIGURES if png.stem.startswith(k)), None)
        if kind:
            figs.append((png.relative_to(results).as_posix(), FIGURES[kind]))
    return figs


def build(results: Path, cfg, config_path: str) -> str:
    prov = provenance(cfg, seed=cfg.seed, config=config_path)
    lines = ["# bao-repro report", "",
             f"Gyms: {', '.join(cfg.gyms)}; seeds: {cfg.seeds}; methods: {', '.join(cfg.methods)}. "
             "Every number below is computed by the pipeline from the files it links to.", "",
             "## Provenance", "",
             f"- git commit: `{prov.get('git_commit')}`; config hash: `{prov.get('config_hash')}` ({config_path})",
             f"- machine: {prov.get('machine')}, {os.cpu_count()} CPU cores; versions: " +
             ", ".join(f"{k} {v}" for k, v in prov.get("versions", {}).items()), ""]
    times = rule_times(results / "benchmarks")
    if len(times):
        total, cpu, cores = times.total_s.sum(), times.cpu_s.sum(), os.cpu_count() or 1
        lines += ["## Wall time per rule (Snakemake benchmark files)", "",
                  f"Sum over all jobs: {total / 60:.1f} min of job wall time and {cpu / 60:.1f} min of CPU time. Jobs "
                  f"run side by side on `--cores`, so an uninterrupted run on these {cores} cores takes at least "
                  f"{cpu / cores / 60:.0f} min (CPU time / cores).", "",
                  "| rule | jobs | total min | CPU min | mean s/job |", "|---|---|---|---|---|"]
        lines += [f"| {r} | {int(t.jobs)} | {t.total_s / 60:.1f} | {t.cpu_s / 60:.1f} | {t.mean_s:.0f} |"
                  for r, t in times.iterrows()]
        lines.append("")
    lines += ["## Tables", ""]
    for name, what in TABLES.items():
        md = results / "tables" / f"{name}.md"
        if not md.exists():
            continue
        files = ", ".join(f"[{ext}](tables/{name}.{ext})" for ext in ("md", "csv", "tex")
                          if (results / "tables" / f"{name}.{ext}").exists())
        lines += [f"### {name}", "", f"{what} Files: {files}.", ""]
        if name in ("main", "paper_vs_ours"):
            body = md.read_text().split("\n")
            lines += [ln for ln in body if ln.startswith("|")] + [""]
        if name == "training_reward":
            body = [ln for ln in md.read_text().split("\n") if ln.startswith("|")]
            keep = ("| sampled_reward |", "| rl_curve_reward |")  # the reward RL optimises: vs SFT, and along RL
            lines += body[:2] + [ln for ln in body[2:] if any(k in ln for k in keep)] + [""]
    per_gym = sorted((results / "tables").glob("*_summary.md"))
    if per_gym:
        lines += ["Per-gym summaries over every split (mean ± std over seeds): " +
                  ", ".join(f"[{p.stem}](tables/{p.name})" for p in per_gym) + ".", ""]
    lines += ["## Figures", ""]
    for rel, what in _figures(results):
        lines += [f"### {Path(rel).stem}", "", f"{what} Data: [csv]({rel[:-4]}.csv).", "", f"![{Path(rel).stem}]({rel})",
                  ""]
    return "\n".join(lines) + "\n"


def to_html(md: str) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(md)
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
             "table{border-collapse:collapse;font-size:0.85em;margin:1em 0}th,td{border:1px solid #ccc;"
             "padding:3px 7px;text-align:left}th{background:#f3f3f3}img{max-width:100%}code{background:#f5f5f5}")
    return (f"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>bao-repro report</title>\n"
            f"<style>{style}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="the resolved pipeline config")
    p.add_argument("--results", default="results", help="results directory (tables/, figures/, benchmarks/)")
    a = p.parse_args(argv)
    results = Path(a.results)
    md = build(results, load_config(a.config), a.config)
    atomic_write_text(results / "report.md", md)
    atomic_write_text(results / "report.html", to_html(md))
    print(f"report: {results / 'report.md'}, {results / 'report.html'}")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
