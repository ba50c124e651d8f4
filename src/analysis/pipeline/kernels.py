"""Kernels started ahead of the run that needs them, with the libraries the notebooks use already imported.

Starting a kernel and importing pandas, scipy, matplotlib, seaborn and pandera
into it takes a few seconds of every run. A worker starts the kernel for its
next run as soon as it is free (when it starts, and after each run), so that
time passes while the worker and the runner do other things. Each kernel
still serves exactly one run and is shut down after it: no run sees another's
state. The warm-up only imports modules, silently (no output, no execution
count), so an executed notebook is the same as from a kernel started for it.

Only the kernel client library is imported here, so a worker can start its
first kernel before importing papermill and nbconvert.
"""

from __future__ import annotations

import atexit
import contextlib
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

KERNEL = "python3"
#: What nbclient starts its kernels with (history kept in memory, not in a file shared by parallel kernels).
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
#: Seconds a run waits for the kernel started ahead of it (its start and imports) before starting its own.
READY_TIMEOUT = 60
#: Imported into a kernel ahead of its run, binding no name in the notebook's namespace.
WARM_UP = "; ".join(
    f"__import__({module!r})"
    for module in (
        "matplotlib_inline.backend_inline",
        "analysis.data.load",
        "analysis.studies.base",
        "analysis.studies.text",
        "analysis.measures.rates",
        "analysis.measures.selection",
    )
)


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager that talks to its kernel over IPC sockets, not TCP ports.

    Kernels started at the same moment by parallel runs can pick the same TCP
    ports (papermill issue 511). IPC sockets are files; each kernel gets its
    own name prefix in the temporary folder, so no two kernels can collide
    (the default prefix is shared and numbered, which races the same way).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", str(Path(tempfile.gettempdir()) / f"detainers-kernel-{uuid.uuid4().hex}"))
        super().__init__(**kwargs)


_lock = threading.Lock()
#: The kernel started ahead of this process's next run, with the client that sent it the warm-up.
_ahead: tuple[IPCKernelManager, BlockingKernelClient] | None = None


def _stop(manager: IPCKernelManager) -> None:
    with contextlib.suppress(Exception):  # what: a kernel that is already gone
        run_sync(manager.shutdown_kernel)(now=True)


def _discard() -> None:
    """Shut down a kernel started ahead that no run took (when the worker process ends)."""
    global _ahead
    with _lock:
        ahead, _ahead = _ahead, None
    if ahead is not None:
        ahead[1].stop_channels()
        _stop(ahead[0])


atexit.register(_discard)


def start_ahead(cwd: str | None = None) -> None:
    """Start a kernel for this process's next run, unless one is waiting, and have it import the runs' libraries.

    Returns at once: the kernel starts and imports on its own. A kernel that
    fails to start is no error here; the run then starts its own.
    """
    global _ahead
    with _lock:
        if _ahead is not None:
            return
        try:
            manager = IPCKernelManager(kernel_name=KERNEL)
            run_sync(manager.start_kernel)(cwd=cwd or tempfile.gettempdir(), extra_arguments=list(KERNEL_ARGUMENTS))
            client = BlockingKernelClient()
            client.load_connection_info(manager.get_connection_info())
            client.start_channels()
            client.execute(WARM_UP, silent=True, store_history=False)
        except Exception:  # what: no kernel ahead; the run starts one as it always could
            return
        _ahead = (manager, client)


def _handing_over(manager: IPCKernelManager) -> type[IPCKernelManager]:
    """A kernel manager class for papermill that, instead of making a new manager, hands it ``manager``."""

    class HandedOver(IPCKernelManager):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return manager  # what: already started, so nbclient skips the start and owns (and ends) the kernel

    return HandedOver


def take(cwd: str) -> type[IPCKernelManager]:
    """The kernel manager class a run gives papermill: the kernel started ahead if it is ready, else a new one.

    The kernel ahead is moved to ``cwd`` (the notebook's folder) and must
    answer within :data:`READY_TIMEOUT` seconds, its imports done.
    """
    global _ahead
    with _lock:
        ahead, _ahead = _ahead, None
    if ahead is None:
        return IPCKernelManager
    manager, client = ahead
    try:
        reply = client.execute(
            f"__import__('os').chdir({cwd!r})", silent=True, store_history=False, reply=True, timeout=READY_TIMEOUT
        )
        ready = reply["content"]["status"] == "ok"
    except Exception:  # what: it died or did not answer in time
        ready = False
    finally:
        client.stop_channels()
    if not ready:
        _stop(manager)
        return IPCKernelManager
    return _handing_over(manager)
