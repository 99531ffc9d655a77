"""Text normalisation and word n-gram hashing, vectorised over Arrow string arrays.

Normalisation follows the lm-eval / GPT-3 decontamination convention: Unicode NFKC, lower
case, punctuation and symbols replaced by spaces, whitespace collapsed. Words are hashed to
64 bits once per distinct word of a batch and n-grams are a polynomial combination of word
hashes, so the per-row cost is a few numpy passes instead of Python string work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NORMALISATION = {
    "unicode": "NFKC",
    "case": "lower",
    "punctuation": r"Unicode punctuation and symbols [\p{P}\p{S}] (and ASCII control characters) separate words",
    "whitespace": "collapsed; words are maximal runs of letters, digits and marks",
    "hash": "64-bit polynomial hash per word (splitmix64-finalised), n-grams combined by polynomial",
    "version": 2,
}
NORMALISATION_VERSION = NORMALISATION["version"]

_UNICODE_SEP = r"[\s\p{Z}\p{P}\p{S}]+"
_SEP = np.ones(256, dtype=bool)  # byte -> separates words (after normalise)
_SEP[np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", np.uint8)] = False
_SEP[0x80:] = False  # UTF-8 bytes of non-ASCII letters; non-ASCII separators are spaces by now
_WORD_MUL = np.uint64(0x100000001B3)  # FNV-64 prime: odd, spreads bytes over the word
_GRAM_MUL = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio constant: odd
_MAX_POW = 1 << 16


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection that scatters nearby values (in place)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _powers(size: int) -> np.ndarray:
    p = np.full(size, _WORD_MUL, dtype=np.uint64)
    p[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(p, dtype=np.uint64)


_POW = _powers(_MAX_POW)


def normalise(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Lower-cased NFKC text; in non-ASCII rows every run of Unicode separators, punctuation and
    symbols is already one space. ASCII punctuation is left for `tokenise`, which treats every
    ASCII byte other than [a-z0-9] as a separator (cheaper than a regex over every row)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = pc.fill_null(texts.cast(pa.string()), "")
    is_ascii = pc.string_is_ascii(texts)
    if pc.all(is_ascii).as_py() is not False:
        return pc.ascii_lower(texts)
    out = pc.utf8_lower(pc.utf8_normalize(texts, form="NFKC"))
    other = pc.invert(is_ascii)
    return pc.replace_with_mask(out, other, pc.replace_substring_regex(out.filter(other), _UNICODE_SEP, " "))


def hash_strings(strings: pa.StringArray) -> np.ndarray:
    """Stable 64-bit hash of each string (process- and platform-independent)."""
    n = len(strings)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=n + 1, offset=strings.offset * 4)
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(strings.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    starts = offsets[:-1] - offsets[0]
    lengths = np.diff(offsets)
    out = np.zeros(n, dtype=np.uint64)
    nonempty = lengths > 0
    if data.size:
        pos = np.arange(data.size, dtype=np.int64) - np.repeat(starts, lengths)
        np.minimum(pos, _MAX_POW - 1, out=pos)  # bytes past 64 KiB of one word share a power
        with np.errstate(over="ignore"):
            prod = data.astype(np.uint64) * _POW[pos]
            out[nonempty] = np.add.reduceat(prod, starts[nonempty])
    out ^= lengths.astype(np.uint64) << np.uint64(48)
    return _mix(out)


def _gram_powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Powers of the gram multiplier and of its inverse mod 2**64, at least `size` of each."""
    global _GPOW, _GINV
    if _GPOW.size < size:
        grow = max(size, 2 * _GPOW.size)
        fwd = np.full(grow, _GRAM_MUL, dtype=np.uint64)
        inv = np.full(grow, _GRAM_INV, dtype=np.uint64)
        fwd[0] = inv[0] = 1
        with np.errstate(over="ignore"):
            _GPOW, _GINV = np.cumprod(fwd, dtype=np.uint64), np.cumprod(inv, dtype=np.uint64)
    return _GPOW, _GINV


_GRAM_INV = np.uint64(pow(int(_GRAM_MUL), -1, 1 << 64))
_GPOW = _GINV = np.ones(1, dtype=np.uint64)


