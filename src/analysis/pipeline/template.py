"""The template kernels are forked from: it imports what the notebooks use once, then forks a kernel per request.

A worker runs it as ``python -m analysis.pipeline.template``. Each request is
one line of JSON on its standard input (the kernel's command-line arguments,
folder and environment); the answer is the forked kernel's process id, on a
line of its standard output. The template reaps its kernels as they end, and
ends when its standard input closes (its worker has ended).

A forked kernel becomes an IPython kernel as ``python -m ipykernel_launcher``
would: in a session of its own, in its folder and environment, with nothing
of the template's input and output. The matplotlib backend is set as
ipykernel sets it before any notebook code runs, so matplotlib, imported here,
is configured as in a kernel of its own.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType


def _reap(signum: int, frame: FrameType | None) -> None:
    """Collect the kernels that ended (so none lingers as a zombie)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(arguments: list[str], cwd: str, environment: dict[str, str]) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # what: the kernel waits for its own children
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # what: the template's output is its answers; the kernel writes where the worker's errors go
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environment)
    from ipykernel import kernelapp

    # What: ipykernel reads its parent's id from the environment when it is imported, which happened here first.
    kernelapp.launch_new_instance(argv=[*arguments, f"--IPKernelApp.parent_handle={environment['JPY_PARENT_PID']}"])


def _fork_kernel(asked: dict[str, object]) -> int:
    """Fork a kernel for ``asked``; return its process id (in the template)."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _become_kernel(asked["arguments"], asked["cwd"], asked["environment"])  # type: ignore[arg-type]
    except BaseException:  # what: the worker sees the kernel die; the reason goes where the worker's errors go
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def main() -> None:
    """Import what the notebooks use, then fork a kernel for each request until standard input closes."""
    # What: answers go to a copy of standard output; anything else that writes there (an import, say) goes where
    # errors go, so no stray line is ever read as an answer.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    if sys.path and Path(sys.path[0]) == Path.cwd():
        del sys.path[0]  # what: as ipykernel_launcher does; IPython puts the kernel's own folder back
    from analysis.pipeline.kernels import PRELOAD

    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for module in ("ipykernel.kernelapp", *PRELOAD):
        with contextlib.suppress(ImportError):  # what: then each kernel imports it, and says what is wrong
            importlib.import_module(module)
    signal.signal(signal.SIGCHLD, _reap)
    while request := sys.stdin.readline():
        print(_fork_kernel(json.loads(request)), file=answers, flush=True)


if __name__ == "__main__":
    main()
