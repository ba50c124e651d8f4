"""The Dask executor: runs on a Dask distributed cluster whose workers do not share the runner's disk.

Each task carries its notebook and the data files as bytes, executes in a
temporary folder on the worker exactly as a local run does, and returns every
file it made as bytes; they are written into the run's staging folder here,
so the batch installs them as it installs a local run's, and a failed or lost
task never leaves half a run.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analysis import paths as layout
from analysis.errors import ReportError, UsageError
from analysis.pipeline.jobs import FAILED_NOTEBOOK, Job, Outcome

#: Data files a run reads (the three tables).
DATA_FILES = (layout.REQUESTS_FILE, layout.SOURCES_FILE, layout.CLAIMS_FILE)
#: Seconds to wait for the scheduler to answer, unless told otherwise.
CONNECT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Packed:
    """A job with its inputs as bytes: the notebook, and the files of its data folder."""

    job: Job
    notebook: bytes
    data: dict[str, bytes]


def pack(job: Job, data_dir: Path) -> Packed:
    """``job`` ready to travel: its notebook's bytes and its data folder's files."""
    files = {name: (data_dir / name).read_bytes() for name in DATA_FILES if (data_dir / name).is_file()}
    return Packed(job, job.run.notebook.read_bytes(), files)


#: Held while a worker executes a run: papermill runs a notebook in its folder by changing the working folder of the
#: whole process, so the threads of a worker started with more than one (Dask's default) take turns.
_ONE_RUN_AT_A_TIME = threading.Lock()


def execute_packed(packed: Packed) -> tuple[Outcome, dict[str, bytes]]:
    """Execute a packed job in a temporary folder (on a worker); return how it ended and every file it made.

    The files are keyed by their path in the job's staging folder; a failed
    run returns its executed notebook under ``failed.ipynb`` only. A worker
    executes one run at a time, whatever its number of threads.
    """
    from analysis.pipeline.execute import execute  # what: on the worker; the runner does not need papermill for this

    with _ONE_RUN_AT_A_TIME, tempfile.TemporaryDirectory(prefix="detainers-task-") as folder:
        root = Path(folder)
        notebook = root / "notebooks" / packed.job.run.notebook.name
        notebook.parent.mkdir()
        notebook.write_bytes(packed.notebook)
        data = root / "data"
        data.mkdir()
        for name, content in packed.data.items():
            (data / name).write_bytes(content)
        job = replace(
            packed.job,
            run=replace(packed.job.run, notebook=notebook),
            staging=root / "staging",
            read_data_from=str(data),
        )
        outcome = execute(job)
        files = {str(p.relative_to(job.staging)): p.read_bytes() for p in job.staging.rglob("*") if p.is_file()}
        if FAILED_NOTEBOOK in files:
            files = {FAILED_NOTEBOOK: files[FAILED_NOTEBOOK]}
        return outcome, files


def unpack(files: dict[str, bytes], staging: Path) -> None:
    """Write a task's files where a local run would have left them, in its staging folder."""
    from analysis.files import write_bytes_atomic

    for name, content in files.items():
        write_bytes_atomic(staging / name, content)


def _prepare_execution() -> None:
    """Import what executing a run needs, and render a small page (see :func:`analysis.pipeline.execute.prepare`)."""
    from analysis.pipeline.execute import prepare  # what: on the worker, in the background

    prepare()


def _prepare_worker() -> None:
    """On a worker, as a batch starts: start the kernel template, import what executing a run needs and warm the
    HTML exporters.

    Both go on in the background, so the worker keeps serving the scheduler meanwhile.
    """
    from analysis.pipeline.provisioner import start_template

    threading.Thread(target=start_template, daemon=True).start()
    threading.Thread(target=_prepare_execution, daemon=True).start()


async def _answers(address: str, timeout: float) -> None:
    """Connect to ``address`` and exchange Dask's handshake, all within ``timeout`` seconds.

    ``distributed.comm.connect`` bounds the connection but not the handshake:
    a server that accepts connections and never answers would hold it (and
    the ``Client`` built on it) for ever, so the whole exchange has a deadline.

    Raises
    ------
    TimeoutError, OSError
        When nothing answered in time, or the connection failed.
    ValueError, TypeError
        When Dask cannot connect to such an address at all (no TLS configured for ``tls://``, a host name it
        cannot encode).
    """
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
    await comm.close()


