"""The local executor: a pool of worker processes on this machine, sharing its disk.

Each worker starts its kernel template as it starts, then imports papermill,
nbconvert and the package's execution module, so both happen while the runner
imports pandas and validates the data. A worker says what each run is doing on
a queue. This module imports nothing heavy, so starting the pool costs the
command line nothing.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from typing import Any

from analysis.pipeline import interrupts
from analysis.pipeline.jobs import Job, Outcome
from analysis.pipeline.lifetime import die_with_parent, how_it_ended

log = logging.getLogger(__name__)

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


class _Tagged:
    """A worker's end of the status queue: each ``(run name, what)`` it puts goes with the worker's process id."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.pid = queue, os.getpid()

    def put(self, message: tuple[str, str]) -> None:
        self.queue.put((*message, self.pid))


#: The run name of a status message that is a warning of a worker (why kernels start from scratch), said once a batch.
WARNING = ""


class _Warnings(logging.Handler):
    """Sends a worker's warnings to the runner on the status queue, which says each once however many workers
    give it."""

    def __init__(self, queue: _Tagged) -> None:
        super().__init__(logging.WARNING)
        self.queue = queue

    def emit(self, record: logging.LogRecord) -> None:
        with suppress(Exception):
            self.queue.put((WARNING, record.getMessage()))


def _start_worker(queue: Any, runner: int) -> None:
    atexit.register(_end_now)  # what: registered first, so it runs last, after the template was ended
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # what: Ctrl-C stays the runner's alone
    die_with_parent(runner)
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)  # what: the worker leads a process group with its template, so both can be ended at once
    from analysis.cycles import no_cycle_collection
    from analysis.pipeline.provisioner import log, start_template

    tagged = _Tagged(queue)
    log.addHandler(_Warnings(tagged))
    log.propagate = False
    start_template()  # what: the template imports the notebooks' libraries while this worker imports its own

    with no_cycle_collection(freeze=True):
        from analysis.pipeline.execute import prepare, report_to  # what: the heavy imports, as the worker starts

        report_to(tagged)
        prepare()  # what: while the template still imports, so the first run does not wait for it


def _ready() -> None:
    """A task that does nothing: submitting one per worker starts every worker at once."""


def _execute(job: Job) -> Outcome:
    from analysis.pipeline.execute import execute  # what: imported by the worker as it started

    return execute(job)


def _drain(
    status: Any, stage: Callable[[str, str], None], executing: dict[str, tuple[int, float]], warned: set[str]
) -> None:
    """Take every message the workers put on ``status``: a run's stage goes to ``stage`` (and a run that began
    executing into ``executing``, with its worker and when); a worker's warning is logged here, once whichever
    workers give it (``warned``: those said so far)."""
    while not status.empty():
        name, what, pid = status.get()
        if name == WARNING:
            if what not in warned:
                warned.add(what)
                log.warning("%s", what)
            continue
        if what == "executing":
            executing[name] = (pid, time.monotonic())
        stage(name, what)


def _exit_code(worker: multiprocessing.process.BaseProcess) -> int | None:
    """The exit code of ``worker``, which has ended (``None`` if it still runs after a second).

    The pool's own thread collects its ended workers too: the thread that loses
    the race to collect one is told there is no such child, and sees no exit
    code until the winner has stored it, a moment later. Read at once, a worker
    killed outright looked like one that never said how it ended (about 1 in 25
    under load), and its run was reported as stopped by the pool.
    """
    deadline = time.monotonic() + 1
    while (code := worker.exitcode) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return code


#: Pools in a row that may break before any run of theirs began or ended: past it (workers that die as they start,
#: say), the runs left fail at once instead of starting pool after pool.
BREAKS = 3


