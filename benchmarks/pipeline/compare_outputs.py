"""Do two runs of `bench_import_scale.py --keep` agree row for row? The before/after proof of a
speed change that must not change any decision.

Usage: python benchmarks/pipeline/compare_outputs.py RUN_A RUN_B [--ignore KEY ...]

Compares, per phase, the kept rows (whole records, by id) and the rejected rows (id, rule,
value, threshold, detail, and the stored record), every stored check's outcome and observed
value, the phase metrics, and the released split files. Fields that hold a time of day or a
duration are left out, and so are the keys given after --ignore (e.g. `method`, a check's
description of how it measures). Prints one line per difference and exits 1 if there is any.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

VOLATILE = {"generated_at", "created_at", "seconds", "duration_s", "elapsed_s", "started_at", "finished_at",
            "timestamp", "released_at", "code_version", "git_commit", "run_id", "path", "uri", "build_seconds",
            "check_seconds", "index_build_seconds", "rows_per_second", "cached"}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and value[:1] == "{":
        try:
            return _clean(json.loads(value))
        except ValueError:
            return value
    return value


def _by_id(path: Path) -> dict[str, Any]:
    rows = pq.read_table(path).to_pylist()
    return {r["id"]: _clean(r) for r in rows}


def _diff(label: str, a: Any, b: Any, out: list[str], limit: int = 5) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
            out.append(f"{label}: keys only in A {only_a[:limit]} ({len(only_a)}), only in B {only_b[:limit]} "
                       f"({len(only_b)})")
        shown = 0
        for k in sorted(set(a) & set(b), key=str):
            before = len(out)
            _diff(f"{label}.{k}", a[k], b[k], out, limit)
            shown += len(out) > before
            if shown >= limit:
                out.append(f"{label}: ... (more differences)")
                return
    elif a != b:
        out.append(f"{label}: {json.dumps(a, default=str)[:200]} != {json.dumps(b, default=str)[:200]}")


def compare(run_a: Path, run_b: Path) -> list[str]:
    out: list[str] = []
    store_a, store_b = run_a / "store", run_b / "store"
    for table in sorted(p.relative_to(store_a) for p in store_a.glob("*/v1*.parquet")):
        _diff(str(table), _by_id(store_a / table), _by_id(store_b / table), out)
    docs = [*store_a.glob("*/v1.*.json"), *store_a.glob("checks/v1/*.json")]
    for doc in sorted(p.relative_to(store_a) for p in docs):
        _diff(str(doc), _clean(json.loads((store_a / doc).read_text())),
              _clean(json.loads((store_b / doc).read_text())), out)
    for split in ("train", "val", "test"):
        name = f"out/v1/{split}.jsonl"
        rows_a = [_clean(json.loads(line)) for line in (run_a / name).read_text().splitlines()]
        rows_b = [_clean(json.loads(line)) for line in (run_b / name).read_text().splitlines()]
        _diff(name, {r["id"]: r for r in rows_a}, {r["id"]: r for r in rows_b}, out)
    gates = {}
    for run in (run_a, run_b):
        report = json.loads((run / "out/v1/qa_report.json").read_text())
        gates[run] = {f"{g['phase']}.{g['check']}": _clean(g) for g in report["gates"]}
    _diff("qa_report.gates", gates[run_a], gates[run_b], out)
    return out


def main() -> None:
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    if "--ignore" in sys.argv:
        VOLATILE.update(sys.argv[sys.argv.index("--ignore") + 1:])
    found = compare(a, b)
    for line in found:
        print(line)
    print(f"{len(found)} differences between {a} and {b}")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
