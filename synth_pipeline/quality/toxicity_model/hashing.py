"""scikit-learn's `HashingVectorizer` counts for the model's two analyzers, computed with numpy.

sklearn builds every word and character n-gram as a Python string and hashes them one by one,
which makes feature extraction most of the model's cost. Here a batch of texts becomes one
UTF-8 buffer, each n-gram a (byte offset, byte length) span of it, and the spans are hashed
with MurmurHash3 (x86, 32-bit, seed 0: sklearn's hash) as numpy uint32 arithmetic. The n-grams
are the ones sklearn's analyzers produce (lower-cased; `char_wb` pads each whitespace-separated
word with one space; `word` joins adjacent tokens with a space) and the column of a hash is
sklearn's, so the count matrix is the same, entry for entry; a test holds the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
CHUNK_TEXTS = 500  # texts hashed together: a text has ~4 char n-grams per character, each ~50 B of arrays
_INT32_MIN = -(2**31)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _mix_block(k: np.ndarray) -> np.ndarray:
    return _rotl(k * _C1, 15) * _C2


def _fmix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def murmur3_spans(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Signed 32-bit MurmurHash3 (seed 0) of each byte span `buf[start:start + length]`."""
    raw = np.frombuffer(buf + b"\0\0\0\0", dtype=np.uint8).astype(np.uint32)
    # the little-endian 32-bit word starting at every byte offset
    words = raw[:-3] | (raw[1:-2] << np.uint32(8)) | (raw[2:-1] << np.uint32(16)) | (raw[3:] << np.uint32(24))
    out = np.empty(len(starts), dtype=np.uint32)
    # one pass per span length, so the loops need no masks; a stable sort of small ints is a radix sort
    order = np.argsort(lengths.astype(np.uint16) if len(lengths) and lengths.max() < 2**16 else lengths,
                       kind="stable")
    sizes = np.bincount(lengths)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for length in np.flatnonzero(sizes).tolist():
        sel = order[bounds[length]:bounds[length + 1]]
        at = starts[sel]
        h = np.zeros(len(sel), dtype=np.uint32)
        for block in range(length // 4):
            h ^= _mix_block(words[at + 4 * block])
            h = _rotl(h, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        if length & 3:
            tail = words[at + 4 * (length // 4)] & np.uint32((1 << (8 * (length & 3))) - 1)
            h ^= _mix_block(tail)
        out[sel] = _fmix(h ^ np.uint32(length))
    return out.view(np.int32)


def _columns(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """sklearn's column of a signed hash, abs(h) % n_features (its special case for -2**31 gives
    the same column as 2**31 % n_features, which the unsigned abs below computes)."""
    unsigned = hashes.view(np.uint32)
    magnitude = np.where(hashes < 0, -unsigned, unsigned)
    return (magnitude % np.uint32(n_features)).astype(np.int64)


def _byte_offsets(stream: str) -> tuple[bytes, np.ndarray]:
    """The UTF-8 bytes of `stream` and the byte offset of each character (plus the end)."""
    data = stream.encode("utf-8")
    if len(data) == len(stream):
        return data, np.arange(len(stream) + 1, dtype=np.int64)
    points = np.frombuffer(stream.encode("utf-32-le"), dtype=np.uint32)
    sizes = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    return data, np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


def _ragged_starts(first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """first[i], first[i] + 1, ..., first[i] + counts[i] - 1 for every i, concatenated."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.repeat(first - (ends - counts), counts) + np.arange(total, dtype=np.int64)


def _matrix(stream: str, starts: np.ndarray, lengths: np.ndarray, rows: np.ndarray, n_rows: int,
            n_features: int) -> sp.csr_matrix:
    """The canonical CSR count matrix (sorted columns, one entry each), as sklearn returns it."""
    data, offsets = _byte_offsets(stream)
    byte_starts = offsets[starts]
    cols = _columns(murmur3_spans(data, byte_starts, offsets[starts + lengths] - byte_starts), n_features)
    keys = np.sort(rows * n_features + cols)
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    first = np.flatnonzero(new)
    counts = np.diff(np.append(first, len(keys))).astype(np.float64)
    unique = keys[first]
    indptr = np.searchsorted(unique // n_features, np.arange(n_rows + 1)).astype(np.int32)
    return sp.csr_matrix((counts, (unique % n_features).astype(np.int32), indptr), shape=(n_rows, n_features))


def char_wb_counts(texts: Sequence[str], ngram_range: tuple[int, int], n_features: int) -> sp.csr_matrix:
    """Counts of `analyzer="char_wb"`, lowercase: n-grams inside each space-padded word."""
    min_n, max_n = ngram_range
    tokens: list[str] = []
    per_text = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        found = text.lower().split()
        tokens.extend(found)
        per_text[i] = len(found)
    padded = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)) + 2
    first = np.cumsum(padded) - padded  # where each " word " starts in the stream
    owner = np.repeat(np.arange(len(texts)), per_text)
    starts, lengths, rows = [], [], []
    short = padded < min_n  # sklearn keeps such a word whole, once
    starts.append(first[short])
    lengths.append(padded[short])
    rows.append(owner[short])
    for n in range(min_n, max_n + 1):
        fits = padded >= n
        counts = padded[fits] - n + 1
        starts.append(_ragged_starts(first[fits], counts))
        lengths.append(np.full(int(counts.sum()), n, dtype=np.int64))
        rows.append(np.repeat(owner[fits], counts))
    stream = f" {'  '.join(tokens)} " if tokens else ""
    return _matrix(stream, np.concatenate(starts), np.concatenate(lengths), np.concatenate(rows), len(texts),
                   n_features)


def word_counts(texts: Sequence[str], token_pattern: str, ngram_range: tuple[int, int],
                n_features: int) -> sp.csr_matrix:
    """Counts of `analyzer="word"`, lowercase: tokens, and runs of them joined by single spaces."""
    min_n, max_n = ngram_range
    find = re.compile(token_pattern).findall
    tokens: list[str] = []
    per_text = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        found = find(text.lower())
        tokens.extend(found)
        per_text[i] = len(found)
    size = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    first = np.cumsum(size + 1) - (size + 1)  # the stream is the tokens joined by one space
    owner = np.repeat(np.arange(len(texts)), per_text)
    text_end = np.cumsum(per_text)  # one past each text's last token
    last_of = np.repeat(text_end, per_text)
    index = np.arange(len(tokens), dtype=np.int64)
    starts, lengths, rows = [], [], []
    for n in range(min_n, max_n + 1):
        ok = index + n <= last_of  # an n-gram stays inside its text
        at = index[ok]
        starts.append(first[at])
        lengths.append(first[at + n - 1] + size[at + n - 1] - first[at])
        rows.append(owner[at])
    stream = " ".join(tokens)
    return _matrix(stream, np.concatenate(starts), np.concatenate(lengths), np.concatenate(rows), len(texts),
                   n_features)


def hashed_counts(texts: Sequence[str], params: dict[str, Any]) -> sp.csr_matrix:
    """What `HashingVectorizer(**params).transform(texts)` returns, for the parameters the model uses.

    Texts are hashed `CHUNK_TEXTS` at a time, so memory follows the chunk, not the batch."""
    expected = {"lowercase": True, "alternate_sign": False, "norm": None}
    if any(params.get(k) != v for k, v in expected.items()) or params["analyzer"] not in ("word", "char_wb"):
        raise ValueError(f"hashed_counts: unsupported HashingVectorizer parameters {params}")
    if params["analyzer"] == "word":
        def count(chunk: Sequence[str]) -> sp.csr_matrix:
            return word_counts(chunk, params["token_pattern"], params["ngram_range"], params["n_features"])
    else:
        def count(chunk: Sequence[str]) -> sp.csr_matrix:
            return char_wb_counts(chunk, params["ngram_range"], params["n_features"])
    if len(texts) <= CHUNK_TEXTS:
        return count(texts)
    return sp.vstack([count(texts[i:i + CHUNK_TEXTS]) for i in range(0, len(texts), CHUNK_TEXTS)], format="csr")
