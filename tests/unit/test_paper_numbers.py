"""The paper's reported numbers are data with a source and a status on every row, and match their test-set
size as exact fractions where papers.md says they do."""

from pathlib import Path

import pandas as pd

CSV = Path(__file__).resolve().parents[2] / "data/paper/reported.csv"


def test_every_row_has_a_source_and_a_status():
    df = pd.read_csv(CSV)
    assert list(df.columns) == ["paper", "gym", "model", "metric", "method", "value", "n_tasks", "source", "status"]
    assert df.source.str.len().min() > 10 and set(df.status) <= {"secondary, unverified", "paper table"}
    assert set(df.gym) <= {"function", "telepathy", "turtle"} and df.value.between(0, 1).all()


def test_bao_function_numbers_are_fractions_of_78():
    df = pd.read_csv(CSV)
    fn = df[(df.paper == "BAO") & (df.gym == "function") & (df.metric.isin(["score", "pass_at_u/1"]))]
    assert len(fn) == 5
    for v in fn.value:
        assert abs(v * 78 - round(v * 78)) < 0.01, v
