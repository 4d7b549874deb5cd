"""Config files load, spell out every key, and bad input fails with one message naming the key."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from bao.config import Config, ConfigError, config_from_dict, load_config

ROOT = Path(__file__).resolve().parents[2]


def _keys(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_default_config_loads_and_spells_out_every_key():
    raw = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert set(raw) == _keys(Config)
    cfg = load_config(ROOT / "config/config.yaml")
    for section in ("data", "function", "telepathy", "turtle", "teacher", "model", "sft", "rl", "eval", "ablation",
                    "training_reward"):
        assert set(raw[section]) == _keys(type(getattr(cfg, section))), section
    assert set(cfg.methods) >= {"bao", "userrl_grpo"}


def test_bao_and_baseline_recipes_match_the_definitions():
    cfg = load_config(ROOT / "config/config.yaml")
    bao, base = cfg.methods["bao"], cfg.methods["userrl_grpo"]
    assert (bao.shaping, bao.credit, bao.score) == ("bao", "r2g", "sum")
    assert (base.shaping, base.credit, base.score) == ("none", "equalized", "r2g")
    assert bao.teacher == base.teacher == "enhanced"
    assert (cfg.rl.gamma, cfg.rl.c_rep, cfg.rl.c_len, cfg.function.t_pen, cfg.rl.clip_eps) == (0.8, 0.005, 0.05, 15, 0.2)
    assert (cfg.function.horizon, cfg.telepathy.horizon, cfg.telepathy.t_pen) == (16, 12, 12)


def test_smoke_config_merges_over_default():
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    merged = {**base, **{k: ({**base[k], **v} if isinstance(v, dict) else v) for k, v in smoke.items()}}
    cfg = config_from_dict(merged)
    assert cfg.rl.steps <= 3 and cfg.seeds == [0]


def test_full_config_runs_everything_on_three_seeds():
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    full = yaml.safe_load((ROOT / "config/full.yaml").read_text())
    merged = {**base, **{k: ({**base[k], **v} if isinstance(v, dict) else v) for k, v in full.items()}}
    cfg = config_from_dict(merged)
    assert cfg.seeds == [0, 1, 2] and cfg.ablation.seeds == 3
    assert all(cfg.seeds_for(m) == [0, 1, 2] for m in cfg.methods)


def test_method_groups_route_ablations_and_the_reweighting_sweep():
    cfg = config_from_dict(yaml.safe_load("""
seeds: [0, 1, 2]
gyms: [function, telepathy]
ablation: {gyms: [function], seeds: 1, reweight_w: [0.05, 0.2]}
methods:
  bao: {group: main}
  bao_no_info: {shaping: bao_no_info, group: ablation}
