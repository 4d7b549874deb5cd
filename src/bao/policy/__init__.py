"""The policy: tokenizer, chat format, tiny Qwen3 model and batched multi-turn rollout."""
