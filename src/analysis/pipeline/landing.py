"""The report's landing page, ``reports/index.html``, rendered from a Jinja template.

A single static page that opens from the file system with no server and no
network: the headline of each run of the plan's own [[run]] entries (asked of
the run's study), the claims check, every run in one table that a reader can
filter and sort (a small inline script, allowed by its hash), and the sources.
Figures stay on the runs' own pages, so the page stays small for a thousand
runs. The template escapes every string, so nothing from the data becomes markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from analysis import studies
from analysis.data.load import Dataset
from analysis.errors import AnalysisError
from analysis.paths import FULL_HTML, NOTEBOOK, READER_HTML
from analysis.pipeline.pages import content_security_policy
from analysis.pipeline.runplan import RUNNER_PARAMETERS, Run
from analysis.studies.tables import CELL_CSS, HEADER_CSS, TABLE_CSS

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RunEntry:
    """What the landing page shows of one run."""

    name: str
    title: str
    headline: str
    agency: str
    notebook: str
    parameters: str
    pages: dict[str, str]
    from_grid: bool


def heading(run: Run, dataset: Dataset) -> tuple[str, str] | None:
    """The title and headline of the run's study (``None`` when it has none, or its parameters do not fit)."""
    if not run.study:
        return None
    settings = {k: v for k, v in run.settings.items() if k not in RUNNER_PARAMETERS}
    try:
        study = studies.build(run.study, dataset, settings)
    except AnalysisError:
        return None  # the run's own page says what is wrong with its parameters
    return study.title, study.headline


def headings(runs: Sequence[Run], dataset: Dataset) -> dict[str, tuple[str, str] | None]:
    """:func:`heading` of each run, by run name (worked out while the runs execute: it needs only the data)."""
    return {run.name: heading(run, dataset) for run in runs}


def _entry(run: Run, dataset: Dataset, succeeded: bool, known: Mapping[str, tuple[str, str] | None]) -> RunEntry:
    """The run's study's title and headline (a run that failed or has no study shows its name)."""
    title, headline = run.name, ""
    if succeeded:
        found = known[run.name] if run.name in known else heading(run, dataset)
        title, headline = found or (title, headline)
    pages = {"report": run.name + READER_HTML, "with code": run.name + FULL_HTML, "notebook": run.name + NOTEBOOK}
    parameters = ", ".join(f"{k} = {v}" for k, v in run.parameters.items()) or "defaults"
    agency = str(run.parameters.get("agency", ""))
    return RunEntry(run.name, title, headline, agency, run.notebook.name, parameters, pages, bool(run.grid))


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )


def build_index(
    dataset: Dataset,
    runs: Sequence[Run],
    merged: Mapping[str, object],
    reports_dir: Path,
    known: Mapping[str, tuple[str, str] | None] | None = None,
) -> str:
    """The landing page as HTML text (deterministic: no dates or paths of the machine).

    Parameters
    ----------
    dataset
        The validated dataset the runs were executed on.
    runs
        The runs of the plan, checked (so each knows its study and defaults).
    merged
        Every successful run's numbers, keyed by run name.
    reports_dir
        The reports folder the page is written to.
    known
        The runs' :func:`headings`, when already worked out.
    """
    entries = [_entry(run, dataset, run.name in merged, known or {}) for run in runs]
    script = (TEMPLATES / "runs-table.js").read_text(encoding="utf-8")
    claims = studies.build("claims", dataset, {})
    return (
        _environment()
        .get_template("landing.html.j2")
        .render(
            content_security_policy=content_security_policy([script]),
            script=Markup(script),
            extent=dataset.extent(),
            agencies=sorted(set(dataset.requests["agency"])),
            runs=entries,
            claims=claims.tables()["claims"],
            sources=dataset.sources.to_dict("records"),
            # What: the package's own style rules, not data: placed in the style sheet as they are.
            css={"table": Markup(TABLE_CSS), "cell": Markup(CELL_CSS), "header": Markup(HEADER_CSS)},
        )
    )
