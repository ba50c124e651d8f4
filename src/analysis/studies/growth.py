"""The growth study: the change in requests of one kind between two periods of one agency, as one reporter counted
them (requests per day when the periods differ in length)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.load import Dataset
from analysis.measures.rates import CONFIDENCE, Growth, level
from analysis.measures.selection import KIND_WORDS, growth_between, growth_of, other_reporters
from analysis.numbers import during, period_aside
from analysis.studies.base import Study, cited_sources, no_sources
from analysis.studies.charts import axis_counts, requests_chart
from analysis.studies.tables import Column, ReaderTable, reader_table
from analysis.studies.text import (
    capitalized,
    chance_text,
    change_text,
    count,
    counted_by,
    fold_text,
    interval_text,
    p_text,
    period_words,
    ratio,
    signed_pct,
)

#: The longest chart title (in characters) kept on one line.
TITLE_LENGTH = 80
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
    "basis",
    "base_days",
    "compare_days",
)


@dataclass(frozen=True)
class GrowthStudy(Study):
    """The growth notebook's question answered for one agency, reporter and pair of periods."""

    agency: str
    reported_by: str
    request_kind: str
    base_period: str
    compare_period: str
    series: pd.DataFrame
    others: pd.DataFrame
    result: Growth
    confidence: float = CONFIDENCE
    cited: pd.DataFrame = field(default_factory=no_sources, compare=False, repr=False)

    def counted(self) -> str:
        return self.requests_word

    @property
    def requests_word(self) -> str:
        """The kind of request in words (``detainer requests``, ``notification requests``, ...)."""
        return KIND_WORDS[self.request_kind]

    @property
    def title(self) -> str:
        counted = "" if self.reported_by == self.agency else f", as counted by {self.reported_by}"
        return f"Growth in {self.requests_word}: {self.agency}, {self.periods_text}{counted}"

    @property
    def base_words(self) -> str:
        """The earlier period in words (``July 2018 to June 2019``; a calendar year as itself)."""
        return period_words(self.base_period)

    @property
    def compare_words(self) -> str:
        """The later period in words."""
        return period_words(self.compare_period)

    @property
    def periods_text(self) -> str:
        """The two periods compared: ``2024 to 2025``, or in words ``January 2018 to March 2018, against April
        2018 to June 2018`` when they are not calendar years."""
        if self.base_period.isdigit() and self.compare_period.isdigit():
            return f"{self.base_period} to {self.compare_period}"
        return f"{self.base_words}, against {self.compare_words}"

    @property
    def headline(self) -> str:
        r = self.result
        change = (r.fold - 1) if r.fold is not None else r.compare_requests - r.base_requests
        direction = "up from" if change > 0 else "down from" if change < 0 else "the same as"
        disputed = "".join(
            f" {row.reported_by} counted {row.requests:,} {during(str(row.period))}, where the {self.reported_by} "
            f"counted {row.replaces:,}."
            for row in self.others.itertuples(index=False)
        )
        return (
            f"By {counted_by(self.agency, self.reported_by)}, the {self.agency} received "
            f"{r.compare_requests:,} {self.requests_word} {period_aside(self.compare_period)}, {direction} "
            f"{r.base_requests:,} {period_aside(self.base_period)}: {change_text(r)}; "
            f"{interval_text(r, self.confidence)}."
            f"{disputed}"
        )

    def summary(self) -> str:
        """The headline, then what its interval and test mean for this result, in plain words."""
        r, text = self.result, self.headline
        if r.rate_ratio_ci_low is not None:
            bounds = (
                f"at least {r.rate_ratio_ci_low:.2f}"
                if r.rate_ratio_ci_high is None
                else f"between {r.rate_ratio_ci_low:.2f} and {r.rate_ratio_ci_high:.2f}"
            )
            text += (
                f" Allowing for chance, the {self.compare_words} rate is {bounds} times the {self.base_words} "
                f"rate (exact {level(self.confidence)} interval)."
            )
        reading = chance_text(r.p_value)
        return f"{text} {reading}" if reading else text

    def uncertainty(self) -> str:
        """The rate-ratio interval and p-value in one sentence, and what the test means in plain words."""
        reading = chance_text(self.result.p_value)
        return (
            f"Treating requests as independent events and comparing the {self.compare_words} rate with the "
            f"{self.base_words} rate: {interval_text(self.result, self.confidence)}."
            + (f" {reading}" if reading else "")
        )

    def others_text(self) -> str:
        """How the result changes with another reporter's count for a compared period."""
        if self.others.empty:
            return "No other party gives a count for either compared period."
        return " ".join(
            f"{row.reported_by} counted {row.requests:,} {during(str(row.period))}, where {self.reported_by} counted "
            f"{row.replaces:,}. Set against {self.reported_by}'s count for the other period, that would make the "
            f"change {row.change}; the two parties counted differently, so this measures the gap between their "
            "counts, not a change in requests."
            for row in self.others.itertuples(index=False)
        )

    def tables(self) -> dict[str, ReaderTable]:
        r, pct, word = self.result, level(self.confidence), self.requests_word
        per_day = " per day" if r.per_day else ""
        measures = [
            (f"{word} {during(self.base_period)}", count(r.base_requests)),
            (f"{word} {during(self.compare_period)}", count(r.compare_requests)),
        ]
        if r.per_day:
            measures += [
                (f"days {during(self.base_period)}", count(r.base_days)),
                (f"days {during(self.compare_period)}", count(r.compare_days)),
            ]
        else:
            measures.append((f"absolute change ({word})", f"{r.abs_change:+,}".replace("-", "−")))
        measures += [
            (f"percent change{per_day}", signed_pct(r.pct_change)),
            (
                "fold (later rate per day / earlier rate per day)"
                if r.per_day
                else "fold (later count / earlier count)",
                ratio(r.fold, 1),
            ),
            (f"rate ratio, lower {pct} limit", ratio(r.rate_ratio_ci_low)),
            (
                f"rate ratio, upper {pct} limit",
                "unbounded"
                if r.rate_ratio_ci_low is not None and r.rate_ratio_ci_high is None
                else ratio(r.rate_ratio_ci_high),
            ),
            ("exact two-sided test of no change", p_text(r.p_value)),
        ]
        values = pd.DataFrame({"measure": [m for m, _ in measures], "value": [v for _, v in measures]})
        others = {
            "period": Column("period"),
            "reported_by": Column("counted by"),
            "requests": Column(f"their count ({word})", count),
            "replaces": Column(f"in place of ({word})", count),
            "pct_change": Column("percent change with their count", signed_pct),
            "fold": Column("fold with their count", fold_text),
        }
        return {
            "values": reader_table(
                "growth-values",
                values,
                {"measure": Column("measure"), "value": Column("value", numeric=True)},
            ),
            "others": reader_table("growth-others", self.others, others),
        }

    def draw(self) -> dict[str, Figure]:
        periods = f"{period_words(self.base_period)} and {period_words(self.compare_period)} marked"
        counted = f"{capitalized(self.requests_word)} to the {self.agency}"
        # What: on one line while it fits the chart's width, else the periods on a line of their own.
        title = f"{counted}, {periods}" if len(counted) + len(periods) <= TITLE_LENGTH else f"{counted}\n{periods}"
        marked = (self.base_period, self.compare_period)
        chart = requests_chart(self.series, marked=marked, title=title, counted=self.requests_word)
        return {"02-growth-requests": chart}

    def chart_texts(self) -> dict[str, str]:
        counts = "; ".join(axis_counts(self.series))  # what: every place on the chart's axis, as the chart shows it
        return {
            "02-growth-requests": (
                f"Bar chart of {self.requests_word} to the {self.agency} per period, as counted by "
                f"{'the agency itself' if self.reported_by == self.agency else self.reported_by}, "
                f"{period_words(self.base_period)} and {period_words(self.compare_period)} highlighted: {counts}."
            )
        }

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
    requests: pd.DataFrame, rows: pd.DataFrame, agency: str, reported_by: str, kind: str, periods: list[str]
) -> pd.DataFrame:
    """Other reporters' counts of the same kind for the compared ``periods`` (base, compare), with the growth each
    would give (a reporter that gives no count of requests for the period is left out)."""
    base_period, compare_period = periods
    records = []
    ours = rows.set_index("period", drop=False)
    for _, row in other_reporters(requests, agency, reported_by, kind, periods).iterrows():
        if pd.isna(row["requests"]):
            continue
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


