# Report: tables (Markdown/CSV + flat summary.json for DVC) and figures (PNG + the CSV behind each).

ALL_EVAL = expand(f"{R}/eval/{{m}}/seed{{s}}/{{sp}}/metrics.json", m=EVAL_METHODS, s=SEEDS, sp=SPLITS)


# main table: Score, Pass@U-1, UR per method (mean ± std over seeds)
# -----------------------------------------------------------------
rule aggregate:
    input:
        ALL_EVAL,
    output:
        md=f"{R}/tables/function_summary.md",
        csv=f"{R}/tables/function_summary.csv",
        summary=f"{R}/summary.json",
    params:
        root=f"{R}/eval",
        methods=EVAL_METHODS,
        seeds=SEEDS,
        splits=SPLITS,
        prefix=f"{R}/tables/function_summary",
    log:
        f"{R}/logs/aggregate.log",
    shell:
        "{PY} -m bao.eval.aggregate --eval-root {params.root} --methods {params.methods} --seeds {params.seeds}"
        " --splits {params.splits} --out {params.prefix} --summary {output.summary} > {log} 2>&1"


# Pass@U-k Pareto frontier (BAO's main figure)
# --------------------------------------------
rule pareto_figure:
    input:
        expand(f"{R}/eval/{{m}}/seed{{s}}/{{{{split}}}}/metrics.json", m=EVAL_METHODS, s=SEEDS),
    output:
        png=f"{R}/figures/pareto_function_{{split}}.png",
        csv=f"{R}/figures/pareto_function_{{split}}.csv",
    params:
        root=f"{R}/eval",
        methods=EVAL_METHODS,
        seeds=SEEDS,
        prefix=lambda w: f"{R}/figures/pareto_function_{w.split}",
    log:
        f"{R}/logs/pareto_figure/{{split}}.log",
    shell:
        "{PY} -m bao.plots.pareto --eval-root {params.root} --methods {params.methods} --seeds {params.seeds}"
        " --split {wildcards.split} --out {params.prefix} > {log} 2>&1"


# RL training curves: reward, UR, turns, penalty firing, clip fraction, entropy per step
# ------------------------------------------------------------------------------------
rule rl_curves:
    input:
        expand(f"{R}/rl/{{m}}/seed{{s}}/curve.jsonl", m=METHODS, s=SEEDS),
    output:
        png=f"{R}/figures/rl_curves.png",
        csv=f"{R}/figures/rl_curves.csv",
    params:
        root=f"{R}/rl",
        methods=METHODS,
        seeds=SEEDS,
        prefix=f"{R}/figures/rl_curves",
    log:
        f"{R}/logs/rl_curves.log",
    shell:
        "{PY} -m bao.plots.curves --rl-root {params.root} --methods {params.methods} --seeds {params.seeds}"
        " --out {params.prefix} > {log} 2>&1"
