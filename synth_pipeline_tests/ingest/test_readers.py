import json

import pytest

from synth_pipeline.errors import InputError
from synth_pipeline.ingest.readers import RowError, iter_rows


def test_jsonl_streams_lines_with_bom_crlf_and_unicode_line_separators(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [{"instruction": "first"}, {"instruction": "a\u2028b"}]  # U+2028 is legal inside JSON strings
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode())
    assert list(iter_rows(path)) == [(1, rows[0]), (3, rows[1])]


def test_jsonl_bad_bytes_name_their_line_and_offset(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"instruction": "ok"}\n{"instruction": "also ok"}\n{"instruction": "caf\xe9"}\n')
    rows = iter_rows(path)
    assert next(rows)[0] == 1 and next(rows)[0] == 2  # good lines come before the stop
    with pytest.raises(InputError, match=r"rows.jsonl:line 3: not UTF-8 text \(byte 0xe9 at offset 69\)"):
        next(rows)


def test_jsonl_bad_lines_become_row_errors(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"instruction": "ok"}\n{"instruction": \n[1, 2]\n')
    out = list(iter_rows(path))
    assert out[0] == (1, {"instruction": "ok"})
    assert isinstance(out[1][1], RowError) and "invalid JSON" in str(out[1][1]) and out[1][0] == 2
    assert "expected a JSON object, got list" in str(out[2][1])


def test_json_array_files_are_read_whole(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text('\n  [{"instruction": "a"}, 3]')
    out = list(iter_rows(path))
    assert out[0] == (1, {"instruction": "a"}) and "item is not an object" in str(out[1][1])


def test_csv_streams_and_reports_ragged_rows_and_bad_bytes(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text('instruction,output\n"Say ""hi"", twice","Hi,\nhi"\n\nonly one cell\n')
    out = list(iter_rows(path))
    assert out[0] == (3, {"instruction": 'Say "hi", twice', "output": "Hi,\nhi"})  # quoted newline: lines 2-3
    assert out[1][0] == 5 and "expected 2 columns" in str(out[1][1])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"instruction\nok\ncaf\xe9\n")
    with pytest.raises(InputError, match=r"bad.csv: not UTF-8 text after line \d+ \(byte 0xe9\)"):
        list(iter_rows(bad))


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv"])
def test_blank_files_are_empty(tmp_path, name):
    (tmp_path / name).write_text("  \n\n")
    with pytest.raises(InputError, match=f"{name}: file is empty"):
        list(iter_rows(tmp_path / name))
