"""Agencies side by side, on the same footing, for the comparison notebook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.exceptions import ParameterError
from analysis.growth_report import GROWTH_KEYS, change_text
from analysis.metrics import Growth
from analysis.periods import comparable
from analysis.processed import metrics_table
from analysis.selection import growth_in, kind_of, series

COMPARISON_KEYS = ("agency", "reported_by", "base_period", "compare_period")


@dataclass(frozen=True)
class Comparison:
    """One agency's change between two periods, as one reporter counted it."""

    agency: str
    reported_by: str
    base_period: str
    compare_period: str
    result: Growth


@dataclass(frozen=True)
class ComparisonStudy:
    """Several agencies' changes, each in its own reporter's series, on periods of one kind."""

    comparisons: tuple[Comparison, ...]
    figures: pd.DataFrame

    def summary(self) -> str:
        """Each comparison's change in one sentence."""
        return " ".join(
            f"The {c.agency} (counted by {'itself' if c.reported_by == c.agency else c.reported_by}) went from "
            f"{c.result.base_requests:,} requests in {c.base_period} to {c.result.compare_requests:,} in "
            f"{c.compare_period}: {change_text(c.result)}."
            for c in self.comparisons
        )

    @property
    def marked(self) -> dict[tuple[str, str], tuple[str, str]]:
        """For each (agency, reporter), its two compared periods."""
        return {(c.agency, c.reported_by): (c.base_period, c.compare_period) for c in self.comparisons}

    def changes(self) -> pd.DataFrame:
        """The compared changes side by side, one row per agency."""
        records = [
            {
                "agency": c.agency,
                "reported_by": c.reported_by,
                "periods": f"{c.base_period} → {c.compare_period}",
                **{key: getattr(c.result, key) for key in GROWTH_KEYS},
            }
            for c in self.comparisons
        ]
        return pd.DataFrame.from_records(records).set_index("agency")

    def year_over_year(self) -> pd.DataFrame:
        """Requests per period and change from the previous comparable period, per agency and reporter."""
        columns = [
            "agency",
            "reported_by",
            "period",
            "requests",
            "previous_period",
            "change_from_previous",
            "pct_change_from_previous",
        ]
        return self.figures[columns].set_index(["agency", "reported_by", "period"])

    def denial_rates(self) -> pd.DataFrame:
        """Denial rate per period with its exact interval, per agency and reporter."""
        columns = [
            "agency",
            "reported_by",
            "period",
            "requests",
            "declined",
            "denial_rate",
            "denial_ci_low",
            "denial_ci_high",
            "denial_note",
        ]
        return self.figures[columns].set_index(["agency", "reported_by", "period"])

    def to_json(self) -> list[dict[str, object]]:
        """One record per comparison: who and which periods, and the growth values."""
        return [
            {
                **{key: getattr(c, key) for key in COMPARISON_KEYS},
                **{key: getattr(c.result, key) for key in GROWTH_KEYS},
            }
            for c in self.comparisons
        ]


def comparison_study(requests: pd.DataFrame, comparisons: Sequence[Mapping[str, object]]) -> ComparisonStudy:
    """Check the ``comparisons`` parameter against the data and compute the study.

    Parameters
    ----------
    requests
        The validated requests table.
    comparisons
        Each a mapping with keys ``agency``, ``reported_by``, ``base_period`` and
        ``compare_period``; all compared periods must be of one kind.

    Raises
    ------
    ParameterError
        Naming the entry (``comparisons[1].agency``) and listing valid choices.
    """
    if not isinstance(comparisons, Sequence) or isinstance(comparisons, str) or not comparisons:
        raise ParameterError(f"parameter comparisons: {comparisons!r} is not valid; it must be a non-empty list")
    done: list[Comparison] = []
    kinds: list[str] = []
    for number, entry in enumerate(comparisons):
        name = f"comparisons[{number}]"
        if not isinstance(entry, Mapping) or set(entry) != set(COMPARISON_KEYS):
            raise ParameterError(
                f"parameter {name}: {entry!r} is not valid; it needs exactly the keys {', '.join(COMPARISON_KEYS)}"
            )
        try:
            rows = series(requests, entry["agency"], entry["reported_by"])
            result = growth_in(rows, entry["base_period"], entry["compare_period"])
        except ParameterError as error:
            raise ParameterError(str(error).replace("parameter ", f"parameter {name}.", 1)) from None
        kinds.append(kind_of(rows[rows["period"] == entry["base_period"]].iloc[0]))
        done.append(Comparison(*(str(entry[key]) for key in COMPARISON_KEYS), result))
    if any(not comparable(kinds[0], kind) for kind in kinds):
        raise ParameterError(
            f"parameter comparisons: the compared periods are of different kinds ({', '.join(kinds)}); "
            "compare periods of one kind only"
        )

    table = metrics_table(requests)
    keep = pd.Series(False, index=table.index)
    for c in done:
        keep |= (table["agency"] == c.agency) & (table["reported_by"] == c.reported_by)
    keep &= table["period_kind"] == kinds[0]
    return ComparisonStudy(tuple(done), table[keep].reset_index(drop=True))