def study(
    dataset: Dataset,
    agency: str,
    reported_by: str,
    base_period: str,
    compare_period: str,
    request_kind: str | None = None,
) -> GrowthStudy:
    """Check the parameters against the data and compute the growth study.

    ``request_kind`` (``detainer``, ``notification`` or ``any``) may be left out when the reporter gives
    counts of one kind only.

    Raises
    ------
    ParameterError
        When an agency, reporter, kind or period is not in the data (every bad parameter at once, one per
        line, listing the choices).
    MetricError
        When a period gives no count of requests, or two years of different kinds are compared.
    """
    requests = dataset.requests
    rows, result = growth_between(requests, agency, reported_by, request_kind, base_period, compare_period)
    kind = str(rows["request_kind"].iloc[0])
    others = _others(requests, rows, agency, reported_by, kind, [base_period, compare_period])
    # What: the sources of the series and of the other parties' counts for the two compared periods.
    theirs = requests[
        (requests["agency"] == agency)
        & (requests["request_kind"] == kind)
        & requests["period"].isin([base_period, compare_period])
        & requests["reported_by"].isin(list(others["reported_by"]))
    ]
    cited = cited_sources(dataset.sources, rows, theirs)
    return GrowthStudy(agency, reported_by, kind, base_period, compare_period, rows, others, result, cited=cited)
