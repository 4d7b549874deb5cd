"""Probe configs: config/config.yaml with only the named rl keys changed (written next to this file)."""
from pathlib import Path

import yaml

VARIANTS = {
    "steps64": {"steps": 64, "val_every": 16},
    "lr1e-4_neg0.25": {"steps": 32, "val_every": 8, "lr": 1.0e-4, "neg_weight": 0.25},
    "lr1e-4_neg0": {"steps": 32, "val_every": 8, "lr": 1.0e-4, "neg_weight": 0.0},
    "mb16": {"steps": 32, "val_every": 8, "num_minibatches": 16},
    "ent-1": {"steps": 32, "val_every": 8, "entropy_coeff": -1.0},
    "ent-0.1": {"steps": 32, "val_every": 8, "entropy_coeff": -0.1},
    "ent-3_16": {"steps": 16, "val_every": 8, "entropy_coeff": -3.0},
}
here = Path(__file__).parent
base = yaml.safe_load(open("config/config.yaml"))
for name, keys in VARIANTS.items():
    cfg = yaml.safe_load(yaml.safe_dump(base))
    cfg["rl"].update(keys)
    (here / f"cfg_{name}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    print(name, keys)
