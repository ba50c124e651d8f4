"""The studies' charts, drawn with seaborn in the report's look (:mod:`analysis.studies.style`).

Every chart function returns a :class:`matplotlib.figure.Figure` that is not
managed by pyplot, so a notebook shows it once, where the cell returns it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter, StrMethodFormatter

from analysis.measures.rates import CONFIDENCE, level
from analysis.measures.selection import KIND_WORDS
from analysis.numbers import count, period_words, span_words
from analysis.studies.style import COMPARED, MUTED, OTHER, PALETTE, chart_style


def period_axis(series: pd.DataFrame) -> list[str]:
    """Period labels for the chart's axis, oldest first, with a place kept for time that has no count.

    When every period is a calendar year, every year from first to last. Otherwise, where ``series`` gives each
    period's first and last day (``period_start``, ``period_end``), the days between two periods that no period
    covers get a place of their own, named by their span in words (``January 2018 to June 2018``), so that a
    July-to-June year never sits next to the calendar year before it as if it followed on.
    """
    periods = [str(p) for p in series["period"]]
    if all(p.isdigit() for p in periods):
        years = [int(p) for p in periods]
        return [str(y) for y in range(min(years), max(years) + 1)]
    if not {"period_start", "period_end"} <= set(series.columns):
        return periods
    axis: list[str] = []
    covered: date | None = None  # what: the last day covered by the periods so far
    spans = sorted(
        zip(periods, series["period_start"], series["period_end"], strict=True), key=lambda p: pd.Timestamp(p[1])
    )
    for period, start, end in spans:
        first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
        if covered is not None and first > covered + timedelta(days=1):
            axis.append(span_words(covered + timedelta(days=1), first - timedelta(days=1)))
        axis.append(period)
        covered = last if covered is None else max(covered, last)
    return axis


def axis_counts(series: pd.DataFrame) -> list[str]:
    """Each place on the chart's axis (:func:`period_axis`) with its count, in words, for a chart's description:
    ``2017: 68``, ``2018: no count``, ``January 2018 to June 2018: no count``."""
    counted = series.assign(period=series["period"].astype(str)).set_index("period")["requests"]
    return [
        f"{period_words(period)}: {(count(counted[period]) if period in counted.index else '') or 'no count'}"
        for period in period_axis(series)
    ]


def _shown(axis: list[str]) -> list[str]:
    """The axis's labels as a reader reads them: each period in words (:func:`analysis.numbers.period_words`), a
    span on two lines (``July 2018 to`` over ``June 2019``)."""
    return [period_words(label).replace(" to ", " to\n") for label in axis]


#: More periods than this on an axis, and their labels stand upright.
CROWDED = 8


def _crowded(ax: Axes, axis: list[str]) -> None:
    """Turn the period labels upright when there are too many to sit side by side."""
    if len(axis) > CROWDED:
        ax.tick_params(axis="x", labelrotation=90)


def _label_bars(ax: Axes, axis: list[str], counts: pd.Series, top: int) -> None:
    """Write each bar's count above it, and "no count" where a period on the axis has none."""
    for position, period in enumerate(axis):
        if period in counts.index:
            value = int(counts[period])
            ax.annotate(
                f"{value:,}",
                (position, value),
                ha="center",
                va="bottom",
                xytext=(0, 3),
                textcoords="offset points",
                fontsize=9,
            )
        else:
            ax.annotate(
                "no count", (position, top * 0.02), ha="center", va="bottom", rotation=90, fontsize=8, color=MUTED
            )


def _period_bars(
    ax: Axes, data: pd.DataFrame, axis: list[str], counts: pd.Series, legend: bool, roles: Collection[str] = ()
) -> int:
    """Bars of requests per period on ``axis`` (a period without a count keeps its place, labelled), coloured by
    ``role`` (compared or other); returns the tallest count (at least 1). With ``legend``, a legend without a title
    that names the roles the chart shows: ``roles`` (those of the whole figure, where it has several panels), else
    those of ``data``."""
    sns.barplot(
        data=data,
        x="period",
        y="requests",
        hue="role",
        order=axis,
        hue_order=[COMPARED, OTHER],
        palette=PALETTE,
        dodge=False,
        legend=legend,
        ax=ax,
    )
    if legend:
        shown = set(roles or data["role"])
        kept = [(h, label) for h, label in zip(*ax.get_legend_handles_labels(), strict=True) if label in shown]
        ax.legend([h for h, _ in kept], [label for _, label in kept])
    top = max(int(data["requests"].max()), 1) if len(data) else 1
    _label_bars(ax, axis, counts, top)
    ax.set_xticks(range(len(axis)), _shown(axis))
    return top


