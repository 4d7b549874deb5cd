"""bao-repro: a reproduction of Behavior-Aware Optimization (BAO, arXiv 2602.11351) on the UserRL gyms.

Packages:
    envs     Gymnasium-shaped text gyms, registered as ``<domain>-vN``.
    agent    the ``interact_with_env`` tool-call format and prompts.
    policy   tokenizer, tiny Qwen3 model, chat format, batched multi-turn rollout.
    teacher  scripted behavior-enhanced and plain teachers (SFT data).
    sft      supervised warm start.
    rl       pure reward shaping / credit / advantage / loss functions and the GRPO trainer.
    eval     evaluation runner and pure metrics.
    plots    figures.
"""

__version__ = "0.1.0"
