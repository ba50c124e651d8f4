"""From ICE's detainer records to observations shaped like ``detainer_requests.csv``.

Likely duplicates (the same person again within 24 hours) are flagged and left
out of the counts; facilities are mapped to agencies with a small mapping file;
records are counted per agency and period (calendar or federal fiscal years).
A period that the export covers only in part is labelled as partial, and its
dates say which part, so it is never compared with a full one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.csvfile import read_text_table
from analysis.denial_report import ICE_RECORDS
from analysis.exceptions import DataValidationError, Problem
from analysis.ice import DECLINED

REPORTED_BY = ICE_RECORDS
MAPPING_COLUMNS = ("facility_code", "facility_pattern", "agency", "jurisdiction")
DUPLICATE_WINDOW = pd.Timedelta(hours=24)
YEAR_BASES = ("calendar", "fiscal")


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
                problems.append(Problem(name, int(line), column, "(blank)", "must not be blank"))
        if bool(row["facility_code"]) == bool(row["facility_pattern"]):
            problems.append(
                Problem(
                    name,
                    int(line),
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
                        int(line),
                        "facility_pattern",
                        row["facility_pattern"],
                        f"must be a valid regular expression ({error})",
                    )
                )
    if problems:
        raise DataValidationError(problems)
    return Mapping(codes, patterns)


def flag_duplicates(records: pd.DataFrame) -> pd.Series:
    """True for a record whose person had another detainer less than 24 hours before it."""
    order = records.sort_values(["person_id", "prepare_date"], kind="stable")
    same_person = order["person_id"].eq(order["person_id"].shift()) & order["person_id"].ne("")
    close = order["prepare_date"].diff() < DUPLICATE_WINDOW
    return (same_person & close).reindex(records.index)


def map_facilities(records: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """Agency and jurisdiction of each record ("" where unmapped), decided once per distinct facility."""
    facilities = records[["facility_code", "facility"]].drop_duplicates()
    agencies, jurisdictions = [], []
    for code, facility in facilities.itertuples(index=False):
        found = mapping.codes.get(code)
        if found is None:
            found = next(((a, j) for p, a, j in mapping.patterns if p.search(facility)), ("", ""))
        agencies.append(found[0])
        jurisdictions.append(found[1])
    decided = facilities.assign(agency=agencies, jurisdiction=jurisdictions)
    return records[["facility_code", "facility"]].merge(decided, how="left", on=["facility_code", "facility"])


def period_bounds(dates: pd.Series, year_basis: str) -> pd.DataFrame:
    """Label, first day and last day of the (calendar or fiscal) year each date falls in."""
    if year_basis == "fiscal":
        year = dates.dt.year + (dates.dt.month >= 10).astype("int64")
        label = "FY" + year.astype("str")
        start = pd.to_datetime((year - 1).astype("str") + "-10-01")
        end = pd.to_datetime(year.astype("str") + "-09-30")
    else:
        year = dates.dt.year
        label = year.astype("str")
        start = pd.to_datetime(year.astype("str") + "-01-01")
        end = pd.to_datetime(year.astype("str") + "-12-31")
    return pd.DataFrame({"period": label, "period_start": start, "period_end": end})


@dataclass(frozen=True)
class Aggregation:
    """Observations, plus what was left out of them."""

    observations: pd.DataFrame
    duplicates: int
    unmapped: pd.DataFrame
    source: dict[str, str]


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def aggregate(records: pd.DataFrame, mapping: Mapping, export: Path, year_basis: str = "calendar") -> Aggregation:
    """Count detainers prepared and declines recorded per agency and period.

    Parameters
    ----------
    records
        From :func:`analysis.ice.read_export`.
    mapping
        From :func:`read_mapping`.
    export
        The export file (named, with its checksum, as the observations' source).
    year_basis
        ``calendar`` (default) or ``fiscal`` (October to September, labelled FY2025).
    """
    digest = file_digest(export)
    source_id = f"ice-export-{digest[:12]}"
    duplicate = flag_duplicates(records)
    kept = records[~duplicate.to_numpy()]
    places = map_facilities(kept, mapping)
    counted = pd.DataFrame(
        {
            "agency": places["agency"].to_numpy(),
            "jurisdiction": places["jurisdiction"].to_numpy(),
            "declined": kept["lift_reason"].eq(DECLINED).to_numpy(),
        }
    ).join(period_bounds(kept["prepare_date"].reset_index(drop=True), year_basis))

    unmapped = (
        kept.loc[places["agency"].eq("").to_numpy()]
        .groupby(["facility_code", "facility"], as_index=False)
        .size()
        .rename(columns={"size": "records"})
        .sort_values(["records", "facility_code"], ascending=[False, True])
    )
    mapped = counted[counted["agency"].ne("")]
    table = mapped.groupby(["agency", "jurisdiction", "period", "period_start", "period_end"], as_index=False).agg(
        requests=("declined", "size"), declined=("declined", "sum")
    )
    # What: a period the export covers only in part gets its covered dates and a "partial" label.
    first, last = records["prepare_date"].min().normalize(), records["prepare_date"].max().normalize()
    partial = (table["period_start"] < first) | (table["period_end"] > last)
    table["period_start"] = table["period_start"].clip(lower=first)
    table["period_end"] = table["period_end"].clip(upper=last)
    table.loc[partial, "period"] = table.loc[partial, "period"] + " (partial)"

    observations = (
        pd.DataFrame(
            {
                "agency": table["agency"],
                "jurisdiction": table["jurisdiction"],
                "reported_by": REPORTED_BY,
                "period": table["period"],
                "period_start": table["period_start"].dt.strftime("%Y-%m-%d"),
                "period_end": table["period_end"].dt.strftime("%Y-%m-%d"),
                "requests": table["requests"].astype("int64"),
                "honored": pd.array([pd.NA] * len(table), dtype="Int64"),
                "declined": table["declined"].astype("int64"),
                "source_ids": source_id,
            }
        )
        .sort_values(["agency", "period_start"], kind="stable")
        .reset_index(drop=True)
    )
    source = {
        "source_id": source_id,
        "publisher": "U.S. Immigration and Customs Enforcement (record-level FOIA release)",
        "title": f"[detainer records file {export.name}, sha256 {digest}, records through {last.date()}]",
        "author": "",
        "published": last.strftime("%Y-%m-%d"),
        "url": "",
        "kind": "primary document",
    }
    return Aggregation(observations, int(duplicate.sum()), unmapped, source)


def write_observations(result: Aggregation, out_dir: Path) -> list[Path]:
    """Write the observations as a data folder that :func:`analysis.load_dataset` accepts.

    ``detainer_requests.csv`` and ``sources.csv``, plus a ``claims.csv`` with no
    claims; and ``unmapped_facilities.csv`` listing what no mapping row matched.
    """
    from analysis.outputs import write_text_atomic

    sources = pd.DataFrame([result.source])
    claims = pd.DataFrame(columns=list(_claims_columns()))
    files = {
        config.REQUESTS_FILE: result.observations,
        config.SOURCES_FILE: sources,
        config.CLAIMS_FILE: claims,
        "unmapped_facilities.csv": result.unmapped,
    }
    written = []
    for name, frame in files.items():
        write_text_atomic(out_dir / name, frame.to_csv(index=False, lineterminator="\n"))
        written.append(out_dir / name)
    return written


def _claims_columns() -> tuple[str, ...]:
    from analysis.schema import CLAIMS_COLUMNS

    return CLAIMS_COLUMNS
