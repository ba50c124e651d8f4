"""Reading a CSV file into text cells, keeping each row's line number.

Only the file's structure is checked here (that it exists, is UTF-8, has the
expected header and a consistent number of fields); what the cells contain is
the schema's business (:mod:`analysis.data.schema`).
"""

from __future__ import annotations

import csv
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.cycles import no_cycle_collection
from analysis.data.source import BOM, NUL_BYTES, not_text, unreadable
from analysis.errors import Problem
from analysis.files import GUARD, unguard

#: Limits of a table file: bytes in one line, characters in one cell, bytes in the whole file. Past any of them the
#: file gets a problem naming the line (and column), read in bounded memory, never a MemoryError.
MAX_LINE_BYTES = 65_536
MAX_CELL_CHARACTERS = 4_096
MAX_FILE_BYTES = 1 << 30
#: Rows turned into columns at a time while a file is read.
CHUNK_ROWS = 10_000


#: A line's end as the reader takes it: ``\r\n``, ``\r`` (old Macintosh files) or ``\n``.
_LINE_END = re.compile(rb"\r\n|\r|\n")
#: Bytes read at a time while looking for an over-long line.
_BLOCK = 1 << 20


def _over_long_line(path: Path) -> tuple[int, str] | None:
    """The first line of ``path`` longer than :data:`MAX_LINE_BYTES`, with what was found; ``None`` if none is.

    Lines end as the reader ends them (``\r\n``, ``\r`` or ``\n``, so a file of old Macintosh line ends is as many
    lines as it shows). The file is read a block at a time, so a file that is one huge line costs no more memory
    than a block.
    """
    with path.open("rb") as stream:
        number, length, after_cr = 1, 0, False
        while block := stream.read(_BLOCK):
            if after_cr and block.startswith(b"\n"):
                block = block[1:]  # what: the rest of a \r\n cut by the block's edge, not another line
            after_cr = block.endswith(b"\r")
            # What: the lengths of the lines the block holds, the first continuing the line before it, the last
            # going on into the next block.
            sizes = [len(piece) for piece in _LINE_END.split(block)]
            sizes[0] += length
            if max(sizes) > MAX_LINE_BYTES:
                over = next(at for at, size in enumerate(sizes) if size > MAX_LINE_BYTES)
                return number + over, f"a line of more than {MAX_LINE_BYTES:,} bytes"
            number, length = number + len(sizes) - 1, sizes[-1]
    return None


@dataclass
class TextTable:
    """A CSV file as text cells.

    Attributes
    ----------
    path
        The file read.
    frame
        One row per data row, one ``str`` column per header field (cells
        stripped of surrounding whitespace and in Unicode NFC form, blank cells as ``""``), indexed by
        the line number the row starts on (the header is line 1).
    problems
        Structural problems found; when any is present ``frame`` may be
        incomplete and its contents should not be validated further.
    """

    path: Path
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


#: An undecodable byte, as ``surrogateescape`` decoding leaves it.
_BAD_BYTE = re.compile("[\udc80-\udcff]")


#: Where a cell can start or end with whitespace: whitespace (not a line break) beside the start or end of the
#: text, a comma, a quote or a line break; or a quoted cell that starts or ends with a line break.
_EDGE_SPACE = re.compile(
    r'(?:\A|[,"\r\n])[^\S\r\n]|[^\S\r\n](?:\Z|[,"\r\n])|(?:\A|[,\r\n])"[\r\n]|[\r\n]"(?:\Z|[,\r\n])'
)


def _has_bad_bytes(value: str) -> bool:
    return _BAD_BYTE.search(value) is not None


#: Every character ``str.strip()`` removes (``str.isspace``), for stripping a whole column at once.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


