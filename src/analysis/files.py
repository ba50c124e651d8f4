"""Output folders the package owns and holds, writing output files atomically, deterministic JSON, and SHA-256
digests of files."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # what: Windows
    fcntl = None  # type: ignore[assignment]

from analysis.errors import OutputFolderError
from analysis.paths import (
    OWNED_MARKER,
    PROJECT_ROOT,
    PROTECTED,
    PROTECTED_TREES,
    published_folder,
    resolve_output,
    within,
)

#: What the marker file of an owned output folder says.
MARKER_TEXT = (
    "This folder is written by detainer-analysis (detainers report / detainers process), which writes only into\n"
    "folders that are new, empty or carry this file. Anything else put here may be replaced.\n"
)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The name of the temporary file :func:`write_atomic` fills beside a file: ``.NAME.XXXXXXXX.tmp`` (``tempfile``'s 8
#: random characters).
TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
#: The characters that temporary file's name adds to the name of the file written (``.``, ``.XXXXXXXX.tmp``).
TEMPORARY_NAME_EXTRA = len(".") + len(".XXXXXXXX.tmp")


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` in one step: ``write`` fills a temporary file beside ``path`` (opened for bytes), which then
    replaces it, so readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; outputs are ordinary files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_streamed(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write ``path`` in one step (see :func:`write_atomic`) as UTF-8 text that ``write`` writes a piece at a time
    into the stream it is given (``\\n`` line ends as written), so the text is never all in memory at once."""
    import io

    def fill(stream: IO[bytes]) -> None:
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        write(text)
        text.flush()
        text.detach()  # What: the file is closed by write_atomic, not by the wrapper.

    write_atomic(path, fill)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in one step (see :func:`write_atomic`)."""
    write_atomic(path, lambda stream: stream.write(data))


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
    check_not_project_folder(folder, option)
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


def check_not_project_folder(folder: Path, option: str) -> None:
    """Refuse ``folder`` when it is one of the project's own folders (:data:`analysis.paths.PROTECTED`: its root,
    inputs, notebooks or code) or lies in one of :data:`analysis.paths.PROTECTED_TREES`, which no command writes
    into, whatever its options say.

    Raises
    ------
    OutputFolderError
        Naming the option and the folder. Nothing is written here.
    """
    for own in PROTECTED:
        if within(folder, own) == ():
            raise OutputFolderError(
                f"{option} {folder}: this is the project's own folder {own.name}/, which no command writes into; "
                "name a new or empty folder"
            )
    for own in PROTECTED_TREES:
        if within(folder, own):
            raise OutputFolderError(
                f"{option} {folder}: lies in the project's own folder {own.name}/, which no command writes into; "
                "name a folder outside it"
            )


def check_not_published(folder: Path, option: str) -> None:
    """Refuse ``folder`` when it is, or lies in, the published ``reports/`` or ``data/processed/``
    (:func:`analysis.paths.published_folder`): the caller writes there only for the committed plan and data.

    Raises
    ------
    OutputFolderError
        Naming the option, the folder and the published folder it belongs to. Nothing is written here.
    """
    published = published_folder(folder)
    if published is not None:
        raise OutputFolderError(
            f"{option} {folder}: part of {_published(published)} (reports/ and data/processed/ together); "
            "name another folder"
        )


def _published(folder: Path) -> str:
    """A published folder in messages, with the rule that guards it."""
    name = folder.relative_to(PROJECT_ROOT).as_posix()
    return f"the published {name}/, which only detainers report on the committed plan and data writes"


def check_no_link_into_published(folder: Path, option: str) -> None:
    """Refuse ``folder`` when anything in it is a symbolic link into the published ``reports/`` or
    ``data/processed/`` (:func:`analysis.paths.published_folder`): writing through it would change the published
    record. Links are not followed while looking.

    Raises
    ------
    OutputFolderError
        Naming the option, the folder and the link. Nothing is written here.
    """
    todo = [folder] if folder.is_dir() and not folder.is_symlink() else []
    while todo:
        with os.scandir(todo.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    published = published_folder(Path(entry.path))
                    if published is not None:
                        raise OutputFolderError(
                            f"{option} {folder}: holds {entry.path}, a link into {_published(published)}; remove "
                            "the link or name another folder"
                        )
                elif entry.is_dir(follow_symlinks=False):
                    todo.append(Path(entry.path))


def hold(folder: Path, option: str) -> int | None:
    """Hold an exclusive lock on the existing ``folder`` for this command alone (``option`` names it in the message):
    an open descriptor, released when it is closed or the process ends however; ``None`` where locks do not exist
    (Windows). Nothing is written into the folder to lock it.

    Raises
    ------
    OutputFolderError
        When another command holds it.
    """
    if fcntl is None:
        return None
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise OutputFolderError(
            f"{folder}: another detainers command is writing into this folder; wait for it to end, "
            f"or give this one another {option}"
        ) from None
    return descriptor


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the temporary files (:data:`TEMPORARY_NAME`) that writes into ``folder`` and its subfolders left when
    their process was killed outright; only while holding the folder (:func:`hold`), so no write of another process
    is cut short. Links are not followed. Returns the files removed."""
    removed = []
    for root, _, names in os.walk(folder):
        for name in filter(TEMPORARY_NAME.fullmatch, names):
            path = Path(root, name)
            with suppress(FileNotFoundError):
                if stat.S_ISREG(path.lstat().st_mode):
                    path.unlink()
                    removed.append(path)
    return removed


