"""Open a results page in a real (headless) browser and check what a reader would see.

    python -m bao.report_check results/report.html                       # prints what loaded, exits 1 on a fault
    python -m bao.report_check results/report.html --screenshot docs/report.png

Uses Debian's Chromium (``chromium``; ``make test`` installs it when missing and it can). A copy of the page
with a small script is written beside it (so relative paths stay the same) and removed afterwards; after the
page has loaded, the script records every image's natural width, every table's row count and every link, and
Chromium's ``--dump-dom`` hands them back. A fault is an image that did not load (natural width 0), a relative
link whose file does not exist, or a table without data rows.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

PROBE = ("<script>window.addEventListener('load',()=>{const o={images:[...document.images].map(i=>"
         "[i.getAttribute('src'),i.naturalWidth]),tables:[...document.querySelectorAll('table')].map(t=>"
         "t.rows.length),links:[...document.querySelectorAll('a[href]')].map(a=>a.getAttribute('href'))};"
         "const p=document.createElement('pre');p.id='bao-check';p.textContent=JSON.stringify(o);"
         "document.body.appendChild(p);});</script>")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000"]


def browser() -> str | None:
    """Path of a Chromium binary, or None."""
    return next((p for p in (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def inspect(page: Path, chromium: str) -> dict:
    """What the browser saw: {"images": [[src, natural_width]], "tables": [rows], "links": [href]}."""
    page = page.resolve()
    html = page.read_text(encoding="utf-8")
    probe = page.with_name(f".{page.stem}.check.html")
    probe.write_text(html.replace("</body>", PROBE + "</body>") if "</body>" in html else html + PROBE,
                     encoding="utf-8")
    try:
        r = subprocess.run([chromium, *FLAGS, "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                           timeout=120)
    finally:
        probe.unlink(missing_ok=True)
    m = re.search(r'<pre id="bao-check">(.*?)</pre>', r.stdout, re.S)
    if not m:
        raise RuntimeError(f"{chromium} rendered no result for {page} (exit {r.returncode}): {r.stderr[-500:]}")
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">"))


def faults(page: Path, seen: dict) -> list[str]:
    out = [f"image {src} did not load" for src, width in seen["images"] if not width]
    for href in seen["links"]:
        if re.match(r"[a-z]+:", href) or href.startswith("#"):
            continue
        if not (page.parent / href.split("#")[0]).exists():
            out.append(f"link {href} points to no file")
    out += [f"table {i + 1} has no data rows" for i, rows in enumerate(seen["tables"]) if rows < 2]
    return out


def screenshot(page: Path, out: Path, chromium: str, width: int = 1280, height: int = 2400) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([chromium, *FLAGS, f"--window-size={width},{height}", f"--screenshot={out.resolve()}",
                    page.resolve().as_uri()], capture_output=True, timeout=120, check=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bao.report_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("page", type=Path, help="the HTML page (e.g. results/report.html)")
    p.add_argument("--screenshot", type=Path, help="also write a PNG of the page here")
    a = p.parse_args(argv)
    chromium = browser()
    if chromium is None:
        sys.exit("bao.report_check: no Chromium found: apt-get install chromium (make test does it when it can)")
    if not a.page.is_file():
        sys.exit(f"bao.report_check: {a.page}: no such file")
    seen = inspect(a.page, chromium)
    found = faults(a.page, seen)
    print(f"{a.page}: {len(seen['images'])} images, {len(seen['tables'])} tables, {len(seen['links'])} links; "
          f"{len(found)} faults")
    for f in found:
        print(f"  {f}")
    if a.screenshot:
        screenshot(a.page, a.screenshot, chromium)
        print(f"screenshot -> {a.screenshot}")
    if found:
        sys.exit(1)


if __name__ == "__main__":
    main()
