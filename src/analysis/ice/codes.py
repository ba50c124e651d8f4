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


def person_codes(column: Any) -> np.ndarray:
    """A code per record's person identifier (``-1`` where blank or redacted), equal codes for equal identifiers.

    ``column`` is an Arrow array. Strings are dictionary-encoded by Arrow, and
    blanks and redaction marks are found among the distinct values only, so a
    million identifiers never become Python objects.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        values = column.to_pandas().astype("object").map(lambda v: _clean(v) or None)
        codes, _ = pd.factorize(values)
        return codes.astype(np.int64)
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary
    trimmed = pc.utf8_trim_whitespace(values)
    withheld = pc.or_(pc.equal(pc.utf8_length(trimmed), 0), pc.equal(trimmed, "NA"))
    if pc.any(pc.match_substring(values, "(")).as_py():  # what: the regular expression only where it can match
        withheld = pc.or_(withheld, pc.match_substring_regex(values, REDACTED.pattern, ignore_case=True))
    blank = np.append(withheld.to_numpy(zero_copy_only=False), True)  # a null index picks the trailing True
    indices = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(blank[indices], -1, indices)
