"""Reading an export file of any supported format into the columns the ingest uses, wherever its header is.

Text (``.csv``, ``.tsv``, ``.txt``, as ICE, the Deportation Data Project or
R's ``write.csv`` write it, its separator sniffed), parquet, Feather
(``.feather``, ``.arrow``), xlsx (every sheet, the header found below any title
block, read with calamine), Stata ``.dta`` and SPSS ``.sav`` (value labels
applied). Text columns come back dictionary-coded
(:class:`~analysis.ice.codes.Coded`), so a million records cost little more
than reading them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.data.source import not_text, unreadable
from analysis.errors import DataValidationError, Problem
from analysis.files import file_digest
from analysis.ice.codes import Coded, People, person_keys
from analysis.ice.layouts import (
    FALSE_TEXTS,
    FIELDS,
    LAYOUTS,
    REQUIRED,
    TRUE_TEXTS,
    Layout,
    closest_layout,
    find_layout,
    looks_like_header,
)

if TYPE_CHECKING:
    import pyarrow as pa

#: Rows searched for the header, below any title block.
HEADER_SEARCH = 50
#: Formats read with pyarrow: parquet, and Feather (Arrow's IPC file, as R's ``arrow::write_feather`` writes it).
COLUMNAR = (".parquet", ".feather", ".arrow")
FORMATS = (".csv", ".tsv", ".txt", *COLUMNAR, ".xlsx", ".xlsm", ".dta", ".sav")
#: The separators a text export may use, whatever its extension says (analysts pass on tab-separated ``.csv``
#: and comma-separated ``.txt`` files): the one whose header row has the most columns is taken.
DELIMITERS = (",", "\t", ";", "|")
#: Text fields the ingest codes (the prepare date is parsed, person identifiers keyed, the duplicate flag read as
#: true/false).
TEXT_FIELDS = tuple(f for f in FIELDS if f not in ("prepare_date", "person_id"))


@dataclass
class Where:
    """Where each record sits: its sheet (for workbooks) and its row, the header row counting as its own number."""

    rows: np.ndarray
    sheet_codes: np.ndarray | None = None
    sheets: list[str] = field(default_factory=list)

    def take(self, rows: np.ndarray) -> Where:
        """Where ``rows`` (indices) sit."""
        codes = None if self.sheet_codes is None else self.sheet_codes[rows]
        return Where(self.rows[rows], codes, self.sheets)

    def label(self, name: str, index: int) -> tuple[str, int]:
        """``(file[sheet], row)`` of record ``index``."""
        if self.sheet_codes is None:
            return name, int(self.rows[index])
        return f"{name}[{self.sheets[int(self.sheet_codes[index])]}]", int(self.rows[index])


@dataclass
class Raw:
    """An export as read: its layout, prepare dates as found, coded text columns, the duplicate flag, the rows.

    ``text`` holds every field of :data:`TEXT_FIELDS`. ``digest`` is the file's SHA-256
    (hex), computed while the file is read.
    """

    path: Path
    layout: Layout
    dates: pd.Series
    text: dict[str, Coded]
    people: People
    flagged: pd.Series | None
    where: Where
    missing: tuple[str, ...]
    digest: str = ""

    def take(self, rows: np.ndarray) -> Raw:
        """The export's records ``rows`` (indices, in order) only."""
        text = {name: Coded(coded.codes[rows], coded.values) for name, coded in self.text.items()}
        ids = None if self.people.ids is None else self.people.ids.take(rows)
        flagged = None if self.flagged is None else self.flagged.iloc[rows].reset_index(drop=True)
        dates = self.dates.iloc[rows].reset_index(drop=True)
        people = People(self.people.keys[rows], ids)
        return replace(self, dates=dates, text=text, people=people, flagged=flagged, where=self.where.take(rows))


def _fail(path: Path, value: str, rule: str, line: int = 0, column: str = "-") -> DataValidationError:
    return DataValidationError([Problem(str(path), line, column, value, rule)])


