"""Column types that encrypt the review store's content fields when a key is configured.

The review database holds the rows people review (records, judge rationales, edits, reasons,
notes, audit snapshots); these types seal each value with the pipeline's key (`crypto.seal_text`,
AES-256-GCM) on the way in and open it on the way out, so neither the SQLite file nor the
PostgreSQL tables hold the text. The column's SQL type stays JSON or TEXT: values written before a
key was configured still read back, so turning encryption on needs no migration, and values
written later are sealed. Nothing may filter, sort or aggregate on a sealed column in SQL (each
value is a random-looking ciphertext); do that in Python after reading.

Each type knows its ``table.column``, so a missing or wrong key fails with a `CryptoError` naming it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from synth_pipeline.crypto import CryptoError, active_keyring, seal_text, unseal_text

SEALED_KEY = "$sealed"  # the one key of the JSON wrapper around a sealed JSON value
TEXT_PREFIX = "$sealed$"  # what starts a sealed text value


def _open(ciphertext: Any, where: str) -> str:
    if not isinstance(ciphertext, str) or ciphertext.startswith("{"):
        raise CryptoError(f"{where}: the sealed value is malformed (altered?)")
    return unseal_text(ciphertext, where)


class SealedJSON(TypeDecorator):
    """JSON whose stored form is ``{"$sealed": <seal_text of the value's JSON>}`` while a key is set."""

    impl = sa.JSON
    cache_ok = True

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None or active_keyring() is None:
            return value
        return {SEALED_KEY: seal_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))}

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, dict) and len(value) == 1 and SEALED_KEY in value:
            return json.loads(_open(value[SEALED_KEY], self.where))
        return value


class SealedText(TypeDecorator):
    """Text stored as ``$sealed$<seal_text of the value>`` while a key is set."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        if value is None or active_keyring() is None:
            return value
        return TEXT_PREFIX + seal_text(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        if value is not None and value.startswith(TEXT_PREFIX):
            return _open(value[len(TEXT_PREFIX):], self.where)
        return value