def requests_chart(
    series: pd.DataFrame, marked: tuple[str, ...] = (), title: str = "", counted: str = "detainer requests"
) -> Figure:
    """Bar chart of requests per period, ``marked`` periods highlighted, gap years labelled.

    Parameters
    ----------
    series
        One agency's counts of one kind as one reporter counted them (``period``, ``requests``).
    marked
        Periods to highlight (e.g. the two compared periods).
    title
        Chart title.
    counted
        The kind of request in words, for the axis.
    """
    axis = period_axis(series)
    counts = series.set_index("period")["requests"]
    data = pd.DataFrame(
        {
            "period": [str(p) for p in counts.index],
            "requests": [int(v) for v in counts],
            "role": [COMPARED if p in marked else OTHER for p in counts.index],
        }
    )
    with chart_style():
        fig = Figure(figsize=(8, 4.5), layout="constrained")
        ax = fig.add_subplot()
        top = _period_bars(ax, data, axis, counts, legend=bool(marked))  # what: no marked period, nothing to tell
        ax.set(xlabel="period", ylabel=f"{counted} received", title=title)
        ax.set_ylim(0, top * 1.12)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return fig


def denial_chart(
    rates: pd.DataFrame, title: str = "", confidence: float = CONFIDENCE, what: str = "declined"
) -> Figure:
    """The share of requests declined (or answered) per period with its exact interval; periods with no rate are
    labelled.

    Parameters
    ----------
    rates
        One row per period: ``period``, ``rate``, ``ci_low``, ``ci_high``
        (as from :func:`analysis.measures.selection.denial_rates`).
    title
        Chart title.
    confidence
        The intervals' confidence level, for the legend.
    what
        What the share counts: ``declined`` or ``answered``.
    """
    given = [str(p) for p in rates["period"]]
    periods = period_axis(rates.assign(period=given))  # what: every year from first to last, gaps kept
    known = rates[rates["rate"].notna()].assign(period=lambda d: d["period"].astype(str))
    with chart_style():
        fig = Figure(figsize=(8, 4.5), layout="constrained")
        ax = fig.add_subplot()
        ax.errorbar(
            [periods.index(p) for p in known["period"]],
            known["rate"],
            yerr=[known["rate"] - known["ci_low"], known["ci_high"] - known["rate"]],
            fmt="none",
            ecolor="#34495e",
            elinewidth=1.5,
            capsize=6,
            label=f"exact {level(confidence)} interval",
        )
        sns.scatterplot(
            x=[periods.index(p) for p in known["period"]],
            y=known["rate"],
            color="#c0392b",
            s=70,
            zorder=3,
            label=f"share {what}",
            ax=ax,
        )
        for position, period in enumerate(periods):
            if period not in given:
                ax.annotate(
                    "no count", (position, 0.05), ha="center", va="bottom", rotation=90, fontsize=8, color=MUTED
                )
            elif period not in set(known["period"]):
                ax.annotate(
                    "outcome\nnot reported", (position, 0.05), ha="center", va="bottom", fontsize=8, color=MUTED
                )
        labels = _shown(periods)
        ax.set_xticks(range(len(periods)), labels)
        _crowded(ax, periods)
        ax.set_xlim(-0.5, len(periods) - 0.5)
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set(xlabel="period", ylabel=f"requests {what}", title=title)
        # What: below the axes, where no mark or note of a period can sit under it, and below the period labels and
        # the axis label, which sit lower when the labels stand upright or take two lines.
        tall = len(periods) > CROWDED or any("\n" in label for label in labels)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3 if tall else -0.2), ncol=2, frameon=False)
    return fig


def series_label(agency: str, reported_by: str) -> str:
    """Two-line label of one agency's series as one reporter counted it."""
    return f"{agency}\n({'own count' if agency == reported_by else 'count by ' + reported_by})"


#: Width of a character of the charts' font, as a share of its size (DejaVu Sans digits are 0.64 of an em).
CHARACTER_WIDTH = 0.64
#: Points between two labels of a row (and between a label and the next).
LABEL_GAP = 3


def label_sides(rows: pd.DataFrame, points_per_day: float, fontsize: float) -> list[bool]:
    """Where each mark of one row of a timeline puts its label: above (``True``) or below its mark.

    ``rows`` holds the row's marks, oldest first (``middle``: a timestamp; ``label``: the text). A label goes above
    unless it would overlap the label above before it, then below unless that overlaps too (then above again):
    labels of marks close in time alternate instead of running into each other. Widths are estimated from the
    number of characters (``CHARACTER_WIDTH``), at ``points_per_day`` of the axis.
    """
    ends = {True: float("-inf"), False: float("-inf")}  # what: the right edge (points) of the last label each side
    sides = []
    for middle, label in zip(rows["middle"], rows["label"], strict=True):
        centre = pd.Timestamp(middle).value / 86_400e9 * points_per_day
        half = len(str(label)) * CHARACTER_WIDTH * fontsize / 2
        above = centre - half >= ends[True] + LABEL_GAP or centre - half < ends[False] + LABEL_GAP
        ends[above] = centre + half
        sides.append(above)
    return sides


