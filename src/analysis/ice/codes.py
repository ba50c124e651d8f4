"""Text columns of large record files as integer codes.

A million records must be handled in about the time pandas takes to read
them, so text is kept dictionary-encoded: an integer code per record and each
distinct value once. Checks and counts then work on the codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
        remap = np.append(np.asarray(inverse, dtype=np.int64), -1)  # a code of -1 stays -1
        codes = remap[codes]
        if len(unique) and unique[0] == "":
            codes = np.where(codes == 0, -1, codes - 1)
            unique = unique[1:]
        return cls(codes, unique)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The values of ``codes`` ("" for -1)."""
        return np.append(self.values, "")[codes]


def _clean(value: Any) -> str:
    text = "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value).strip()
    return "" if text == "NA" or REDACTED.search(text) else text


#: FNV-1a, 64-bit: offset basis and prime.
_FNV_BASIS, _FNV_PRIME = np.uint64(14695981039346656037), np.uint64(1099511628211)


def person_codes(column: Any) -> np.ndarray:
    """A code per record's person identifier (``-1`` where blank), equal codes for equal identifiers.

    A million identifiers are nearly all distinct, and hashing them as Python
    or Arrow dictionary strings costs more than reading the whole file. Here
    each identifier's bytes are hashed (FNV-1a, 64-bit) column by column in
    numpy, and the hashes numbered; two different identifiers share a code
    only if their 64-bit hashes collide (about one chance in 10^7 for a
    million identifiers), which would at worst flag one extra duplicate.
    """
    import pyarrow as pa

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        values = column.to_pandas().astype("object").map(lambda v: _clean(v) or None)
        codes, _ = pd.factorize(values)
        return codes.astype(np.int64)
    count = len(column)
    wide = np.int64 if pa.types.is_large_string(column.type) else np.int32
    offsets = np.frombuffer(column.buffers()[1], dtype=wide, count=count + 1, offset=column.offset * wide().itemsize)
    data = (
        np.frombuffer(column.buffers()[2], dtype=np.uint8) if column.buffers()[2] is not None else np.zeros(1, np.uint8)
    )
    starts, lengths = offsets[:-1].astype(np.int64), np.diff(offsets).astype(np.int64)
    hashes = np.full(count, _FNV_BASIS, dtype=np.uint64)
    longest = int(lengths.max(initial=0))
    with np.errstate(over="ignore"):
        if count and (lengths == longest).all():
            # What: identifiers of one length (the usual case) are the rows of a byte matrix.
            matrix = data[starts[0] : starts[0] + count * longest].reshape(count, longest)
            for position in range(longest):
                hashes = (hashes ^ matrix[:, position]) * _FNV_PRIME
        else:
            for position in range(longest):
                byte = data[np.minimum(starts + position, len(data) - 1)]
                hashes = np.where(position < lengths, (hashes ^ byte) * _FNV_PRIME, hashes)
        hashes = (hashes ^ lengths.astype(np.uint64)) * _FNV_PRIME
    codes, _ = pd.factorize(hashes)
    import pyarrow.compute as pc

    redacted = pc.match_substring_regex(column, REDACTED.pattern, ignore_case=True).fill_null(False)
    blank = (lengths == 0) | redacted.to_numpy(zero_copy_only=False)
    blank |= column.is_null().to_numpy(zero_copy_only=False) if column.null_count else False
    return np.where(blank, -1, codes).astype(np.int64)
