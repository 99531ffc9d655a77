"""Client-side encryption at rest: AES-256-GCM for every table, spool, cache entry and JSON object
the pipeline writes, when a key is configured.

Keys never sit in pipeline.yaml. They come from the environment:

* ``SYNTH_PIPELINE_ENCRYPTION_KEYS``: ``kid:base64key[,kid:base64key…]``, or
* ``SYNTH_PIPELINE_ENCRYPTION_KEY_FILE``: a file with one ``kid:base64key`` per line (``#`` comments).

Each key is 32 random bytes, base64 (`generate_key`, or ``openssl rand -base64 32``). The first
key encrypts; every listed key decrypts, found by the key id that each envelope carries, so a key
is rotated by putting the new one first and keeping the old ones until nothing written with them
is left (SECURITY.md has the procedure).

Two formats, both AES-256-GCM:

* Parquet files use Parquet modular encryption (pyarrow), so phases still read them batch by
  batch: a fresh data key per file encrypts every column and the footer, and is stored in the
  footer wrapped by the master key of id ``kid`` (the kid is written beside it).
* Other bytes (JSON objects, cache lines) become an envelope
  ``MAGIC | len(kid) | kid | nonce(12) | ciphertext+tag``, with the magic and kid as associated
  data, so a swapped key id fails authentication instead of decrypting.

Plaintext written before a key was configured still reads; an encrypted file without its key
fails with `CryptoError` naming the file and the key id it needs.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet.encryption as pe

from synth_pipeline.errors import StorageError

KEYS_ENV = "SYNTH_PIPELINE_ENCRYPTION_KEYS"
KEY_FILE_ENV = "SYNTH_PIPELINE_ENCRYPTION_KEY_FILE"
MAGIC = b"SPE1"
NONCE_BYTES = 12
KEY_BYTES = 32
PARQUET_ENCRYPTED_MAGIC = b"PARE"  # Parquet's magic when the footer is encrypted
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HOW = f"set {KEYS_ENV} or {KEY_FILE_ENV}"


class CryptoError(StorageError):
    """A key is missing, malformed or wrong, or encrypted data does not authenticate."""


def generate_key() -> str:
    """A fresh 256-bit key, base64-encoded, for a key file line ``kid:<this>``."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class Keyring:
    """Master keys by id; `primary` (the first listed) encrypts, all of them decrypt."""

    keys: Mapping[str, bytes]
    primary: str
    source: str = field(default="", compare=False)  # where the keys came from, for error messages

    def __post_init__(self) -> None:
        if self.primary not in self.keys:
            raise CryptoError(f"{self.source}: primary key id {self.primary!r} has no key")

    @classmethod
    def parse(cls, text: str, source: str, separator: str = "\n") -> Keyring:
        """``kid:base64key`` entries; errors name `source` and the entry's line (or position)."""
        keys: dict[str, bytes] = {}
        primary = None
        for number, raw in enumerate(text.split(separator), start=1):
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            where = f"{source}:{number}" if separator == "\n" else f"{source} (entry {number})"
            kid, sep, encoded = entry.partition(":")
            kid = kid.strip()
            if not sep or not _KID.match(kid):
                raise CryptoError(f"{where}: expected 'kid:base64key' with a key id of letters, digits, '.', '_' "
                                  "or '-'")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise CryptoError(f"{where}: key {kid!r} is not valid base64") from None
            if len(key) != KEY_BYTES:
                raise CryptoError(f"{where}: key {kid!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
            if kid in keys:
                raise CryptoError(f"{where}: key id {kid!r} is listed twice")
            keys[kid] = key
            primary = primary or kid
        if primary is None:
            raise CryptoError(f"{source}: no key found ({_HOW} to 'kid:base64key' entries)")
        return cls(keys=keys, primary=primary, source=source)

    @classmethod
    def from_file(cls, path: str | Path) -> Keyring:
        path = Path(path).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CryptoError(f"{path}: key file not found (named by {KEY_FILE_ENV})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CryptoError(f"{path}: cannot read key file: {exc}") from None
        return cls.parse(text, str(path))

    def key(self, kid: str, where: str) -> bytes:
        try:
            return self.keys[kid]
        except KeyError:
            raise CryptoError(f"{where}: encrypted with key id {kid!r}, which is not among the configured keys "
                              f"({', '.join(sorted(self.keys))} from {self.source}); add it back to decrypt") from None

    # -- envelopes (bytes) -------------------------------------------------------------------
    def encrypt(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid = self.primary.encode("ascii")
        header = MAGIC + bytes([len(kid)]) + kid
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + AESGCM(self.keys[self.primary]).encrypt(nonce, data, header)

    def decrypt(self, blob: bytes, where: str) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid, header, body = _split_envelope(blob, where)
        key = self.key(kid, where)
        try:
            return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], header)
        except InvalidTag:
            raise CryptoError(f"{where}: cannot decrypt with key id {kid!r}: wrong key, or the data was "
                              "altered") from None

    # -- Parquet modular encryption ------------------------------------------------------------
    def _factory(self):
        if "_crypto_factory" not in self.__dict__:
            object.__setattr__(self, "_crypto_factory", pe.CryptoFactory(lambda _config: _KmsClient(self)))
        return self.__dict__["_crypto_factory"]

    def parquet_encryption(self):
        """`FileEncryptionProperties` for one new Parquet file (a fresh data key per file)."""
        config = pe.EncryptionConfiguration(
            footer_key=self.primary, uniform_encryption=True, encryption_algorithm="AES_GCM_V1",
            data_key_length_bits=256, double_wrapping=False, internal_key_material=True,
            cache_lifetime=datetime.timedelta(minutes=10))
        return self._factory().file_encryption_properties(pe.KmsConnectionConfig(), config)

    def parquet_decryption(self):
        return self._factory().file_decryption_properties(
            pe.KmsConnectionConfig(), pe.DecryptionConfiguration(cache_lifetime=datetime.timedelta(minutes=10)))


class _KmsClient(pe.KmsClient):
    """pyarrow's key-management hook: wraps each file's data key with our master key (AES-GCM)."""

    def __init__(self, keyring: Keyring) -> None:
        super().__init__()
        self.keyring = keyring

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keyring.keys[master_key_identifier]).encrypt(
            nonce, key_bytes, master_key_identifier.encode("ascii"))
        return base64.b64encode(nonce + sealed).decode("ascii")

    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self.keyring.key(master_key_identifier, "Parquet file")
        raw = base64.b64decode(wrapped_key)
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], master_key_identifier.encode("ascii"))
        except InvalidTag:
            raise CryptoError(f"Parquet file: cannot decrypt with key id {master_key_identifier!r}: wrong key, "
                              "or the data was altered") from None


