"""The schema of the three raw tables, declared once with pandera.

Every check runs on the text cells read by :mod:`analysis.csvfile`, so a bad
value is reported as it was written in the file. Each check's ``error`` is the
rule shown to the user; checks on whole rows list the columns they concern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

import pandas as pd
import pandera.pandas as pa

from analysis.parse import MAX_COUNT, split_ids, to_count, to_date, to_number, to_partial_date

REQUESTS_COLUMNS = (
    "agency",
    "jurisdiction",
    "reported_by",
    "period",
    "period_start",
    "period_end",
    "requests",
    "honored",
    "declined",
    "source_ids",
)
SOURCES_COLUMNS = ("source_id", "publisher", "title", "author", "published", "url", "kind")
CLAIMS_COLUMNS = (
    "claim_id",
    "claim",
    "metric",
    "agency",
    "reported_by",
    "base_period",
    "period",
    "claimed_value",
    "precision",
    "tolerance",
    "expected_to_hold",
    "source_id",
)

SOURCE_KINDS = ("primary document", "news report", "official statement")
#: Metrics a claim can be about: percent change, fold change, percent declined.
CLAIM_METRICS = ("pct_change", "fold", "denial_pct")
GROWTH_METRICS = ("pct_change", "fold")

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_YEAR = r"\d{4}"

#: Columns each row-level check concerns, keyed by its rule text.
ROW_CHECK_COLUMNS: dict[str, tuple[str, ...]] = {}

Cells = pd.Series
Rows = pd.DataFrame


def _cell(rule: str, passes: Callable[[Cells], Cells], *, blank_ok: bool = False) -> pa.Check:
    """A check on one column's cells; blank cells pass when ``blank_ok``."""

    def check(cells: Cells) -> Cells:
        result = passes(cells).fillna(False).astype(bool)
        return result | cells.eq("") if blank_ok else result

    return pa.Check(check, error=rule)


def _rows(rule: str, columns: tuple[str, ...], passes: Callable[[Rows], Cells]) -> pa.Check:
    """A check on whole rows; it concerns ``columns``."""
    ROW_CHECK_COLUMNS[rule] = columns
    return pa.Check(lambda rows: passes(rows).fillna(True).astype(bool), error=rule)


def _not_blank() -> pa.Check:
    return _cell("must not be blank", lambda c: c.ne(""))


def _unique(rule: str) -> pa.Check:
    return _cell(rule, lambda c: ~c.duplicated(keep=False) | c.eq(""))


def _id_column(unique_rule: str) -> pa.Column:
    """A column of short ids: present, lower-case words joined by hyphens, each used once."""
    slug = _cell("must be lower-case words joined by hyphens", lambda c: c.str.fullmatch(_SLUG.pattern))
    return pa.Column(None, [_not_blank(), slug, _unique(unique_rule)])


def _count_checks(*, blank_ok: bool) -> list[pa.Check]:
    def numeric(c: Cells) -> Cells:
        return c.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)")

    def whole(c: Cells) -> Cells:
        return ~numeric(c) | c.str.fullmatch(r"[+-]?\d+")

    def not_negative(c: Cells) -> Cells:
        return ~numeric(c) | ~c.str.startswith("-")

    def not_absurd(c: Cells) -> Cells:
        return ~(to_count(c) > MAX_COUNT).fillna(False)

    checks = [
        _cell("must be a number written with digits only (no separators or words)", numeric, blank_ok=blank_ok),
        _cell("must be a whole number (no decimal point)", whole, blank_ok=blank_ok),
        _cell("must not be negative", not_negative, blank_ok=blank_ok),
        _cell(f"must be at most {MAX_COUNT:,} (a larger count is taken as a typing error)", not_absurd, blank_ok=True),
    ]
    return checks if blank_ok else [_not_blank(), *checks]


def _date_check() -> pa.Check:
    return _cell("must be a real date written YYYY-MM-DD", lambda c: to_date(c).notna())


def _period_checks() -> list[pa.Check]:
    def end_not_before_start(rows: Rows) -> Cells:
        start, end = to_date(rows["period_start"]), to_date(rows["period_end"])
        return ~(end < start)

    def full_year(rows: Rows) -> tuple[Cells, Cells]:
        start, end = to_date(rows["period_start"]), to_date(rows["period_end"])
        is_year = (start.dt.month == 1) & (start.dt.day == 1) & (end.dt.month == 12) & (end.dt.day == 31)
        return is_year & (start.dt.year == end.dt.year), start.dt.year

    def year_label_matches(rows: Rows) -> Cells:
        labelled = rows["period"].str.fullmatch(_YEAR)
        is_year, year = full_year(rows)
        label_year = pd.to_numeric(rows["period"].where(labelled), errors="coerce")
        undated = to_date(rows["period_start"]).isna() | to_date(rows["period_end"]).isna()
        return ~labelled | undated | (is_year & (year == label_year))

    def calendar_year_labelled(rows: Rows) -> Cells:
        is_year, year = full_year(rows)
        return ~is_year | rows["period"].eq(year.astype("Int64").astype("str"))

    dates = ("period", "period_start", "period_end")
    return [
        _rows("period_end must not be before period_start", dates[1:], end_not_before_start),
        _rows(
            "a period labelled with a year must run from January 1 to December 31 of that year",
            dates,
            year_label_matches,
        ),
        _rows(
            "a period covering one whole calendar year must be labelled with that year (e.g. 2024)",
            dates,
            calendar_year_labelled,
        ),
    ]


