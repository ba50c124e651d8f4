"""A batch of runs: one executor protocol, and the one place a batch is started, waited for and dropped.

``detainers report`` starts the batch before it imports the runner: the runs
go to the workers (the local pool or a Dask cluster) at once, and execute while
the runner imports pandas, checks the runs' parameters and validates the data.
Each run executes into its own folder of a staging folder inside the reports
folder; the runner installs a run's files only when it succeeded and all of
that passed. A batch that fails for any reason (invalid data, Ctrl-C) is
dropped with everything it staged. Nothing heavy is imported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from analysis.paths import ReportPaths
from analysis.pipeline.build_record import Work
from analysis.pipeline.jobs import Job, Outcome, Staging, make_job, stage, unstage
from analysis.pipeline.kernel_files import check_room, sweep
from analysis.pipeline.runplan import Run


class Executor(Protocol):
    """Where runs execute: the local pool (:class:`analysis.pipeline.pool.LocalPool`) or a Dask cluster
    (:class:`analysis.pipeline.cluster.DaskCluster`).

    A run's files are in its job's staging folder when its outcome is yielded.
    """

    #: How many runs execute at once.
    workers: int
    #: Where the runs execute, for a progress line ("with 2 job(s)").
    where: str

    def submit(self, job: Job) -> None:
        """Queue ``job``; it starts as soon as a worker is free."""

    def completed(self, stage: Callable[[str, str], None]) -> Iterator[Outcome]:
        """Every submitted job's outcome, as each finishes; ``stage(run name, what)`` as runs go."""
        ...

    def cancel(self) -> None:
        """Drop the jobs not started, and wait for (or cancel) the running ones."""

    def close(self) -> None:
        """Release the workers (the pool's processes, the cluster's connection); a second call does nothing."""


def workers_for(jobs: int | None, runs: int) -> int:
    """Runs a local pool executes at once: ``jobs`` (default: the number of CPUs), never more than there are runs."""
    return max(1, min(jobs or os.cpu_count() or 1, runs))


#: Runs queued per worker beyond the one it executes: enough that no worker waits, few enough that a batch of
#: 100,000 runs holds a handful of jobs in memory, not 100,000.
AHEAD = 2


@dataclass
class Batch:
    """Runs fed to an executor as it frees up, each staged in its own folder of the staging folder ``staging``.

    Only a few runs per worker are submitted at a time (:data:`AHEAD`); the
    next is submitted as one finishes. The batch holds the reports folder's
    lock until it is closed; it removes the folders it had to create when
    they hold nothing else.
    """

    executor: Executor
    staging: Staging
    folders: ReportPaths
    runs: list[Run]
    #: The submitted runs' jobs that have not finished, by run name.
    jobs: dict[str, Job] = field(default_factory=dict)
    submitted: int = 0
    ended: bool = False

    @property
    def total(self) -> int:
        """How many runs the batch executes."""
        return len(self.runs)

    def feed(self) -> None:
        """Submit the next runs until each worker has :data:`AHEAD` queued beyond the one it executes."""
        while self.submitted < len(self.runs) and len(self.jobs) < self.executor.workers * (1 + AHEAD):
            run = self.runs[self.submitted]
            self.jobs[run.name] = job = make_job(run, self.folders, self.staging.root)
            self.submitted += 1
            self.executor.submit(job)

    def outcomes(self, stage: Callable[[str, str], None]) -> Iterator[tuple[Job, Outcome]]:
        """Each run's job and outcome, as it finishes (the batch's one wait loop); the next run is submitted as
        each one ends."""
        for outcome in self.executor.completed(stage):
            yield self.jobs.pop(outcome.name), outcome
            self.feed()

    def close(self) -> None:
        """The batch is over: release the workers, remove the staging folder and the kernel files no process holds
        (once)."""
        if not self.ended:
            self.ended = True
            self.executor.close()
            unstage(self.staging)
            sweep()  # what: the files of kernels whose worker was killed (by Ctrl-C's end of the batch, say)

    def drop(self) -> None:
        """Cancel what has not run, end what runs, and remove everything the batch staged (once)."""
        if not self.ended:
            self.executor.cancel()
        self.close()


