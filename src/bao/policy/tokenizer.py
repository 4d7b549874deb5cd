"""Train the byte-level BPE tokenizer of the embedded policy (``python -m bao.policy.tokenizer --help``).

Digits are split one per token (so arithmetic is learnable), the chat markers are special tokens and the
tag tokens (``<think>``, ``<tool_call>``, ...) are added tokens, as in Qwen3. The result is saved with
``save_pretrained`` and loads with ``AutoTokenizer.from_pretrained``. With ``model.init_from`` set (a real HF
model), the model's own tokenizer is copied to the output instead, so SFT and RL encode with it.
The pipeline trains one per gym (each gym has its own policy), so adding a gym never retrains another's.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from bao.policy.chat import ADDED_TOKENS, CHAT_TEMPLATE, IM_END, PAD, SPECIAL_TOKENS


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS + ADDED_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=IM_END, pad_token=PAD,
                                   additional_special_tokens=SPECIAL_TOKENS[1:], clean_up_tokenization_spaces=False)
    # Tags are plain added tokens: split out before BPE, but kept when decoding with skip_special_tokens.
    fast.add_tokens(ADDED_TOKENS)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def corpus_for_tokenizer(cfg, seed: int, gyms=None) -> list[str]:
    """Texts the tokenizer is trained on: teacher episodes of both styles of ``gyms`` (default: all configured)."""
    from bao.teacher import sample_corpus

    return sample_corpus(cfg, seed, gyms=gyms)


def main(argv: list[str] | None = None) -> None:
    from bao.config import load_config
    from bao.provenance import write_provenance

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="pipeline config YAML (e.g. config/config.yaml)")
    p.add_argument("--out", required=True, help="output directory for the tokenizer")
    p.add_argument("--gym", action="append", default=None,
                   help="train on this gym's teacher episodes (repeatable; default: every gym of the config)")
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    if cfg.model.init_from:  # a pretrained model brings its own tokenizer: copy it, never train one
        from bao.policy.model import load_tokenizer

        tok, texts = load_tokenizer(cfg.model.init_from), []
        extra = {"vocab_size": len(tok), "copied_from": cfg.model.init_from}
    else:
        texts = corpus_for_tokenizer(cfg, cfg.seed, gyms=a.gym)
        tok = train_tokenizer(texts, cfg.model.vocab_size)
        extra = {"vocab_size": len(tok), "n_texts": len(texts)}
    from bao.io import atomic_dir

    out = Path(a.out)
    with atomic_dir(out) as tmp:  # appears complete (with a manifest) or not at all
        tok.save_pretrained(tmp)
        write_provenance(tmp / "provenance.json", cfg, extra=extra)
    how = f"copied from {cfg.model.init_from}" if cfg.model.init_from else f"trained on {len(texts)} texts"
    print(f"tokenizer: {len(tok)} tokens {how} -> {out}")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
