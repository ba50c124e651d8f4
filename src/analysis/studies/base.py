"""The shape every study shares: title, headline, tables, charts, numbers, and saving them."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path

from matplotlib.figure import Figure

from analysis.files import write_result
from analysis.paths import RUN_DESCRIPTION, SCRATCH_FOLDER
from analysis.studies.style import Chart
from analysis.studies.tables import ReaderTable


class Study(ABC):
    """One notebook's question answered from the data.

    Subclasses implement the abstract members (and :meth:`draw`, :meth:`tables`
    when they have figures or tables); :meth:`save` writes the :meth:`charts`
    drawn and the run's :meth:`description`, which is all the report's landing page
    and ``metrics.json`` know of a run.
    """

    @property
    @abstractmethod
    def title(self) -> str:
        """A reader's title for the study, naming what it is about."""

    @property
    @abstractmethod
    def headline(self) -> str:
        """The answer in one or two plain sentences built from the computed values."""

    def tables(self) -> dict[str, ReaderTable]:
        """The study's tables for readers, by name (none unless a study has some)."""
        return {}

    def charts(self) -> dict[str, Chart]:
        """The study's charts, keyed by file stem: drawn once (by :meth:`draw`) and rendered once, then the same."""
        drawn = self.__dict__.get("_drawn")
        if drawn is None:
            texts = self.chart_texts()
            charts = {stem: Chart(figure, stem, texts.get(stem, "")) for stem, figure in self.draw().items()}
            drawn = self.__dict__["_drawn"] = charts  # what: frozen studies still keep what they drew
        return drawn

    def draw(self) -> dict[str, Figure]:
        """Draw the study's figures (none unless a study has some)."""
        return {}

    def chart_texts(self) -> dict[str, str]:
        """What each chart shows and its key values, in words, keyed by file stem: the alt text of its image, for
        a reader who cannot see it (a chart left out is described by its title)."""
        return {}

    @abstractmethod
    def to_json(self) -> object:
        """The study's numbers, JSON-ready (``None`` where undefined)."""

    def description(self) -> dict[str, object]:
        """What the run says of itself: ``title``, ``headline``, ``numbers`` (:meth:`to_json`), and ``tables``
        (each reader table as a list of rows, each a mapping of column header to the text shown)."""
        return {
            "title": self.title,
            "headline": self.headline,
            "numbers": self.to_json(),
            "tables": {name: table.rows for name, table in self.tables().items()},
        }

    def scratch_folder(self) -> str:
        """Where the study writes when no ``output_dir`` is given: a folder of :data:`analysis.paths.SCRATCH_FOLDER`
        named after what it is about (its title: the agency, reporter and periods)."""
        return f"{SCRATCH_FOLDER}/{re.sub(r'[^a-z0-9]+', '-', self.title.lower()).strip('-')[:80] or 'study'}"

    def write(self, output_dir: str | Path | None) -> str:
        """Save the charts and the description (see :meth:`save`) and say where, in a sentence.

        ``output_dir`` is what ``detainers report`` gives a run; left as ``None`` (a notebook opened
        by hand), the study writes to its :meth:`scratch_folder`, never to the published report.
        """
        if output_dir is not None:
            written = self.save(output_dir)
            return (
                f"The {len(written)} files of this run (charts as PNG and SVG, and run.json) are written to output_dir."
            )
        folder = self.scratch_folder()
        written = self.save(folder)
        return (
            f"Opened by hand, this notebook wrote its {len(written)} files to {folder}/, a scratch folder git "
            "ignores; the published report is written by detainers report only."
        )

    def save(self, output_dir: str | Path) -> list[Path]:
        """Write every chart (PNG and SVG) and the :meth:`description` (as :data:`analysis.paths.RUN_DESCRIPTION`)
        into ``output_dir``."""
        written: list[Path] = []
        for stem, chart in self.charts().items():
            written += chart.save(output_dir, stem)
        written.append(write_result(output_dir, RUN_DESCRIPTION, self.description()))
        return written
