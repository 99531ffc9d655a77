"""TFRecord of ``tf.train.Example`` protos, without TensorFlow.

Each row becomes an Example whose features are single-value bytes lists: the text columns
as UTF-8 and nested columns (metadata, messages) as JSON. The protobuf wire format of these
few messages is small and fixed, so it is encoded directly; framing is TFRecord's
``uint64 length | masked crc32c(length) | data | masked crc32c(data)``.
"""

from __future__ import annotations

import struct

import google_crc32c
import orjson

from synth_pipeline.export.formats.base import ExportChunk, FormatWriter
from synth_pipeline.records import SCHEMAS

_MASK_DELTA = 0xA282EAD8


def masked_crc32c(data: bytes) -> bytes:
    crc = google_crc32c.value(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _len_field(field_number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


def encode_example(features: dict[str, bytes]) -> bytes:
    """Serialise ``Example{features: Features{feature: {name: Feature{bytes_list: [value]}}}}``."""
    entries = b"".join(
        # map<string, Feature> entry: key = 1, value = 2; Feature.bytes_list = 1; BytesList.value = 1
        _len_field(1, _len_field(1, key.encode("utf-8")) + _len_field(2, _len_field(1, _len_field(1, value))))
        for key, value in sorted(features.items())
    )
    return _len_field(1, entries)


def frame(record: bytes) -> bytes:
    length = struct.pack("<Q", len(record))
    return length + masked_crc32c(length) + record + masked_crc32c(record)


class TFRecordWriter(FormatWriter):
    name = "tfrecord"
    extension = "tfrecord"

    def _write(self, chunk: ExportChunk) -> None:
        names = SCHEMAS[self.kind].names
        out = bytearray()
        for row, meta in zip(chunk.records, chunk.metadata_json, strict=True):
            features = {}
            for name in names:
                if name == "metadata":
                    value = meta or "null"
                elif name == "messages":
                    value = orjson.dumps(row["messages"]).decode()
                else:
                    value = row[name]
                features[name] = value.encode("utf-8")
            out += frame(encode_example(features))
        self.sink.write(bytes(out))
