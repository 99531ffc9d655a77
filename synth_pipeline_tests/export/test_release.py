import hashlib
import json

import datasets
import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.release import write_release
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import RecordKind, make_metadata, metadata_dict, reject, rejected_table, to_table
from synth_pipeline.tables import RowsWriter

ALL_INSTRUCTION = ["alpaca", "chatml", "sharegpt", "openai", "parquet", "arrow", "csv", "tsv", "tfrecord"]


def _summaries(kept: pa.Table) -> list[dict]:
    dropped = rejected_table([reject({"id": "gone-1"}, "filtered", "length_too_short", 1, 3)])
    filtered = PhaseOutput("filtered", kept, dropped, metrics={
        "ttr": 0.8, "gates": [{"gate": "pii", "column": "pii_count", "passed": True, "observed": 0,
                               "threshold": 0}]})
    return [filtered.summary(), PhaseOutput("decontaminated", kept, metrics={"decontam_matches": 0}).summary()]


@pytest.fixture
def released(instruction_rows, make_config, tmp_path):
    config = make_config(formats=ALL_INSTRUCTION)
    config.teacher.licence = "apache-2.0"
    result = write_release(
        instruction_rows, tmp_path / "datasets", "v1", config, _summaries(instruction_rows),
        {"seed_set_hash": "abc123", "review": {"kappa": 0.9}}, {"matches": 0, "suites": ["gsm8k"]}, None,
    )
    return result, tmp_path / "datasets" / "v1", config


def test_release_folder_layout_and_checksums(released, instruction_rows):
    result, root, _ = released
    assert result.rows == instruction_rows.num_rows == sum(result.splits.values())
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "metadata.json", "qa_report.json",
                 "decontam_log.json", "changelog.md", "README.md", "manifest.parquet",
                 "schemas/instruction.schema.json", "schemas/chat.schema.json",
                 "schemas/preference.schema.json", "exports/tfrecord/train.tfrecord", "exports/tsv/val.tsv"):
        assert (root / name).is_file(), name
    listed = {}
    for line in (root / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split("  ", 1)
        listed[path] = digest
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == on_disk
    for path, digest in listed.items():
        assert hashlib.sha256((root / path).read_bytes()).hexdigest() == digest
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]  # temp folder renamed away


