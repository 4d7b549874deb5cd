# Data: the policy's tokenizer and the teacher datasets (behavior-enhanced and plain).


# train the byte-level BPE tokenizer on teacher episodes and prompts
# ------------------------------------------------------------------
rule tokenizer:
    output:
        directory(f"{D}/tokenizer"),
    params:
        cfg=RESOLVED,
        sections=[CFG.seed, sec("env"), sec("teacher"), CFG.model.vocab_size],
    log:
        f"{R}/logs/tokenizer.log",
    benchmark:
        f"{R}/benchmarks/tokenizer.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.policy.tokenizer --config {params.cfg} --out {output} > {log} 2>&1"


# scripted teacher episodes on the embedded Function-Gym
# ------------------------------------------------------
rule teacher_data:
    output:
        data=f"{D}/teacher/{{style}}.jsonl",
        stats=f"{D}/teacher/{{style}}.stats.json",
    params:
        cfg=RESOLVED,
        sections=[CFG.seed, sec("env"), sec("teacher")],
    log:
        f"{R}/logs/teacher_data/{{style}}.log",
    benchmark:
        f"{R}/benchmarks/teacher_data/{{style}}.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.teacher.function_teacher --config {params.cfg} --style {wildcards.style}"
        " --out {output.data} > {log} 2>&1"
