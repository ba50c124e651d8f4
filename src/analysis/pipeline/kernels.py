"""Kernels forked from a process that has already imported what the notebooks use, and started ahead of their run.

Starting a kernel and importing pandas, scipy, matplotlib, seaborn and pandera
into it costs seconds of processor time in every run. Instead, each worker
keeps one template process (:mod:`analysis.pipeline.template`) that imports
them once; every kernel is a fresh fork of it, so it starts with them
imported and pays nothing for them (on Linux, where a forked process can be
watched by a process file descriptor; elsewhere kernels start from scratch).
A worker also starts the kernel for its next run as soon as it is free (when
it starts, and after each run). Each kernel still
serves exactly one run and is stopped after it: no run sees another's state.
A forked kernel becomes an IPython kernel exactly as ``python -m
ipykernel_launcher`` would, in the notebook's folder and environment; the
warm-up only imports modules, silently (no output, no execution count), so an
executed notebook is the same as from a kernel started from scratch.

Only the kernel client library is imported here, so a worker can start its
first kernel before importing papermill and nbconvert.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import run_sync

KERNEL = "python3"
#: What nbclient starts its kernels with (history kept in memory, not in a file shared by parallel kernels).
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
#: Seconds a run waits for the kernel started ahead of it (its start and imports) before starting its own.
READY_TIMEOUT = 60
#: What the notebooks import: imported once into the template kernels are forked from, and again, at no cost, by each
#: kernel ahead of its run.
PRELOAD = (
    "matplotlib_inline.backend_inline",
    "analysis.data.load",
    "analysis.studies.base",
    "analysis.studies.text",
    "analysis.measures.rates",
    "analysis.measures.selection",
)
#: Run in a kernel ahead of its run, binding no name in the notebook's namespace.
WARM_UP = "; ".join(f"__import__({module!r})" for module in PRELOAD)
#: The template kernels are forked from, run as ``python -m``.
TEMPLATE = "analysis.pipeline.template"


class _Forked:
    """A kernel forked by the template, with what jupyter_client uses of :class:`subprocess.Popen`.

    It is the template's child, not this process's: it is watched and signalled
    through a process file descriptor (Linux), which cannot reach another
    process that later gets the same id. Its exit status is the template's to
    collect; ended, it reports 0.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._lock = threading.Lock()
        try:
            self._handle = os.pidfd_open(pid)
        except OSError:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)  # what: a kernel that cannot be watched is not left running
            raise
        self._watch = select.poll()
        self._watch.register(self._handle, select.POLLIN)

    def _ended(self, timeout_ms: int | None) -> int | None:
        with self._lock:
            if self.returncode is None and self._watch.poll(timeout_ms):
                self.returncode = 0
                os.close(self._handle)
            return self.returncode

    def poll(self) -> int | None:
        return self._ended(0)

    def wait(self, timeout: float | None = None) -> int | None:
        return self._ended(None if timeout is None else int(timeout * 1000))

    def send_signal(self, signum: int) -> None:
        with self._lock:
            if self.returncode is None:
                signal.pidfd_send_signal(self._handle, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class _Template:
    """This process's template: a process that imported what the notebooks use and forks a kernel on request."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", TEMPLATE]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lock = threading.Lock()

    def fork(self, arguments: list[str], cwd: str, environment: dict[str, str]) -> _Forked:
        """A kernel forked from the template (the first waits for the template's imports)."""
        request = json.dumps({"arguments": arguments, "cwd": cwd, "environment": environment})
        with self.lock:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(request + "\n")
            answer = self.process.stdout.readline()
        if not answer.strip().isdigit():
            raise RuntimeError("the kernel template ended")
        return _Forked(int(answer))


_template: _Template | None = None
_template_lock = threading.Lock()


def _forked(arguments: list[str], cwd: str, environment: dict[str, str]) -> _Forked:
    global _template
    with _template_lock:
        if _template is None or _template.process.poll() is not None:
            _template = _Template()
        template = _template
    return template.fork(arguments, cwd, environment)


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

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        """Fork the kernel from the template when it is this interpreter's IPython kernel; else launch it as usual."""
        provisioner = self.provisioner
        forkable = hasattr(os, "pidfd_open") and type(provisioner) is LocalProvisioner
        if kernel_cmd[:3] != [sys.executable, "-m", "ipykernel_launcher"] or not forkable:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        assert isinstance(provisioner, LocalProvisioner)
        cwd = str(kw.get("cwd") or os.getcwd())
        # What: the environment jupyter_client gives a kernel it starts, its parent's id included.
        environment = {**(kw.get("env") or os.environ), "JPY_PARENT_PID": str(os.getpid())}
        try:
            process = _forked(kernel_cmd[3:], cwd, environment)
        except (OSError, RuntimeError, ValueError):  # what: no template to fork from here; start the kernel as usual
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        # What: what LocalProvisioner.launch_kernel records of a process it started; the kernel leads a process group
        # of its own, as one started by jupyter_client does.
        provisioner.process = process  # type: ignore[assignment]
        provisioner.pid, provisioner.pgid, provisioner.cwd = process.pid, process.pid, cwd
        self._reconcile_connection_info(provisioner.connection_info)


_lock = threading.Lock()
#: Starts kernels ahead in the background (the first waits for the template to import what the notebooks use).
_starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-ahead")
#: The kernel being started ahead of this process's next run, with the client that sends it the warm-up.
_ahead: Future[tuple[IPCKernelManager, BlockingKernelClient] | None] | None = None


def _stop(manager: IPCKernelManager) -> None:
    with contextlib.suppress(Exception):  # what: a kernel that is already gone
        run_sync(manager.shutdown_kernel)(now=True)


def _dispose(started: tuple[IPCKernelManager, BlockingKernelClient] | None) -> None:
    if started is not None:
        started[1].stop_channels()
        _stop(started[0])


def _started(ahead: Future[tuple[IPCKernelManager, BlockingKernelClient] | None]) -> Any:
    try:
        return ahead.result(timeout=READY_TIMEOUT)
    except Exception:  # what: it did not start in time (or failed); nothing to hand over, and stopped once started
        ahead.add_done_callback(lambda late: _dispose(late.result()) if late.exception() is None else None)
        return None


def _discard() -> None:
    """Shut down a kernel started ahead that no run took (when the worker process ends)."""
    global _ahead
    with _lock:
        ahead, _ahead = _ahead, None
    _dispose(_started(ahead) if ahead is not None else None)


atexit.register(_discard)


def _start() -> tuple[IPCKernelManager, BlockingKernelClient] | None:
    manager = IPCKernelManager(kernel_name=KERNEL)
    try:
        # What: a folder that outlives any run; the run moves the kernel to its notebook's folder (see take).
        run_sync(manager.start_kernel)(cwd=tempfile.gettempdir(), extra_arguments=list(KERNEL_ARGUMENTS))
        client = BlockingKernelClient()
        client.load_connection_info(manager.get_connection_info())
        client.start_channels()
        client.execute(WARM_UP, silent=True, store_history=False)
    except Exception:  # what: no kernel ahead; the run starts one as it always could
        _stop(manager)
        return None
    return manager, client


def start_ahead() -> None:
    """Start a kernel for this process's next run, unless one is on its way, and have it import the runs' libraries.

    Returns at once: the kernel starts in the background. A kernel that fails
    to start is no error here; the run then starts its own.
    """
    global _ahead
    with _lock:
        if _ahead is None:
            _ahead = _starter.submit(_start)


def _handing_over(manager: IPCKernelManager) -> type[IPCKernelManager]:
    """A kernel manager class for papermill that, instead of making a new manager, hands it ``manager``."""

    class HandedOver(IPCKernelManager):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return manager  # what: already started, so nbclient skips the start and owns (and ends) the kernel

    return HandedOver


def _moved(manager: IPCKernelManager, client: BlockingKernelClient, cwd: str) -> bool:
    """Move the kernel to ``cwd``; whether it did so, its warm-up done, within :data:`READY_TIMEOUT` seconds.

    Waits in short steps, so that a kernel that died is given up at once.
    """
    request = client.execute(f"__import__('os').chdir({cwd!r})", silent=True, store_history=False)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            reply = client.get_shell_msg(timeout=0.5)
        except queue.Empty:
            if not run_sync(manager.is_alive)():
                return False
            continue
        if reply["parent_header"].get("msg_id") == request:
            return bool(reply["content"]["status"] == "ok")
    return False


def take(cwd: str) -> type[IPCKernelManager]:
    """The kernel manager class a run gives papermill: the kernel started ahead if it is ready, else a new one.

    The kernel ahead is moved to ``cwd`` (the notebook's folder) and must
    answer within :data:`READY_TIMEOUT` seconds, its imports done.
    """
    global _ahead
    with _lock:
        ahead, _ahead = _ahead, None
    started = _started(ahead) if ahead is not None else None
    if started is None:
        return IPCKernelManager
    manager, client = started
    try:
        ready = _moved(manager, client, cwd)
    except Exception:  # what: it did not answer as a kernel does
        ready = False
    finally:
        client.stop_channels()
    if not ready:
        _stop(manager)
        return IPCKernelManager
    return _handing_over(manager)
