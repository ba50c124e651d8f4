"""Checking published claims against the data.

A claim is *supported* when the value computed from the claim's own figures
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

from analysis.exceptions import MetricError
from analysis.selection import figure, growth_of, other_reporters, outcome, series

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_CHECKABLE = "not checkable"
UNITS = {"pct_change": "%", "fold": " times", "denial_pct": "% declined"}


@dataclass(frozen=True)
class Check:
    """The verdict on one claim from one set of figures."""

    value: float | None
    verdict: str
    reason: str


@dataclass(frozen=True)
class Alternative:
    """The verdict when another reporter's figure stands in for one period."""

    reported_by: str
    period: str
    requests: int
    check: Check


@dataclass(frozen=True)
class ClaimResult:
    """One claim, its verdict on its own figures, and on other reporters' figures."""

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
    """Judge one claim on its own reporter's figures, then with each other reporter's figure swapped in."""
    rows = series(requests, claim["agency"], claim["reported_by"])
    growth_metric = claim["metric"] != "denial_pct"
    base = figure(rows, claim["base_period"], "base_period") if growth_metric else None
    row = figure(rows, claim["period"])
    check = _judge(claim, base, row)

    alternatives = []
    periods = [claim["base_period"], claim["period"]] if growth_metric else [claim["period"]]
    for other in other_reporters(requests, claim["agency"], claim["reported_by"], periods).itertuples(index=False):
        swapped = pd.Series(other._asdict())
        swapped_base = swapped if growth_metric and other.period == claim["base_period"] else base
        swapped_row = swapped if other.period == claim["period"] else row
        alternatives.append(
            Alternative(other.reported_by, other.period, int(other.requests), _judge(claim, swapped_base, swapped_row))
        )
    return ClaimResult(claim, check, tuple(alternatives))


def check_claims(requests: pd.DataFrame, claims: pd.DataFrame) -> list[ClaimResult]:
    """Judge every claim, in the order of the claims table."""
    return [check_claim(requests, claim) for _, claim in claims.iterrows()]


def failures(results: list[ClaimResult]) -> list[ClaimResult]:
    """Claims presented as fact that their own figures contradict."""
    return [r for r in results if r.claim["expected_to_hold"] and r.check.verdict == CONTRADICTED]


def summary(results: list[ClaimResult]) -> str:
    """How many claims each verdict got, in one sentence."""
    counts = {
        verdict: sum(r.check.verdict == verdict for r in results)
        for verdict in (SUPPORTED, CONTRADICTED, NOT_CHECKABLE)
    }
    listed = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    return f"Of {len(results)} published claims checked against their own reporters' figures: {listed}."


def changed_verdicts(results: list[ClaimResult]) -> str:
    """Which verdicts another reporter's figure would change, in sentences."""
    sentences = [
        f"{r.claim['claim_id']} is {r.check.verdict} on {r.claim['reported_by']}'s figures but "
        f"{alt.check.verdict} with {alt.reported_by}'s {alt.period} count of {alt.requests:,} "
        f"({alt.check.reason})."
        for r in results
        for alt in r.alternatives
        if alt.check.verdict != r.check.verdict
    ]
    return " ".join(sentences) or "No other reporter's figure changes any verdict."


def _alternatives_text(result: ClaimResult) -> str:
    parts = []
    for alt in result.alternatives:
        changed = " (changes the verdict)" if alt.check.verdict != result.check.verdict else ""
        parts.append(
            f"with {alt.reported_by}'s {alt.period} count of {alt.requests:,}: {alt.check.verdict}{changed}; "
            f"{alt.check.reason}"
        )
    return " | ".join(parts)


def claims_table(results: list[ClaimResult], sources: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: who said it, what it says, what the data give, the verdict, other reporters."""
    publishers = sources.set_index("source_id")["publisher"]
    published = sources.set_index("source_id")["published"]
    return pd.DataFrame(
        {
            "claim_id": [r.claim["claim_id"] for r in results],
            "source": [f"{publishers[r.claim['source_id']]}, {published[r.claim['source_id']]}" for r in results],
            "claim": [r.claim["claim"] for r in results],
            "data": [r.check.reason for r in results],
            "verdict": [r.check.verdict for r in results],
            "other_reporters": [_alternatives_text(r) for r in results],
        }
    )


def claims_json(results: list[ClaimResult]) -> dict[str, object]:
    """Verdict and computed value of every claim, keyed by claim id."""
    return {
        r.claim["claim_id"]: {
            "verdict": r.check.verdict,
            "value": r.check.value,
            "reason": r.check.reason,
            "alternatives": [
                {
                    "reported_by": a.reported_by,
                    "period": a.period,
                    "requests": a.requests,
                    "verdict": a.check.verdict,
                    "value": a.check.value,
                }
                for a in r.alternatives
            ],
        }
        for r in results
    }


def claims_text(results: list[ClaimResult], sources: pd.DataFrame) -> str:
    """The claims table for a terminal: one block per claim, then the tally."""
    table = claims_table(results, sources)
    blocks = []
    for row in table.itertuples(index=False):
        lines = [
            f"{row.claim_id}: {row.verdict.upper()}",
            f"  claim:  {row.claim} ({row.source})",
            f"  data:   {row.data}",
        ]
        lines += [f"  other:  {part}" for part in row.other_reporters.split(" | ") if part]
        blocks.append("\n".join(lines))
    return "\n\n".join([*blocks, summary(results)])
