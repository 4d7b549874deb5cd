# Evaluation: greedy episodes of every method x seed x split (and of the scripted reference policies).


rule evaluate:
    input:
        ckpt=checkpoint_of,
    output:
        metrics=f"{R}/eval/{{gym}}/{{evalmethod}}/seed{{seed}}/{{split}}/metrics.json",
        episodes=f"{R}/eval/{{gym}}/{{evalmethod}}/seed{{seed}}/{{split}}/episodes.jsonl",
    params:
        cfg=RESOLVED,
        sections=eval_sections,
        out=lambda w, output: os.path.dirname(output.metrics),
        policy=policy_arg,
    log:
        f"{R}/logs/evaluate/{{gym}}_{{evalmethod}}_seed{{seed}}_{{split}}.log",
    benchmark:
        f"{R}/benchmarks/evaluate/{{gym}}_{{evalmethod}}_seed{{seed}}_{{split}}.tsv"
    threads: CFG.eval.threads
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.eval.run --config {params.cfg} --gym {wildcards.gym}"
        " {params.policy}"
        " --split {wildcards.split} --method {wildcards.evalmethod} --seed {wildcards.seed}"
        " --out-dir {params.out} > {log} 2>&1"
