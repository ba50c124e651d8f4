"""From ICE's detainer records to counts per agency (or facility) and period, shaped like ``detainer_requests.csv``.

Likely duplicates are left out of the counts: those the file itself flags
(``duplicate_likely``: the same person on the same prepare date, first kept)
when it has the flag, otherwise the same person again within 24 hours.
Records are counted per group (an agency from the mapping file, or each
facility) and period (calendar or federal fiscal years); a period that the
export covers only in part is labelled as partial, and its dates say which
part, so it is never compared with a full one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.schema import ICE_RECORDS, REQUESTS_COLUMNS
from analysis.files import file_digest
from analysis.ice.records import DECLINED, Export

DUPLICATE_WINDOW = pd.Timedelta(hours=24)


def flag_duplicates(person: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """True for a record whose person (a code; ``-1`` is blank) had another detainer less than 24 hours before."""
    seconds = dates.astype("datetime64[s]").astype(np.int64)
    if len(seconds) and not (seconds % 86400).any():
        # What: dates without times (as the Deportation Data Project's file has them): within 24 hours is the same
        # day, which a hash finds without sorting a million records.
        return _repeats_by_day(person, seconds // 86400, person >= 0)
    offset = seconds - seconds.min() if len(seconds) else seconds
    # What: one sort on a single integer key (person, then time) is much faster than sorting by two keys.
    order = np.argsort((person.astype(np.int64) << 33) | offset)
    same, times = person[order], offset[order]
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] = (same[1:] == same[:-1]) & (same[1:] >= 0) & (np.diff(times) < DUPLICATE_WINDOW.total_seconds())
    flags = np.empty(len(order), dtype=bool)
    flags[order] = repeated
    return flags


def _repeats_by_day(person: np.ndarray, days: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Records of ``among`` whose person and day an earlier record of ``among`` already had."""
    rows = np.flatnonzero(among)
    if not len(rows):
        return np.zeros(len(person), dtype=bool)
    day = days[rows] - days[rows].min()
    key = pd.Series(person[rows] * (int(day.max()) + 1) + day)
    repeats = np.zeros(len(person), dtype=bool)
    repeats[rows] = key.duplicated(keep="first").to_numpy()
    return repeats


def flagged_repeats(person: np.ndarray, dates: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    """The file's ``duplicate_likely`` rows after the first of each person and prepare day (which is kept)."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    return _repeats_by_day(person, days, flagged & (person >= 0))


@dataclass(frozen=True)
class Duplicates:
    """Which records are left out as likely duplicates, by which rule, and the count by the other rule."""

    left_out: np.ndarray
    rule: str
    by_file: int | None
    by_24_hours: int | None


def duplicates(export: Export) -> Duplicates:
    """Honour the file's own flag when it has one, else the 24-hour rule; count both where both can be."""
    person = export.text["person_id"].codes
    ours = flag_duplicates(person, export.dates) if export.has_ids else None
    theirs = flagged_repeats(person, export.dates, export.flagged) if export.flagged is not None else None
    if theirs is not None:
        rule = "flagged by the file (duplicate_likely: the same person on the same prepare date; the first is kept)"
        return Duplicates(theirs, rule, int(theirs.sum()), None if ours is None else int(ours.sum()))
    if ours is not None:
        return Duplicates(ours, "the same person again within 24 hours", None, int(ours.sum()))
    none = np.zeros(len(export), dtype=bool)
    return Duplicates(none, "none found: the file has no person identifiers", None, None)


def period_years(dates: np.ndarray, year_basis: str) -> np.ndarray:
    """The calendar year, or the federal fiscal year (October to September), of each date."""
    index = pd.DatetimeIndex(dates)
    years = index.year.to_numpy().astype(np.int64)
    if year_basis == "fiscal":
        years = years + (index.month.to_numpy() >= 10)
    return years


def period_bounds(year: int, year_basis: str) -> tuple[str, pd.Timestamp, pd.Timestamp]:
    """Label, first day and last day of a calendar or fiscal year."""
    if year_basis == "fiscal":
        return f"FY{year}", pd.Timestamp(year - 1, 10, 1), pd.Timestamp(year, 9, 30)
    return str(year), pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)


@dataclass(frozen=True)
class Counts:
    """Per group and period: detainers counted, declines recorded; the lift reasons and the monthly series."""

    observations: pd.DataFrame
    lift_reasons: pd.DataFrame
    monthly: pd.DataFrame


