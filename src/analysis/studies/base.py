"""The shape every study shares: title, headline, tables, figures, numbers, and saving them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from matplotlib.figure import Figure

from analysis.files import write_result
from analysis.studies.style import save_figure
from analysis.studies.tables import ReaderTable


class Study(ABC):
    """One notebook's question answered from the data.

    Subclasses name the file of their numbers as a class keyword
    (``class GrowthStudy(Study, json_name="02-growth.json")``) and implement
    the abstract members (and :meth:`draw`, :meth:`tables` when they have
    figures or tables); :meth:`save` writes what :meth:`figures` draws and
    what :meth:`to_json` gives.
    """

    #: File name of the study's numbers in its output folder.
    json_name: ClassVar[str]

    def __init_subclass__(cls, json_name: str, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.json_name = json_name

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

    def figures(self) -> dict[str, Figure]:
        """The study's figures, keyed by file stem: drawn once (by :meth:`draw`), then the same objects."""
        drawn = self.__dict__.get("_drawn")
        if drawn is None:
            drawn = self.__dict__["_drawn"] = self.draw()  # what: frozen studies still keep what they drew
        return drawn

    def draw(self) -> dict[str, Figure]:
        """Draw the study's figures (none unless a study has some)."""
        return {}

    @abstractmethod
    def to_json(self) -> object:
        """The study's numbers, JSON-ready (``None`` where undefined)."""

    def save(self, output_dir: str | Path) -> list[Path]:
        """Write every figure (PNG and SVG) and the numbers (:attr:`json_name`) into ``output_dir``."""
        written: list[Path] = []
        for stem, figure in self.figures().items():
            written += save_figure(figure, output_dir, stem)
        written.append(write_result(output_dir, self.json_name, self.to_json()))
        return written
