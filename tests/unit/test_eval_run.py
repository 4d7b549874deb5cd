"""The eval CLI: greedy by default; sampled evaluation plays every task --samples times."""

import pytest

from bao.eval.run import evaluate, main
from bao.policy.model import save_policy


def test_sampled_evaluation_plays_each_task_k_times(tmp_path, small_cfg, tiny_model, tiny_tok):
    save_policy(tiny_model, tiny_tok, tmp_path / "ckpt")
    eps = evaluate(small_cfg, str(tmp_path / "ckpt"), "val", progress=False, temperature=1.0, samples=3, seed=0)
    n = small_cfg.function.n_test_tasks
    assert len(eps) == 3 * n
    assert [e.sample for e in eps[:3]] == [0, 1, 2] and len({e.task_id for e in eps[:3]}) == 1
    again = evaluate(small_cfg, str(tmp_path / "ckpt"), "val", progress=False, temperature=1.0, samples=3, seed=0)
    assert [e.to_dict() for e in again] == [e.to_dict() for e in eps]  # same seed, same sampled episodes


def test_samples_without_temperature_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--config", "x.yaml", "--checkpoint", "c", "--split", "val", "--method", "m", "--seed", "0",
              "--out-dir", "o", "--samples", "2"])
    assert "--samples > 1 needs --temperature > 0" in capsys.readouterr().err
