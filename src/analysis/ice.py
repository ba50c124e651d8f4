"""Reading and validating ICE's record-level detainer exports (FOIA releases).

The exports come as CSV, parquet (as the Deportation Data Project publishes
them) or xlsx, with columns named in one of two generations. They are read
into canonical column names and checked in one pass; each problem names the
file, the row (the header being row 1), the column, the value and the rule.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.exceptions import DataValidationError, Problem

#: Canonical name -> the names it has in the releases (either generation).
COLUMNS: dict[str, tuple[str, ...]] = {
    "prepare_date": ("Detainer Prepare Date",),
    "facility": ("Detention Facility", "Detainer Facility"),
    "facility_code": ("Detention Facility Code", "Detainer Facility Code"),
    "city": ("Facility City",),
    "state": ("Facility State",),
    "aor": ("Facility AOR",),
    "lift_reason": ("Detainer Lift Reason",),
    "detainer_type": ("Detainer Type",),
    "person_id": ("Unique Identifier", "Anonymized Identifier"),
}
#: The lift reason that records a detainer declined by the local agency.
DECLINED = "Detainer Declined by LEA"
#: USPS codes of the states, DC, territories and military post offices.
STATES = frozenset(
    [
        *[
            "AL",
            "AK",
            "AZ",
            "AR",
            "CA",
            "CO",
            "CT",
            "DE",
            "DC",
            "FL",
            "GA",
            "HI",
            "ID",
            "IL",
            "IN",
            "IA",
            "KS",
            "KY",
            "LA",
            "ME",
            "MD",
            "MA",
            "MI",
            "MN",
            "MS",
            "MO",
        ],
        *[
            "MT",
            "NE",
            "NV",
            "NH",
            "NJ",
            "NM",
            "NY",
            "NC",
            "ND",
            "OH",
            "OK",
            "OR",
            "PA",
            "RI",
            "SC",
            "SD",
            "TN",
            "TX",
            "UT",
            "VT",
            "VA",
            "WA",
            "WV",
            "WI",
            "WY",
        ],
        *["PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP"],
    ]
)
#: Rows listed per column and rule; the rest are counted in one more line.
LISTED = 20


def _read(path: Path) -> pd.DataFrame:
    """Read the export's columns that matter, as text (dates as given)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        available = set(pq.read_schema(path).names)
        wanted = [name for names in COLUMNS.values() for name in names if name in available]
        return pd.read_parquet(path, columns=wanted)
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _problems(name: str, rows: pd.Series, column: str, values: pd.Series, rule: str) -> list[Problem]:
    """One problem per failing row (the first :data:`LISTED`), then one counting the rest."""
    listed = [
        Problem(name, int(r), column, str(v) if str(v) else "(blank)", rule)
        for r, v in zip(rows[:LISTED], values[:LISTED], strict=True)
    ]
    if len(rows) > LISTED:
        listed.append(
            Problem(name, int(rows.iloc[LISTED]), column, f"{len(rows) - LISTED:,} more rows like these", rule)
        )
    return listed


def read_export(path: str | Path) -> pd.DataFrame:
    """Read an ICE detainer export into canonical columns, checking every rule in one pass.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet`` or ``.xlsx`` file in the layout of ICE's releases.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` (canonical names), ``prepare_date`` as
        timestamps, the rest as text; a ``row`` column gives each record's row
        in the file (header = 1).

    Raises
    ------
    DataValidationError
        Missing file or columns, unparseable dates, unknown states.
    """
    source = Path(path)
    name = str(source)
    if not source.is_file():
        raise DataValidationError([Problem(name, 0, "-", "no such file", "the export must exist")])
    try:
        raw = _read(source)
    except (ValueError, OSError, ImportError) as error:
        problem = Problem(name, 0, "-", type(error).__name__, f"the file must be readable ({error})")
        raise DataValidationError([problem]) from None

    # What: find each canonical column under either generation's name.
    problems: list[Problem] = []
    renames: dict[str, str] = {}
    for canonical, names in COLUMNS.items():
        found = [n for n in names if n in raw.columns]
        if not found:
            problems.append(Problem(name, 1, " or ".join(names), "no such column", "a required column is missing"))
        else:
            renames[found[0]] = canonical
    if problems:
        raise DataValidationError(problems)
    frame = raw[list(renames)].rename(columns=renames)
    frame["row"] = pd.RangeIndex(2, len(frame) + 2)

    # What: every prepare date parses (ISO dates or date-times, or timestamps in parquet and xlsx).
    dates = frame["prepare_date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        text = dates.astype("str").fillna("").str.strip()
        dates = pd.to_datetime(text, format="ISO8601", errors="coerce")
        bad = dates.isna()
        problems += _problems(
            name,
            frame.loc[bad, "row"],
            COLUMNS["prepare_date"][0],
            text[bad],
            "must be a date written YYYY-MM-DD, with or without a time",
        )
    else:
        bad = dates.isna()
        problems += _problems(
            name, frame.loc[bad, "row"], COLUMNS["prepare_date"][0], dates[bad].astype(str), "must be a date"
        )
    frame["prepare_date"] = dates

    # What: a state, when given, is a known USPS code.
    states = frame["state"].astype("str").fillna("").str.strip().str.upper()
    unknown = states.ne("") & ~states.isin(STATES)
    problems += _problems(
        name,
        frame.loc[unknown, "row"],
        "Facility State",
        states[unknown],
        "must be a two-letter USPS state or territory code",
    )
    if problems:
        raise DataValidationError(problems)
    for column in ("facility", "facility_code", "lift_reason", "person_id", "city", "aor", "detainer_type"):
        frame[column] = frame[column].astype("str").fillna("").str.strip()
    frame["state"] = states
    return frame
