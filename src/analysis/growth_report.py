"""Growth between two periods, told in sentences and tables for the growth notebook."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.metrics import Growth
from analysis.selection import growth_in, growth_of, other_reporters, series

#: Keys of the growth notebook's JSON output, in the order they are documented.
GROWTH_KEYS = (
    "base_requests",
    "compare_requests",
    "abs_change",
    "pct_change",
    "fold",
    "rate_ratio_ci_low",
    "rate_ratio_ci_high",
    "p_value",
)


def p_text(p_value: float | None) -> str:
    """A p-value as it is written in the report."""
    if p_value is None:
        return "not defined"
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def change_text(result: Growth) -> str:
    """``+42 requests, +280%, 3.8 times as many`` (or the wording of a fall or an undefined change)."""
    sign = "+" if result.abs_change >= 0 else "−"
    parts = [f"{sign}{abs(result.abs_change):,} requests"]
    if result.pct_change is None:
        parts.append("percent change undefined (no requests in the base period)")
    else:
        parts.append(f"{sign}{abs(result.pct_change):.0f}%")
        parts.append(f"{result.fold:.1f} times as many")
    return ", ".join(parts)


@dataclass(frozen=True)
class GrowthStudy:
    """The growth notebook's question answered for one agency, reporter and pair of periods."""

    agency: str
    reported_by: str
    base_period: str
    compare_period: str
    series: pd.DataFrame
    others: pd.DataFrame
    result: Growth

    @property
    def title(self) -> str:
        """Chart title."""
        return f"Detainer requests to the {self.agency}, {self.base_period} and {self.compare_period} marked"

    def headline(self) -> str:
        """The result in one sentence built from the computed values."""
        r = self.result
        direction = "up from" if r.abs_change > 0 else "down from" if r.abs_change < 0 else "the same as"
        counted = "By its own count" if self.reported_by == self.agency else f"By the count of {self.reported_by}"
        return (
            f"{counted}, the {self.agency} received {r.compare_requests:,} detainer requests "
            f"in {self.compare_period}, {direction} {r.base_requests:,} in {self.base_period}: {change_text(r)}."
        )

    def uncertainty(self) -> str:
        """The rate-ratio interval and p-value in one sentence."""
        r = self.result
        if r.rate_ratio_ci_low is None:
            return "With no requests in either period there is no rate ratio to estimate."
        high = "an unbounded upper limit" if r.rate_ratio_ci_high is None else f"{r.rate_ratio_ci_high:.2f}"
        return (
            f"Treating requests as independent events, the {self.compare_period} rate was between "
            f"{r.rate_ratio_ci_low:.2f} and {high} times the {self.base_period} rate (exact 95% interval); "
            f"the exact test of no change in the underlying rate gives {p_text(r.p_value)}."
        )

    def table(self) -> pd.DataFrame:
        """Every computed value, one per row, with what it means."""
        meaning = {
            "base_requests": f"requests in {self.base_period}",
            "compare_requests": f"requests in {self.compare_period}",
            "abs_change": "absolute change",
            "pct_change": "percent change",
            "fold": "later count / earlier count",
            "rate_ratio_ci_low": "rate ratio, lower 95% limit",
            "rate_ratio_ci_high": "rate ratio, upper 95% limit",
            "p_value": "exact two-sided p-value (no change)",
        }
        values = self.to_json()
        shown = ["undefined" if values[k] is None else f"{values[k]:,.4g}" for k in meaning]
        return pd.DataFrame(
            {"measure": list(meaning.values()), "value": shown}, index=pd.Index(list(meaning), name="key")
        )

    def others_text(self) -> str:
        """How the result changes with another reporter's figure for a compared period."""
        if self.others.empty:
            return "No other reporter gives a figure for either compared period."
        sentences = []
        for row in self.others.itertuples(index=False):
            sentences.append(
                f"Using {row.reported_by}'s count of {row.requests:,} for {row.period} instead of "
                f"{row.replaces:,} turns the change into {row.change}."
            )
        return " ".join(sentences)

    def to_json(self) -> dict[str, object]:
        """The notebook's figures as numbers (keys :data:`GROWTH_KEYS`; ``None`` where undefined)."""
        values = self.result.to_dict()
        return {key: values[key] for key in GROWTH_KEYS}


def _others(
    requests: pd.DataFrame,
    study_rows: pd.DataFrame,
    agency: str,
    reported_by: str,
    base_period: str,
    compare_period: str,
) -> pd.DataFrame:
    """Other reporters' figures for the compared periods, with the growth each would give."""
    records = []
    ours = study_rows.set_index("period", drop=False)
    for _, row in other_reporters(requests, agency, reported_by, [base_period, compare_period]).iterrows():
        base = row if row["period"] == base_period else ours.loc[base_period]
        compare = row if row["period"] == compare_period else ours.loc[compare_period]
        alternative = growth_of(base, compare)
        if alternative.pct_change is None:
            change = "an undefined percent change"
        elif alternative.pct_change >= 0:
            change = f"a rise of {alternative.pct_change:.0f}%"
        else:
            change = f"a fall of {-alternative.pct_change:.0f}%"
        records.append(
            {
                "period": row["period"],
                "reported_by": row["reported_by"],
                "requests": int(row["requests"]),
                "replaces": int(ours.loc[row["period"], "requests"]),
                "pct_change": alternative.pct_change,
                "fold": alternative.fold,
                "change": change,
            }
        )
    columns = ["period", "reported_by", "requests", "replaces", "pct_change", "fold", "change"]
    return pd.DataFrame.from_records(records, columns=columns)


def growth_study(
    requests: pd.DataFrame, agency: str, reported_by: str, base_period: str, compare_period: str
) -> GrowthStudy:
    """Check the parameters against the data and compute the growth study.

    Raises
    ------
    ParameterError
        When an agency, reporter or period is not in the data (listing the choices).
    MetricError
        When the two periods are not of the same kind.
    """
    rows = series(requests, agency, reported_by)
    result = growth_in(rows, base_period, compare_period)
    others = _others(requests, rows, agency, reported_by, base_period, compare_period)
    return GrowthStudy(agency, reported_by, base_period, compare_period, rows, others, result)
