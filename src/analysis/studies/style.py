"""The charts' look and saving them byte for byte reproducibly (fixed SVG ids, no dates in metadata)."""

from __future__ import annotations

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
    """The report's look, applied only while a chart is drawn."""
    with mpl.rc_context(), sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        mpl.rcParams["svg.hashsalt"] = SVG_HASH_SALT
        mpl.rcParams["font.family"] = "DejaVu Sans"
        yield


def save_figure(fig: Figure, output_dir: str | Path, stem: str) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.svg`` in ``output_dir``, the same bytes on every run.

    Parameters
    ----------
    fig
        The figure.
    output_dir
        Folder to write into; a relative path is taken from the project root
        (or from ``$DETAINERS_OUTPUT_ROOT`` when set).
    stem
        File name without extension.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = resolve_output(output_dir)
    written = []
    for kind, metadata in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        buffer = BytesIO()
        with mpl.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
            fig.savefig(buffer, format=kind, dpi=DPI, metadata=metadata, bbox_inches="tight")
        path = folder / f"{stem}.{kind}"
        write_bytes_atomic(path, buffer.getvalue())
        written.append(path)
    return written
