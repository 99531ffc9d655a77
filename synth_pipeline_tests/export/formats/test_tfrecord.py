import json
import struct

import pytest
from tfrecord import example_pb2
from tfrecord.reader import tfrecord_loader
from tfrecord.writer import TFRecordWriter as ReferenceWriter

from synth_pipeline.export.formats.tfrecord import encode_example
from synth_pipeline.records import RecordKind


def _frames(data: bytes):
    pos = 0
    while pos < len(data):
        length_bytes = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        yield length_bytes, data[pos + 8:pos + 12], data[pos + 12:pos + 12 + length], \
            data[pos + 12 + length:pos + 16 + length]
        pos += 16 + length


@pytest.mark.parametrize("table_fixture", ["instruction_rows", "preference_rows", "chat_rows"])
def test_tfrecord_package_parses_every_record(table_fixture, request, write_fmt, tmp_path):
    table = request.getfixturevalue(table_fixture)
    kind = {"instruction_rows": RecordKind.INSTRUCTION, "preference_rows": RecordKind.PREFERENCE,
            "chat_rows": RecordKind.CHAT}[table_fixture]
    path = write_fmt("tfrecord", table, tmp_path / "train.tfrecord", kind)
    names = table.schema.names
    parsed = list(tfrecord_loader(str(path), None, dict.fromkeys(names, "byte")))
    want = table.to_pylist()
    assert len(parsed) == len(want)
    for got, row in zip(parsed, want, strict=True):
        assert bytes(got["id"]).decode() == row["id"]
        meta = json.loads(bytes(got["metadata"]).decode())
        assert meta["domain"] == row["metadata"]["domain"]
        for name in names:
            if name not in ("id", "metadata", "messages"):
                assert bytes(got[name]).decode() == row[name]


def test_crc32c_framing_matches_the_reference_writer(instruction_rows, write_fmt, tmp_path):
    path = write_fmt("tfrecord", instruction_rows, tmp_path / "train.tfrecord", RecordKind.INSTRUCTION)
    frames = list(_frames(path.read_bytes()))
    assert len(frames) == instruction_rows.num_rows
    for length_bytes, length_crc, record, data_crc in frames:
        assert length_crc == ReferenceWriter.masked_crc(length_bytes)
        assert data_crc == ReferenceWriter.masked_crc(record)
        example = example_pb2.Example.FromString(record)  # protobuf's own parser
        assert set(example.features.feature) == set(instruction_rows.schema.names)


def test_example_bytes_equal_protobuf_serialisation():
    features = {"id": b"x1", "output": "é\n".encode()}
    proto = example_pb2.Example()
    for key in sorted(features):
        proto.features.feature[key].bytes_list.value.append(features[key])
    assert example_pb2.Example.FromString(encode_example(features)) == proto
