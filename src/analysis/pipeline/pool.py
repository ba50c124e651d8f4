"""The local executor: a pool of worker processes on this machine, sharing its disk.

Each worker starts its kernel template as it starts, then imports papermill,
nbconvert and the package's execution module, so both happen while the runner
imports pandas and validates the data. A worker says what each run is doing on
a queue. This module imports nothing heavy, so starting the pool costs the
command line nothing.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from typing import Any

from analysis.pipeline import interrupts
from analysis.pipeline.jobs import Job, Outcome
from analysis.pipeline.lifetime import die_with_parent

#: Signals held back while helper processes start (and, Ctrl-C, in the helpers for good).
SHIELDED = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def helpers_shielded() -> Iterator[None]:
    """Start helper processes with Ctrl-C blocked in them, so only the main process handles it.

    A blocked signal stays blocked in a child process, even while it imports,
    so workers neither die mid-write nor print tracebacks. In the main process
    the signal only waits: it is raised as soon as the helpers have started.
    SIGTERM waits too, so it never lands while a helper is half-started (the
    helper would print a traceback as its parent left it); each worker takes
    SIGTERM back as it starts (:func:`_start_worker`). Where signals cannot be
    blocked (Windows), helpers start as they are.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, SHIELDED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)  # what: as it was, so a shield inside a shield holds


def _end_now() -> None:
    """End the worker once its exit handlers ran, without the interpreter's teardown of its imports (papermill,
    nbconvert and the rest: over half a second that frees nothing the system would not, and that the runner waits for
    as the batch closes). multiprocessing has joined the worker's queue threads by then."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    os._exit(0)


def _start_worker(queue: Any, runner: int) -> None:
    atexit.register(_end_now)  # what: registered first, so it runs last, after the template was ended
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # what: Ctrl-C stays the runner's alone
    die_with_parent(runner)
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)  # what: the worker leads a process group with its template, so both can be ended at once
    from analysis.pipeline.provisioner import start_template

    start_template()  # what: the template imports the notebooks' libraries while this worker imports its own

    from analysis.pipeline.execute import prepare, report_to  # what: the heavy imports, in the worker, as it starts

    report_to(queue)
    prepare()  # what: while the template still imports, so the first run does not wait for it


def _ready() -> None:
    """A task that does nothing: submitting one per worker starts every worker at once."""


def _execute(job: Job) -> Outcome:
    from analysis.pipeline.execute import execute  # what: imported by the worker as it started

    return execute(job)


class LocalPool:
    """Runs executed by ``workers`` spawned worker processes of this machine (a batch's executor)."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.workers = workers
        self.where = f"with {workers} job(s)"
        self.status = context.Queue()
        self.pending: dict[Future[Outcome], Job] = {}
        others = set(multiprocessing.active_children())
        self.processes: list[multiprocessing.process.BaseProcess] = []
        try:
            with helpers_shielded():
                self.executor = ProcessPoolExecutor(
                    workers, mp_context=context, initializer=_start_worker, initargs=(self.status, os.getpid())
                )
                for _ in range(workers):
                    self.executor.submit(_ready)  # what: each submission to a pool with no idle worker starts one
        except BaseException:  # what: a signal (Ctrl-C, SIGTERM) half-way: whatever started ends here
            self.processes = [p for p in multiprocessing.active_children() if p not in others]
            self._kill()
            raise
        self.processes = [p for p in multiprocessing.active_children() if p not in others]

    def submit(self, job: Job) -> None:
        with helpers_shielded():
            self.pending[self.executor.submit(_execute, job)] = job

    def completed(self, stage: Callable[[str, str], None]) -> Iterator[Outcome]:
        while self.pending:
            done, _ = wait(self.pending, timeout=0.2, return_when=FIRST_COMPLETED)
            interrupts.check()
            while not self.status.empty():
                stage(*self.status.get())
            for future in done:
                job = self.pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool as error:  # what: a worker process died; its run failed, not the batch
                    yield Outcome(job.run.name, False, 0.0, f"run {job.run.name}: its worker process ended ({error})")

    def cancel(self) -> None:
        """Drop the runs not started and end the running ones now, so none writes after the caller cleans up.

        Each worker is killed with its process group (itself and its template);
        a kernel ends within a second once it sees its parent, the template, gone.
        """
        self._kill()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.pending.clear()

    def close(self) -> None:
        self.executor.shutdown(wait=True)

    def _kill(self) -> None:
        """Kill each worker with its process group (itself and its template)."""
        for process in self.processes:
            if hasattr(os, "killpg") and process.pid is not None:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.kill()
