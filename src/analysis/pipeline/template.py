"""The template kernels are forked from: it imports what the notebooks use once, then forks a kernel per request.

:class:`analysis.pipeline.provisioner.Template` runs it as ``python -m
analysis.pipeline.template`` with the fixed hash seed of every kernel. Each
request is one line of JSON on its standard input, each answer one line of
JSON on its standard output:

- ``{"fork": {"arguments": [...], "cwd": ..., "environment": {...}}}``: fork a
  kernel; the answer is ``{"pid": N}``.
- ``{"status": N}``: how kernel ``N`` ended; the answer is ``{"status": CODE}``
  (its exit code, or minus the signal that ended it; ``null`` if it has not).

The template reaps its kernels as they end, and ends when its standard input
closes (the process that started it has ended).

A forked kernel becomes an IPython kernel as ``python -m ipykernel_launcher``
would: in a session of its own, in its folder and environment, with standard
input from ``/dev/null``, its output where the template's errors go, and no
other descriptor of the template; its parent (the template) is the process it
watches, and its random generators are reseeded from fresh entropy; what the
template imported is frozen out of the cycle collector, so no kernel's
collector walks it (nor copies its memory pages). The
matplotlib backend is set as ipykernel sets it before any notebook code runs,
so matplotlib, imported here, is configured as in a kernel of its own.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import random
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType

from analysis.cycles import no_cycle_collection
from analysis.pipeline.lifetime import die_with_parent

#: What the notebooks import: imported once here, so that every kernel forked from the template has them. The
#: libraries, and the package's layers below the pipeline; the studies (the package's code the notebooks call, a
#: layer above it) take each kernel a few hundredths of a second on top of them.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "sqlite3",
    "pdb",
    "matplotlib_inline.backend_inline",
    "matplotlib.figure",
    "matplotlib.ticker",
    "seaborn",
    "pandas.io.formats.style",
    "analysis.data.load",
    "analysis.measures.rates",
    "analysis.measures.selection",
)

#: The environment variable that gives the template its parent's process id (so it ends with it).
PARENT_ENV = "DETAINERS_TEMPLATE_PARENT"

#: Exit statuses of kernels that ended and were not asked for yet, by process id.
_ended: dict[int, int] = {}


def _reap(signum: int = 0, frame: FrameType | None = None) -> None:
    """Collect the kernels that ended (so none lingers as a zombie), keeping their exit statuses."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _ended[pid] = os.waitstatus_to_exitcode(status)


def _close_inherited() -> None:
    """Standard input from /dev/null, output where errors go, and every other descriptor of the template closed."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024)


def _reseed() -> None:
    """Fresh entropy for the random generators, which a fork would otherwise share with every other kernel."""
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _become_kernel(arguments: list[str], cwd: str, environment: dict[str, str], template: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # what: the kernel waits for its own children
    die_with_parent(template)
    os.setsid()
    _close_inherited()
    _reseed()
    os.chdir(cwd)
    parent = os.getppid()
    os.environ.clear()
    os.environ.update({**environment, "JPY_PARENT_PID": str(parent)})
    launcher = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [launcher.origin if launcher and launcher.origin else "ipykernel_launcher", *arguments]
    from ipykernel import kernelapp

    # What: ipykernel read its parent's id from the environment when the template imported it, so it is given here.
    kernelapp.launch_new_instance(argv=[*arguments, f"--IPKernelApp.parent_handle={parent}"])


def _fork_kernel(asked: dict[str, object]) -> int:
    """Fork a kernel for ``asked``; return its process id (in the template)."""
    template = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _become_kernel(asked["arguments"], asked["cwd"], asked["environment"], template)  # type: ignore[arg-type]
    except BaseException:  # what: the provisioner sees the kernel end; the reason goes where errors go
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _answer(request: dict[str, object]) -> dict[str, object]:
    if "fork" in request:
        return {"pid": _fork_kernel(request["fork"])}  # type: ignore[arg-type]
    if "status" in request:
        pid = int(request["status"])  # type: ignore[call-overload]
        _reap()
        return {"status": _ended.pop(pid, None)}
    return {"error": f"unknown request {sorted(request)}"}


def main() -> None:
    """Import what the notebooks use, then answer each request until standard input closes."""
    parent = os.environ.pop(PARENT_ENV, None)
    if parent is not None:
        die_with_parent(int(parent))
    # What: answers go to a descriptor of their own; anything else that writes to standard output (an import, say)
    # goes where errors go, so no stray line is ever read as an answer.
    answers = os.dup(1)
    os.set_inheritable(answers, False)
    os.dup2(2, 1)
    if sys.path and Path(sys.path[0]) == Path.cwd():
        del sys.path[0]  # what: as ipykernel_launcher does; IPython puts the kernel's own folder back
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # What: the debugger's import warns, here only, that frozen modules may hide breakpoints; kernels get their own
    # environment as they are forked.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    with no_cycle_collection(freeze=True):  # what: an eighth of the template's start went to collecting
        for module in PRELOAD:
            with contextlib.suppress(ImportError):  # what: then each kernel imports it, and says what is wrong
                importlib.import_module(module)
        with contextlib.suppress(ImportError):
            from analysis.data.load import prepare

            prepare()  # what: pandera's first-validation work, done once here rather than in every kernel
    signal.signal(signal.SIGCHLD, _reap)
    while request := sys.stdin.readline():
        try:
            answer = _answer(json.loads(request))
        except (ValueError, TypeError, KeyError, OSError) as error:
            answer = {"error": f"{type(error).__name__}: {error}"}
        os.write(answers, (json.dumps(answer) + "\n").encode())
    # What: nothing is left to tear down (answers are written unbuffered; kernels are processes of their own): the
    # interpreter's teardown of pandas, matplotlib and the rest would keep the worker waiting for over half a second.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