"""))
    assert list(cfg.methods) == ["bao", "bao_no_info", "reweight_w0.05", "reweight_w0.2"]
    w = cfg.methods["reweight_w0.2"]
    assert (w.shaping, w.credit, w.score, w.teacher, w.reweight_w, w.group) == ("reweight", "r2g", "sum", "enhanced",
                                                                                0.2, "sweep")
    assert cfg.methods_for("function") == list(cfg.methods)
    assert cfg.methods_for("telepathy") == ["bao"]
    assert cfg.seeds_for("bao") == [0, 1, 2] and cfg.seeds_for("reweight_w0.05") == [0]
    again = config_from_dict(cfg.to_dict())  # the resolved config round-trips (the sweep is not doubled)
    assert again.to_dict() == cfg.to_dict()


def test_exponent_without_dot_is_a_number():
    """YAML 1.1 reads ``1e-5`` as a string; the config accepts it as the float that was meant."""
    cfg = config_from_dict(yaml.safe_load("rl: {lr: 1e-5, c_len: 5E-2}"))
    assert (cfg.rl.lr, cfg.rl.c_len) == (1e-5, 0.05)


@pytest.mark.parametrize("raw, fragment", [
    ({"rl": {"lr": "fast"}}, "rl.lr: expected a number"),
    ({"rl": {"stepz": 3}}, "rl.stepz: unknown key"),
    ({"sft": {"steps": 1.5}}, "sft.steps: expected an integer"),
    ({"function": {"faithful_eval": "yes"}}, "function.faithful_eval: expected true/false"),
    ({"gyms": ["function", "chess"]}, "gyms: expected a non-empty list of distinct names"),
    ({"gyms": []}, "gyms: expected a non-empty list"),
    ({"eval": {"min_valid_share": 1.5}}, "eval.min_valid_share: a share in [0, 1]"),
    ({"telepathy": {"attributes": ["size", "smell"]}}, "telepathy.attributes/values_per_attribute"),
    ({"telepathy": {"values_per_attribute": 1}}, "telepathy.attributes/values_per_attribute"),
    ({"methods": {"x": {"shaping": "nope"}}}, "methods.x.shaping: unknown reward shaping"),
    ({"rl": {"group_size": 1}}, "rl.group_size"),
    ({"eval": {"on_long_prompt": "truncate"}}, "eval.on_long_prompt"),
    ({"bogus": 1}, "bogus: unknown key"),
    ({"methods": {"x": {"group": "extra"}}}, "methods.x.group"),
    ({"methods": {"Bad Name": {}}}, "methods.Bad Name: method names"),
    ({"ablation": {"gyms": ["chess"]}}, "ablation.gyms"),
    ({"ablation": {"seeds": 0}}, "ablation.seeds"),
    ({"ablation": {"reweight_w": [-1]}}, "ablation.reweight_w"),
    ({"rl": {"failed_rule": "sometimes"}}, "rl.failed_rule"),
    ({"rl": {"optimizer": "lion"}}, "rl.optimizer: expected 'adamw' or 'sgd'"),
    ({"rl": {"backend": "verl"}}, "rl.backend: expected 'native' or 'trl'"),
    ({"rl": {"processes": 2}}, "rl.processes: 2 processes need rl.backend: trl"),
    ({"rl": {"processes": 0, "backend": "trl"}}, "rl.processes: expected an integer >= 1"),
    ({"rl": {"processes": 4, "backend": "trl"}}, "rl.processes: a minibatch of 6 rollouts"),
    ({"resume": {"sft_every": -1}}, "resume.sft_every: expected an integer >= 0"),
    ({"teacher": {"source": "oracle"}}, "teacher.source"),
    ({"teacher": {"think": "terse"}}, "teacher.think: expected 'full' or 'compact'"),
    ({"teacher": {"mistake_prob": 1.5}}, "teacher.mistake_prob: expected a probability"),
    ({"rl": {"neg_weight": 2.0}}, "rl.neg_weight: expected a factor in [0, 1]"),
    ({"rl": {"entropy_coeff": float("nan")}}, "rl.entropy_coeff: expected a finite number"),
    ({"rl": {"bf16": True}}, "rl.bf16: needs rl.backend: trl"),
    ({"teacher": {"source": "llm"}}, "teacher.llm.kind"),
    ({"training_reward": {"samples": 0}}, "training_reward: expected integer tasks, samples"),
    ({"training_reward": {"per_gym": {"function": {"task": 5}}}}, "training_reward.per_gym.function: expected a"),
    ({"training_reward": {"per_gym": {"turtle": {"tasks": 201}}}}, "training_reward.per_gym.turtle: expected"),
    ({"training_reward": {"tasks": 300, "greedy_tasks": 200}}, "tasks <= greedy_tasks"),
    ({"training_reward": {"tasks": "many"}}, "training_reward.tasks: expected an integer"),
])
def test_bad_config_names_the_key(raw, fragment):
    with pytest.raises(ConfigError) as e:
        config_from_dict(raw)
    assert fragment in str(e.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rl: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_snakemake_reports_bad_config_in_one_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("rl:\n  lr: fast\n")
    snakemake = Path(sys.executable).parent / "snakemake"
    r = subprocess.run([str(snakemake), "-n", "--configfile", str(bad)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0
    assert "Config error: rl.lr: expected a number" in r.stdout + r.stderr


def test_a_number_written_as_text_is_read_as_the_text_that_matched():
    """YAML 1.1 reads 1e-5 as a string; the loader accepts it, and parses exactly what its pattern matched (the
    10k-input fuzz found "\x1e4": str.strip drops \x1e, float() does not, which raised a bare ValueError)."""
    assert config_from_dict({"rl": {"lr": "1e-5"}}).rl.lr == 1e-5
    assert config_from_dict({"rl": {"lr": "\x1e4"}}).rl.lr == 4.0
