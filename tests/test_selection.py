"""Picking series and periods out of the requests table; the Boston headline from the shipped data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import MetricError, ParameterError, load_dataset
from analysis.measures.rates import growth
from analysis.measures.selection import denial_rates, growth_in, growth_of, series
from analysis.studies import comparison, denial
from analysis.studies import growth as growth_study
from analysis.studies.text import chance_text, change_text, fold_text, signed_count, signed_pct

BPD = "Boston Police Department"
ICE = "U.S. Immigration and Customs Enforcement"
NYPD = "New York City Police Department"


@pytest.fixture(scope="module")
def shipped():
    return load_dataset().requests


def test_boston_headline_growth_from_shipped_data(shipped) -> None:
    result = growth_in(series(shipped, BPD, BPD), "2024", "2025")
    assert (result.base_requests, result.compare_requests) == (15, 57)
    assert (result.abs_change, round(result.pct_change), round(result.fold, 1)) == (42, 280, 3.8)


def test_boston_all_declined_in_2024_and_2025(shipped) -> None:
    rates = denial_rates(shipped, BPD, BPD).set_index("period")
    assert rates.loc["2024", "rate"] == 1.0
    assert rates.loc["2025", "rate"] == 1.0
    assert set(rates["share_of"]) == {"declined"}
    assert round(rates.loc["2025", "ci_low"], 3) == 0.937


def test_ice_count_turns_the_increase_into_a_fall(shipped) -> None:
    ice_2024 = series(shipped, BPD, ICE).set_index("period").loc["2024", "requests"]
    bpd_2025 = series(shipped, BPD, BPD).set_index("period").loc["2025", "requests"]
    assert round(100 * (bpd_2025 - ice_2024) / ice_2024) == -71


def test_unreported_years_have_no_rate(shipped) -> None:
    rates = denial_rates(shipped, BPD, BPD).set_index("period")
    assert rates.loc[["2021", "2023"], "rate"].isna().all()
    assert rates.loc["2023", "note"] == "the source does not report how many were declined"


def test_gap_years_are_not_filled(shipped) -> None:
    assert list(series(shipped, BPD, BPD)["period"]) == ["2016", "2017", "2021", "2022", "2023", "2024", "2025"]


def test_july_june_year_is_not_compared_with_a_calendar_year(shipped) -> None:
    with pytest.raises(MetricError, match=r"'2017' \(calendar year\) with '2018-07/2019-06' \(12-month period"):
        growth_in(series(shipped, NYPD, NYPD), "2017", "2018-07/2019-06")


@pytest.mark.parametrize(
    ("agency", "reporter", "period", "message"),
    [
        ("Atlantis PD", BPD, "2024", "parameter agency: 'Atlantis PD' is not one of .* valid choices: 'Boston"),
        (BPD, "Nobody", "2024", "parameter reported_by: 'Nobody' .* valid choices: 'Boston Police Department', 'ICE"),
        (BPD, BPD, "2019", "parameter compare_period: '2019' .* valid choices: '2016', '2017', '2021'"),
        (BPD, BPD, "", "parameter compare_period: '' is not valid; it must be non-blank text"),
    ],
)
def test_unknown_choices_list_the_valid_ones(shipped, agency, reporter, period, message) -> None:
    with pytest.raises(ParameterError, match=message):
        growth_in(series(shipped, agency, reporter), "2025", period)


def test_fixture_agency(data_dir: Path) -> None:
    requests = load_dataset(data_dir).requests
    agency = "Fictional City Police Department"
    result = growth_in(series(requests, agency, agency), "2020", "2021")
    assert (result.abs_change, result.pct_change) == (15, 150.0)
    rates = denial_rates(requests, agency, agency).set_index("period")
    assert rates.loc["2021", "rate"] == pytest.approx(24 / 25)


LASD = "Los Angeles County Sheriff's Department"


def test_two_kinds_of_one_reporter_are_never_mixed(shipped) -> None:
    with pytest.raises(
        ParameterError, match=r"request_kind: .* gives counts of 2 kinds of request .* \(any, detainer\)"
    ):
        series(shipped, LASD, LASD)
    assert list(series(shipped, LASD, LASD, "any")["requests"]) == [1603, 2540]
    assert list(series(shipped, LASD, LASD, "detainer")["requests"]) == [2395]


def test_counts_of_different_kinds_are_never_compared(shipped) -> None:
    any_2016 = series(shipped, LASD, LASD, "any").iloc[0]
    detainer_2016 = series(shipped, LASD, LASD, "detainer").iloc[0]
    with pytest.raises(MetricError, match="cannot compare ICE requests of every kind with detainer requests"):
        growth_of(any_2016, detainer_2016)


def test_growth_between_periods_of_unequal_length_is_per_day_and_says_so(shipped) -> None:
    result = growth_in(series(shipped, LASD, LASD, "any"), "2016", "2017-01/2017-10")
    assert (result.basis, result.base_days, result.compare_days) == ("per day", 366, 304)
    assert result.fold == pytest.approx((2540 / 304) / (1603 / 366))
    assert result.abs_change is None, "a difference of counts over unequal periods means nothing"
    assert result.rate_ratio_ci_low < result.fold < result.rate_ratio_ci_high
    assert any("compared per day" in note for note in result.notes)


def test_growth_needs_a_count_of_requests_in_both_periods(shipped) -> None:
    hennepin = "Hennepin County Sheriff's Office"
    with pytest.raises(MetricError, match="'2017-01-28/2017-02-03' has no count of requests: the source gives only"):
        growth_in(series(shipped, hennepin, hennepin), "2017-01-28/2017-02-03", "2017-02-11/2017-02-17")


def test_for_notification_requests_the_rate_is_the_share_answered(shipped) -> None:
    sonoma = "Sonoma County Sheriff's Office"
    (row,) = denial_rates(shipped, sonoma, sonoma).to_dict("records")
    assert (row["share_of"], row["rate"]) == ("answered", pytest.approx(64 / 484))
    assert row["ci_low"] < 64 / 484 < row["ci_high"]


@pytest.mark.parametrize(("base", "compare"), [("2025", "2024"), ("2024", "2024")])
def test_a_base_period_at_or_after_the_compared_one_is_refused(shipped, base: str, compare: str) -> None:
    with pytest.raises(ParameterError, match=rf"parameter base_period: '{base}' does not start before compare_period"):
        growth_in(series(shipped, BPD, BPD), base, compare)


def test_every_bad_period_is_named_at_once(shipped) -> None:
    """Both periods wrong (one unquoted in a notebook, one absent): one error names both, one line each."""
    with pytest.raises(ParameterError) as caught:
        growth_in(series(shipped, BPD, BPD), 2024, "2019")  # type: ignore[arg-type]
    first, second = str(caught.value).splitlines()
    assert first.startswith("parameter base_period: 2024 is not valid") and 'base_period = "2024"' in first
    assert second.startswith("parameter compare_period: '2019' is not one of")


def named(error: pytest.ExceptionInfo[ParameterError]) -> list[str]:
    """The parameters an error names, one per line, in order."""
    return [line.split(":")[0].removeprefix("parameter ") for line in str(error.value).splitlines()]


def test_every_bad_parameter_of_a_growth_study_is_named_at_once(shipped) -> None:
    """An agency, reporter and kind that are not in the data, and two bad periods: five lines, one error."""
    dataset = load_dataset()
    with pytest.raises(ParameterError) as caught:
        growth_study.study(dataset, "Atlantis PD", "Nobody", 2024, "2099", "detention")  # type: ignore[arg-type]
    assert named(caught) == ["agency", "reported_by", "request_kind", "base_period", "compare_period"]
    assert "valid choices: 'any', 'detainer', 'notification'" in str(caught.value)
    with pytest.raises(ParameterError) as caught:
        denial.study(dataset, "Atlantis PD", 7)  # type: ignore[arg-type]
    assert named(caught) == ["agency", "reported_by"]


def test_every_bad_entry_of_a_comparison_is_named_at_once() -> None:
    comparisons = [
        {"agency": "X", "reported_by": BPD, "base_period": "2016", "compare_period": "2017"},
        {"agency": BPD, "reported_by": BPD, "base_period": 2016, "compare_period": "2099"},
        5,
    ]
    with pytest.raises(ParameterError) as caught:
        comparison.study(load_dataset(), comparisons)
    assert named(caught) == [
        "comparisons[0].agency",
        "comparisons[1].base_period",
        "comparisons[1].compare_period",
        "comparisons[2]",
    ]


@pytest.mark.parametrize(
    ("base", "compare", "reading"),
    [
        (40, 52, r"in about 1 in [3-5] samples: this change is within what chance gives\."),
        (15, 57, r"in fewer than 1 in 1,000 samples: chance alone does not explain this change\."),
        (50, 50, r"in half of all samples or more: this change is within what chance gives\."),
    ],
)
def test_the_test_is_read_in_plain_words(base: int, compare: int, reading: str) -> None:
    """What the exact test means for the result, said for a reader: +30% is within chance, 15 to 57 is not."""
    result = growth(base, compare)
    assert result.p_value is not None
    said = chance_text(result.p_value)
    assert said.startswith("If the rate had stayed the same, counts at least this far apart would turn up by chance")
    assert re.search(reading, said), (result.p_value, said)


def test_numbers_read_the_same_everywhere() -> None:
    """Thousands separators in percents, a sign on every change, and a fall never written as 0.0 times."""
    assert signed_pct(1808.3) == "+1,808%" and signed_pct(-71.2) == "−71%"
    assert signed_count(53) == "+53" and signed_count(-66) == "−66" and signed_count(0) == "0"
    assert fold_text(3.8) == "3.8" and fold_text(0.04) == "0.04" and fold_text(0.2857) == "0.29"
    assert "0.04 times as many" in change_text(growth(100, 4))
