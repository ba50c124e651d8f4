"""Text columns of large record files as integer codes.

A million records must be handled in about the time pandas takes to read
them, so text is kept dictionary-encoded: an integer code per record and each
distinct value once. Checks and counts then work on the codes. Person
identifiers, nearly all distinct, are hashed to integer keys instead
(:class:`People`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

#: ICE's marks of a value withheld under a FOIA exemption ("b(6), b(7)c", "(b)(6), (b)(7)(c)"): missing, never a value.
REDACTED = re.compile(r"\(b\)|b\([0-9]\)", re.IGNORECASE)


@dataclass(frozen=True)
class Coded:
    """A text column as codes into its distinct values (``-1`` where blank)."""

    codes: np.ndarray
    values: np.ndarray

    @classmethod
    def blank(cls, count: int) -> Coded:
        """A column the file does not have: every record blank."""
        return cls(np.full(count, -1, dtype=np.int64), np.empty(0, dtype=object))

    @classmethod
    def from_parts(cls, codes: np.ndarray, values: list[str] | np.ndarray) -> Coded:
        """Strip the values, merge the ones that become equal, and code blanks and redactions as ``-1``."""
        stripped = np.array([_clean(v) for v in values], dtype=object)
        unique, inverse = np.unique(stripped, return_inverse=True) if len(stripped) else (stripped, stripped)
        remap = np.asarray(inverse, dtype=np.int64)
        if len(unique) and unique[0] == "":
            remap, unique = remap - 1, unique[1:]  # what: the blank value becomes -1
        # What: decided per distinct value, then one lookup per record (np.take: a third of indexing's time on a
        # million codes); a code of -1 picks the trailing -1.
        return cls(np.take(np.append(remap, -1), codes), unique)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The values of ``codes`` ("" for -1)."""
        return np.append(self.values, "")[codes]


def _clean(value: Any) -> str:
    text = "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value).strip()
    return "" if text == "NA" or REDACTED.search(text) else text


#: The low ``n`` bytes of a little-endian 64-bit word, for ``n`` from 0 to 8.
_BYTE_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class People:
    """Each record's person identifier as an integer key (``-1`` where blank or withheld); equal identifiers, equal key.

    Keys hashed from the identifiers (``ids`` given, the identifiers
    themselves as an Arrow array) can also, very rarely, be equal for two
    different identifiers; :meth:`codes` settles the records where that
    matters by the identifiers themselves.
    """

    keys: np.ndarray
    ids: Any = None

    @classmethod
    def none(cls, count: int) -> People:
        """A file without identifiers: every record blank."""
        return cls(np.full(count, -1, dtype=np.int64))

    @property
    def exact(self) -> bool:
        """Whether equal keys always mean equal identifiers."""
        return self.ids is None

    def codes(self, rows: np.ndarray) -> np.ndarray:
        """Codes for ``rows``, equal exactly when their identifiers are (``-1`` where blank)."""
        keys = self.keys[rows]
        if self.ids is None:
            return keys
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(self.ids.take(rows))
        indices = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        return np.where(keys < 0, -1, indices)


