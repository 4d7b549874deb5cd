"""Shared fixtures: the UserRL data directory (tests skip when absent), a tiny tokenizer and model.

Markers: ``slow`` (excluded unless RUN_SLOW=1), ``smoke`` (end-to-end pipeline on config/smoke.yaml).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow test: set RUN_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def userrl_dir() -> Path:
    d = Path(os.environ.get("BAO_USERRL_DIR", ROOT.parent / "shared" / "userrl"))
    if not (d / "FunctionGym" / "functions.json").exists():
        pytest.skip(f"UserRL data not found at {d} (set BAO_USERRL_DIR to the directory holding FunctionGym/)")
    return d


@pytest.fixture(scope="session")
def small_cfg():
    """The default config with tiny sizes for unit tests."""
    import dataclasses

    from bao.config import Config, FunctionConfig, ModelConfig, TeacherConfig

    cfg = Config()
    return dataclasses.replace(
        cfg,
        function=dataclasses.replace(FunctionConfig(), n_train_tasks=32, n_test_tasks=4),
        teacher=dataclasses.replace(TeacherConfig(), n_episodes=16),
        model=dataclasses.replace(ModelConfig(), vocab_size=400, hidden_size=32, num_layers=2, num_heads=2,
                                  num_kv_heads=1, intermediate_size=64, context_length=2048),
    )


@pytest.fixture(scope="session")
def teacher_episodes(small_cfg):
    from bao.teacher.function_teacher import generate

    return generate(small_cfg, "enhanced", 24, seed=3)


@pytest.fixture(scope="session")
def tiny_tok(small_cfg):
    from bao.policy.tokenizer import train_tokenizer
    from bao.teacher import sample_corpus

    return train_tokenizer(sample_corpus(small_cfg, 0, n=40), small_cfg.model.vocab_size)


@pytest.fixture()
def tiny_model(small_cfg, tiny_tok):
    from bao.policy.model import build_tiny_qwen3

    return build_tiny_qwen3(small_cfg.model, tiny_tok, seed=0)
