"""From ICE's detainer records to counts per agency (or facility) and period, shaped like ``detainer_requests.csv``.

Likely duplicates are left out of the counts: those the file itself flags,
read as its layout defines its flag (the Deportation Data Project's
``duplicate_likely``: the same person on the same prepare date, first kept; its
merged file's ``drop_row``: the records to leave out), otherwise the same
person again within 24 hours, 24 hours exactly included (:data:`OUR_RULE`).
Records are counted per group (an agency from the mapping file, or each
facility) and period (calendar or federal fiscal years); a period that the
export covers only in part is labelled as partial, and its dates say which
part, so it is never compared with a full one.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.checks import as_text
from analysis.data.schema import ICE_RECORDS, REQUESTS_COLUMNS
from analysis.ice.codes import People
from analysis.ice.export import DECLINED, Export
from analysis.ice.layouts import LEAVE_OUT

DUPLICATE_WINDOW = pd.Timedelta(hours=24)
_DAY_MULTIPLIER = np.uint64(0xBF58476D1CE4E5B9)


def _days(dates: np.ndarray) -> tuple[np.ndarray, bool]:
    """Each date's day (counted from 1970), and whether every date is a whole day (no time of day)."""
    seconds = dates.astype("datetime64[s]", copy=False).view(np.int64)
    days = seconds // 86400
    return days, not (seconds - days * 86400).any()


def flag_duplicates(people: People, dates: np.ndarray) -> np.ndarray:
    """True for a record whose person (blank never counts) had another detainer at most 24 hours before.

    The window includes its end: records exactly 24 hours apart (a person on
    consecutive days, in a file whose dates have no time) are one detainer, as
    the Deportation Data Project's merged file counts them. A chain of such
    records keeps its first only. Records of the same person and time keep the
    one that comes first in the file.
    """
    seconds = dates.astype("datetime64[s]", copy=False).view(np.int64)
    flags = np.zeros(len(seconds), dtype=bool)
    rows = _repeated_people(people.keys)
    if not len(rows):
        return flags
    person = people.codes(rows)
    offset = seconds[rows] - seconds[rows].min()
    # What: one stable sort on a single integer key (person, then time) is much faster than sorting by two keys.
    order = np.argsort((person.astype(np.int64) << 33) | offset, kind="stable")
    same, times = person[order], offset[order]
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] = (same[1:] == same[:-1]) & (same[1:] >= 0) & (np.diff(times) <= DUPLICATE_WINDOW.total_seconds())
    flags[rows[order]] = repeated
    return flags


def _repeated_people(keys: np.ndarray) -> np.ndarray:
    """The records whose person key (``-1``: none) another record shares: only they can be repeats.

    A count per bucket of the key's low bits (a few milliseconds) sets aside most single records first; the exact
    check then runs on the rest. Keys hashed from identifiers may still join two people; the identifiers decide later.
    """
    bits = min(22, max(10, len(keys).bit_length() + 1))
    bucket = (keys & ((1 << bits) - 1)).astype(np.int32)
    person = keys >= 0
    # What: looked up in a table of one byte per bucket (4 MB at most), not in the counts' eight bytes per bucket.
    shared = np.bincount(bucket[person], minlength=1 << bits) > 1
    crowded = np.flatnonzero(shared[bucket] & person)
    return crowded[pd.Series(keys[crowded]).duplicated(keep=False).to_numpy()]


