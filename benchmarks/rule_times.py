"""Per-rule wall times of a pipeline run, from Snakemake's `benchmark:` files.

    .venv/bin/python benchmarks/rule_times.py [results]

Prints one Markdown row per rule: jobs, mean and total seconds, max RSS.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "results") / "benchmarks"
    rows = []
    for tsv in sorted(root.rglob("*.tsv")):
        rule = tsv.relative_to(root).parts[0].removesuffix(".tsv")
        d = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": rule, "s": float(d["s"].iloc[0]), "max_rss_mb": float(d["max_rss"].iloc[0])})
    if not rows:
        raise SystemExit(f"no benchmark files under {root}: run the pipeline first")
    df = pd.DataFrame(rows).groupby("rule", sort=False).agg(jobs=("s", "size"), mean_s=("s", "mean"),
                                                             total_s=("s", "sum"), max_rss_mb=("max_rss_mb", "max"))
    print("| rule | jobs | mean s | total s (CPU-serial) | max RSS MB |")
    print("|---|---|---|---|---|")
    for rule, r in df.iterrows():
        print(f"| {rule} | {int(r.jobs)} | {r.mean_s:.0f} | {r.total_s:.0f} | {r.max_rss_mb:.0f} |")
    print(f"\nsum over jobs: {df.total_s.sum() / 60:.1f} min (jobs run 2 at a time on 2 cores)")


if __name__ == "__main__":
    main()
