"""Executing one run of a notebook with papermill in a worker process, and rendering it as HTML.

A run executes into a staging folder; only :mod:`analysis.pipeline.runner` moves its
files into place, and only after it succeeded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from papermill.exceptions import PapermillExecutionError

from analysis.files import write_text_atomic
from analysis.paths import FULL_HTML, READER_HTML
from analysis.pipeline.jobs import FAILED_NOTEBOOK, Job, Outcome
from analysis.pipeline.kernels import KERNEL, start_ahead, take
from analysis.pipeline.normalize import normalize
from analysis.pipeline.pages import CONTENT_SECURITY_POLICY

#: Kernel start attempts before a run is given up (a start can fail under load).
START_ATTEMPTS = 2


def _failure(job: Job, error: PapermillExecutionError, parameters: dict[str, object]) -> str:
    """Keep the failed notebook for inspection and describe where it failed."""
    staged = job.staging / "notebook.ipynb"
    if staged.is_file():
        notebook = normalize(nbformat.read(staged, as_version=4), parameters)
        write_text_atomic(job.staging / FAILED_NOTEBOOK, nbformat.writes(notebook) + "\n")
    first_line = next((line for line in error.source.splitlines() if line.strip()), "")
    return (
        f"run {job.run.name} ({job.run.notebook.name}) failed in cell {error.cell_index + 1} "
        f"(`{first_line.strip()}`): {error.ename}: {error.evalue}; "
        f"the executed notebook is kept as {job.failed_path}"
    )


def _execute(job: Job, parameters: dict[str, object]) -> None:
    folder = str(job.run.notebook.parent)
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            pm.execute_notebook(
                str(job.run.notebook),
                str(job.staging / "notebook.ipynb"),
                parameters=parameters,
                kernel_name=KERNEL,
                progress_bar=False,
                cwd=folder,
                # What: the kernel started ahead of this run when it is ready, else a new one.
                kernel_manager_class=take(folder),
                # What: the notebook is written once, when it ends (or fails), not after every cell; and the
                # kernel, whose outputs are all in by then, is stopped rather than asked to tear itself down.
                request_save_on_cell_execute=False,
                shutdown_kernel="immediate",
            )
            return
        except (RuntimeError, TimeoutError):  # the kernel did not start or died
            if attempt == START_ATTEMPTS:
                raise
        finally:
            if job.start_next:
                start_ahead()  # what: the next run's kernel starts while this one is rendered


#: nbconvert templates of the package (the offline variant of JupyterLab's look).
TEMPLATES = Path(__file__).parent / "templates"
#: Cells tagged so are for reviewers (how the data are loaded and checked): the page for readers leaves them out.
REVIEWERS_ONLY = "preparation"


def render_html(notebook: nbformat.NotebookNode, title: str) -> dict[str, str]:
    """Render ``notebook`` as self-contained HTML that needs no network, with and without its code.

    Returns
    -------
    dict
        The page for readers under :data:`READER_HTML` (code, prompts and the
        cells tagged :data:`REVIEWERS_ONLY` left out), the full page under :data:`FULL_HTML`.
    """
    pages = {}
    for suffix, hidden in ((READER_HTML, True), (FULL_HTML, False)):
        exporter = HTMLExporter(
            template_name="offline",
            extra_template_basedirs=[str(TEMPLATES)],
            exclude_input=hidden,
            exclude_input_prompt=hidden,
            exclude_output_prompt=hidden,
        )
        if hidden:
            exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={REVIEWERS_ONLY}), enabled=True)
        resources = {"metadata": {"name": title}, "content_security_policy": CONTENT_SECURITY_POLICY}
        pages[suffix], _ = exporter.from_notebook_node(notebook, resources)
    return pages


_status: Any = None


def report_to(queue: Any) -> None:
    """Send ``(run name, what it is doing)`` messages of this worker process to ``queue``."""
    global _status
    _status = queue


def execute(job: Job) -> Outcome:
    """Execute ``job`` into its staging folder and render it as HTML.

    Progress goes to the queue given to :func:`report_to`, if any.
    """

    def report(stage: str) -> None:
        if _status is not None:
            _status.put((job.run.name, stage))

    start = time.monotonic()
    figures = job.staging / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    recorded = {**job.run.parameters, "data_dir": job.data_dir, "output_dir": job.output_dir}
    report("executing")
    try:
        _execute(job, {**recorded, "data_dir": job.read_data_from or job.data_dir, "output_dir": str(figures)})
    except PapermillExecutionError as error:
        return Outcome(job.run.name, False, time.monotonic() - start, _failure(job, error, recorded))
    report("rendering HTML")
    staged = job.staging / "notebook.ipynb"
    notebook = normalize(nbformat.read(staged, as_version=4), recorded)
    write_text_atomic(staged, nbformat.writes(notebook) + "\n")
    for suffix, html in render_html(notebook, job.run.name).items():
        write_text_atomic(job.staging / f"notebook{suffix}", html)
    return Outcome(job.run.name, True, time.monotonic() - start)
