"""Parsing text cells, one parser per kind of cell: counts, decimals, dates, period labels, ids, flags.

Every reader and every check uses these parsers, so a value that validation
accepts is exactly the value the outputs use. Each works on ASCII text only:
Python's and pandas' own parsers also accept ``+5``, ``1_5``, and
Arabic-Indic or full-width digits, which a count in a public record never is.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Counts above this are taken to be typing errors (no agency in the data
#: receives anywhere near a million detainer requests in one period).
MAX_COUNT = 1_000_000
#: Most decimal places a claim can be checked to.
MAX_PRECISION = 6
#: Separator between several source ids in one cell.
ID_SEPARATOR = ";"

#: Dates outside these are typing errors: the detainer records and reports this
#: package reads start in the 1990s, and nothing is dated past the end of next year.
FIRST_PLAUSIBLE_DATE = pd.Timestamp(1990, 1, 1)
LAST_PLAUSIBLE_DATE = pd.Timestamp(pd.Timestamp.now().year + 1, 12, 31)
PLAUSIBLE_DATES = f"between {FIRST_PLAUSIBLE_DATE.date()} and {LAST_PLAUSIBLE_DATE.date()}"

COUNT = re.compile(r"[0-9]+", re.ASCII)
DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
PARTIAL_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?", re.ASCII)
#: Digits enough for any count up to :data:`MAX_COUNT`; longer ones are never converted (no overflow).
_COUNT_DIGITS = len(str(MAX_COUNT))
#: What completes a partial date (by its length) to the first day it covers.
_FIRST_DAY_SUFFIX = {4: "-01-01", 7: "-01", 10: ""}
_NO_DAY = np.datetime64("NaT", "us")


def by_value(cells: pd.Series, function: Callable[[str], Any]) -> pd.Series:
    """``cells.map(function)``, calling ``function`` once per distinct cell (a column of a million rows repeats
    a few thousand values). The result is an ``object`` series on ``cells``' index."""
    codes, distinct = pd.factorize(cells, use_na_sentinel=False)
    results = np.empty(len(distinct), dtype=object)
    for position, value in enumerate(distinct):
        results[position] = function(value)
    return pd.Series(results[codes], index=cells.index, dtype=object)


def is_count(cells: pd.Series) -> pd.Series:
    """Whether each cell is a count written with the ASCII digits 0-9 only (no sign, no separator)."""
    return cells.str.fullmatch(COUNT.pattern).fillna(False).astype(bool)


def _digits(cell: object) -> str | None:
    """The digits of a count cell (ASCII digits only) without their leading zeros, else ``None``; so that a cell
    of thousands of zeros is never given to int(), which refuses a string of over 4,300 digits."""
    return cell.lstrip("0") if isinstance(cell, str) and COUNT.fullmatch(cell) else None


def _count(cell: object) -> int | None:
    """The count ``cell`` writes, else ``None``; one of more than :data:`_COUNT_DIGITS` digits (after leading
    zeros) is never converted."""
    digits = _digits(cell)
    return None if digits is None or len(digits) > _COUNT_DIGITS else int(digits or "0")


def _too_large(cell: object) -> bool:
    """Whether ``cell`` writes a count above :data:`MAX_COUNT`, however many digits it has."""
    digits = _digits(cell)
    return digits is not None and (len(digits) > _COUNT_DIGITS or int(digits or "0") > MAX_COUNT)


def count_too_large(cells: pd.Series) -> pd.Series:
    """Whether each count cell is above :data:`MAX_COUNT` (however many digits it has)."""
    return by_value(cells, _too_large).astype(bool)


def to_count(cells: pd.Series) -> pd.Series:
    """Parse count cells to ``Int64``; blank, malformed or overlong cells become ``<NA>``.

    Each distinct cell is parsed once (a column of a million counts holds a few thousand values)."""
    codes, distinct = pd.factorize(cells, use_na_sentinel=False)
    numbers = pd.array([_count(value) for value in distinct], dtype="Int64")
    return pd.Series(numbers.take(codes), index=cells.index, dtype="Int64")


