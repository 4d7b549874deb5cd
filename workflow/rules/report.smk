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
    log:
        f"{R}/logs/aggregate.log",
    shell:
        "{PY} -m bao.eval.aggregate --eval-root {R}/eval --methods {EVAL_METHODS} --seeds {SEEDS}"
        " --splits {SPLITS} --out {R}/tables/function_summary --summary {output.summary} > {log} 2>&1"


# Pass@U-k Pareto frontier (BAO's main figure)
# --------------------------------------------
rule pareto_figure:
    input:
        expand(f"{R}/eval/{{m}}/seed{{s}}/{{{{split}}}}/metrics.json", m=EVAL_METHODS, s=SEEDS),
    output:
        png=f"{R}/figures/pareto_function_{{split}}.png",
        csv=f"{R}/figures/pareto_function_{{split}}.csv",
    log:
        f"{R}/logs/pareto_figure/{{split}}.log",
    shell:
        "{PY} -m bao.plots.pareto --eval-root {R}/eval --methods {EVAL_METHODS} --seeds {SEEDS}"
        " --split {wildcards.split} --out {R}/figures/pareto_function_{wildcards.split} > {log} 2>&1"


# RL training curves: reward, UR, turns, penalty firing, clip fraction, entropy per step
# ------------------------------------------------------------------------------------
rule rl_curves:
    input:
        expand(f"{R}/rl/{{m}}/seed{{s}}/curve.jsonl", m=METHODS, s=SEEDS),
    output:
        png=f"{R}/figures/rl_curves.png",
        csv=f"{R}/figures/rl_curves.csv",
    log:
        f"{R}/logs/rl_curves.log",
    shell:
        "{PY} -m bao.plots.curves --rl-root {R}/rl --methods {METHODS} --seeds {SEEDS}"
        " --out {R}/figures/rl_curves > {log} 2>&1"
