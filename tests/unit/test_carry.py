"""bao.carry: a finished gym's evaluations, curves, metrics and benchmarks go into one archive and come back in a
fresh tree with their modification times; checkpoints and other gyms stay out."""

import os

import pytest

from bao import carry
from bao.io import MissingInput


def _touch(path, text="x", mtime=1_000_000_000):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_save_then_restore_keeps_what_the_tables_read_and_its_times(tmp_path, monkeypatch):
    src = tmp_path / "src"
    keep = ["results/eval/function/bao/seed0/test/metrics.json", "results/eval/function/bao/seed0/test/episodes.jsonl",
            "results/rl/function/bao/seed0/curve.jsonl", "results/rl/function/bao/seed0/metrics.json",
            "results/sft/function/enhanced/seed0/metrics.json", "data/teacher/function/enhanced.stats.json",
            "results/benchmarks/train_rl/function_bao_seed0.tsv", "results/benchmarks/tokenizer/function.tsv"]
    drop = ["results/rl/function/bao/seed0/ckpt/model.safetensors", "results/sft/function/enhanced/seed0/ckpt/x",
            "results/eval/turtle/bao/seed0/test/metrics.json", "data/teacher/function/enhanced.jsonl",
            "results/benchmarks/train_rl/functionality_seed0.tsv"]
    for i, f in enumerate(keep + drop):
        _touch(src / f, mtime=1_000_000_000 + i)
    monkeypatch.chdir(src)
    files = carry.save(carry.Path("results"), carry.Path("data"), ["function"], carry.Path("out/function.tar.gz"))
    assert sorted(map(str, files)) == sorted(keep)
    dst = tmp_path / "dst"
    dst.mkdir()
    monkeypatch.chdir(dst)
    names = carry.restore(src / "out/function.tar.gz")
    assert sorted(names) == sorted(keep)
    for i, f in enumerate(keep):
        assert (dst / f).read_text() == "x" and int((dst / f).stat().st_mtime) == 1_000_000_000 + i
    assert not (dst / drop[0]).exists()


def test_a_gym_without_evaluations_and_a_missing_archive_are_one_line_errors(tmp_path):
    with pytest.raises(MissingInput, match="no evaluations of turtle"):
        carry.save(tmp_path / "results", tmp_path / "data", ["turtle"], tmp_path / "t.tar.gz")
    with pytest.raises(MissingInput, match="no such archive"):
        carry.restore(tmp_path / "none.tar.gz")


def test_checkpoints_are_packed_only_when_asked_sft_or_all(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["results/eval/turtle/guess_spam/seed0/test/metrics.json"]
    sft = ["results/sft/turtle/enhanced/seed0/ckpt/model.safetensors",
           "results/sft/turtle/enhanced/seed0/ckpt/.snakemake_timestamp"]
    rl = ["results/rl/turtle/bao/seed1/ckpt/model.safetensors"]
    for f in base + sft + rl + ["results/sft/function/enhanced/seed0/ckpt/model.safetensors"]:
        _touch(tmp_path / f)
    r, d = carry.Path("results"), carry.Path("data")
    assert sorted(map(str, carry.members(r, d, "turtle"))) == sorted(base)
    assert sorted(map(str, carry.members(r, d, "turtle", "sft"))) == sorted(base + sft)
    assert sorted(map(str, carry.members(r, d, "turtle", "all"))) == sorted(base + sft + rl)
    with pytest.raises(ValueError, match="checkpoints must be one of"):
        carry.members(r, d, "turtle", "some")
