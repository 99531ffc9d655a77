"""Length + Gopher repetition + Gopher quality filters: ours vs datatrove 0.10.1, one process.

Also times the pipeline's default per-row text rules of today (length + response checks) on the
same texts, for the record: that is different work from datatrove's, so it is no like-for-like ratio.

Usage: python benchmarks/quality/bench_filters.py [N] [DATATROVE_PYTHON]
DATATROVE_PYTHON is a Python with `datatrove==0.10.1 "xxhash<4" spacy` installed
(its own venv: datatrove's dependencies clash with ours). Prints one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

from corpus import load_texts

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.filters import LengthFilter, QualityFilter, RepetitionFilter
from synth_pipeline.quality.response_filters import ResponseChecks
from synth_pipeline.records import RecordKind

DATATROVE_SCRIPT = r"""
import json, sys, time
from datatrove.data import Document
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
texts = [json.loads(l) for l in open(sys.argv[1])]
rep, qual = GopherRepetitionFilter(), GopherQualityFilter(min_doc_words=1, max_doc_words=2048)
rep.filter(Document(text="warm up the tokenizer", id="0"))
t0 = time.perf_counter(); kept = 0
for i, t in enumerate(texts):
    d = Document(text=t, id=str(i))
    n = len(t.split())
    if 1 <= n <= 2048 and rep.filter(d) is True and qual.filter(d) is True:
        kept += 1
print(json.dumps({"seconds": time.perf_counter() - t0, "kept": kept}))
"""


def run_ours(texts: list[str]) -> dict:
    # min_words=0: n-gram checks on every row, as datatrove does (the pipeline default skips <50 words)
    filters = [LengthFilter(1, 2048), RepetitionFilter(min_words=0), QualityFilter(min_words=1, max_words=2048)]
    t0 = time.perf_counter()
    kept = sum(all(f.filter(t) is True for f in filters) for t in texts)
    return {"seconds": time.perf_counter() - t0, "kept": kept}


def run_response_checks(texts: list[str]) -> dict:
    """The pipeline's default per-row text rules now: length over the row, the response checks
    (empty/short, repeated token and sentence, Gopher per field, mojibake) with each text as the output."""
    config = FiltersConfig()
    length = LengthFilter(config.min_words, config.max_words)
    checks = ResponseChecks.from_config(RecordKind.INSTRUCTION, config)
    rows = [{"instruction": "Answer the question.", "input": "", "output": t} for t in texts]
    t0 = time.perf_counter()
    kept = sum(checks.filter(r) is True and length.filter(r["output"]) is True for r in rows)
    return {"seconds": time.perf_counter() - t0, "kept": kept}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    dt_python = sys.argv[2] if len(sys.argv) > 2 else "/tmp/dtvenv/bin/python"
    texts = load_texts(n)
    ours = run_ours(texts)
    response = run_response_checks(texts)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.writelines(json.dumps(t) + "\n" for t in texts)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(DATATROVE_SCRIPT)
    out = subprocess.run([dt_python, script.name, fh.name], capture_output=True, text=True, check=True)
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    rows = len(texts)
    print(json.dumps({
        "rows": rows,
        "ours_rows_per_s": round(rows / ours["seconds"], 1), "ours_kept": ours["kept"],
        "datatrove_rows_per_s": round(rows / theirs["seconds"], 1), "datatrove_kept": theirs["kept"],
        "speedup": round(theirs["seconds"] / ours["seconds"], 2),
        "ours_response_checks_rows_per_s": round(rows / response["seconds"], 1),
        "ours_response_checks_kept": response["kept"],
        "response_checks_vs_datatrove": round(theirs["seconds"] / response["seconds"], 2),
    }))


if __name__ == "__main__":
    main()
