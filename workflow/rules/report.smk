# Report: tables (Markdown/CSV + flat summary.json for DVC) and figures (PNG + the CSV behind each), per gym.

ALL_EVAL = [f for g in GYM_NAMES for f in eval_metrics(g)]


PAPER_TABLES = ["main", "ablation", "paper_vs_ours", "behavior"]


# tables: per-gym summaries (mean ± std over seeds, every split) and the paper-style tables with 95% paired-
# bootstrap intervals (main, ablation, paper vs ours), as Markdown, CSV and LaTeX
# ---------------------------------------------------------------------------------------------------------
rule aggregate:
    input:
        ALL_EVAL,
        reported="data/paper/reported.csv",
    output:
        md=[f"{R}/tables/{g}_summary.md" for g in GYM_NAMES],
        csv=[f"{R}/tables/{g}_summary.csv" for g in GYM_NAMES],
        paper=[f"{R}/tables/{t}.{ext}" for t in PAPER_TABLES for ext in ("md", "csv", "tex")],
        summary=f"{R}/summary.json",
    params:
        cfg=RESOLVED,
        # the cluster bootstrap rebuilds each gym's test tasks to label them
        sections=[CFG.seed, sec("methods"), sec("ablation"), CFG.eval.n_boot, CFG.eval.bootstrap,
                  CFG.eval.min_valid_share]
        + [gym_sec(g) for g in GYM_NAMES],
        gyms=GYM_NAMES,
        splits=[f"{g}:{sp}" for g in GYM_NAMES for sp in SPLITS[g]],
        runs=[f"{g}/{r}" for g in GYM_NAMES for r in runs_for(g)],
    log:
        f"{R}/logs/aggregate.log",
    benchmark:
        f"{R}/benchmarks/aggregate.tsv"
    shell:
        "{PY} -m bao.eval.aggregate --results {R} --gyms {params.gyms} --splits {params.splits}"
        " --runs {params.runs} --tables {R}/tables --summary {output.summary} --config {params.cfg}"
        " --reported {input.reported} > {log} 2>&1"


# Pass@U-k Pareto frontier (BAO's main figure)
# --------------------------------------------
rule pareto_figure:
    input:
        lambda w: eval_metrics(w.gym, w.split, main_only=True),
    output:
        png=f"{R}/figures/pareto_{{gym}}_{{split}}.png",
        csv=f"{R}/figures/pareto_{{gym}}_{{split}}.csv",
    params:
        runs=lambda w: runs_for(w.gym, main_only=True),
        boot=f"--n-boot {CFG.eval.n_boot} --seed {CFG.seed} --config {RESOLVED}",
        prefix=lambda w: f"{R}/figures/pareto_{w.gym}_{w.split}",
    log:
        f"{R}/logs/pareto_figure/{{gym}}_{{split}}.log",
    shell:
        "{PY} -m bao.plots.pareto --eval-root {R}/eval/{wildcards.gym} --gym {wildcards.gym}"
        " --runs {params.runs} --split {wildcards.split} {params.boot} --out {params.prefix}"
        " > {log} 2>&1"


# RL training curves: reward, UR, turns, penalty firing, clip fraction, entropy per step
# ------------------------------------------------------------------------------------
rule rl_curves:
    input:
        lambda w: [f"{R}/rl/{w.gym}/{m}/seed{s}/curve.jsonl" for m in main_methods() for s in CFG.seeds_for(m)],
    output:
        png=f"{R}/figures/rl_curves_{{gym}}.png",
        csv=f"{R}/figures/rl_curves_{{gym}}.csv",
    params:
        runs=[f"{m}:{s}" for m in main_methods() for s in CFG.seeds_for(m)],
        prefix=lambda w: f"{R}/figures/rl_curves_{w.gym}",
    log:
        f"{R}/logs/rl_curves/{{gym}}.log",
    shell:
        "{PY} -m bao.plots.curves --rl-root {R}/rl/{wildcards.gym} --runs {params.runs}"
        " --out {params.prefix} > {log} 2>&1"


# explicit reweighting vs BAO in (UR, Score) space, with each frontier's hypervolume (ablation gyms)
# ---------------------------------------------------------------------------------------------------
def sweep_set():
    """<method>=<w> of the reweighting frontier: w = 0 is BAO without regularizers, then the sweep."""
    zero = ["bao_no_reg=0"] if "bao_no_reg" in CFG.methods else []
    return zero + [f"{m}={c.reweight_w:g}" for m, c in CFG.methods.items() if c.group == "sweep"]


