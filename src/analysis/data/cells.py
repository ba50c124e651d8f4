"""Turning validated text cells into typed values.

The schema's checks and the loader share these parsers, so a value that the
checks accept is exactly a value the loader can convert.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Counts above this are taken to be typing errors (no agency in the data
#: receives anywhere near a million detainer requests in one period).
MAX_COUNT = 1_000_000

#: Separator between several source ids in one cell.
ID_SEPARATOR = ";"

_WHOLE = r"\d+"
_DATE = r"\d{4}-\d{2}-\d{2}"
#: What completes a partial date (by its length) to the first day it covers.
_FIRST_DAY_SUFFIX = {4: "-01-01", 7: "-01", 10: ""}


def to_count(cells: pd.Series) -> pd.Series:
    """Parse whole-number cells to ``Int64``; blank or malformed cells become ``<NA>``."""
    whole = cells.str.fullmatch(_WHOLE)
    numbers = pd.to_numeric(cells.where(whole), errors="coerce")
    return numbers.astype("Int64")


def to_number(cells: pd.Series) -> pd.Series:
    """Parse decimal cells to ``float``; blank, malformed or infinite cells become ``NaN``."""
    numbers = pd.to_numeric(cells.where(cells.ne("")), errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


def to_date(cells: pd.Series) -> pd.Series:
    """Parse ``YYYY-MM-DD`` cells to timestamps; anything else becomes ``NaT``."""
    shaped = cells.where(cells.str.fullmatch(_DATE))
    return pd.to_datetime(shaped, format="%Y-%m-%d", errors="coerce")


def to_partial_date(cells: pd.Series) -> pd.Series:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` cells to the first day they cover; else ``NaT``."""
    shaped = cells.where(cells.str.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?"), "")
    padded = [value + _FIRST_DAY_SUFFIX[len(value)] if value else "" for value in shaped]
    return to_date(pd.Series(padded, index=cells.index, dtype="str"))


def split_ids(cell: str) -> list[str]:
    """Split a cell of source ids (``a;b;c``) into a list, dropping blanks."""
    return [part.strip() for part in cell.split(ID_SEPARATOR) if part.strip()]


def to_bool(cells: pd.Series) -> pd.Series:
    """Parse ``true``/``false`` cells (any case) to ``bool``; other values become ``<NA>``."""
    lowered = cells.str.lower()
    return lowered.map({"true": True, "false": False}).astype("boolean")
