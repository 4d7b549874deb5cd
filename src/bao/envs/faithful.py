"""Loader for the original UserRL Function-Gym tasks (rules from ``functions.json``, prompts from the parquets).

Task order and ids follow the verl parquet (``function_multiturn/{train,test}.parquet``, 460 / 78 rows);
the rule, test case and expected result come from ``FunctionGym/functions.json`` by id. The conversation
is the parquet's ``prompt`` (system + user message), converted from numpy objects to plain Python.
"""

from __future__ import annotations

import json
from pathlib import Path

from bao.io import MissingInput
from bao.envs.base import Task

SPLITS = ("train", "test")


def _require(path: Path) -> Path:
    if not path.exists():
        raise MissingInput(
            f"{path} not found: the Function-Gym tasks come from the UserRL data "
            "(SalesforceAIResearch/UserRL); point config key `data.userrl_dir` at its copy")
    return path


def load_original_tasks(data_dir: str | Path, split: str) -> list[Task]:
    """The original Function-Gym tasks of ``split`` ('train' | 'test'), in parquet order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    import pandas as pd  # heavy import, only needed here

    data_dir = _require(Path(data_dir))
    functions_path = _require(data_dir / "FunctionGym" / "functions.json")
    parquet_path = _require(data_dir / "parquet" / "function_multiturn" / f"{split}.parquet")
    functions = {f["id"]: f for f in json.loads(functions_path.read_text())}
    tasks = []
    for row in pd.read_parquet(parquet_path).itertuples(index=False):
        task_id = str(row.reward_model["id"])
        f = functions.get(task_id)
        if f is None:
            raise KeyError(f"{parquet_path}: task {task_id!r} is not in {functions_path}")
        messages = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in row.prompt)
        tasks.append(Task(task_id=task_id, rule=f["rule"], test_case=tuple(int(x) for x in f["test_case"]),
                          expected=float(f["expected_result"]), messages=messages, split=split,
                          meta={"source": "userrl", "ground_truth": str(row.reward_model["ground_truth"])}))
    return tasks
