"""Probe configs: the default's resolved config with only the named rl keys changed (written next to this file)."""
import sys
from pathlib import Path

import yaml

VARIANTS = {
    "default": {},
    "lr1e-4_drgrpo": {"lr": 1.0e-4, "adv_norm": "none"},
    "lr5e-5": {"lr": 5.0e-5},
    "tasks12_group4": {"tasks_per_step": 12, "group_size": 4},
    "sgd_lr0.03": {"optimizer": "sgd", "lr": 0.03},
    "sgd_lr0.06": {"optimizer": "sgd", "lr": 0.06},
    "sgd_lr0.1": {"optimizer": "sgd", "lr": 0.1},
    "sgd_lr0.3": {"optimizer": "sgd", "lr": 0.3},
    "sgd_lr1": {"optimizer": "sgd", "lr": 1.0},
    "sgd_lr3": {"optimizer": "sgd", "lr": 3.0},
    "mb1_lr3e-4": {"num_minibatches": 1, "lr": 3e-4},
}
here = Path(__file__).parent
base = yaml.safe_load(open(sys.argv[1] if len(sys.argv) > 1 else "results/config.resolved.yaml"))
for name, keys in VARIANTS.items():
    cfg = yaml.safe_load(yaml.safe_dump(base))
    cfg["rl"].update(keys)
    (here / f"cfg_{name}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    print(name, keys)
