# Shared helpers: config validation, the resolved config every CLI reads, paths and wildcard constraints.
import dataclasses
import os
from pathlib import Path
import re
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
from bao.gyms import GYMS  # noqa: E402

GYM_NAMES = list(CFG.gyms)
SEEDS = list(CFG.seeds)
METHODS = list(CFG.methods)
SCRIPTED = list(CFG.eval.scripted)
AGENTS = list(CFG.agents)
SFT_ROWS = {"sft": "enhanced", "sft_plain": "plain"}  # SFT-only rows of the tables: eval method -> teacher
EVAL_METHODS = list(SFT_ROWS) + METHODS + SCRIPTED + AGENTS
SPLITS = {g: GYMS.get(g).eval_splits(CFG) for g in GYM_NAMES}
ALL_SPLITS = sorted({sp for v in SPLITS.values() for sp in v})
PY = sys.executable

# The merged config (config.yaml + --configfile + --config) is what every CLI reads. It is rewritten only
# when its content changes; rules re-run on changes to the config *sections they use* (listed as params).
RESOLVED = os.path.join(R, "config.resolved.yaml")
_text = yaml.safe_dump(CFG.to_dict(), sort_keys=False)
if not os.path.exists(RESOLVED) or open(RESOLVED).read() != _text:
    from bao.io import locked_outputs_under

    _busy = locked_outputs_under(R) if os.path.exists(RESOLVED) else []  # nested trees of other runs excluded
    if _busy:  # a running Snakemake writes here: its jobs still to start would read this config, not theirs
        sys.exit(f"Config error: another Snakemake run is writing {R}/ (e.g. {_busy[0]}) with a different "
                 f"config; wait for it to finish, or give this run its own --config results_dir=... "
                 f"(stale lock after a crash: snakemake --unlock)")
    os.makedirs(R, exist_ok=True)
    with open(RESOLVED + ".tmp", "w") as f:
        f.write(_text)
    os.replace(RESOLVED + ".tmp", RESOLVED)


wildcard_constraints:
    gym="|".join(GYM_NAMES),
    seed=r"\d+",
    style="enhanced|plain",
    method="|".join(map(re.escape, METHODS)),
    evalmethod="|".join(map(re.escape, EVAL_METHODS)),
    split="|".join(ALL_SPLITS),


def sec(name):
    """A config section as a plain dict (a rule param, so changing it re-runs the rule)."""
    return CFG.to_dict()[name]


def gym_sec(gym):
    """A gym's section without ``sft_steps`` (read by the SFT rule alone), for the rules that build its tasks."""
    return {k: v for k, v in sec(gym).items() if k != "sft_steps"}


# RL keys added after runs had been made, each with the value that reproduces the behaviour from before it
# existed. At that value a key is left out of the train_rl params, so adding it re-runs nothing; any other
# value is a param like the rest (``tasks: embedded`` is described by the gym's own section, already a param).
RL_LATE_KEYS = {"tasks": "embedded", "truncated": "keep", "kl_coef": 0.0, "adv_norm": "std", "clip_eps_high": None,
                "optimizer": "adamw", "backend": "native", "neg_weight": 1.0, "entropy_coeff": 0.0,
                "bf16": False, "gradient_checkpointing": False, "processes": 1,
                "replay_first_quarter": False}


def rl_sec():
    """The RL section, without the late keys that sit at their original behaviour (``RL_LATE_KEYS``)."""
    return {k: v for k, v in sec("rl").items() if k not in RL_LATE_KEYS or RL_LATE_KEYS[k] != v}


def method_sec(method):
    """An RL method's recipe without ``group`` (which only routes it to gyms and seeds)."""
    return {k: v for k, v in sec("methods")[method].items() if k != "group"}


def teacher_sec():
    """The teacher keys that shape the data: the LLM teacher's settings only when it is the source."""
    t = sec("teacher")
    if t.get("think") == "full":  # the original form: absent, so data made before the key existed stays current
        t = {k: v for k, v in t.items() if k != "think"}
    return t if t["source"] == "llm" else {k: v for k, v in t.items() if k not in ("source", "llm")}


def teacher_of(method):
    return SFT_ROWS[method] if method in SFT_ROWS else CFG.methods[method].teacher


def styles_for(gym):
    """Teacher styles whose SFT checkpoint a gym needs (enhanced always; plain when an RL method starts from it)."""
    return ["enhanced"] + (["plain"] if any(teacher_of(m) == "plain" for m in CFG.methods_for(gym)) else [])


def eval_methods_for(gym):
    """Rows of a gym's tables: the SFT-only checkpoints, its RL methods, scripted policies and chat agents."""
    return [f"sft_{st}" if st == "plain" else "sft" for st in styles_for(gym)] + CFG.methods_for(gym) + SCRIPTED + AGENTS


