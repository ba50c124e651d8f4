"""Growth and denial-rate metrics, and their properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from analysis.errors import MetricError
from analysis.measures.rates import clopper_pearson, denial_rate, growth

counts = st.integers(min_value=0, max_value=5000)


def test_growth_of_fifteen_to_fifty_seven() -> None:
    result = growth(15, 57)
    assert (result.abs_change, result.pct_change, result.fold) == (42, 280.0, 3.8)
    assert result.rate_ratio_ci_low == pytest.approx(2.1228, abs=1e-4)
    assert result.rate_ratio_ci_high == pytest.approx(7.2270, abs=1e-4)
    assert result.p_value < 1e-5
    assert result.notes == ()


def test_zero_base_says_percent_change_is_undefined() -> None:
    result = growth(0, 3)
    assert result.pct_change is None and result.fold is None
    assert result.rate_ratio_ci_high is None
    assert any("base period has zero requests" in note for note in result.notes)
    assert all(not (isinstance(v, float) and math.isinf(v)) for v in result.to_dict().values())


def test_no_requests_in_either_period() -> None:
    result = growth(0, 0)
    assert result.p_value is None and result.rate_ratio_ci_low is None
    assert any("both periods have zero requests" in note for note in result.notes)


def test_no_change_is_not_significant() -> None:
    assert growth(40, 40).p_value == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [-1, 1.5, True, None])
def test_growth_rejects_counts_that_are_not_whole_numbers(bad) -> None:
    with pytest.raises(MetricError, match="whole number"):
        growth(bad, 3)


@pytest.mark.parametrize(("n", "low"), [(57, 0.937), (15, 0.782)])
def test_all_declined_interval(n: int, low: float) -> None:
    rate = denial_rate(n, n)
    assert rate.denial_rate == 1.0
    assert round(rate.ci_low, 3) == low
    assert rate.ci_high == 1.0


def test_unreported_outcome_has_no_rate() -> None:
    rate = denial_rate(19, None)
    assert (rate.denial_rate, rate.ci_low, rate.ci_high) == (None, None, None)
    assert "does not report" in rate.note


def test_zero_requests_has_no_rate() -> None:
    rate = denial_rate(0, 0)
    assert rate.denial_rate is None and "no requests" in rate.note


def test_more_declined_than_received_is_refused() -> None:
    with pytest.raises(MetricError, match="cannot exceed"):
        denial_rate(3, 4)


@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_rate_and_interval_stay_in_unit_range(case: tuple[int, int]) -> None:
    requests, declined = case
    rate = denial_rate(requests, declined)
    assert 0 <= rate.ci_low <= rate.denial_rate <= rate.ci_high <= 1


@given(st.integers(min_value=1, max_value=5000), counts)
def test_growth_round_trips(base: int, compare: int) -> None:
    result = growth(base, compare)
    assert base + result.abs_change == compare
    assert base * (1 + result.pct_change / 100) == pytest.approx(compare)
    assert base * result.fold == pytest.approx(compare)


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=5000))
def test_rate_ratio_interval_contains_the_fold(base: int, compare: int) -> None:
    result = growth(base, compare)
    assert result.rate_ratio_ci_low <= result.fold <= result.rate_ratio_ci_high
    assert 0 <= result.p_value <= 1


def test_clopper_pearson_is_scipys_exact_interval() -> None:
    """The beta-quantile form gives the interval scipy's binomtest finds by root-finding, edges included."""
    pairs = [(k, n) for n in (1, 2, 3, 7, 15, 57, 198, 4522) for k in sorted({0, 1, n // 3, n // 2, n - 1, n})]
    low, high = clopper_pearson([k for k, _ in pairs], [n for _, n in pairs])
    for (k, n), lo, hi in zip(pairs, low, high, strict=True):
        exact = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        assert lo == pytest.approx(exact.low, abs=1e-10) and hi == pytest.approx(exact.high, abs=1e-10), (k, n)
    assert (low[[k == 0 for k, _ in pairs]] == 0).all() and (high[[k == n for k, n in pairs]] == 1).all()
