"""Writing output files atomically, deterministic JSON, and SHA-256 digests of files."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from analysis.errors import OutputFolderError
from analysis.paths import OWNED_MARKER, PROTECTED, resolve_output

#: What the marker file of an owned output folder says.
MARKER_TEXT = (
    "This folder is written by detainer-analysis (detainers report / detainers process), which writes only into\n"
    "folders that are new, empty or carry this file. Anything else put here may be replaced.\n"
)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in one step.

    The bytes go to a temporary file beside ``path`` that then replaces it,
    so readers see either the old file or the whole new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; outputs are ordinary files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 with ``\\n`` line endings to ``path`` in one step."""
    write_bytes_atomic(path, text.encode("utf-8"))


def check_owned(folder: Path, option: str, inputs: Iterable[Path] = ()) -> None:
    """Refuse to write into ``folder`` unless it is new, empty, or carries the marker (:data:`OWNED_MARKER`).

    ``option`` names the folder in messages (``--reports-dir``); ``inputs`` are
    folders or files the command reads, which the output folder may neither be
    nor hold. Nothing is written here.

    Raises
    ------
    OutputFolderError
        When ``folder`` is a file, one of the project's own folders
        (:data:`analysis.paths.PROTECTED`), holds or is an input, or holds files
        no command of the package wrote.
    """
    resolved = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"{option} {folder}: not a folder")
    for own in PROTECTED:
        if resolved == own.resolve():
            raise OutputFolderError(
                f"{option} {folder}: this is the project's own folder {own.name}/, which no command writes into; "
                "name a new or empty folder"
            )
    for read in inputs:
        target = read.resolve()
        if target == resolved or target.is_relative_to(resolved):
            raise OutputFolderError(
                f"{option} {folder}: holds {read}, which this command reads; name a new or empty folder"
            )
    if not folder.is_dir() or (folder / OWNED_MARKER).is_file():
        return
    present = sorted(p.name for p in folder.iterdir())
    if present:
        listed = ", ".join(present[:5]) + (f" and {len(present) - 5} more" if len(present) > 5 else "")
        raise OutputFolderError(
            f"{option} {folder}: holds files detainers did not write ({listed}); name a new or empty folder, "
            f"or one detainers wrote (it carries the file {OWNED_MARKER})"
        )


def mark_owned(folder: Path) -> None:
    """Create ``folder`` if needed and put the marker (:data:`OWNED_MARKER`) in it, unless it is there."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / OWNED_MARKER
    if not marker.is_file():
        write_text_atomic(marker, MARKER_TEXT)


def _plain(value: Any) -> object:
    """Make ``value`` JSON-ready: NaN and missing values become ``None``."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | bool):
        return value
    import pandas as pd  # only when writing results: the build cache must not pay for pandas

    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalars
        value = item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(value: object) -> str:
    """``value`` as JSON text with sorted keys, ``null`` for missing numbers and a final newline."""
    return json.dumps(_plain(value), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: Path, value: object) -> None:
    """Write ``value`` as deterministic JSON (see :func:`to_json`) to ``path`` in one step."""
    write_text_atomic(path, to_json(value))


def write_result(output_dir: str | Path, name: str, value: object) -> Path:
    """Write a notebook's numbers as ``name`` in ``output_dir`` (relative to the project root)."""
    path = resolve_output(output_dir) / name
    write_json(path, value)
    return path


#: What a spreadsheet reads as the start of a formula (the OWASP CSV-injection list), and the guard put before it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def spreadsheet_safe(frame: Any) -> Any:
    """``frame`` (a pandas DataFrame) with every text cell that a spreadsheet would evaluate guarded by ``'``.

    A newsroom opens the package's CSV files in a spreadsheet, which runs a cell such as
    ``=HYPERLINK(...)``; prefixed with ``'`` it shows as the text it is. Numbers are left as they are
    (``-71.2`` is a number, not a formula). :func:`unguard` takes the guard off when the package reads
    a CSV back.
    """
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        # What: decided once per distinct value (a million rows repeat a few thousand), then applied where it occurs.
        starts = {v for v in pd.unique(values) if isinstance(v, str) and v.startswith(FORMULA_STARTS)}
        if starts:
            safe[column] = values.mask(values.isin(starts), values.map({v: GUARD + v for v in starts}))
    return safe


def unguard(cell: str) -> str:
    """A CSV cell as it was before :func:`spreadsheet_safe` guarded it (any other cell as it is)."""
    return cell[1:] if cell.startswith(GUARD) and cell[1:2] and cell[1:].startswith(FORMULA_STARTS) else cell


def _csv_cells(values: Any, float_format: str | None, blank: str) -> list[Any] | None:
    """A column's cells as :func:`csv_text` writes them, or ``None`` for a column of another dtype (left to
    pandas): text as it is, whole numbers, floats by ``float_format`` (``repr`` without one); missing as ``blank``."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_float_dtype(values) and float_format is not None:
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan).tolist()
        return [float_format % value if value == value else blank for value in numbers]
    if pd.api.types.is_integer_dtype(values) and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        return list(values.to_numpy().tolist())
    if pd.api.types.is_bool_dtype(values) or not (
        pd.api.types.is_string_dtype(values) or pd.api.types.is_integer_dtype(values)
    ):
        return None
    cells = values.to_numpy(dtype=object, na_value=blank).tolist()
    try:
        plain = all(type(cell) in (str, int) for cell in set(cells))
    except TypeError:  # an unhashable cell: left to pandas
        return None
    return list(cells) if plain else None


def csv_text(frame: Any, *, float_format: str | None = None, na_rep: str = "") -> str:
    """``frame`` as CSV text, spreadsheet-safe (see :func:`spreadsheet_safe`), ``\\n`` line ends, no index.

    The bytes are those of pandas' ``to_csv`` with ``float_format`` (e.g. ``"%.6f"``) and ``na_rep``; text,
    whole-number and formatted float columns are written by Python's ``csv`` module a row at a time (pandas
    converts a cell at a time: a million rows take 20 s), any other column by pandas.
    """
    import csv
    import io

    safe = spreadsheet_safe(frame)
    columns = [_csv_cells(safe[column], float_format, na_rep) for column in safe.columns]
    if any(cells is None for cells in columns) or not columns or not safe.columns.is_unique:
        return str(safe.to_csv(index=False, lineterminator="\n", float_format=float_format, na_rep=na_rep))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([str(column) for column in safe.columns])
    writer.writerows(zip(*columns, strict=True))
    return text.getvalue()


def digest(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """The SHA-256 of one file's bytes, in hex, read a block at a time."""
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """One SHA-256 of several files' names (relative to ``root``) and contents; a missing file counts too."""
    hasher = hashlib.sha256()
    for path in sorted(paths):
        hasher.update(path.relative_to(root).as_posix().encode() + b"\0")
        hasher.update(path.read_bytes() if path.is_file() else b"<missing>")
        hasher.update(b"\0")
    return hasher.hexdigest()