def flagged_repeats(people: People, dates: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    """The file's ``duplicate_likely`` rows after the first of each person and prepare day (which is kept)."""
    days = _days(dates)[0]
    rows = np.flatnonzero(flagged)
    if not people.exact:
        # What: a flagged record whose hashed (person, day) no other flagged record shares is no repeat. The others,
        # a few in a hundred, are decided by the identifiers themselves, so a hash that makes two people one never
        # counts.
        hashes = pd.Series(_day_hashes(people.keys[rows], days[rows]))
        rows = rows[hashes.isin(hashes[hashes.duplicated(keep="first").to_numpy()]).to_numpy()]
    rows = rows[people.keys[rows] >= 0]  # what: blank identifiers are no person
    repeats = np.zeros(len(days), dtype=bool)
    if len(rows):
        keys = _day_keys(people.codes(rows), days[rows])
        repeats[rows] = pd.Series(keys).duplicated(keep="first").to_numpy()
    return repeats


def _day_keys(codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """One integer per (person code, day), a different one for each pair."""
    day = days - days.min()
    return codes * (int(day.max()) + 1) + day


def _day_hashes(keys: np.ndarray, days: np.ndarray) -> np.ndarray:
    """A hash of each (person key, day): equal for equal pairs, and rarely for others."""
    with np.errstate(over="ignore"):
        return ((keys.view(np.uint64) ^ (days.view(np.uint64) * _DAY_MULTIPLIER)) * _DAY_MULTIPLIER).view(np.int64)


@dataclass(frozen=True)
class Duplicates:
    """Which records are left out as likely duplicates, by which rule, and the count by the other rule."""

    left_out: np.ndarray
    rule: str
    by_file: int | None
    by_24_hours: int | None


#: Our rule, for files without a flag of their own, in words.
OUR_RULE = (
    "the same person again within 24 hours of their previous record, 24 hours exactly included (for dates without "
    "a time: the same or the next day); the first is kept"
)


def duplicates(export: Export, background: Executor | None = None) -> Duplicates:
    """Apply the file's own flag as its layout defines it when it has one, else :data:`OUR_RULE`; count both where
    both can be.

    Layouts whose flag marks the records to leave out (``drop_row``) have them left out as marked; the Deportation
    Data Project's ``duplicate_likely`` (same person, same prepare date) leaves out the flagged records after the
    first of each person and day. With ``background``, a file with a flag of its own has :data:`OUR_RULE` worked
    out there, beside its flag (the two need nothing of each other); the result is the same.
    """
    layout = export.layout
    pending = None
    if background is not None and export.has_ids and export.flagged is not None:
        pending = background.submit(flag_duplicates, export.people, export.dates)
    ours = flag_duplicates(export.people, export.dates) if export.has_ids and pending is None else None
    if export.flagged is not None:
        if layout.duplicate_rule == LEAVE_OUT:
            theirs = export.flagged.copy()
        else:
            theirs = flagged_repeats(export.people, export.dates, export.flagged)
        rule = f"flagged by the file ({layout.duplicate_meaning})"
        if pending is not None:
            ours = pending.result()
        return Duplicates(theirs, rule, int(theirs.sum()), None if ours is None else int(ours.sum()))
    if ours is not None:
        return Duplicates(ours, OUR_RULE, None, int(ours.sum()))
    none = np.zeros(len(export), dtype=bool)
    return Duplicates(none, "none found: the file has no person identifiers", None, None)


@dataclass(frozen=True)
class _Calendar:
    """Each record's day as an index into the days of the export's span, so that a year or a month is worked out
    once per day (a few thousand) and looked up per record (a million)."""

    day: np.ndarray
    days: pd.DatetimeIndex

    @classmethod
    def of(cls, dates: np.ndarray) -> _Calendar:
        number = dates.astype("datetime64[D]").view(np.int64)
        first = int(number.min())
        return cls(number - first, pd.DatetimeIndex(np.arange(first, int(number.max()) + 1).astype("datetime64[D]")))

    def years(self, year_basis: str) -> np.ndarray:
        """The calendar year, or the federal fiscal year (October to September), of each day of the span."""
        years = self.days.year.to_numpy().astype(np.int64)
        return years + (self.days.month.to_numpy() >= 10) if year_basis == "fiscal" else years

    def months(self) -> np.ndarray:
        """The month of each day of the span, counted from January 1970 (as ``datetime64[M]`` counts)."""
        return (self.days.year.to_numpy().astype(np.int64) - 1970) * 12 + self.days.month.to_numpy() - 1


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


def _labels(calendar: _Calendar, year_basis: str) -> dict[int, tuple[str, str, str]]:
    """Each period year's label, first and last day (partial where the export covers it only in part)."""
    first, last = calendar.days[0], calendar.days[-1]
    labels = {}
    for year in sorted(set(calendar.years(year_basis).tolist())):
        label, start, end = period_bounds(year, year_basis)
        # What: a period the export covers only in part gets its covered dates and a "partial" label.
        if start < first or end > last:
            label, start, end = f"{label} (partial)", max(start, first), min(end, last)
        labels[year] = (label, start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d"))
    return labels


#: Above this many possible keys, a tally sorts its keys instead of counting into an array that size (a careless or
#: hostile export can have millions of facilities or lift reasons).
DENSE_LIMIT = 1 << 24

#: Keys that occur (sorted) and how many records have each.
Tally = tuple[np.ndarray, np.ndarray]


def _tally(keys: np.ndarray, size: int) -> Tally:
    """The keys (below ``size``) that occur, and their record counts."""
    if size <= DENSE_LIMIT:
        counts = np.bincount(keys, minlength=size)
        present = np.flatnonzero(counts)
        return present, counts[present]
    found, counts = np.unique(keys, return_counts=True)
    return found, counts.astype(np.int64)


def _minus(whole: Tally, part: Tally) -> Tally:
    """``whole`` without ``part`` (whose keys all occur in ``whole``), keys left with no record dropped."""
    keys, counts = whole[0], whole[1].copy()
    counts[np.searchsorted(keys, part[0])] -= part[1]
    kept = counts > 0
    return keys[kept], counts[kept]


def _with_declines(tally: Tally) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From a tally on ``key * 2 + declined``: each key, its records and its declines."""
    keys, counts = tally
    found, where = np.unique(keys // 2, return_inverse=True)
    records = np.bincount(where, weights=counts, minlength=len(found)).astype(np.int64)
    declines = np.bincount(where, weights=counts * (keys % 2), minlength=len(found)).astype(np.int64)
    return found, records, declines


@dataclass(frozen=True)
class _Tallies:
    """Records per (group, period) with declines marked in the key's lowest bit, records per (group, period, lift
    reason), and records per (group, month) with declines marked likewise."""

    periods: Tally
    reasons: Tally
    months: Tally

    def __sub__(self, other: _Tallies) -> _Tallies:
        return _Tallies(
            _minus(self.periods, other.periods), _minus(self.reasons, other.reasons), _minus(self.months, other.months)
        )


class Counter:
    """Counts of an export's records per group and period, lift reason and month, with integer keys only.

    Every record of a group is tallied when the counter is made, which needs
    nothing of the likely duplicates (so it can run while they are found);
    :meth:`counts` then takes out the records left out.

    Parameters
    ----------
    group
        Each record's index into ``places`` (agency and jurisdiction); ``-1``: not counted.
    """

    def __init__(self, export: Export, group: np.ndarray, places: list[tuple[str, str]], year_basis: str) -> None:
        self.group, self.places, self.lift = group, places, export.text["lift_reason"]
        self.calendar = _Calendar.of(export.dates)
        self.labels = _labels(self.calendar, year_basis)
        years, months = self.calendar.years(year_basis), self.calendar.months()
        self.first_year, self.first_month = int(years[0]), int(months[0])
        self.year_of_day, self.month_of_day = years - self.first_year, months - self.first_month
        self.span, self.month_span = int(self.year_of_day[-1]) + 1, int(self.month_of_day[-1]) + 1
        self.reasons = len(self.lift.values) + 1
        self.everything = self._tally(np.flatnonzero(group >= 0))

    def _tally(self, rows: np.ndarray) -> _Tallies:
        day, reason, group = self.calendar.day[rows], self.lift.codes[rows], self.group[rows].astype(np.int64)
        declined = np.append(self.lift.values == DECLINED, False)[reason]  # what: a code of -1 picks False
        period = group * self.span + self.year_of_day[day]
        month = group * self.month_span + self.month_of_day[day]
        periods, months = len(self.places) * self.span, len(self.places) * self.month_span
        return _Tallies(
            _tally(period * 2 + declined, 2 * periods),
            _tally(period * self.reasons + reason + 1, periods * self.reasons),
            _tally(month * 2 + declined, 2 * months),
        )

    def counts(self, left_out: np.ndarray, source_id: str) -> Counts:
        """The tables of the records counted: every record of a group but those ``left_out``."""
        tallies = self.everything - self._tally(np.flatnonzero(left_out & (self.group >= 0)))
        keys, records, declines = _with_declines(tallies.periods)
        rows = []
        found = zip(keys.tolist(), records.tolist(), declines.tolist(), strict=True)
        for key, n, d in found:
            label, start, end = self.labels[self.first_year + key % self.span]
            agency, jurisdiction = self.places[key // self.span]
            rows.append([agency, jurisdiction, ICE_RECORDS, "detainer", label, start, end, n, pd.NA, d, source_id])
        observations = pd.DataFrame(rows, columns=list(REQUESTS_COLUMNS)).astype({"honored": "Int64"})

        keys, counts = tallies.reasons
        period, reason = keys // self.reasons, keys % self.reasons
        lift_reasons = pd.DataFrame(
            {
                "agency": [self.places[k // self.span][0] for k in period.tolist()],
                "period": [self.labels[self.first_year + k % self.span][0] for k in period.tolist()],
                # What: as the export wrote it, a control character (never in ICE's own list) written as its escape.
                "lift_reason": [as_text(str(self.lift.values[r - 1])) if r else "(blank)" for r in reason.tolist()],
                "records": counts.astype(np.int64),
            }
        )

        keys, records, declines = _with_declines(tallies.months)
        monthly = pd.DataFrame(
            {
                "agency": [self.places[k // self.month_span][0] for k in keys.tolist()],
                "month": (keys % self.month_span + self.first_month).astype("datetime64[M]").astype(str),
                "requests": records,
                "declined": declines,
            }
        )
        return Counts(observations, lift_reasons, monthly)


def source_row(export: Export, rule: str) -> dict[str, str]:
    """The sources.csv row naming the export: its file, layout, checksum and what it lacks."""
    digest = export.digest
    last = pd.Timestamp(export.dates.max()).date()
    lacks = f"; {export.lacks()}" if export.lacks() else ""
    if export.release is not None:
        lacks += f"; release {export.release} only ({export.layout.columns['release']})"
    if not export.rejected.empty:
        lacks += f"; {len(export.rejected):,} rows with problems set aside, not counted (rejected_rows.csv)"
    return {
        "source_id": f"ice-export-{digest[:12]}",
        "publisher": "U.S. Immigration and Customs Enforcement (record-level FOIA release)",
        "title": f"[detainer records file {export.path.name} ({export.layout.description}), sha256 {digest}, "
        f"records through {last}; likely duplicates: {rule}{lacks}]",
        "author": "",
        "published": last.strftime("%Y-%m-%d"),
        "url": "",
        "kind": "primary document",
        "access": "primary",
    }
