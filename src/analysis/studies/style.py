"""The charts' look and saving them byte for byte reproducibly (fixed SVG ids, no dates in metadata)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import matplotlib as mpl
import seaborn as sns
from matplotlib.figure import Figure

from analysis.files import write_bytes_atomic
from analysis.paths import resolve_output

#: Fixed salt for SVG element ids, so a figure's SVG is the same on every run.
SVG_HASH_SALT = "detainer-analysis"
DPI = 150
COMPARED = "compared period"
OTHER = "other period"
PALETTE = {COMPARED: "#c0392b", OTHER: "#95a5a6"}
MUTED = "#7f8c8d"


@contextmanager
def chart_style() -> Iterator[None]:
    """The report's look, applied only while a chart is drawn or rendered.

    It starts from matplotlib's own defaults, not the reader's settings (a
    ``matplotlibrc`` of the user's, or one in ``$MPLCONFIGDIR``), so no setting
    of the machine can change a byte of a chart.
    """
    with mpl.rc_context():
        mpl.rcdefaults()  # what: matplotlib's defaults, whatever the user's matplotlibrc says
        # What: fixed SVG ids, one font, and no mathtext, so text from the data (an agency named "$\\frac{a}$", say)
        # is drawn as written, never parsed as a formula.
        mpl.rc("svg", hashsalt=SVG_HASH_SALT)
        mpl.rc("font", family="DejaVu Sans")
        mpl.rc("text", parse_math=False)
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
            yield


def _titled(figure: Figure) -> str:
    """A chart described by its title (the figure's, else its panels'), for a chart no study described."""
    titles = [figure.get_suptitle(), *(axes.get_title() for axes in figure.axes)]
    shown = [title for title in titles if title]
    return "Chart: " + "; ".join(shown) if shown else "Chart"


class Chart:
    """A drawn figure, rendered once as PNG and once as SVG, shown in a notebook as the PNG it saves.

    In a notebook the chart displays its PNG (at 100 pixels to the inch, as the
    inline backend would show the figure), so a figure is rendered twice, not
    three times, and the notebook shows exactly the bytes saved beside it.
    """

    def __init__(self, figure: Figure, name: str, alt: str = "") -> None:
        self.figure, self.name = figure, name
        #: What the chart shows, in words (its image's alt text): given by the study, else the chart's title.
        self.alt = alt or _titled(figure)
        self._rendered: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"<chart {self.name}>"

    def render(self, kind: str) -> bytes:
        """The figure as ``png`` or ``svg``, tight around its contents, the same bytes on every run.

        The first call renders both (a chart is always saved as both): the PNG lays the figure out, and the SVG
        is drawn with that layout, not laid out twice more.
        """
        if not self._rendered:
            engine = self.figure.get_layout_engine()
            with chart_style():
                for rendered in ("png", "svg"):
                    metadata = {"Software": None} if rendered == "png" else {"Date": None, "Creator": None}
                    buffer = BytesIO()
                    self.figure.savefig(buffer, format=rendered, dpi=DPI, metadata=metadata, bbox_inches="tight")
                    self._rendered[rendered] = buffer.getvalue()
                    if engine is not None:
                        self.figure.set_layout_engine("none")  # what: keep the layout the PNG gave
            if engine is not None:
                self.figure.set_layout_engine(engine)
        return self._rendered[kind]

    def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
        png = self.render("png")
        width, height = struct.unpack(">II", png[16:24])  # what: the size in the PNG's header chunk
        return png, {"width": round(width * 100 / DPI), "height": round(height * 100 / DPI), "alt": self.alt}

    def save(self, output_dir: str | Path, stem: str) -> list[Path]:
        """Save the chart as ``stem.png`` and ``stem.svg`` in ``output_dir``.

        A relative ``output_dir`` is taken from the project root (or from ``$DETAINERS_OUTPUT_ROOT`` when set).
        Returns the files written.
        """
        folder = resolve_output(output_dir)
        written = []
        for kind in ("png", "svg"):
            path = folder / f"{stem}.{kind}"
            write_bytes_atomic(path, self.render(kind))
            written.append(path)
        return written
