"""Reading a CSV file into text cells, keeping each row's line number.

Only the file's structure is checked here (that it exists, is UTF-8, has the
expected header and a consistent number of fields); what the cells contain is
the schema's business (:mod:`analysis.schema`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.exceptions import Problem

_BOM = "\ufeff"


@dataclass
class TextTable:
    """A CSV file as text cells.

    Attributes
    ----------
    path
        The file read.
    frame
        One row per data row, one ``str`` column per header field (cells
        stripped of surrounding whitespace, blank cells as ``""``), indexed by
        the line number the row starts on (the header is line 1).
    problems
        Structural problems found; when any is present ``frame`` may be
        incomplete and its contents should not be validated further.
    """

    path: Path
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def _shown(value: str) -> str:
    """Return ``value`` as it is shown in a problem message."""
    if value == "":
        return "(blank)"
    # Undecodable bytes were kept as lone surrogates: show them as \xNN.
    return value.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")


def _has_bad_bytes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def read_text_table(path: Path, columns: Sequence[str], *, allow_no_rows: bool = False) -> TextTable:
    """Read ``path`` as a CSV table that must have exactly ``columns``.

    Accepts a UTF-8 byte-order mark, CRLF or LF line endings, whitespace
    around cells and header names, and blank lines.

    Parameters
    ----------
    path
        The CSV file.
    columns
        The column names the table must have (in any order).
    allow_no_rows
        Accept a header with no data rows (a table that may list nothing).

    Returns
    -------
    TextTable
        The cells and any structural problems.
    """
    name = str(path)
    empty = pd.DataFrame(columns=list(columns), dtype="str")

    def whole_file(value: str, rule: str) -> TextTable:
        return TextTable(path, empty, [Problem(name, 0, "-", value, rule)])

    if not path.is_file():
        return whole_file("no such file", "the file must exist")
    # Decode without failing so every bad byte can be reported with its cell.
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    if text.startswith(_BOM):
        text = text[len(_BOM) :]
    if not text.strip():
        return whole_file("an empty file", "the file needs a header line and at least one data row")

    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    problems: list[Problem] = []
    try:
        header = [cell.strip() for cell in next(reader)]
        records: list[tuple[int, list[str]]] = []
        previous_end = reader.line_num
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if any(cell.strip() for cell in record):
                records.append((start, [cell.strip() for cell in record]))
    except csv.Error as exc:
        line = reader.line_num
        return whole_file(f"malformed CSV at line {line}", f"the file must be valid CSV ({exc})")

    # What: the header must name each expected column exactly once.
    for column in columns:
        if column not in header:
            problems.append(Problem(name, 1, column, "no such column", "a required column is missing"))
    expected = ", ".join(columns)
    for position, column in enumerate(header):
        if column not in columns:
            problems.append(
                Problem(
                    name,
                    1,
                    column or f"(column {position + 1})",
                    _shown(column),
                    f"not a column of this table (expected {expected})",
                )
            )
        elif header.index(column) != position:
            problems.append(Problem(name, 1, column, column, "a column may appear only once"))
    if not records and not problems and not allow_no_rows:
        problems.append(Problem(name, 1, "-", "a header only", "the file needs at least one data row"))
    if problems:
        return TextTable(path, empty, problems)

    rows: list[list[str]] = []
    lines: list[int] = []
    for line, cells in records:
        # What: every row has one field per header column.
        if len(cells) != len(header):
            problems.append(
                Problem(
                    name,
                    line,
                    "-",
                    f"{len(cells)} fields",
                    f"each row must have {len(header)} fields, one per header column",
                )
            )
            continue
        # What: undecodable bytes are reported in the cell they sit in.
        for column, cell in zip(header, cells, strict=True):
            if _has_bad_bytes(cell):
                problems.append(Problem(name, line, column, _shown(cell), "the file must be UTF-8 text"))
        rows.append([cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for cell in cells])
        lines.append(line)

    frame = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype="str")
    return TextTable(path, frame[list(columns)], problems)
