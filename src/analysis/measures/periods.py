"""What kind of period a row covers, and whether two periods can be compared."""

from __future__ import annotations

import calendar

import pandas as pd


def period_kind(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """Describe the span from ``start`` to ``end`` (inclusive) by its kind.

    Two periods can be compared as like for like only when their kinds are
    equal: two calendar years, or two spans of whole months starting in the
    same month (e.g. two July-June years).

    Returns
    -------
    str
        ``"calendar year"``, ``"N-month period starting MONTH"`` or
        ``"N-day period"``.
    """
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return "calendar year"
    month_end = calendar.monthrange(end.year, end.month)[1]
    if start.day == 1 and end.day == month_end:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        return f"{months}-month period starting {calendar.month_name[start.month]}"
    return f"{(end - start).days + 1}-day period"


def period_days(start: pd.Timestamp, end: pd.Timestamp) -> int:
    """The number of days from ``start`` to ``end``, both included."""
    return int((end - start).days) + 1


def comparable(kind_a: str, kind_b: str) -> bool:
    """Whether two period kinds (from :func:`period_kind`) are like for like."""
    return kind_a == kind_b
