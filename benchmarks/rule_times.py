"""Per-rule wall times of a pipeline run, from Snakemake's `benchmark:` files.

    .venv/bin/python benchmarks/rule_times.py [results]

Prints one Markdown row per rule: jobs, mean and total seconds, max RSS.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bao.report import rule_times  # noqa: E402


def main() -> None:
    df = rule_times(Path(sys.argv[1] if len(sys.argv) > 1 else "results") / "benchmarks")
    if df.empty:
        raise SystemExit("no benchmark files: run the pipeline first")
    print("| rule | jobs | mean s | total s (CPU-serial) | max RSS MB |")
    print("|---|---|---|---|---|")
    for rule, r in df.iterrows():
        print(f"| {rule} | {int(r.jobs)} | {r.mean_s:.0f} | {r.total_s:.0f} | {r.max_rss_mb:.0f} |")
    print(f"\nsum over jobs: {df.total_s.sum() / 60:.1f} min (jobs run 2 at a time on 2 cores)")


if __name__ == "__main__":
    main()
