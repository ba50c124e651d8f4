"""Loading the raw tables: read, validate every rule in one pass, convert to types."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis import paths
from analysis.data.cells import to_bool, to_count, to_date, to_number
from analysis.data.checks import row_check_columns
from analysis.data.csvfile import TextTable, read_text_table
from analysis.data.schema import (
    CLAIMS_COLUMNS,
    CORRECTIONS_COLUMNS,
    COUNT_KEY,
    REQUESTS_COLUMNS,
    SOURCES_COLUMNS,
    claims_schema,
    corrections_schema,
    requests_schema,
    sources_schema,
)
from analysis.errors import DataValidationError, Problem
from analysis.numbers import span_words
from analysis.params import check_folder


@dataclass(frozen=True)
class Dataset:
    """The three validated tables of a data directory.

    Attributes
    ----------
    requests
        One row per reported count: ``agency``, ``jurisdiction``,
        ``reported_by``, ``request_kind`` (``detainer``, ``notification`` or
        ``any``), ``period`` (str); ``period_start``, ``period_end``
        (timestamps, inclusive); ``requests``, ``honored``, ``declined``
        (``Int64``, ``<NA>`` where the source does not say); ``source_ids``
        (str, ``;``-separated).
    sources
        One row per source: ``source_id``, ``publisher``, ``title``,
        ``author``, ``published``, ``url``, ``kind``, ``access`` (str, blank as ``""``).
    claims
        One row per published claim; ``claimed_value`` and ``tolerance``
        (float, ``NaN`` when blank), ``precision`` (``Int64``),
        ``expected_to_hold`` (bool), the rest str.
    corrections
        One row per published correction (none when the folder has no
        ``corrections.csv``): ``date``, ``number_id``, ``old_value``,
        ``new_value``, ``reason``, ``source_id`` (str).
    data_dir
        Where the tables were read from.
    """

    requests: pd.DataFrame
    sources: pd.DataFrame
    claims: pd.DataFrame
    data_dir: Path
    corrections: pd.DataFrame = field(default_factory=lambda: _corrections_frame(None))

    def extent(self) -> str:
        """What the dataset holds, in one sentence: counts, agencies, counting parties (reporters), dates and
        sources."""
        requests = self.requests
        span = span_words(requests["period_start"].min().date(), requests["period_end"].max().date())
        agencies, reporters = requests["agency"].nunique(), requests["reported_by"].nunique()
        return (
            f"{len(requests)} counts for {agencies} {'agency' if agencies == 1 else 'agencies'} "
            f"by {reporters} counting {'party' if reporters == 1 else 'parties'}, covering {span}, "
            f"drawn from {len(self.sources)} {'source' if len(self.sources) == 1 else 'sources'}"
        )


def _problems(table: TextTable, schema: pa.DataFrameSchema) -> list[Problem]:
    """Validate ``table``'s cells against ``schema`` and describe every failure."""
    if table.frame.empty:
        return []
    try:
        schema.validate(table.frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _describe(str(table.path), table.frame, errors.failure_cases, row_check_columns(schema))
    return []


def _describe(
    name: str, frame: pd.DataFrame, failures: pd.DataFrame, row_columns: dict[str, tuple[str, ...]]
) -> list[Problem]:
    """Turn pandera's failure cases into one :class:`Problem` per cell or row."""
    problems = set()
    for failure in failures.itertuples(index=False):
        line, rule = int(str(failure.index)), str(failure.check)
        if rule in row_columns:
            columns = row_columns[rule]
            found = "; ".join(f"{c}={str(frame.at[line, c]) or '(blank)'}" for c in columns)
            problems.add(Problem(name, line, ", ".join(columns), found, rule))
        else:
            problems.add(Problem(name, line, str(failure.column), str(failure.failure_case), rule))
    return list(problems)


def _typed_requests(frame: pd.DataFrame) -> pd.DataFrame:
    typed = frame.reset_index(drop=True)
    for column in ("period_start", "period_end"):
        typed[column] = to_date(typed[column])
    for column in ("requests", "honored", "declined"):
        typed[column] = to_count(typed[column])
    return typed


def _typed_claims(frame: pd.DataFrame) -> pd.DataFrame:
    typed = frame.reset_index(drop=True)
    typed["claimed_value"] = to_number(typed["claimed_value"])
    typed["tolerance"] = to_number(typed["tolerance"])
    typed["precision"] = to_count(typed["precision"])
    typed["expected_to_hold"] = to_bool(typed["expected_to_hold"]).astype(bool)
    return typed


def prepare() -> None:
    """Do once what pandera does at its first validation (registering its backends), so a process forked after
    it (a kernel forked from the template) validates at full speed. Reads no file."""
    for columns, schema in (
        (SOURCES_COLUMNS, sources_schema()),
        (REQUESTS_COLUMNS, requests_schema(None)),
        (CLAIMS_COLUMNS, claims_schema(None, None)),
    ):
        with contextlib.suppress(pa.errors.SchemaErrors):
            schema.validate(pd.DataFrame({column: [""] for column in columns}, dtype="str"), lazy=True)


def load_dataset(data_dir: str | Path = paths.RAW_DIR) -> Dataset:
    """Read and validate the raw tables of ``data_dir``.

    Parameters
    ----------
    data_dir
        Folder holding ``detainer_requests.csv``, ``sources.csv`` and
        ``claims.csv``; a relative path is taken from the project root.

    Returns
    -------
    Dataset
        The typed tables.

    Raises
    ------
    DataValidationError
        Listing every problem found in any of the three files, one per line
        as ``FILE:LINE: COLUMN: found VALUE: RULE``.
    """
    folder = paths.resolve(check_folder("data_dir", data_dir))
    sources = read_text_table(folder / paths.SOURCES_FILE, SOURCES_COLUMNS)
    requests = read_text_table(folder / paths.REQUESTS_FILE, REQUESTS_COLUMNS)
    claims = read_text_table(folder / paths.CLAIMS_FILE, CLAIMS_COLUMNS, allow_no_rows=True)
    corrections = _corrections_table(folder)

    # What: cross-references are checked only against a table that could be read.
    source_ids = None if sources.frame.empty else set(sources.frame["source_id"])
    keys = requests.frame[list(COUNT_KEY)]
    # What: the counts a claim could refer to (those of the agencies the claims name), not a million keys.
    claimed = keys[keys["agency"].isin(set(claims.frame["agency"]))] if not claims.frame.empty else keys.iloc[:0]
    counts = None if keys.empty else set(zip(*(claimed[column].tolist() for column in COUNT_KEY), strict=True))
    problems = [*sources.problems, *requests.problems, *claims.problems]
    if corrections is not None:
        problems += [*corrections.problems, *_problems(corrections, corrections_schema(source_ids))]
    problems += _problems(sources, sources_schema())
    problems += _problems(requests, requests_schema(source_ids))
    problems += _problems(claims, claims_schema(source_ids, counts))
    if problems:
        raise DataValidationError(problems)

    return Dataset(
        requests=_typed_requests(requests.frame),
        sources=sources.frame.reset_index(drop=True),
        claims=_typed_claims(claims.frame),
        data_dir=folder,
        corrections=_corrections_frame(corrections),
    )


def _corrections_table(folder: Path) -> TextTable | None:
    """``corrections.csv`` of ``folder`` as text (``None`` when the folder has none)."""
    path = folder / paths.CORRECTIONS_FILE
    if not path.exists():
        return None
    return read_text_table(path, CORRECTIONS_COLUMNS, allow_no_rows=True)


def _corrections_frame(table: TextTable | None) -> pd.DataFrame:
    if table is None or table.frame.empty:
        return pd.DataFrame(columns=list(CORRECTIONS_COLUMNS), dtype="str")
    return table.frame.reset_index(drop=True)


def load_corrections(data_dir: str | Path) -> pd.DataFrame:
    """The corrections ledger of ``data_dir``, checked against its rules and its sources, joined to the source of
    each correction: :data:`CORRECTIONS_COLUMNS` and ``publisher``, ``title``, ``url`` (str); no rows when the
    folder has no ledger. Reads only the ledger and ``sources.csv`` (a run's page lists its corrections without
    reading the whole dataset again).

    Raises
    ------
    DataValidationError
        As :func:`load_dataset` does, for a problem in either file.
    """
    folder = paths.resolve(check_folder("data_dir", data_dir))
    table = _corrections_table(folder)
    columns = [*CORRECTIONS_COLUMNS, "publisher", "title", "url"]
    if table is None:
        return pd.DataFrame(columns=columns, dtype="str")
    sources = read_text_table(folder / paths.SOURCES_FILE, SOURCES_COLUMNS)
    source_ids = None if sources.frame.empty else set(sources.frame["source_id"])
    problems = [*sources.problems, *table.problems, *_problems(table, corrections_schema(source_ids))]
    if problems:
        raise DataValidationError(problems)
    found = _corrections_frame(table).merge(
        sources.frame[["source_id", "publisher", "title", "url"]], on="source_id", how="left"
    )
    return found[columns].fillna("").reset_index(drop=True)
