"""The report's landing page, ``reports/index.html``, rendered from a Jinja template.

A single static page that opens from the file system with no server and no
network: a chart of the change of each growth run of the plan's own [[run]]
entries (inline SVG), the headline of each of those runs, the claims check,
every run in one table of numbers that a reader can filter and sort (a small
inline script, allowed by its hash), the corrections and the sources. What it shows of
a run comes from the description the run wrote (:data:`analysis.paths.RUN_DESCRIPTION`):
the page never executes a study. Figures stay on the runs' own pages, so the
page stays small for a thousand runs. The template escapes every string, so
nothing from the data becomes markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from analysis.data.load import Dataset
from analysis.files import write_text_streamed
from analysis.numbers import count, during, missing, period_words, rate_text, signed_count, signed_pct
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
    #: What the run counts (``detainer requests``, ``notification requests``), where it says; else blank.
    counted: str = ""
    #: What the page says of the run's last execution: blank, or that it failed (its last good pages, if any, kept).
    status: str = ""
    #: The run's numbers for the runs table, each ``(text shown, value sorted by)`` (blank for a run without them):
    #: requests in the earlier and the later period, their change and percent change, the latest denial rate.
    number_cells: tuple[tuple[str, str], ...] = ()


#: The runs table's columns of numbers, in order.
NUMBER_COLUMNS = ("requests, earlier period", "requests, later period", "change", "percent change", "denial rate")


def _sortable(value: Any) -> str:
    return "" if missing(value) else f"{float(value):.6g}"


def _number_cells(run: Run, numbers: Any) -> tuple[tuple[str, str], ...]:
    """The runs table's numbers of a run (see :data:`NUMBER_COLUMNS`) from the numbers it described: a growth
    run's counts and change, a denial run's rate for its latest period with one."""
    blank = ("", "")
    cells = [blank] * len(NUMBER_COLUMNS)
    if isinstance(numbers, Mapping) and "compare_requests" in numbers:
        base, compare = run.parameters.get("base_period", ""), run.parameters.get("compare_period", "")
        earlier, later = numbers.get("base_requests"), numbers.get("compare_requests")
        cells[0] = (
            f"{count(earlier)} {during(str(base))}" if not missing(earlier) else "",
            _sortable(earlier),
        )
        cells[1] = (f"{count(later)} {during(str(compare))}" if not missing(later) else "", _sortable(later))
        cells[2] = (signed_count(numbers.get("abs_change")), _sortable(numbers.get("abs_change")))
        pct = numbers.get("pct_change")
        cells[3] = (signed_pct(pct) if not missing(pct) else "", _sortable(pct))
    elif isinstance(numbers, list):
        rated = [r for r in numbers if isinstance(r, Mapping) and not missing(r.get("denial_rate"))]
        if rated:
            last = rated[-1]
            shown = f"{rate_text(last['denial_rate'])} {during(str(last.get('period', '')))}"
            cells[4] = (shown, _sortable(last["denial_rate"]))
    return tuple(cells)


@dataclass(frozen=True)
class Bar:
    """One bar of the landing page's chart: a growth run's change, drawn on a log scale of the fold."""

    label: str
    value: str
    #: What the run counts, on a line of its own under the label (``notification requests per day``); or blank.
    counted: str
    href: str
    #: Where the bar starts and how long it is, in percent of the chart's width for bars (the values beside the
    #: bars have room of their own): "no change" is the same place for every bar.
    start: float
    length: float
    rising: bool


#: The shortest bar drawn, in percent of the chart's width for bars (a change that rounds to none still shows).
SHORTEST = 0.2


def growth_bars(entries: Sequence[tuple[Run, RunEntry, Any]]) -> list[Bar]:
    """The bars of the landing page's headline chart: each growth run of the plan's own ``[[run]]`` entries with
    a defined fold, its change from 1 (no change) on a log scale, so a tripling and a fall to a third are as long."""

    folds = [
        (run, entry, numbers)
        for run, entry, numbers in entries
        if isinstance(numbers, Mapping) and not missing(numbers.get("fold")) and float(numbers["fold"]) > 0
    ]
    if not folds:
        return []
    logs = [math.log10(float(numbers["fold"])) for _, _, numbers in folds]
    low, high = min(0.0, *logs), max(0.0, *logs)
    scale = 100.0 / ((high - low) or 1.0)
    zero = -low * scale
    bars = []
    for (run, entry, numbers), log in zip(folds, logs, strict=True):
        base, compare = (period_words(str(run.parameters.get(key, ""))) for key in ("base_period", "compare_period"))
        periods = f"{base} to {compare}" if base.isdigit() and compare.isdigit() else f"{base}, against {compare}"
        per_day = " per day" if numbers.get("basis") == "per day" else ""
        counted = f"{entry.counted or 'requests'}{per_day}" if entry.counted or per_day else ""
        label = f"{entry.agency}, {periods}" if entry.agency else entry.title
        length = max(abs(log) * scale, SHORTEST)
        start = min(zero + min(0.0, log) * scale, 100.0 - length)
        href = entry.pages.get("report", "")
        value = signed_pct(numbers.get("pct_change"))
        bars.append(Bar(label, value, counted, href, start, length, log >= 0))
    return bars


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
    numbers = description.get("numbers") if description is not None else None
    counted = str(description.get("counted", "")) if description is not None else ""
    return replace(entry, status=status, number_cells=_number_cells(run, numbers), counted=counted)


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

    def own(self) -> list[tuple[Run, RunEntry, Any]]:
        """The plan's own ``[[run]]`` entries (not its grids'), each with its entry and the numbers it described."""
        found = []
        for run in self.runs:
            if not run.grid:
                description = self.describe(run)
                numbers = description.get("numbers") if description is not None else None
                found.append((run, _entry(run, description, self.folders), numbers))
        return found


def _pieces(dataset: Dataset, entries: _Entries, claims: Sequence[Mapping[str, str]]) -> Iterator[str]:
    """The landing page's HTML, a piece at a time."""
    script = (TEMPLATES / "runs-table.js").read_text(encoding="utf-8")
    return (
        _environment()
        .get_template("landing.html.j2")
        .generate(
            content_security_policy=content_security_policy([script]),
            script=Markup(script),
            runs=entries,
            bars=growth_bars(entries.own()),
            number_columns=NUMBER_COLUMNS,
            claims=claims,
            sources=dataset.sources.to_dict("records"),
            corrections=dataset.corrections.sort_values(["date", "number_id"], kind="stable").to_dict("records"),
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
        The validated dataset the runs were executed on (its sources).
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
