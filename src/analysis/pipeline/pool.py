"""The local pool of worker processes, started and given its runs before the runner's own imports.

A worker starts a kernel for its first run, then imports papermill, nbconvert
and the package's execution module, and executes its first run into a staging
folder while the runner imports pandas and validates the data: they happen
side by side instead of one after the other. Nothing is installed before the
data passed validation; if they do not, the batch is dropped with its staging
folder. This module imports nothing heavy, so starting the pool costs the
command line nothing.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.paths import ReportPaths
from analysis.pipeline.jobs import Job, Outcome, make_job, stage, unstage
from analysis.pipeline.runplan import Run


@contextmanager
def helpers_shielded() -> Iterator[None]:
    """Start helper processes with Ctrl-C blocked in them, so only the main process handles it.

    A blocked signal stays blocked in a child process, even while it imports,
    so workers neither die mid-write nor print tracebacks. In the main process
    the signal only waits: it is raised as soon as the helpers have started.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _start_worker(queue: Any) -> None:
    from analysis.pipeline.kernels import start_ahead

    start_ahead()  # what: the first run's kernel starts and imports while this worker imports

    from analysis.pipeline.execute import report_to  # what: the heavy imports, in the worker, as it starts

    report_to(queue)


def _ready() -> None:
    """A task that does nothing: submitting one per worker starts every worker at once."""


def _execute(job: Job) -> Outcome:
    from analysis.pipeline.execute import execute  # what: imported by the worker as it started

    return execute(job)


@dataclass(frozen=True)
class Pool:
    """Worker processes, and the queue on which they say what each run is doing."""

    executor: ProcessPoolExecutor
    status: Any

    def shutdown(self) -> None:
        """Drop queued runs and wait for running ones, so none writes after the caller cleans up."""
        self.executor.shutdown(wait=True, cancel_futures=True)


def start_pool(workers: int) -> Pool:
    """Start ``workers`` spawned worker processes now, Ctrl-C blocked in them, each with a kernel started ahead."""
    context = multiprocessing.get_context("spawn")
    status = context.Queue()
    with helpers_shielded():
        executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(status,))
        for _ in range(workers):
            executor.submit(_ready)
    return Pool(executor, status)


@dataclass
class Batch:
    """Runs submitted to a pool, each executing into its own folder of ``staging_root`` (inside the reports folder).

    ``made`` is the first folder the batch had to create for its staging
    folder (``None`` when the reports folder existed): :meth:`drop` removes it
    again when it holds nothing else.
    """

    pool: Pool
    staging_root: Path
    pending: dict[Future[Outcome], Run]
    made: Path | None

    def close(self) -> None:
        """Drop the runs not started, and wait for the running ones."""
        self.pool.shutdown()

    def drop(self) -> None:
        """Cancel the runs, wait for the running ones, and remove what the batch wrote."""
        self.close()
        unstage(self.staging_root, self.made)


def start_batch(runs: list[Run], folders: ReportPaths, workers: int) -> Batch:
    """Start ``workers`` workers and submit ``runs`` to them at once, staged in a new folder of the reports folder.

    The last ``workers`` runs start no kernel for a run after them: none would come.
    """
    staging_root, made = stage(folders)
    batch = Batch(start_pool(workers), staging_root, {}, made)
    try:
        with helpers_shielded():
            for number, run in enumerate(runs):
                job = make_job(run, folders, staging_root, start_next=number < len(runs) - workers)
                batch.pending[batch.pool.executor.submit(_execute, job)] = run
    except BaseException:  # what: Ctrl-C as the runs were submitted
        batch.drop()
        raise
    return batch
