"""Per-rule wall times of a pipeline run, from Snakemake's `benchmark:` files.

    .venv/bin/python benchmarks/rule_times.py [results] [--cores N]

Prints one Markdown row per rule (jobs, mean and total wall seconds, total CPU seconds, max RSS) and the
shortest possible wall time of an uninterrupted run on this machine (total CPU time / cores).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bao.report import rule_times  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="?", default="results", help="results directory (reads <results>/benchmarks)")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores for the lower bound")
    a = p.parse_args(argv)
    df = rule_times(Path(a.results) / "benchmarks")
    if df.empty:
        raise SystemExit(f"no benchmark files under {a.results}/benchmarks: run the pipeline first")
    print("| rule | jobs | mean wall s | total wall s | total CPU s | max RSS MB |")
    print("|---|---|---|---|---|---|")
    for rule, r in df.iterrows():
        print(f"| {rule} | {int(r.jobs)} | {r.mean_s:.0f} | {r.total_s:.0f} | {r.cpu_s:.0f} | {r.max_rss_mb:.0f} |")
    print(f"\nsum over jobs: {df.total_s.sum() / 60:.1f} min wall, {df.cpu_s.sum() / 60:.1f} min CPU; "
          f"an uninterrupted run on {a.cores} cores takes at least {df.cpu_s.sum() / a.cores / 60:.0f} min")


if __name__ == "__main__":
    main()
