"""Atomic output: files are written beside their target and renamed over it; directories (checkpoints,
tokenizers) are filled beside theirs, given a sha256 manifest and renamed into place.

A crash mid-write never leaves a truncated results file or a half-written checkpoint that Snakemake or DVC
would take for done, and :func:`verify_dir` names a checkpoint whose files were changed or cut short later.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

MANIFEST = "bao_manifest.json"


class CorruptOutput(RuntimeError):
    """A directory output whose files do not match its manifest (or that has none of the expected files)."""


class MissingInput(FileNotFoundError):
    """An input directory or file a stage needs does not exist (its rule has not run, or the path is wrong)."""


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _default(o: Any):
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps(obj: Any, indent: int | None = 2) -> str:
    return json.dumps(obj, indent=indent, sort_keys=False, default=_default)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, dumps(obj) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> Path:
    return atomic_write_text(path, "".join(dumps(r, indent=None) + "\n" for r in rows))


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_jsonl(path: str | os.PathLike) -> list[Any]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened for fsync
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Fill a directory that appears at ``path`` complete or not at all.

    Yields a fresh sibling directory to write into. When the block ends without an exception, every file in it
    is fsynced and listed with its sha256 in ``bao_manifest.json``, and the directory is renamed onto ``path``
    (an existing ``path`` is first renamed aside and removed only after the new one is in place, so a crash
    leaves the old or the new directory, never a mix). On an exception the partial directory is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.partial"):  # left by a writer that was killed
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial"))
    try:
        yield tmp
        files = {}
        for f in sorted(p for p in tmp.rglob("*") if p.is_file()):
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
            files[f.relative_to(tmp).as_posix()] = sha256_file(f)
        atomic_write_text(tmp / MANIFEST, dumps({"format": 1, "files": files}) + "\n")
        _fsync_dir(tmp)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def verify_dir(path: str | os.PathLike, required: Iterable[str] = ()) -> None:
    """Raise :class:`CorruptOutput` naming the first problem: a missing directory or ``required`` file, a file
    of the manifest that is missing or whose sha256 differs. Without a manifest (a directory written by hand or
    by an older version) only ``required`` is checked."""
    path = Path(path)
    hint = "delete it and rerun the rule that wrote it"
    if not path.is_dir():
        raise MissingInput(f"{path}: no such directory (the rule that writes it has not run, or the path is wrong)")
    for name in required:
        if not (path / name).is_file():
            raise CorruptOutput(f"{path}: {name} is missing; {hint}")
    if not (path / MANIFEST).is_file():
        return
    try:
        files = read_json(path / MANIFEST)["files"]
    except (ValueError, KeyError, TypeError) as e:
        raise CorruptOutput(f"{path}: unreadable {MANIFEST} ({e}); {hint}") from None
    for name, digest in files.items():
        f = path / name
        if not f.is_file():
            raise CorruptOutput(f"{path}: {name} is missing; {hint}")
        if sha256_file(f) != digest:
            raise CorruptOutput(f"{path}: {name} does not match its sha256 in {MANIFEST} "
                                f"(truncated or changed after it was written); {hint}")


def locked_outputs_under(root: str | os.PathLike, lock_dir: str | os.PathLike = ".snakemake/locks") -> list[str]:
    """Outputs under ``root`` that a running Snakemake process has locked (its ``<n>.output.lock`` files list
    one path per line, relative to the working directory). Empty when no run writes there.

    A path inside a nested results tree of another run (a directory below ``root`` holding its own
    ``config.resolved.yaml``, e.g. a probe's ``results_dir: results/probe``) does not count: that run reads its
    own config."""
    r = os.path.normpath(root)
    hits = []
    for lock in sorted(Path(lock_dir).glob("*.output.lock")):
        with contextlib.suppress(OSError):
            for line in lock.read_text().splitlines():
                p = os.path.normpath(line.strip()) if line.strip() else ""
                if p and (p == r or p.startswith(r + os.sep)) and not _in_nested_tree(p, r):
                    hits.append(p)
    return hits


def _in_nested_tree(path: str, root: str) -> bool:
    d = os.path.dirname(path)
    while len(d) > len(root) and d.startswith(root + os.sep):
        if os.path.exists(os.path.join(d, "config.resolved.yaml")):
            return True
        d = os.path.dirname(d)
    return False