def to_number(cells: pd.Series) -> pd.Series:
    """Parse decimal cells (ASCII digits, an optional sign and point) to ``float``; anything else is ``NaN``."""
    shaped = cells.str.fullmatch(DECIMAL.pattern).fillna(False).astype(bool)
    numbers = pd.to_numeric(cells.where(shaped), errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


def _day(cell: object) -> np.datetime64:
    """The day a ``YYYY-MM-DD`` cell names, else ``NaT`` (not so written, or not a real day)."""
    if not isinstance(cell, str) or DATE.fullmatch(cell) is None:
        return _NO_DAY
    try:
        return np.datetime64(cell, "us")
    except ValueError:
        return _NO_DAY


def to_date(cells: pd.Series) -> pd.Series:
    """Parse ``YYYY-MM-DD`` cells to timestamps (``datetime64[us]``); anything else (not a real date) becomes
    ``NaT``. Each distinct cell is parsed once."""
    codes, distinct = pd.factorize(cells, use_na_sentinel=False)
    days = np.array([_day(value) for value in distinct], dtype="datetime64[us]")
    return pd.Series(days[codes], index=cells.index)


def plausible(dates: pd.Series) -> pd.Series:
    """Whether each timestamp lies in :data:`PLAUSIBLE_DATES` (missing ones count as plausible)."""
    return ~((dates < FIRST_PLAUSIBLE_DATE) | (dates > LAST_PLAUSIBLE_DATE)).fillna(False).astype(bool)


def to_partial_date(cells: pd.Series) -> pd.Series:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` cells to the first day they cover; else ``NaT``."""
    shaped = cells.where(cells.str.fullmatch(PARTIAL_DATE.pattern).fillna(False).astype(bool), "")
    padded = [value + _FIRST_DAY_SUFFIX[len(value)] if value else "" for value in shaped]
    return to_date(pd.Series(padded, index=cells.index, dtype="str"))


@dataclass(frozen=True)
class Span:
    """The days a period label stands for, and whether the label says the data cover only part of them."""

    start: pd.Timestamp
    end: pd.Timestamp
    partial: bool


#: The forms of a period label: a calendar year, a run of whole months, a run of days (a week, say), a federal
#: fiscal year (October to September, named by the year it ends in); each may end in " (partial)".
LABEL_FORMS = "YYYY, YYYY-MM/YYYY-MM, YYYY-MM-DD/YYYY-MM-DD or FYYYYY, optionally followed by ' (partial)'"
_LABEL = re.compile(
    r"(?:(?P<year>[0-9]{4})|(?P<from_y>[0-9]{4})-(?P<from_m>[0-9]{2})/(?P<to_y>[0-9]{4})-(?P<to_m>[0-9]{2})"
    r"|(?P<from_day>[0-9]{4}-[0-9]{2}-[0-9]{2})/(?P<to_day>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"|FY(?P<fiscal>[0-9]{4}))(?P<partial> \(partial\))?",
    re.ASCII,
)


def label_span(label: str) -> Span | None:
    """The span a period label names (see :data:`LABEL_FORMS`), or ``None`` if it is not such a label."""
    match = _LABEL.fullmatch(label)
    if match is None:
        return None
    partial = match["partial"] is not None
    try:
        if match["year"]:
            year = int(match["year"])
            return Span(pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31), partial)
        if match["fiscal"]:
            year = int(match["fiscal"])
            return Span(pd.Timestamp(year - 1, 10, 1), pd.Timestamp(year, 9, 30), partial)
        if match["from_day"]:
            first, last = (datetime.date.fromisoformat(match[key]) for key in ("from_day", "to_day"))
            start, end = pd.Timestamp(first), pd.Timestamp(last)
            return Span(start, end, partial) if start <= end else None
        first_year, first_month = int(match["from_y"]), int(match["from_m"])
        last_year, last_month = int(match["to_y"]), int(match["to_m"])
        last_day = calendar.monthrange(last_year, last_month)[1]
        start, end = pd.Timestamp(first_year, first_month, 1), pd.Timestamp(last_year, last_month, last_day)
    except (ValueError, OverflowError, calendar.IllegalMonthError):
        return None  # a month 13, or a year pandas cannot hold
    return Span(start, end, partial) if start <= end else None


def split_ids(cell: str) -> list[str]:
    """Split a cell of source ids (``a;b;c``) into a list, dropping blanks."""
    return [part.strip() for part in cell.split(ID_SEPARATOR) if part.strip()]


def to_bool(cells: pd.Series) -> pd.Series:
    """Parse ``true``/``false`` cells (any case) to ``bool``; other values become ``<NA>``."""
    lowered = cells.str.lower()
    return lowered.map({"true": True, "false": False}).astype("boolean")
