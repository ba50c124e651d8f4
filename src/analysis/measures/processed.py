"""The processed metrics table: one row per agency, reporter, kind of request and period."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data.schema import REQUESTS_COLUMNS
from analysis.files import csv_text, write_text_atomic
from analysis.measures.periods import comparable
from analysis.measures.selection import Row, answered, growth_of, kind_of, outcome

#: Columns of ``detainer_metrics.csv``, in order.
METRICS_COLUMNS = (
    *REQUESTS_COLUMNS[:7],  # agency, jurisdiction, reported_by, request_kind, period, period_start, period_end
    "period_kind",
    *REQUESTS_COLUMNS[7:10],  # requests, honored, declined
    "denial_rate",
    "denial_ci_low",
    "denial_ci_high",
    "denial_note",
    "answered_rate",
    "answered_ci_low",
    "answered_ci_high",
    "previous_period",
    "change_from_previous",
    "pct_change_from_previous",
    "source_ids",
)

#: Decimal places kept for rates and percentages in the written table.
DECIMALS = 6


def _record(row: Row, kind: str, previous: Row | None) -> dict[str, object]:
    """One row of the metrics table: the count, its denial rate (or, for notification requests, the share
    answered), and its change from ``previous``."""
    rate = outcome(row)
    share, low, high, _ = answered(row) if row["request_kind"] == "notification" else (None, None, None, None)
    change = growth_of(previous, row) if previous is not None else None
    return {
        **{c: row[c] for c in ("agency", "jurisdiction", "reported_by", "request_kind", "period")},
        "period_start": row["period_start"].date().isoformat(),
        "period_end": row["period_end"].date().isoformat(),
        "period_kind": kind,
        "requests": row["requests"],
        "honored": row["honored"],
        "declined": row["declined"],
        "denial_rate": rate.denial_rate,
        "denial_ci_low": rate.ci_low,
        "denial_ci_high": rate.ci_high,
        "denial_note": rate.note or "",
        "answered_rate": share,
        "answered_ci_low": low,
        "answered_ci_high": high,
        "previous_period": "" if previous is None else previous["period"],
        "change_from_previous": None if change is None else change.abs_change,
        "pct_change_from_previous": None if change is None else change.pct_change,
        "source_ids": row["source_ids"],
    }


def metrics_table(requests: pd.DataFrame) -> pd.DataFrame:
    """Denial rate and change from the previous comparable period, for every row.

    The previous period is the latest earlier period of the same kind that
    the same reporter gave a count of the same kind of request for, whatever
    the gap between them (the ``previous_period`` column names it, so gaps
    stay visible). Rows that give only outcomes have no change.

    Parameters
    ----------
    requests
        The validated requests table (:attr:`analysis.Dataset.requests`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`METRICS_COLUMNS`, sorted by agency, reporter, kind of request and period start.
    """
    key = ["agency", "reported_by", "request_kind"]
    ordered = requests.sort_values([*key, "period_start"], kind="stable")
    records = []
    # What: rows as plain mappings, a series at a time: a million rows in seconds, not as pandas rows one by one.
    plain: list[dict[str, Any]] = ordered.to_dict("records")  # type: ignore[assignment]
    for _, rows in itertools.groupby(plain, key=lambda row: tuple(row[c] for c in key)):
        seen: list[tuple[str, Row]] = []
        for row in rows:
            kind = kind_of(row)
            counted = not pd.isna(row["requests"])
            previous = next((p for k, p in reversed(seen) if comparable(k, kind)), None) if counted else None
            records.append(_record(row, kind, previous))
            if counted:
                seen.append((kind, row))
    table = pd.DataFrame.from_records(records, columns=list(METRICS_COLUMNS))
    counts = {"requests": "Int64", "honored": "Int64", "declined": "Int64", "change_from_previous": "Int64"}
    rates = {
        "denial_rate": "float64",
        "denial_ci_low": "float64",
        "denial_ci_high": "float64",
        "answered_rate": "float64",
        "answered_ci_low": "float64",
        "answered_ci_high": "float64",
        "pct_change_from_previous": "float64",
    }
    return table.astype({**counts, **rates}).round(DECIMALS)


def write_metrics_table(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` as CSV, the same bytes for the same table on any machine."""
    text = csv_text(table, float_format=f"%.{DECIMALS}f")
    write_text_atomic(path, text)
