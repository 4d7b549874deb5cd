"""Carry finished gyms of a grid to a fresh checkout (``python -m bao.carry --help``).

The default grid costs more CPU time than one session here has, and a fresh checkout has neither the DVC cache
nor a remote: what one session built is gone in the next. ``save`` packs what the tables, figures and report
read of the given gyms into one compressed archive small enough for git; ``restore`` unpacks it with its
modification times, so Snakemake (which does not rebuild a missing input of a job whose outputs exist and are
newer than its other inputs) treats those gyms as done and runs only the rest of the grid.

Packed, per gym: every evaluation (``eval/<gym>/**``: metrics and episodes), each RL run's ``curve.jsonl`` and
``metrics.json``, each SFT run's ``metrics.json``, the teacher-data statistics and the gym's benchmark files (the
per-rule CPU times). Not packed by default: checkpoints, teacher episodes, tokenizers (tens of MB a gym, and
rebuilt by the pipeline whenever a job that reads them has to run again).

A gym stopped half-way needs more: an RL run still to train reads its SFT checkpoint, and rebuilding that from a
fresh tokenizer makes every carried output of the gym older than its inputs (Snakemake then reruns them all).
``--checkpoints sft`` also packs the gym's SFT checkpoints; ``--checkpoints all`` packs every RL checkpoint too
(for RL runs whose evaluations are not all done). A checkpoint of the embedded model is ~7 MB.

    python -m bao.carry save --gyms function --out results/carry/function.tar.gz
    python -m bao.carry save --gyms telepathy turtle --checkpoints sft --out results/carry/tt.tar.gz  # half-way
    python -m bao.carry restore results/carry/function.tar.gz
    .venv/bin/snakemake --cores all            # builds the other gyms, then the tables of all of them
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

from bao.io import MissingInput


CHECKPOINTS = ("none", "sft", "all")


def members(results: Path, data: Path, gym: str, checkpoints: str = "none") -> list[Path]:
    """The files of one gym that ``save`` packs (sorted; paths as found under ``results`` and ``data``)."""
    if checkpoints not in CHECKPOINTS:
        raise ValueError(f"checkpoints must be one of {', '.join(CHECKPOINTS)}, not {checkpoints!r}")
    found = [p for p in (results / "eval" / gym).rglob("*") if p.is_file()]
    found += [p for p in (results / "rl" / gym).glob("*/seed*/*") if p.name in ("curve.jsonl", "metrics.json")]
    found += list((results / "sft" / gym).glob("*/seed*/metrics.json"))
    found += list((data / "teacher" / gym).glob("*.stats.json"))
    found += [p for p in (results / "benchmarks").rglob("*.tsv") if p.stem == gym or p.stem.startswith(f"{gym}_")]
    stages = {"none": (), "sft": ("sft",), "all": ("sft", "rl")}[checkpoints]
    for stage in stages:  # each file of each checkpoint directory, Snakemake's .snakemake_timestamp included
        found += [p for p in (results / stage / gym).glob("*/seed*/ckpt/**/*") if p.is_file()]
    return sorted(found)


def save(results: Path, data: Path, gyms: list[str], out: Path, checkpoints: str = "none") -> list[Path]:
    files = [f for g in gyms for f in members(results, data, g, checkpoints)]
    missing = [g for g in gyms if not any(f.is_relative_to(results / "eval" / g) for f in files)]
    if missing:
        raise MissingInput(f"no evaluations of {', '.join(missing)} under {results}/eval: nothing to carry")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    with tarfile.open(tmp, "w:gz") as tar:
        for f in files:
            tar.add(f, recursive=False)
    tmp.replace(out)
    return files


def restore(archive: Path, root: Path = Path(".")) -> list[str]:
    if not archive.exists():
        raise MissingInput(f"{archive}: no such archive (make one with `python -m bao.carry save`)")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        tar.extractall(root, filter="data")  # keeps each file's modification time
    return names


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("save", help="pack the finished gyms' evaluations, curves, metrics and benchmarks")
    sv.add_argument("--gyms", nargs="+", required=True)
    sv.add_argument("--results", default="results", help="results directory (default: results)")
    sv.add_argument("--data", default="data", help="data directory (default: data)")
    sv.add_argument("--out", required=True, help="archive to write (.tar.gz)")
    sv.add_argument("--checkpoints", choices=CHECKPOINTS, default="none",
                    help="also pack checkpoints: sft (a gym stopped before its RL runs finished), all (+ RL ones)")
    rs = sub.add_parser("restore", help="unpack an archive in place, modification times kept")
    rs.add_argument("archive")
    a = p.parse_args(argv)
    if a.cmd == "save":
        files = save(Path(a.results), Path(a.data), a.gyms, Path(a.out), a.checkpoints)
        print(f"carry: {len(files)} files of {', '.join(a.gyms)} -> {a.out} ({Path(a.out).stat().st_size / 1e6:.1f} MB)")
    else:
        names = restore(Path(a.archive))
        print(f"carry: restored {len(names)} files from {a.archive}")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
