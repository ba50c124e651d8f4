"""The papermill engine the runs execute with: nbclient on a kernel this engine starts and watches.

Registered with papermill as ``detainers`` when this module is imported
(``papermill_engines.register``; not as an entry point, which papermill loads
while it is itself being imported, so importing this module first would be
circular). It differs from papermill's
own ``nbclient`` engine in three ways, each through a public parameter:

- the kernel manager is made here (:func:`kernel_manager`) and handed to
  nbclient as ``km``: it talks to its kernel over IPC sockets of its own (in
  a folder of the kernel's, swept when a kill left it: :mod:`analysis.pipeline.kernel_files`), and
  its kernel spec names :class:`~analysis.pipeline.provisioner.ForkingProvisioner`,
  so the kernel is forked from a template that has imported the notebooks'
  libraries;
- a kernel that fails to start (or to answer) is started again, up to
  :data:`START_ATTEMPTS` times, before any cell runs; nothing is retried
  once a cell has run;
- a kernel that dies while a cell runs (the out-of-memory killer, a crash in a
  C extension) is an error of that cell, as an exception would be: the cell gets
  an error output naming the signal that ended the kernel where it is known,
  so papermill keeps the executed notebook and raises
  ``PapermillExecutionError`` naming the cell.
"""

from __future__ import annotations

import os
import queue
import time
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

from analysis.pipeline.kernel_files import KernelFolder
from analysis.pipeline.lifetime import how_it_ended
from analysis.pipeline.provisioner import ForkingKernelSpecManager, ForkingProvisioner

#: The engine's name among papermill's engines.
ENGINE = "detainers"
#: Kernel start attempts before a run is given up (a start can fail under load); never repeated once a cell ran.
START_ATTEMPTS = 2
#: What nbclient starts its kernels with: history kept in memory, not in a file shared by parallel kernels.
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
#: The error name a cell gets when the kernel died while it ran.
DEAD_KERNEL = "DeadKernelError"


def kernel_manager(kernel_name: str, folder: KernelFolder) -> AsyncKernelManager:
    """A kernel manager for the kernel spec ``kernel_name``, on IPC sockets, its kernel forked where it can be.

    Kernels started at the same moment by parallel runs can pick the same TCP
    ports (papermill issue 511). IPC sockets are files; each kernel's, and its
    connection file, are in a folder of its own (``folder``), so no two kernels
    can collide.
    """
    return AsyncKernelManager(
        kernel_name=kernel_name,
        transport="ipc",
        ip=folder.ip,
        connection_file=folder.connection_file,
        kernel_spec_manager=ForkingKernelSpecManager(),
    )


def kernel_died(status: int | None) -> str:
    """A dead kernel's exit status in words: "the kernel died (killed by signal 9, SIGKILL)" (``None``: not
    known, "the kernel died")."""
    said = how_it_ended(status)
    return f"the kernel died ({said})" if said else "the kernel died"


async def _answers(manager: AsyncKernelManager, timeout: float) -> None:
    """Return once the kernel of ``manager`` answers a kernel_info request.

    Asked again every second, as jupyter_client's ``wait_for_ready`` asks, but
    without its draining of the IOPub channel (a fifth of a second), which
    nbclient's own client does once it connects.

    Raises
    ------
    RuntimeError
        When the kernel ends first.
    TimeoutError
        When it does not answer within ``timeout`` seconds.
    """
    client = manager.client()
    client.start_channels()
    try:
        deadline = time.monotonic() + timeout
        while True:
            asked = client.kernel_info()
            try:
                while True:
                    reply = await client.get_shell_msg(timeout=1)
                    if reply["parent_header"].get("msg_id") == asked:
                        return
            except queue.Empty:
                if not await manager.is_alive():
                    raise RuntimeError("the kernel ended before it answered") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the kernel did not answer within {timeout:g} s") from None
    finally:
        client.stop_channels()


def _started(kernel_name: str, startup_timeout: float, folder: KernelFolder) -> AsyncKernelManager:
    """The manager of a started kernel that answered, its files in ``folder``; a kernel that did not is stopped and
    started again.

    Raises
    ------
    RuntimeError, TimeoutError, OSError
        When the last attempt's kernel did not start or answer (it is stopped).
    zmq.ZMQError
        When a socket could not be made (not retried; the kernel is stopped).
    """
    for attempt in range(1, START_ATTEMPTS + 1):
        manager = kernel_manager(kernel_name, folder)
        try:
            run_sync(manager.start_kernel)(cwd=os.getcwd(), extra_arguments=list(KERNEL_ARGUMENTS))
            run_sync(_answers)(manager, startup_timeout)
            return manager
        except BaseException as error:
            if manager.has_kernel:  # what: whatever went wrong (ZeroMQ's errors too), the kernel does not live on
                run_sync(manager.shutdown_kernel)(now=True)
            if attempt == START_ATTEMPTS or not isinstance(error, (RuntimeError, TimeoutError, OSError)):
                raise
    raise AssertionError("unreachable")


def _mark_dead_cell(nb_man: Any, status: int | None) -> bool:
    """Give the cell that was running when the kernel died an error output; whether one was running."""
    ran = [i for i, cell in enumerate(nb_man.nb.cells) if cell.metadata.get("papermill", {}).get("start_time")]
    if not ran:
        return False
    index = ran[-1]
    cell = nb_man.nb.cells[index]
    what = kernel_died(status)
    cell.setdefault("outputs", []).append(
        nbformat.v4.new_output("error", ename=DEAD_KERNEL, evalue=f"{what} while this cell ran", traceback=[])
    )
    nb_man.cell_exception(cell, cell_index=index)
    return True


class KernelEngine(NBClientEngine):
    """papermill's nbclient engine on a kernel it starts itself (see the module's description)."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs = remove_args(["input_path", "timeout", "startup_timeout", "km", "kc"], **kwargs)
        final = merge_kwargs(
            kwargs,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        folder = KernelFolder()  # what: removed however the run ends; swept by the batch if this process is killed
        try:
            manager = _started(kernel_name, start_timeout, folder)
            provisioner = manager.provisioner
            try:
                notebook_client = PapermillNotebookClient(nb_man, km=manager, **final)
            except BaseException:
                run_sync(manager.shutdown_kernel)(now=True)  # what: no kernel lives on without its client
                raise
            try:
                # What: cleanup_kc: nbclient stops its client and the kernel when done, though it did not start it.
                return notebook_client.execute(cleanup_kc=True)
            except DeadKernelError:
                status = provisioner.exit_status if isinstance(provisioner, ForkingProvisioner) else None
                if not _mark_dead_cell(nb_man, status):
                    raise
                return nb_man.nb
        finally:
            folder.remove()


papermill_engines.register(ENGINE, KernelEngine)