def _layout_of(path: Path, header: list[str], line: int) -> Layout:
    layout = find_layout(header)
    if layout is None:
        near = closest_layout(header)
        lacking = [near.columns[f] for f in ("prepare_date", "facility", "state") if near.columns[f] not in header]
        if lacking:
            problems = [Problem(str(path), line, c, "no such column", "a required column is missing") for c in lacking]
            raise DataValidationError(problems)
    assert layout is not None
    return layout


def _no_header(path: Path, first: Sequence[object] = ()) -> DataValidationError:
    """No header found: say what the file's first row names, and the names each known layout needs."""
    cells = [str(cell).strip() for cell in first if cell is not None and cell == cell and str(cell).strip()]
    shown = "; ".join(cells[:8]) + ("; ..." if len(cells) > 8 else "")
    needs = "; ".join(
        f"{layout.name} ({layout.description}): {', '.join(layout.columns[field] for field in REQUIRED)}"
        for layout in LAYOUTS
    )
    return _fail(
        path,
        f"no header row (the first row names: {shown})" if shown else "no header row",
        f"the file must have a header row, within its first {HEADER_SEARCH} rows, naming the prepare date, the "
        f"facility and the state as one of the known layouts names them: {needs}",
    )


_LINE_ENDS = re.compile(r"\r\n|\r|\n")


def _first_row(lines: list[str]) -> list[str]:
    """The first non-blank line's cells, split by the separator that gives the most."""
    line = next((line for line in lines if line.strip()), "")
    return max((next(csv.reader([line], delimiter=d), []) for d in DELIMITERS), key=len, default=[])


def _coded(frame: pd.DataFrame, column: str | None) -> Coded:
    if column is None or column not in frame:
        return Coded.blank(len(frame))
    codes, values = pd.factorize(frame[column].astype("object").where(frame[column].notna(), ""))
    # What: a number in a text column (a release named 120125 in a .dta) is the text the file shows, not 120125.0.
    shown = [_as_text(value) for value in values]
    return Coded.from_parts(codes.astype(np.int64), np.asarray(shown, dtype=object))


def _from_frame(path: Path, frame: pd.DataFrame, layout: Layout, where: Where) -> Raw:
    if frame.empty:
        raise _fail(path, "a header only", "the export must hold at least one record")
    missing = tuple(f for f in FIELDS if layout.columns.get(f) not in frame)
    flag = layout.duplicate_flag
    flagged = frame[flag] if flag and flag in frame else None
    text = {name: _coded(frame, layout.columns.get(name)) for name in TEXT_FIELDS}
    people = People(_coded(frame, layout.columns.get("person_id")).codes)  # what: a few thousand rows, coded exactly
    return Raw(path, layout, frame[layout.columns["prepare_date"]], text, people, flagged, where, missing)


