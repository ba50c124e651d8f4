"""The processed metrics table: one row per agency, reporter, kind of request and period."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.schema import REQUESTS_COLUMNS
from analysis.files import write_csv_atomic
from analysis.measures.periods import period_kind
from analysis.measures.rates import NO_COUNT_NOTE, NO_REQUESTS_NOTE, clopper_pearson, not_reported_note
from analysis.measures.selection import NOTIFICATION_NOTE

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

#: The columns that name one series: an agency's counts of one kind of request, as one reporter gave them.
SERIES_KEY = ("agency", "reported_by", "request_kind")

#: Decimal places kept for rates and percentages in the written table.
DECIMALS = 6


def _period_kinds(rows: pd.DataFrame) -> np.ndarray:
    """The period kind of every row (:func:`~analysis.measures.periods.period_kind`), worked out once per span."""
    spans = rows[["period_start", "period_end"]]
    codes = spans.groupby(["period_start", "period_end"], sort=False).ngroup().to_numpy()
    distinct = spans.drop_duplicates()  # What: in order of first appearance, as ngroup numbers them.
    kinds = np.array([period_kind(s, e) for s, e in distinct.itertuples(index=False)], dtype=object)
    return kinds[codes]


def _shares(
    requests: pd.Series, part: pd.Series, what: str, applies: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Share of ``requests`` that is ``part`` with its Clopper-Pearson interval, for the rows where ``applies``
    (NaN elsewhere), and why it is undefined (the notes of :func:`analysis.measures.rates.share`)."""
    total = requests.to_numpy(dtype=np.float64, na_value=np.nan)
    counted = part.to_numpy(dtype=np.float64, na_value=np.nan)
    notes = np.full(len(total), "", dtype=object)
    notes[applies & np.isnan(total)] = NO_COUNT_NOTE
    notes[applies & ~np.isnan(total) & np.isnan(counted)] = not_reported_note(what)
    notes[applies & (total == 0) & ~np.isnan(counted)] = NO_REQUESTS_NOTE
    defined = applies & (total > 0) & ~np.isnan(counted)
    rate, low, high = (np.full(len(total), np.nan) for _ in range(3))
    rate[defined] = counted[defined] / total[defined]
    low[defined], high[defined] = clopper_pearson(counted[defined], total[defined])
    return rate, low, high, notes


def metrics_table(requests: pd.DataFrame) -> pd.DataFrame:
    """Denial rate and change from the previous comparable period, for every row.

    The previous period is the latest earlier period of the same kind that
    the same reporter gave a count of the same kind of request for, whatever
    the gap between them (the ``previous_period`` column names it, so gaps
    stay visible). Rows that give only outcomes have no change. The values are
    those of :func:`~analysis.measures.selection.outcome`,
    :func:`~analysis.measures.selection.answered` and
    :func:`~analysis.measures.selection.growth_of` row by row, computed a column
    at a time (a million rows in seconds).

    Parameters
    ----------
    requests
        The validated requests table (:attr:`analysis.Dataset.requests`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`METRICS_COLUMNS`, sorted by agency, reporter, kind of request and period start:
        counts (``Int64``), rates and their interval bounds (fractions), percent change (percent).
    """
    return _metrics_of_ordered(_ordered(requests))


def _ordered(requests: pd.DataFrame) -> pd.DataFrame:
    """The requests table in the metrics table's order: by series (:data:`SERIES_KEY`), then period start."""
    return requests.sort_values([*SERIES_KEY, "period_start"], kind="stable").reset_index(drop=True)


