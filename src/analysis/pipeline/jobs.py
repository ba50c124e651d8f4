"""What a worker is given to execute one run, and what it hands back.

Nothing heavy is imported here, so the command line can submit runs to the
workers before it imports the runner.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from analysis import paths as layout
from analysis.files import mark_owned
from analysis.paths import ReportPaths
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


def make_job(run: Run, folders: ReportPaths, staging_root: Path) -> Job:
    """The job of ``run``, staged in its own folder of ``staging_root``."""
    return Job(
        run=run,
        data_dir=layout.as_parameter(folders.data_dir),
        output_dir=layout.as_parameter(folders.figures(run.name)),
        staging=staging_root / run.name,
        failed_path=folders.failed(run.name),
    )


def stage(folders: ReportPaths) -> tuple[Path, Path | None]:
    """A new staging folder inside the reports folder (marked as the package's), and the first folder made for it
    (``None``: none was made)."""
    made = next((p for p in reversed([folders.reports_dir, *folders.reports_dir.parents]) if not p.exists()), None)
    mark_owned(folders.reports_dir)
    return Path(tempfile.mkdtemp(prefix=".staging-", dir=folders.reports_dir)), made


def _holds_nothing(folder: Path) -> bool:
    return all(p.name == layout.OWNED_MARKER for p in folder.iterdir())


def unstage(staging_root: Path, made: Path | None) -> None:
    """Remove a staging folder, and the folders made for it when they hold nothing else (but the marker)."""
    shutil.rmtree(staging_root, ignore_errors=True)
    folder = staging_root.parent
    while made is not None and folder.is_dir() and folder.is_relative_to(made) and _holds_nothing(folder):
        (folder / layout.OWNED_MARKER).unlink(missing_ok=True)
        folder.rmdir()
        folder = folder.parent
