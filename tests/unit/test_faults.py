"""Faults a user can fix are one line on stderr (exit status 2) that says what is wrong and what to do."""

import errno
import json
import subprocess
import sys

import pytest
import yaml

from bao.cli import run
from bao.config import Config
from bao.io import write_json
from bao.policy.model import save_policy


def _cli(module: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def _one_error_line(r: subprocess.CompletedProcess, prog: str, *needles: str) -> str:
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith(f"{prog}: error: "), line
    for n in needles:
        assert n in line, line
    return line


@pytest.fixture()
def cfg_file(tmp_path):
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump({**Config().to_dict(), "data": {"userrl_dir": str(tmp_path / "no-userrl")}}))
    return p


def test_missing_tokenizer(tmp_path, cfg_file):
    (tmp_path / "data.jsonl").write_text("")
    r = _cli("bao.sft.train", "--config", str(cfg_file), "--teacher-data", str(tmp_path / "data.jsonl"),
             "--tokenizer", str(tmp_path / "no-tok"), "--seed", "0", "--out", str(tmp_path / "ckpt"),
             "--metrics", str(tmp_path / "m.json"))
    _one_error_line(r, "bao.sft.train", "no-tok: no such directory")


def test_truncated_checkpoint(tmp_path, cfg_file, tiny_model, tiny_tok):
    save_policy(tiny_model, tiny_tok, tmp_path / "ckpt")
    w = tmp_path / "ckpt" / "model.safetensors"
    w.write_bytes(w.read_bytes()[:1000])
    r = _cli("bao.eval.run", "--config", str(cfg_file), "--checkpoint", str(tmp_path / "ckpt"), "--split", "test",
             "--method", "sft", "--seed", "0", "--out-dir", str(tmp_path / "ev"))
    _one_error_line(r, "bao.eval.run", "model.safetensors does not match its sha256", "rerun the rule")


def test_faithful_split_without_the_userrl_data_is_recorded_as_skipped_with_the_reason(tmp_path, cfg_file):
    """By design not an error: `make run` works without ../shared/userrl, and the tables say why a row is empty."""
    r = _cli("bao.eval.run", "--config", str(cfg_file), "--policy", "guess_spam", "--split", "faithful",
             "--method", "guess_spam", "--seed", "0", "--out-dir", str(tmp_path / "ev"))
    assert r.returncode == 0, r.stderr[-2000:]
    reason = json.loads((tmp_path / "ev" / "metrics.json").read_text())["skipped"]
    assert "no-userrl" in reason and "data.userrl_dir" in reason and "skipped" in r.stdout


def test_wrong_type_cli_argument(tmp_path, cfg_file):
    r = _cli("bao.rl.train", "--config", str(cfg_file), "--method", "bao", "--seed", "zero", "--init", "x",
             "--out", "y", "--metrics", "z", "--curve", "c")
    assert r.returncode == 2 and "argument --seed: invalid int value: 'zero'" in r.stderr


def test_a_full_disk_is_one_line_and_the_previous_output_survives(tmp_path, monkeypatch, capsys):
    out = tmp_path / "metrics.json"
    write_json(out, {"score": 0.5})

    def main():
        import os

        def no_space(*a, **k):
            raise OSError(errno.ENOSPC, "No space left on device", str(out))

        monkeypatch.setattr(os, "fsync", no_space)
        write_json(out, {"score": 0.9})

    with pytest.raises(SystemExit) as e:
        run(main, prog="bao.test")
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("bao.test: error: no space left on the device while writing") and "intact" in err
    assert out.read_text().strip().endswith("}") and '"score": 0.5' in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # the partial temp file is gone