def _read_csv(path: Path) -> Raw:
    data = path.read_bytes()
    kind = not_text(data)
    if kind is not None:
        raise _fail(path, kind, "the export must be UTF-8 text (CSV), parquet, Feather, xlsx, Stata .dta or SPSS .sav")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        at = error.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)  # what: past the BOM
        ends = _line_end(data)
        line = data.count(ends, 0, at) + 1
        column = at - (data.rfind(ends, 0, at) + 1) + 1
        byte = f"the byte {data[at]:#04x}, not UTF-8, at byte {column:,} of the line"
        rule = "the file must be UTF-8 text (saved from Excel as 'CSV UTF-8', not as Windows text)"
        raise _fail(path, byte, rule, line) from None
    nul = text.find("\x00")
    if nul >= 0:  # what: anywhere in the file, not only in the part looked at to tell text from binary
        raise _fail(path, "a NUL byte", "the export must be text; a NUL byte is not", text.count("\n", 0, nul) + 1)
    # What: lines end where csv and pandas end them (\n, \r\n, \r), not at U+2028, a form feed or NEL, which
    # str.splitlines also takes for line ends: a title line holding one would put the header on the wrong line.
    cut = next((m.start() for n, m in enumerate(_LINE_ENDS.finditer(text), 1) if n == HEADER_SEARCH), len(text))
    top = _LINE_ENDS.split(text[:cut])  # what: the first lines only, never a copy of the whole file
    found = _sniff_header(top)
    if found is None:
        raise _no_header(path, _first_row(top))
    delimiter, row_number, row = found
    header_line = int(_row_lines("\n".join(top), delimiter, row_number + 1)[row_number])
    header = [cell.strip() for cell in row]
    layout = _layout_of(path, header, header_line)
    wanted = layout.read_columns(header)
    _check_unique(path, header, wanted, header_line)
    frame = pd.read_csv(
        io.StringIO(text), sep=delimiter, skiprows=row_number, header=0, usecols=lambda c: str(c).strip() in wanted,
        dtype=str, keep_default_na=False, na_values=["NA"], skipinitialspace=True, skip_blank_lines=False,
    )  # fmt: skip
    frame.columns = [str(c).strip() for c in frame.columns]
    # What: a blank line is a row of blanks here, so each record keeps the line an editor shows it on; then it goes
    # (as does a line of separators only). Whether a line is blank is read from the file itself, every cell of it:
    # a record whose counted cells are empty is still a record (its blank date a problem). The rows whose first
    # column is blank are the only ones worth looking at.
    lines = _record_lines(text, frame, row_number, delimiter, header_line)
    first = frame.iloc[:, 0]
    maybe = np.flatnonzero((first.isna() | first.isin([""])).to_numpy())
    kept = np.ones(len(frame), dtype=bool)
    kept[maybe[_blank_lines(data, lines[maybe])]] = False
    return _from_frame(path, frame[kept].reset_index(drop=True), layout, Where(lines[kept]))


def _line_end(data: bytes) -> bytes:
    """The byte that ends a line of the file's bytes ``data``: ``\\n`` (Unix and Windows), else ``\\r`` (old Mac)."""
    return b"\n" if b"\n" in data else b"\r"


#: A line holding nothing but spaces and separators.
_BLANK_LINE = re.compile(rb"[ \t\r,;|]*")


def _blank_lines(data: bytes, numbers: np.ndarray) -> np.ndarray:
    """Whether each of the physical lines ``numbers`` (from 1) of the file's bytes ``data`` is blank."""
    if not len(numbers):
        return np.zeros(0, dtype=bool)
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _line_end(data)[0])
    starts = np.concatenate([[0], ends + 1])
    ends = np.append(ends, len(data))
    return np.array(
        [_BLANK_LINE.fullmatch(data[starts[n - 1] : ends[n - 1]]) is not None for n in numbers.tolist()], dtype=bool
    )


