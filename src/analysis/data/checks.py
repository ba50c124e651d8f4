"""The building blocks of the table schemas: checks on cells and on whole rows.

Every check runs on text cells, so a bad value is reported as it was written.
A check's ``error`` is the rule shown to the user; a check on whole rows keeps
the columns it concerns in its ``statistics``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection

import pandas as pd
import pandera.pandas as pa

from analysis.data.cells import (
    DECIMAL,
    ID_SEPARATOR,
    LABEL_FORMS,
    MAX_COUNT,
    PLAUSIBLE_DATES,
    by_value,
    count_too_large,
    label_span,
    plausible,
    split_ids,
    to_date,
)

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

Cells = pd.Series
Rows = pd.DataFrame


def cell_check(rule: str, passes: Callable[[Cells], Cells], *, blank_ok: bool = False) -> pa.Check:
    """A check on one column's cells; blank cells pass when ``blank_ok``."""

    def check(cells: Cells) -> Cells:
        result = passes(cells).fillna(False).astype(bool)
        return result | cells.eq("") if blank_ok else result

    return pa.Check(check, error=rule)


def row_check(rule: str, columns: tuple[str, ...], passes: Callable[[Rows], Cells]) -> pa.Check:
    """A check on whole rows; it concerns ``columns`` (kept in the check, for the problem message)."""
    return pa.Check(lambda rows: passes(rows).fillna(True).astype(bool), error=rule, statistics={"columns": columns})


def row_check_columns(schema: pa.DataFrameSchema) -> dict[str, tuple[str, ...]]:
    """The columns each whole-row check of ``schema`` concerns, keyed by its rule."""
    return {str(check.error): tuple(check.statistics["columns"]) for check in schema.checks}


def not_blank() -> pa.Check:
    return cell_check("must not be blank", lambda c: c.ne(""))


#: Unicode categories a plain key may not hold (U+0020 aside): control, format (zero-width, direction marks),
#: separators (other spaces, line and paragraph), surrogates, private use and unassigned.
NOT_PLAIN = ("Cc", "Cf", "Zs", "Zl", "Zp", "Cs", "Co", "Cn")


def is_plain_key(cell: str) -> bool:
    """Whether ``cell`` passes :func:`plain_key`: no control, format (zero-width, direction marks) or
    line-separating character, no space but U+0020, and no two spaces together."""
    return "  " not in cell and all(ch == " " or unicodedata.category(ch) not in NOT_PLAIN for ch in cell)


def _escaped(text: str, refused: tuple[str, ...]) -> str:
    """``text`` with each character of the Unicode categories ``refused`` (U+0020 aside) written as its escape."""
    return "".join(
        ch if ch == " " or unicodedata.category(ch) not in refused else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def as_plain_key(text: str) -> str:
    """``text`` made a key that :func:`plain_key` accepts, for a name the package writes itself (a facility's name
    as an agency, say): runs of white space (no-break and line-separating spaces too) become one U+0020, the ends
    are trimmed, and any other character the rule refuses is written as its escape (``\\x1b``, ``\\u200b``),
    so two names that differ stay two keys."""
    return _escaped(" ".join(text.split()), NOT_PLAIN)


#: Unicode categories no text the package writes or reads may hold: control, format (zero-width, direction marks),
#: line and paragraph separators, surrogates, private use and unassigned (other spaces are allowed).
NOT_TEXT = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")
#: The rule :func:`is_text` checks, as problem messages state it.
TEXT_RULE = "must hold no control, format or line-separating character (shown escaped, e.g. \\x1b or \\u200b)"


def is_text(cell: str) -> bool:
    """Whether ``cell`` holds no character of :data:`NOT_TEXT`: what a chart, a page or a terminal shows as it is."""
    return all(unicodedata.category(ch) not in NOT_TEXT for ch in cell)


def as_text(text: str) -> str:
    """``text`` with every character of :data:`NOT_TEXT` written as its escape (``\\x1b``, ``\\u200b``) and each
    backslash as two, for a value from a file that the package writes into a table of its own (a lift reason, say);
    text with neither such a character nor a backslash (nearly all) is kept as it is. Two values stay two: an
    escape written out in the file (``\\x1b``) is not the character it stands for."""
    if is_text(text) and "\\" not in text:
        return text
    return _escaped(text.replace("\\", "\\\\"), NOT_TEXT)


def free_text() -> pa.Check:
    """Text the outputs copy as it is (a jurisdiction, a title, a claim): it holds no character of
    :data:`NOT_TEXT`, so no table, page or terminal the package writes it to gets a control or direction
    character from the data."""
    return cell_check(TEXT_RULE, each(is_text))


#: The rule of :func:`plain_key`, as problem messages state it.
PLAIN_KEY_RULE = (
    "must be plain text, with no control, zero-width or direction character and no space but a single U+0020 "
    "(shown escaped, e.g. \\xa0 or \\u200b)"
)


def plain_key() -> pa.Check:
    """A key as a reader sees it (an agency, a reporter): text whose look is its value, so two keys that look
    alike are one key, and two that do not are two."""
    return cell_check(PLAIN_KEY_RULE, lambda c: by_value(c, is_plain_key).astype(bool))


def unique(rule: str) -> pa.Check:
    return cell_check(rule, lambda c: ~c.duplicated(keep=False) | c.eq(""))


def id_column(unique_rule: str) -> pa.Column:
    """A column of short ids: present, lower-case words joined by hyphens, each used once."""
    slug = cell_check("must be lower-case words joined by hyphens", lambda c: c.str.fullmatch(SLUG.pattern))
    return pa.Column(None, [not_blank(), slug, unique(unique_rule)])


def each(passes: Callable[[str], bool]) -> Callable[[Cells], Cells]:
    """A test of one cell made a test of a column, run once per distinct cell (a cell that is not text fails)."""
    return lambda cells: by_value(cells, lambda cell: isinstance(cell, str) and passes(cell))


#: A whole number as :data:`DECIMAL` writes it: digits, with an optional sign.
WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)


