"""The report's landing page, ``reports/index.html``, rendered from a Jinja template.

A single static page that opens from the file system with no server and no
network: the headline of each run of the plan's own [[run]] entries, the
claims check, every run in one table that a reader can filter and sort (a
small inline script, allowed by its hash), and the sources. What it shows of
a run comes from the description the run wrote (:data:`analysis.paths.RUN_DESCRIPTION`):
the page never executes a study. Figures stay on the runs' own pages, so the
page stays small for a thousand runs. The template escapes every string, so
nothing from the data becomes markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from analysis.data.load import Dataset
from analysis.files import write_text_streamed
from analysis.paths import FULL_HTML, NOTEBOOK, READER_HTML, ReportPaths
from analysis.pipeline.pages import content_security_policy
from analysis.pipeline.runplan import Run
from analysis.table_css import CELL_CSS, HEADER_CSS, TABLE_CSS

TEMPLATES = Path(__file__).parent / "templates"
#: The table of a run's description that the landing page shows as its claims check.
CLAIMS_TABLE = "claims"


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
    #: What the page says of the run's last execution: blank, or that it failed (its last good pages, if any, kept).
    status: str = ""


def _entry(run: Run, description: Mapping[str, Any] | None, folders: ReportPaths | None) -> RunEntry:
    """The run's title and headline from its description (a run without one, failed say, shows its name); its
    pages, those that exist only; and whether its last execution failed."""
    title, headline = run.name, ""
    if description is not None:
        title, headline = str(description.get("title", title)), str(description.get("headline", ""))
    # What: the notebook is a download (a browser would show its JSON), and says so.
    pages = {
        "report": run.name + READER_HTML,
        "with code": run.name + FULL_HTML,
        "notebook (.ipynb)": run.name + NOTEBOOK,
    }
    status = ""
    if folders is not None:
        pages = {label: href for label, href in pages.items() if (folders.reports_dir / href).is_file()}
        if folders.failed(run.name).is_file():
            status = "failed; the pages are from its last good run" if pages else "failed; no page yet"
    parameters = ", ".join(f"{k} = {v}" for k, v in run.parameters.items()) or "defaults"
    agency = str(run.parameters.get("agency", ""))
    entry = RunEntry(run.name, title, headline, agency, run.notebook.name, parameters, pages, bool(run.grid))
    return replace(entry, status=status)


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )


class _Entries:
    """The runs' entries for the template, made as it iterates over them (a plan of 100,000 runs never has all of
    its entries, or their descriptions, in memory at once); ``len`` is the number of runs."""

    def __init__(
        self, runs: Sequence[Run], describe: Callable[[Run], Mapping[str, Any] | None], folders: ReportPaths | None
    ) -> None:
        self.runs, self.describe, self.folders = runs, describe, folders

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[RunEntry]:
        return (_entry(run, self.describe(run), self.folders) for run in self.runs)


def _pieces(dataset: Dataset, entries: _Entries, claims: Sequence[Mapping[str, str]]) -> Iterator[str]:
    """The landing page's HTML, a piece at a time."""
    script = (TEMPLATES / "runs-table.js").read_text(encoding="utf-8")
    return (
        _environment()
        .get_template("landing.html.j2")
        .generate(
            content_security_policy=content_security_policy([script]),
            script=Markup(script),
            extent=dataset.extent(),
            agencies=sorted(set(dataset.requests["agency"])),
            runs=entries,
            claims=claims,
            sources=dataset.sources.to_dict("records"),
            # What: the package's own style rules, not data: placed in the style sheet as they are.
            css={"table": Markup(TABLE_CSS), "cell": Markup(CELL_CSS), "header": Markup(HEADER_CSS)},
        )
    )


def build_index(
    dataset: Dataset,
    runs: Sequence[Run],
    descriptions: Mapping[str, Mapping[str, Any]],
    folders: ReportPaths | None = None,
) -> str:
    """The landing page as HTML text (deterministic: no dates or paths of the machine).

    Parameters
    ----------
    dataset
        The validated dataset the runs were executed on (its extent, agencies and sources).
    runs
        The runs of the plan.
    descriptions
        The description each run wrote (title, headline, numbers, tables), keyed by run name; a run
        without one is listed by its name. The claims table is the first description's table named
        :data:`CLAIMS_TABLE`.
    folders
        Where the report is written: a run links only to the pages that exist there, and one whose last
        execution failed (its ``.failed.ipynb`` is there) is marked so. ``None``: every page is linked.
    """
    claims: list[dict[str, str]] = next(
        (d["tables"][CLAIMS_TABLE] for d in descriptions.values() if CLAIMS_TABLE in d.get("tables", {})), []
    )
    entries = _Entries(runs, lambda run: descriptions.get(run.name), folders)
    return "".join(_pieces(dataset, entries, claims))


def write_index(
    path: Path,
    dataset: Dataset,
    runs: Sequence[Run],
    describe: Callable[[Run], Mapping[str, Any] | None],
    claims: Sequence[Mapping[str, str]],
    folders: ReportPaths,
) -> None:
    """Write the landing page to ``path`` in one step, streamed: the page :func:`build_index` gives, with each
    run's description read by ``describe`` as its row is written (``None``: the run has none) and ``claims``
    the claims table."""
    entries = _Entries(runs, describe, folders)

    def write(text: IO[str]) -> None:
        for piece in _pieces(dataset, entries, claims):
            text.write(piece)

    write_text_streamed(path, write)