def _row_lines(text: str, delimiter: str, rows: int | None = None) -> np.ndarray:
    """The physical line (counting from 1, as an editor shows it) on which each of the first ``rows`` rows of CSV
    ``text`` starts: a quoted cell spanning lines moves every row below it down."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    starts, end = [], 0
    for _ in reader:
        starts.append(end + 1)
        end = reader.line_num
        if rows is not None and len(starts) >= rows:
            break
    return np.array(starts, dtype=np.int64)


def _record_lines(text: str, frame: pd.DataFrame, header_row: int, delimiter: str, header_line: int) -> np.ndarray:
    """The physical line of each row of ``frame`` (read from ``text`` below its header, blank lines as rows).

    When the file has as many line ends below the header as rows, each row is one line; only a file whose cells
    hold line breaks is walked through row by row.
    """
    below = len(frame)
    ends = text.count("\n") or text.count("\r")
    last_end = text.endswith(("\n", "\r"))
    if ends - (header_line - 1) - (1 if last_end else 0) == below:
        return np.arange(below) + header_line + 1
    return _row_lines(text, delimiter)[header_row + 1 : header_row + 1 + below]


def _sniff_header(lines: list[str]) -> tuple[str, int, list[str]] | None:
    """The separator of a text export, the index of its header row among the CSV rows of ``lines`` and the
    header's cells: of :data:`DELIMITERS`, the one under which a row reads as a header with the most columns
    (``None``: none)."""
    best: tuple[str, int, list[str]] | None = None
    for delimiter in DELIMITERS:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        line = next((number for number, row in enumerate(rows) if looks_like_header(row)), None)
        if line is not None and (best is None or len(rows[line]) > len(best[2])):
            best = (delimiter, line, rows[line])
    return best


def _check_unique(path: Path, header: list[str], wanted: list[str], line: int) -> None:
    """A column the counts read may appear once only: which of two copies holds the value would be a guess."""
    twice = sorted({column for column in wanted if header.count(column) > 1})
    if twice:
        rule = "a column the counts read may appear only once in the header"
        raise DataValidationError([Problem(str(path), line, column, "named twice", rule) for column in twice])


def _sheet_records(
    path: Path, name: str, cells: pd.DataFrame, header: list[str] | None
) -> tuple[pd.DataFrame, list[str], int]:
    """One sheet's records under its header (found below any title block, or the previous sheet's)."""
    top = cells.head(HEADER_SEARCH)
    found = next((i for i, row in enumerate(top.itertuples(index=False)) if looks_like_header(row)), None)
    if found is not None:
        header = [str(c).strip() if c is not None and c == c else "" for c in cells.iloc[found]]
        body = cells.iloc[found + 1 :]
    elif header is not None and cells.shape[1] == len(header):
        body = cells  # a sheet that continues the previous one without repeating the header
        found = -1
    else:
        first = next(
            (list(row) for row in top.itertuples(index=False) if any(c == c and c is not None for c in row)), []
        )
        raise _no_header(Path(f"{path}[{name}]"), first)
    body = body.dropna(how="all")
    body.columns = header
    layout = find_layout(header)
    if layout is not None:
        wanted = layout.read_columns(header)
        _check_unique(Path(f"{path}[{name}]"), header, wanted, found + 1)
    return body.loc[:, ~body.columns.duplicated()], header, found + 1


#: calamine sets aside room for every cell of a sheet's range, so a tiny workbook with one far cell (ZZ1048576)
#: would take gigabytes. A sheet may span at most this many cells plus :data:`CELLS_PER_BYTE` for each byte of
#: its XML (a real sheet stores its non-blank cells, some 15 bytes or more each).
BASE_CELLS, CELLS_PER_BYTE = 1_000_000, 4
#: The most a workbook may expand to once uncompressed.
MAX_UNCOMPRESSED = 4 * 1024**3
#: A sheet's XML up to this size is read through for its farthest cell when it declares no range.
SCAN_LIMIT = 64 * 1024**2
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]+[0-9]+:)?([A-Z]+)([0-9]+)"')
_CELL_REF = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _check_expansion(path: Path) -> None:
    """Refuse a workbook that would expand hugely once read (see :data:`BASE_CELLS`, :data:`MAX_UNCOMPRESSED`),
    from its zip directory and each sheet's declared range (or farthest cell), before any cell is read."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # what: not a zip: the reader says what is wrong with it
    with archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        if total > MAX_UNCOMPRESSED:
            rule = f"a workbook may expand to at most {MAX_UNCOMPRESSED:,} bytes"
            raise _fail(path, f"{total:,} bytes once uncompressed", rule)
        for member in members:
            if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                continue
            with archive.open(member) as stream:
                found = _DIMENSION.search(stream.read(65536))
            if found is not None:
                letters, digits = found.groups()
            elif member.file_size <= SCAN_LIMIT:
                refs = _CELL_REF.findall(archive.read(member))
                if not refs:
                    continue
                letters = max((r[0] for r in refs), key=lambda c: (len(c), c))
                digits = str(max(int(r[1]) for r in refs)).encode()
            else:
                continue
            columns, rows = _column_number(letters), int(digits)
            allowed = BASE_CELLS + CELLS_PER_BYTE * member.file_size
            if columns * rows > allowed:
                found_text = (
                    f"a sheet ({member.filename}) whose range reaches {letters.decode()}{rows}: {rows:,} rows by "
                    f"{columns:,} columns, {columns * rows:,} cells in {member.file_size:,} bytes of XML"
                )
                rule = (
                    f"a sheet may span at most {BASE_CELLS:,} cells plus {CELLS_PER_BYTE} per byte of its XML "
                    f"(here {allowed:,}); delete the stray cells far from the records"
                )
                raise _fail(path, found_text, rule)


