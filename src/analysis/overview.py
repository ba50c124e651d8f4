"""What the dataset covers, where each figure comes from, and where reporters disagree."""

from __future__ import annotations

import pandas as pd

from analysis.parse import split_ids

NO_FIGURE = "no figure"


def coverage(requests: pd.DataFrame) -> pd.DataFrame:
    """Requests per agency and reporter (rows) and period (columns), gaps marked ``no figure``.

    Calendar years run without a break from the first to the last year in the
    data, so a missing year shows as a gap rather than disappearing; other
    periods (e.g. July-June years) follow as columns of their own.
    """
    periods = list(dict.fromkeys(requests.sort_values("period_start", kind="stable")["period"]))
    years = sorted(int(p) for p in periods if p.isdigit())
    calendar = [str(y) for y in range(years[0], years[-1] + 1)] if years else []
    columns = calendar + [p for p in periods if not p.isdigit()]
    table = requests.pivot(index=["agency", "reported_by"], columns="period", values="requests")
    table = table.reindex(columns=columns)
    shown = table.map(lambda v: NO_FIGURE if pd.isna(v) else f"{int(v):,}")
    shown.columns.name = "period"
    return shown


def sources_by_figure(requests: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """One row per figure and source: who published what, when, and where to find it."""
    pairs = requests.assign(source_id=requests["source_ids"].map(split_ids)).explode("source_id")
    merged = pairs.merge(sources, on="source_id", how="left", validate="many_to_one")
    columns = ["agency", "reported_by", "period", "requests", "source_id", "publisher", "title", "published", "url"]
    return (
        merged[columns]
        .sort_values(["agency", "reported_by", "period", "source_id"], kind="stable")
        .reset_index(drop=True)
    )


def disagreements(requests: pd.DataFrame) -> pd.DataFrame:
    """Agency-periods for which more than one reporter gives a figure, side by side."""
    keyed = requests.groupby(["agency", "period"])["reported_by"].transform("nunique")
    rows = requests[keyed > 1]
    return rows.pivot(index=["agency", "period"], columns="reported_by", values="requests")


def describe(requests: pd.DataFrame, sources: pd.DataFrame) -> str:
    """The dataset's extent in one sentence."""
    first, last = requests["period_start"].min().date(), requests["period_end"].max().date()
    return (
        f"The dataset holds {len(requests)} figures for {requests['agency'].nunique()} agencies, given by "
        f"{requests['reported_by'].nunique()} different reporters, for periods from {first} to {last}, "
        f"drawn from {len(sources)} sources."
    )


def disagreement_text(requests: pd.DataFrame) -> str:
    """Where reporters disagree, in sentences built from the data."""
    table = disagreements(requests)
    if table.empty:
        return "No two reporters give a figure for the same agency and period."
    sentences = []
    for (agency, period), counts in table.iterrows():
        given = counts.dropna().astype(int)
        listed = " and ".join(f"{reporter} counted {count:,}" for reporter, count in given.items())
        sentences.append(f"For the {agency} in {period}, {listed}.")
    return " ".join(sentences) + " Each count is kept with its reporter; no series mixes them."


def summary(requests: pd.DataFrame) -> dict[str, object]:
    """Counts and date range of the dataset, for the overview notebook's JSON output."""
    return {
        "figures": len(requests),
        "agencies": sorted(set(requests["agency"])),
        "reporters": sorted(set(requests["reported_by"])),
        "first_day": requests["period_start"].min().date().isoformat(),
        "last_day": requests["period_end"].max().date().isoformat(),
        "disagreements": [
            {"agency": agency, "period": period, "requests_by_reporter": counts.dropna().astype(int).to_dict()}
            for (agency, period), counts in disagreements(requests).iterrows()
        ],
    }
