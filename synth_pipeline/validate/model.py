"""The model a release is validated with: the embedded SmolLM2 (from its GGUF) or any Hugging Face model.

transformers dequantizes the GGUF on every load and refuses to `save_pretrained` a GGUF-loaded
model while its quantizer markers are set, so the embedded model is converted once into an fp32
folder under the cache and loaded from there afterwards.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth_pipeline.errors import SynthPipelineError

EMBEDDED_MODEL = "local/smollm2-135m-instruct"


@dataclass
class LoadedModel:
    model: Any  # transformers PreTrainedModel
    tokenizer: Any  # transformers PreTrainedTokenizerBase
    name: str
    fingerprint: str  # identifies the weights (for cached baselines)


def _fingerprint(path: Path) -> str:
    """A cheap identity of a weights file or folder: names, sizes and mtimes."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def embedded_fp32(cache_dir: str | Path) -> tuple[Path, str]:
    """The embedded model as an fp32 transformers folder, converted from its GGUF on first use."""
    from synth_pipeline.llm.local_model import bundled_gguf

    gguf = bundled_gguf()
    fingerprint = _fingerprint(gguf)
    target = Path(cache_dir) / f"smollm2-135m-instruct-fp32-{fingerprint}"
    if (target / "config.json").is_file():
        return target, fingerprint
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": gguf.name, "dtype": "float32"}
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), **kwargs)
    # the weights are dequantized already; the markers only block saving
    model.config.quantization_config = None
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            setattr(model, attr, None)
    model.is_quantized = False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, target)
    return target, fingerprint


def load_model(name: str, cache_dir: str | Path, threads: int) -> LoadedModel:
    """`name` is the embedded model's id, a local transformers folder, or a hub id (needs network)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    if name == EMBEDDED_MODEL:
        path, fingerprint = embedded_fp32(cache_dir)
        source = str(path)
    else:
        local = Path(name)
        source = str(local) if local.exists() else name
        fingerprint = _fingerprint(local) if local.exists() else name
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    except OSError as exc:
        raise SynthPipelineError(f"validate.model {name!r}: cannot load it ({exc})") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise SynthPipelineError(f"validate.model {name!r}: the tokenizer has no chat template")
    return LoadedModel(model=model, tokenizer=tokenizer, name=name, fingerprint=fingerprint)