def _ids_known(known: Collection[str] | None, *, many: bool) -> list[pa.Check]:
    if known is None:
        return []

    def passes(cells: Cells) -> Cells:
        ids = cells.map(split_ids) if many else cells.map(lambda cell: [cell])
        return ids.map(lambda parts: bool(parts) and all(part in known for part in parts))

    rule = "must name sources listed in sources.csv" if many else "must name a source listed in sources.csv"
    return [_cell(rule, passes, blank_ok=True)]


def requests_schema(source_ids: Collection[str] | None) -> pa.DataFrameSchema:
    """Schema of ``detainer_requests.csv``, given the source ids that exist (``None``: not checked)."""

    def outcomes_within_requests(rows: Rows) -> Cells:
        outcomes = to_count(rows["honored"]).fillna(0) + to_count(rows["declined"]).fillna(0)
        return ~(outcomes > to_count(rows["requests"]))

    def one_row_per_figure(rows: Rows) -> Cells:
        return ~rows.duplicated(["agency", "reported_by", "period"], keep=False)

    text = {name: pa.Column(None, _not_blank()) for name in ("agency", "jurisdiction", "reported_by", "period")}
    return pa.DataFrameSchema(
        {
            **text,
            "period_start": pa.Column(None, _date_check()),
            "period_end": pa.Column(None, _date_check()),
            "requests": pa.Column(None, _count_checks(blank_ok=False)),
            "honored": pa.Column(None, _count_checks(blank_ok=True)),
            "declined": pa.Column(None, _count_checks(blank_ok=True)),
            "source_ids": pa.Column(None, [_not_blank(), *_ids_known(source_ids, many=True)]),
        },
        checks=[
            *_period_checks(),
            _rows(
                "honored + declined must not exceed requests",
                ("requests", "honored", "declined"),
                outcomes_within_requests,
            ),
            _rows(
                "only one row may give the figure of one agency, reporter and period",
                ("agency", "reported_by", "period"),
                one_row_per_figure,
            ),
        ],
        strict=True,
    )


def sources_schema() -> pa.DataFrameSchema:
    """Schema of ``sources.csv``."""

    kinds = ", ".join(SOURCE_KINDS)
    return pa.DataFrameSchema(
        {
            "source_id": _id_column("source ids must be unique"),
            "publisher": pa.Column(None, _not_blank()),
            "title": pa.Column(None, _not_blank()),
            "author": pa.Column(None),
            "published": pa.Column(
                None, _cell("must be a date written YYYY, YYYY-MM or YYYY-MM-DD", lambda c: to_partial_date(c).notna())
            ),
            "url": pa.Column(
                None,
                _cell(
                    "must be blank or start with http:// or https://",
                    lambda c: c.str.match(r"https?://\S+$"),
                    blank_ok=True,
                ),
            ),
            "kind": pa.Column(None, _cell(f"must be one of {kinds}", lambda c: c.isin(SOURCE_KINDS))),
        },
        strict=True,
    )


def claims_schema(
    source_ids: Collection[str] | None, figures: Collection[tuple[str, str, str]] | None
) -> pa.DataFrameSchema:
    """Schema of ``claims.csv``, given the source ids and (agency, reporter, period) figures that exist.

    ``None`` for either means that table could not be read, so references to it are not checked.
    """

    def base_matches_metric(rows: Rows) -> Cells:
        growth = rows["metric"].isin(GROWTH_METRICS)
        return growth.eq(rows["base_period"].ne(""))

    def figures_exist(rows: Rows) -> Cells:
        def known(column: str) -> Cells:
            keys = zip(rows["agency"], rows["reported_by"], rows[column], strict=True)
            return pd.Series([key in figures or key[2] == "" for key in keys], index=rows.index)

        return known("period") & known("base_period")

    figure_checks = []
    if figures is not None:
        figure_checks.append(
            _rows(
                "the claim must refer to figures in detainer_requests.csv (same agency, reporter and period)",
                ("agency", "reported_by", "base_period", "period"),
                figures_exist,
            )
        )
    metrics = ", ".join(CLAIM_METRICS)
    return pa.DataFrameSchema(
        {
            "claim_id": _id_column("claim ids must be unique"),
            "claim": pa.Column(None, _not_blank()),
            "metric": pa.Column(None, _cell(f"must be one of {metrics}", lambda c: c.isin(CLAIM_METRICS))),
            "agency": pa.Column(None, _not_blank()),
            "reported_by": pa.Column(None, _not_blank()),
            "base_period": pa.Column(None),
            "period": pa.Column(None, _not_blank()),
            "claimed_value": pa.Column(None, _cell("must be a number", lambda c: to_number(c).notna())),
            "precision": pa.Column(
                None, _cell("must be a whole number of decimal places (0 or more)", lambda c: to_count(c).notna())
            ),
            "tolerance": pa.Column(
                None,
                _cell(
                    "must be blank or a fraction of 0 or more (0.1 is 10 percent)",
                    lambda c: to_number(c) >= 0,
                    blank_ok=True,
                ),
            ),
            "expected_to_hold": pa.Column(
                None, _cell("must be true or false", lambda c: c.str.lower().isin(["true", "false"]))
            ),
            "source_id": pa.Column(None, [_not_blank(), *_ids_known(source_ids, many=False)]),
        },
        checks=[
            _rows(
                "base_period is required for a growth metric (pct_change, fold) and must be blank otherwise",
                ("metric", "base_period"),
                base_matches_metric,
            ),
            *figure_checks,
        ],
        strict=True,
    )
