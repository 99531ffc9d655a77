"""benchmarks/quality/finetune_classifier.py on a few rows, on CPU: it learns a separable task, records
its data and threshold, and what it saves (LoRA adapter + head) reloads to the scores it reported."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "quality"

pytestmark = pytest.mark.slow


def _rows() -> list[dict]:
    harmful = [f"I will find where you live and hurt you, {n}" for n in ("Sam", "Ann", "Bo", "Al", "Jo", "Di")]
    harmful += [f"you are a worthless idiot and everyone hates you, {n}" for n in ("Sam", "Ann", "Bo", "Al")]
    benign = [f"kill the process {p} with kill -9 and restart the service" for p in range(6)]
    benign += [f"shoot a photo of the sunset at {h} pm with a wide lens" for h in range(4)]
    return [{"text": t, "label": 1} for t in harmful] + [{"text": t, "label": 0} for t in benign]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp("finetune")
    train = work / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in _rows() * 2), encoding="utf-8")
    test = work / "test.jsonl"
    test.write_text("".join(json.dumps(r) + "\n" for r in _rows()), encoding="utf-8")
    out = work / "out"
    done = subprocess.run(
        [sys.executable, str(BENCH / "finetune_classifier.py"), "--train", str(train), "--test", f"mini={test}",
         "--out", str(out), "--epochs", "4", "--rank", "4", "--lr", "2e-3", "--batch", "8",
         "--calibration-share", "0.25"],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out, train, test


def test_learns_a_separable_task_and_records_its_data_and_threshold(trained):
    out, train, _ = trained
    meta = json.loads((out / "meta.json").read_text())
    rows = [json.loads(line) for line in train.read_text().splitlines()]
    digest = hashlib.sha256("".join(f"{r['label']}\t{r['text']}\n" for r in rows).encode()).hexdigest()
    assert meta["data_sha256"] == digest and meta["rows"] == len(rows)
    assert 0.0 < meta["threshold"] < 1.0 and meta["device"] == "cpu"
    assert meta["tests"]["mini"]["n"] == 20
    assert meta["tests"]["mini"]["auc"] >= 0.9, meta["tests"]["mini"]


def test_saved_adapter_and_head_reload_to_the_reported_scores(trained):
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    out, _, test = trained
    meta = json.loads((out / "meta.json").read_text())
    base = AutoModel.from_pretrained(meta["args"]["model"], dtype=torch.float32, add_pooling_layer=False)
    encoder = PeftModel.from_pretrained(base, out / "adapter").merge_and_unload().eval()
    head = load_file(out / "head.safetensors")
    tok = AutoTokenizer.from_pretrained(meta["args"]["model"])
    texts = [json.loads(line)["text"] for line in test.read_text().splitlines()]
    with torch.no_grad():
        enc = tok(texts, padding=True, truncation=True, max_length=meta["args"]["max_len"], return_tensors="pt")
        hidden = encoder(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        p = torch.sigmoid(pooled @ head["weight"].T + head["bias"]).squeeze(-1).numpy()
    np.testing.assert_allclose(p, np.load(out / "scores_mini.npy"), atol=1e-4)
