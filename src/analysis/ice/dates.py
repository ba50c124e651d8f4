"""Prepare dates in every form the releases use: real dates, Excel serial numbers, ISO text, M/D/YY text, timestamps.

A timestamp with a time zone keeps its local date and time (moving it to UTC
could carry a detainer across midnight, or New Year). A year or a month alone
is not a date, and neither is a day outside the plausible range.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Day zero of Excel's serial dates (1900 system, counting its phantom 29 February 1900).
EXCEL_EPOCH = pd.Timestamp(1899, 12, 30)
#: Serial numbers taken as Excel dates: 1 January 1990 to 31 December 2099.
_SERIALS = (32874, 73415)
DATE_FORMS = "YYYY-MM-DD (with or without a time), M/D/YY or M/D/YYYY, an Excel date or serial number"

_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(?:Z|[+-]\d{2}:?\d{2})?", re.ASCII)
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?: (\d{1,2}:\d{2}(?::\d{2})?)(?: ?([AaPp][Mm]))?)?", re.ASCII)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?", re.ASCII)


def _from_text(text: str) -> pd.Timestamp | None:
    """One cell's text as a local date-time, or ``None`` when it is none of the date forms."""
    text = text.strip()
    if match := _ISO.fullmatch(text):
        stamp = match[1] + (" " + match[2] if match[2] else "")
        parsed = pd.to_datetime(stamp, format="ISO8601", errors="coerce")
        return None if pd.isna(parsed) else pd.Timestamp(parsed)
    if match := _US.fullmatch(text):
        month, day, year = int(match[1]), int(match[2]), int(match[3])
        year += (2000 if year < 70 else 1900) if len(match[3]) == 2 else 0
        clock = f" {match[4]}{' ' + match[5].upper() if match[5] else ''}" if match[4] else ""
        layout = "%Y-%m-%d" + (
            (" %I:%M" if match[5] else " %H:%M")
            + (":%S" if match[4].count(":") == 2 else "")
            + (" %p" if match[5] else "")
            if clock
            else ""
        )
        parsed = pd.to_datetime(f"{year:04d}-{month:02d}-{day:02d}{clock}", format=layout, errors="coerce")
        return None if pd.isna(parsed) else pd.Timestamp(parsed)
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text))
    return None


def _from_serial(number: float) -> pd.Timestamp | None:
    if not _SERIALS[0] <= number <= _SERIALS[1]:
        return None
    return EXCEL_EPOCH + pd.to_timedelta(round(number * 86400), unit="s")


def _from_cell(value: object) -> pd.Timestamp | None:
    """One cell of any type (text, number, date, timestamp) as a local date-time, or ``None``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "year"):
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        return None if pd.isna(stamp) else stamp.tz_localize(None) if stamp.tzinfo else stamp
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return _from_serial(float(value))
    return _from_text(str(value))


def parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value as a local date-time (``datetime64[s]``), and which values are blank.

    A value that is not blank and not a date comes back as ``NaT`` with its
    blank flag off, so the caller can tell "missing" from "not a date".
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dtype, "tz", None) is not None:
            values = values.dt.tz_localize(None)  # local wall time, as written
        stamps = values.to_numpy().astype("datetime64[s]")
        return stamps, np.isnat(stamps)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    blank_unique = np.array([str(u).strip() in ("", "NA", "NaT", "nan", "None") for u in uniques], dtype=bool)
    parsed = np.array(
        [
            np.datetime64("NaT") if blank else _as_seconds(_from_cell(u))
            for u, blank in zip(uniques, blank_unique, strict=True)
        ],
        dtype="datetime64[s]",
    )
    parsed = np.append(parsed, np.datetime64("NaT")).astype("datetime64[s]")
    blank = np.append(blank_unique, True)
    return parsed[codes], blank[codes]


def _as_seconds(stamp: pd.Timestamp | None) -> np.datetime64:
    if stamp is None:
        return np.datetime64("NaT")
    try:
        return stamp.to_datetime64().astype("datetime64[s]")
    except (OverflowError, ValueError):
        return np.datetime64("NaT")
