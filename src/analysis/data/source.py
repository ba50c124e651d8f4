"""Whether an input file can be read at all, and its bytes as UTF-8 text: one message per way it cannot."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: The UTF-8 byte-order mark, as a decoded file may start with it.
BOM = "\ufeff"
#: What a file whose first 64 KiB hold a NUL byte (and no known signature) is said to be.
NUL_BYTES = "binary data (it holds NUL bytes)"
#: The first bytes of formats that are sometimes passed where a CSV file is expected.
_SIGNATURES = {
    b"\x1f\x8b": "a gzip-compressed file",
    b"PK\x03\x04": "a zip archive (such as an .xlsx workbook)",
    b"\xff\xfe": "UTF-16 text",
    b"\xfe\xff": "UTF-16 text",
    b"PAR1": "a parquet file",
    b"\xd0\xcf\x11\xe0": "an old Excel or Office file",
}


def unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file, in a few words; ``None`` when it can.

    A missing file, a link that leads nowhere or round in a loop, a folder, a
    pipe or device, and a file without read permission each get their own words,
    and nothing is opened that could block (a FIFO is never read).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a symbolic link to nothing" if path.is_symlink() else "no such file"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link loop"
        return f"a file that cannot be examined ({error.strerror})"
    if stat.S_ISDIR(mode):
        return "a folder"
    if not stat.S_ISREG(mode):
        return "a pipe, socket or device, not a regular file"
    if not os.access(path, os.R_OK):
        return "a file without read permission"
    return None


def not_text(data: bytes) -> str | None:
    """What ``data`` looks like when it is plainly not UTF-8 text (compressed, binary, UTF-16); else ``None``."""
    for signature, kind in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    if b"\x00" in data[:65536]:
        return NUL_BYTES
    return None


def lists_nothing(path: Path) -> bool:
    """Whether ``path`` is certainly a table of no rows: missing, or a readable UTF-8 file of one header line and
    nothing else (blank lines aside), read without pandas. ``False`` whenever that is not certain (anything more, a
    quote that could hold a line break, any problem): then the file is to be read and checked in full."""
    if not path.exists() and not path.is_symlink():
        return True
    if unreadable(path) is not None or path.stat().st_size > 65536:
        return False
    data = path.read_bytes()
    if not_text(data) is not None:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    lines = [line for line in text.removeprefix(BOM).splitlines() if line.strip()]
    return len(lines) == 1 and '"' not in text
