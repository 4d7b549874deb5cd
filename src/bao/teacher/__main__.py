"""Write a gym's scripted teacher episodes for SFT (successful episodes only) and their statistics.

    python -m bao.teacher --config config/config.yaml --gym function --style enhanced --out data/teacher/function/enhanced.jsonl

``--style enhanced`` writes the behavior-enhanced reasoning into ``<think>``; ``plain`` takes the same actions
with an empty think block. ``teacher.source: llm`` replaces the scripted expert by the chat model in
``teacher.llm`` playing the original training tasks (``bao.teacher.llm_teacher``). Next to the ``.jsonl`` goes ``<name>.stats.json`` (success rate, turns, answers,
provenance).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from bao.config import load_config
    from bao.gyms import GYMS
    from bao.io import write_json, write_jsonl
    from bao.provenance import provenance

    p = argparse.ArgumentParser(prog="python -m bao.teacher", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="pipeline config YAML")
    p.add_argument("--gym", default="function", help="a gym of the config's `gyms:` (function, telepathy)")
    p.add_argument("--style", required=True, choices=["enhanced", "plain"])
    p.add_argument("--out", required=True, help="output .jsonl of teacher episodes")
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    t0 = time.time()
    eps = GYMS.get(a.gym).sft_episodes(cfg, a.style, cfg.teacher.n_episodes, cfg.seed, progress=True)
    kept = [e for e in eps if e.success]
    write_jsonl(a.out, [e.row() for e in kept])
    n = max(1, len(eps))
    stats = {
        "gym": a.gym, "style": a.style, "episodes": len(eps), "kept_successful": len(kept),
        "success_rate": len(kept) / n,
        "mean_turns": sum(len(e.assistant) for e in eps) / n,
        "mean_answers": sum(e.num_answers for e in eps) / n,
        "first_answer_correct": sum(1 for e in eps if e.success and e.num_answers == 1) / n,
        "masked_mistakes": sum(1 for e in eps if e.trained is not None and not all(e.trained)) / n,
        "provenance": provenance(cfg, seed=cfg.seed, wall_time_s=time.time() - t0),
    }
    write_json(Path(a.out).with_suffix(".stats.json"), stats)
    print({k: v for k, v in stats.items() if k != "provenance"})


if __name__ == "__main__":
    from bao.cli import run

    run(main)