def count_checks(*, blank_ok: bool) -> list[pa.Check]:
    """A count: ASCII digits only, whole, not negative, unsigned, at most :data:`MAX_COUNT`."""

    def numeric(cell: str) -> bool:
        return DECIMAL.fullmatch(cell) is not None

    def whole(cell: str) -> bool:
        return not numeric(cell) or WHOLE.fullmatch(cell) is not None

    def zero(cell: str) -> bool:
        return numeric(cell) and set(cell.lstrip("+-")) <= {"0", "."}

    def not_negative(cell: str) -> bool:
        return not numeric(cell) or not cell.startswith("-") or zero(cell)  # what: "-0" is zero, written signed

    def unsigned(cell: str) -> bool:
        return not cell.startswith("+") and not (cell.startswith("-") and zero(cell))

    checks = [
        cell_check(
            "must be a number written with digits only (0-9; no separators, words or other digits)",
            each(numeric),
            blank_ok=blank_ok,
        ),
        cell_check("must be a whole number (no decimal point)", each(whole), blank_ok=blank_ok),
        cell_check("must not be negative", each(not_negative), blank_ok=blank_ok),
        cell_check("must be written without a sign", each(unsigned), blank_ok=True),
        cell_check(
            f"must be at most {MAX_COUNT:,} (a larger count is taken as a typing error)",
            lambda c: ~count_too_large(c),
            blank_ok=True,
        ),
    ]
    return checks if blank_ok else [not_blank(), *checks]


def date_checks() -> list[pa.Check]:
    """A date: a real day written YYYY-MM-DD, and a plausible one."""
    return [
        cell_check("must be a real date written YYYY-MM-DD", lambda c: to_date(c).notna()),
        cell_check(
            f"must be a date {PLAUSIBLE_DATES} (anything else is taken as a typing error)",
            lambda c: plausible(to_date(c)),
        ),
    ]


def period_label_check() -> pa.Check:
    """A period label has one of the forms of :data:`LABEL_FORMS`."""
    return cell_check(f"must be a period label written {LABEL_FORMS}", lambda c: by_value(c, label_span).notna())


def _spans(rows: Rows) -> tuple[Cells, Cells, pd.DataFrame]:
    start, end = to_date(rows["period_start"]), to_date(rows["period_end"])
    spans = by_value(rows["period"], label_span)
    named = pd.DataFrame(
        {
            "start": [s.start if s else pd.NaT for s in spans],
            "end": [s.end if s else pd.NaT for s in spans],
            "partial": [bool(s and s.partial) for s in spans],
        },
        index=rows.index,
    )
    return start, end, named


def period_checks() -> list[pa.Check]:
    """A period's dates are in order, are the days its label names, and a whole year carries its year."""

    def end_not_before_start(rows: Rows) -> Cells:
        start, end = to_date(rows["period_start"]), to_date(rows["period_end"])
        return ~(end < start)

    def label_matches(rows: Rows) -> Cells:
        start, end, named = _spans(rows)
        whole = (start == named["start"]) & (end == named["end"])
        inside = (start >= named["start"]) & (end <= named["end"]) & ~whole
        undated = start.isna() | end.isna() | named["start"].isna()
        return undated | (named["partial"] & inside) | (~named["partial"] & whole)

    def calendar_year_labelled(rows: Rows) -> Cells:
        start, end = to_date(rows["period_start"]), to_date(rows["period_end"])
        is_year = (start.dt.month == 1) & (start.dt.day == 1) & (end.dt.month == 12) & (end.dt.day == 31)
        is_year &= start.dt.year == end.dt.year
        return ~is_year | rows["period"].eq(start.dt.year.astype("Int64").astype("str"))

    dates = ("period", "period_start", "period_end")
    return [
        row_check("period_end must not be before period_start", dates[1:], end_not_before_start),
        row_check(
            "the dates must be the days the label names (2024 is January 1 to December 31, 2018-07/2019-06 is "
            "July 1, 2018 to June 30, 2019, 2017-01-28/2017-02-03 is January 28 to February 3, 2017, FY2019 is "
            "October 1, 2018 to September 30, 2019), or lie within them without covering them all when the "
            "label ends in (partial)",
            dates,
            label_matches,
        ),
        row_check(
            "a period covering one whole calendar year must be labelled with that year (e.g. 2024)",
            dates,
            calendar_year_labelled,
        ),
    ]


def id_list() -> pa.Check:
    """A list of ids written one way only: joined by ``;`` with no space around them and none left empty
    (``a;b``), so the cell the outputs copy is the list validation read."""
    return cell_check(
        f"must be ids joined by '{ID_SEPARATOR}', with no space around them and none empty (e.g. a{ID_SEPARATOR}b)",
        each(lambda cell: cell == ID_SEPARATOR.join(split_ids(cell))),
    )


def ids_known(known: Collection[str] | None, *, many: bool) -> list[pa.Check]:
    if known is None:
        return []

    def all_known(cell: str) -> bool:
        parts = split_ids(cell) if many else [cell]
        return bool(parts) and all(part in known for part in parts)

    def passes(cells: Cells) -> Cells:
        return by_value(cells, all_known).astype(bool)

    rule = "must name sources listed in sources.csv" if many else "must name a source listed in sources.csv"
    return [cell_check(rule, passes, blank_ok=True)]
