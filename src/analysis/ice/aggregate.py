"""From ICE's detainer records to observations shaped like ``detainer_requests.csv``.

Likely duplicates (the same person again within 24 hours) are flagged and left
out of the counts; facilities are mapped to agencies with a small mapping file;
records are counted per agency and period (calendar or federal fiscal years).
A period that the export covers only in part is labelled as partial, and its
dates say which part, so it is never compared with a full one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from analysis import paths
from analysis.data.csvfile import read_text_table
from analysis.data.schema import CLAIMS_COLUMNS, ICE_RECORDS, REQUESTS_COLUMNS
from analysis.errors import DataValidationError, Problem
from analysis.files import file_digest
from analysis.ice.records import DECLINED, Export

MAPPING_COLUMNS = ("facility_code", "facility_pattern", "agency", "jurisdiction")
DUPLICATE_WINDOW = pd.Timedelta(hours=24)


@dataclass(frozen=True)
class Mapping:
    """Facilities to agencies: exact codes first, then name patterns (first match wins)."""

    codes: dict[str, tuple[str, str]]
    patterns: list[tuple[re.Pattern[str], str, str]]


def read_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file (CSV with :data:`MAPPING_COLUMNS`).

    Each row gives either a ``facility_code`` or a ``facility_pattern`` (a
    regular expression searched in the facility name, ignoring case), and the
    ``agency`` and ``jurisdiction`` it belongs to.

    Raises
    ------
    DataValidationError
        Listing every problem, as for the raw tables.
    """
    table = read_text_table(Path(path), MAPPING_COLUMNS)
    problems = list(table.problems)
    codes: dict[str, tuple[str, str]] = {}
    patterns: list[tuple[re.Pattern[str], str, str]] = []
    name = str(path)
    for line, row in table.frame.iterrows():
        for column in ("agency", "jurisdiction"):
            if not row[column]:
                problems.append(Problem(name, cast(int, line), column, "(blank)", "must not be blank"))
        if bool(row["facility_code"]) == bool(row["facility_pattern"]):
            problems.append(
                Problem(
                    name,
                    cast(int, line),
                    "facility_code, facility_pattern",
                    f"facility_code={row['facility_code'] or '(blank)'}; "
                    f"facility_pattern={row['facility_pattern'] or '(blank)'}",
                    "give exactly one of facility_code and facility_pattern",
                )
            )
        elif row["facility_code"]:
            codes.setdefault(row["facility_code"], (row["agency"], row["jurisdiction"]))
        else:
            try:
                patterns.append(
                    (re.compile(row["facility_pattern"], re.IGNORECASE), row["agency"], row["jurisdiction"])
                )
            except re.error as error:
                problems.append(
                    Problem(
                        name,
                        cast(int, line),
                        "facility_pattern",
                        row["facility_pattern"],
                        f"must be a valid regular expression ({error})",
                    )
                )
    if problems:
        raise DataValidationError(problems)
    return Mapping(codes, patterns)


def flag_duplicates(person: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """True for a record whose person (a code; ``-1`` is blank) had another detainer less than 24 hours before."""
    seconds = dates.astype("datetime64[s]").astype(np.int64)
    offset = seconds - seconds.min() if len(seconds) else seconds
    # What: one sort on a single integer key (person, then time) is much faster than sorting by two keys.
    order = np.argsort((person.astype(np.int64) << 33) | offset)
    same, times = person[order], offset[order]
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] = (same[1:] == same[:-1]) & (same[1:] >= 0) & (np.diff(times) < DUPLICATE_WINDOW.total_seconds())
    flags = np.empty(len(order), dtype=bool)
    flags[order] = repeated
    return flags


