"""The comparison study: several agencies' changes side by side, each in its own reporter's series, grouped by the
kind of request counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.load import Dataset
from analysis.data.schema import REQUEST_KINDS
from analysis.errors import ParameterError
from analysis.measures.periods import comparable
from analysis.measures.processed import metrics_table
from analysis.measures.rates import Growth
from analysis.measures.selection import KIND_WORDS, growth_between, kind_of
from analysis.numbers import missing, period_aside, period_words
from analysis.params import ParameterProblems
from analysis.studies.base import Study, cited_sources, no_sources
from analysis.studies.charts import axis_counts, comparison_chart
from analysis.studies.growth import GROWTH_KEYS
from analysis.studies.tables import Column, ReaderTable, reader_table
from analysis.studies.text import (
    capitalized,
    change_text,
    count,
    fold_text,
    p_text,
    ratio,
    share,
    signed_count,
    signed_pct,
)

COMPARISON_KEYS = ("agency", "reported_by", "base_period", "compare_period")
#: A comparison may also name its kind of request (it must, where its reporter counts two kinds).
OPTIONAL_KEYS = ("request_kind",)


@dataclass(frozen=True)
class Comparison:
    """One agency's change between two periods, as one reporter counted one kind of request."""

    agency: str
    reported_by: str
    base_period: str
    compare_period: str
    result: Growth
    request_kind: str = "detainer"


