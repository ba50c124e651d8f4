"""Growth and denial rates with exact intervals (pure functions, no I/O).

Growth compares the number of requests in two periods of equal kind, or the
requests per day of two periods of unequal length. Its uncertainty treats each
count as a Poisson count over its period; conditional on the total, the later
count is binomial with the share of the two periods' exposure that is the
later period's (one half for like periods), which gives the exact conditional
interval for the rate ratio and the exact two-sided test of "no change" (the
conditional binomial method for two Poisson rates; e.g. Breslow and Day,
Statistical Methods in Cancer Research II, 1987, section 7.2). Shares of
requests declined or answered use the exact Clopper-Pearson interval.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

from scipy.stats import binomtest

from analysis.errors import MetricError

#: Confidence level of every interval, unless a caller asks for another.
CONFIDENCE = 0.95


def level(confidence: float = CONFIDENCE) -> str:
    """A confidence level as the report writes it: ``95%``."""
    return f"{confidence:.0%}" if round(confidence * 100, 6).is_integer() else f"{confidence:.1%}"


@dataclass(frozen=True)
class Growth:
    """Change in requests from a base period to a compare period.

    ``basis`` is ``"counts"`` for periods of equal length, ``"per day"`` when
    the periods differ in length (``base_days``, ``compare_days``): then
    ``pct_change``, ``fold`` and the interval compare requests per day, and
    ``abs_change`` (a count) is ``None``. ``pct_change`` (percent), ``fold``
    and the interval bounds are ``None`` where they are undefined; ``notes``
    says why, in words.
    """

    base_requests: int
    compare_requests: int
    abs_change: int | None
    pct_change: float | None
    fold: float | None
    rate_ratio_ci_low: float | None
    rate_ratio_ci_high: float | None
    p_value: float | None
    notes: tuple[str, ...] = ()
    basis: str = "counts"
    base_days: int | None = None
    compare_days: int | None = None

    @property
    def per_day(self) -> bool:
        """Whether the periods differ in length, so requests per day are compared."""
        return self.basis == "per day"

    def to_dict(self) -> dict[str, object]:
        """The fields as a plain dict (notes as a list)."""
        fields = asdict(self)
        fields["notes"] = list(self.notes)
        return fields


@dataclass(frozen=True)
class DenialRate:
    """Share of requests declined, with its exact interval.

    ``denial_rate`` (a fraction), ``ci_low`` and ``ci_high`` are ``None``
    when the rate is undefined; ``note`` then says why. ``requests`` is
    ``None`` where the source gives only outcomes.
    """

    requests: int | None
    declined: int | None
    denial_rate: float | None
    ci_low: float | None
    ci_high: float | None
    note: str | None = None


@functools.lru_cache(maxsize=1 << 16)
def _exact_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """Clopper-Pearson interval of ``successes`` in ``trials`` (scipy's exact ``binomtest`` interval).

    Computed once per distinct argument: a table of a million counts repeats the same few thousand pairs.
    """
    interval = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


@functools.lru_cache(maxsize=1 << 16)
def _conditional_test(successes: int, trials: int, p: float, confidence: float) -> tuple[float, float, float]:
    """The exact two-sided binomial test of ``successes`` in ``trials`` against ``p``: its p-value and the
    Clopper-Pearson interval of the proportion (computed once per distinct argument)."""
    test = binomtest(successes, trials, p=p)
    interval = test.proportion_ci(confidence_level=confidence, method="exact")
    return float(test.pvalue), float(interval.low), float(interval.high)


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MetricError(f"{name} must be a whole number of 0 or more, got {value!r}")


def growth(
    base_requests: int,
    compare_requests: int,
    confidence: float = CONFIDENCE,
    base_days: int | None = None,
    compare_days: int | None = None,
) -> Growth:
    """Growth from ``base_requests`` to ``compare_requests``, over two like periods or per day.

    Parameters
    ----------
    base_requests, compare_requests
        Requests in the earlier and the later period.
    confidence
        Confidence level of the rate-ratio interval.
    base_days, compare_days
        The periods' lengths in days. When both are given and differ, requests
        per day are compared (``basis`` ``"per day"``); otherwise the counts.

    Returns
    -------
    Growth
        For 15 to 57: ``abs_change`` 42, ``pct_change`` 280.0, ``fold`` 3.8.
    """
    _check_count("base_requests", base_requests)
    _check_count("compare_requests", compare_requests)
    notes: list[str] = []
    base, compare = int(base_requests), int(compare_requests)
    days = (base_days, compare_days) if base_days is not None and compare_days is not None else (1, 1)
    per_day = days[0] != days[1]
    # What: the later period's share of the time (one half for like periods), and the ratio of their lengths.
    share_of_time, exposure = days[1] / (days[0] + days[1]), days[0] / days[1]
    if base == 0:
        pct_change = fold = None
        notes.append("percent change and fold are undefined: the base period has zero requests")
    elif per_day:
        fold = (compare / days[1]) / (base / days[0])
        pct_change = 100 * (fold - 1)
    else:
        pct_change = 100 * (compare - base) / base
        fold = compare / base
    if per_day:
        notes.append(f"compared per day: the periods differ in length ({base_days} days against {compare_days})")

    total = base + compare
    low = high = p_value = None
    if total == 0:
        notes.append("rate-ratio interval and p-value are undefined: both periods have zero requests")
    else:
        # Conditional on the total, the later count is Binomial(total, r t / (1 + r t)), t the exposure ratio.
        p_value, share_low, share_high = _conditional_test(compare, total, share_of_time, confidence)
        low = float(share_low / (1 - share_low) * exposure)
        if share_high < 1:
            high = float(share_high / (1 - share_high) * exposure)
        else:
            notes.append("the rate ratio's upper bound is unbounded: the base period has zero requests")
    basis = "per day" if per_day else "counts"
    return Growth(
        base,
        compare,
        None if per_day else compare - base,
        pct_change,
        fold,
        low,
        high,
        p_value,
        tuple(notes),
        basis,
        base_days,
        compare_days,
    )


def share(
    requests: int | None, part: int | None, what: str, confidence: float = CONFIDENCE
) -> tuple[float | None, float | None, float | None, str | None]:
    """The share ``part / requests`` (a fraction) with its Clopper-Pearson interval, or ``None`` and why not.

    ``what`` names the part in the note (``declined``, ``answered``). Returns ``(share, low, high, note)``.

    Raises
    ------
    MetricError
        When ``part`` exceeds ``requests`` or a count is negative.
    """
    if requests is None:
        return None, None, None, "the source gives no count of requests, only outcomes"
    _check_count("requests", requests)
    if part is None:
        return None, None, None, f"the source does not report how many were {what}"
    _check_count(what, part)
    if part > requests:
        raise MetricError(f"{what} ({part}) cannot exceed requests ({requests})")
    if requests == 0:
        return None, None, None, "no requests were received, so there is no rate"
    low, high = _exact_interval(part, requests, confidence)
    return part / requests, low, high, None


def denial_rate(requests: int, declined: int | None, confidence: float = CONFIDENCE) -> DenialRate:
    """Share of ``requests`` that were declined, with its Clopper-Pearson interval.

    Parameters
    ----------
    requests
        Requests received in the period.
    declined
        Requests declined, or ``None`` when the source does not say.
    confidence
        Confidence level of the interval.

    Returns
    -------
    DenialRate
        For 57 of 57: rate 1.0, interval [0.937, 1.0].
    """
    rate, low, high, note = share(requests, declined, "declined", confidence)
    return DenialRate(requests, declined, rate, low, high, note)
