"""The overview study: what the dataset covers, where each count comes from, where reporters disagree."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.cells import split_ids
from analysis.data.load import Dataset
from analysis.measures.selection import KIND_WORDS
from analysis.numbers import during
from analysis.studies.base import Study, cited_sources, no_sources
from analysis.studies.charts import coverage_chart
from analysis.studies.tables import Column, ReaderTable, reader_table
from analysis.studies.text import count

NO_COUNT = "no count"


#: What the coverage table shows for a count that gives outcomes (honored, declined) but no number of requests.
OUTCOMES_ONLY = "outcomes only"


def coverage(requests: pd.DataFrame) -> pd.DataFrame:
    """Requests per agency, reporter and kind of request (rows) and period (columns), gaps marked ``no count``.

    Calendar years run without a break from the first to the last year in the
    data, so a missing year shows as a gap rather than disappearing; other
    periods (e.g. July-June years, quarters, weeks) follow as columns of their own.
    A count that gives only outcomes shows as ``outcomes only``.
    """
    periods = list(dict.fromkeys(requests.sort_values("period_start", kind="stable")["period"]))
    years = sorted(int(p) for p in periods if p.isdigit())
    calendar = [str(y) for y in range(years[0], years[-1] + 1)] if years else []
    columns = calendar + [p for p in periods if not p.isdigit()]
    shown = requests.assign(shown=[OUTCOMES_ONLY if pd.isna(v) else f"{int(v):,}" for v in requests["requests"]])
    table = shown.pivot(index=["agency", "reported_by", "request_kind"], columns="period", values="shown")
    table = table.reindex(columns=columns).fillna(NO_COUNT)
    table.columns.name = "period"
    return table


def sources_by_count(requests: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """One row per count and source: the kind of request, who published what, when, how it was read, and where."""
    pairs = requests.assign(source_id=requests["source_ids"].map(split_ids)).explode("source_id")
    merged = pairs.merge(sources, on="source_id", how="left", validate="many_to_one")
    columns = [
        "agency",
        "reported_by",
        "request_kind",
        "period",
        "requests",
        "source_id",
        "publisher",
        "title",
        "published",
        "access",
        "url",
    ]
    return (
        merged[columns]
        .sort_values(["agency", "reported_by", "request_kind", "period", "source_id"], kind="stable")
        .reset_index(drop=True)
    )


def disagreements(requests: pd.DataFrame) -> pd.DataFrame:
    """Counts of one agency, kind of request and period that more than one reporter gives: one row per reporter."""
    keyed = requests.groupby(["agency", "request_kind", "period"])["reported_by"].transform("nunique")
    rows = requests.loc[keyed > 1, ["agency", "request_kind", "period", "reported_by", "requests", "declined"]]
    return rows.sort_values(["agency", "request_kind", "period", "reported_by"], kind="stable").reset_index(drop=True)


def _what(row: pd.Series) -> str:
    """A reporter's count in words: ``198 requests``, or ``2 declined`` where the source gives only outcomes."""
    if not pd.isna(row["requests"]):
        return f"{int(row['requests']):,} {KIND_WORDS[str(row['request_kind'])]}"
    return f"{int(row['declined']):,} declined" if not pd.isna(row["declined"]) else "no number"


@dataclass(frozen=True)
class OverviewStudy(Study):
    """The overview notebook's questions answered for one dataset."""

    title = "What the dataset covers"

    dataset: Dataset
    cited: pd.DataFrame = field(default_factory=no_sources, compare=False, repr=False)

    @property
    def headline(self) -> str:
        return f"The dataset holds {self.dataset.extent()}."

    def disagreement_text(self) -> str:
        """Where reporters disagree, in sentences built from the data."""
        table = disagreements(self.dataset.requests)
        if table.empty:
            return "No two parties give a count for the same agency and period."
        sentences = []
        for (agency, _, period), rows in table.groupby(["agency", "request_kind", "period"], sort=False):
            listed = " and ".join(f"{r['reported_by']} counted {_what(r)}" for _, r in rows.iterrows())
            sentences.append(f"For the {agency} {during(str(period))}, {listed}.")
        return (
            " ".join(sentences)
            + " Each count is kept with who counted it; no series mixes counts by different parties."
        )

    def tables(self) -> dict[str, ReaderTable]:
        requests, sources = self.dataset.requests, self.dataset.sources
        grid = coverage(requests).reset_index()
        grid_columns = {
            "agency": Column("agency"),
            "reported_by": Column("counted by"),
            "request_kind": Column("kind of request"),
        }
        grid_columns |= {str(period): Column(f"{period} (requests)") for period in grid.columns[3:]}
        source_columns = {
            "agency": Column("agency"),
            "reported_by": Column("counted by"),
            "request_kind": Column("kind of request"),
            "period": Column("period"),
            "requests": Column("requests", count),
            "source_id": Column("source"),
            "publisher": Column("publisher"),
            "title": Column("title"),
            "published": Column("published"),
            "access": Column("read in"),
            "url": Column("address"),
        }
        disagree_columns = {
            "agency": Column("agency"),
            "request_kind": Column("kind of request"),
            "period": Column("period"),
            "reported_by": Column("counted by"),
            "requests": Column("requests", count),
            "declined": Column("declined", count),
        }
        return {
            "coverage": reader_table(
                "overview-coverage", grid, grid_columns, key=("agency", "reported_by", "request_kind")
            ),
            "sources": reader_table(
                "overview-sources",
                sources_by_count(requests, sources),
                source_columns,
                key=("agency", "reported_by", "request_kind", "period", "source_id"),
            ),
            "disagreements": reader_table("overview-disagreements", disagreements(requests), disagree_columns),
        }

    def draw(self) -> dict[str, Figure]:
        chart = coverage_chart(self.dataset.requests, title="Sourced counts by agency, who counted, and period")
        return {"01-data-overview-coverage": chart}

    def to_json(self) -> dict[str, object]:
        """Counts and date range of the dataset, and where reporters disagree."""
        requests = self.dataset.requests
        table = disagreements(requests)
        return {
            "counts": len(requests),
            "agencies": sorted(set(requests["agency"])),
            "reporters": sorted(set(requests["reported_by"])),
            "first_day": requests["period_start"].min().date().isoformat(),
            "last_day": requests["period_end"].max().date().isoformat(),
            "disagreements": [
                {
                    "agency": agency,
                    "request_kind": kind,
                    "period": period,
                    "requests_by_reporter": {str(r["reported_by"]): r["requests"] for _, r in rows.iterrows()},
                    "declined_by_reporter": {str(r["reported_by"]): r["declined"] for _, r in rows.iterrows()},
                }
                for (agency, kind, period), rows in table.groupby(["agency", "request_kind", "period"], sort=True)
            ],
        }


def study(dataset: Dataset) -> OverviewStudy:
    """The overview of ``dataset``."""
    return OverviewStudy(dataset, cited=cited_sources(dataset.sources, dataset.requests))