#: The schemes of a Dask scheduler's address.
SCHEMES = ("tcp", "tls", "ws", "wss")


def check_address(address: str) -> None:
    """Check a scheduler address before connecting to it: ``SCHEME://HOST:PORT``.

    Raises
    ------
    UsageError
        Naming the address and the form it must have.
    """
    from urllib.parse import urlsplit

    form = f"write it as tcp://HOST:PORT ({', '.join(SCHEMES)} as the scheme; e.g. tcp://127.0.0.1:8786)"
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        port, parts = None, None
    # What: the scheme as written (urlsplit lowers it, Dask does not), plain ASCII with no space (urlsplit strips
    # it, and a host Dask cannot encode), and nothing past the port: Dask reads no query, fragment or user.
    written = address.partition("://")[0]
    plain = address.isascii() and address.isprintable() and " " not in address
    extra = parts is not None and (parts.path or parts.username is not None or "?" in address or "#" in address)
    if parts is None or written not in SCHEMES or not plain or not parts.hostname or port is None or extra:
        raise UsageError(f"--scheduler {address!r}: not a Dask scheduler address; {form}")
    if not _is_host(parts.hostname):
        raise UsageError(
            f"--scheduler {address!r}: {parts.hostname!r} is neither an IP address nor a host name (labels of "
            "letters, digits and inner hyphens, 1 to 63 characters each, the last not all digits); " + form
        )


def _is_host(host: str) -> bool:
    """Whether ``host`` is an IP address or a host name as RFC 1123 (section 2.1) allows one; an underscore is let
    through, as container and service names use it."""
    import ipaddress
    import re

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    label = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
    return len(host) <= 253 and all(label.fullmatch(part) for part in labels) and not labels[-1].isdigit()


class DaskCluster:
    """Runs executed by the workers of the Dask scheduler at ``address`` (a batch's executor).

    Raises
    ------
    UsageError
        When ``address`` is not written ``SCHEME://HOST:PORT``.
    ReportError
        When no scheduler answers at ``address`` within ``timeout`` seconds.
    """

    def __init__(self, address: str, data_dir: Path, timeout: float = CONNECT_TIMEOUT) -> None:
        check_address(address)
        from distributed import Client

        try:
            asyncio.run(_answers(address, timeout))
            self.client = Client(address, timeout=timeout)
        # What: Dask's own refusals too: a TLS address with no TLS configured (TypeError), a host name the IDNA
        # codec cannot encode (UnicodeError, a ValueError), an address its parser cannot split (ValueError).
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            why = " ".join(str(error).split()) or f"nothing answered within {timeout:g} s"
            raise ReportError(f"--scheduler {address}: no Dask scheduler answered ({why})") from None
        self.data_dir = data_dir
        self.workers = len(self.client.nthreads())
        self.where = f"on the Dask cluster at {address}"
        self.pending: dict[Any, Job] = {}
        self.finished: Any = None  # what: the wait loop's own as_completed, once it runs
        self.stage: Callable[[str, str], None] = lambda name, what: None
        self.client.run(_prepare_worker)

    def submit(self, job: Job) -> None:
        future = self.client.submit(execute_packed, pack(job, self.data_dir), pure=False)
        self.pending[future] = job
        if self.finished is not None:  # what: submitted as an earlier run finished: waited for in the same loop
            self.finished.add(future)
            self.stage(job.run.name, "executing")

    def completed(self, stage: Callable[[str, str], None]) -> Iterator[Outcome]:
        from distributed import as_completed

        self.stage = stage
        for job in self.pending.values():
            stage(job.run.name, "executing")
        self.finished = as_completed(list(self.pending))
        for future in self.finished:
            job = self.pending.pop(future)
            try:
                outcome, files = future.result()
            except Exception as error:  # what: a lost worker or a task that could not run is a failed run
                message = f"run {job.run.name} was lost on the cluster: {error!r}"
                outcome, files = Outcome(job.run.name, False, 0.0, message), {}
            unpack(files, job.staging)
            yield outcome

    def cancel(self) -> None:
        """Cancel the tasks not done."""
        if self.client.status not in ("closing", "closed"):
            self.client.cancel(list(self.pending))
        self.pending.clear()

    def close(self) -> None:
        """Leave the cluster (once; later calls do nothing)."""
        if self.client.status not in ("closing", "closed"):
            self.client.close()