def test_every_exported_row_validates_against_the_shipped_schema(released):
    _, root, _ = released
    validator = jsonschema.Draft202012Validator(json.loads((root / "schemas/instruction.schema.json").read_text()))
    seen = 0
    for split in ("train", "val", "test"):
        for line in (root / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            validator.validate(json.loads(line))
            seen += 1
        for row in pq.read_table(root / f"exports/parquet/{split}.parquet").to_pylist():
            row["metadata"]["scores"] = {s["key"]: s["value"] for s in row["metadata"]["scores"]}
            validator.validate(row)
    assert seen == 30


def test_metadata_qa_report_and_card(released, hf_cache):
    result, root, _ = released
    meta = json.loads((root / "metadata.json").read_text())
    assert meta["synthetic"] is True and meta["teacher_licence"] == "apache-2.0"
    assert meta["seed_set_hash"] == "abc123" and meta["config"]["export"]["formats"] == ALL_INSTRUCTION
    assert meta["counts_per_phase"]["filtered"] == {"rows_in": 31, "kept": 30, "rejected": 1}
    assert meta["tokens"] == {"in": 300, "out": 600}
    qa = json.loads((root / "qa_report.json").read_text())
    assert qa["phases"][0]["rejected_ids_by_rule"] == {"length_too_short": ["gone-1"]}
    assert "record" not in json.dumps(qa["phases"])  # ids only, never content
    assert {(g["metric"], g["passed"]) for g in qa["gates"]} >= {("ttr", True), ("decontam_matches", True),
                                                                  ("schema_valid_rate", True),
                                                                  ("pii_count", True)}
    assert qa["review"] == {"kappa": 0.9, "kappa_display": "0.900"} and qa["release"]["splits"] == result.splits
    card = (root / "README.md").read_text()
    assert card.startswith("---\n") and "- synthetic" in card and "This dataset is synthetic" in card
    # The card's YAML `configs` is what the Hub reads: loading the folder itself finds the splits.
    ds = datasets.load_dataset(str(root), cache_dir=hf_cache)
    assert {k: ds[k].num_rows for k in ds} == {"train": result.splits["train"],
                                               "validation": result.splits["val"],
                                               "test": result.splits["test"]}


def test_releases_are_immutable(released, instruction_rows):
    _, root, config = released
    before = (root / "SHA256SUMS").read_bytes()
    with pytest.raises(ReleaseError, match="already released.*immutable"):
        write_release(instruction_rows, root.parent, "v1", config)
    assert (root / "SHA256SUMS").read_bytes() == before


def test_changelog_reports_row_changes_and_drift(released, make_instructions):
    _, root, config = released
    old = make_instructions(30).to_pylist()
    new_rows = old[5:]  # i0..i4 removed
    new_rows[0] = {**new_rows[0], "output": "rewritten answer"}  # i5 changed
    for i in range(30, 60):  # added rows, much longer and all in one domain
        new_rows.append({"id": f"i{i}", "instruction": f"long task {i}", "input": "",
                         "output": " ".join(f"word{j}" for j in range(200)),
                         "metadata": make_metadata(domain="math", difficulty="hard", scores={"judge": 2.0})})
    for r in new_rows:
        r["metadata"] = metadata_dict(r["metadata"])
    config2 = config.model_copy(update={"split": config.split.model_copy(update={"seed": 7})})
    result = write_release(to_table(new_rows, RecordKind.INSTRUCTION), root.parent, "v2", config2,
                           previous_version_dir=root)
    text = (root.parent / "v2" / "changelog.md").read_text()
    assert "| added | 30 |" in text and "| removed | 5 |" in text and "| changed | 1 |" in text
    assert "`i0`" in text and "`i5`" in text and "`i59`" in text
    assert "`split.seed` | `42` | `7`" in text
    assert any(f.startswith("n_words: major") for f in result.drift_flags)
    assert any(f.startswith("domain: ") for f in result.drift_flags)
    assert "**major**" in text


def test_changelog_links_the_previous_versions_evaluation_report(released, make_instructions):
    _, root, config = released
    folder = root.parent / "v1.validation"
    folder.mkdir()
    (folder / "evaluation_report.json").write_text(json.dumps({
        "verdict": "inconclusive", "passed": False,
        "heldout_pooled": {"before": 2.5, "after": 2.25, "prompt_gain": None},
        "benchmark": {"suite": "arc_easy", "items": 200, "change": -1.5}}))
    write_release(make_instructions(30), root.parent, "v2", config, previous_version_dir=root)
    text = (root.parent / "v2" / "changelog.md").read_text()
    assert ("Validation of `v1`: **inconclusive** (held-out loss 2.5000 → 2.2500; prompt gain n/a; "
            "arc_easy change -1.50 points on 200 items); report `../v1.validation/evaluation_report.md`.") in text
    (folder / "evaluation_report.json").write_text("{not json")
    with pytest.raises(ReleaseError, match=r"v1\.validation/evaluation_report\.json: not valid JSON \(line 1\)"):
        write_release(make_instructions(30), root.parent, "v3", config, previous_version_dir=root)


def test_a_version_without_a_validation_has_no_validation_line(released, make_instructions):
    _, root, config = released
    write_release(make_instructions(30), root.parent, "v2", config, previous_version_dir=root)
    assert "Validation of" not in (root.parent / "v2" / "changelog.md").read_text()


def test_streamed_batches_give_the_same_release_as_a_table(instruction_rows, make_config, tmp_path):
    config = make_config(formats=["parquet", "alpaca"], batch_rows=4)
    a = write_release(instruction_rows, tmp_path, "a", config)
    b = write_release(iter(instruction_rows.to_batches(max_chunksize=11)), tmp_path, "b", config)
    spool = RowsWriter(instruction_rows.schema)
    spool.write(instruction_rows)
    c = write_release(spool.close(), tmp_path, "c", config)  # a stored table, read in batches
    for other in (b, c):
        assert a.splits == other.splits
        for split in ("train", "val", "test"):
            assert (pq.read_table(tmp_path / "a" / f"{split}.parquet").column("id").to_pylist()
                    == pq.read_table(tmp_path / other.version / f"{split}.parquet").column("id").to_pylist())
            assert a.files[f"exports/alpaca/{split}.jsonl"] == other.files[f"exports/alpaca/{split}.jsonl"]


def test_preference_and_chat_releases(preference_rows, chat_rows, make_config, tmp_path):
    pref = write_release(preference_rows, tmp_path, "p1", make_config(formats=["dpo", "openai", "csv"]))
    assert pref.record_kind == "preference" and (tmp_path / "p1/exports/openai/train.jsonl").is_file()
    line = json.loads((tmp_path / "p1/train.jsonl").read_text().splitlines()[0])
    assert set(line) == {"id", "prompt", "chosen", "rejected", "metadata"}
    chat = write_release(chat_rows, tmp_path, "c1", make_config(formats=["chatml", "sharegpt"]))
    assert chat.rows == chat_rows.num_rows


def test_impossible_rows_fail_cleanly_without_a_partial_release(make_config, tmp_path, instruction_rows):
    with pytest.raises(ReleaseError, match=r"\['dpo'\] cannot hold instruction"):
        write_release(instruction_rows, tmp_path, "x1", make_config(formats=["dpo"]))
    bad = to_table([{"id": "blank-out", "instruction": "say", "input": "", "output": ""}],
                   RecordKind.INSTRUCTION)
    with pytest.raises(ReleaseError, match="blank-out"):
        write_release(bad, tmp_path, "x2", make_config(formats=["alpaca", "openai"]))
    with pytest.raises(ReleaseError, match="slashes"):
        write_release(instruction_rows, tmp_path, "../escape", make_config())
    with pytest.raises(ReleaseError, match="no manifest.parquet"):
        write_release(instruction_rows, tmp_path, "x3", make_config(), previous_version_dir=tmp_path / "nope")
    with pytest.raises(ReleaseError, match="known kind"):
        write_release(pa.table({"id": ["a"], "text": ["b"]}), tmp_path, "x4", make_config())
    assert list(tmp_path.iterdir()) == []


JANET = ("Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for "
         "her friends every day with four.")


def _released_qa(root) -> dict:
    return json.loads((root / "qa_report.json").read_text())


def _gate(qa: dict, check: str) -> dict:
    return next(g for g in qa["gates"] if g["check"] == check and g["phase"] == "release")


def test_schema_validity_is_a_measured_rate_that_can_fail(make_config, tmp_path, instruction_rows):
    blank = to_table([{"id": "", "instruction": "Say hello politely.", "input": "", "output": "Hello there.",
                       "metadata": make_metadata()}], RecordKind.INSTRUCTION)  # an empty id breaks minLength
    rows = pa.concat_tables([instruction_rows.select(blank.column_names).cast(blank.schema), blank])
    config = make_config()
    with pytest.raises(ReleaseError, match=r"1 of 31 rows break .*schema_valid_min 1\.0"):
        write_release(rows, tmp_path, "strict", config)
    assert not (tmp_path / "strict").exists()
    config.gates.schema_valid_min = 0.9  # a looser gate passes, and the report still counts the bad row
    write_release(rows, tmp_path, "loose", config)
    gate = _gate(_released_qa(tmp_path / "loose"), "schema_valid_rate")
    assert gate["invalid_rows"] == 1 and gate["value"] == pytest.approx(30 / 31) and gate["status"] == "passed"
    assert "field id" in gate["errors"][0]


def test_released_files_are_rechecked_for_benchmark_text(make_config, tmp_path, instruction_rows):
    # Fault injection: a benchmark question reached the release (say the decontam phase regressed).
    leaked = to_table([{"id": "leak", "instruction": "Solve this.", "input": JANET, "output": "She makes $18.",
                        "metadata": make_metadata()}], RecordKind.INSTRUCTION)
    rows = pa.concat_tables([instruction_rows.select(leaked.column_names).cast(leaked.schema), leaked])
    with pytest.raises(ReleaseError, match=r"share \d+ 13-grams with benchmark suites.*\.jsonl line \d+ \(input\)"):
        write_release(rows, tmp_path, "leaky", make_config())
    assert list(tmp_path.iterdir()) == []
    write_release(instruction_rows, tmp_path, "clean", make_config(formats=["tfrecord", "parquet"]))
    gate = _gate(_released_qa(tmp_path / "clean"), "decontam_released_files")
    assert gate["status"] == "passed" and gate["value"] == 0 and gate["rows"] == instruction_rows.num_rows


def test_the_release_checks_the_row_count_chain(make_config, tmp_path, instruction_rows):
    summaries = _summaries(instruction_rows)
    summaries[1]["rows_in"] = summaries[1]["kept"] + 2  # a phase read rows the one before never kept
    with pytest.raises(ReleaseError, match=r"decontaminated read 32 rows but filtered kept 30"):
        write_release(instruction_rows, tmp_path, "chain", make_config(), summaries)
    summaries = _summaries(instruction_rows)
    summaries[1]["kept"] -= 1  # rows vanished: in != kept + rejected, and the release holds more than kept
    with pytest.raises(ReleaseError, match=r"rows_in 30 != kept 29 \+ rejected 0.*release holds 30 rows"):
        write_release(instruction_rows, tmp_path, "chain", make_config(), summaries)
    write_release(instruction_rows, tmp_path, "ok", make_config(), _summaries(instruction_rows))
    qa = _released_qa(tmp_path / "ok")
    assert _gate(qa, "reconcile_chain")["status"] == "passed" and qa["all_phases_reconcile"] is True
    assert [c["link"] for c in qa["reconcile_chain"]] == [
        "filtered: in = kept + rejected", "decontaminated: in = kept + rejected", "filtered -> decontaminated",
        "decontaminated -> release"]


def test_report_and_card_list_every_check_and_say_rows_are_unreviewed(make_config, tmp_path, instruction_rows):
    checks = [
        {"asset": "seeds", "check": "seeds_pii", "blocking": False, "status": "failed", "observed": 3,
         "threshold": 0},
        {"asset": "reviewed", "check": "reviewed_kappa", "blocking": False, "status": "not_evaluated",
         "observed": None, "threshold": None},
        {"asset": "filtered", "check": "filtered_format", "blocking": True, "status": "passed", "observed": 1.0,
         "threshold": 1.0},
    ]
    write_release(instruction_rows, tmp_path, "v1", make_config(), _summaries(instruction_rows),
                  {"checks": checks, "review": {"implemented": False}})
    qa = _released_qa(tmp_path / "v1")
    by_name = {g["check"]: g for g in qa["gates"]}
    assert {n: by_name[n]["status"] for n in ("seeds_pii", "reviewed_kappa", "filtered_format")} == {
        "seeds_pii": "failed", "reviewed_kappa": "not_evaluated", "filtered_format": "passed"}
    assert by_name["reviewed_kappa"]["passed"] is False  # not evaluated is never a pass
    assert qa["all_gates_pass"] is False and qa["blocking_gates_pass"] is True
    assert set(qa["gates_failed"]) == {"seeds.seeds_pii", "reviewed.reviewed_kappa"}
    card = (tmp_path / "v1" / "README.md").read_text()
    assert "**Rows are unreviewed.**" in card
    assert "`seeds.seeds_pii` (warning): failed" in card
    assert "`reviewed.reviewed_kappa` (warning): not_evaluated" in card
    assert "filtered_format" not in card


def test_card_states_the_judge_gate_used_and_self_judging(make_config, tmp_path, instruction_rows):
    config = make_config()
    config.gates.judge_min = 1.5
    summaries = _summaries(instruction_rows)
    judged = PhaseOutput("prelabeled", instruction_rows, rows_in=instruction_rows.num_rows, metrics={
        "judge_model": "local/smollm2-135m-instruct", "self_judged": True, "judge_min_gate": 1.5,
        "judge_mean": 1.7, "below_gate_rows": 2, "below_gate_route": "reject", "unscored_rows": 1,
        "unscored_route": "reject"}).summary()
    summaries.insert(1, judged)
    write_release(instruction_rows, tmp_path, "v1", config, summaries)
    card = (tmp_path / "v1" / "README.md").read_text()
    assert "gate: judge mean >= 1.5 (default 4.2)" in card
    assert "**The judge is the teacher model itself**" in card
    assert _released_qa(tmp_path / "v1")["thresholds"]["judge_min"] == 1.5
