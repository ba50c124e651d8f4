"""The charts of the ICE-records study: records by lift reason, and detainers prepared per month."""

from __future__ import annotations

from typing import cast

import pandas as pd
import seaborn as sns
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from analysis.studies.style import COMPARED, OTHER, PALETTE, chart_style


def lift_reasons_chart(reasons: pd.DataFrame, title: str = "") -> Figure:
    """Records per lift reason (all periods together), most frequent first; declines in the highlight colour."""
    totals = reasons.groupby("lift_reason", sort=False)["records"].sum().sort_values(ascending=False, kind="stable")
    data = pd.DataFrame(
        {
            "lift_reason": [str(r) for r in totals.index],
            "records": [int(v) for v in totals],
            "kind": [COMPARED if r == "Detainer Declined by LEA" else OTHER for r in totals.index],
        }
    )
    with chart_style():
        fig = Figure(figsize=(8, 1.6 + 0.38 * max(len(data), 1)), layout="constrained")
        ax = fig.add_subplot()
        sns.barplot(
            data=data, y="lift_reason", x="records", hue="kind", palette=PALETTE, dodge=False, legend=False, ax=ax
        )
        for bars in ax.containers:
            ax.bar_label(cast(BarContainer, bars), fmt="{:,.0f}", fontsize=8, padding=2)
        ax.set(xlabel="detainer records", ylabel="", title=title)
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return fig


def monthly_chart(monthly: pd.DataFrame, title: str = "") -> Figure:
    """Detainers prepared per month, and the declines ICE recorded among them."""
    data = pd.DataFrame(
        {
            "month": pd.to_datetime(monthly["month"], format="%Y-%m"),
            "detainers prepared": [int(v) for v in monthly["requests"]],
            "recorded as declined": [int(v) for v in monthly["declined"]],
        }
    ).melt(id_vars="month", var_name="count", value_name="records")
    with chart_style():
        fig = Figure(figsize=(8, 4), layout="constrained")
        ax = fig.add_subplot()
        colours = [PALETTE[OTHER], PALETTE[COMPARED]]
        sns.lineplot(data=data, x="month", y="records", hue="count", palette=colours, marker="o", ax=ax)
        ax.set(xlabel="month prepared", ylabel="detainer records", title=title)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        legend = ax.get_legend()
        if legend is not None:
            legend.set_title("")
    return fig