def _periods(export: Export, year_basis: str) -> tuple[np.ndarray, dict[int, tuple[str, str, str]]]:
    """Each record's period year, and each year's label, first and last day (partial where the export is)."""
    years = period_years(export.dates, year_basis)
    first = pd.Timestamp(export.dates.min()).normalize()
    last = pd.Timestamp(export.dates.max()).normalize()
    labels = {}
    for year in np.unique(years).tolist():
        label, start, end = period_bounds(int(year), year_basis)
        # What: a period the export covers only in part gets its covered dates and a "partial" label.
        if start < first or end > last:
            label, start, end = f"{label} (partial)", max(start, first), min(end, last)
        labels[int(year)] = (label, start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d"))
    return years, labels


def _tally(key: np.ndarray, weights: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keys that occur, with their record counts and their sums of ``weights``."""
    counts = np.bincount(key, minlength=size)
    sums = np.bincount(key, weights=weights, minlength=size).astype(np.int64)
    present = np.flatnonzero(counts)
    return present, counts[present], sums[present]


def count(
    export: Export, group: np.ndarray, places: list[tuple[str, str]], kept: np.ndarray, year_basis: str, source_id: str
) -> Counts:
    """Count the ``kept`` records of each group (``-1``: not counted) per period, with integer keys only.

    Parameters
    ----------
    group
        Each record's index into ``places`` (agency and jurisdiction).
    kept
        The records to count (likely duplicates left out).
    """
    counted = kept & (group >= 0)
    years, labels = _periods(export, year_basis)
    lift = export.text["lift_reason"]
    declined = np.isin(lift.codes, np.flatnonzero(lift.values == DECLINED))[counted]
    g, y = group[counted].astype(np.int64), years[counted]
    first_year, span = int(years.min()), int(years.max() - years.min()) + 1
    period = g * span + (y - first_year)

    keys, requests, declines = _tally(period, declined, len(places) * span)
    rows = []
    for key, n, d in zip(keys.tolist(), requests.tolist(), declines.tolist(), strict=True):
        label, start, end = labels[first_year + key % span]
        agency, jurisdiction = places[key // span]
        rows.append([agency, jurisdiction, ICE_RECORDS, label, start, end, n, pd.NA, d, source_id])
    observations = pd.DataFrame(rows, columns=list(REQUESTS_COLUMNS)).astype({"honored": "Int64"})

    reasons = len(lift.values) + 1
    tally = np.bincount(period * reasons + lift.codes[counted] + 1, minlength=len(places) * span * reasons)
    by_reason = np.flatnonzero(tally)
    records = tally[by_reason]
    lift_reasons = pd.DataFrame(
        {
            "agency": [places[int(k) // reasons // span][0] for k in by_reason],
            "period": [labels[first_year + int(k) // reasons % span][0] for k in by_reason],
            "lift_reason": [lift.values[int(k) % reasons - 1] if k % reasons else "(blank)" for k in by_reason],
            "records": records.astype(np.int64),
        }
    )

    months = export.dates.astype("datetime64[M]").astype(np.int64)
    first_month, month_span = int(months.min()), int(months.max() - months.min()) + 1
    keys, requests, declines = _tally(
        g * month_span + months[counted] - first_month, declined, len(places) * month_span
    )
    monthly = pd.DataFrame(
        {
            "agency": [places[int(k) // month_span][0] for k in keys],
            "month": (keys % month_span + first_month).astype("datetime64[M]").astype(str),
            "requests": requests,
            "declined": declines,
        }
    )
    return Counts(observations, lift_reasons, monthly)


def source_row(export: Export, rule: str) -> dict[str, str]:
    """The sources.csv row naming the export: its file, layout, checksum and what it lacks."""
    digest = file_digest(export.path)
    last = pd.Timestamp(export.dates.max()).date()
    lacks = f"; {export.lacks()}" if export.lacks() else ""
    return {
        "source_id": f"ice-export-{digest[:12]}",
        "publisher": "U.S. Immigration and Customs Enforcement (record-level FOIA release)",
        "title": f"[detainer records file {export.path.name} ({export.layout.description}), sha256 {digest}, "
        f"records through {last}; likely duplicates: {rule}{lacks}]",
        "author": "",
        "published": last.strftime("%Y-%m-%d"),
        "url": "",
        "kind": "primary document",
    }
