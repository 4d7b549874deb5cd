"""One table row per probe curve: rollout reward steps 0-7 / 8-15, greedy val after 4/8/12/16 steps, entropy."""
import json
import sys
from pathlib import Path

here = Path(__file__).parent
for curve in sorted(here.glob("*.curve.jsonl")):
    rows = [json.loads(x) for x in curve.read_text().splitlines()]
    r = [x["rollout/score"] for x in rows]
    first, last = r[:8], r[8:16]
    val = [f"{x['val/score']:.3f}" for x in rows if "val/score" in x]
    v0 = rows[0].get("val/score_before")
    sampled = here / curve.name.replace(".curve.jsonl", ".sampled.json")
    s = ""
    if sampled.exists():
        d = json.loads(sampled.read_text())["metrics"]["score"]
        name = [k for k in d if k != "sft"][0]
        dd = d[name]["delta"]
        s = f"{d['sft']['value']:.3f} → {d[name]['value']:.3f}: {dd[0]:+.3f} [{dd[1]:+.3f}, {dd[2]:+.3f}]"
    print(f"| {curve.name.split('.curve')[0]} | {sum(first)/len(first):.3f} / "
          f"{(sum(last)/len(last)) if last else float('nan'):.3f} | {v0} → {' / '.join(val)} | "
          f"{rows[0]['train/entropy']:.3f} / {rows[-1]['train/entropy']:.3f} | {s or '—'} |")