@dataclass(frozen=True)
class ComparisonStudy(Study):
    """Several agencies' changes, each in its own reporter's series, on periods of one kind."""

    comparisons: tuple[Comparison, ...]
    periods: pd.DataFrame
    cited: pd.DataFrame = field(default_factory=no_sources, compare=False, repr=False)

    title = "Agencies side by side"

    @property
    def marked(self) -> dict[tuple[str, str], tuple[str, str]]:
        """For each (agency, reporter), its two compared periods."""
        return {(c.agency, c.reported_by): (c.base_period, c.compare_period) for c in self.comparisons}

    @property
    def headline(self) -> str:
        """Each comparison's change in one sentence, kind by kind."""
        return " ".join(
            f"The {c.agency} (counted by {'itself' if c.reported_by == c.agency else c.reported_by}) went from "
            f"{c.result.base_requests:,} {KIND_WORDS[c.request_kind]} {period_aside(c.base_period)} to "
            f"{c.result.compare_requests:,} {period_aside(c.compare_period)}: {change_text(c.result)}."
            for c in sorted(self.comparisons, key=lambda c: REQUEST_KINDS.index(c.request_kind))
        )

    def tables(self) -> dict[str, ReaderTable]:
        changes = pd.DataFrame.from_records(
            [
                {
                    "agency": c.agency,
                    "reported_by": c.reported_by,
                    "request_kind": c.request_kind,
                    "periods": f"{c.base_period} → {c.compare_period}",
                    **{key: getattr(c.result, key) for key in GROWTH_KEYS},
                }
                for c in sorted(self.comparisons, key=lambda c: REQUEST_KINDS.index(c.request_kind))
            ]
        )
        who = {
            "request_kind": Column("kind of request"),
            "agency": Column("agency"),
            "reported_by": Column("counted by"),
        }
        change_columns = who | {
            "periods": Column("periods compared"),
            "base_requests": Column("earlier (requests)", count),
            "compare_requests": Column("later (requests)", count),
            "pct_change": Column("percent change", signed_pct),
            "fold": Column("fold", fold_text),
            "rate_ratio_ci_low": Column("rate ratio, low", ratio),
            "rate_ratio_ci_high": Column(
                "rate ratio, high", lambda v: "unbounded" if v is None else ratio(v), numeric=True
            ),
            "p_value": Column("test of no change", p_text),
        }
        yearly = who | {
            "period": Column("period"),
            "requests": Column("requests", count),
            "previous_shown": Column("previous period with a count"),
            "change_from_previous": Column("change (requests)", signed_count),
            "pct_change_from_previous": Column(
                "change (percent)", lambda v: "" if pd.isna(v) else signed_pct(v), numeric=True
            ),
        }
        rates = who | {
            "period": Column("period"),
            "requests": Column("requests", count),
            "declined": Column("declined", count),
            "denial_rate": Column("share declined", share),
            "denial_ci_low": Column("interval, low", share),
            "denial_ci_high": Column("interval, high", share),
            "denial_note": Column("why there is no rate"),
        }
        return {
            "changes": reader_table("comparison-changes", changes, change_columns),
            "year_over_year": reader_table("comparison-yearly", self.with_previous(), yearly),
            "denial_rates": reader_table("comparison-rates", self.periods, rates),
        }

    def with_previous(self) -> pd.DataFrame:
        """The periods, with each one's previous period of the same kind written for readers: the years between
        them that have no count are named (``2017 (2018 to 2020: no count)``), so a change across a gap never
        reads as a change from the year before."""
        shown = [
            previous_text(str(period), previous)
            for period, previous in zip(self.periods["period"], self.periods["previous_period"], strict=True)
        ]
        return self.periods.assign(previous_shown=shown)

    @property
    def kinds(self) -> list[str]:
        """The kinds of request compared, in :data:`REQUEST_KINDS`' order."""
        return sorted({c.request_kind for c in self.comparisons}, key=REQUEST_KINDS.index)

    def draw(self) -> dict[str, Figure]:
        if len(self.kinds) == 1:
            counted = f"{capitalized(KIND_WORDS[self.kinds[0]])} per period"
        else:
            counted = "Requests per period (each panel's kind under its title)"
        title = f"{counted}, compared periods highlighted"
        return {"05-comparison-requests": comparison_chart(self.periods, self.marked, title=title)}

    def limits(self) -> str:
        """What sets these comparisons apart, in one paragraph worked out from the comparisons themselves: counts of
        different kinds of request, and changes over different periods."""
        said = []
        if len(self.kinds) > 1:
            by_kind = [
                f"{KIND_WORDS[kind]} ({', '.join(c.agency for c in self.comparisons if c.request_kind == kind)})"
                for kind in self.kinds
            ]
            said.append(
                f"The counts are of different kinds of request: {'; '.join(by_kind)}. Changes in counts of "
                "different kinds are not changes in the same thing."
            )
        spans = list(dict.fromkeys((c.base_period, c.compare_period) for c in self.comparisons))
        if len(spans) > 1:
            listed = "; ".join(f"{period_words(base)} and {period_words(compare)}" for base, compare in spans)
            said.append(
                f"The changes are between different periods ({listed}): what else changed between them, federal "
                "practice or local law, is not in these counts."
            )
        elif len(self.comparisons) > 1:
            base, compare = spans[0]
            said.append(f"Every change is between the same periods, {period_words(base)} and {period_words(compare)}.")
        return " ".join(said) or "One change is shown, with no other to set it beside."

    def chart_texts(self) -> dict[str, str]:
        panels = []
        for (agency, reported_by), rows in self.periods.groupby(["agency", "reported_by"], sort=False):
            counts = ", ".join(axis_counts(rows))  # what: every place on the panel's axis, as the chart shows it
            base, compare = self.marked[(str(agency), str(reported_by))]
            marked = f"{period_words(base)} and {period_words(compare)} highlighted"
            panels.append(f"{agency} (counted by {reported_by}; {marked}): {counts}")
        return {
            "05-comparison-requests": "Bar charts of requests per period, one panel per agency: "
            + "; ".join(panels)
            + "."
        }

    def to_json(self) -> list[dict[str, object]]:
        """One record per comparison: who, which kind and periods, and the growth values."""
        return [
            {
                **{key: getattr(c, key) for key in (*COMPARISON_KEYS, *OPTIONAL_KEYS)},
                **{key: getattr(c.result, key) for key in GROWTH_KEYS},
            }
            for c in self.comparisons
        ]


