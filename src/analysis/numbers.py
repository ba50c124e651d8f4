"""The one way the report writes a number, shared by the headlines, tables, charts and the landing page:
thousands separators, a true minus sign, a sign on every change, and percentages at the precision the prose uses.

Every function takes a value that may be missing (``None``, NaN, pandas' ``NA``) and says so in its result.
"""

from __future__ import annotations

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
    return f"{'+' if number >= 0 else '−'}{abs(number):,.0f}%"


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
    return f"{number:.1f}" if number >= 1 else f"{number:.2g}"


def ratio(value: Any, decimals: int = 2) -> str:
    """A fold change or rate ratio (``3.80``); ``undefined`` where missing."""
    return "undefined" if missing(value) else f"{float(value):.{decimals}f}"
