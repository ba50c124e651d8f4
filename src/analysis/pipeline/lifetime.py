"""Processes of a batch end with the process that started them, however it ends (Linux's parent-death signal).

A worker, its template and each kernel forked from the template ask the kernel
to kill them when their parent ends: a runner killed outright (``kill -9``,
the out-of-memory killer) takes its whole batch with it, and no kernel is left
holding memory. Where the parent-death signal does not exist (not Linux), this
does nothing and each process ends as it notices its parent gone (a template
when its input closes, a kernel through ipykernel's parent poller).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

#: prctl's option that sets the signal a process gets when its parent ends (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Be killed (SIGKILL) when the parent process ``parent`` ends; end now if it already has.

    ``parent`` is the process id the caller knows as its parent: if the parent
    ended before the signal was asked for, the process has been handed to
    another and ends at once.
    """
    if sys.platform.startswith("linux"):
        # What: no prctl to call (a static build) leaves the fallbacks above.
        with contextlib.suppress(OSError, AttributeError):
            # What: the running process's own symbols, which hold the C library's prctl (no search for the library).
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def how_it_ended(status: int | None) -> str:
    """A process's exit status in words: minus a signal's number is "killed by signal 9, SIGKILL", another status
    "it exited with status 1"; ``None`` (not known) is ""."""
    if status is None:
        return ""
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = "an unknown signal"
        return f"killed by signal {-status}, {name}"
    return f"it exited with status {status}"
