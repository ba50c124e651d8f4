"""Reading and validating ICE's record-level detainer exports (FOIA releases).

The exports come as CSV, parquet (as the Deportation Data Project publishes
them) or xlsx, with columns named in one of two generations. They are read
into canonical column names and checked in one pass; each problem names the
file, the row (the header being row 1), the column, the value and the rule.

A million records must be ingested in about the time pandas takes to read
them, so text columns are kept dictionary-encoded: an integer code per record
and each distinct value once. Checks and counts work on the codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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
class Coded:
    """A text column as codes into its distinct values (``-1`` where blank)."""

    codes: np.ndarray
    values: np.ndarray

    @classmethod
    def from_parts(cls, codes: np.ndarray, values: list[str] | np.ndarray) -> Coded:
        """Strip the values, merge the ones that become equal, and code blanks as ``-1``."""
        stripped = np.array([str(v).strip() for v in values], dtype=object)
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


#: FNV-1a, 64-bit: offset basis and prime.
_FNV_BASIS, _FNV_PRIME = np.uint64(14695981039346656037), np.uint64(1099511628211)


def _person_codes(column: Any) -> np.ndarray:
    """A code per record's person identifier (``-1`` where blank), equal codes for equal identifiers.

    A million identifiers are nearly all distinct, and hashing them as Python
    or Arrow dictionary strings costs more than reading the whole file. Here
    each identifier's bytes are hashed (FNV-1a, 64-bit) column by column in
    numpy, and the hashes numbered; two different identifiers share a code
    only if their 64-bit hashes collide (about one chance in 10^7 for a
    million identifiers), which would at worst flag one extra duplicate.
    """
    import pyarrow as pa

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        codes, _ = pd.factorize(column.to_pandas().astype("str").str.strip().replace("", None))
        return codes.astype(np.int64)
    count = len(column)
    wide = np.int64 if pa.types.is_large_string(column.type) else np.int32
    offsets = np.frombuffer(column.buffers()[1], dtype=wide, count=count + 1, offset=column.offset * wide().itemsize)
    data = (
        np.frombuffer(column.buffers()[2], dtype=np.uint8) if column.buffers()[2] is not None else np.zeros(1, np.uint8)
    )
    starts, lengths = offsets[:-1].astype(np.int64), np.diff(offsets).astype(np.int64)
    hashes = np.full(count, _FNV_BASIS, dtype=np.uint64)
    longest = int(lengths.max(initial=0))
    with np.errstate(over="ignore"):
        if count and (lengths == longest).all():
            # What: identifiers of one length (the usual case) are the rows of a byte matrix.
            matrix = data[starts[0] : starts[0] + count * longest].reshape(count, longest)
            for position in range(longest):
                hashes = (hashes ^ matrix[:, position]) * _FNV_PRIME
        else:
            for position in range(longest):
                byte = data[np.minimum(starts + position, len(data) - 1)]
                hashes = np.where(position < lengths, (hashes ^ byte) * _FNV_PRIME, hashes)
        hashes = (hashes ^ lengths.astype(np.uint64)) * _FNV_PRIME
    codes, _ = pd.factorize(hashes)
    blank = (lengths == 0) | (column.is_null().to_numpy(zero_copy_only=False) if column.null_count else False)
    return np.where(blank, -1, codes).astype(np.int64)


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
        "person_id": Coded(_person_codes(table.column(names["person_id"]).combine_chunks()), np.empty(0, dtype=object))
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
