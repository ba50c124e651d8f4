"""Reading and validating ICE's record-level detainer exports (FOIA releases).

The exports come as CSV, parquet (as the Deportation Data Project publishes
them) or xlsx, with columns named in one of two generations. They are read
into canonical column names and checked in one pass; each problem names the
file, the row (the header being row 1), the column, the value and the rule.

Text columns are kept as integer codes (see :mod:`analysis.ice.codes`), so a
million records are checked and counted in about the time of a bare read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError, Problem
from analysis.ice.codes import Coded, person_codes

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
#: Columns whose values the ingest uses (the others must exist but are not read).
USED = ("facility", "facility_code", "state", "lift_reason", "person_id")  # person_id last
#: The lift reason that records a detainer declined by the local agency.
DECLINED = "Detainer Declined by LEA"
#: USPS codes of the states, DC, territories and military post offices.
STATES = frozenset(
    [
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
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
        "AA",
        "AE",
        "AP",
    ]
)
#: Rows listed per column and rule; the rest are counted in one more line.
LISTED = 20


@dataclass(frozen=True)
class Export:
    """An export's records: prepare dates and the used text columns, coded."""

    path: Path
    dates: np.ndarray
    text: dict[str, Coded]

    def __len__(self) -> int:
        return len(self.dates)


def _columns(name: str, available: list[str]) -> dict[str, str]:
    """Canonical name -> the name it has in this file; raise naming every missing column."""
    found, problems = {}, []
    for canonical, names in COLUMNS.items():
        present = [n for n in names if n in available]
        if present:
            found[canonical] = present[0]
        else:
            problems.append(Problem(name, 1, " or ".join(names), "no such column", "a required column is missing"))
    if problems:
        raise DataValidationError(problems)
    return found


def _read_parquet(path: Path) -> tuple[np.ndarray | pd.Series, dict[str, Coded]]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = _columns(str(path), pq.read_schema(path).names)
    text = [names[c] for c in USED if c != "person_id"]
    table = pq.read_table(path, columns=[names["prepare_date"], names["person_id"], *text], read_dictionary=text)
    if any(table.column(column).num_chunks > 1 for column in text):
        table = table.unify_dictionaries()  # what: one code per value across row groups
    coded = {
        "person_id": Coded(person_codes(table.column(names["person_id"]).combine_chunks()), np.empty(0, dtype=object))
    }
    for canonical in USED[:-1]:
        column = table.column(names[canonical]).combine_chunks()
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column.cast(pa.string()))
        codes = column.indices.fill_null(-1).to_numpy().astype(np.int64)
        coded[canonical] = Coded.from_parts(codes, column.dictionary.to_pylist())
    dates = table.column(names["prepare_date"])
    if pa.types.is_timestamp(dates.type) or pa.types.is_date(dates.type):
        return dates.to_numpy().astype("datetime64[s]"), coded
    return dates.to_pandas().astype("str"), coded


def _read_table(path: Path) -> tuple[pd.Series, dict[str, Coded]]:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = _columns(str(path), list(frame.columns))
    coded = {}
    for canonical in USED:
        codes, values = pd.factorize(frame[names[canonical]].fillna(""))
        coded[canonical] = Coded.from_parts(codes.astype(np.int64), np.asarray(values, dtype=object))
    return frame[names["prepare_date"]], coded


def _problems(name: str, rows: np.ndarray, column: str, values: np.ndarray, rule: str) -> list[Problem]:
    """One problem per failing row (the first :data:`LISTED`), then one counting the rest."""
    listed = [
        Problem(name, int(r) + 2, column, str(v) or "(blank)", rule)
        for r, v in zip(rows[:LISTED], values[:LISTED], strict=True)
    ]
    if len(rows) > LISTED:
        listed.append(
            Problem(name, int(rows[LISTED]) + 2, column, f"{len(rows) - LISTED:,} more rows like these", rule)
        )
    return listed


def read_export(path: str | Path) -> Export:
    """Read an ICE detainer export, checking every rule in one pass.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet`` or ``.xlsx`` file in the layout of ICE's releases.

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
        dates, coded = _read_parquet(source) if source.suffix.lower() == ".parquet" else _read_table(source)
    except DataValidationError:
        raise
    except (ValueError, OSError, ImportError) as error:
        problem = Problem(name, 0, "-", type(error).__name__, f"the file must be readable ({error})")
        raise DataValidationError([problem]) from None

    problems: list[Problem] = []
    # What: every prepare date parses (ISO dates or date-times; parquet and xlsx may hold timestamps).
    if not isinstance(dates, np.ndarray):
        text = dates.fillna("").astype("str").str.strip()
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy())
        problems += _problems(
            name,
            bad,
            COLUMNS["prepare_date"][0],
            text.to_numpy()[bad],
            "must be a date written YYYY-MM-DD, with or without a time",
        )
        dates = parsed.to_numpy().astype("datetime64[s]")
    else:
        bad = np.flatnonzero(np.isnat(dates))
        problems += _problems(
            name, bad, COLUMNS["prepare_date"][0], np.array(["(missing)"] * len(bad)), "must be a date"
        )

    # What: a state, when given, is a known USPS code.
    state = coded["state"]
    unknown = np.flatnonzero([value.upper() not in STATES for value in state.values])
    if len(unknown):
        bad = np.flatnonzero(np.isin(state.codes, unknown))
        problems += _problems(
            name,
            bad,
            "Facility State",
            state.decode(state.codes[bad]),
            "must be a two-letter USPS state or territory code",
        )
    if problems:
        raise DataValidationError(problems)
    return Export(source, dates, coded)