def _split_envelope(blob: bytes, where: str) -> tuple[str, bytes, bytes]:
    if not is_envelope(blob) or len(blob) < len(MAGIC) + 1:
        raise CryptoError(f"{where}: not an encrypted envelope")
    size = blob[len(MAGIC)]
    header = blob[: len(MAGIC) + 1 + size]
    kid = header[len(MAGIC) + 1:].decode("ascii", "replace")
    body = blob[len(header):]
    if len(header) != len(MAGIC) + 1 + size or len(body) < NONCE_BYTES + 16:
        raise CryptoError(f"{where}: truncated encrypted envelope")
    return kid, header, body


def is_envelope(blob: bytes) -> bool:
    return blob[: len(MAGIC)] == MAGIC


def envelope_key_id(blob: bytes, where: str = "data") -> str:
    """The key id an envelope was sealed with (to find what a rotation still has to rewrite)."""
    return _split_envelope(blob, where)[0]


_cached: tuple[tuple[str | None, ...], Keyring | None] | None = None


def active_keyring() -> Keyring | None:
    """The keys configured in the environment, or None (encryption off). Re-read when the
    environment variables or the key file change, so a long-lived process picks up a rotation."""
    global _cached
    inline, path = os.environ.get(KEYS_ENV) or None, os.environ.get(KEY_FILE_ENV) or None
    if inline and path:
        raise CryptoError(f"both {KEYS_ENV} and {KEY_FILE_ENV} are set: use one")
    stamp: tuple[str | None, ...] = (inline, path)
    if path:
        try:
            stat = Path(path).expanduser().stat()
            stamp += (str(stat.st_mtime_ns), str(stat.st_size))
        except OSError:
            stamp += ("missing",)
    if _cached is not None and _cached[0] == stamp:
        return _cached[1]
    keyring = None
    if inline:
        keyring = Keyring.parse(inline, KEYS_ENV, separator=",")
    elif path:
        keyring = Keyring.from_file(path)
    _cached = (stamp, keyring)
    return keyring


def require_keyring(why: str) -> Keyring:
    """The configured keys, or a `CryptoError` saying how to configure them."""
    keyring = active_keyring()
    if keyring is None:
        raise CryptoError(f"{why}: no encryption key is configured: {_HOW}")
    return keyring


def seal(data: bytes) -> bytes:
    """`data` encrypted with the active primary key, or unchanged when no key is configured."""
    keyring = active_keyring()
    return keyring.encrypt(data) if keyring else data


def unseal(blob: bytes, where: str) -> bytes:
    """The plaintext of an envelope (needs its key), or `blob` itself when it is not encrypted."""
    if not is_envelope(blob):
        return blob
    keyring = active_keyring()
    if keyring is None:
        raise CryptoError(f"{where}: encrypted (key id {envelope_key_id(blob, where)!r}) but no key is "
                          f"configured: {_HOW}")
    return keyring.decrypt(blob, where)


def seal_text(line: str) -> str:
    """One text line (a JSONL record) as an encrypted, base64 line, or unchanged without a key."""
    keyring = active_keyring()
    return base64.b64encode(keyring.encrypt(line.encode("utf-8"))).decode("ascii") if keyring else line


def unseal_text(line: str, where: str) -> str:
    """The inverse of `seal_text`; plaintext JSON lines (starting with ``{``) pass unchanged."""
    if line.startswith("{"):
        return line
    try:
        blob = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError(f"{where}: neither a JSON line nor an encrypted one") from None
    return unseal(blob, where).decode("utf-8")


def parquet_write_options() -> dict:
    """Keyword arguments for `pq.write_table` / `pq.ParquetWriter`: encryption when a key is set."""
    keyring = active_keyring()
    return {"encryption_properties": keyring.parquet_encryption()} if keyring else {}


def parquet_read_options() -> dict:
    """Keyword arguments for `pq.ParquetFile` / `pq.read_table`: decryption when a key is set
    (plaintext files still read with them)."""
    keyring = active_keyring()
    return {"decryption_properties": keyring.parquet_decryption()} if keyring else {}


def explain_parquet_error(exc: BaseException, where: str) -> CryptoError | None:
    """A `CryptoError` naming `where` when `exc` is an encryption failure reading a Parquet file."""
    if isinstance(exc, CryptoError):
        return CryptoError(f"{where}: {str(exc).removeprefix('Parquet file: ')}")
    text = str(exc)
    if "no decryption found" in text or "encrypted" in text.lower() and "decrypt" in text.lower():
        return CryptoError(f"{where}: the file is encrypted but no key is configured: {_HOW}")
    if "Failed decryption" in text or "InvalidTag" in text:
        return CryptoError(f"{where}: cannot decrypt: wrong key, or the file was altered")
    return None
