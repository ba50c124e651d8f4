"""Executing runs on a Dask distributed cluster whose workers do not share the runner's disk.

Each task carries its notebook and the data files as bytes, executes in a
temporary folder on the worker exactly as a local run does, and returns every
file it made as bytes; the runner installs them as it installs a local run's,
so a failed or lost task never leaves half a run.
"""

from __future__ import annotations

import importlib
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analysis import paths as layout
from analysis.errors import ReportError
from analysis.paths import ReportPaths
from analysis.pipeline.jobs import FAILED_NOTEBOOK, Job, Outcome, make_job, stage, unstage
from analysis.pipeline.kernels import start_ahead
from analysis.pipeline.runplan import Run

#: Data files a run reads (the three tables, and what an ICE-records run needs beside them).
DATA_FILES = (layout.REQUESTS_FILE, layout.SOURCES_FILE, layout.CLAIMS_FILE)


@dataclass(frozen=True)
class Packed:
    """A job with its inputs as bytes: the notebook, and the files of its data folder."""

    job: Job
    notebook: bytes
    data: dict[str, bytes]


def pack(job: Job, data_dir: Path) -> Packed:
    """``job`` ready to travel: its notebook's bytes and its data folder's files."""
    files = {name: (data_dir / name).read_bytes() for name in DATA_FILES if (data_dir / name).is_file()}
    return Packed(job, job.run.notebook.read_bytes(), files)


def execute_packed(packed: Packed) -> tuple[Outcome, dict[str, bytes]]:
    """Execute a packed job in a temporary folder (on a worker); return how it ended and every file it made.

    The files are keyed by their path in the job's staging folder; a failed
    run returns its executed notebook under ``failed.ipynb`` only.
    """
    from analysis.pipeline.execute import execute  # what: on the worker; the runner does not need papermill for this

    with tempfile.TemporaryDirectory(prefix="detainers-task-") as folder:
        root = Path(folder)
        notebook = root / "notebooks" / packed.job.run.notebook.name
        notebook.parent.mkdir()
        notebook.write_bytes(packed.notebook)
        data = root / "data"
        data.mkdir()
        for name, content in packed.data.items():
            (data / name).write_bytes(content)
        job = replace(
            packed.job,
            run=replace(packed.job.run, notebook=notebook),
            staging=root / "staging",
            read_data_from=str(data),
        )
        outcome = execute(job)
        files = {str(p.relative_to(job.staging)): p.read_bytes() for p in job.staging.rglob("*") if p.is_file()}
        if FAILED_NOTEBOOK in files:
            files = {FAILED_NOTEBOOK: files[FAILED_NOTEBOOK]}
        return outcome, files


def unpack(files: dict[str, bytes], staging: Path, failed_path: Path) -> None:
    """Write a task's files where a local run would have left them: its staging folder, or the failed notebook."""
    from analysis.files import write_bytes_atomic

    for name, content in files.items():
        write_bytes_atomic(failed_path if name == FAILED_NOTEBOOK else staging / name, content)


def _prepare_worker() -> None:
    """On a worker, as a batch starts: start a kernel for its first run, and import what executing a run needs.

    Both go on in the background, so the worker keeps serving the scheduler meanwhile.
    """
    start_ahead()
    threading.Thread(target=importlib.import_module, args=("analysis.pipeline.execute",), daemon=True).start()


@dataclass
class ClusterBatch:
    """Runs submitted to a Dask cluster, each with its inputs; their files come back as bytes, into ``staging_root``.

    ``made`` is as for :class:`analysis.pipeline.pool.Batch`.
    """

    client: Any
    futures: dict[Any, tuple[Run, Job]]
    staging_root: Path
    made: Path | None

    def close(self) -> None:
        """Cancel the tasks not done and leave the cluster (once; later calls do nothing)."""
        if self.client.status not in ("closing", "closed"):
            self.client.cancel(list(self.futures))
            self.client.close()

    def drop(self) -> None:
        """Cancel the tasks, leave the cluster, and remove what the batch staged."""
        self.close()
        unstage(self.staging_root, self.made)


def start_cluster_batch(runs: list[Run], folders: ReportPaths, scheduler: str) -> ClusterBatch:
    """Connect to the Dask scheduler at ``scheduler``, have each worker start a kernel, and submit ``runs``.

    Raises
    ------
    ReportError
        When no scheduler answers at ``scheduler``.
    """
    from distributed import Client

    try:
        client = Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as error:
        raise ReportError(f"--scheduler {scheduler}: no Dask scheduler answered ({error})") from None
    staging_root, made = stage(folders)
    batch = ClusterBatch(client, {}, staging_root, made)
    try:
        workers = len(client.nthreads())
        client.run(_prepare_worker)
        for number, run in enumerate(runs):
            job = make_job(run, folders, staging_root, start_next=number < len(runs) - workers)
            batch.futures[client.submit(execute_packed, pack(job, folders.data_dir), pure=False)] = (run, job)
    except BaseException:
        batch.drop()
        raise
    return batch
