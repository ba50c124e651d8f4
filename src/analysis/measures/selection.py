"""Picking one agency's counts, as one reporter counted them, of one kind of request, out of the requests table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import pandas as pd

from analysis.errors import MetricError, ParameterError
from analysis.measures.periods import comparable, period_days, period_kind
from analysis.measures.rates import DenialRate, Growth, denial_rate, growth, share
from analysis.params import ParameterProblems, check_text, choose

#: One row of the requests table: a pandas row, or the same as a mapping of column to value (faster, row by row).
Row: TypeAlias = "pd.Series | Mapping[str, Any]"

#: Each kind of request in words, as the report names it wherever a count appears.
KIND_WORDS = {
    "detainer": "detainer requests",
    "notification": "notification requests",
    "any": "ICE requests of every kind",
}


def series(requests: pd.DataFrame, agency: str, reported_by: str, request_kind: str | None = None) -> pd.DataFrame:
    """The rows of ``agency`` as counted by ``reported_by``, of one kind of request, oldest period first.

    ``request_kind`` may be left out (``None``) when that reporter gives counts of one kind only.

    Raises
    ------
    ParameterError
        When the agency, that reporter for it, or that kind is not in the data, or the reporter
        gives counts of two kinds and none was chosen; the message names each bad parameter, one
        per line, and lists the valid choices. Counts of different kinds of request are never mixed.
    """
    problems = ParameterProblems()
    agencies = sorted(set(requests["agency"]))
    with problems.checking():
        choose("agency", check_text("agency", agency), agencies, "agencies in the data")
    # What: with the agency wrong, the reporter and kind are still checked, against the whole table.
    known_agency = isinstance(agency, str) and agency in agencies
    rows = requests[requests["agency"] == agency] if known_agency else requests
    reporters = sorted(set(rows["reported_by"]))
    what = f"reporters of counts for {agency!r}" if known_agency else "reporters in the data"
    with problems.checking():
        choose("reported_by", check_text("reported_by", reported_by), reporters, what)
    known = known_agency and isinstance(reported_by, str) and reported_by in reporters
    if known:
        rows = rows[rows["reported_by"] == reported_by]
    kinds = sorted(set(rows["request_kind"]))
    if request_kind is None and known and len(kinds) > 1:
        problems.messages.append(
            f"parameter request_kind: {reported_by!r} gives counts of {len(kinds)} kinds of request for "
            f"{agency!r} ({', '.join(kinds)}); counts of different kinds are never mixed, so choose one"
        )
    elif request_kind is not None:
        what = f"kinds of request counted for {agency!r}" if known_agency else "kinds of request in the data"
        with problems.checking():
            choose("request_kind", check_text("request_kind", request_kind), kinds, what)
    problems.raise_all()
    if request_kind is None:
        request_kind = kinds[0]
    rows = rows[rows["request_kind"] == request_kind]
    return rows.sort_values("period_start", kind="stable").reset_index(drop=True)


def period_row(rows: pd.DataFrame, period: str, name: str = "period") -> pd.Series:
    """The row of ``period`` in one agency's, reporter's and kind's ``rows`` (from :func:`series`).

    Raises
    ------
    ParameterError
        When there is no such period; the message names the parameter ``name``
        and lists the periods there are.
    """
    choose(name, check_text(name, period), list(rows["period"]), "periods with a count for this agency and reporter")
    return rows[rows["period"] == period].iloc[0]


def kind_of(row: Row) -> str:
    """The period kind of a requests row (see :func:`analysis.measures.periods.period_kind`)."""
    return period_kind(row["period_start"], row["period_end"])


def days_of(row: Row) -> int:
    """The length of a requests row's period, in days."""
    return period_days(row["period_start"], row["period_end"])


def growth_of(base: Row, compare: Row) -> Growth:
    """Growth in requests from one requests row to another: counts for like periods, requests per day otherwise.

    Raises
    ------
    MetricError
        When the rows count different kinds of request, a row gives no count of
        requests, or two periods of a year each are of different kinds (a
        July-June year is never compared with a calendar year).
    """
    if base["request_kind"] != compare["request_kind"]:
        raise MetricError(
            f"cannot compare {KIND_WORDS[str(base['request_kind'])]} with {KIND_WORDS[str(compare['request_kind'])]}:"
            " counts of different kinds of request are never compared"
        )
    for row in (base, compare):
        if pd.isna(row["requests"]):
            raise MetricError(f"{row['period']!r} has no count of requests: the source gives only outcomes")
    base_kind, compare_kind = kind_of(base), kind_of(compare)
    base_days, compare_days = days_of(base), days_of(compare)
    if comparable(base_kind, compare_kind):
        return growth(int(base["requests"]), int(compare["requests"]))
    if {base_days, compare_days} <= {365, 366}:
        raise MetricError(
            f"cannot compare {base['period']!r} ({base_kind}) with {compare['period']!r} ({compare_kind}): "
            "growth between years is only defined for years of the same kind"
        )
    return growth(int(base["requests"]), int(compare["requests"]), base_days=base_days, compare_days=compare_days)


