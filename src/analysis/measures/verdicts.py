"""Judging published claims against the data (the verdicts; :mod:`analysis.studies.claims` tells them).

A claim is *supported* when the value computed from the claim's own counts
rounds to the claimed value at the claim's precision (or, for a loose claim
such as "nearly 20 times", lies within its recorded tolerance), *contradicted*
when it does not, and *not checkable* when the data cannot give the value
(e.g. the source does not report how many requests were declined). A change
between periods of unequal length is judged on requests per day, and the
verdict's reason says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

import pandas as pd

from analysis.data.schema import GROWTH_METRICS
from analysis.errors import MetricError
from analysis.measures.selection import growth_of, other_reporters, outcome, period_row, series
from analysis.numbers import exact_share

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_CHECKABLE = "not checkable"
UNITS = {
    "pct_change": "%",
    "fold": " times",
    "direction": "",
    "denial_pct": "% declined",
    "requests": " requests",
    "declined": " declined",
}
#: The direction of a change as a claim gives it (``claimed_value``), in words.
DIRECTIONS = {1: "a rise", 0: "no change", -1: "a fall"}


@dataclass(frozen=True)
class Check:
    """The verdict on one claim from one set of counts."""

    value: float | None
    verdict: str
    reason: str


@dataclass(frozen=True)
class Alternative:
    """The verdict when another reporter's count stands in for one period.

    ``count`` is that reporter's number of ``counted`` (``requests`` or ``declined``; ``None`` when blank).
    """

    reported_by: str
    period: str
    count: int | None
    counted: str
    check: Check


@dataclass(frozen=True)
class ClaimResult:
    """One claim, its verdict on its own counts, and on other reporters' counts."""

    claim: pd.Series
    check: Check
    alternatives: tuple[Alternative, ...]


def matches(value: float, claimed: float, precision: int, tolerance: float | None) -> bool:
    """Whether ``value`` bears out ``claimed`` at the claim's precision or tolerance."""
    if tolerance is not None and not math.isnan(tolerance):
        return abs(value - claimed) <= tolerance * abs(claimed)
    step = Decimal(1).scaleb(-precision)
    return _rounded(value, step) == _rounded(claimed, step)


def _rounded(number: float, step: Decimal) -> Decimal:
    """``number`` rounded half up to ``step``, exactly: with as many digits as the result holds (a value of 10**28
    at two decimal places has 31), not the 28 of Python's default decimal context."""
    exact = Decimal(repr(number))
    digits = max(exact.adjusted(), 0) - step.adjusted() + 2
    return exact.quantize(step, rounding=ROUND_HALF_UP, context=Context(prec=max(digits, 28)))


def _count(row: pd.Series, column: str) -> int | None:
    return None if pd.isna(row[column]) else int(row[column])


def _value(metric: str, base: pd.Series | None, row: pd.Series) -> tuple[float | None, str]:
    """The metric from a base row (changes only) and a row; or ``None`` and why not; and a caveat, if any."""
    if metric in ("requests", "declined"):
        count = _count(row, metric)
        missing = (
            "the source gives no count of requests"
            if metric == "requests"
            else ("the source does not report how many were declined")
        )
        return (None, missing) if count is None else (float(count), "")
    if metric == "denial_pct":
        rate = outcome(row)
        return (None, rate.note or "") if rate.denial_rate is None else (100 * rate.denial_rate, "")
    if base is None:
        raise MetricError(f"a change ({metric}) needs a base period")
    try:
        result = growth_of(base, row)
    except MetricError as error:
        return None, str(error)
    caveat = (
        f"; compared per day, because the periods differ in length ({result.base_days} days against "
        f"{result.compare_days})"
        if result.per_day
        else ""
    )
    if metric == "direction":
        change = result.fold - 1 if result.fold is not None else float(result.compare_requests)
        size = "" if result.pct_change is None else f" of {abs(result.pct_change):,.0f}%"
        return float((change > 0) - (change < 0)), f"{size}{' in requests per day' if result.per_day else ''}{caveat}"
    value = result.pct_change if metric == "pct_change" else result.fold
    return (None, "the base period has zero requests") if value is None else (value, caveat)


def _shown(metric: str, value: float, precision: int) -> str:
    if metric == "direction":
        return DIRECTIONS[int(value)]
    if metric in ("requests", "declined"):
        return f"{value:,.0f}{UNITS[metric]}"
    return f"{value:,.{max(precision, 1)}f}{UNITS[metric]}"


def _judge(claim: pd.Series, base: pd.Series | None, row: pd.Series) -> Check:
    value, said = _value(claim["metric"], base, row)
    if value is None:
        return Check(None, NOT_CHECKABLE, said)
    metric, precision = claim["metric"], int(claim["precision"])
    if metric == "direction":
        ok = value == claim["claimed_value"]
        claimed = DIRECTIONS.get(int(claim["claimed_value"]), f"{claim['claimed_value']}")
        verdict = "as claimed" if ok else f"where the claim says {claimed}"
        return Check(
            value, SUPPORTED if ok else CONTRADICTED, f"the data give {_shown(metric, value, 0)}{said}, {verdict}"
        )
    ok = matches(value, float(claim["claimed_value"]), precision, claim["tolerance"])
    claimed = f"{claim['claimed_value']:,.{precision}f}{UNITS[metric]}"
    if metric in ("requests", "declined"):
        how = f"is the claimed {claimed}" if ok else f"is not the claimed {claimed}"
    elif pd.isna(claim["tolerance"]):
        how = f"rounds to the claimed {claimed}" if ok else f"does not round to the claimed {claimed}"
    else:
        how = f"is {'' if ok else 'not '}within {exact_share(claim['tolerance'])} of the claimed {claimed}"
    shown = _shown(metric, value, precision)
    return Check(value, SUPPORTED if ok else CONTRADICTED, f"the data give {shown}, which {how}{said}")


def check_claim(requests: pd.DataFrame, claim: pd.Series) -> ClaimResult:
    """Judge one claim on its own reporter's counts (of the claim's kind of request), then with each other
    reporter's count of the same kind swapped in."""
    rows = series(requests, claim["agency"], claim["reported_by"], claim["request_kind"])
    change = claim["metric"] in GROWTH_METRICS
    base = period_row(rows, claim["base_period"], "base_period") if change else None
    row = period_row(rows, claim["period"])
    check = _judge(claim, base, row)

    counted = "declined" if claim["metric"] == "declined" else "requests"
    alternatives = []
    periods = [claim["base_period"], claim["period"]] if change else [claim["period"]]
    others = other_reporters(requests, claim["agency"], claim["reported_by"], claim["request_kind"], periods)
    for _, other in others.iterrows():
        swapped_base = other if change and other["period"] == claim["base_period"] else base
        swapped_row = other if other["period"] == claim["period"] else row
        judged = _judge(claim, swapped_base, swapped_row)
        alternatives.append(
            Alternative(str(other["reported_by"]), str(other["period"]), _count(other, counted), counted, judged)
        )
    return ClaimResult(claim, check, tuple(alternatives))


def check_claims(requests: pd.DataFrame, claims: pd.DataFrame) -> list[ClaimResult]:
    """Judge every claim, in the order of the claims table."""
    return [check_claim(requests, claim) for _, claim in claims.iterrows()]


def failures(results: list[ClaimResult]) -> list[ClaimResult]:
    """Claims presented as fact that their own counts contradict."""
    return [r for r in results if r.claim["expected_to_hold"] and r.check.verdict == CONTRADICTED]
