"""Seed PII policy on the quick start's seeds: rows flagged, kept and rejected under each policy.

Usage: python benchmarks/quality/bench_seed_pii_policy.py [examples/quickstart/pipeline.yaml]
Prints one JSON line per policy (report, redact, reject) and the ids of the rows with findings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from synth_pipeline.config import load_pipeline_config
from synth_pipeline.ingest.seeds import load_seeds, screen_pii
from synth_pipeline.offline import use_offline_defaults


def main(config_path: str) -> None:
    use_offline_defaults()
    config = load_pipeline_config(Path(config_path))
    for policy in ("report", "redact", "reject"):
        config.seeds.pii_policy = policy
        out = screen_pii(load_seeds(config), config)
        flagged = sorted(r["id"] for r in out.kept.to_pylist() if "pii_found" in (r["metadata"]["extra"] or ""))
        print(json.dumps({"policy": policy, "rows_in": out.rows_in, "kept": out.kept.num_rows,
                          "rejected": out.rejected.num_rows, **out.metrics["pii"],
                          **({"flagged_ids": flagged} if policy == "report" else {})}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/quickstart/pipeline.yaml")
