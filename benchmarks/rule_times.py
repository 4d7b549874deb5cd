"""Per-rule wall times of a pipeline run, from Snakemake's `benchmark:` files.

    .venv/bin/python benchmarks/rule_times.py [results]

Prints one Markdown row per rule (jobs, mean and total wall seconds, total CPU seconds, max RSS) and the
shortest possible wall time of an uninterrupted run on this machine (total CPU time / cores).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bao.report import rule_times  # noqa: E402


def main() -> None:
    df = rule_times(Path(sys.argv[1] if len(sys.argv) > 1 else "results") / "benchmarks")
    if df.empty:
        raise SystemExit("no benchmark files: run the pipeline first")
    print("| rule | jobs | mean wall s | total wall s | total CPU s | max RSS MB |")
    print("|---|---|---|---|---|---|")
    for rule, r in df.iterrows():
        print(f"| {rule} | {int(r.jobs)} | {r.mean_s:.0f} | {r.total_s:.0f} | {r.cpu_s:.0f} | {r.max_rss_mb:.0f} |")
    cores = os.cpu_count() or 1
    print(f"\nsum over jobs: {df.total_s.sum() / 60:.1f} min wall, {df.cpu_s.sum() / 60:.1f} min CPU; "
          f"an uninterrupted run on {cores} cores takes at least {df.cpu_s.sum() / cores / 60:.0f} min")


if __name__ == "__main__":
    main()