#: One line of text with its end (``\r\n``, ``\r`` or ``\n``), or the last line without one.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` as ``io.StringIO(text, newline="")`` gives them, one at a time (a StringIO holds a
    copy of the text at four bytes a character)."""
    return (match.group() for match in _LINE.finditer(text))


def _records(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]], bool]:
    """The header and the non-blank rows of CSV ``text`` (read as they are iterated), each row with the line it
    starts on, and whether the cells are still to be stripped of whitespace (a column at a time, by
    :func:`read_text_table`).

    Cells are stripped, un-guarded (:func:`analysis.files.unguard`) and in NFC. When the text holds no guard
    and is NFC as a whole (as nearly every file is), the last two steps are no-ops and stripping is left to
    the caller, so a million rows take seconds.

    Raises
    ------
    csv.Error
        When the text is not valid CSV (the header at once, a row when it is reached).
    """
    reader = csv.reader(_lines(text), skipinitialspace=True)
    header = [cell.strip() for cell in next(reader)]
    # What: composed and decomposed accents (e and U+0301, or U+00E9) are one text, as a reader sees them. Text
    # that is NFC as a whole is NFC in every cell (a comma, quote or line end composes with nothing).
    each = GUARD in text or not unicodedata.is_normalized("NFC", text)
    spaced = _EDGE_SPACE.search(text) is not None

    def rows() -> Iterator[tuple[int, list[str]]]:
        previous_end = reader.line_num
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if each:
                cells = [cell.strip() for cell in record]
                if any(cells):
                    yield start, [unicodedata.normalize("NFC", unguard(cell)) for cell in cells]
            elif any(record) and (not spaced or "".join(record).strip()):
                yield start, record

    return header, rows(), spaced and not each


#: The rule a file with another separator than the comma breaks, as problem messages state it.
SEPARATOR_RULE = "cells must be separated by commas (in a spreadsheet, save as CSV UTF-8, comma-delimited)"


def _header_problems(name: str, header: list[str], columns: Sequence[str]) -> list[Problem]:
    """The header must name each expected column exactly once, and nothing else; a header whose columns are
    separated by another character (``;`` as a spreadsheet set to a European language saves a CSV, or a tab) is
    one problem saying so."""
    if len(header) == 1:
        for separator, shown in ((";", "';'"), ("\t", "a tab")):
            if set(header[0].split(separator)) >= set(columns):
                return [Problem(name, 1, "-", f"the columns separated by {shown}", SEPARATOR_RULE)]
    problems = [
        Problem(name, 1, column, "no such column", "a required column is missing")
        for column in columns
        if column not in header
    ]
    expected = ", ".join(columns)
    for position, column in enumerate(header):
        if column not in columns:
            rule = f"not a column of this table (expected {expected})"
            problems.append(Problem(name, 1, column or f"(column {position + 1})", column, rule))
        elif header.index(column) != position:
            problems.append(Problem(name, 1, column, column, "a column may appear only once"))
    return problems


def _rows(
    name: str, header: list[str], records: list[tuple[int, list[str]]], bad_bytes: bool
) -> tuple[list[list[str]], list[int], list[Problem]]:
    """Rows with one field per header column, their lines, and the problems of the others (``bad_bytes``: whether
    the text holds any undecodable byte at all)."""
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    width = len(header)
    for line, cells in records:
        if len(cells) != width:
            rule = f"each row must have {width} fields, one per header column"
            problems.append(Problem(name, line, "-", f"{len(cells)} fields", rule))
            continue
        rows.append(cells)
        lines.append(line)
        if not (max(map(len, cells)) > MAX_CELL_CHARACTERS or (bad_bytes and _has_bad_bytes("".join(cells)))):
            continue
        cells[:] = [cell.strip() for cell in cells]
        # What: undecodable bytes are reported in the cell they sit in, and replaced (U+FFFD) in that cell only.
        for position, (column, cell) in enumerate(zip(header, cells, strict=True)):
            if len(cell) > MAX_CELL_CHARACTERS:
                rule = f"a cell may hold at most {MAX_CELL_CHARACTERS:,} characters"
                problems.append(Problem(name, line, column, f"{len(cell):,} characters", rule))
            elif _has_bad_bytes(cell):
                problems.append(Problem(name, line, column, cell, "the file must be UTF-8 text"))
                cells[position] = cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return rows, lines, problems


def _frame(header: list[str], rows: list[list[str]], lines: list[int], unstripped: bool) -> pd.DataFrame:
    """``rows`` as a frame of text columns named by ``header``, indexed by ``lines``; stripped if ``unstripped``."""
    columns_of_rows = zip(*rows, strict=True) if rows else ([] for _ in header)
    cells = {column: pd.Series(values, dtype="str") for column, values in zip(header, columns_of_rows, strict=True)}
    if unstripped:
        cells = {column: values.str.strip(WHITESPACE) for column, values in cells.items()}
    return pd.DataFrame(cells, columns=header).set_axis(pd.Index(lines, name="line"))


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

    why = unreadable(path)
    if why is not None:
        return whole_file(why, "the file must exist and be a readable regular file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return whole_file(f"{size:,} bytes", f"a table file may hold at most {MAX_FILE_BYTES:,} bytes")
    long_line = _over_long_line(path)
    if long_line is not None:
        line, found = long_line
        rule = f"a line may hold at most {MAX_LINE_BYTES:,} bytes"
        return TextTable(path, empty, [Problem(name, line, "-", found, rule)])
    data = path.read_bytes()
    kind = not_text(data)
    if kind == NUL_BYTES:
        before = data[: data.find(b"\x00")]  # what: the line of the first NUL byte, lines as an editor counts them
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        return TextTable(path, empty, [Problem(name, line, "-", kind, "the file must be UTF-8 text (CSV)")])
    if kind is not None:
        return whole_file(kind, "the file must be UTF-8 text (CSV)")
    # Decode without failing so every bad byte can be reported with its cell.
    text = data.decode("utf-8", "surrogateescape")
    if text.startswith(BOM):
        text = text[len(BOM) :]
    if not text.strip():
        after = "rows may follow, none is needed" if allow_no_rows else "at least one data row must follow"
        return whole_file("an empty file", f"the file needs its header line ({','.join(columns)}); {after}")
    bad_bytes = _has_bad_bytes(text)
    pieces: list[pd.DataFrame] = []
    problems: list[Problem] = []
    row_problems: list[Problem] = []
    found_rows = 0
    try:
        with no_cycle_collection():
            header, records, unstripped = _records(text)
            problems = _header_problems(name, header, columns)
            # What: rows become columns a chunk at a time, so a file's rows are never all Python lists at once.
            while chunk := list(itertools.islice(records, CHUNK_ROWS)):
                found_rows += len(chunk)
                if not problems:
                    rows, lines, trouble = _rows(name, header, chunk, bad_bytes)
                    row_problems += trouble
                    pieces.append(_frame(header, rows, lines, unstripped))
    except csv.Error as exc:
        return whole_file("malformed CSV", f"the file must be valid CSV ({exc})")

    if not found_rows and not problems and not allow_no_rows:
        problems.append(Problem(name, 1, "-", "a header only", "the file needs at least one data row"))
    if problems:
        return TextTable(path, empty, problems)
    frame = pd.concat(pieces) if len(pieces) > 1 else pieces[0] if pieces else _frame(header, [], [], False)
    return TextTable(path, frame[list(columns)], row_problems)
