"""The shape every study shares: title, headline, tables, charts, numbers, and saving them."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.cells import split_ids
from analysis.errors import OutputFolderError
from analysis.files import check_not_project_folder, write_csv_atomic, write_result
from analysis.numbers import date_words
from analysis.params import check_folder
from analysis.paths import OUTPUT_ROOT_ENV, RUN_DESCRIPTION, SCRATCH_FOLDER, published_folder, resolve_output
from analysis.studies.style import MUTED, Chart, chart_style
from analysis.studies.tables import ReaderTable

#: The columns of a cited source that a page shows (the names of ``sources.csv``).
SOURCE_COLUMNS = ["source_id", "publisher", "title", "author", "published", "url"]


def no_sources() -> pd.DataFrame:
    """A table of cited sources with no rows (columns :data:`SOURCE_COLUMNS`)."""
    return pd.DataFrame({column: pd.Series(dtype=str) for column in SOURCE_COLUMNS})


def cited_sources(sources: pd.DataFrame, *tables: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``sources`` (the dataset's sources table) that ``tables`` cite, in their ``source_ids``
    (``;``-separated) or ``source_id`` column: columns :data:`SOURCE_COLUMNS`, newest first, then by id."""
    cited: set[str] = set()
    for table in tables:
        if "source_ids" in table.columns:
            cited.update(source for cell in table["source_ids"].dropna() for source in split_ids(str(cell)))
        if "source_id" in table.columns:
            cited.update(str(source) for source in table["source_id"].dropna())
    picked = sources.loc[sources["source_id"].isin(sorted(cited)), SOURCE_COLUMNS]
    picked = picked.sort_values("source_id", kind="stable").sort_values("published", ascending=False, kind="stable")
    return picked.reset_index(drop=True)


def table_file(name: str) -> str:
    """The file a reader table of a run is saved in: ``table-NAME.csv``."""
    return f"table-{name}.csv"


