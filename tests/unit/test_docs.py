"""The README and docs/ stay navigable: short README, no broken relative link, the main table copied, not typed."""
import re
from pathlib import Path

import pytest

from bao import readme

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def test_readme_fits_a_newcomer():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 150


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # web links and in-page anchors
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_readme_main_table_is_the_pipelines():
    text = (ROOT / "README.md").read_text()
    assert readme.synced(text, (ROOT / "results/tables/main.md").read_text()) == text


def test_sync_replaces_only_the_block():
    table = "# Main\n\nCaption here.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    old = f"intro\n{readme.START}\n| stale |\n{readme.END}\noutro\n"
    new = readme.synced(old, table)
    assert new == f"intro\n{readme.START}\n*Caption here.*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n{readme.END}\noutro\n"
    assert readme.synced(new, table) == new


def test_sync_without_markers_is_one_clear_error(tmp_path):
    (tmp_path / "R.md").write_text("no markers\n")
    (tmp_path / "t.md").write_text("| a |\n")
    with pytest.raises(SystemExit, match="README must hold one <!-- main-table -->"):
        readme.main(["--readme", str(tmp_path / "R.md"), "--table", str(tmp_path / "t.md")])
