"""Growth and denial rates with exact intervals (pure functions, no I/O).

Growth compares the number of requests in two periods of equal kind. Its
uncertainty treats each count as a Poisson count over one period; conditional
on the total, the later count is binomial, which gives the exact (conditional)
interval for the rate ratio and the exact two-sided test of "no change".
Denial rates use the exact Clopper-Pearson interval.
"""

from __future__ import annotations

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

    ``pct_change``, ``fold`` and the interval bounds are ``None`` where they
    are undefined; ``notes`` says why, in words.
    """

    base_requests: int
    compare_requests: int
    abs_change: int
    pct_change: float | None
    fold: float | None
    rate_ratio_ci_low: float | None
    rate_ratio_ci_high: float | None
    p_value: float | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The fields as a plain dict (notes as a list)."""
        fields = asdict(self)
        fields["notes"] = list(self.notes)
        return fields


@dataclass(frozen=True)
class DenialRate:
    """Share of requests declined, with its exact interval.

    ``denial_rate`` (a fraction), ``ci_low`` and ``ci_high`` are ``None``
    when the rate is undefined; ``note`` then says why.
    """

    requests: int
    declined: int | None
    denial_rate: float | None
    ci_low: float | None
    ci_high: float | None
    note: str | None = None


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MetricError(f"{name} must be a whole number of 0 or more, got {value!r}")


def growth(base_requests: int, compare_requests: int, confidence: float = CONFIDENCE) -> Growth:
    """Growth from ``base_requests`` to ``compare_requests`` over two like periods.

    Parameters
    ----------
    base_requests, compare_requests
        Requests in the earlier and the later period.
    confidence
        Confidence level of the rate-ratio interval.

    Returns
    -------
    Growth
        For 15 to 57: ``abs_change`` 42, ``pct_change`` 280.0, ``fold`` 3.8.
    """
    _check_count("base_requests", base_requests)
    _check_count("compare_requests", compare_requests)
    notes: list[str] = []
    base, compare = int(base_requests), int(compare_requests)
    if base == 0:
        pct_change = fold = None
        notes.append("percent change and fold are undefined: the base period has zero requests")
    else:
        pct_change = 100 * (compare - base) / base
        fold = compare / base

    total = base + compare
    low = high = p_value = None
    if total == 0:
        notes.append("rate-ratio interval and p-value are undefined: both periods have zero requests")
    else:
        # Conditional on the total, the later count is Binomial(total, r / (1 + r)).
        test = binomtest(compare, total, p=0.5)
        share = test.proportion_ci(confidence_level=confidence, method="exact")
        p_value = float(test.pvalue)
        low = float(share.low / (1 - share.low))
        if share.high < 1:
            high = float(share.high / (1 - share.high))
        else:
            notes.append("the rate ratio's upper bound is unbounded: the base period has zero requests")
    return Growth(base, compare, compare - base, pct_change, fold, low, high, p_value, tuple(notes))


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
    _check_count("requests", requests)
    if declined is None:
        return DenialRate(requests, None, None, None, None, "the source does not report how many were declined")
    _check_count("declined", declined)
    if declined > requests:
        raise MetricError(f"declined ({declined}) cannot exceed requests ({requests})")
    if requests == 0:
        return DenialRate(0, declined, None, None, None, "no requests were received, so there is no rate")
    interval = binomtest(declined, requests).proportion_ci(confidence_level=confidence, method="exact")
    return DenialRate(requests, declined, declined / requests, float(interval.low), float(interval.high))
