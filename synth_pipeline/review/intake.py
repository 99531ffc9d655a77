"""Prelabeled rows into the review queue: the rows triage sends to people, with what reviewers are shown.

`Intake` is the prelabel phase's `on_batch` callback (each scored batch is queued at once, so people
start before the judge ends) and the reviewed phase's catch-up (anything not yet queued is queued;
the store skips rows it already has). Gold items come from `review.gold_file` and are mixed in blind.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.config import PipelineConfig
from synth_pipeline.errors import InputError
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.records import metadata_dict
from synth_pipeline.review.models import DECISIONS
from synth_pipeline.review.routing import EnqueueRow, enqueue
from synth_pipeline.review.triage import EXPERT_FLAG, judge_mean, route
from synth_pipeline.tables import Rows

# metadata.extra keys earlier phases set that a reviewer should see as flags
FLAG_KEYS = ("judge_error", "tag_error", "self_judged", "pii_found", "pii_redacted", "dedup_cluster", EXPERT_FLAG)
LINEAGE_KEYS = ("seed_ids", "parent_id", "method", "operation", "depth", "prompt_template", "model")


def _extra(meta: Mapping[str, Any]) -> dict[str, Any]:
    try:
        extra = json.loads(meta.get("extra") or "{}")
    except json.JSONDecodeError:
        return {}
    return extra if isinstance(extra, dict) else {}


def queue_row(row: Mapping[str, Any], route_name: str) -> EnqueueRow:
    """A row as the queue holds it: plain-JSON record, the judge's pre-label, flags and lineage."""
    meta = metadata_dict(row.get("metadata"))
    extra = _extra(meta)
    scores = meta.get("scores") or {}
    prelabel = {"scores": {d: scores[d] for d in DIMENSIONS if d in scores}, "mean": judge_mean(meta),
                "rationale": extra.get("judge_rationale"), "domain": meta.get("domain"),
                "difficulty": meta.get("difficulty")}
    flags = [route_name] if route_name in ("below_gate", "unscored", "expert") else []
    flags += [k for k in FLAG_KEYS if extra.get(k) and k not in flags and not (k == EXPERT_FLAG and "expert" in flags)]
    lineage = {k: meta.get(k) for k in LINEAGE_KEYS if meta.get(k) is not None}
    record = json.loads(json.dumps({**row, "metadata": meta}, default=str))
    return EnqueueRow(record=record, route=route_name, prelabel=prelabel, flags=flags, lineage=lineage)


def load_gold(path: str | Path) -> list[dict[str, Any]]:
    """Gold items from JSONL ({"record": row, "decision": accept|edit|reject, "scores": {dim: 1-5}}).

    A bad line fails naming the file, line and field.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: review.gold_file not found") from None
    gold = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not a JSON object ({exc.msg})") from None
        if not isinstance(item, dict):
            raise InputError(f"{where}: not a JSON object")
        record = item.get("record")
        if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
            raise InputError(f"{where}: record: must be a row object with a string id")
        if item.get("decision") not in DECISIONS:
            raise InputError(f"{where}: decision: {item.get('decision')!r} is not one of {', '.join(DECISIONS)}")
        scores = item.get("scores") or {}
        bad = {k: v for k, v in scores.items()
               if k not in DIMENSIONS or not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5}
        if not isinstance(scores, dict) or bad:
            raise InputError(f"{where}: scores: {bad or scores!r} (expected 1-5 integers on {', '.join(DIMENSIONS)})")
        record.setdefault("metadata", {})
        gold.append({**item, "scores": scores})
    if not gold:
        raise InputError(f"{path}: review.gold_file holds no gold item")
    return gold


class Intake:
    """Queues the rows triage sends to people; callable on a table of prelabeled rows."""

    def __init__(self, sessions: sessionmaker[Session], config: PipelineConfig, version: str,
                 gold: Iterable[dict[str, Any]] = ()) -> None:
        self.sessions, self.config, self.version = sessions, config, version
        self.gold = list(gold)
        self.routed: Counter[str] = Counter()
        self.batches: list[int] = []

    @classmethod
    def for_config(cls, config: PipelineConfig, version: str) -> Intake:
        from synth_pipeline.review.connect import open_sessions, store_url

        gold = load_gold(config.resolve(config.review.gold_file)) if config.review.gold_file else []
        return cls(open_sessions(store_url(config)), config, version, gold)

    def __call__(self, rows: pa.Table | Rows) -> int | None:
        """Queue the routed rows of `rows`; the batch number, or None when no row goes to people."""
        review, gate = self.config.review, self.config.gates.judge_min
        queued = []
        for batch in Rows.of(rows).batches():
            for row in batch.to_pylist():
                name = route(row, review, gate)
                if name is not None:
                    queued.append(queue_row(row, name))
        if not queued:
            return None
        with self.sessions() as session:
            batch_no = enqueue(session, self.version, queued, overlap=review.overlap,
                               reviewers_per_item=review.reviewers_per_item, gold=self.gold,
                               gold_share=review.gold_share, seed=review.seed)
        self.routed.update(q.route for q in queued)
        self.batches.append(batch_no)
        return batch_no
