"""A jupyter_client kernel provisioner that forks each kernel from a template that imported the notebooks' libraries.

Starting a kernel and importing pandas, scipy, matplotlib, seaborn and pandera
into it costs seconds of processor time in every run. Instead, each process
that executes runs keeps one template process (:mod:`analysis.pipeline.template`)
that imports them once; :class:`ForkingProvisioner` asks it for a fresh fork
for every kernel, which starts with them imported. The forked kernel becomes
an IPython kernel exactly as ``python -m ipykernel_launcher`` would, in the
notebook's folder and environment, its random generators reseeded; its parent
is the template, so it ends when the template does.

The provisioner is registered under the ``jupyter_client.kernel_provisioners``
entry point as ``detainers-forking-provisioner`` and chosen through the kernel
spec (:class:`ForkingKernelSpecManager`), so the notebook's own kernel spec is
honoured. It starts a kernel from scratch, as :class:`LocalProvisioner` does,
when it cannot fork: forking turned off (``DETAINERS_FORK_KERNELS=0``), a
kernel spec that does not start this interpreter's ``ipykernel_launcher``, or
a system without ``os.fork`` and process file descriptors (Linux). It logs the
reason once per process; the local pool's workers send it to the runner, which
says it once for the whole batch. Every kernel it starts, forked or not, runs
with the same fixed hash seed (:data:`HASH_SEED`), so set and dict ordering cannot
differ between them.

What a library reads once, as it is imported, a forked kernel has from the
template: a ``matplotlibrc`` in the notebook's own folder (matplotlib reads
the working folder's as it is imported) is not read by a forked kernel, while
one under ``MPLCONFIGDIR`` is (the template has the same environment). The
studies set every chart setting they use, so no output depends on either; a
notebook of one's own that needs its folder's ``matplotlibrc`` runs with
forking turned off.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.provisioning import LocalProvisioner

from analysis.pipeline.template import PARENT_ENV

#: The provisioner's name under the ``jupyter_client.kernel_provisioners`` entry point.
PROVISIONER = "detainers-forking-provisioner"
#: The setting that turns forking off: kernels then start from scratch.
FORK_SETTING = "DETAINERS_FORK_KERNELS"
#: The hash seed of every kernel the package starts (and of the kernels nbval starts, set by ``make test``).
HASH_SEED = "0"
#: The template process, run as ``python -m``.
TEMPLATE = "analysis.pipeline.template"

log = logging.getLogger(__name__)
_logged: set[str] = set()


def _log_once(reason: str) -> None:
    if reason not in _logged:
        _logged.add(reason)
        log.warning("kernels start from scratch, not forked from a template: %s", reason)


def forking_enabled() -> bool:
    """Whether the setting :data:`FORK_SETTING` allows forking (it does unless set to 0, false, no or off)."""
    return os.environ.get(FORK_SETTING, "1").strip().lower() not in ("0", "false", "no", "off")


def why_not_fork(command: list[str]) -> str | None:
    """Why a kernel started by ``command`` cannot be forked from the template here (``None``: it can)."""
    if not forking_enabled():
        return f"forking is turned off ({FORK_SETTING}={os.environ[FORK_SETTING]})"
    if not (hasattr(os, "fork") and hasattr(os, "pidfd_open")):
        return "this system has no os.fork and process file descriptors (Linux has both)"
    # What: the same interpreter however its path is spelled (``notebooks/../.venv/bin/python`` is the venv's).
    same = command[:1] and os.path.abspath(command[0]) == os.path.abspath(sys.executable)
    if not same or command[1:3] != ["-m", "ipykernel_launcher"]:
        return f"the kernel spec starts {' '.join(command[:3])!r}, not {sys.executable} -m ipykernel_launcher"
    return None


class TemplateError(RuntimeError):
    """The template did not answer as it should (it ended, or could not fork)."""


class Template:
    """A running template process of this process, and the requests it answers (one at a time)."""

    def __init__(self) -> None:
        environment = {**os.environ, "PYTHONHASHSEED": HASH_SEED, PARENT_ENV: str(os.getpid())}
        self.process = subprocess.Popen(
            [sys.executable, "-m", TEMPLATE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=environment,
            cwd=tempfile.gettempdir(),  # what: a folder that outlives any run; each kernel moves to its own
        )
        self.lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, request: dict[str, object]) -> dict[str, Any]:
        """Send one request; return the template's answer.

        Raises
        ------
        TemplateError
            When the template ended, or answered with an error.
        """
        with self.lock:
            assert self.process.stdin is not None and self.process.stdout is not None
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                line = self.process.stdout.readline()
            except OSError as error:
                raise TemplateError(f"the template ended ({error})") from None
        if not line:
            raise TemplateError("the template ended")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise TemplateError(str(answer["error"]))
        return answer

    def fork(self, arguments: list[str], cwd: str, environment: dict[str, str]) -> ForkedKernel:
        """A kernel forked from the template (the first waits for the template's imports).

        Raises
        ------
        TemplateError
            When the template ended or could not fork.
        OSError
            When the forked kernel cannot be watched (it is killed).
        """
        answer = self.ask({"fork": {"arguments": arguments, "cwd": cwd, "environment": environment}})
        return ForkedKernel(int(answer["pid"]), self)

    def exit_status(self, pid: int) -> int | None:
        """How a kernel the template forked ended: its exit code, or minus the signal that ended it."""
        try:
            status = self.ask({"status": pid}).get("status")
        except TemplateError:
            return None
        return None if status is None else int(status)

    def close(self) -> None:
        """End the template (it ends when its input closes), collect it, and close its answers' pipe."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


_template: Template | None = None
_template_lock = threading.Lock()


def template() -> Template:
    """This process's template, started when first needed (and again if it ended); it ends with this process."""
    global _template
    with _template_lock:
        if _template is None or not _template.alive():
            _template = Template()
            atexit.register(_template.close)
        return _template


def start_template() -> None:
    """Start this process's template now, so that its imports overlap whatever the process does next."""
    if forking_enabled() and hasattr(os, "pidfd_open"):
        template()


class ForkedKernel:
    """A kernel the template forked: watched and signalled through a process file descriptor (Linux).

    A process file descriptor cannot reach another process that later gets the
    same id. The kernel's exit status is the template's (its parent's) to
    collect; it is asked for once the kernel has ended.
    """

    def __init__(self, pid: int, parent: Template) -> None:
        self.pid, self.parent = pid, parent
        self.ended = False
        self.exit_status: int | None = None
        self._lock = threading.Lock()
        try:
            self._handle = os.pidfd_open(pid)
        except OSError:
            os.kill(pid, signal.SIGKILL)  # what: a kernel that cannot be watched is not left running
            raise
        self._watch = select.poll()
        self._watch.register(self._handle, select.POLLIN)

    def poll(self, timeout_ms: int = 0) -> bool:
        """Whether the kernel has ended (waiting up to ``timeout_ms``); records its exit status when it has."""
        with self._lock:
            if not self.ended and self._watch.poll(timeout_ms):
                self.ended = True
                os.close(self._handle)
                self.exit_status = self.parent.exit_status(self.pid)
            return self.ended

    def send_signal(self, signum: int) -> None:
        """Signal the kernel's process group (the kernel leads a session of its own), while the kernel runs.

        Whether it runs is asked of its process file descriptor first: an id is
        free for another process only once the kernel has ended, which the
        descriptor says; what is left is the moment between that answer and the
        signal, in which the kernel would have to end and the template reap it.
        """
        if self.poll():
            return
        with self._lock:
            if self.ended:
                return
            try:
                os.killpg(self.pid, signum)
            except OSError:
                signal.pidfd_send_signal(self._handle, signum)


class ForkingProvisioner(LocalProvisioner):
    """Start kernels forked from this process's template; from scratch, as LocalProvisioner does, when that cannot be.

    ``exit_status`` is how the kernel ended (its exit code, or minus the signal
    that ended it), once known; ``forked`` whether it was forked.
    """

    forked: ForkedKernel | None = None
    exit_status: int | None = None

    @property
    def has_process(self) -> bool:
        return self.forked is not None or bool(super().has_process)

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = await super().pre_launch(**kwargs)
        kwargs["env"]["PYTHONHASHSEED"] = HASH_SEED
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        reason = why_not_fork(cmd)
        if reason is None:
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                self.forked = template().fork(cmd[3:], cwd, dict(kwargs["env"]))
            except (OSError, TemplateError, ValueError) as error:
                reason = f"the template could not fork a kernel ({error})"
        if reason is not None:
            _log_once(reason)
            return await super().launch_kernel(cmd, **kwargs)
        assert self.forked is not None
        self.pid = self.pgid = self.forked.pid
        self.cwd = cwd
        return self.connection_info

    def _record(self, status: int | None) -> int | None:
        if status is not None and self.exit_status is None:
            self.exit_status = status
        return status

    async def poll(self) -> int | None:
        if self.forked is None:
            return self._record(await super().poll())
        if not self.forked.poll():
            return None
        return self._record(self.forked.exit_status if self.forked.exit_status is not None else 0)

    async def wait(self) -> int | None:
        if self.forked is None:
            return self._record(await super().wait())
        while await self.poll() is None:
            await asyncio.sleep(0.05)
        self.forked = None  # what: as LocalProvisioner forgets its process, so has_process turns false
        return self.exit_status

    async def send_signal(self, signum: int) -> None:
        if self.forked is None:
            await super().send_signal(signum)
        else:
            self.forked.send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        if self.forked is None:
            await super().kill(restart)
        else:
            self.forked.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        if self.forked is None:
            await super().terminate(restart)
        else:
            self.forked.send_signal(signal.SIGTERM)


class ForkingKernelSpecManager(KernelSpecManager):
    """Kernel specs as installed, with :class:`ForkingProvisioner` for those that name no provisioner of their own."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = super().get_kernel_spec(kernel_name)
        spec.metadata.setdefault("kernel_provisioner", {"provisioner_name": PROVISIONER})
        return spec
