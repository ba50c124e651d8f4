"""Kernels forked from a template by the package's provisioner: really forked, clean, the same notebook as a kernel
started from scratch, a fallback that says why, and nothing left behind."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_core.utils import run_sync

from analysis.errors import TemporaryFolderError
from analysis.paths import KERNEL_FOLDER_PREFIX, NOTEBOOKS_DIR, RAW_DIR
from analysis.pipeline import kernel_files, kernelspec, provisioner
from analysis.pipeline.engine import ENGINE, kernel_manager
from analysis.pipeline.kernel_files import KernelFolder, sweep
from analysis.pipeline.normalize import normalize
from processes import alive, descendants

NOTEBOOK = NOTEBOOKS_DIR / "02-growth.ipynb"
#: Run in a kernel: prints its open descriptors and what each refers to (one closed while listing is left out).
FDS = """
import json, os
held = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        held[fd] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pass
print(json.dumps(held))
"""


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def kernel() -> Iterator:
    """Start a kernel as the engine does; yield a function that runs code in it and returns what it printed."""
    managers, folders = [], []

    def start(**environment: str):
        folder = KernelFolder()
        folders.append(folder)
        manager = kernel_manager("python3", folder)
        run_sync(manager.start_kernel)(cwd=str(NOTEBOOKS_DIR), env={**os.environ, **environment})
        client = manager.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        managers.append((manager, client))

        def run(code: str) -> str:
            out: list[str] = []
            hook = lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None  # noqa: E731
            run_sync(client.execute_interactive)(code, output_hook=hook, timeout=60)
            return "".join(out)

        return manager, run

    yield start
    for manager, client in managers:
        client.stop_channels()
        run_sync(manager.shutdown_kernel)(now=True)
    for folder in folders:
        folder.remove()


def test_a_kernel_is_forked_from_the_template_and_keeps_nothing_of_it(kernel) -> None:
    manager, run = kernel()
    template = provisioner.template()
    assert manager.provisioner.forked is not None
    assert parent_of(manager.provisioner.pid) == template.pid, "the kernel's parent is the template"
    assert int(run("import os; print(os.getppid())")) == template.pid
    assert int(run("import os; print(os.environ['JPY_PARENT_PID'])")) == template.pid, "it watches its real parent"
    assert run("import os; print(os.getcwd())").strip() == str(NOTEBOOKS_DIR)

    # What: the template's request and answer pipes, and nothing else of it, stay out of the kernel.
    pipes = {os.readlink(f"/proc/{template.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{template.pid}/fd")}
    pipes = {link for link in pipes if link.startswith("pipe:")}
    held = json.loads(run(FDS))
    assert held["0"] == os.devnull
    assert not pipes & set(held.values()) - {held["1"], held["2"]}, "no pipe of the template but where errors go"


def test_kernels_share_the_hash_seed_and_not_their_random_numbers_and_forking_can_be_turned_off(
    kernel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code = "import random, numpy; print(hash('detainer'), random.random(), numpy.random.random())"
    forked, first = kernel()
    _, second = kernel()
    monkeypatch.setattr(provisioner, "_logged", set())
    with caplog.at_level(logging.WARNING, logger=provisioner.__name__):
        monkeypatch.setenv(provisioner.FORK_SETTING, "0")  # what: read where kernels are started, not in the kernel
        scratch, cold = kernel()
    assert forked.provisioner.forked is not None and scratch.provisioner.forked is None, "one of each"
    assert f"forking is turned off ({provisioner.FORK_SETTING}=0)" in caplog.text, "the setting is said"
    a, b, c = (run(code).split() for run in (first, second, cold))
    seeded = subprocess.run(
        [sys.executable, "-c", "print(hash('detainer'))"],
        env={**os.environ, "PYTHONHASHSEED": provisioner.HASH_SEED},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert a[0] == b[0] == c[0] == seeded[0], "one fixed hash seed, forked or not"
    assert a[1] != b[1], "each forked kernel draws its own random numbers (random)"
    assert a[2] != b[2], "each forked kernel draws its own random numbers (numpy's global generator)"


def test_a_fallback_to_starting_from_scratch_is_logged_once_with_its_reason(
    kernel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(provisioner, "_logged", set())
    monkeypatch.delattr(os, "pidfd_open")  # what: as on a system without process file descriptors
    with caplog.at_level(logging.WARNING, logger=provisioner.__name__):
        first, _ = kernel()
        second, run = kernel()
    assert first.provisioner.forked is None and second.provisioner.forked is None
    assert parent_of(second.provisioner.pid) == os.getpid(), "started from scratch, by this process"
    said = [r.getMessage() for r in caplog.records if "start from scratch" in r.getMessage()]
    assert said == [
        "kernels start from scratch, not forked from a template: "
        "this system has no os.fork and process file descriptors (Linux has both)"
    ]
    assert run("print(1 + 1)").strip() == "2"


def test_the_interpreter_is_recognised_however_its_path_is_spelled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Started as ``../.venv/bin/python`` from ``notebooks/``, the interpreter is still the kernel spec's."""
    monkeypatch.delenv(provisioner.FORK_SETTING, raising=False)
    spelled = str(Path(sys.executable).parent / ".." / "bin" / Path(sys.executable).name)
    monkeypatch.setattr(sys, "executable", spelled)
    assert provisioner.why_not_fork([os.path.abspath(spelled), "-m", "ipykernel_launcher", "-f", "x"]) is None
    other = provisioner.why_not_fork(["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "x"])
    assert other is not None and "the kernel spec starts '/usr/bin/python3 -m ipykernel_launcher'" in other


def test_a_fallback_every_worker_gives_is_said_once_a_batch(caplog: pytest.LogCaptureFixture) -> None:
    """Each pool worker logs a fallback once; the runner, which reads them all on the status queue, says it once."""
    import queue

    from analysis.pipeline import pool

    status: queue.Queue = queue.Queue()
    reason = f"forking is turned off ({provisioner.FORK_SETTING}=0)"
    for _ in range(2):  # what: as two workers give it
        worker = pool._Warnings(pool._Tagged(status))
        worker.emit(logging.LogRecord(provisioner.log.name, logging.WARNING, "", 0, "kernels: %s", (reason,), None))
    status.put(("run", "executing", 7))
    stages: list[tuple[str, str]] = []
    executing: dict[str, tuple[int, float]] = {}
    with caplog.at_level(logging.WARNING, logger=pool.log.name):
        pool._drain(status, lambda name, what: stages.append((name, what)), executing, set())
    assert [r.getMessage() for r in caplog.records] == [f"kernels: {reason}"]
    assert stages == [("run", "executing")] and executing["run"][0] == 7, "a run's stages still go to the runner"


def executed(tmp_path: Path, name: str) -> str:
    output = tmp_path / name
    output.mkdir()
    pm.execute_notebook(
        str(NOTEBOOK),
        str(output / "notebook.ipynb"),
        parameters={"data_dir": str(RAW_DIR), "output_dir": str(output)},
        engine_name=ENGINE,
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
    )
    notebook = normalize(nbformat.read(output / "notebook.ipynb", as_version=4), {"data_dir": "d", "output_dir": "o"})
    return nbformat.writes(notebook)


def test_forked_and_from_scratch_kernels_give_the_same_notebook(tmp_path: Path, monkeypatch) -> None:
    forked = executed(tmp_path, "forked")
    monkeypatch.setenv(provisioner.FORK_SETTING, "0")
    cold = executed(tmp_path, "cold")
    assert forked == cold


SCRIPT = """
import sys
from analysis.pipeline.pool import LocalPool
if __name__ == "__main__":
    pool = LocalPool(1)
    print("started", flush=True)
    sys.stdin.readline()
    pool.close()
"""


def test_templates_end_with_their_pool(tmp_path: Path) -> None:
    (tmp_path / "pool.py").write_text(SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(tmp_path / "pool.py")],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    assert process.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 30
    templates: set[tuple[int, int]] = set()
    while not templates and time.monotonic() < deadline:
        below = set(descendants(process.pid))
        templates = {p for p in below if provisioner.TEMPLATE.encode() in Path(f"/proc/{p[0]}/cmdline").read_bytes()}
        time.sleep(0.2)
    assert len(templates) == 1, "the pool's worker keeps a template"
    assert all(parent_of(pid) != process.pid for pid, _ in templates), "a template belongs to a worker"
    process.stdin.close()
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in below if alive(p)], "no worker, template or kernel outlives its pool"


def test_the_installed_kernel_spec_gives_any_jupyter_client_a_forked_kernel() -> None:
    """The spec ``make install`` puts in the environment (nbval in ``make test`` runs on it): a plain
    jupyter_client KernelManager, with the default spec manager, starts a kernel forked from the template."""
    installed = KernelSpecManager().get_kernel_spec(kernelspec.KERNEL_NAME)
    assert installed.argv[:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert installed.metadata["kernel_provisioner"]["provisioner_name"] == provisioner.PROVISIONER
    manager = KernelManager(kernel_name=kernelspec.KERNEL_NAME)
    manager.start_kernel(cwd=str(NOTEBOOKS_DIR))
    try:
        assert isinstance(manager.provisioner, provisioner.ForkingProvisioner)
        assert parent_of(manager.provisioner.pid) == provisioner.template().pid, "forked from the template"
    finally:
        manager.shutdown_kernel(now=True)


def test_a_kernel_folder_is_swept_once_no_process_holds_it(temporary: Path) -> None:
    """The folder of a kernel whose process ended without removing it (killed) goes; one still held, and one being
    made (no lock file yet), stay; one without a lock file a minute old (a kernel made it again as it ended) goes."""
    held = KernelFolder()
    code = "from analysis.pipeline.kernel_files import KernelFolder; print(KernelFolder().path)"
    orphan = Path(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    )
    making, made_again = temporary / f"{KERNEL_FOLDER_PREFIX}making", temporary / f"{KERNEL_FOLDER_PREFIX}again"
    making.mkdir()
    made_again.mkdir()
    (made_again / "kernel.json").write_text("{}")
    old = time.time() - kernel_files.UNLOCKED_GRACE - 1
    os.utime(made_again, (old, old))
    assert orphan.parent == temporary and (orphan / kernel_files.LOCK).is_file()
    assert sorted(sweep()) == sorted([orphan, made_again])
    assert held.path.is_dir() and making.is_dir() and not orphan.exists() and not made_again.exists()
    held.remove()
    assert not held.path.exists()


def test_a_temporary_folder_whose_path_is_not_utf8_is_refused() -> None:
    with pytest.raises(TemporaryFolderError, match="its path is not UTF-8 text"):
        kernel_files.check_room(os.fsdecode(b"/tmp/\xff"))