def mark_owned(folder: Path) -> None:
    """Create ``folder`` if needed and put the marker (:data:`OWNED_MARKER`) in it, unless it is there.

    The marker is created in place, not through a temporary file: a command killed as it writes it (``kill -9``)
    leaves a marker, perhaps short, which still marks the folder as the package's, never a temporary file that
    would make the next command refuse the folder as holding files it did not write.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with (folder / OWNED_MARKER).open("xb") as stream:
            stream.write(MARKER_TEXT.encode("utf-8"))
    except FileExistsError:
        pass


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


#: How the package writes JSON: sorted keys, two-space indents, text as it is, no NaN.
_JSON_OPTIONS: dict[str, Any] = {"indent": 2, "sort_keys": True, "ensure_ascii": False, "allow_nan": False}


def to_json(value: object) -> str:
    """``value`` as JSON text with sorted keys, ``null`` for missing numbers and a final newline."""
    return json.dumps(_plain(value), **_JSON_OPTIONS) + "\n"


def write_json_members(path: Path, members: Iterable[tuple[str, object]]) -> None:
    """Write the JSON object of ``members`` (key and value pairs, in sorted key order) to ``path`` in one step, a
    member at a time: the bytes :func:`write_json` writes for the whole mapping, which is never in memory."""

    def write(text: IO[str]) -> None:
        opening = "{\n  "
        for key, value in members:
            body = json.dumps(_plain(value), **_JSON_OPTIONS)
            # What: a member's lines sit one level deeper; JSON strings hold no raw line break.
            text.write(opening + json.dumps(key, ensure_ascii=False) + ": " + body.replace("\n", "\n  "))
            opening = ",\n  "
        text.write("{}\n" if opening == "{\n  " else "\n}\n")

    write_text_streamed(path, write)


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


def _fast_column(values: Any, float_format: str | None) -> bool:
    """Whether :func:`write_csv` writes this column itself: text, whole numbers, or floats with a format."""
    import pandas as pd

    if pd.api.types.is_float_dtype(values):
        return float_format is not None
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_integer_dtype(values):
        return True
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return pd.api.types.is_object_dtype(values) and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _csv_cells(values: Any, float_format: str | None, blank: str) -> list[Any]:
    """A column's cells as :func:`write_csv` writes them: text as it is, whole numbers, floats by ``float_format``;
    missing as ``blank``."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_float_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan).tolist()
        return [float_format % value if value == value else blank for value in numbers]
    if pd.api.types.is_integer_dtype(values) and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        return list(values.to_numpy().tolist())
    return list(values.to_numpy(dtype=object, na_value=blank).tolist())


#: Rows written at a time by :func:`write_csv` (a million rows are never all Python objects at once).
CSV_CHUNK_ROWS = 50_000


def write_csv(
    stream: IO[str], frame: Any, *, float_format: str | None = None, na_rep: str = "", header: bool = True
) -> None:
    """Write ``frame`` to ``stream`` as CSV, spreadsheet-safe (see :func:`spreadsheet_safe`), ``\\n`` line ends,
    no index.

    The bytes are those of pandas' ``to_csv`` with ``float_format`` (e.g. ``"%.6f"``) and ``na_rep``. A frame of
    text, whole-number and (with ``float_format``) float columns is written by Python's ``csv`` module,
    :data:`CSV_CHUNK_ROWS` rows at a time (pandas converts a cell at a time: a million rows take 20 s); any
    other frame by pandas. ``header=False`` leaves out the header line (for a frame that continues another).
    """
    import csv

    safe = spreadsheet_safe(frame)
    fast = len(safe.columns) > 0 and safe.columns.is_unique
    if not (fast and all(_fast_column(safe[column], float_format) for column in safe.columns)):
        safe.to_csv(stream, index=False, lineterminator="\n", float_format=float_format, na_rep=na_rep, header=header)
        return
    writer = csv.writer(stream, lineterminator="\n")
    if header:
        writer.writerow([str(column) for column in safe.columns])
    for start in range(0, len(safe), CSV_CHUNK_ROWS):
        part = safe.iloc[start : start + CSV_CHUNK_ROWS]
        writer.writerows(zip(*(_csv_cells(part[c], float_format, na_rep) for c in part.columns), strict=True))


def csv_text(frame: Any, *, float_format: str | None = None, na_rep: str = "") -> str:
    """``frame`` as CSV text (see :func:`write_csv`)."""
    import io

    text = io.StringIO()
    write_csv(text, frame, float_format=float_format, na_rep=na_rep)
    return text.getvalue()


def write_csv_atomic(path: Path, frames: Iterable[Any], *, float_format: str | None = None) -> None:
    """Write ``frames`` (one or more pandas DataFrames with the same columns, one after the other) to ``path`` as
    one CSV (see :func:`write_csv`; the header once) in one step, as UTF-8, streamed: neither the text nor the
    frames need be all in memory at once."""

    def write(text: IO[str]) -> None:
        for number, frame in enumerate(frames):
            write_csv(text, frame, float_format=float_format, header=number == 0)

    write_text_streamed(path, write)


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
    return named_files_digest((path.relative_to(root).as_posix() for path in sorted(paths)), root)


def named_files_digest(names: Iterable[str], root: Path) -> str:
    """:func:`files_digest` of the files ``names`` (relative to ``root``, ``/``-separated), taken in the order
    given: the same digest when they come in the order of their paths, one at a time (no list of them is kept)."""
    hasher = hashlib.sha256()
    for name in names:
        path = root / name
        hasher.update(name.encode() + b"\0")
        hasher.update(path.read_bytes() if path.is_file() else b"<missing>")
        hasher.update(b"\0")
    return hasher.hexdigest()
