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
from analysis.files import hold, mark_owned, remove_leftovers
from analysis.paths import STAGING_PREFIX, ReportPaths
from analysis.pipeline.runplan import Run

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
    """A batch's staging folder; the output folders made for the batch, each with the first of its parents made
    for it (those that held nothing are removed as the batch ends); and the locks the batch holds on the reports
    and processed folders while it runs (open descriptors; none where locks do not exist)."""

    root: Path
    made: list[tuple[Path, Path]]
    locks: list[int]


def _first_missing(folder: Path) -> Path | None:
    """The first of ``folder`` and its parents, from the root down, that does not exist."""
    return next((p for p in reversed([folder, *folder.parents]) if not p.exists()), None)


def stage(folders: ReportPaths) -> Staging:
    """A new staging folder inside the reports folder, the reports and processed folders marked as the package's
    and locked (another report writing into either is refused).

    With the lock held, a staging folder already there was left by a report
    that was killed outright: it is removed.

    Raises
    ------
    OutputFolderError
        When another report is writing into the reports or processed folder (nothing is left behind).
    """
    made: list[tuple[Path, Path]] = []
    locks: list[int] = []
    try:
        outputs = [(folders.reports_dir, "--reports-dir")]
        if folders.processed_dir.resolve() != folders.reports_dir.resolve():
            outputs.append((folders.processed_dir, "--processed-dir"))
        for folder, option in outputs:
            first = _first_missing(folder)
            folder.mkdir(parents=True, exist_ok=True)
            if first is not None:
                made.append((folder, first))
            lock = hold(folder, option)
            if lock is not None:
                locks.append(lock)
            mark_owned(folder)  # what: once the folder is this report's; a refused report writes nothing
            remove_leftovers(folder)  # what: a report or process killed as it wrote a file
        for stale in folders.reports_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        return Staging(Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folders.reports_dir)), made, locks)
    except BaseException:
        _release(made, locks)
        raise


def _holds_nothing(folder: Path) -> bool:
    return all(p.name == layout.OWNED_MARKER for p in folder.iterdir())


def _release(made: list[tuple[Path, Path]], locks: list[int]) -> None:
    """Remove the output folders made for a batch that hold nothing (but the marker), and the parents made for
    them; release the locks."""
    for folder, first in made:
        while folder.is_dir() and folder.is_relative_to(first) and _holds_nothing(folder):
            (folder / layout.OWNED_MARKER).unlink(missing_ok=True)
            folder.rmdir()
            folder = folder.parent
    for lock in locks:
        os.close(lock)


def unstage(staging: Staging) -> None:
    """Remove a staging folder, and the folders made for it when they hold nothing else (but the marker); release
    the locks."""
    shutil.rmtree(staging.root, ignore_errors=True)
    _release(staging.made, staging.locks)