def _metrics_of_ordered(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`metrics_table` of rows already in its order (:func:`_ordered`), whole series only."""
    key = list(SERIES_KEY)
    kinds = _period_kinds(rows)
    counted = rows["requests"].notna().to_numpy()
    # What: the previous comparable count is the one before in the same agency, reporter, kind and period kind.
    position = np.arange(len(rows))
    candidates = rows.loc[counted, key].assign(period_kind=kinds[counted], position=position[counted])
    before = candidates.groupby([*key, "period_kind"], sort=False)["position"].shift(1)
    earlier = np.full(len(rows), -1)
    earlier[candidates["position"].to_numpy()] = before.fillna(-1).to_numpy(dtype=np.int64)
    has_previous = earlier >= 0
    previous_period = rows["period"].take(earlier).set_axis(rows.index).where(has_previous, "")
    base = rows["requests"].take(earlier).set_axis(rows.index).where(has_previous)
    change = rows["requests"] - base
    # What: 100 * change / base as growth() computes it (exact integers, one rounding); undefined from a base of 0.
    base_values = base.to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(
            base_values > 0, (100 * change).to_numpy(dtype=np.float64, na_value=np.nan) / base_values, np.nan
        )

    notification = (rows["request_kind"] == "notification").to_numpy()
    denial, denial_low, denial_high, denial_note = _shares(
        rows["requests"], rows["declined"], "declined", ~notification
    )
    denial_note[notification] = NOTIFICATION_NOTE
    answered, answered_low, answered_high, _ = _shares(rows["requests"], rows["honored"], "answered", notification)

    table = pd.DataFrame(
        {
            **{c: rows[c] for c in ("agency", "jurisdiction", "reported_by", "request_kind", "period")},
            "period_start": rows["period_start"].dt.strftime("%Y-%m-%d"),
            "period_end": rows["period_end"].dt.strftime("%Y-%m-%d"),
            "period_kind": kinds,
            "requests": rows["requests"].astype("Int64"),
            "honored": rows["honored"].astype("Int64"),
            "declined": rows["declined"].astype("Int64"),
            "denial_rate": denial,
            "denial_ci_low": denial_low,
            "denial_ci_high": denial_high,
            "denial_note": denial_note,
            "answered_rate": answered,
            "answered_ci_low": answered_low,
            "answered_ci_high": answered_high,
            "previous_period": previous_period,
            "change_from_previous": change.astype("Int64"),
            "pct_change_from_previous": pct,
            "source_ids": rows["source_ids"],
        },
        columns=list(METRICS_COLUMNS),
    )
    return table.round(DECIMALS)


def write_metrics_table(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` (from :func:`metrics_table`) as CSV, the same bytes for the same table on any machine."""
    write_csv_atomic(path, [table], float_format=f"%.{DECIMALS}f")


#: Rows of the requests table computed and written at a time by :func:`write_metrics` (whole series only). The
#: runner writes it while it holds the plan and the data: with pieces of 50,000 rows a 100,000-run grid's runner
#: peaked 26 MB higher, for the same bytes in about the same time.
CHUNK_ROWS = 20_000


def _metrics_chunks(requests: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """:func:`metrics_table` of ``requests``, in pieces of about :data:`CHUNK_ROWS` rows that together are the
    whole table in order (each piece holds whole series, so each row's previous period is in its piece)."""
    ordered = _ordered(requests)
    codes = ordered.groupby(list(SERIES_KEY), sort=False).ngroup().to_numpy()
    firsts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([0])
    start = 0
    while True:
        after = int(np.searchsorted(firsts, start + CHUNK_ROWS))
        end = int(firsts[after]) if after < len(firsts) else len(ordered)
        yield _metrics_of_ordered(ordered.iloc[start:end].reset_index(drop=True))
        if end >= len(ordered):
            return
        start = end


def write_metrics(requests: pd.DataFrame, path: Path) -> None:
    """Write the metrics table of ``requests`` (:func:`metrics_table`) to ``path`` as CSV, a few series at a time,
    so a table of millions of rows is never all in memory at once; the bytes are those of
    :func:`write_metrics_table` on the whole table."""
    write_csv_atomic(path, _metrics_chunks(requests), float_format=f"%.{DECIMALS}f")
