"""Kernels forked from a template and started ahead of their run: the same executed notebook as a kernel started
from scratch, and none left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm
from jupyter_client.manager import AsyncKernelManager

from analysis.paths import NOTEBOOKS_DIR, RAW_DIR
from analysis.pipeline import kernels
from analysis.pipeline.normalize import normalize

NOTEBOOK = NOTEBOOKS_DIR / "02-growth.ipynb"


class FromScratch(kernels.IPCKernelManager):
    """A kernel started as jupyter_client starts one: a new interpreter that imports everything itself."""

    _async_launch_kernel = AsyncKernelManager._async_launch_kernel


def _processes() -> dict[int, tuple[int, bytes]]:
    """Each running process's parent and command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                found[int(entry.name)] = (parent, (entry / "cmdline").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    return found


def _templates() -> set[int]:
    """Kernel templates: processes running the template module whose parent is not one."""
    running = _processes()
    named = {pid for pid, (_, command) in running.items() if kernels.TEMPLATE.encode() in command}
    return {pid for pid in named if running[pid][0] not in named}


def _kernels_running() -> set[int]:
    """IPython kernels: started from scratch, or forked by a template (whose command line they keep)."""
    running = _processes()
    named = {pid for pid, (_, command) in running.items() if kernels.TEMPLATE.encode() in command}
    return {pid for pid, (parent, command) in running.items() if b"ipykernel_launcher" in command or parent in named}


def _executed(tmp_path: Path, name: str, manager_class: type) -> nbformat.NotebookNode:
    output = tmp_path / name
    output.mkdir()
    parameters = {"data_dir": str(RAW_DIR), "output_dir": str(output)}
    pm.execute_notebook(
        str(NOTEBOOK),
        str(output / "notebook.ipynb"),
        parameters=parameters,
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
        kernel_manager_class=manager_class,
        shutdown_kernel="immediate",
    )
    notebook = normalize(nbformat.read(output / "notebook.ipynb", as_version=4), {"data_dir": "d", "output_dir": "o"})
    return notebook


def test_forked_kernels_execute_a_notebook_as_a_kernel_started_from_scratch_does(tmp_path: Path) -> None:
    before = _kernels_running()
    kernels.start_ahead()  # in the temporary folder: the run moves it to the notebook's own
    handed = kernels.take(str(NOTEBOOKS_DIR))
    assert handed is not kernels.IPCKernelManager, "the kernel started ahead was ready"
    ahead = _executed(tmp_path, "ahead", handed)
    forked = _executed(tmp_path, "forked", kernels.IPCKernelManager)
    cold = _executed(tmp_path, "cold", FromScratch)
    assert [c.get("execution_count") for c in ahead.cells] == [c.get("execution_count") for c in cold.cells]
    assert ahead.cells[1].get("execution_count") == 1, "the warm-up counts no execution"
    assert nbformat.writes(ahead) == nbformat.writes(forked) == nbformat.writes(cold)
    deadline = time.monotonic() + 10
    while _kernels_running() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _kernels_running() - before, "each kernel ends with its run"


def test_a_kernel_started_ahead_that_no_run_takes_ends_with_its_worker(tmp_path: Path) -> None:
    before = _kernels_running() | _templates()
    script = (
        "import time\n"
        "from analysis.pipeline.pool import start_pool\n"
        "if __name__ == '__main__':\n"
        "    pool = start_pool(2)\n"
        "    time.sleep(3)\n"
        "    pool.shutdown()\n"
    )
    (tmp_path / "pool.py").write_text(script)
    subprocess.run([sys.executable, str(tmp_path / "pool.py")], cwd=tmp_path, check=True, env=os.environ.copy())
    deadline = time.monotonic() + 10
    while (_kernels_running() | _templates()) - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (_kernels_running() | _templates()) - before, "no kernel, and no template, outlives its pool"
