"""What a worker is given to execute one run, and what it hands back.

Nothing heavy is imported here, so the command line can submit runs to the
workers before it imports the runner.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from analysis import paths as layout
from analysis.errors import ReportError
from analysis.files import mark_owned
from analysis.paths import STAGING_PREFIX, ReportPaths
from analysis.pipeline.runplan import Run

try:
    import fcntl
except ImportError:  # what: not a POSIX system: reports are not locked
    fcntl = None  # type: ignore[assignment]

#: The executed notebook of a failed run, in its staging folder.
FAILED_NOTEBOOK = "failed.ipynb"


@dataclass(frozen=True)
class Job:
    """What a worker needs to execute one run (picklable)."""

    run: Run
    data_dir: str
    output_dir: str
    staging: Path
    #: Where a failed run's executed notebook is kept; the worker leaves it in ``staging`` as :data:`FAILED_NOTEBOOK`
    #: and the runner moves it there.
    failed_path: Path
    #: Where the data are read from when that is not ``data_dir`` (a cluster worker's own copy);
    #: the executed notebook still records ``data_dir``, so it is the same file wherever it ran.
    read_data_from: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How a run ended."""

    name: str
    ok: bool
    seconds: float
    message: str = ""

    @property
    def reason(self) -> str:
        """Why a failed run failed, in one line without the run's name (its message names it): where it failed
        and the error, e.g. ``failed in cell 6 (`...`): DeadKernelError: the kernel died ...``; "" for a run that
        succeeded."""
        first = self.message.splitlines()[0] if self.message else ""
        for prefix in (f"run {self.name}: ", f"run {self.name} "):
            if first.startswith(prefix):
                first = first[len(prefix) :]
                break
        if first.startswith("(") and ") " in first:  # what: the notebook, as in "run NAME (NOTEBOOK) failed ..."
            first = first.split(") ", 1)[1]
        return first


def make_job(run: Run, folders: ReportPaths, staging_root: Path) -> Job:
    """The job of ``run``, staged in its own folder of ``staging_root``."""
    return Job(
        run=run,
        data_dir=layout.as_parameter(folders.data_dir),
        output_dir=layout.as_parameter(folders.figures(run.name)),
        staging=staging_root / run.name,
        failed_path=folders.failed(run.name),
    )


@dataclass
class Staging:
    """A batch's staging folder, the first folder made for it (``None``: none was made), and the lock the batch
    holds on the reports folder while it runs (an open descriptor; ``None`` where locks do not exist)."""

    root: Path
    made: Path | None
    lock: int | None


def _lock(folder: Path) -> int | None:
    """Hold an exclusive lock on ``folder`` (released when the descriptor closes, or the process ends however).

    Raises
    ------
    ReportError
        When another report holds it.
    """
    if fcntl is None:
        return None
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise ReportError(
            f"{folder}: another detainers report is writing into this folder; wait for it to end, "
            "or give this one another --reports-dir"
        ) from None
    return descriptor


def stage(folders: ReportPaths) -> Staging:
    """A new staging folder inside the reports folder (marked as the package's and locked).

    With the lock held, a staging folder already there was left by a report
    that was killed outright: it is removed.
    """
    made = next((p for p in reversed([folders.reports_dir, *folders.reports_dir.parents]) if not p.exists()), None)
    mark_owned(folders.reports_dir)
    lock = _lock(folders.reports_dir)
    try:
        for stale in folders.reports_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        return Staging(Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folders.reports_dir)), made, lock)
    except BaseException:
        if lock is not None:
            os.close(lock)
        raise


def _holds_nothing(folder: Path) -> bool:
    return all(p.name == layout.OWNED_MARKER for p in folder.iterdir())


def unstage(staging: Staging) -> None:
    """Remove a staging folder, and the folders made for it when they hold nothing else (but the marker); release
    the lock."""
    shutil.rmtree(staging.root, ignore_errors=True)
    folder, made = staging.root.parent, staging.made
    while made is not None and folder.is_dir() and folder.is_relative_to(made) and _holds_nothing(folder):
        (folder / layout.OWNED_MARKER).unlink(missing_ok=True)
        folder.rmdir()
        folder = folder.parent
    if staging.lock is not None:
        os.close(staging.lock)
