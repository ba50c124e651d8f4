"""Picking one agency's figures, as one reporter counted them, out of the requests table."""

from __future__ import annotations

import pandas as pd

from analysis.exceptions import MetricError, SelectionError
from analysis.metrics import DenialRate, Growth, denial_rate, growth
from analysis.periods import comparable, period_kind


def _choices(values: pd.Series) -> str:
    return ", ".join(repr(v) for v in sorted(set(values)))


def series(requests: pd.DataFrame, agency: str, reported_by: str) -> pd.DataFrame:
    """The rows of ``agency`` as counted by ``reported_by``, oldest period first.

    Raises
    ------
    SelectionError
        When the agency, or that reporter for it, is not in the data; the
        message lists the valid choices.
    """
    if agency not in set(requests["agency"]):
        raise SelectionError(f"agency {agency!r} is not in the data; choose one of: {_choices(requests['agency'])}")
    rows = requests[requests["agency"] == agency]
    if reported_by not in set(rows["reported_by"]):
        raise SelectionError(
            f"reported_by {reported_by!r} has no figures for {agency!r}; choose one of: {_choices(rows['reported_by'])}"
        )
    rows = rows[rows["reported_by"] == reported_by]
    return rows.sort_values("period_start", kind="stable").reset_index(drop=True)


def figure(requests: pd.DataFrame, agency: str, reported_by: str, period: str) -> pd.Series:
    """The one row for ``agency``, ``reported_by`` and ``period``.

    Raises
    ------
    SelectionError
        When there is no such row; the message lists the periods there are.
    """
    rows = series(requests, agency, reported_by)
    match = rows[rows["period"] == period]
    if match.empty:
        raise SelectionError(
            f"period {period!r} has no figure for {agency!r} as reported by {reported_by!r}; "
            f"choose one of: {', '.join(repr(p) for p in rows['period'])}"
        )
    return match.iloc[0]


def kind_of(row: pd.Series) -> str:
    """The period kind of a requests row (see :func:`analysis.periods.period_kind`)."""
    return period_kind(row["period_start"], row["period_end"])


def growth_between(
    requests: pd.DataFrame, agency: str, reported_by: str, base_period: str, compare_period: str
) -> Growth:
    """Growth in requests between two periods of one agency, as one reporter counted them.

    Raises
    ------
    SelectionError
        When a period is not in the data.
    MetricError
        When the two periods are not of the same kind (e.g. a July-June year
        against a calendar year).
    """
    base = figure(requests, agency, reported_by, base_period)
    compare = figure(requests, agency, reported_by, compare_period)
    base_kind, compare_kind = kind_of(base), kind_of(compare)
    if not comparable(base_kind, compare_kind):
        raise MetricError(
            f"cannot compare {base_period!r} ({base_kind}) with {compare_period!r} ({compare_kind}): "
            "growth is only defined between periods of the same kind and length"
        )
    return growth(int(base["requests"]), int(compare["requests"]))


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