def growth_in(rows: pd.DataFrame, base_period: str, compare_period: str) -> Growth:
    """Growth between two periods of one agency's, reporter's and kind's ``rows`` (from :func:`series`).

    Raises
    ------
    ParameterError
        When a period is not in ``rows`` (naming ``base_period`` or ``compare_period``; both, one per line,
        when both are wrong), or the base period does not start before the compared one.
    MetricError
        As :func:`growth_of`.
    """
    problems = ParameterProblems()
    found = []
    for period, name in ((base_period, "base_period"), (compare_period, "compare_period")):
        with problems.checking():
            found.append(period_row(rows, period, name))
    problems.raise_all()
    base, compare = found
    if base["period_start"] >= compare["period_start"]:
        raise ParameterError(
            f"parameter base_period: {base_period!r} does not start before compare_period {compare_period!r}; "
            "growth runs from an earlier period to a later one"
        )
    return growth_of(base, compare)


def growth_between(
    requests: pd.DataFrame,
    agency: str,
    reported_by: str,
    request_kind: str | None,
    base_period: str,
    compare_period: str,
) -> tuple[pd.DataFrame, Growth]:
    """:func:`series` and :func:`growth_in` together: the rows and the growth between two of their periods.

    Raises
    ------
    ParameterError
        Naming every bad parameter at once, one per line: with the agency, reporter or kind wrong, each period
        is still checked against the periods in the whole table.
    MetricError
        As :func:`growth_of`.
    """
    try:
        rows = series(requests, agency, reported_by, request_kind)
    except ParameterError as error:
        wrong = error
    else:
        return rows, growth_in(rows, base_period, compare_period)
    problems = ParameterProblems()
    problems.messages.extend(str(wrong).splitlines())
    periods = sorted(set(requests["period"]))
    for period, name in ((base_period, "base_period"), (compare_period, "compare_period")):
        with problems.checking():
            choose(name, check_text(name, period), periods, "periods in the data")
    problems.raise_all()
    raise wrong  # What: not reached; raise_all raised with the series' problems at least.


def other_reporters(
    requests: pd.DataFrame, agency: str, reported_by: str, request_kind: str, periods: list[str]
) -> pd.DataFrame:
    """The counts of the same kind that reporters other than ``reported_by`` give for ``agency`` in ``periods``."""
    rows = requests[
        (requests["agency"] == agency)
        & (requests["reported_by"] != reported_by)
        & (requests["request_kind"] == request_kind)
    ]
    return rows[rows["period"].isin(periods)]


def _count(value: object) -> int | None:
    return None if value is None or value is pd.NA else int(str(value))


#: Why a notification-request row has no denial rate.
NOTIFICATION_NOTE = "notification requests ask to be told of a release, not to hold anyone: the share answered is given"


def outcome(row: Row) -> DenialRate:
    """The denial rate of one requests row (for notification requests: none; see :func:`answered`)."""
    if row["request_kind"] == "notification":
        return DenialRate(_count(row["requests"]), _count(row["declined"]), None, None, None, NOTIFICATION_NOTE)
    requests = _count(row["requests"])
    if requests is None:
        return DenialRate(None, _count(row["declined"]), None, None, None, share(None, None, "declined")[3])
    return denial_rate(requests, _count(row["declined"]))


def answered(row: Row) -> tuple[float | None, float | None, float | None, str | None]:
    """For a notification-request row: the share of requests the agency answered (honored), with its interval."""
    return share(_count(row["requests"]), _count(row["honored"]), "answered")


def denial_rates(
    requests: pd.DataFrame, agency: str, reported_by: str, request_kind: str | None = None
) -> pd.DataFrame:
    """The share of requests declined (detainer requests, or any) or answered (notification requests) per period.

    Returns
    -------
    pandas.DataFrame
        Columns ``period``, ``period_start``, ``period_end`` (the period's first and last day),
        ``request_kind``, ``requests``, ``honored``, ``declined`` (counts,
        ``<NA>`` where the source does not say), ``share_of`` (``declined`` or ``answered``),
        ``rate`` (a fraction), ``ci_low``, ``ci_high`` (``NaN`` where undefined) and ``note``
        (why a rate is undefined, else blank).
    """
    rows = series(requests, agency, reported_by, request_kind)
    shares = []
    for _, row in rows.iterrows():
        if row["request_kind"] == "notification":
            shares.append(("answered", *answered(row)))
        else:
            rate = outcome(row)
            shares.append(("declined", rate.denial_rate, rate.ci_low, rate.ci_high, rate.note))
    return pd.DataFrame(
        {
            "period": rows["period"],
            "period_start": rows["period_start"],
            "period_end": rows["period_end"],
            "request_kind": rows["request_kind"],
            "requests": rows["requests"],
            "honored": rows["honored"],
            "declined": rows["declined"],
            "share_of": [s[0] for s in shares],
            "rate": [s[1] for s in shares],
            "ci_low": [s[2] for s in shares],
            "ci_high": [s[3] for s in shares],
            "note": [s[4] or "" for s in shares],
        }
    ).astype({"rate": "float64", "ci_low": "float64", "ci_high": "float64"})
