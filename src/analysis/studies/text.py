"""Words for readers: escaping data-built sentences for Markdown and HTML, and the shared wording of numbers."""

from __future__ import annotations

import string
from html import escape

from IPython.display import Markdown

from analysis.measures.rates import Growth, level
from analysis.numbers import count, date_words, fold_text, period_words, ratio, share, signed_count, signed_pct

__all__ = [
    "chance_text",
    "change_text",
    "count",
    "date_words",
    "escape_markdown",
    "fold_text",
    "interval_text",
    "p_text",
    "period_words",
    "ratio",
    "say",
    "share",
    "signed_count",
    "signed_pct",
]

#: ASCII punctuation that Markdown may read as syntax; each is written with a backslash before it.
#: (``&``, ``<``, ``>``, ``"`` and ``'`` become HTML character references instead.)
_MARKDOWN_PUNCTUATION = frozenset(string.punctuation) - set("&<>\"'")


def escape_markdown(text: str) -> str:
    """``text`` written so that Markdown and HTML show it literally, as one paragraph of plain text.

    Every character Markdown could take as syntax (emphasis, links, images,
    headings, lists, tables, code, autolinks) gets a backslash, and ``&``,
    ``<``, ``>`` and quotes become character references, so no tag, link or
    image can come from the data. Line breaks become spaces.
    """
    flat = " ".join(text.split())
    marked = "".join("\\" + ch if ch in _MARKDOWN_PUNCTUATION else ch for ch in flat)
    return escape(marked, quote=True)


def counted_by(agency: str, reported_by: str) -> str:
    """Whose count a sentence gives: ``its own count`` (the agency's) or ``the count of REPORTER``."""
    return "its own count" if reported_by == agency else f"the count of {reported_by}"


def capitalized(text: str) -> str:
    """``text`` with a capital first letter and the rest as written: ``ICE requests`` keeps its ``ICE``, where
    ``str.capitalize`` would write ``Ice requests``."""
    return text[:1].upper() + text[1:]


def say(text: str) -> Markdown:
    """A sentence built from data, for a notebook to show as Markdown (escaped by :func:`escape_markdown`)."""
    return Markdown(escape_markdown(text))


def p_text(p_value: float | None) -> str:
    """A p-value as it is written in the report."""
    if p_value is None:
        return "not defined"
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def chance_text(p_value: float | None) -> str:
    """What an exact test's two-sided p-value means, in plain words (blank when it is not defined).

    For example ``0.251``: ``If the rate had stayed the same, counts at least this far apart would turn up by
    chance in about 1 in 4 samples: this change is within what chance gives.``
    """
    if p_value is None:
        return ""
    start = "If the rate had stayed the same, counts at least this far apart would turn up by chance"
    if p_value < 0.001:
        return f"{start} in fewer than 1 in 1,000 samples: chance alone does not explain this change."
    if p_value < 0.05:
        return f"{start} in about 1 in {round(1 / p_value):,} samples: chance alone is unlikely to explain it."
    if p_value < 0.5:
        return f"{start} in about 1 in {round(1 / p_value):,} samples: this change is within what chance gives."
    return f"{start} in half of all samples or more: this change is within what chance gives."


def change_text(result: Growth) -> str:
    """``+42 requests, +280%, 3.8 times as many`` (or the wording of a fall, an undefined change, or a change
    per day between periods of unequal length)."""
    parts = []
    if result.abs_change is not None:
        sign = "+" if result.abs_change >= 0 else "−"
        parts.append(f"{sign}{abs(result.abs_change):,} requests")
    if result.pct_change is None or result.fold is None:
        parts.append("percent change undefined (no requests in the base period)")
    elif result.per_day:
        parts.append(f"{signed_pct(result.pct_change)} in requests per day")
        parts.append(f"{fold_text(result.fold)} times as many a day")
    else:
        parts.append(signed_pct(result.pct_change))
        parts.append(f"{fold_text(result.fold)} times as many")
    if result.per_day:
        parts.append(
            f"compared per day because the periods differ in length ({result.base_days} days against "
            f"{result.compare_days})"
        )
    return ", ".join(parts)


def interval_text(result: Growth, confidence: float) -> str:
    """The rate-ratio interval and p-value in a few words.

    For example ``rate ratio 2.12 to 7.23 (exact 95% interval), p < 0.001``.
    """
    if result.rate_ratio_ci_low is None:
        return "no rate ratio (no requests in either period)"
    high = "unbounded" if result.rate_ratio_ci_high is None else f"{result.rate_ratio_ci_high:.2f}"
    return (
        f"rate ratio {result.rate_ratio_ci_low:.2f} to {high} (exact {level(confidence)} interval), "
        f"{p_text(result.p_value)}"
    )
