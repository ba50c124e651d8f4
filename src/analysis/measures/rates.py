"""Growth and denial rates with exact intervals (pure functions, no I/O).

Growth compares the number of requests in two periods of equal kind, or the
requests per day of two periods of unequal length. Its uncertainty treats each
count as a Poisson count over its period; conditional on the total, the later
count is binomial with the share of the two periods' exposure that is the
later period's (one half for like periods), which gives the exact conditional
interval for the rate ratio and the exact two-sided test of "no change" (the
conditional binomial method for two Poisson rates; e.g. Breslow and Day,
Statistical Methods in Cancer Research II, 1987, section 7.2). Shares of
requests declined or answered use the exact Clopper-Pearson interval, and so
does the conditional binomial share above (:func:`clopper_pearson`, one
implementation for both).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import betaincinv

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


#: Why a share is undefined, in the words of the ``note`` fields (``what`` is ``declined`` or ``answered``).
NO_COUNT_NOTE = "the source gives no count of requests, only outcomes"
NO_REQUESTS_NOTE = "no requests were received, so there is no rate"


def not_reported_note(what: str) -> str:
    """The note of a share whose part (``declined``, ``answered``) the source does not give."""
    return f"the source does not report how many were {what}"


def clopper_pearson(
    successes: npt.ArrayLike, trials: npt.ArrayLike, confidence: float = CONFIDENCE
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Clopper-Pearson intervals of ``successes`` in ``trials``, element by element (fractions).

    The exact interval of Clopper and Pearson (Biometrika 26, 1934, 404-413), written as beta quantiles
    (e.g. Brown, Cai and DasGupta, Statistical Science 16, 2001, 101-133; the inverse of the regularized
    incomplete beta function, scipy's ``betaincinv``, gives the quantiles): the lower bound is the
    ``(1 - confidence) / 2`` quantile of Beta(k, n - k + 1), 0 when k = 0; the upper bound is the
    ``(1 + confidence) / 2`` quantile of Beta(k + 1, n - k), 1 when k = n. It is the interval scipy's
    ``binomtest(k, n).proportion_ci(method="exact")`` finds by root-finding, to within 1e-11, and a
    million pairs take a fraction of a second.

    Parameters
    ----------
    successes, trials
        Counts of the same shape (or broadcastable); every ``trials`` at least 1 and
        ``0 <= successes <= trials``.
    confidence
        Confidence level, between 0 and 1.

    Returns
    -------
    tuple of numpy.ndarray
        The lower and upper bounds, float64 arrays of the broadcast shape.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    alpha = 1 - confidence
    # What: the beta quantile is NaN at k = 0 (lower) and k = n (upper), where the bound is 0 or 1 by definition.
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, betaincinv(k, n - k + 1, alpha / 2), 0.0)
        high = np.where(k < n, betaincinv(k + 1, n - k, 1 - alpha / 2), 1.0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _exact_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """The Clopper-Pearson interval of one count (see :func:`clopper_pearson`)."""
    low, high = clopper_pearson(successes, trials, confidence)
    return float(low), float(high)


@functools.lru_cache(maxsize=1 << 16)
def _conditional_test(successes: int, trials: int, p: float, confidence: float) -> tuple[float, float, float]:
    """The exact two-sided binomial test of ``successes`` in ``trials`` against ``p`` (scipy's ``binomtest``): its
    p-value and the Clopper-Pearson interval of the proportion (computed once per distinct argument)."""
    # What: imported here, not with the module: scipy.stats costs a process 60 MB, and a report's runner, which
    # computes only shares, never needs it.
    from scipy.stats import binomtest

    low, high = _exact_interval(successes, trials, confidence)
    return float(binomtest(successes, trials, p=p).pvalue), low, high


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
        return None, None, None, NO_COUNT_NOTE
    _check_count("requests", requests)
    if part is None:
        return None, None, None, not_reported_note(what)
    _check_count(what, part)
    if part > requests:
        raise MetricError(f"{what} ({part}) cannot exceed requests ({requests})")
    if requests == 0:
        return None, None, None, NO_REQUESTS_NOTE
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
