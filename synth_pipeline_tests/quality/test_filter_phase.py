import json

import pyarrow.compute as pc
import pytest

from synth_pipeline.config import FiltersConfig, PipelineConfig
from synth_pipeline.quality.filter_phase import run_filters
from synth_pipeline.records import RecordKind, to_table

CLEAN = [
    "Explain how photosynthesis turns light energy into chemical energy inside plant cells.",
    "Describe three practical ways a small team can keep its project documentation current.",
    "Compare the advantages of trains and buses for daily commuting in a medium sized city.",
]
ANSWER = "A careful answer covers the main stages, gives an example, and notes one common mistake."
PII = "Send the draft to jane.doe@example.com and call 212-555-0147 when it is done."
GERMAN = "Erkläre bitte ausführlich, wie die Photosynthese in den Zellen der Pflanzen funktioniert."
GERMAN_ANSWER = "Die Pflanze nimmt Licht auf und wandelt es mit Wasser und Kohlendioxid in Zucker um."
TOXIC = "You are a fucking idiot and a worthless piece of shit."
LOOP = " ".join(["buy now"] * 20)
SEED = "Give three tips for staying healthy."


def _config(**filters):
    return PipelineConfig(seeds={"paths": ["seeds.jsonl"]}, filters=FiltersConfig(**filters))


def _rows(kind: RecordKind):
    prompts = [*CLEAN, CLEAN[0], PII, GERMAN, TOXIC, LOOP, SEED]
    ids = ["a", "b", "c", "dup", "pii", "de", "tox", "loop", "seedcopy"]
    rows = []
    for i, p in zip(ids, prompts, strict=True):
        answer = GERMAN_ANSWER if p == GERMAN else ANSWER
        if kind is RecordKind.INSTRUCTION:
            rows.append({"id": i, "instruction": p, "input": "", "output": answer})
        elif kind is RecordKind.CHAT:
            rows.append({"id": i, "messages": [{"role": "user", "content": p},
                                               {"role": "assistant", "content": answer}]})
        else:
            rows.append({"id": i, "prompt": p, "chosen": answer, "rejected": "No."})
    return to_table(rows, kind)


def _seeds():
    return to_table([{"id": "s1", "instruction": SEED, "input": "", "output": "Sleep well."}],
                    RecordKind.INSTRUCTION)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_mixed_table_reconciles_per_kind(kind):
    table = _rows(kind)
    out = run_filters(table, _config(), _seeds())
    assert out.kept.num_rows + out.rejected.num_rows == table.num_rows
    assert out.summary()["reconciles"]
    assert sorted(out.kept.column("id").to_pylist()) == ["a", "b", "c"]
    rules = dict(zip(out.rejected.column("id").to_pylist(), out.rejected.column("rule").to_pylist(),
                     strict=True))
    assert rules == {"dup": "dedup_exact", "pii": "pii_found", "de": "language_mismatch",
                     "tox": "toxicity_score", "loop": "gopher_top_2_gram", "seedcopy": "novelty_rouge_l"}
    dup = out.rejected.filter(pc.equal(out.rejected.column("id"), "dup")).to_pylist()[0]
    assert json.loads(dup["detail"]) == {"duplicate_of": "a"}
    assert json.loads(dup["record"])["id"] == "dup"
    assert out.kept.schema == table.schema
    survivor = out.kept.filter(pc.equal(out.kept.column("id"), "a")).to_pylist()[0]
    assert json.loads(survivor["metadata"]["extra"])["dedup_cluster"] == "a"
    assert out.metrics["rejected_by_rule"]["pii_found"] == 1
    assert 0 < out.metrics["diversity"]["mattr"] <= 1


def test_redact_policy_keeps_row_with_placeholders():
    out = run_filters(_rows(RecordKind.INSTRUCTION), _config(pii_policy="redact", near_dedup=False))
    row = out.kept.filter(pc.equal(out.kept.column("id"), "pii")).to_pylist()[0]
    assert "<EMAIL_ADDRESS>" in row["instruction"] and "<PHONE_NUMBER>" in row["instruction"]
    assert json.loads(row["metadata"]["extra"])["pii_redacted"] == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert out.metrics["pii"]["redacted_rows"] == 1
    # without seeds the novelty check is off, so the seed copy is kept
    assert "seedcopy" in out.kept.column("id").to_pylist()
