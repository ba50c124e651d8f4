"""The growth study: the change in requests between two periods of one agency, as one reporter counted them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.load import Dataset
from analysis.measures.rates import CONFIDENCE, Growth, level
from analysis.measures.selection import growth_in, growth_of, other_reporters, series
from analysis.studies.base import Study
from analysis.studies.charts import requests_chart
from analysis.studies.tables import Column, ReaderTable, reader_table
from analysis.studies.text import change_text, count, interval_text, p_text, ratio, signed_pct

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


def counted_by(agency: str, reported_by: str) -> str:
    """``its own count`` or ``the count of REPORTER``."""
    return "its own count" if reported_by == agency else f"the count of {reported_by}"


@dataclass(frozen=True)
class GrowthStudy(Study):
    """The growth notebook's question answered for one agency, reporter and pair of periods."""

    agency: str
    reported_by: str
    base_period: str
    compare_period: str
    series: pd.DataFrame
    others: pd.DataFrame
    result: Growth
    confidence: float = CONFIDENCE

    @property
    def title(self) -> str:
        return f"Growth in requests: {self.agency}, {self.base_period} to {self.compare_period}"

    @property
    def headline(self) -> str:
        r = self.result
        direction = "up from" if r.abs_change > 0 else "down from" if r.abs_change < 0 else "the same as"
        return (
            f"By {counted_by(self.agency, self.reported_by)}, the {self.agency} received "
            f"{r.compare_requests:,} detainer requests in {self.compare_period}, {direction} "
            f"{r.base_requests:,} in {self.base_period}: {change_text(r)}; {interval_text(r, self.confidence)}."
        )

    def uncertainty(self) -> str:
        """The rate-ratio interval and p-value in one sentence."""
        return (
            f"Treating requests as independent events and comparing the {self.compare_period} rate with the "
            f"{self.base_period} rate: {interval_text(self.result, self.confidence)}."
        )

    def others_text(self) -> str:
        """How the result changes with another reporter's count for a compared period."""
        if self.others.empty:
            return "No other reporter gives a count for either compared period."
        return " ".join(
            f"Using {row.reported_by}'s count of {row.requests:,} for {row.period} instead of "
            f"{row.replaces:,} turns the change into {row.change}."
            for row in self.others.itertuples(index=False)
        )

    def tables(self) -> dict[str, ReaderTable]:
        r, pct = self.result, level(self.confidence)
        values = pd.DataFrame(
            {
                "measure": [
                    f"requests in {self.base_period}",
                    f"requests in {self.compare_period}",
                    "absolute change (requests)",
                    "percent change",
                    "fold (later count / earlier count)",
                    f"rate ratio, lower {pct} limit",
                    f"rate ratio, upper {pct} limit",
                    "exact two-sided test of no change",
                ],
                "value": [
                    count(r.base_requests),
                    count(r.compare_requests),
                    f"{r.abs_change:+,}".replace("-", "−"),
                    signed_pct(r.pct_change),
                    ratio(r.fold, 1),
                    ratio(r.rate_ratio_ci_low),
                    "unbounded"
                    if r.rate_ratio_ci_low is not None and r.rate_ratio_ci_high is None
                    else ratio(r.rate_ratio_ci_high),
                    p_text(r.p_value),
                ],
            }
        )
        others = {
            "period": Column("period"),
            "reported_by": Column("reporter"),
            "requests": Column("their count (requests)", count),
            "replaces": Column("in place of (requests)", count),
            "pct_change": Column("percent change with their count", signed_pct),
            "fold": Column("fold with their count", lambda v: ratio(v, 1)),
        }
        return {
            "values": reader_table("growth-values", values, {"measure": Column("measure"), "value": Column("value")}),
            "others": reader_table("growth-others", self.others, others),
        }

    def draw(self) -> dict[str, Figure]:
        title = f"Detainer requests to the {self.agency}, {self.base_period} and {self.compare_period} marked"
        chart = requests_chart(self.series, marked=(self.base_period, self.compare_period), title=title)
        return {"02-growth-requests": chart}

    def to_json(self) -> dict[str, object]:
        """The computed values (keys :data:`GROWTH_KEYS`; ``None`` where undefined)."""
        values = self.result.to_dict()
        return {key: values[key] for key in GROWTH_KEYS}


def _change(alternative: Growth) -> str:
    if alternative.pct_change is None:
        return "an undefined percent change"
    if alternative.pct_change >= 0:
        return f"a rise of {alternative.pct_change:.0f}%"
    return f"a fall of {-alternative.pct_change:.0f}%"


def _others(
    requests: pd.DataFrame, rows: pd.DataFrame, agency: str, reported_by: str, periods: list[str]
) -> pd.DataFrame:
    """Other reporters' counts for the compared ``periods`` (base, compare), with the growth each would give."""
    base_period, compare_period = periods
    records = []
    ours = rows.set_index("period", drop=False)
    for _, row in other_reporters(requests, agency, reported_by, periods).iterrows():
        base = row if row["period"] == base_period else cast(pd.Series, ours.loc[base_period])
        compare = row if row["period"] == compare_period else cast(pd.Series, ours.loc[compare_period])
        alternative = growth_of(base, compare)
        records.append(
            {
                "period": row["period"],
                "reported_by": row["reported_by"],
                "requests": int(row["requests"]),
                "replaces": int(ours.loc[row["period"], "requests"]),
                "pct_change": alternative.pct_change,
                "fold": alternative.fold,
                "change": _change(alternative),
            }
        )
    columns = ["period", "reported_by", "requests", "replaces", "pct_change", "fold", "change"]
    return pd.DataFrame.from_records(records, columns=columns)


def study(dataset: Dataset, agency: str, reported_by: str, base_period: str, compare_period: str) -> GrowthStudy:
    """Check the parameters against the data and compute the growth study.

    Raises
    ------
    ParameterError
        When an agency, reporter or period is not in the data (listing the choices).
    MetricError
        When the two periods are not of the same kind.
    """
    requests = dataset.requests
    rows = series(requests, agency, reported_by)
    result = growth_in(rows, base_period, compare_period)
    others = _others(requests, rows, agency, reported_by, [base_period, compare_period])
    return GrowthStudy(agency, reported_by, base_period, compare_period, rows, others, result)
