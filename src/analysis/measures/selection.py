"""Picking one agency's counts, as one reporter counted them, out of the requests table."""

from __future__ import annotations

import pandas as pd

from analysis.errors import MetricError
from analysis.measures.periods import comparable, period_kind
from analysis.measures.rates import DenialRate, Growth, denial_rate, growth
from analysis.params import check_text, choose


def series(requests: pd.DataFrame, agency: str, reported_by: str) -> pd.DataFrame:
    """The rows of ``agency`` as counted by ``reported_by``, oldest period first.

    Raises
    ------
    ParameterError
        When the agency, or that reporter for it, is not in the data; the
        message names the parameter and lists the valid choices.
    """
    choose("agency", check_text("agency", agency), sorted(set(requests["agency"])), "agencies in the data")
    rows = requests[requests["agency"] == agency]
    reporters = sorted(set(rows["reported_by"]))
    choose("reported_by", check_text("reported_by", reported_by), reporters, f"reporters of counts for {agency!r}")
    rows = rows[rows["reported_by"] == reported_by]
    return rows.sort_values("period_start", kind="stable").reset_index(drop=True)


def period_row(rows: pd.DataFrame, period: str, name: str = "period") -> pd.Series:
    """The row of ``period`` in one agency's and reporter's ``rows`` (from :func:`series`).

    Raises
    ------
    ParameterError
        When there is no such period; the message names the parameter ``name``
        and lists the periods there are.
    """
    choose(name, check_text(name, period), list(rows["period"]), "periods with a count for this agency and reporter")
    return rows[rows["period"] == period].iloc[0]


def kind_of(row: pd.Series) -> str:
    """The period kind of a requests row (see :func:`analysis.measures.periods.period_kind`)."""
    return period_kind(row["period_start"], row["period_end"])


def growth_of(base: pd.Series, compare: pd.Series) -> Growth:
    """Growth in requests from one requests row to another.

    Raises
    ------
    MetricError
        When the two periods are not of the same kind (e.g. a July-June year
        against a calendar year).
    """
    base_kind, compare_kind = kind_of(base), kind_of(compare)
    if not comparable(base_kind, compare_kind):
        raise MetricError(
            f"cannot compare {base['period']!r} ({base_kind}) with {compare['period']!r} ({compare_kind}): "
            "growth is only defined between periods of the same kind and length"
        )
    return growth(int(base["requests"]), int(compare["requests"]))


def growth_in(rows: pd.DataFrame, base_period: str, compare_period: str) -> Growth:
    """Growth between two periods of one agency's and reporter's ``rows`` (from :func:`series`).

    Raises
    ------
    ParameterError
        When a period is not in ``rows`` (naming ``base_period`` or ``compare_period``).
    MetricError
        When the two periods are not of the same kind.
    """
    return growth_of(period_row(rows, base_period, "base_period"), period_row(rows, compare_period, "compare_period"))


def other_reporters(requests: pd.DataFrame, agency: str, reported_by: str, periods: list[str]) -> pd.DataFrame:
    """The counts that reporters other than ``reported_by`` give for ``agency`` in ``periods``."""
    rows = requests[(requests["agency"] == agency) & (requests["reported_by"] != reported_by)]
    return rows[rows["period"].isin(periods)]


def outcome(row: pd.Series) -> DenialRate:
    """The denial rate of one requests row."""
    declined = None if pd.isna(row["declined"]) else int(row["declined"])
    return denial_rate(int(row["requests"]), declined)


def denial_rates(requests: pd.DataFrame, agency: str, reported_by: str) -> pd.DataFrame:
    """Denial rate of every period of ``agency`` as counted by ``reported_by``.

    Returns
    -------
    pandas.DataFrame
        Columns ``period``, ``requests``, ``honored``, ``declined``,
        ``denial_rate`` (a fraction), ``ci_low``, ``ci_high`` (``NaN`` where
        undefined) and ``note`` (why a rate is undefined, else blank).
    """
    rows = series(requests, agency, reported_by)
    rates = [outcome(row) for _, row in rows.iterrows()]
    return pd.DataFrame(
        {
            "period": rows["period"],
            "requests": rows["requests"],
            "honored": rows["honored"],
            "declined": rows["declined"],
            "denial_rate": [r.denial_rate for r in rates],
            "ci_low": [r.ci_low for r in rates],
            "ci_high": [r.ci_high for r in rates],
            "note": [r.note or "" for r in rates],
        }
    ).astype({"denial_rate": "float64", "ci_low": "float64", "ci_high": "float64"})
