"""Copy the pipeline's main table into README.md, so the README never carries a typed number.

    python -m bao.readme            # rewrite the block between the markers from results/tables/main.md
    python -m bao.readme --check    # exit 1 if the README's block differs from the table (a test runs this)

The block is delimited by ``<!-- main-table -->`` and ``<!-- /main-table -->``; everything else in the README is
left as it is. ``make readme`` runs the first form after a grid.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bao.io import atomic_write_text

START, END = "<!-- main-table -->", "<!-- /main-table -->"


def table_block(table_md: str) -> str:
    """The Markdown table of ``results/tables/main.md`` (its lines starting with ``|``) and its caption line."""
    lines = table_md.splitlines()
    rows = [ln for ln in lines if ln.startswith("|")]
    if not rows:
        raise ValueError("no Markdown table in the main table file")
    caption = next((ln for ln in lines if ln.strip() and not ln.startswith(("|", "#"))), "")
    return "\n".join(([f"*{caption.strip()}*", ""] if caption else []) + rows)


def synced(readme: str, table_md: str) -> str:
    """``readme`` with the block between the markers replaced by :func:`table_block` of ``table_md``."""
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"README must hold one {START} ... {END} block")
    head, rest = readme.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{table_block(table_md)}\n{END}{tail}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bao.readme", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--readme", type=Path, default=Path("README.md"))
    p.add_argument("--table", type=Path, default=Path("results/tables/main.md"))
    p.add_argument("--check", action="store_true", help="only report whether the README is in sync")
    a = p.parse_args(argv)
    try:
        old, new = a.readme.read_text(), synced(a.readme.read_text(), a.table.read_text())
    except (OSError, ValueError) as e:
        sys.exit(f"bao.readme: {e}")
    if a.check:
        if old != new:
            sys.exit(f"bao.readme: {a.readme}'s main table differs from {a.table}: run `make readme`")
        print(f"{a.readme}: main table in sync with {a.table}")
        return
    if old != new:
        atomic_write_text(a.readme, new)
    print(f"{a.readme}: main table {'updated' if old != new else 'already'} from {a.table}")


if __name__ == "__main__":
    main()