def _read_workbook(path: Path) -> Raw:
    _check_expansion(path)
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine", dtype=object)
    frames, rows, codes, names = [], [], [], []
    header: list[str] | None = None
    layout: Layout | None = None
    for number, (name, cells) in enumerate(sheets.items()):
        if cells.dropna(how="all").empty:
            continue
        body, header, header_row = _sheet_records(path, str(name), cells, header)
        found = _layout_of(Path(f"{path}[{name}]"), header, header_row)
        if layout is not None and found.columns != layout.columns:
            rule = f"every sheet of a workbook must hold one layout (the first sheet's is {layout.name})"
            raise _fail(Path(f"{path}[{name}]"), f"the layout {found.name}", rule, header_row)
        layout = layout or found
        frames.append(body)
        rows.append(body.index.to_numpy() + 1)  # Excel rows count from 1
        codes.append(np.full(len(body), number))
        names.append(str(name))
    if layout is None:
        raise _fail(path, "an empty workbook", "the export must hold at least one record")
    frame = pd.concat(frames, ignore_index=True)
    all_names = [str(n) for n in sheets]
    return _from_frame(path, frame, layout, Where(np.concatenate(rows), np.concatenate(codes), all_names))


def _labelled(frame: pd.DataFrame, labels: Mapping[str, Mapping[Any, str]], columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of ``frame`` with their value labels applied (Stata and SPSS store a facility as a number and
    its name as the number's label): a labelled value becomes its label, any other value its own text."""
    for column in columns:
        table = labels.get(column)
        if not table:
            continue
        values = frame[column]
        codes, uniques = pd.factorize(values)
        named = [table.get(value, _as_text(value)) for value in uniques]
        frame[column] = pd.Series(np.array([*named, None], dtype=object)[codes], index=frame.index)
    return frame


def _as_text(value: object) -> str:
    """A number without its label as the file shows it: ``2``, not ``2.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_stata(path: Path) -> Raw:
    """A Stata ``.dta`` export, its value labels applied (read with pyreadstat, which says which column uses which
    label set)."""
    import pyreadstat

    frame = pd.read_stata(path, convert_categoricals=False)
    layout = _layout_of(path, [str(c) for c in frame.columns], 1)
    _, meta = pyreadstat.read_dta(str(path), metadataonly=True)
    frame = _labelled(frame, meta.variable_value_labels, _label_columns(layout, meta.variable_value_labels))
    return _from_frame(path, frame, layout, Where(np.arange(len(frame)) + 2))


def _label_columns(layout: Layout, labels: Mapping[str, Mapping[Any, str]]) -> list[str]:
    """The columns whose value labels are the values: every one the counts read but the prepare date, and the
    duplicate flag when its labels say true or false (R writes a logical saved as a factor as 1 = FALSE,
    2 = TRUE); a flag labelled otherwise (0 = keep, 1 = drop) is read by its numbers."""
    columns = [column for name, column in layout.columns.items() if name != "prepare_date"]
    flag = layout.duplicate_flag
    if flag and all(str(label).strip().upper() in TRUE_TEXTS | FALSE_TEXTS for label in labels.get(flag, {}).values()):
        columns.append(flag)
    return columns


def _read_spss(path: Path) -> Raw:
    """An SPSS ``.sav`` export (as the Deportation Data Project also publishes), its value labels applied."""
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    layout = _layout_of(path, [str(c) for c in meta.column_names], 1)
    wanted = layout.read_columns(meta.column_names)
    frame, _ = pyreadstat.read_sav(str(path), usecols=wanted, apply_value_formats=False)
    frame = _labelled(frame, meta.variable_value_labels, _label_columns(layout, meta.variable_value_labels))
    return _from_frame(path, frame, layout, Where(np.arange(len(frame)) + 2))


#: The first bytes of Arrow's IPC file (Feather version 2) and of Feather version 1, and the end of an IPC stream.
ARROW_FILE, FEATHER_V1, STREAM_END = b"ARROW1", b"FEA1", b"\xff\xff\xff\xff\x00\x00\x00\x00"


def _arrow_schema(path: Path) -> pa.Schema:
    """The columns of a parquet or Feather file, read from its footer without a row: Arrow's IPC file (as Feather
    version 2 is) or a whole IPC stream. Feather version 1 (which pyarrow reads without any check, so a damaged
    file can crash it) is refused, with how to save it anew."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.suffix.lower() == ".parquet":
        return pq.read_schema(path)
    with path.open("rb") as stream:
        head = stream.read(len(ARROW_FILE))
        stream.seek(max(path.stat().st_size - len(STREAM_END), 0))
        tail = stream.read()
    if head.startswith(FEATHER_V1):
        raise _fail(
            path, "Feather version 1", "the file must be Feather version 2 (Arrow's IPC file): read it in R or Python "
            "and write it again with arrow's write_feather, whose default is version 2",
        )  # fmt: skip
    with pa.memory_map(str(path)) as source:
        if head == ARROW_FILE:
            return pa.ipc.open_file(source).schema
        if tail != STREAM_END:
            rule = "an Arrow stream must end with its end-of-stream marker (a file cut short would lose records)"
            raise _fail(path, "no end-of-stream marker", rule)
        return pa.ipc.open_stream(source).schema


def _arrow_table(path: Path, columns: list[str], text: list[str], decoded: list[str]) -> pa.Table:
    """``columns`` of a parquet or Feather file (parquet's ``text`` columns read dictionary-coded; ``decoded``:
    those whose bytes, if the file stores bytes, are text, see :func:`_check_text`).

    A Feather file is read as it lies on disk, so it is checked whole first: a damaged one is refused
    (``pyarrow.ArrowInvalid``, told as a problem) before any of its values is used. One whose only fault is text
    that is not UTF-8 (its text sound when read as bytes) is refused naming that value's line and column.
    """
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    if path.suffix.lower() == ".parquet":
        return pq.read_table(path, columns=columns, read_dictionary=text)
    with path.open("rb") as stream:
        is_file = stream.read(len(ARROW_FILE)) == ARROW_FILE
    if is_file:
        table = feather.read_table(path, columns=columns, memory_map=True)
    else:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_stream(source).read_all().select(columns)
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        as_bytes = pa.table([_text_as_bytes(column) for column in table.columns], names=table.column_names)
        as_bytes.validate(full=True)  # what: a damaged file is refused as such, its values never read
        _check_text(path, table, decoded)
        raise
    return table


def _is_text(kind: pa.DataType) -> bool:
    """Whether ``kind`` declares UTF-8 text (Arrow's string types), whose values must then be UTF-8."""
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _is_bytes(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind)


def _text_as_bytes(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column (or one of coded text) as the bytes it holds, which Arrow checks without decoding them."""
    import pyarrow as pa

    kind = column.type
    values = kind.value_type if pa.types.is_dictionary(kind) else kind
    if not _is_text(values):
        return column
    raw = {pa.string(): pa.binary(), pa.large_string(): pa.large_binary()}.get(values, pa.binary_view())
    target = pa.dictionary(kind.index_type, raw) if pa.types.is_dictionary(kind) else raw
    return pa.chunked_array([chunk.view(target) for chunk in column.chunks], target)


def _not_utf8(values: pa.Array) -> list[int]:
    """The indices of ``values`` (text or bytes) that are not UTF-8, in order; none when all are (checked at
    Arrow's speed; only a failing array is looked at value by value)."""
    import pyarrow as pa

    try:
        if _is_text(values.type):
            values.validate(full=True)
        else:
            values.cast(pa.large_string())
        return []
    except pa.ArrowInvalid:
        pass
    bad = []
    for index, value in enumerate(_text_as_bytes(pa.chunked_array([values])).to_pylist()):
        try:
            if value is not None:
                value.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(index)
    return bad


#: Characters of a value shown in a problem at most (a bad value can be a whole page of bytes).
SHOWN = 200


def _first_not_utf8(column: pa.ChunkedArray) -> tuple[int | None, str] | None:
    """The first record of ``column`` holding a value that is not UTF-8, as ``(row, value shown)``; row ``None``
    for a value of the column's dictionary that no record uses; ``None`` when every value is UTF-8."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dictionary = pa.types.is_dictionary(column.type)
    offset, unused = 0, None
    for chunk in column.chunks:
        values = chunk.dictionary if dictionary else chunk
        bad = _not_utf8(values)
        row = -1
        if bad and dictionary:
            row = pc.index(pc.is_in(chunk.indices, value_set=pa.array(bad, chunk.indices.type)), True).as_py()
            if row < 0 and unused is None:
                unused = (None, _shown_bytes(values, bad[0]))
        elif bad:
            row = bad[0]
        if row >= 0:
            return offset + row, _shown_bytes(values, chunk.indices[row].as_py() if dictionary else row)
        offset += len(chunk)
    return unused


def _shown_bytes(values: pa.Array, index: int) -> str:
    """Value ``index`` of ``values`` as a problem shows it: bytes that are not UTF-8 as escapes (``\\xe9``), cut
    at :data:`SHOWN` characters (never inside an escape)."""
    import pyarrow as pa

    value = _text_as_bytes(pa.chunked_array([values]))[index].as_py()
    text = value.decode("utf-8", errors="backslashreplace")
    if len(text) <= SHOWN:
        return text
    return re.sub(r"\\(x[0-9a-f]?)?$", "", text[:SHOWN]) + "..."


def _check_text(path: Path, table: pa.Table, columns: Sequence[str]) -> None:
    """Refuse text of ``columns`` that is not UTF-8 (parquet keeps text as bytes, and a writer can put any
    there), naming the first record that holds any, its line (the header is line 1) and column, as a CSV's first
    bad byte is; a value of a column's dictionary that no record uses is named without a line. Columns of
    Arrow's text types are checked, and those of bytes in ``columns``."""
    import pyarrow as pa

    rule = "must be UTF-8 text (the file holds bytes of another encoding)"
    found = []
    for name in table.column_names:
        kind = table.column(name).type
        values = kind.value_type if pa.types.is_dictionary(kind) else kind
        if _is_text(values) or (_is_bytes(values) and name in columns):
            first = _first_not_utf8(table.column(name))
            if first is not None:
                found.append((*first, name))
    used = [(row, shown, name) for row, shown, name in found if row is not None]
    if used:
        row, shown, name = min(used, key=lambda item: item[0])  # what: the first record; in a tie, the first column
        raise _fail(path, shown, rule, row + 2, name)
    if found:
        _, shown, name = found[0]
        raise _fail(path, f"{shown} (in the column's dictionary; no record uses it)", rule, 0, name)


def _read_columnar(path: Path, background: Executor) -> Raw:
    """A parquet or Feather (``.feather``, ``.arrow``: Arrow's IPC file) export."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = _arrow_schema(path)
    header = schema.names
    layout = _layout_of(path, header, 1)
    _check_unique(path, header, layout.read_columns(header), 1)
    present = {f: c for f, c in layout.columns.items() if c in header}
    text = [present[f] for f in TEXT_FIELDS if f in present]
    flag = layout.duplicate_flag if layout.duplicate_flag in header else None
    person = [present["person_id"]] if "person_id" in present else []
    columns = [present["prepare_date"], *text, *person, *([flag] if flag else [])]
    for name in columns:
        kind = schema.field(name).type
        if pa.types.is_nested(kind):
            raise _fail(
                path, f"a column of {kind}", "the column must hold one value a cell, not a list or record", 1, name
            )
    # What: the checksum reads the file beside Arrow's reading of it, which leaves part of the cores idle.
    checksum = background.submit(file_digest, path)
    # What: a column of bytes is text to decode, but for identifiers, which are hashed as the bytes they are.
    decoded = [present["prepare_date"], *text, *([flag] if flag else [])]
    table = _arrow_table(path, columns, text, decoded)
    _check_text(path, table, decoded)
    if table.num_rows == 0:
        raise _fail(path, "a header only", "the export must hold at least one record")
    # What: the identifiers' keys (the largest single step) are worked out mostly without the GIL, so they run
    # beside the coding of the other columns.
    people = background.submit(person_keys, table.column(person[0]).combine_chunks()) if person else None
    if any(table.column(c).num_chunks > 1 for c in text):
        table = table.unify_dictionaries()  # what: one code per value across row groups
    coded = {}
    for name in TEXT_FIELDS:
        if name not in present:
            coded[name] = Coded.blank(table.num_rows)
        else:
            column = table.column(present[name]).combine_chunks()
            if pa.types.is_dictionary(column.type) and not pa.types.is_string(column.type.value_type):
                # What: bytes (a binary column) are text as UTF-8 (else a problem), never their repr (b'B').
                column = column.dictionary_decode()
            if not pa.types.is_dictionary(column.type):
                column = pc.dictionary_encode(column.cast(pa.string()))
            indices = column.indices.fill_null(-1) if column.null_count else column.indices
            coded[name] = Coded.from_parts(indices.to_numpy(zero_copy_only=False), column.dictionary.to_pylist())
    dates_column = table.column(present["prepare_date"])
    if pa.types.is_date(dates_column.type):
        dates_column = pc.cast(dates_column, pa.timestamp("s"))  # what: dates as datetime64, not Python objects
    dates = dates_column.to_pandas()
    flagged = None
    if flag:
        column = table.column(flag)
        if pa.types.is_boolean(column.type):
            column = pc.fill_null(column, False)
        flagged = pd.Series(column.to_numpy())
    missing = tuple(f for f in FIELDS if f not in present)
    where = Where(np.arange(table.num_rows) + 2)
    keys = people.result() if people is not None else People.none(table.num_rows)
    return Raw(path, layout, dates, coded, keys, flagged, where, missing, checksum.result())


def _read_errors() -> tuple[type[Exception], ...]:
    """Every error a reader raises for a file it cannot read (a CSV renamed ``.xlsx``, a truncated ``.dta``, a
    ``.sav`` that is none): told to the user as a problem with the file, never as a traceback. Looked up only when
    a reader fails, so no reader's library is imported for nothing."""
    from pyreadstat import PyreadstatError, ReadstatError
    from python_calamine import CalamineError

    return (
        ValueError, OSError, KeyError, IndexError, TypeError, ImportError, csv.Error,
        CalamineError, ReadstatError, PyreadstatError, struct.error, EOFError, UnicodeDecodeError,
    )  # fmt: skip


def read_raw(path: Path) -> Raw:
    """Read ``path`` by its extension, find its header and layout; raise with one problem when it cannot.

    Raises
    ------
    DataValidationError
        An unreadable or unsupported file, no header, a required column missing, or no records.
    """
    why = unreadable(path)
    if why is not None:
        raise _fail(path, why, "the export must exist and be a readable regular file")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise _fail(path, suffix or "no extension", f"the export must be one of {', '.join(FORMATS)}")
    if path.stat().st_size == 0:
        raise _fail(path, "an empty file (0 bytes)", "the export must hold a header and at least one record")
    readers = {".csv": _read_csv, ".tsv": _read_csv, ".txt": _read_csv, ".dta": _read_stata, ".sav": _read_spss}
    try:
        if suffix in COLUMNAR:
            with ThreadPoolExecutor(max_workers=2) as background:
                return _read_columnar(path, background)
        return replace(readers.get(suffix, _read_workbook)(path), digest=file_digest(path))
    except DataValidationError:
        raise
    except _read_errors() as error:
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        malformed = isinstance(error, struct.error | EOFError) or type(error).__name__.endswith("ReadstatError")
        found = "a malformed file" if malformed else type(error).__name__
        raise _fail(path, found, f"the file must be a readable {suffix[1:]} file ({detail})") from None