def coverage_chart(requests: pd.DataFrame, title: str = "") -> Figure:
    """Which agency, reporter, kind of request and period has a count: one row per series, one mark per period
    (the smallest mark, labelled, where the source gives only outcomes); labels of marks close in time alternate
    above and below their marks (:func:`label_sides`)."""
    labels = [
        f"{series_label(a, r)}, {k}"
        for a, r, k in zip(requests["agency"], requests["reported_by"], requests["request_kind"], strict=True)
    ]
    data = pd.DataFrame(
        {
            "series": labels,
            "middle": requests["period_start"] + (requests["period_end"] - requests["period_start"]) / 2,
            "requests": [0 if pd.isna(v) else int(v) for v in requests["requests"]],
            "label": ["outcomes only" if pd.isna(v) else f"{int(v):,}" for v in requests["requests"]],
        }
    ).sort_values(["series", "middle"], kind="stable")
    rows, width, fontsize = data["series"].nunique(), 9.0, 8.0
    span = (data["middle"].max() - data["middle"].min()) / pd.Timedelta(days=1) * 1.1  # what: with the 5% margins
    # What: the marks' area is about two fifths of the figure's width (the series' names take the rest), in points.
    points_per_day = width * 0.4 * 72 / max(span, 1.0)
    with chart_style():
        fig = Figure(figsize=(width, 1.4 + 0.65 * rows), layout="constrained")
        ax = fig.add_subplot()
        sns.scatterplot(
            data=data, x="middle", y="series", size="requests", sizes=(40, 400), color="#2c3e50", legend=False, ax=ax
        )
        for _, row in data.groupby("series", sort=False):
            for (middle, series, label), above in zip(
                row[["middle", "series", "label"]].itertuples(index=False),
                label_sides(row, points_per_day, fontsize),
                strict=True,
            ):
                ax.annotate(
                    str(label),
                    (middle, series),
                    xytext=(0, 11 if above else -12),
                    textcoords="offset points",
                    ha="center",
                    va="baseline" if above else "top",
                    fontsize=fontsize,
                )
        ax.set(xlabel="middle of the period", ylabel="", title=title)
        # What: the first row (at the top) keeps room for the labels above its marks, the last for those below.
        ax.set_ylim(rows - 0.4, -0.7)
    return fig


def comparison_chart(periods: pd.DataFrame, marked: dict[tuple[str, str], tuple[str, str]], title: str = "") -> Figure:
    """Requests per period, one panel per agency and reporter, each panel's compared periods highlighted.

    Parameters
    ----------
    periods
        Rows of the processed metrics table (``agency``, ``reported_by``, ``request_kind``, ``period``,
        ``requests``: counts).
    marked
        For each (agency, reporter), the two compared periods.
    title
        Figure title.
    """
    data = pd.DataFrame(
        {
            "panel": [
                f"{series_label(a, r)}\n{KIND_WORDS[k]}"
                for a, r, k in zip(periods["agency"], periods["reported_by"], periods["request_kind"], strict=True)
            ],
            "period": [str(p) for p in periods["period"]],
            "period_start": list(periods["period_start"]),
            "period_end": list(periods["period_end"]),
            "requests": [int(v) for v in periods["requests"]],
            "role": [
                COMPARED if p in marked.get((a, r), ()) else OTHER
                for a, r, p in zip(periods["agency"], periods["reported_by"], periods["period"], strict=True)
            ],
        }
    )
    panels = list(dict.fromkeys(data["panel"]))
    with chart_style():
        fig = Figure(figsize=(4.6 * len(panels), 4.8), layout="constrained")
        for number, (ax, panel) in enumerate(zip(fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True)):
            rows = data[data["panel"] == panel]
            axis = period_axis(rows)  # what: every year from first to last; a year with no count stays visible
            counts = rows.set_index("period")["requests"]
            top = _period_bars(ax, rows, axis, counts, legend=number == 0, roles=set(data["role"]))
            _crowded(ax, axis)
            ax.set_ylim(0, top * 1.15)
            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
            ax.set(
                title=panel, xlabel="period", ylabel="requests received (kind under each title)" if number == 0 else ""
            )
        fig.suptitle(title)
    return fig
