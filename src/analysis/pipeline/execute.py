"""Executing one run of a notebook with papermill in a worker process, and rendering it as HTML.

A run executes into a staging folder; only :mod:`analysis.pipeline.runner` moves its
files into place, and only after it succeeded.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from papermill.exceptions import PapermillExecutionError

from analysis.data.source import lists_nothing
from analysis.files import write_text_atomic
from analysis.paths import CORRECTIONS_FILE, FULL_HTML, READER_HTML, resolve
from analysis.pipeline.about import about, corrections_of, described
from analysis.pipeline.engine import ENGINE
from analysis.pipeline.jobs import FAILED_NOTEBOOK, Job, Outcome
from analysis.pipeline.normalize import normalize
from analysis.pipeline.pages import CONTENT_SECURITY_POLICY


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
    """Execute the run's notebook with the package's engine, in the notebook's folder, its own kernel spec."""
    pm.execute_notebook(
        str(job.run.notebook),
        str(job.staging / "notebook.ipynb"),
        parameters=parameters,
        engine_name=ENGINE,
        progress_bar=False,
        cwd=str(job.run.notebook.parent),
        # What: the notebook is written once, when it ends (or fails), not after every cell.
        request_save_on_cell_execute=False,
        shutdown_kernel="immediate",
    )


#: nbconvert templates of the package (the offline variant of JupyterLab's look).
TEMPLATES = Path(__file__).parent / "templates"
#: Cells tagged so are for reviewers (how the data are loaded and checked, where the files go): the page for
#: readers leaves them out.
REVIEWERS_ONLY = frozenset({"preparation", "output"})


@functools.cache
def _exporter(hidden: bool) -> HTMLExporter:
    """The exporter of the reader page (``hidden``: no code) or of the full page, made once per process.

    Making one compiles its Jinja templates (about half a second); rendering with it again does not.
    """
    exporter = HTMLExporter(
        template_name="offline",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=hidden,
        exclude_input_prompt=hidden,
        exclude_output_prompt=hidden,
        # What: the notebook is checked against its schema once, after the preprocessors, not after each of them
        # (a dozen times a page).
        optimistic_validation=True,
    )
    if hidden:
        exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(REVIEWERS_ONLY)), enabled=True)
    return exporter


def prepare() -> None:
    """Render a small notebook now, so that the first run renders at once: the first page an exporter renders
    compiles its templates and loads the Markdown and code highlighters (over half a second)."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# A *page*"), nbformat.v4.new_code_cell("print(1)")]
    )
    render_html(notebook, "prepared")


def render_html(notebook: nbformat.NotebookNode, title: str, about: dict[str, Any] | None = None) -> dict[str, str]:
    """Render ``notebook`` as self-contained HTML that needs no network, with and without its code, under the
    browser title ``title``, ending with what ``about`` says of the numbers (see :func:`analysis.pipeline.about.about`).

    Returns
    -------
    dict
        The page for readers under :data:`READER_HTML` (code, prompts and the
        cells tagged :data:`REVIEWERS_ONLY` left out), the full page under :data:`FULL_HTML`.
    """
    pages = {}
    for suffix, hidden in ((READER_HTML, True), (FULL_HTML, False)):
        resources = {"metadata": {"name": title}, "content_security_policy": CONTENT_SECURITY_POLICY, "about": about}
        pages[suffix], _ = _exporter(hidden).from_notebook_node(notebook, resources)
    return pages


def _page_title(figures: Path, run: str) -> str:
    """The browser tab's title of a run's pages: the title the run gave itself in its description, else its name."""
    title = described(figures).get("title")
    return title if isinstance(title, str) and title.strip() else run


_status: Any = None


def _corrections(job: Job) -> list[dict[str, str]]:
    """The corrections of the run's numbers in the ledger of its data (see
    :func:`analysis.pipeline.about.corrections_of`). A ledger that lists nothing (the usual case) is not read with
    pandas: a worker that never needs pandas does not import it."""
    data_dir = job.read_data_from or job.data_dir
    if lists_nothing(resolve(data_dir) / CORRECTIONS_FILE):
        return []
    from analysis.data.load import load_corrections

    return corrections_of(load_corrections(data_dir), job.run.name)


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
    except Exception as error:  # what: no kernel could start (after its retry), or the notebook could not be read
        message = f"run {job.run.name} ({job.run.notebook.name}) could not execute: {type(error).__name__}: {error}"
        return Outcome(job.run.name, False, time.monotonic() - start, message)
    report("rendering HTML")
    staged = job.staging / "notebook.ipynb"
    notebook = normalize(nbformat.read(staged, as_version=4), recorded)
    write_text_atomic(staged, nbformat.writes(notebook) + "\n")
    corrections = _corrections(job)
    pages = render_html(notebook, _page_title(figures, job.run.name), about(figures, job.run.name, corrections))
    for suffix, html in pages.items():
        write_text_atomic(job.staging / f"notebook{suffix}", html)
    return Outcome(job.run.name, True, time.monotonic() - start)