@dataclass(frozen=True)
class _Strings:
    """An Arrow string array's buffers as numpy arrays: where each string starts, its length, and its bytes (a view
    of Arrow's buffer, no copy).

    ``grid`` holds the strings that are not empty as rows when they all have
    one length, as most identifier columns have (see :meth:`hashes`).
    """

    starts: np.ndarray
    lengths: np.ndarray
    text: np.ndarray

    @classmethod
    def of(cls, column: Any) -> _Strings:
        import pyarrow as pa

        offset_type = np.int64 if pa.types.is_large_string(column.type) else np.int32
        buffers = column.buffers()
        offsets = np.frombuffer(
            buffers[1], dtype=offset_type, count=len(column) + 1, offset=column.offset * np.dtype(offset_type).itemsize
        ).astype(np.int64, copy=False)
        text = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.empty(0, dtype=np.uint8)
        return cls(offsets[:-1], np.diff(offsets), text[: offsets[-1]])

    @cached_property
    def grid(self) -> np.ndarray | None:
        """The bytes of the strings that are not empty, one row each (shape: such strings, their length), when they
        all have one length, as most identifier columns have; a view, no copy. ``None`` when their lengths differ
        or every string is empty."""
        length = int(self.lengths.max()) if len(self.lengths) else 0
        filled = int(np.count_nonzero(self.lengths))
        start = int(self.starts[0]) if len(self.starts) else 0
        if length == 0 or int(self.lengths.sum()) != filled * length:  # what: else some string is shorter
            return None
        return self.text[start : start + filled * length].reshape(filled, length)

    def hashes(self) -> np.ndarray:
        """A 64-bit hash of each string that is not empty (that of an empty one is any value)."""
        grid = self.grid
        if grid is None:
            return self._gathered_hashes()
        count, length = grid.shape
        padded = np.zeros((count, -(-length // 8) * 8), dtype=np.uint8)
        padded[:, :length] = grid  # what: zeros after the last byte, as the mask of the last word leaves
        words = padded.view("<u8")
        hashes = np.full(count, length, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for step in range(words.shape[1]):
                hashes ^= words[:, step]
                hashes *= _MULTIPLIER
                hashes ^= hashes >> np.uint64(29)
        if count == len(self.lengths):
            return hashes
        every = np.zeros(len(self.lengths), dtype=np.uint64)
        every[self.lengths > 0] = hashes
        return every

    def _gathered_hashes(self) -> np.ndarray:
        """:meth:`hashes` of strings of any lengths (the same values where they have one), the next word of every
        string gathered at each step from a little-endian 64-bit word starting at every byte (the bytes copied,
        padded so that any string's words can be read)."""
        longest = int(self.lengths.max()) if len(self.lengths) else 0
        padded = np.zeros(len(self.text) + longest + 8, dtype=np.uint8)
        padded[: len(self.text)] = self.text
        words = np.ndarray((len(self.text) + longest + 1,), dtype="<u8", buffer=padded, strides=(1,))
        hashes, at = self.lengths.astype(np.uint64), self.starts.copy()
        filled = self.lengths[self.lengths > 0]
        longest = int(filled.max()) if len(filled) else 0
        # What: identifiers usually all have one length; then only the last word needs a mask, and one mask serves all
        # (blank strings' hashes do not matter: they are no identifier).
        uniform = longest == int(filled.min()) if len(filled) else True
        with np.errstate(over="ignore"):
            for step in range(0, longest, 8):
                word = words[at]
                if not uniform:
                    word &= _BYTE_MASKS[np.clip(self.lengths - step, 0, 8)]
                elif step + 8 > longest:
                    word &= _BYTE_MASKS[longest - step]
                hashes ^= word
                hashes *= _MULTIPLIER
                hashes ^= hashes >> np.uint64(29)
                at += 8
        return hashes

    def edged(self) -> bool:
        """Whether a string may start or end with white space: an ASCII space or control byte, or any non-ASCII."""
        grid = self.grid
        if grid is not None:
            first, last = grid[:, 0], grid[:, -1]
        else:
            filled = np.flatnonzero(self.lengths)
            first = self.text[self.starts[filled]]
            last = self.text[self.starts[filled] + self.lengths[filled] - 1]
        return bool(((first <= 32) | (first >= 0x80) | (last <= 32) | (last >= 0x80)).any())

    def equal_to(self, value: bytes) -> np.ndarray:
        """Which strings are exactly ``value`` (compared a byte at a time, only on the strings of its length)."""
        rows = np.flatnonzero(self.lengths == len(value))
        for index, byte in enumerate(value):
            rows = rows[self.text[self.starts[rows] + index] == byte]
        found = np.zeros(len(self.lengths), dtype=bool)
        found[rows] = True
        return found

    def holding(self, byte: int) -> np.ndarray:
        """The rows of the strings holding ``byte``."""
        rows = np.searchsorted(self.starts, np.flatnonzero(self.text == byte), side="right") - 1
        return np.unique(rows[rows >= 0])


def person_keys(column: Any) -> People:
    """Each record's person identifier (an Arrow array) as a key; blanks, ``NA`` and redaction marks are ``-1``.

    Strings are hashed straight from Arrow's buffers, so a million
    identifiers never become Python objects and need no hash table of their
    own; surrounding spaces are ignored.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        values = column.to_pandas().astype("object").map(lambda v: _clean(v) or None)
        codes, _ = pd.factorize(values)
        return People(codes.astype(np.int64))
    strings = _Strings.of(column)
    ids = column
    if strings.edged():  # what: trimming copies every identifier; most files have nothing to trim
        ids = pc.utf8_trim_whitespace(column)
        strings = _Strings.of(ids)
    blank = (strings.lengths == 0) | ids.is_null().to_numpy(zero_copy_only=False) | strings.equal_to(b"NA")
    marked = strings.holding(ord("("))
    if len(marked):  # what: the regular expression only where it can match
        withheld = pc.match_substring_regex(ids.take(marked), REDACTED.pattern, ignore_case=True)
        blank[marked[withheld.fill_null(False).to_numpy(zero_copy_only=False)]] = True
    keys = (strings.hashes() >> np.uint64(1)).view(np.int64)  # what: non-negative, so -1 stays free for blanks
    keys[blank] = -1
    return People(keys, ids)