@dataclass
class Tokens:
    """Normalised words of a batch of texts, flattened, with their hashes.

    Any gram's hash comes from one prefix sum: with S[j] = sum_{t<j} w[t] * M**-t (mod 2**64),
    the polynomial hash of words i..i+k-1 is M**(i+k-1) * (S[i+k] - S[i]), so every extra gram
    length costs a few vector operations instead of k.
    """

    pieces: pa.StringArray  # word, gap, word, gap, ..., word: all texts' words at even positions
    hashes: np.ndarray  # uint64 hash per word
    offsets: np.ndarray  # int64, texts[i] owns words[offsets[i]:offsets[i + 1]]
    _prefix: np.ndarray | None = field(default=None, repr=False)
    _end: np.ndarray | None = field(default=None, repr=False)

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def _prepare(self) -> tuple[np.ndarray, np.ndarray]:
        if self._prefix is None:
            total = len(self.hashes)
            fwd, inv = _gram_powers(total + 1)
            prefix = np.zeros(total + 1, dtype=np.uint64)
            with np.errstate(over="ignore"):
                np.cumsum(self.hashes * inv[:total], out=prefix[1:])
            self._prefix = prefix
            self._end = np.repeat(self.offsets[1:], self.counts)  # end of the owning text
        return self._prefix, self._end

    def grams_at(self, starts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Hashes of the k-grams starting at `starts`, and which of them lie inside one text."""
        prefix, end = self._prepare()
        fwd, _ = _gram_powers(len(self.hashes) + 1)
        ok = starts + k <= end[starts] if starts.size else np.zeros(0, dtype=bool)
        safe = np.where(ok, starts, 0)
        with np.errstate(over="ignore"):
            h = fwd[safe + k - 1] * (prefix[safe + k] - prefix[safe]) + np.uint64(k)
        return _mix(h), ok

    def grams(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(hash, flat start position) of every n-gram lying inside one text."""
        total = len(self.hashes)
        if total < n:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        prefix, end = self._prepare()
        fwd, _ = _gram_powers(total + 1)
        m = total - n + 1
        starts = np.flatnonzero(np.arange(n, total + 1) <= end[:m])
        with np.errstate(over="ignore"):
            h = fwd[n - 1:n - 1 + m] * (prefix[n:n + m] - prefix[:m]) + np.uint64(n)
        return _mix(h[starts]), starts

    def whole(self, below: int) -> np.ndarray:
        """Hash of the full word sequence of texts with 1..below-1 words (equal to grams(len)); else 0."""
        out = np.zeros(len(self.offsets) - 1, dtype=np.uint64)
        counts = self.counts
        texts = np.flatnonzero((counts > 0) & (counts < below))
        for k in np.unique(counts[texts]):
            sel = texts[counts[texts] == k]
            out[sel] = self.grams_at(self.offsets[sel], int(k))[0]
        return out

    def owner(self, positions: np.ndarray) -> np.ndarray:
        """Text index owning each flat word position."""
        return np.searchsorted(self.offsets, positions, side="right") - 1

    def text(self, start: int, length: int) -> str:
        """Words start..start+length-1 (flat positions), joined by single spaces."""
        return " ".join(self.pieces.slice(2 * start, max(2 * length - 1, 0)).to_pylist()[::2])

    def normalised(self, i: int) -> str:
        """Text `i` as compared: normalised words joined by single spaces."""
        return self.text(int(self.offsets[i]), int(self.offsets[i + 1] - self.offsets[i]))


def tokenise(texts: pa.Array | pa.ChunkedArray | list[str]) -> Tokens:
    """Normalise, split into words and hash them (one hash per distinct word).

    Words are found on the UTF-8 bytes with numpy (a byte table of separators) instead of a
    regex + split kernel; the buffer is then viewed as alternating word/gap strings, so the
    words are dictionary-encoded by Arrow without being copied.
    """
    arr = pa.array(texts, type=pa.string()) if isinstance(texts, list) else texts
    normal = normalise(arr)
    n = len(normal)
    if n == 0:
        return Tokens(pa.array([], pa.string()), np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64))
    offsets = np.frombuffer(normal.buffers()[1], dtype=np.int32, count=n + 1, offset=normal.offset * 4)
    offsets = offsets.astype(np.int64)
    base, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    data_buf = normal.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8, count=size, offset=base) if size else np.zeros(0, np.uint8)
    word = ~_SEP[data]
    cut = np.zeros(size + 1, dtype=bool)  # text boundaries: no word runs across them
    cut[offsets - base] = True
    prev = np.zeros(size, dtype=bool)
    prev[1:] = word[:-1]
    nxt = np.zeros(size, dtype=bool)
    nxt[:-1] = word[1:]
    is_start = word & ~(prev & ~cut[:-1])
    starts = np.flatnonzero(is_start)
    ends = np.flatnonzero(word & ~(nxt & ~cut[1:])) + 1
    csum = np.concatenate([[0], np.cumsum(is_start, dtype=np.int64)])
    word_offsets = csum[offsets - base]
    if starts.size:
        bounds = np.empty(2 * starts.size, dtype=np.int64)
        bounds[0::2], bounds[1::2] = starts, ends
        bounds += base
        pieces = pa.StringArray.from_buffers(2 * starts.size - 1, pa.py_buffer(bounds.astype(np.int32)), data_buf)
        encoded = pc.dictionary_encode(pieces)
        hashes = hash_strings(encoded.dictionary)[encoded.indices.to_numpy(zero_copy_only=False)[0::2]]
    else:
        pieces, hashes = pa.array([], pa.string()), np.zeros(0, dtype=np.uint64)
    return Tokens(pieces, hashes, word_offsets)
