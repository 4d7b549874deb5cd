"""Atomic outputs: a directory appears whole (with a manifest) or not at all, and a damaged checkpoint is named."""

import json

import pytest

from bao.io import MANIFEST, CorruptOutput, MissingInput, atomic_dir, sha256_file, verify_dir
from bao.policy.model import load_policy, save_policy


def test_atomic_dir_publishes_a_manifest_and_replaces_the_old_directory(tmp_path):
    out = tmp_path / "ckpt"
    out.mkdir()
    (out / "stale.bin").write_bytes(b"old")
    with atomic_dir(out) as d:
        (d / "a.txt").write_text("alpha")
        (d / "sub").mkdir()
        (d / "sub" / "b.bin").write_bytes(b"\x00\x01")
        assert not (out / "a.txt").exists()  # nothing visible before the block ends
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", MANIFEST, "sub"]
    files = json.loads((out / MANIFEST).read_text())["files"]
    assert files == {"a.txt": sha256_file(out / "a.txt"), "sub/b.bin": sha256_file(out / "sub" / "b.bin")}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no partial or old directory left behind
    verify_dir(out, ["a.txt"])


def test_a_failed_write_leaves_the_previous_directory_untouched(tmp_path):
    out = tmp_path / "ckpt"
    with atomic_dir(out) as d:
        (d / "a.txt").write_text("first")
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(out) as d:
            (d / "a.txt").write_text("second, never finished")
            raise KeyboardInterrupt
    assert (out / "a.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_a_stale_partial_directory_of_a_killed_writer_is_cleared(tmp_path):
    (tmp_path / ".ckpt.abc123.partial").mkdir()
    with atomic_dir(tmp_path / "ckpt") as d:
        (d / "a.txt").write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_truncated_missing_and_unlisted_checkpoint_files_are_one_clear_error(tmp_path, tiny_model, tiny_tok):
    ckpt = tmp_path / "ckpt"
    save_policy(tiny_model, tiny_tok, ckpt, meta={"stage": "test"})
    assert json.loads((ckpt / "bao_meta.json").read_text()) == {"stage": "test"}
    load_policy(ckpt)  # intact: loads
    weights = ckpt / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptOutput, match=r"model\.safetensors does not match its sha256.*rerun the rule"):
        load_policy(ckpt)
    weights.unlink()
    with pytest.raises(CorruptOutput, match=r"model\.safetensors is missing"):
        load_policy(ckpt)
    (ckpt / MANIFEST).write_text("{not json")
    with pytest.raises(CorruptOutput, match="unreadable"):
        verify_dir(ckpt)
    with pytest.raises(MissingInput, match="no such directory"):
        verify_dir(tmp_path / "nowhere")


def test_a_writer_sigkilled_mid_save_leaves_no_checkpoint_that_looks_complete(tmp_path):
    """A real SIGKILL halfway through writing a checkpoint directory: the target path does not exist (so no
    stage takes it for done), the old one survives, and the next writer clears the partial one."""
    import subprocess
    import sys

    out = tmp_path / "ckpt"
    with atomic_dir(out) as d:
        (d / "model.safetensors").write_bytes(b"old weights")
    script = (f"import os, signal\nfrom bao.io import atomic_dir\n"
              f"with atomic_dir({str(out)!r}) as d:\n"
              f"    (d / 'model.safetensors').write_bytes(b'half of the new')\n"
              f"    os.kill(os.getpid(), signal.SIGKILL)\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert r.returncode == -9
    assert (out / "model.safetensors").read_bytes() == b"old weights"
    verify_dir(out, ["model.safetensors"])
    assert len(list(tmp_path.glob(".ckpt.*.partial"))) == 1  # the killed writer's leftovers, never read
    with atomic_dir(out) as d:
        (d / "model.safetensors").write_bytes(b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_outputs_locked_by_a_running_snakemake_are_found_under_their_results_dir(tmp_path):
    from bao.io import locked_outputs_under

    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "0.output.lock").write_text("results/sft/function/enhanced/seed0/ckpt\nresults/sft/x/metrics.json\n")
    (locks / "0.input.lock").write_text("results/other/input.json\n")  # inputs are only read: never a conflict
    assert locked_outputs_under("results", locks) == ["results/sft/function/enhanced/seed0/ckpt",
                                                      "results/sft/x/metrics.json"]
    assert locked_outputs_under("results/smoke", locks) == []
    assert locked_outputs_under("results-other", locks) == []  # a prefix of the name is not a parent
    assert locked_outputs_under("results", tmp_path / "none") == []


def test_a_nested_results_tree_of_another_run_is_not_a_conflict(tmp_path):
    """A probe run with ``results_dir: <R>/probe`` (its own config.resolved.yaml there) locks outputs below R, but
    it reads its own config, so it does not block a run on R; a run writing R itself does."""
    from bao.io import locked_outputs_under

    R = tmp_path / "results"
    (R / "probe").mkdir(parents=True)
    (R / "probe/config.resolved.yaml").write_text("seed: 0\n")
    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "0.output.lock").write_text(f"{R}/probe/sft/function/enhanced/seed0/ckpt\n")
    assert locked_outputs_under(R, locks) == []
    assert locked_outputs_under(R / "probe", locks) == [f"{R}/probe/sft/function/enhanced/seed0/ckpt"]
    (locks / "1.output.lock").write_text(f"{R}/rl/function/bao/seed0/ckpt\n")
    assert locked_outputs_under(R, locks) == [f"{R}/rl/function/bao/seed0/ckpt"]
