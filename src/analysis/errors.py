"""Every exception the package raises, and the one way a problem in an input file is shown."""

from __future__ import annotations

from dataclasses import dataclass


class Terminated(BaseException):
    """The process was asked to end (SIGTERM) while it ran a batch: handled as Ctrl-C is (every process of the
    batch ended, nothing half-written), then the command exits with status 143."""


class AnalysisError(Exception):
    """Base class of every error raised by :mod:`analysis`.

    In a notebook the error shows as its message alone, not a traceback through the library: it is the
    user's input that is wrong, and the message names it (IPython's ``_render_traceback_`` hook).
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def printable(text: str) -> str:
    """``text`` safe for a terminal: control and other unprintable characters written as escapes (lines kept).

    A value from a file can then never move the cursor, recolour or clear a terminal, or hide a line.
    """
    return "\n".join(
        "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in line)
        for line in text.split("\n")
    )


def shown(value: str) -> str:
    """``value`` as a problem message shows it: ``(blank)`` for nothing, undecodable bytes as ``\\xNN``.

    Control characters and other unprintable characters are written as escapes
    too, so a value from a file can never move the cursor or recolour a terminal.
    """
    if value == "":
        return "(blank)"
    # Undecodable bytes were kept as lone surrogates: show them as \xNN.
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "backslashreplace")
    return printable(raw.decode("utf-8", "backslashreplace")).replace("\n", "\\n")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    Attributes
    ----------
    file
        The file's path as given to the reader.
    line
        Line number in the file (the header is line 1), or row number of a
        sheet; 0 when the problem concerns the file as a whole.
    column
        Column name, or ``-`` when the problem is not about one column.
    value
        The value found, as text (shown with :func:`shown`).
    rule
        The rule the value breaks, in plain words.
    """

    file: str
    line: int
    column: str
    value: str
    rule: str

    def __str__(self) -> str:
        return f"{shown(self.file)}:{self.line}: {shown(self.column)}: found {shown(self.value)}: {self.rule}"


class DataValidationError(AnalysisError, ValueError):
    """Input data broke one or more rules; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.rule))
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the input data:"
        super().__init__("\n".join([heading, *map(str, self.problems)]))


class MetricError(AnalysisError, ValueError):
    """A metric was asked for something the data cannot answer (e.g. unlike periods, negative counts)."""


class ParameterError(AnalysisError, ValueError):
    """A parameter is unknown, or names an agency, reporter or period the data do not contain."""


class UsageError(ParameterError):
    """An option of the command line asks for what cannot be: a run the plan does not have, a scheduler address
    not written ``SCHEME://HOST:PORT`` (a usage error, exit status 2, as for an option the command does not know)."""


class RunPlanError(AnalysisError, ValueError):
    """The run plan is malformed or asks for something a notebook cannot do."""


class NoRunsError(RunPlanError):
    """A grid of the run plan selects no run: its filters removed every row (a usage error, exit status 2)."""


class OutputFolderError(AnalysisError):
    """An output folder that is not the command's to write: it holds files the command did not write, or it is
    one of the project's own folders (its inputs, notebooks or code)."""


class ReportError(AnalysisError):
    """One or more runs of the report failed; the message lists each failure."""


class TemporaryFolderError(AnalysisError):
    """The system's temporary folder cannot hold a kernel's IPC sockets: its path is too long for a socket's name."""


#: What a user can do about an operating-system error, by its errno name.
_OS_HINTS = {
    "ENOSPC": "the disk is full: free some space, or choose a folder on another disk",
    "EDQUOT": "the disk quota is used up: free some space, or choose a folder on another disk",
    "EROFS": "the file system is read-only: choose a folder you can write to",
    "EACCES": "permission denied: choose a folder you can write to, or change its permissions",
    "EPERM": "not permitted: choose a folder you can write to, or change its permissions",
    "ENOTDIR": "a part of the path is a file, not a folder: choose another path",
    "ENOENT": "no such file or folder: check the path",
    "EISDIR": "that is a folder, not a file: name a file",
}


def describe_os_error(error: OSError) -> str:
    """An operating-system error in one line: what it concerned, what went wrong, and what to do."""
    import errno

    name = errno.errorcode.get(error.errno or 0, "")
    where = printable(str(error.filename)).replace("\n", "\\n") if error.filename else "a file"
    what = error.strerror or str(error)
    hint = _OS_HINTS.get(name, "check the path, the free space and the permissions")
    return f"{where}: {what.lower()}; {hint}"


class ChangesError(AnalysisError):
    """The published numbers of a git revision could not be read (no git, not a repository, no such revision)."""
