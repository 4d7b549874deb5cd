"""``dvc plots show`` that works offline (``python -m bao.dvc_plots --help``).

DVC renders its plots as Vega-Lite specs in an HTML page whose default template loads vega, vega-lite and
vega-embed from a CDN, so on a machine without internet the page stays blank. Snakemake already ships those three
libraries (vega 5.21, vega-lite 5.2, vega-embed 6.20: the versions DVC's page asks for, give or take a patch) for
its own reports, so this module writes an HTML template with them inlined and no ``{scripts}`` placeholder
(nothing is fetched), then runs ``dvc plots show --html-template <it>``. The scripts are read from the installed
snakemake package at run time; nothing third-party is copied into this repository.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import resources
from pathlib import Path

from bao.io import atomic_write_text

LIBRARIES = ("vega/vega.js", "vega-lite/vega-lite.js", "vega-embed/vega-embed.js")  # load order matters


def offline_template() -> str:
    """An HTML template for ``dvc plots show --html-template`` with the Vega libraries inlined."""
    assets = resources.files("snakemake") / "assets" / "data"
    scripts = []
    for lib in LIBRARIES:
        path = assets / lib
        if not path.is_file():
            raise FileNotFoundError(f"{lib} not found in the installed snakemake package ({assets}); "
                                    "the offline plot template needs snakemake's bundled report assets")
        code = path.read_text(encoding="utf-8").replace("</script>", "<\\/script>")  # would close the tag early
        scripts.append(f"<script>/* {lib} (from snakemake's bundled assets) */\n{code}\n</script>")
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>bao-repro: DVC plots</title>\n"
            + "\n".join(scripts) + "\n<style>body { font-family: sans-serif; } table { border-spacing: 15px; }"
            "</style>\n</head>\n<body>\n<h1>bao-repro: DVC plots</h1>\n{plot_divs}\n</body>\n</html>\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/dvc_plots", help="directory for the template and the rendered page")
    p.add_argument("--template-only", action="store_true", help="write the template, do not call dvc")
    p.add_argument("dvc_args", nargs="*", help="extra arguments for `dvc plots show` (e.g. targets)")
    a = p.parse_args(argv)
    out = Path(a.out)
    template = out / "offline_template.html"
    atomic_write_text(template, offline_template())
    print(f"dvc_plots: template -> {template}")
    if a.template_only:
        return
    dvc = Path(sys.executable).parent / "dvc"
    cmd = [str(dvc if dvc.exists() else "dvc"), "plots", "show", "--html-template", str(template), "-o", str(out),
           *a.dvc_args]
    r = subprocess.run(cmd)
    if r.returncode:
        raise SystemExit(f"dvc_plots: `{' '.join(cmd)}` failed with exit code {r.returncode}")
    print(f"dvc_plots: open {out / 'index.html'} (works offline)")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
