"""Tables for readers, styled once: text left-aligned, numbers right-aligned, never cut, no index, numbers as the prose
writes them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.studies.text import count, fold_text, p_text, ratio, share, signed_count, signed_pct
from analysis.table_css import CELL_CSS, HEADER_CSS, NUMBER_CSS, SCROLL_CSS, TABLE_CSS

#: The formatters of numbers: a column written by one of them is right-aligned.
NUMBER_FORMATTERS = (count, share, ratio, signed_pct, signed_count, fold_text, p_text)


@dataclass(frozen=True)
class Column:
    """How one column is shown: its header (with its unit) and how each value is written."""

    header: str
    show: Callable[[Any], str] = str
    #: Whether the column holds numbers (right-aligned); ``None``: when ``show`` is a formatter of numbers.
    numeric: bool | None = None

    @property
    def is_numeric(self) -> bool:
        return self.show in NUMBER_FORMATTERS if self.numeric is None else self.numeric


@dataclass(frozen=True)
class ReaderTable:
    """A table as readers see it: every cell already written as text, in the order of its columns.

    In a notebook it shows as HTML styled by :meth:`styler` (nothing, when it has no rows); as text (what
    nbval compares) it is the whole table, nothing cut.
    """

    name: str
    frame: pd.DataFrame
    #: The headers of the columns that hold numbers (right-aligned, digits of equal width).
    numeric: tuple[str, ...] = ()
    #: The headers of the columns whose text says which row is which (see :meth:`cell_ids`); none given: the
    #: columns before the first column of numbers (the first column, when no column holds numbers).
    key: tuple[str, ...] = ()

    def cell_ids(self) -> list[list[str]]:
        """A stable HTML id for every cell, made from what the cell is, never from where it sits:
        ``NAME--ROW--COLUMN``, the row named by the text of its :attr:`key` columns and the column by its header
        (as slugs, see :func:`anchor`; a row named like an earlier one numbered ``-2``, ``-3``...)."""
        columns = list(self.frame.columns)
        first_number = next((i for i, c in enumerate(columns) if c in self.numeric), len(columns))
        if self.key:
            key = list(self.key)
        elif first_number < len(columns):
            key = columns[: max(first_number, 1)]
        else:
            key = columns[:1]
        seen: dict[str, int] = {}
        ids = []
        for row in self.frame[key].itertuples(index=False):
            name = row_name(" ".join(str(cell) for cell in row))
            seen[name] = seen.get(name, 0) + 1
            name = name if seen[name] == 1 else f"{name}-{seen[name]}"
            ids.append([cell_id(self.name, name, str(column)) for column in columns])
        return ids

    def styler(self) -> Styler:
        """The table as a pandas Styler: index hidden, every cell and header escaped for HTML."""
        styler = self.frame.style.hide(axis="index").format(escape="html").format_index(escape="html", axis=1)
        styler = styler.set_uuid(self.name).set_table_styles(
            [
                {"selector": "", "props": TABLE_CSS},
                {"selector": "th", "props": HEADER_CSS},
                {"selector": "td", "props": CELL_CSS},
            ]
        )
        # What: a column of numbers, its header too, by the column classes pandas gives its cells (col0, col1...).
        numbers = [f"td.col{i}, th.col{i}" for i, header in enumerate(self.frame.columns) if header in self.numeric]
        if numbers:
            styler = styler.set_table_styles([{"selector": ", ".join(numbers), "props": NUMBER_CSS}], overwrite=False)
        return styler

    def _repr_html_(self) -> str:
        if self.frame.empty:  # what: a table of headers alone says nothing; the text before it says why it is empty
            return ""
        # What: each cell's id is pandas' own (T_NAME_rowR_colC, by position) until it is replaced by the stable id
        # of what the cell is, so a link to a number survives new rows and rebuilds.
        html_text = self.styler().to_html()
        for row, ids in enumerate(self.cell_ids()):
            for column, stable in enumerate(ids):
                html_text = html_text.replace(f'id="T_{self.name}_row{row}_col{column}"', f'id="{stable}"', 1)
        # What: a table wider than the screen (a phone's) scrolls inside its own box, not the whole page.
        return f'<div class="table-scroll" style="{SCROLL_CSS}">{html_text}</div>'

    def __repr__(self) -> str:
        if self.frame.empty:
            return "(no rows)"
        with pd.option_context("display.max_colwidth", None, "display.width", 10_000):
            return self.frame.to_string(index=False)

    @property
    def rows(self) -> list[dict[str, str]]:
        """The cells, one mapping of header to text per row (for templates)."""
        return [dict(zip(self.frame.columns, row, strict=True)) for row in self.frame.itertuples(index=False)]


def slug(text: str) -> str:
    """``text`` in lower case, every run of other characters than ASCII letters and digits written ``-``
    (``BPD 2025 all declined`` gives ``bpd-2025-all-declined``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def row_name(text: str) -> str:
    """A row's name in its cells' ids: the slug of its identifying text, at most 80 characters (``row`` when
    nothing is left)."""
    return slug(text)[:80].strip("-") or "row"


def cell_id(table: str, row: str, column: str) -> str:
    """The HTML id of a cell: ``TABLE--ROW--COLUMN`` (``row`` a :func:`row_name`, ``column`` the header)."""
    return f"{table}--{row}--{slug(column) or 'column'}"


def reader_table(
    name: str,
    data: pd.DataFrame,
    columns: Mapping[str, Column],
    key: tuple[str, ...] = (),
) -> ReaderTable:
    """Write ``data``'s ``columns`` as text for readers, under their headers.

    Parameters
    ----------
    name
        A short name, unique within the notebook (the table's HTML id).
    data
        The values; its index is dropped.
    columns
        Which columns to show, in order, and how.
    key
        The columns (keys of ``columns``) whose text names a row (see :attr:`ReaderTable.key`).
    """
    shown = {spec.header: [spec.show(value) for value in data[column].tolist()] for column, spec in columns.items()}
    frame = pd.DataFrame(shown, columns=[spec.header for spec in columns.values()], dtype="str")
    numeric = tuple(spec.header for spec in columns.values() if spec.is_numeric)
    return ReaderTable(name, frame, numeric, tuple(columns[column].header for column in key))
