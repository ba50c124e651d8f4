"""Judging published claims against the data (the verdicts; :mod:`analysis.studies.claims` tells them).

A claim is *supported* when the value computed from the claim's own counts
rounds to the claimed value at the claim's precision (or, for a loose claim
such as "nearly 20 times", lies within its recorded tolerance), *contradicted*
when it does not, and *not checkable* when the data cannot give the value
(e.g. the source does not report how many requests were declined).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from analysis.errors import MetricError
from analysis.measures.selection import growth_of, other_reporters, outcome, period_row, series

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_CHECKABLE = "not checkable"
UNITS = {"pct_change": "%", "fold": " times", "denial_pct": "% declined"}


@dataclass(frozen=True)
class Check:
    """The verdict on one claim from one set of counts."""

    value: float | None
    verdict: str
    reason: str


@dataclass(frozen=True)
class Alternative:
    """The verdict when another reporter's count stands in for one period."""

    reported_by: str
    period: str
    requests: int
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
    return Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP) == Decimal(repr(claimed)).quantize(step)


def _value(metric: str, base: pd.Series | None, row: pd.Series) -> tuple[float | None, str]:
    """The metric from a base row (growth metrics only) and a row; or ``None`` and why not."""
    if metric == "denial_pct":
        rate = outcome(row)
        return (None, rate.note or "") if rate.denial_rate is None else (100 * rate.denial_rate, "")
    if base is None:
        raise MetricError(f"a growth metric ({metric}) needs a base period")
    try:
        result = growth_of(base, row)
    except MetricError as error:
        return None, str(error)
    value = result.pct_change if metric == "pct_change" else result.fold
    return (None, "the base period has zero requests") if value is None else (value, "")


def _judge(claim: pd.Series, base: pd.Series | None, row: pd.Series) -> Check:
    value, reason = _value(claim["metric"], base, row)
    if value is None:
        return Check(None, NOT_CHECKABLE, reason)
    precision = int(claim["precision"])
    ok = matches(value, float(claim["claimed_value"]), precision, claim["tolerance"])
    shown = f"{value:,.{max(precision, 1)}f}{UNITS[claim['metric']]}"
    claimed = f"{claim['claimed_value']:,.{precision}f}{UNITS[claim['metric']]}"
    if pd.isna(claim["tolerance"]):
        how = f"rounds to the claimed {claimed}" if ok else f"does not round to the claimed {claimed}"
    else:
        how = f"is {'' if ok else 'not '}within {claim['tolerance']:.0%} of the claimed {claimed}"
    return Check(value, SUPPORTED if ok else CONTRADICTED, f"the data give {shown}, which {how}")


def check_claim(requests: pd.DataFrame, claim: pd.Series) -> ClaimResult:
    """Judge one claim on its own reporter's counts, then with each other reporter's count swapped in."""
    rows = series(requests, claim["agency"], claim["reported_by"])
    growth_metric = claim["metric"] != "denial_pct"
    base = period_row(rows, claim["base_period"], "base_period") if growth_metric else None
    row = period_row(rows, claim["period"])
    check = _judge(claim, base, row)

    alternatives = []
    periods = [claim["base_period"], claim["period"]] if growth_metric else [claim["period"]]
    for _, other in other_reporters(requests, claim["agency"], claim["reported_by"], periods).iterrows():
        swapped_base = other if growth_metric and other["period"] == claim["base_period"] else base
        swapped_row = other if other["period"] == claim["period"] else row
        judged = _judge(claim, swapped_base, swapped_row)
        alternatives.append(
            Alternative(str(other["reported_by"]), str(other["period"]), int(other["requests"]), judged)
        )
    return ClaimResult(claim, check, tuple(alternatives))


def check_claims(requests: pd.DataFrame, claims: pd.DataFrame) -> list[ClaimResult]:
    """Judge every claim, in the order of the claims table."""
    return [check_claim(requests, claim) for _, claim in claims.iterrows()]


def failures(results: list[ClaimResult]) -> list[ClaimResult]:
    """Claims presented as fact that their own counts contradict."""
    return [r for r in results if r.claim["expected_to_hold"] and r.check.verdict == CONTRADICTED]
