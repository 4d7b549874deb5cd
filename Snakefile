# bao-repro pipeline: tokenizer -> teacher data -> SFT warm start -> RL (BAO, UserRL-GRPO) -> eval -> tables/figures.
#
#   snakemake --cores all                                  # the embedded default (config/config.yaml)
#   snakemake --cores all --configfile config/smoke.yaml   # tiny end-to-end run (tests, CI)
#   snakemake -n                                           # what would run
#
# All logic lives in src/bao; every rule calls one importable CLI (`python -m bao.<stage> --help`).

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),


# Phase targets: one per DVC stage (`dvc.yaml` runs `snakemake <target> --allowed-rules <its rules>`).
rule data_all:
    input:
        expand(f"{D}/tokenizer/{{g}}", g=GYM_NAMES),
        expand(f"{D}/teacher/{{g}}/{{st}}.jsonl", g=GYM_NAMES, st=["enhanced", "plain"]),


rule sft_all:
    input:
        [f"{R}/sft/{g}/{st}/seed{s}/metrics.json" for g in GYM_NAMES for st in styles_for(g)
         for s in sorted({sft_seed(s) for s in SEEDS})],


rule rl_all:
    input:
        [f for g in GYM_NAMES for f in rl_metrics(g)],


rule eval_all:
    input:
        ALL_EVAL,
        training_reward_episodes(),


rule report_all:
    input:
        final_outputs(),
