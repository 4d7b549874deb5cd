# Evaluation: greedy episodes of every method x seed x split (and of the scripted reference policies).
# Evaluations go before further training (`priority`): a grid stopped part-way leaves each trained run measured,
# so its checkpoint is not needed again (`python -m bao.carry` carries results, not checkpoints).


rule evaluate:
    input:
        ckpt=checkpoint_of,
        llm=llm_models_of,
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
    priority: 1
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.eval.run --config {params.cfg} --gym {wildcards.gym}"
        " {params.policy}"
        " --split {wildcards.split} --method {wildcards.evalmethod} --seed {wildcards.seed}"
        " --out-dir {params.out} > {log} 2>&1"


# training reward: every SFT start and RL checkpoint on fixed `val` tasks (training distribution, never the test
# split), sampled as in RL and greedily; one job per checkpoint x mode, paired against the SFT start by the
# `training_reward` rule (report.smk)
# -------------------------------------------------------------------------------------------------------------
TR_MODES = ["sampled", "greedy"]


def training_reward_start(method):
    """(SFT row, seeds) that an RL method's seeds start from: ``sft`` (enhanced teacher) or ``sft_plain``."""
    row = {style: m for m, style in SFT_ROWS.items()}[CFG.methods[method].teacher]
    return row, sorted({sft_seed(s) for s in CFG.seeds_for(method)})


def training_reward_runs(gym):
    """(eval method, seed) of every checkpoint a gym's training reward plays: each RL run and its SFT start."""
    rl = [(m, s) for m in CFG.methods_for(gym) for s in CFG.seeds_for(m)]
    starts = {(row, s) for m in CFG.methods_for(gym) for row, seeds in [training_reward_start(m)] for s in seeds}
    return sorted(starts) + rl


def training_reward_episodes(gym=None):
    """Every episodes.jsonl the training-reward table reads (of one gym, or of all)."""
    return [f"{R}/eval/{g}/{m}/seed{s}/val_{mode}/episodes.jsonl" for g in ([gym] if gym else GYM_NAMES)
            for m, s in training_reward_runs(g) for mode in TR_MODES]


def training_reward_sections(wildcards):
    """Config a training-reward job reads: the generation settings of `eval`, its gym's task draws, the base seed
    (val tasks and sampling) and the `training_reward` keys of its mode only (so resizing the sampled run keeps
    every greedy one)."""
    keep = ("tasks", "samples", "temperature") if wildcards.mode == "sampled" else ("greedy_tasks",)
    play = ("max_new_tokens", "max_episode_tokens", "batch_size", "pass_k", "threads", "on_long_prompt")
    tr = dataclasses.asdict(CFG.training_reward.for_gym(wildcards.gym))  # this gym's sizes (`per_gym` applied)
    return [{k: v for k, v in sec("eval").items() if k in play},
            {k: v for k, v in gym_sec(wildcards.gym).items() if k not in ("n_test_tasks", "faithful_eval")},
            CFG.seed, {k: v for k, v in tr.items() if k in keep}]


rule training_reward_play:
    input:
        ckpt=checkpoint_of,
    output:
        episodes=f"{R}/eval/{{gym}}/{{evalmethod}}/seed{{seed}}/val_{{mode}}/episodes.jsonl",
        metrics=f"{R}/eval/{{gym}}/{{evalmethod}}/seed{{seed}}/val_{{mode}}/metrics.json",
    wildcard_constraints:
        mode="|".join(TR_MODES),
    params:
        cfg=RESOLVED,
        sections=training_reward_sections,
        out=lambda w, output: os.path.dirname(output.metrics),
    log:
        f"{R}/logs/training_reward_play/{{gym}}_{{evalmethod}}_seed{{seed}}_{{mode}}.log",
    benchmark:
        f"{R}/benchmarks/training_reward_play/{{gym}}_{{evalmethod}}_seed{{seed}}_{{mode}}.tsv"
    threads: CFG.eval.threads
    priority: 1
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m bao.eval.training_reward play --config {params.cfg}"
        " --gym {wildcards.gym} --checkpoint {input.ckpt} --mode {wildcards.mode}"
        " --method {wildcards.evalmethod} --seed {wildcards.seed} --out-dir {params.out} > {log} 2>&1"
