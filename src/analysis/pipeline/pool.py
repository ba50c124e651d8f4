"""The local pool of worker processes, started before the runner's own imports so that theirs overlap.

A worker imports papermill, nbconvert and the package's execution module as it
starts: a second or two that the runner spends meanwhile importing pandas and
validating the data, instead of one after the other. This module uses only the
standard library, so starting the pool costs the command line nothing.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


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
    from analysis.pipeline.execute import report_to  # what: the heavy imports, in the worker, as it starts

    report_to(queue)


def _ready() -> None:
    """A task that does nothing: submitting one per worker starts every worker at once."""


@dataclass(frozen=True)
class Pool:
    """Worker processes, and the queue on which they say what each run is doing."""

    executor: ProcessPoolExecutor
    status: Any

    def shutdown(self) -> None:
        """Drop queued runs and wait for running ones, so none writes after the caller cleans up."""
        self.executor.shutdown(wait=True, cancel_futures=True)


def start_pool(workers: int) -> Pool:
    """Start ``workers`` spawned worker processes now, Ctrl-C blocked in them."""
    context = multiprocessing.get_context("spawn")
    status = context.Queue()
    with helpers_shielded():
        executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(status,))
        for _ in range(workers):
            executor.submit(_ready)
    return Pool(executor, status)
