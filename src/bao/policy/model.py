"""Build, load and save the policy.

The embedded default is a tiny Qwen3 (``Qwen3ForCausalLM`` from a transformers config, ~2M parameters) trained
from scratch. ``model.init_from`` names any HF model directory instead (e.g. Qwen3-1.7B), and ``model.lora``
wraps it in a peft LoRA adapter. Everything is saved with ``save_pretrained`` so each checkpoint directory
loads with ``from_pretrained`` (LoRA checkpoints are merged before saving, so downstream stages never need to
know whether LoRA was used).
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

from bao.config import ModelConfig
from bao.io import MissingInput, atomic_dir, verify_dir, write_json
from bao.policy.chat import IM_END, PAD

CHECKPOINT_FILES = ("config.json", "model.safetensors")


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """A tokenizer directory (ours or an HF model's); a missing one is one :class:`bao.io.MissingInput`."""
    verify_dir(path)
    if not any((Path(path) / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")):
        raise MissingInput(f"{path}: no tokenizer.json or tokenizer_config.json (not a tokenizer directory)")
    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = PAD if PAD in tok.get_vocab() else tok.eos_token
    return tok


def build_tiny_qwen3(cfg: ModelConfig, tok, seed: int) -> Qwen3ForCausalLM:
    """A from-scratch Qwen3 of the configured size; weights drawn from a seed-derived generator."""
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        head_dim=cfg.hidden_size // cfg.num_heads,
        max_position_embeddings=cfg.context_length,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.convert_tokens_to_ids(IM_END),
        bos_token_id=None,
        attn_implementation="sdpa",
    )
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # restored below: no global RNG leaks out of this function
    try:
        model = Qwen3ForCausalLM(config)
    finally:
        torch.random.set_rng_state(state)
    return model


def init_policy(cfg: ModelConfig, tok, seed: int):
    """The SFT starting point: the tiny model, or ``init_from`` (+ LoRA when enabled)."""
    model = build_tiny_qwen3(cfg, tok, seed) if not cfg.init_from else \
        AutoModelForCausalLM.from_pretrained(cfg.init_from, dtype=torch.float32)
    return maybe_lora(model, cfg)


def maybe_lora(model, cfg: ModelConfig):
    if not cfg.lora.enabled:
        return model
    from peft import LoraConfig, get_peft_model

    lc = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                    target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM")
    return get_peft_model(model, lc)


def model_device(model) -> torch.device:
    """Where the model's parameters are: rollouts, log-prob passes, SFT batches and evaluation build their
    tensors (and sampling generators) there."""
    return next(model.parameters()).device


def resolve_device(name: str) -> torch.device:
    """The ``--device`` of the SFT, RL and eval CLIs (their argparse ``type``): ``cpu`` (the default), ``cuda``,
    ``cuda:<i>``, or ``auto`` (``cuda`` when torch sees a GPU, else ``cpu``). An unknown name, or a CUDA device
    torch does not see, is one argparse error."""
    from argparse import ArgumentTypeError

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ArgumentTypeError(f"{name!r} is not a torch device (cpu, cuda, cuda:1, auto)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ArgumentTypeError(f"{name!r}: torch {torch.__version__} sees no CUDA GPU here (use cpu)")
    return dev


def load_policy(path: str | Path, cfg: ModelConfig | None = None):
    """Load a checkpoint after checking it against its manifest (:func:`bao.io.verify_dir`): a truncated or
    changed file is one :class:`bao.io.CorruptOutput` naming it, never a silently different model. A plain HF
    directory (no manifest, e.g. ``model.init_from``) is loaded as it is."""
    verify_dir(path, CHECKPOINT_FILES if (Path(path) / "bao_manifest.json").exists() else ("config.json",))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    return maybe_lora(model, cfg) if cfg is not None else model


def save_policy(model, tok, out: str | Path, meta: dict | None = None) -> None:
    """Save a checkpoint that loads with ``from_pretrained`` (LoRA adapters merged in), atomically: the directory
    appears complete, with a sha256 manifest, or not at all (:func:`bao.io.atomic_dir`). ``meta`` is written
    into it as ``bao_meta.json``."""
    if hasattr(model, "merge_and_unload"):
        import copy

        model = copy.deepcopy(model).merge_and_unload()
    if getattr(model, "is_quantized", False) and getattr(model, "hf_quantizer", None) is not None \
            and getattr(model.hf_quantizer.quantization_config, "quant_method", None) == "gguf":
        # a directory written by an older prepare_model still says "gguf" in config.json although its weights
        # are plain fp32 (GGUF is dequantized on load): save it as the plain model it is
        model.hf_quantizer, model.is_quantized = None, False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        if meta is not None:
            write_json(tmp / "bao_meta.json", meta)


def sha256_state(state: dict) -> str:
    """sha256 over a state dict's names and raw tensor bytes, in name order: equal iff the weights are equal."""
    import hashlib

    h = hashlib.sha256()
    for k, v in sorted(state.items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def num_params(model) -> int:
    return sum(p.numel() for p in model.parameters())