class LocalPool:
    """Runs executed by ``workers`` spawned worker processes of this machine (a batch's executor).

    A worker process that dies (the out-of-memory killer, a crash in a C
    extension) fails the run it was executing, and only that one. The standard
    library's pool stops every worker (with SIGTERM) when one dies; the runs
    stopped with them, and those that had not started, are executed by a new
    pool: a run that was executing is given a second pool once, and fails if
    that one breaks as it runs too, or at once when it was the only run
    executing (a worker ended by SIGTERM from elsewhere, a ``kill``, looks like
    one the pool stopped).
    After :data:`BREAKS` pools in a row broke before any run began or ended,
    the runs left fail without another pool.
    """

    def __init__(self, workers: int) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.workers = workers
        self.where = f"with {workers} job(s)"
        self.pending: dict[Future[Outcome], Job] = {}
        #: The process id of the worker executing each run that said it began and has not ended, and when it began
        #: (monotonic seconds), by run name.
        self.executing: dict[str, tuple[int, float]] = {}
        #: The workers' warnings said so far (each is said once).
        self.warned: set[str] = set()
        #: Runs submitted again after their pool broke while they ran.
        self.again: set[str] = set()
        #: The runs that were executing when the last broken pool broke, with that pool's number.
        self.running_when_broken: tuple[int, set[str]] = (-1, set())
        #: The pools started so far (the current pool's number is one less).
        self.pools = 0
        #: Pools that broke in a row before any run began or ended; why the last broke, once no other pool starts.
        self.breaks = 0
        self.broken: BrokenProcessPool | None = None
        self.processes: list[multiprocessing.process.BaseProcess] = []
        #: The number and worker processes of the pool each pending run was submitted to.
        self.workers_of: dict[Future[Outcome], tuple[int, list[multiprocessing.process.BaseProcess]]] = {}
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        """Start the workers (each with its template) at once; a signal half-way ends those that started.

        Each pool has a status queue of its own: a worker killed while writing to one leaves it locked.
        """
        self.status = self.context.Queue()
        others = set(multiprocessing.active_children())
        try:
            with helpers_shielded():
                executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=self.context,
                    initializer=_start_worker,
                    initargs=(self.status, os.getpid()),
                )
                for _ in range(self.workers):
                    executor.submit(_ready)  # what: each submission to a pool with no idle worker starts one
        except BaseException:  # what: a signal (Ctrl-C, SIGTERM) half-way: whatever started ends here
            self.processes = [p for p in multiprocessing.active_children() if p not in others]
            self._kill()
            raise
        self.processes = [p for p in multiprocessing.active_children() if p not in others]
        self.pools += 1
        return executor

    def submit(self, job: Job) -> None:
        """Queue ``job``; a pool that a dead worker broke is replaced by a new one first (see the class)."""
        with helpers_shielded():
            future: Future[Outcome]
            if self.broken is None:
                try:
                    future = self.executor.submit(_execute, job)
                except BrokenProcessPool as error:
                    self.executor.shutdown(wait=True)
                    self.breaks += 1
                    if self.breaks < BREAKS:
                        self.executor = self._start()
                        future = self.executor.submit(_execute, job)
                    else:
                        self.broken = error
            if self.broken is not None:  # what: no pool starts again; the run fails as it is waited for
                future = Future()
                future.set_exception(self.broken)
            self.pending[future] = job
            self.workers_of[future] = (self.pools - 1, self.processes)

    def _died_by_itself(self, workers: list[multiprocessing.process.BaseProcess], pid: int | None) -> int | None:
        """The exit code of worker ``pid`` of ``workers`` (a pool's) if it died by itself; ``None`` if the run never
        started, or the pool stopped the worker (with SIGTERM, as it stops every worker once one died)."""
        for worker in workers:
            worker.join(timeout=60)  # what: the pool is ending them; decide only once each has ended
        code = next((_exit_code(p) for p in workers if p.pid == pid), None)
        return code if code not in (None, -signal.SIGTERM) else None

    def _lost(self, future: Future[Outcome], job: Job, pid: int | None, began: float) -> Outcome | None:
        """The outcome of a run whose pool broke; ``None`` when it was submitted again instead (see the class)."""
        name = job.run.name
        pool, workers = self.workers_of.pop(future, (-1, []))
        if pool != self.running_when_broken[0]:  # what: the first of the pool's runs seen: who ran in it then
            pids = {worker.pid for worker in workers}
            running = {n for n, (p, _) in self.executing.items() if p in pids} | ({name} if pid is not None else set())
            self.running_when_broken = (pool, running)
        alone = self.running_when_broken[1] == {name}
        code = self._died_by_itself(workers, pid)
        if pid is not None:  # what: that pool did execute runs; its workers do not die as they start
            self.breaks = 0
        if code is None and not (pid is not None and (alone or name in self.again)) and self.broken is None:
            if pid is not None:
                self.again.add(name)
            shutil.rmtree(job.staging, ignore_errors=True)
            self.submit(job)
            return None
        self.again.discard(name)
        if code is not None:
            why = f"its worker process died while it ran ({how_it_ended(code)})"
        elif pid is not None:
            why = "its worker process was stopped (SIGTERM) while it ran" + ("" if alone else ", in two pools in a row")
        else:
            why = (
                f"no worker process could execute it: the pool's workers ended before it started ({future.exception()})"
            )
        return Outcome(name, False, time.monotonic() - began, f"run {name}: {why}")

    def completed(self, stage: Callable[[str, str], None]) -> Iterator[Outcome]:
        """Every submitted job's outcome, as each finishes; ``stage(run name, what)`` as runs go."""
        while self.pending:
            done, _ = wait(self.pending, timeout=0.2, return_when=FIRST_COMPLETED)
            interrupts.check()
            _drain(self.status, stage, self.executing, self.warned)
            for future in done:
                job = self.pending.pop(future)
                pid, began = self.executing.pop(job.run.name, (None, time.monotonic()))
                try:
                    outcome = future.result()
                except BrokenProcessPool:  # what: a worker died; the run it executed failed, not the batch
                    lost = self._lost(future, job, pid, began)
                    if lost is None:
                        continue
                    outcome = lost
                else:
                    self.workers_of.pop(future, None)
                    self.again.discard(job.run.name)
                    self.breaks = 0
                yield outcome

    def cancel(self) -> None:
        """Drop the runs not started and end the running ones now, so none writes after the caller cleans up.

        Each worker is killed with its process group (itself and its template);
        a kernel ends within a second once it sees its parent, the template, gone.
        """
        self._kill()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.pending.clear()
        self.workers_of.clear()

    def close(self) -> None:
        """Release the workers once every submitted run has ended."""
        self.executor.shutdown(wait=True)

    def _kill(self) -> None:
        """Kill each worker with its process group (itself and its template)."""
        for process in self.processes:
            if process.exitcode is not None:
                continue  # what: ended and waited for: its process id may belong to another process by now
            if hasattr(os, "killpg") and process.pid is not None:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.kill()
