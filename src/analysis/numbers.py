"""The one way the report writes a number, shared by the headlines, tables, charts and the landing page:
thousands separators, a true minus sign, a sign on every change, and percentages at the precision the prose uses.

Every function takes a value that may be missing (``None``, NaN, pandas' ``NA``) and says so in its result.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal
from typing import Any


def missing(value: Any) -> bool:
    """Whether ``value`` is missing: ``None``, NaN, NaT or pandas' ``NA``."""
    if value is None:
        return True
    try:
        return bool(value != value)  # what: NaN and NaT differ from themselves
    except TypeError:  # what: pandas' NA has no truth value
        return True


def count(value: Any) -> str:
    """A count with thousands separators; blank where missing."""
    return "" if missing(value) else f"{int(value):,}"


def share(value: Any, decimals: int = 1) -> str:
    """A fraction as a percentage (``0.937`` as ``93.7%``); blank where missing."""
    return "" if missing(value) else f"{float(value):.{decimals}%}"


def exact_share(value: Any) -> str:
    """A fraction as the percentage it states, every digit kept (``0.1`` as ``10%``, ``0.125`` as ``12.5%``,
    ``0.004`` as ``0.4%``, ``0`` and ``-0`` as ``0%``): a tolerance as it was recorded, where rounding would
    misstate the one judged; blank where missing."""
    if missing(value):
        return ""
    exact = (Decimal(repr(float(value))) * 100).normalize().copy_abs() if value else Decimal(0)
    return f"{exact:,f}%"


def rate_text(value: Any) -> str:
    """A share as a percentage that is ``100%`` (or ``0%``) only when it is exactly that: one decimal, more when
    one would round a share of nearly all or nearly none to the whole (``0.99956`` as ``99.96%``); blank where
    missing."""
    if missing(value):
        return ""
    number = float(value)
    if number in (0.0, 1.0):
        return f"{number:.0%}"
    for decimals in (1, 2, 3, 4):
        text = f"{number * 100:.{decimals}f}"
        if float(text) not in (0.0, 100.0):
            return f"{text}%"
    return f"{number:.6%}"


def signed_pct(value: Any) -> str:
    """A percent change as the prose writes it (``+280%``; a fall with a minus sign); ``undefined`` if missing."""
    if missing(value):
        return "undefined"
    number = float(value)
    if round(abs(number)) == 0:
        return "0%"  # what: a change that rounds to nothing has no sign
    return f"{'+' if number > 0 else '−'}{abs(number):,.0f}%"


def signed_count(value: Any) -> str:
    """A change in a count as the prose writes it (``+53``, a fall with a true minus sign, ``0``); blank where
    missing."""
    if missing(value):
        return ""
    number = int(value)
    return f"{'+' if number > 0 else '−' if number < 0 else ''}{abs(number):,}"


def fold_text(value: Any) -> str:
    """A fold change as the prose writes it: one decimal from 1 up (``3.8``), two significant digits below
    (``0.29``, ``0.04``: a fall of 96% is never ``0.0``); ``undefined`` where missing."""
    if missing(value):
        return "undefined"
    number = float(value)
    if number >= 1:
        return f"{number:.1f}"
    if 0 < number < 0.001:
        return "under 0.001"
    text = f"{number:.2g}"
    # What: a fall just under 1 (0.996) is never written "1", nor a tiny fold in scientific notation.
    return text if "e" not in text and float(text) < 1 else f"{number:.3f}"


def ratio(value: Any, decimals: int = 2) -> str:
    """A fold change or rate ratio (``3.80``); ``undefined`` where missing."""
    return "undefined" if missing(value) else f"{float(value):.{decimals}f}"


def date_words(text: str) -> str:
    """A date as given in the data, in words at its own precision: ``2026-01-27`` as ``27 January 2026``,
    ``2023-05`` as ``May 2023``, ``2022`` as ``2022`` (anything else as it is)."""
    parts = text.split("-")
    if not all(part.isdigit() for part in parts) or not 1 <= len(parts) <= 3:
        return text
    if len(parts) >= 2 and not 1 <= int(parts[1]) <= 12:
        return text
    month = calendar.month_name[int(parts[1])] if len(parts) >= 2 else ""
    if len(parts) == 3:
        return f"{int(parts[2])} {month} {parts[0]}"
    return f"{month} {parts[0]}" if month else parts[0]


def span_words(first: date, last: date) -> str:
    """The days from ``first`` to ``last`` (inclusive) in words, as coarse as they allow: whole years as
    ``2016 to 2025``, whole months as ``October 2007 to December 2025``, else days (``28 January 2017 to
    3 February 2017``); one year or month alone as itself."""
    month_start = first.day == 1
    month_end = last.day == calendar.monthrange(last.year, last.month)[1]
    if month_start and month_end and first.month == 1 and last.month == 12:
        return str(first.year) if first.year == last.year else f"{first.year} to {last.year}"
    if month_start and month_end:
        start = f"{calendar.month_name[first.month]} {first.year}"
        end = f"{calendar.month_name[last.month]} {last.year}"
        return start if start == end else f"{start} to {end}"
    return f"{date_words(first.isoformat())} to {date_words(last.isoformat())}"


#: A period label of the data: a run of whole months (``2018-07/2019-06``), a run of days, a fiscal year.
_MONTHS = re.compile(r"(\d{4})-(\d{2})/(\d{4})-(\d{2})")
_DAYS = re.compile(r"(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})")
_FISCAL = re.compile(r"FY(\d{4})")


def listed(items: list[str]) -> str:
    """Items as a sentence lists them: ``2021``, ``2021 and 2023``, ``2016, 2021 and 2023``."""
    return " and ".join(filter(None, [", ".join(items[:-1]), *items[-1:]]))


def during(label: str) -> str:
    """A period as a sentence places something in it, in words (:func:`period_words`): ``in 2024``, ``in fiscal
    year 2019``, ``from 28 January 2017 to 3 February 2017``."""
    words = period_words(label)
    return f"from {words}" if " to " in words else f"in {words}"


def period_aside(label: str) -> str:
    """A period beside a count, in a sentence that already runs "from ... to ...": ``in 2024``, or a span in
    brackets (``(January 2018 to March 2018)``)."""
    words = period_words(label)
    return f"({words})" if " to " in words else f"in {words}"


def period_words(label: str) -> str:
    """A period label of the data in words: ``2018-07/2019-06`` as ``July 2018 to June 2019``,
    ``2017-01-28/2017-02-03`` as ``28 January 2017 to 3 February 2017``, ``FY2019`` as ``fiscal year 2019``, a
    calendar year as itself; `` (partial)`` kept. Anything else is returned as it is."""
    base, partial = (label[: -len(" (partial)")], " (partial)") if label.endswith(" (partial)") else (label, "")
    if months := _MONTHS.fullmatch(base):
        a, b, c, d = (int(group) for group in months.groups())
        if 1 <= b <= 12 and 1 <= d <= 12:
            first = f"{calendar.month_name[b]} {a}"
            last = f"{calendar.month_name[d]} {c}"
            return (first if first == last else f"{first} to {last}") + partial
    if days := _DAYS.fullmatch(base):
        return f"{date_words(days.group(1))} to {date_words(days.group(2))}{partial}"
    if fiscal := _FISCAL.fullmatch(base):
        return f"fiscal year {fiscal.group(1)}{partial}"
    return label