def sft_seed(seed):
    """The SFT checkpoint an RL seed starts from (``sft.shared``: the first seed's, for every seed)."""
    return SEEDS[0] if CFG.sft.shared else int(seed)


def method_seeds(method):
    """Seeds a method is evaluated with: one for a shared SFT checkpoint and for deterministic scripted policies
    and chat agents (temperature 0); an RL method's own seeds (all for main methods, fewer for ablations)."""
    if method in SCRIPTED or method in AGENTS:
        return SEEDS[:1]
    if method in SFT_ROWS:
        return SEEDS[:1] if CFG.sft.shared else SEEDS
    return CFG.seeds_for(method)


def run_pairs(gym, main_only=False):
    """(method, seed) of every evaluated run of a gym; ``main_only`` leaves out the ablations and the sweep."""
    return [(m, s) for m in eval_methods_for(gym)
            if not main_only or m not in CFG.methods or CFG.methods[m].group == "main" for s in method_seeds(m)]


def runs_for(gym, main_only=False):
    """``method:seed`` of a gym's runs, as the tables' and figures' CLIs take them (``--runs``)."""
    return [f"{m}:{s}" for m, s in run_pairs(gym, main_only)]


def checkpoint_of(wildcards):
    g, m, s = wildcards.gym, wildcards.evalmethod, wildcards.seed
    if m in SCRIPTED or m in AGENTS:
        return []
    if m in SFT_ROWS:
        return f"{R}/sft/{g}/{SFT_ROWS[m]}/seed{s}/ckpt"
    return f"{R}/rl/{g}/{m}/seed{s}/ckpt"


def _local_model(chat_cfg):
    """A local (hf) chat model's directory when a rule prepares it (data/models/<name>) or it exists, else none."""
    ok = chat_cfg.kind == "hf" and (chat_cfg.model.startswith("data/models/") or Path(chat_cfg.model).exists())
    return [chat_cfg.model] if ok else []


def llm_models_of(wildcards):
    """The local chat models an evaluation runs: the agent (when it is one) and the faithful gym's LLM user."""
    out = _local_model(CFG.agents[wildcards.evalmethod]) if wildcards.evalmethod in AGENTS else []
    if wildcards.split == "faithful" and wildcards.gym != "function":
        out += [m for m in _local_model(CFG.users.eval) if m not in out]
    return out


def policy_arg(wildcards, input):
    """The eval CLI's policy argument: a checkpoint, or a scripted policy's name."""
    if wildcards.evalmethod in SCRIPTED:
        return f"--policy {wildcards.evalmethod}"
    if wildcards.evalmethod in AGENTS:
        return f"--agent {wildcards.evalmethod}"
    return f"--checkpoint {input.ckpt}"


def eval_sections(wildcards):
    """Config an evaluation reads: eval, its gym, data; the LLM user for faithful LLM-judged splits; the agent."""
    out = [{k: v for k, v in sec("eval").items() if k not in ("n_boot", "bootstrap", "min_valid_share")}, gym_sec(wildcards.gym),
           sec("data")]
    # ``workers`` (episodes in flight) does not change the episodes: not a param
    if wildcards.split == "faithful" and wildcards.gym != "function":
        out.append({k: v for k, v in sec("users")["eval"].items() if k != "workers"})
    if wildcards.evalmethod in AGENTS:
        out.append({k: v for k, v in sec("agents")[wildcards.evalmethod].items() if k != "workers"})
    return out


def eval_metrics(gym, split=None, main_only=False):
    """The eval metrics.json of a gym's runs (of one split when given; main runs only when asked)."""
    splits = SPLITS[gym] if split is None else [split]
    return [f"{R}/eval/{gym}/{m}/seed{s}/{sp}/metrics.json" for m, s in run_pairs(gym, main_only) for sp in splits]


def rl_metrics(gym):
    """Every RL run's metrics.json of a gym."""
    return [f"{R}/rl/{gym}/{m}/seed{s}/metrics.json" for m in CFG.methods_for(gym) for s in CFG.seeds_for(m)]


def main_methods():
    return [m for m, c in CFG.methods.items() if c.group == "main"]


def final_outputs():
    """Everything `snakemake` builds by default, the report last (it links the rest)."""
    return report_inputs() + [f"{R}/report.md", f"{R}/report.html"]


def report_inputs():
    out = [f"{R}/summary.json", f"{R}/tables/training_reward.md", f"{R}/training_reward.json"]
    for g in GYM_NAMES:
        out += [f"{D}/teacher/{g}/plain.jsonl", f"{R}/tables/{g}_summary.md", f"{R}/figures/rl_curves_{g}.png"]
        out += [f"{R}/figures/pareto_{g}_{sp}.png" for sp in SPLITS[g] if sp != "faithful"]
        out.append(f"{R}/figures/behavior_{g}.png")
        if g in CFG.ablation.gyms:
            out.append(f"{R}/figures/reweighting_{g}.png")
    return out