def previous_text(period: str, previous: object) -> str:
    """``previous`` as the period before ``period`` in the yearly table: blank when there is none; for calendar
    years more than one apart, with the years between that have no count (``2017 (2018 to 2020: no count)``)."""
    if missing(previous) or not str(previous):
        return ""
    before = str(previous)
    if period.isdigit() and before.isdigit() and int(period) - int(before) > 1:
        first, last = int(before) + 1, int(period) - 1
        skipped = str(first) if first == last else f"{first} to {last}"
        return f"{before} ({skipped}: no count)"
    return before


def study(dataset: Dataset, comparisons: Sequence[Mapping[str, object]]) -> ComparisonStudy:
    """Check the ``comparisons`` parameter against the data and compute the study.

    Parameters
    ----------
    dataset
        The validated dataset.
    comparisons
        Each a mapping with keys ``agency``, ``reported_by``, ``base_period`` and
        ``compare_period``, and ``request_kind`` where the reporter counts more than
        one kind; all compared periods must be of one kind of period. Comparisons of
        different kinds of request are shown apart, kind by kind.

    Raises
    ------
    ParameterError
        Naming the entry (``comparisons[1].agency``) and listing valid choices.
    """
    requests = dataset.requests
    if not isinstance(comparisons, Sequence) or isinstance(comparisons, str) or not comparisons:
        raise ParameterError(f"parameter comparisons: {comparisons!r} is not valid; it must be a non-empty list")
    done: list[Comparison] = []
    kinds: list[str] = []
    #: The kinds of every compared period, base and compare: the periods the page shows.
    shown_kinds: set[str] = set()
    problems = ParameterProblems()
    for number, entry in enumerate(comparisons):
        name = f"comparisons[{number}]"
        if not isinstance(entry, Mapping) or not set(COMPARISON_KEYS) <= set(entry) <= {
            *COMPARISON_KEYS,
            *OPTIONAL_KEYS,
        }:
            problems.messages.append(
                f"parameter {name}: {entry!r} is not valid; it needs exactly the keys {', '.join(COMPARISON_KEYS)}"
                f" (and may name its {', '.join(OPTIONAL_KEYS)})"
            )
            continue
        # What: every entry is checked, and every bad key of each, so one message lists them all.
        entry_problems = ParameterProblems()
        with entry_problems.checking():
            agency, reported_by, base_period, compare_period = (cast(str, entry[key]) for key in COMPARISON_KEYS)
            kind_given = cast("str | None", entry.get("request_kind"))
            rows, result = growth_between(requests, agency, reported_by, kind_given, base_period, compare_period)
            kinds.append(kind_of(rows[rows["period"] == base_period].iloc[0]))
            shown_kinds.add(kind_of(rows[rows["period"] == compare_period].iloc[0]))
            request_kind = str(rows["request_kind"].iloc[0])
            done.append(Comparison(agency, reported_by, base_period, compare_period, result, request_kind))
        with problems.checking():
            entry_problems.raise_all(prefix=f"{name}.")
    problems.raise_all()
    if any(not comparable(kinds[0], kind) for kind in kinds):
        raise ParameterError(
            f"parameter comparisons: the compared periods are of different kinds ({', '.join(kinds)}); "
            "compare periods of one kind only"
        )

    table = metrics_table(requests)
    keep = pd.Series(False, index=table.index)
    for c in done:
        keep |= (
            (table["agency"] == c.agency)
            & (table["reported_by"] == c.reported_by)
            & (table["request_kind"] == c.request_kind)
        )
    # What: periods of the compared kind, and the compared periods themselves when they are of another (a quarter
    # starting in April against one starting in January), so no compared period is left off the chart or tables.
    keep &= table["period_kind"].isin({kinds[0], *shown_kinds})
    periods = table[keep].reset_index(drop=True)
    return ComparisonStudy(tuple(done), periods, cited=cited_sources(dataset.sources, periods))
