# Shared helpers: config validation, the resolved config every CLI reads, paths and wildcard constraints.
import os
import sys

import yaml

sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from bao.config import ConfigError, config_from_dict  # noqa: E402

try:
    CFG = config_from_dict(dict(config))
except ConfigError as e:  # one readable line instead of a traceback
    sys.exit(f"Config error: {e}")

R = CFG.results_dir
D = CFG.data_dir
SEEDS = list(CFG.seeds)
METHODS = list(CFG.methods)
EVAL_METHODS = ["sft"] + METHODS
SPLITS = ["test", "test_seen"] + (["faithful"] if CFG.env.faithful_eval else [])
PY = sys.executable

# The merged config (config.yaml + --configfile + --config) is what every CLI reads. It is rewritten only
# when its content changes; rules re-run on changes to the config *sections they use* (listed as params).
RESOLVED = os.path.join(R, "config.resolved.yaml")
_text = yaml.safe_dump(CFG.to_dict(), sort_keys=False)
if not os.path.exists(RESOLVED) or open(RESOLVED).read() != _text:
    os.makedirs(R, exist_ok=True)
    with open(RESOLVED + ".tmp", "w") as f:
        f.write(_text)
    os.replace(RESOLVED + ".tmp", RESOLVED)


wildcard_constraints:
    seed=r"\d+",
    style="enhanced|plain",
    method="|".join(METHODS),
    evalmethod="|".join(EVAL_METHODS),
    split="|".join(SPLITS),


def sec(name):
    """A config section as a plain dict (a rule param, so changing it re-runs the rule)."""
    return CFG.to_dict()[name]


def teacher_of(method):
    return "enhanced" if method == "sft" else CFG.methods[method].teacher


def checkpoint_of(wildcards):
    m, s = wildcards.evalmethod, wildcards.seed
    if m == "sft":
        return f"{R}/sft/enhanced/seed{s}/ckpt"
    return f"{R}/rl/{m}/seed{s}/ckpt"


def final_outputs():
    return [
        f"{D}/teacher/plain.jsonl",
        f"{R}/tables/function_summary.md",
        f"{R}/summary.json",
        f"{R}/figures/pareto_function_test.png",
        f"{R}/figures/pareto_function_test_seen.png",
        f"{R}/figures/rl_curves.png",
    ]