def facility_agencies(export: Export, mapping: Mapping) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Each record's agency as an index into the returned (agency, jurisdiction) list; -1 where unmapped.

    Decided once per distinct facility code and name, then looked up per record.
    """
    places = sorted(set(mapping.codes.values()) | {(a, j) for _, a, j in mapping.patterns})
    index = {place: number for number, place in enumerate(places)}
    codes, names = export.text["facility_code"], export.text["facility"]
    by_code = np.array([index[mapping.codes[c]] if c in mapping.codes else -1 for c in codes.values] + [-1])
    by_name = np.array(
        [next((index[(a, j)] for p, a, j in mapping.patterns if p.search(n)), -1) for n in names.values] + [-1]
    )
    agency = by_code[codes.codes]  # what: a code of -1 picks the trailing -1
    return np.where(agency >= 0, agency, by_name[names.codes]), places


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
class Aggregation:
    """Observations, plus what was left out of them."""

    observations: pd.DataFrame
    duplicates: int
    unmapped: pd.DataFrame
    source: dict[str, str]


def _unmapped(export: Export, rows: np.ndarray) -> pd.DataFrame:
    """Distinct facilities of ``rows`` with their record counts, most records first."""
    codes, names = export.text["facility_code"], export.text["facility"]
    pair = (codes.codes[rows] + 1) * (len(names.values) + 1) + (names.codes[rows] + 1)
    unique, counts = np.unique(pair, return_counts=True)
    code_part, name_part = unique // (len(names.values) + 1) - 1, unique % (len(names.values) + 1) - 1
    table = pd.DataFrame(
        {
            "facility_code": codes.decode(code_part),
            "facility": names.decode(name_part),
            "records": counts.astype(np.int64),
        }
    )
    return table.sort_values(["records", "facility_code"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def aggregate(export: Export, mapping: Mapping, year_basis: str = "calendar") -> Aggregation:
    """Count detainers prepared and declines recorded per agency and period.

    Parameters
    ----------
    export
        From :func:`analysis.ice.read_export`.
    mapping
        From :func:`read_mapping`.
    year_basis
        ``calendar`` (default) or ``fiscal`` (October to September, labelled FY2025).
    """
    digest = file_digest(export.path)
    source_id = f"ice-export-{digest[:12]}"
    duplicate = flag_duplicates(export.text["person_id"].codes, export.dates)
    agency, places = facility_agencies(export, mapping)
    lift = export.text["lift_reason"]
    declined_code = np.flatnonzero(lift.values == DECLINED)
    declined = np.isin(lift.codes, declined_code)
    years = period_years(export.dates, year_basis)

    # What: count per (agency, year) with integer keys; only kept, mapped records.
    counted = ~duplicate & (agency >= 0)
    first_year, span = int(years.min()), int(years.max() - years.min()) + 1
    key = agency[counted] * span + (years[counted] - first_year)
    requests = np.bincount(key, minlength=len(places) * span)
    declines = np.bincount(key, weights=declined[counted], minlength=len(places) * span).astype(np.int64)

    first = pd.Timestamp(export.dates.min()).normalize()
    last = pd.Timestamp(export.dates.max()).normalize()
    records = []
    for group in np.flatnonzero(requests):
        place, year = places[group // span], first_year + group % span
        label, start, end = period_bounds(int(year), year_basis)
        # What: a period the export covers only in part gets its covered dates and a "partial" label.
        if start < first or end > last:
            label, start, end = f"{label} (partial)", max(start, first), min(end, last)
        records.append(
            {
                "agency": place[0],
                "jurisdiction": place[1],
                "reported_by": ICE_RECORDS,
                "period": label,
                "period_start": start.strftime("%Y-%m-%d"),
                "period_end": end.strftime("%Y-%m-%d"),
                "requests": int(requests[group]),
                "honored": pd.NA,
                "declined": int(declines[group]),
                "source_ids": source_id,
            }
        )
    observations = pd.DataFrame.from_records(records, columns=list(REQUESTS_COLUMNS)).astype({"honored": "Int64"})
    source = {
        "source_id": source_id,
        "publisher": "U.S. Immigration and Customs Enforcement (record-level FOIA release)",
        "title": f"[detainer records file {export.path.name}, sha256 {digest}, records through {last.date()}]",
        "author": "",
        "published": last.strftime("%Y-%m-%d"),
        "url": "",
        "kind": "primary document",
    }
    unmapped = _unmapped(export, np.flatnonzero(~duplicate & (agency < 0)))
    return Aggregation(observations, int(duplicate.sum()), unmapped, source)


def write_observations(result: Aggregation, out_dir: Path) -> list[Path]:
    """Write the observations as a data folder that :func:`analysis.load_dataset` accepts.

    ``detainer_requests.csv`` and ``sources.csv``, plus a ``claims.csv`` with no
    claims; and ``unmapped_facilities.csv`` listing what no mapping row matched.
    """
    from analysis.files import write_text_atomic

    sources = pd.DataFrame([result.source])
    claims = pd.DataFrame(columns=list(CLAIMS_COLUMNS))
    files = {
        paths.REQUESTS_FILE: result.observations,
        paths.SOURCES_FILE: sources,
        paths.CLAIMS_FILE: claims,
        "unmapped_facilities.csv": result.unmapped,
    }
    written = []
    for name, frame in files.items():
        write_text_atomic(out_dir / name, frame.to_csv(index=False, lineterminator="\n"))
        written.append(out_dir / name)
    return written
