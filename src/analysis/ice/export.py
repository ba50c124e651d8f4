"""Reading and checking ICE's record-level detainer exports, in any published layout and format.

Every problem is found in one pass and reported with the file (and sheet),
the row, the column, the value and the rule, as for the raw tables: prepare
dates that are no date or an implausible one, and states that are no US state
or territory. States are normalised to USPS codes; redaction marks count as
missing values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.cells import FIRST_PLAUSIBLE_DATE, LAST_PLAUSIBLE_DATE, PLAUSIBLE_DATES
from analysis.errors import DataValidationError, Problem
from analysis.ice.codes import Coded, People
from analysis.ice.dates import DATE_FORMS, parse_dates
from analysis.ice.layouts import MEANING, Layout
from analysis.ice.read import Raw, Where, read_raw
from analysis.ice.states import state_code

#: The lift reason that records a detainer declined by the local agency.
DECLINED = "Detainer Declined by LEA"
#: Rows listed per column and rule; the rest are counted in one more line.
LISTED = 20


@dataclass(frozen=True)
class Export:
    """An export's records: local prepare date-times, the used text columns coded, and what the file lacks.

    ``text["state"]`` holds USPS codes; ``people`` the person identifiers. ``flagged`` is the file's own
    ``duplicate_likely`` column (``None`` when it has none). ``digest`` is the
    file's SHA-256 as it was read.
    """

    path: Path
    layout: Layout
    dates: np.ndarray
    text: dict[str, Coded]
    people: People
    flagged: np.ndarray | None
    missing: tuple[str, ...]
    digest: str

    def __len__(self) -> int:
        return len(self.dates)

    @property
    def has_ids(self) -> bool:
        """Whether the file carries person identifiers (so likely duplicates can be found)."""
        return "person_id" not in self.missing

    def lacks(self) -> str:
        """What the file does not have, in words (blank when it has every column the ingest uses)."""
        return "; ".join(f"no {MEANING[f]}" for f in self.missing if f in MEANING)


def _problems(name: str, where: Where, rows: np.ndarray, column: str, values: np.ndarray, rule: str) -> list[Problem]:
    """One problem per failing row (the first :data:`LISTED`), then one counting the rest."""
    listed = []
    for index, value in zip(rows[:LISTED], values[:LISTED], strict=True):
        file, line = where.label(name, int(index))
        listed.append(Problem(file, line, column, str(value), rule))
    if len(rows) > LISTED:
        file, line = where.label(name, int(rows[LISTED]))
        listed.append(Problem(file, line, column, f"{len(rows) - LISTED:,} more rows like these", rule))
    return listed


def _check_dates(raw: Raw) -> tuple[np.ndarray, list[Problem]]:
    dates, blank = parse_dates(raw.dates)
    name, column, values = str(raw.path), raw.layout.columns["prepare_date"], raw.dates.to_numpy()
    bad = np.flatnonzero(np.isnat(dates))
    shown = np.array(["(blank)" if blank[i] else str(values[i]) for i in bad[: LISTED + 1]], dtype=object)
    problems = _problems(name, raw.where, bad, column, shown, f"must be a date ({DATE_FORMS})")
    implausible = np.flatnonzero(
        (dates < np.datetime64(FIRST_PLAUSIBLE_DATE.date())) | (dates > np.datetime64(LAST_PLAUSIBLE_DATE.date()))
    )
    rule = f"must be a date {PLAUSIBLE_DATES} (anything else is taken as a typing error)"
    problems += _problems(name, raw.where, implausible, column, values[implausible[: LISTED + 1]], rule)
    return dates, problems


def _check_states(raw: Raw) -> tuple[Coded, list[Problem]]:
    state = raw.text["state"]
    normalised = [state_code(str(v)) for v in state.values]
    unknown = np.flatnonzero([code is None for code in normalised])
    bad = np.flatnonzero(np.isin(state.codes, unknown))
    rule = "must be a US state or territory, written as its full name or its USPS code"
    problems = _problems(
        str(raw.path), raw.where, bad, raw.layout.columns["state"], state.decode(state.codes[bad]), rule
    )
    codes = np.array([code or "" for code in normalised], dtype=object)
    return Coded.from_parts(state.codes, codes), problems


def _flags(raw: Raw) -> np.ndarray | None:
    if raw.flagged is None:
        return None
    if pd.api.types.is_bool_dtype(raw.flagged.dtype):
        return raw.flagged.fillna(False).to_numpy(dtype=bool)
    codes, values = pd.factorize(raw.flagged)  # what: a million flags, a handful of distinct spellings
    truth = [str(v).strip().upper() in ("TRUE", "1", "1.0", "T", "YES") for v in values]
    return np.append(np.array(truth, dtype=bool), False)[codes]


def read_export(path: str | Path) -> Export:
    """Read an ICE detainer export in any known layout and format, checking every rule in one pass.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet``, ``.xlsx`` or ``.dta`` file in one of the
        layouts of :mod:`analysis.ice.layouts`.

    Raises
    ------
    DataValidationError
        An unreadable file, no header, a missing required column, no records,
        prepare dates that are no date or implausible, unknown states.
    """
    raw = read_raw(Path(path))
    dates, problems = _check_dates(raw)
    state, state_problems = _check_states(raw)
    problems += state_problems
    if problems:
        raise DataValidationError(problems)
    text = {**raw.text, "state": state}
    return Export(raw.path, raw.layout, dates, text, raw.people, _flags(raw), raw.missing, raw.digest)
