"""Resume inside a stage: a killed SFT or RL job rerun from its saved state ends exactly where an uninterrupted
run ends (same weights, same curve), and a state from another config is never resumed from."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import yaml

from bao.config import RLConfig, SFTConfig
from bao.io import CorruptOutput, read_jsonl, sha256_file
from bao.policy.model import sha256_state
from bao.resume import POINTER, TrainState, fingerprint, state_dir
from bao.sft.train import train as sft_train
from safetensors.torch import load_file



def _rows(eps):
    return [e.__dict__ for e in eps]


def _hash(model) -> str:
    return sha256_state(model.state_dict())


class Killed(Exception):
    pass


class KilledAfter(TrainState):
    """A state that 'dies' right after saving step ``k`` (the in-process stand-in for SIGKILL)."""

    def __init__(self, *a, kill_at: int, **kw):
        super().__init__(*a, **kw)
        self.kill_at = kill_at

    def save(self, step, state):
        super().save(step, state)
        if step == self.kill_at:
            raise Killed


def _sft_cfg(small_cfg, steps=6):
    return dataclasses.replace(small_cfg, sft=dataclasses.replace(SFTConfig(), steps=steps, batch_size=4,
                                                                   warmup_steps=1))


def test_sft_resumed_after_a_kill_equals_an_uninterrupted_run(tmp_path, small_cfg, tiny_tok, teacher_episodes,
                                                               capsys):
    cfg, rows = _sft_cfg(small_cfg), _rows(teacher_episodes)
    fp = fingerprint(cfg, stage="sft", seed=0)
    ref, ref_stats, _ = sft_train(cfg, rows, tiny_tok, 0, progress=False)
    root = tmp_path / "state"
    with pytest.raises(Killed):
        sft_train(cfg, rows, tiny_tok, 0, progress=False, state=KilledAfter(root, fp, every=2, kill_at=4))
    assert (root / POINTER).read_text().strip() == "step-000004"
    assert [p.name for p in root.glob("step-*")] == ["step-000004"]  # older states are dropped
    resumed, stats, _ = sft_train(cfg, rows, tiny_tok, 0, progress=False, state=TrainState(root, fp, every=2))
    assert "resumed at step 4" in capsys.readouterr().out
    assert _hash(resumed) == _hash(ref)
    assert stats["curve"] == ref_stats["curve"]
    assert (stats["tokens_seen"], stats["assistant_tokens_trained"]) == \
        (ref_stats["tokens_seen"], ref_stats["assistant_tokens_trained"])


def test_a_state_from_another_config_is_ignored_and_a_corrupt_one_is_named(tmp_path, small_cfg, tiny_tok,
                                                                          teacher_episodes, capsys):
    cfg, rows = _sft_cfg(small_cfg, steps=4), _rows(teacher_episodes)
    root = tmp_path / "state"
    with pytest.raises(Killed):
        sft_train(cfg, rows, tiny_tok, 0, progress=False,
                  state=KilledAfter(root, fingerprint(cfg, stage="sft", seed=0), every=2, kill_at=2))
    other = TrainState(root, fingerprint(cfg, stage="sft", seed=1), every=2)
    assert other.load() is None
    assert "another config or seed; starting fresh" in capsys.readouterr().out
    state_pt = root / "step-000002" / "state.pt"
    state_pt.write_bytes(state_pt.read_bytes()[:100])
    with pytest.raises(CorruptOutput, match="state.pt does not match its sha256"):
        TrainState(root, fingerprint(cfg, stage="sft", seed=0), every=2).load()


def test_rl_resumed_after_a_kill_equals_an_uninterrupted_run(tmp_path, small_cfg, tiny_tok, teacher_episodes,
                                                              monkeypatch):
    import bao.rl.train
    from bao.policy.model import save_policy
    from bao.rl.train import train as rl_train

    # a barely trained policy fails every rollout alike (zero advantages, no update); fixed alternating
    # advantages make every step move the weights, so the optimizer state has to be restored exactly
    monkeypatch.setattr(bao.rl.train, "group_zscores", lambda scores, ids, scale: [(-1.0) ** i for i in range(len(ids))])

    model, _, _ = sft_train(_sft_cfg(small_cfg, steps=8), _rows(teacher_episodes), tiny_tok, 0, progress=False)
    save_policy(model, tiny_tok, tmp_path / "sft")
    init = str(tmp_path / "sft")
    cfg = dataclasses.replace(small_cfg, rl=dataclasses.replace(
        RLConfig(), steps=3, tasks_per_step=2, group_size=2, num_minibatches=2, max_new_tokens=32,
        max_episode_tokens=96, val_tasks=2, val_every=1, lr=1e-3))
    fp = fingerprint(cfg, stage="rl", seed=0)
    drop = ("time/rollout_s", "time/step_s")

    def clean(curve):
        return [{k: v for k, v in r.items() if k not in drop} for r in curve]

    ref, _, ref_curve, _ = rl_train(cfg, "bao", init, 0, progress=False)
    root = tmp_path / "state"
    with pytest.raises(Killed):
        rl_train(cfg, "bao", init, 0, progress=False, state=KilledAfter(root, fp, every=1, kill_at=1))
    log = tmp_path / "curve.jsonl"
    resumed, _, curve, _ = rl_train(cfg, "bao", init, 0, progress=False, log_path=log,
                                    state=TrainState(root, fp, every=1))
    assert _hash(ref) != _hash(model)  # the updates moved the weights, so the optimizer state mattered
    assert _hash(resumed) == _hash(ref)
    assert clean(curve) == clean(ref_curve)
    assert clean(read_jsonl(log)) == clean(ref_curve)  # the log holds the steps from before the kill too


def test_the_default_state_sits_beside_the_checkpoint_and_none_turns_it_off(tmp_path):
    assert state_dir(None, tmp_path / "seed0" / "ckpt") == tmp_path / "seed0" / ".ckpt.state"
    assert state_dir("none", tmp_path / "ckpt") is None
    assert not TrainState(None, "x", every=2).due(2, 10)
    assert [s for s in range(1, 11) if TrainState(tmp_path, "x", every=4).due(s, 10)] == [4, 8]


def test_sft_cli_killed_by_sigkill_resumes_and_writes_the_same_checkpoint(tmp_path, small_cfg, tiny_tok,
                                                                           teacher_episodes):
    """The real thing: SIGKILL right after the state of step 4 is saved, rerun the same command, compare."""
    cfg = dataclasses.replace(_sft_cfg(small_cfg), resume=dataclasses.replace(small_cfg.resume, sft_every=2))
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg.to_dict()))
    tiny_tok.save_pretrained(tmp_path / "tok")
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _rows(teacher_episodes)))

    def run(out, kill=None):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        env.pop("BAO_KILL_AFTER_SAVE", None)
        if kill is not None:
            env["BAO_KILL_AFTER_SAVE"] = str(kill)
        return subprocess.run([sys.executable, "-m", "bao.sft.train", "--config", str(tmp_path / "cfg.yaml"),
                               "--teacher-data", str(tmp_path / "data.jsonl"), "--tokenizer", str(tmp_path / "tok"),
                               "--seed", "0", "--out", str(out / "ckpt"), "--metrics", str(out / "metrics.json")],
                              env=env, capture_output=True, text=True, timeout=600)

    ref = run(tmp_path / "ref")
    assert ref.returncode == 0, ref.stderr
    killed = run(tmp_path / "run", kill=4)
    assert killed.returncode == -9, killed.stderr  # SIGKILL: no checkpoint, no metrics, a saved state
    assert not (tmp_path / "run" / "ckpt").exists() and not (tmp_path / "run" / "metrics.json").exists()
    assert (tmp_path / "run" / ".ckpt.state" / POINTER).exists()
    again = run(tmp_path / "run")
    assert again.returncode == 0, again.stderr
    assert "resumed at step 4" in again.stdout
    assert sha256_file(tmp_path / "run" / "ckpt" / "model.safetensors") == \
        sha256_file(tmp_path / "ref" / "ckpt" / "model.safetensors")
    assert not (tmp_path / "run" / ".ckpt.state").exists()  # cleaned up once the job finished
    a, b = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("ref", "run"))
    assert a["curve"] == b["curve"] and a["final_loss"] == b["final_loss"]
    # the metrics name the inputs and the weights by content (what tells input drift from float drift)
    assert a["inputs_sha256"] == b["inputs_sha256"] == {
        "teacher_data": sha256_file(tmp_path / "data.jsonl"), "tokenizer": sha256_file(tmp_path / "tok/tokenizer.json")}
    assert a["weights_sha256"] == b["weights_sha256"] == sha256_state(
        load_file(tmp_path / "run" / "ckpt" / "model.safetensors"))


def test_the_fingerprint_follows_input_content_not_paths(tmp_path, small_cfg):
    """A checkpoint retrained (or data regenerated) at the same path must not match a state saved before."""
    from bao.io import atomic_dir

    data = tmp_path / "data.jsonl"
    data.write_text("a\n")
    with atomic_dir(tmp_path / "ckpt") as d:
        (d / "model.safetensors").write_bytes(b"v1")
    first = fingerprint(small_cfg, inputs=(data, tmp_path / "ckpt"), stage="rl", seed=0)
    assert fingerprint(small_cfg, inputs=(data, tmp_path / "ckpt"), stage="rl", seed=0) == first
    with atomic_dir(tmp_path / "ckpt") as d:
        (d / "model.safetensors").write_bytes(b"v2")
    assert fingerprint(small_cfg, inputs=(data, tmp_path / "ckpt"), stage="rl", seed=0) != first
    data.write_text("b\n")
    assert fingerprint(small_cfg, inputs=(data,), stage="rl", seed=0) != fingerprint(
        small_cfg, inputs=(tmp_path / "ckpt",), stage="rl", seed=0)
