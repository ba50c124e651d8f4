"""Loading an ingested folder (written by ``detainers ingest-ice``): the dataset, lift reasons, monthly counts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pandas as pd

from analysis import paths
from analysis.data.cells import is_count, to_count
from analysis.data.checks import TEXT_RULE, is_text
from analysis.data.csvfile import read_text_table
from analysis.data.load import Dataset, load_dataset
from analysis.errors import DataValidationError, Problem

LIFT_REASON_COLUMNS = ("agency", "period", "lift_reason", "records")
MONTHLY_COLUMNS = ("agency", "month", "requests", "declined")
_MONTH = r"[0-9]{4}-(0[1-9]|1[0-2])"


@dataclass(frozen=True)
class IngestedFolder:
    """An ingested folder: the requests dataset, records per lift reason and period, and counts per month."""

    dataset: Dataset
    lift_reasons: pd.DataFrame
    monthly: pd.DataFrame
    #: Records of the export set aside for their problems (``ingest-ice --max-bad-rows``), not counted.
    set_aside: int = 0


def _read(path: Path, columns: tuple[str, ...], counts: tuple[str, ...]) -> tuple[pd.DataFrame, list[Problem]]:
    table = read_text_table(path, columns, allow_no_rows=True)
    problems = list(table.problems)
    frame = table.frame
    for column in counts:
        for line, cell in frame.loc[~is_count(frame[column]), column].items():
            problems.append(
                Problem(str(path), cast(int, line), column, cell, "must be a count written with digits only")
            )
    if "lift_reason" in frame:
        for line, cell in frame.loc[~frame["lift_reason"].map(is_text).astype(bool), "lift_reason"].items():
            problems.append(Problem(str(path), cast(int, line), "lift_reason", cell, TEXT_RULE))
    if "month" in frame:
        for line, cell in frame.loc[~frame["month"].str.fullmatch(_MONTH), "month"].items():
            problems.append(Problem(str(path), cast(int, line), "month", cell, "must be a month written YYYY-MM"))
    typed = frame.reset_index(drop=True)
    for column in counts:
        typed[column] = to_count(typed[column])
    return typed, problems


def load_ingested(folder: str | Path) -> IngestedFolder:
    """Read and check an ingested folder (a relative path is taken from the project root).

    Raises
    ------
    DataValidationError
        Listing every problem of every file.
    """
    where = paths.resolve(folder)
    problems: list[Problem] = []
    try:
        dataset = load_dataset(where)
    except DataValidationError as error:
        problems += error.problems
    lift_reasons, found = _read(where / paths.LIFT_REASONS_FILE, LIFT_REASON_COLUMNS, ("records",))
    problems += found
    monthly, found = _read(where / paths.MONTHLY_FILE, MONTHLY_COLUMNS, ("requests", "declined"))
    problems += found
    set_aside, found = _set_aside(where / paths.INGEST_MANIFEST)
    problems += found
    if problems:
        raise DataValidationError(problems)
    return IngestedFolder(dataset, lift_reasons, monthly, set_aside)


def _set_aside(manifest: Path) -> tuple[int, list[Problem]]:
    """How many records the ingest set aside, as its manifest says (0 for a folder written before it said so)."""
    rule = "must be the JSON object detainers ingest-ice writes, with set_aside a count"
    try:
        written = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return 0, [Problem(str(manifest), 0, "-", type(error).__name__, rule)]
    value = written.get("set_aside", 0) if isinstance(written, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return 0, [Problem(str(manifest), 0, "set_aside", str(value)[:80], rule)]
    return value, []