def sweep_pairs(gym):
    """(method, seed) drawn by the sweep figure: the reweighting set and the references."""
    names = {s.split("=")[0] for s in sweep_set()} | {"bao", "userrl_grpo", "sft"}
    return [(m, s) for m, s in run_pairs(gym) if m in names]


rule sweep_figure:
    input:
        lambda w: [f"{R}/eval/{w.gym}/{m}/seed{s}/test/metrics.json" for m, s in sweep_pairs(w.gym)],
    output:
        png=f"{R}/figures/reweighting_{{gym}}.png",
        csv=f"{R}/figures/reweighting_{{gym}}.csv",
        hv=f"{R}/figures/reweighting_{{gym}}_hypervolume.csv",
    params:
        runs=lambda w: [f"{m}:{s}" for m, s in sweep_pairs(w.gym)],
        sweep=sweep_set(),
        boot=f"--n-boot {CFG.eval.n_boot} --seed {CFG.seed} --config {RESOLVED}",
        prefix=lambda w: f"{R}/figures/reweighting_{w.gym}",
    log:
        f"{R}/logs/sweep_figure/{{gym}}.log",
    shell:
        "{PY} -m bao.plots.sweep --eval-root {R}/eval/{wildcards.gym} --gym {wildcards.gym} --runs {params.runs}"
        " --sweep {params.sweep} {params.boot} --out {params.prefix} > {log} 2>&1"


# behaviour: episode length, action mix, end reasons, answer length per method (main methods, test split)
# -------------------------------------------------------------------------------------------------------
rule behavior_figure:
    input:
        lambda w: eval_metrics(w.gym, "test", main_only=True),
    output:
        png=f"{R}/figures/behavior_{{gym}}.png",
        csv=f"{R}/figures/behavior_{{gym}}.csv",
    params:
        runs=lambda w: runs_for(w.gym, main_only=True),
        prefix=lambda w: f"{R}/figures/behavior_{w.gym}",
    log:
        f"{R}/logs/behavior_figure/{{gym}}.log",
    shell:
        "{PY} -m bao.plots.behavior --eval-root {R}/eval/{wildcards.gym} --gym {wildcards.gym}"
        " --runs {params.runs} --split test --out {params.prefix} > {log} 2>&1"


# the report: links every table and figure with one line each, provenance and per-rule wall times
# -----------------------------------------------------------------------------------------------
rule report:
    input:
        report_inputs(),
    output:
        md=f"{R}/report.md",
        html=f"{R}/report.html",
    params:
        cfg=RESOLVED,
    log:
        f"{R}/logs/report.log",
    shell:
        "{PY} -m bao.report --config {params.cfg} --results {R} > {log} 2>&1"


# training reward: each RL method's seeds pooled against their SFT start on the fixed val tasks (sampled reward,
# sampled Pass@U-1 and UR, greedy val score), 95% paired bootstrap over tasks x samples x seeds; DVC metrics
# -------------------------------------------------------------------------------------------------------------
def training_reward_pairs():
    """``gym/method:seeds=start:seeds`` of every RL method of every gym (the table CLI's ``--pairs``)."""
    out = []
    for g in GYM_NAMES:
        for m in CFG.methods_for(g):
            row, starts = training_reward_start(m)
            out.append(f"{g}/{m}:{','.join(map(str, CFG.seeds_for(m)))}={row}:{','.join(map(str, starts))}")
    return out


rule training_reward:
    input:
        training_reward_episodes(),
        curves=[f"{R}/rl/{g}/{m}/seed{s}/curve.jsonl" for g in GYM_NAMES for m in CFG.methods_for(g)
                for s in CFG.seeds_for(m)],
    output:
        md=f"{R}/tables/training_reward.md",
        csv=f"{R}/tables/training_reward.csv",
        metrics=f"{R}/training_reward.json",
    params:
        cfg=RESOLVED,
        sections=[CFG.seed, CFG.eval.n_boot, sec("training_reward")],
        pairs=training_reward_pairs(),
    log:
        f"{R}/logs/training_reward.log",
    benchmark:
        f"{R}/benchmarks/training_reward.tsv"
    shell:
        "{PY} -m bao.eval.training_reward table --config {params.cfg} --results {R} --pairs {params.pairs}"
        " --md {output.md} --csv {output.csv} --json {output.metrics} > {log} 2>&1"