def start_batch(
    runs: list[Run],
    folders: ReportPaths,
    jobs: int | None = None,
    scheduler: str | None = None,
    timeout: float | None = None,
) -> Batch:
    """Start the workers and submit the first of ``runs`` to them at once, staged in a new folder of the reports
    folder (the others follow as runs finish).

    Parameters
    ----------
    runs
        The runs to execute.
    folders
        Where the report reads and writes.
    jobs
        Runs executed at once by the local pool (default: the number of CPUs).
    scheduler
        The address of a Dask distributed scheduler to send the runs to instead.
    timeout
        Seconds to wait for the scheduler to answer (default
        :data:`analysis.pipeline.cluster.CONNECT_TIMEOUT`).

    Raises
    ------
    ReportError
        When no scheduler answers.
    OutputFolderError
        When another command is writing into the reports or processed folder (nothing is executed).
    TemporaryFolderError
        When the system's temporary folder is too deep for kernels' IPC sockets (a local batch).
    """
    sweep()  # what: the files of kernels of a report that was killed
    if not scheduler:
        check_room()  # what: one clear error before any worker starts, not one per run
    executor: Executor
    if scheduler:
        from analysis.pipeline.cluster import CONNECT_TIMEOUT, DaskCluster

        executor = DaskCluster(scheduler, folders.data_dir, CONNECT_TIMEOUT if timeout is None else timeout)
    else:
        from analysis.pipeline.pool import LocalPool

        executor = LocalPool(workers_for(jobs, len(runs)))
    from analysis.pipeline.pool import helpers_shielded

    staging: Staging | None = None
    batch: Batch | None = None
    try:
        # What: Ctrl-C or SIGTERM waits while the staging folder is made and the first runs submitted, and lands
        # when the batch exists, which is then dropped whole: no moment leaves a staging folder behind.
        with helpers_shielded():
            staging = stage(folders)
            batch = Batch(executor, staging, folders, runs)
            batch.feed()
    except BaseException:
        if batch is not None:
            batch.drop()
        else:
            executor.cancel()
            executor.close()
            if staging is not None:
                unstage(staging)
        raise
    return batch


def execute_report(
    folders: ReportPaths,
    work: Work,
    say: Callable[[str], None],
    jobs: int | None = None,
    scheduler: str | None = None,
    timeout: float | None = None,
) -> list[Outcome]:
    """Start a batch of the runs ``work`` selects, then import the runner and hand the batch to it.

    The runs execute while the runner imports, checks them and validates the
    data; whatever ends the report early (an error, Ctrl-C), the batch is
    dropped and nothing it staged is left behind.

    Raises
    ------
    DataValidationError, RunPlanError, ParameterError
        When the data or a run is invalid (nothing is installed).
    ReportError
        When a run failed (after every other run finished and was installed), or no scheduler answered.
    OutputFolderError
        When another command is writing into the reports or processed folder (nothing is executed).
    TemporaryFolderError
        When the system's temporary folder is too deep for kernels' IPC sockets (nothing is executed).
    """
    runs = [run for run in work.runs if run.name in work.reasons]
    batch = start_batch(runs, folders, jobs, scheduler, timeout) if runs else None
    # What: with no run to execute, the folders are held all the same while the index and tables are rebuilt.
    held = stage(folders) if batch is None else None
    try:
        from analysis.pipeline.runner import run_report  # heavy: pandas, scipy, papermill

        outcomes = run_report(folders, work, batch, say)
    except BaseException:
        if batch is not None:
            batch.drop()
        raise
    finally:
        if held is not None:
            unstage(held)
    if batch is not None:
        batch.close()
    return outcomes