class Study(ABC):
    """One notebook's question answered from the data.

    Subclasses implement the abstract members (and :meth:`draw`, :meth:`tables`
    when they have figures or tables) and hold the sources their numbers come from
    as ``cited`` (see :func:`cited_sources`); :meth:`save` writes the :meth:`charts`
    drawn, the tables as CSV and the run's :meth:`description`, which is all the
    report's pages and ``metrics.json`` know of a run.
    """

    #: The sources behind the numbers the study shows (columns :data:`SOURCE_COLUMNS`, newest first).
    cited: pd.DataFrame

    @property
    @abstractmethod
    def title(self) -> str:
        """A reader's title for the study, naming what it is about."""

    @property
    @abstractmethod
    def headline(self) -> str:
        """The answer in one or two plain sentences built from the computed values."""

    def summary(self) -> str:
        """The answer in one plain paragraph, what its uncertainty means included: the page's opening paragraph
        (the :attr:`headline` unless a study says more)."""
        return self.headline

    def tables(self) -> dict[str, ReaderTable]:
        """The study's tables for readers, by name (none unless a study has some)."""
        return {}

    def charts(self) -> dict[str, Chart]:
        """The study's charts, keyed by file stem: drawn once (by :meth:`draw`) and rendered once, then the same."""
        drawn = self.__dict__.get("_drawn")
        if drawn is None:
            texts, source = self.chart_texts(), self.source_line()
            charts = {}
            for stem, figure in self.draw().items():
                if source:
                    with chart_style():  # what: the chart's own font; a name from the data is never a formula
                        figure.supxlabel(source, x=0.01, ha="left", fontsize=8, color=MUTED, parse_math=False)
                charts[stem] = Chart(figure, stem, texts.get(stem, ""))
            drawn = self.__dict__["_drawn"] = charts  # what: frozen studies still keep what they drew
        return drawn

    def draw(self) -> dict[str, Figure]:
        """Draw the study's figures (none unless a study has some)."""
        return {}

    def source_line(self) -> str:
        """The line under each chart: who published the counts it shows (up to three publishers, newest source
        first; the page lists them all) and who drew it. Blank when the study cites no source."""
        publishers = list(dict.fromkeys(str(p) for p in self.cited["publisher"] if str(p).strip()))
        if not publishers:
            return ""
        shown = "; ".join(publishers[:3])
        more = f" and {len(publishers) - 3} more, listed on the page" if len(publishers) > 3 else ""
        return f"{'Source' if len(publishers) == 1 else 'Sources'}: {shown}{more}. Chart: detainer-analysis."

    def chart_texts(self) -> dict[str, str]:
        """What each chart shows and its key values, in words, keyed by file stem: the alt text of its image, for
        a reader who cannot see it (a chart left out is described by its title)."""
        return {}

    def counted(self) -> str:
        """What the study's numbers count, in words (``detainer requests``, ``notification requests``), where one
        kind of request is counted; blank otherwise (the run description then has no ``counted``)."""
        return ""

    def structured_data(self) -> list[dict[str, object]]:
        """What the study's page carries for machines, as schema.org JSON-LD objects (none unless a study has
        some; the claims study's verdicts are ``ClaimReview``)."""
        return []

    @abstractmethod
    def to_json(self) -> object:
        """The study's numbers, JSON-ready (``None`` where undefined)."""

    def description(self) -> dict[str, object]:
        """What the run says of itself: ``title``, ``headline``, ``summary``, ``numbers`` (:meth:`to_json`),
        ``tables`` (each reader table as a list of rows, each a mapping of column header to the text shown),
        ``sources`` (the cited sources, each a mapping of :data:`SOURCE_COLUMNS` to text, newest first) and
        ``data_changed`` (the newest of their publication dates, as given and in words; ``None`` without one),
        ``counted`` (:meth:`counted`) and ``structured_data`` (:meth:`structured_data`) when the study has them.

        The data's last change is a date of the input, never of the build, so a rebuild writes the same bytes.
        """
        sources = [{column: str(row[column]) for column in SOURCE_COLUMNS} for _, row in self.cited.iterrows()]
        dates = sorted(source["published"] for source in sources if source["published"])
        described: dict[str, object] = {
            "title": self.title,
            "headline": self.headline,
            "summary": self.summary(),
            "numbers": self.to_json(),
            "tables": {name: table.rows for name, table in self.tables().items()},
            "sources": sources,
            "data_changed": {"date": dates[-1], "words": date_words(dates[-1])} if dates else None,
        }
        if self.counted():
            described["counted"] = self.counted()
        structured = self.structured_data()
        if structured:
            described["structured_data"] = structured
        return described

    def scratch_folder(self) -> str:
        """Where the study writes when no ``output_dir`` is given: a folder of :data:`analysis.paths.SCRATCH_FOLDER`
        named after what it is about (its title: the agency, reporter and periods)."""
        return f"{SCRATCH_FOLDER}/{re.sub(r'[^a-z0-9]+', '-', self.title.lower()).strip('-')[:80] or 'study'}"

    def write(self, output_dir: str | Path | None) -> str:
        """Save the charts and the description (see :meth:`save`) and say where, in a sentence.

        ``output_dir`` is what ``detainers report`` gives a run; left as ``None`` (a notebook opened
        by hand), the study writes to its :meth:`scratch_folder`, never to the published report. So does a
        notebook of the published report executed again by hand: its ``output_dir`` names a folder of the
        published ``reports/``, which only ``detainers report`` writes (its runs write into a staging folder).

        Raises
        ------
        OutputFolderError
            When ``output_dir`` is, or lies in, one of the project's own folders (the data, the notebooks, the
            code: :func:`analysis.files.check_not_project_folder`), or the scratch folder lies in the published
            report. Nothing is written then.
        ParameterError
            When ``output_dir`` is not a folder name (see :func:`analysis.params.check_folder`).
        """
        if output_dir is not None:
            output_dir = check_folder("output_dir", output_dir)
            check_not_project_folder(resolve_output(output_dir), "output_dir")  # what: data/raw, notebooks/, src/
        published = output_dir is not None and published_folder(resolve_output(output_dir), staging_ok=True)
        if output_dir is not None and not published:
            written = self.save(output_dir)
            return (
                f"The {len(written)} files of this run (charts as PNG and SVG, tables as CSV, and run.json) are "
                "written to output_dir."
            )
        folder = self.scratch_folder()
        if published_folder(resolve_output(folder)) is not None:  # what: $DETAINERS_OUTPUT_ROOT set inside it
            raise OutputFolderError(
                f"the scratch folder {resolve_output(folder)} lies in the published report, which only detainers "
                f"report writes; set {OUTPUT_ROOT_ENV} to a folder outside it"
            )
        written = self.save(folder)
        instead = "output_dir is a folder of the published report, so" if published else "Opened by hand,"
        return (
            f"{instead} this notebook wrote its {len(written)} files to {folder}/, a scratch folder git "
            "ignores; the published report is written by detainers report only."
        )

    def save(self, output_dir: str | Path) -> list[Path]:
        """Write every chart (PNG and SVG), every reader table as it is shown (CSV, spreadsheet-safe, named by
        :func:`table_file`) and the :meth:`description` (as :data:`analysis.paths.RUN_DESCRIPTION`) into
        ``output_dir``."""
        written: list[Path] = []
        for stem, chart in self.charts().items():
            written += chart.save(output_dir, stem)
        for name, table in self.tables().items():
            path = resolve_output(output_dir) / table_file(name)
            write_csv_atomic(path, [table.frame])
            written.append(path)
        written.append(write_result(output_dir, RUN_DESCRIPTION, self.description()))
        return written
