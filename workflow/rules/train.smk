# Training: SFT warm start per teacher style and seed, then multi-turn GRPO per method and seed.


# supervised warm start on teacher trajectories
# ---------------------------------------------
rule train_sft:
    input:
        data=f"{D}/teacher/{{gym}}/{{style}}.jsonl",
        tokenizer=f"{D}/tokenizer/{{gym}}",
    output:
        ckpt=directory(f"{R}/sft/{{gym}}/{{style}}/seed{{seed}}/ckpt"),
        metrics=f"{R}/sft/{{gym}}/{{style}}/seed{{seed}}/metrics.json",
    params:
        cfg=RESOLVED,
        # `shared` only routes checkpoints; the gym may set its own step count
        sections=lambda w: [{k: v for k, v in sec("sft").items() if k != "shared"}, sec("model"),
                            {"sft_steps": sec(w.gym)["sft_steps"]}],
    log:
        f"{R}/logs/train_sft/{{gym}}_{{style}}_seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train_sft/{{gym}}_{{style}}_seed{{seed}}.tsv"
    threads: CFG.sft.threads
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.sft.train --config {params.cfg} --teacher-data {input.data}"
        " --tokenizer {input.tokenizer} --seed {wildcards.seed} --gym {wildcards.gym} --out {output.ckpt}"
        " --metrics {output.metrics}"
        " > {log} 2>&1"


# multi-turn GRPO (BAO or a baseline recipe) from the SFT checkpoint
# ------------------------------------------------------------------
rule train_rl:
    input:
        init=lambda w: f"{R}/sft/{w.gym}/{teacher_of(w.method)}/seed{sft_seed(w.seed)}/ckpt",
    output:
        ckpt=directory(f"{R}/rl/{{gym}}/{{method}}/seed{{seed}}/ckpt"),
        metrics=f"{R}/rl/{{gym}}/{{method}}/seed{{seed}}/metrics.json",
        curve=f"{R}/rl/{{gym}}/{{method}}/seed{{seed}}/curve.jsonl",
    params:
        cfg=RESOLVED,
        sections=lambda w: [rl_sec(), gym_sec(w.gym), method_sec(w.method)],
    log:
        f"{R}/logs/train_rl/{{gym}}_{{method}}_seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train_rl/{{gym}}_{{method}}_seed{{seed}}.tsv"
    # rl.processes N > 1 (rl.backend trl): the CLI re-starts itself under torchrun with N processes of rl.threads
    # threads each, on this node (bao.rl.train.relaunch_under_torchrun). The shell command stays the 1-process
    # one: Snakemake's `code` trigger compares its text, and a new text would re-train every finished RL run.
    threads: CFG.rl.threads * CFG.rl.processes
    resources:
        processes=CFG.rl.processes,
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.rl.train --config {params.cfg} --gym {wildcards.gym}"
        " --method {wildcards.method}"
        " --seed {wildcards.seed} --init {input.init} --out {output.ckpt} --metrics {output.metrics}"
        " --curve {output.curve} > {log} 2>&1"
