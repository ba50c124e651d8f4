"""Reading and checking ICE's record-level detainer exports, in any published layout and format.

Every problem is found in one pass and reported with the file (and sheet),
the row, the column, the value and the rule, as for the raw tables: prepare
dates that are no date or an implausible one, and states that are no US state
or territory. States are normalised to USPS codes; redaction marks count as
missing values.
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.cells import FIRST_PLAUSIBLE_DATE, LAST_PLAUSIBLE_DATE, PLAUSIBLE_DATES
from analysis.errors import DataValidationError, Problem
from analysis.ice.codes import Coded, People
from analysis.ice.dates import DATE_FORMS, parse_dates
from analysis.ice.layouts import MEANING, TRUE_TEXTS, Layout
from analysis.ice.read import Raw, Where, read_raw
from analysis.ice.states import state_code

#: The lift reason that records a detainer declined by the local agency.
DECLINED = "Detainer Declined by LEA"
#: Rows listed per column and rule; the rest are counted in one more line.
LISTED = 20
#: How records naming no release are counted, and picked with ``--release``.
BLANK_RELEASE = "(blank)"


@dataclass(frozen=True)
class Export:
    """An export's records: local prepare date-times, the used text columns coded, and what the file lacks.

    ``text["state"]`` holds USPS codes; ``people`` the person identifiers. ``flagged`` is the file's own
    duplicate flag (the layout's ``duplicate_flag``; ``None`` when it has none). ``digest`` is the
    file's SHA-256 as it was read. ``releases`` counts the file's records per release (empty when it names
    none), before ``release`` (``None``: all) kept one. ``rejected`` holds the records set aside for their
    problems (``file``, ``line``, the columns the counts read, ``problems``), none unless allowed.
    """

    path: Path
    layout: Layout
    dates: np.ndarray
    text: dict[str, Coded]
    people: People
    flagged: np.ndarray | None
    missing: tuple[str, ...]
    digest: str
    releases: dict[str, int] = field(default_factory=dict)
    release: str | None = None
    rejected: pd.DataFrame = field(default_factory=lambda: _none_rejected())

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


def _none_rejected() -> pd.DataFrame:
    """No record set aside."""
    return pd.DataFrame(columns=["file", "line", "problems"])


#: Rows failing one rule: their indices, the column and the rule (for the set-aside rows' problems).
Failing = tuple[np.ndarray, str, str]


def _shown_date(value: object, workbook: bool) -> str:
    """A date cell that is no date, as a problem shows it: a time of day alone says so, and in a workbook why (a
    date cell holding a number below 1, zero or negative, is read as one; a spreadsheet shows it as ##### or a
    time), since the time is not what the cell shows."""
    if isinstance(value, datetime.time):
        why = ", as a workbook's date cell holding a number below 1 is read" if workbook else ""
        return f"{value} (a time of day with no date{why})"
    return str(value)


def _check_dates(raw: Raw) -> tuple[np.ndarray, list[Problem], list[Failing]]:
    dates, blank = parse_dates(raw.dates)
    name, column, values = str(raw.path), raw.layout.columns["prepare_date"], raw.dates.to_numpy()
    bad = np.flatnonzero(np.isnat(dates))
    workbook = raw.path.suffix.lower() in (".xlsx", ".xlsm")
    listed = [_shown_date(values[i], workbook) if not blank[i] else "(blank)" for i in bad[: LISTED + 1]]
    shown = np.array(listed, dtype=object)
    rule = f"must be a date ({DATE_FORMS})"
    problems = _problems(name, raw.where, bad, column, shown, rule)
    implausible = np.flatnonzero(
        (dates < np.datetime64(FIRST_PLAUSIBLE_DATE.date())) | (dates > np.datetime64(LAST_PLAUSIBLE_DATE.date()))
    )
    far = f"must be a date {PLAUSIBLE_DATES} (anything else is taken as a typing error)"
    problems += _problems(name, raw.where, implausible, column, values[implausible[: LISTED + 1]], far)
    return dates, problems, [(bad, column, rule), (implausible, column, far)]


def _check_states(raw: Raw) -> tuple[Coded, list[Problem], list[Failing]]:
    state = raw.text["state"]
    normalised = [state_code(str(v)) for v in state.values]
    unknown = np.flatnonzero([code is None for code in normalised])
    bad = np.flatnonzero(np.isin(state.codes, unknown))
    rule = "must be a US state or territory, written as its full name or its USPS code"
    column = raw.layout.columns["state"]
    problems = _problems(str(raw.path), raw.where, bad, column, state.decode(state.codes[bad]), rule)
    codes = np.array([code or "" for code in normalised], dtype=object)
    return Coded.from_parts(state.codes, codes), problems, [(bad, column, rule)]


def _flags(raw: Raw) -> np.ndarray | None:
    if raw.flagged is None:
        return None
    if pd.api.types.is_bool_dtype(raw.flagged.dtype):
        return raw.flagged.fillna(False).to_numpy(dtype=bool)
    codes, values = pd.factorize(raw.flagged)  # what: a million flags, a handful of distinct spellings
    truth = [str(v).strip().upper() in TRUE_TEXTS for v in values]
    return np.append(np.array(truth, dtype=bool), False)[codes]


def _releases(raw: Raw) -> dict[str, int]:
    """Records per release, in the order the releases first appear (empty when the file names no release)."""
    if "release" in raw.missing:
        return {}
    release = raw.text["release"]
    counts = np.bincount(release.codes + 1, minlength=len(release.values) + 1)
    order = pd.unique(release.codes)
    return {(release.values[code] if code >= 0 else BLANK_RELEASE): int(counts[code + 1]) for code in order}


def _one_release(raw: Raw, release: str) -> Raw:
    """Only the records of ``release`` (a value of the file's release column, compared in Unicode's NFC form;
    ``(blank)`` picks the records that name none)."""
    name = str(raw.path)
    if "release" in raw.missing:
        rule = "--release keeps one release of a file that names each record's release (as source_file or data_source)"
        raise DataValidationError([Problem(name, 0, "-", f"{raw.layout.description}: no release column", rule)])
    coded = raw.text["release"]
    if release == BLANK_RELEASE:
        return raw.take(np.flatnonzero(coded.codes < 0))
    wanted = unicodedata.normalize("NFC", release)
    found = [code for code, value in enumerate(coded.values) if unicodedata.normalize("NFC", str(value)) == wanted]
    if not found:
        names = [*map(str, coded.values), *([BLANK_RELEASE] if (coded.codes < 0).any() else [])]
        listed = "; ".join(repr(value) for value in names[:10]) + ("; ..." if len(names) > 10 else "")
        rule = f"--release must name one of the file's releases: {listed}"
        raise DataValidationError([Problem(name, 0, raw.layout.columns["release"], release, rule)])
    return raw.take(np.flatnonzero(np.isin(coded.codes, found)))


def _check_facility(raw: Raw) -> None:
    """Refuse a file (or the release kept of it) whose facility column is blank in every record: its layout was
    found, but its facilities are somewhere else (a build that keeps each release's names side by side, an empty
    column of an older name)."""
    if (raw.text["facility"].codes < 0).all():
        column = raw.layout.columns["facility"]
        rule = (
            f"the facility column of the layout found ({raw.layout.name}: {raw.layout.description}) must name the "
            "facility of at least one record; if the file keeps its facilities in another column, rename that one"
        )
        raise DataValidationError([Problem(str(raw.path), 0, column, "blank in every record", rule)])


def _set_aside(raw: Raw, rows: np.ndarray, failing: list[Failing]) -> pd.DataFrame:
    """The rows set aside, each with where it is, the values the counts read and its problems."""
    reasons: dict[int, list[str]] = {int(row): [] for row in rows}
    for failed, column, rule in failing:
        for row in failed.tolist():
            reasons[row].append(f"{column}: {rule}")
    table: dict[str, list[object]] = {"file": [], "line": []}
    for row in rows.tolist():
        file, line = raw.where.label(str(raw.path.name), row)
        table["file"].append(file)
        table["line"].append(line)
    values = raw.dates.to_numpy()
    table[raw.layout.columns["prepare_date"]] = ["" if pd.isna(v) else str(v) for v in values[rows]]
    for name in ("facility", "facility_code", "city", "state"):
        if name not in raw.missing:
            coded = raw.text[name]
            table[raw.layout.columns[name]] = list(coded.decode(coded.codes[rows]))
    table["problems"] = ["; ".join(reasons[int(row)]) for row in rows]
    return pd.DataFrame(table)


def read_export(path: str | Path, release: str | None = None, max_bad_rows: int = 0) -> Export:
    """Read an ICE detainer export in any known layout and format, checking every rule in one pass.

    Parameters
    ----------
    path
        A text (``.csv``, ``.tsv``, ``.txt``), ``.parquet``, Feather, ``.xlsx``,
        ``.dta`` or ``.sav`` file in one of the layouts of
        :mod:`analysis.ice.layouts`.
    release
        Keep only the records of this release (a value of the file's release
        column); ``None``: every record.
    max_bad_rows
        Up to this many records with problems are set aside (see
        :attr:`Export.rejected`) instead of failing the read.

    Raises
    ------
    DataValidationError
        An unreadable file, no header, a missing required column, no records,
        an unknown release, or more than ``max_bad_rows`` records with prepare
        dates that are no date or implausible or with unknown states.
    """
    raw = read_raw(Path(path))
    releases = _releases(raw)
    if release is not None:
        raw = _one_release(raw, release)
    _check_facility(raw)
    dates, problems, failing = _check_dates(raw)
    state, state_problems, state_failing = _check_states(raw)
    problems += state_problems
    failing += state_failing
    rejected = _none_rejected()
    if problems:
        bad = np.unique(np.concatenate([rows for rows, _, _ in failing]))
        if len(bad) > max_bad_rows:
            if max_bad_rows:
                rule = f"--max-bad-rows {max_bad_rows} sets aside at most {max_bad_rows:,} rows with problems"
                problems.append(Problem(str(raw.path), 0, "-", f"{len(bad):,} rows with problems", rule))
            raise DataValidationError(problems)
        rejected = _set_aside(raw, bad, failing)
        kept = np.setdiff1d(np.arange(len(dates)), bad)
        if not len(kept):
            rule = "at least one record must be left to count once the rows with problems are set aside"
            raise DataValidationError([*problems, Problem(str(raw.path), 0, "-", "every row with a problem", rule)])
        raw, dates, state = raw.take(kept), dates[kept], Coded(state.codes[kept], state.values)
    text = {**raw.text, "state": state}
    return Export(
        raw.path, raw.layout, dates, text, raw.people, _flags(raw), raw.missing, raw.digest, releases, release, rejected
    )
