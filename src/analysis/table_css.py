"""The look of every table the report shows, in the notebooks' pages and on the landing page alike."""

#: The table, its cells and its header cells, as CSS declarations.
TABLE_CSS = "border-collapse: collapse; font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 0.92rem"
CELL_CSS = (
    "text-align: left; vertical-align: top; white-space: normal; max-width: none; "
    "padding: 0.4rem 0.5rem; border-bottom: 1px solid #d5dbe1"
)
HEADER_CSS = CELL_CSS + "; background: #f2f4f6; font-weight: bold"
#: A cell that holds a number: right-aligned, its digits of equal width so a column's numbers line up.
NUMBER_CSS = "text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap"
#: The box around a table: as wide as the page at most, scrolling sideways when the table is wider.
SCROLL_CSS = "overflow-x: auto; max-width: 100%"
