"""Published claims checked against the data, and the ``detainers claims`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import load_dataset
from analysis.cli import main
from analysis.measures.verdicts import CONTRADICTED, NOT_CHECKABLE, SUPPORTED, check_claims, matches
from analysis.studies.claims import ClaimsStudy

ICE = "U.S. Immigration and Customs Enforcement"


@pytest.fixture(scope="module")
def shipped():
    dataset = load_dataset()
    return {r.claim["claim_id"]: r for r in check_claims(dataset.requests, dataset.claims)}


def test_every_claim_of_facts_holds_on_its_reporters_own_counts(shipped) -> None:
    assert len(shipped) == 11
    assert {claim_id: r.check.verdict for claim_id, r in shipped.items()} == dict.fromkeys(shipped, SUPPORTED)
    assert shipped["bpd-2016-2017-increase"].check.value == pytest.approx(353.33, abs=0.01)
    assert shipped["nypd-2016-2017-increase"].check.value == pytest.approx(19.075)


def test_ice_count_contradicts_the_2024_2025_increase(shipped) -> None:
    (alternative,) = shipped["bpd-2024-2025-increase"].alternatives
    assert (alternative.reported_by, alternative.period, alternative.count) == (ICE, "2024", 198)
    assert alternative.check.verdict == CONTRADICTED
    assert round(alternative.check.value) == -71


def test_ice_count_cannot_check_the_2024_denials(shipped) -> None:
    (alternative,) = shipped["bpd-2024-all-declined"].alternatives
    assert alternative.check.verdict == NOT_CHECKABLE
    assert "does not report how many were declined" in alternative.check.reason


def test_ices_198_is_supported_on_its_count_and_contradicted_on_the_departments(shipped) -> None:
    result = shipped["ice-bpd-2024-198"]
    assert (result.check.verdict, result.check.value) == (SUPPORTED, 198)
    (department,) = result.alternatives
    assert (department.reported_by, department.count, department.check.verdict) == (
        "Boston Police Department",
        15,
        CONTRADICTED,
    )
    assert not result.claim["expected_to_hold"], "disputed by the department"


def test_hennepin_declines_are_supported_on_ices_count_and_contradicted_on_the_sheriffs(shipped) -> None:
    result = shipped["ice-hennepin-2017-w1"]
    assert (result.check.verdict, result.check.value) == (SUPPORTED, 2)
    (sheriff,) = result.alternatives
    assert (sheriff.reported_by, sheriff.count, sheriff.counted) == ("Hennepin County Sheriff's Office", 0, "declined")
    assert sheriff.check.verdict == CONTRADICTED
    assert not result.claim["expected_to_hold"], "disputed by the sheriff"


def test_claims_across_periods_of_unequal_length_are_judged_per_day_and_say_so(shipped) -> None:
    lasd = shipped["lasd-2016-2017-jump"]
    assert lasd.check.verdict == SUPPORTED and lasd.check.value == 1
    assert "91% in requests per day" in lasd.check.reason
    assert "compared per day, because the periods differ in length (366 days against 304)" in lasd.check.reason
    denver = shipped["denver-2018-q1-q2"]
    assert denver.check.value == pytest.approx((84 / 91) / (42 / 90))
    assert "(90 days against 91)" in denver.check.reason


def test_a_claim_about_one_kind_is_never_judged_on_another(shipped) -> None:
    """Los Angeles County's 2016 counts of ICE requests of every kind (1,603) and of detainer requests (2,395)."""
    assert shipped["lasd-2016-2017-jump"].claim["request_kind"] == "any"
    assert shipped["lasd-2016-2017-jump"].alternatives == (), "the detainer count is another kind, not another reporter"


@pytest.mark.parametrize(
    ("value", "claimed", "precision", "tolerance", "expected"),
    [
        (353.333, 353, 0, None, True),
        (352.5, 353, 0, None, True),  # half rounds up, as a reader would
        (352.49, 353, 0, None, False),
        (19.075, 20, 0, 0.1, True),
        (17.9, 20, 0, 0.1, False),
        (280.0, 280, 0, float("nan"), True),
    ],
)
def test_matching_at_the_claims_precision(value, claimed, precision, tolerance, expected) -> None:
    assert matches(value, claimed, precision, tolerance) is expected


def test_claims_json_lists_every_claim(shipped) -> None:
    summary = ClaimsStudy(tuple(shipped.values()), load_dataset().sources).to_json()
    assert summary["bpd-2024-2025-increase"]["verdict"] == SUPPORTED
    assert summary["bpd-2024-2025-increase"]["value"] == 280.0
    assert summary["bpd-2024-2025-increase"]["alternatives"][0]["verdict"] == CONTRADICTED


def test_cli_prints_the_table_and_exits_0(capsys) -> None:
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    assert "bpd-2024-2025-increase: SUPPORTED" in out
    assert "with U.S. Immigration and Customs Enforcement's count of 198 requests in 2024: contradicted" in out
    assert "lasd-2016-2017-jump: SUPPORTED" in out
    assert "compared per day, because the periods differ in length (366 days against 304)" in out
    assert out.rstrip().endswith(
        "11 supported, 0 contradicted, 0 not checkable. "
        "Another party's count gives the opposite verdict for 3 of them, which are disputed."
    )


def test_cli_exits_1_when_a_claim_presented_as_fact_is_contradicted(data_dir: Path, capsys) -> None:
    claims = data_dir / "claims.csv"
    claims.write_text(claims.read_text().replace(",2020,2021,150,", ",2020,2021,120,"))
    assert main(["claims", "--data-dir", str(data_dir)]) == 1
    captured = capsys.readouterr()
    assert "fictional-2020-2021-increase: CONTRADICTED" in captured.out
    assert "which does not round to the claimed 120%" in captured.out
    assert "fictional-2020-2021-increase" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("tolerance", "shown"),
    [("0.125", "within 12.5%"), ("0.004", "within 0.4%"), ("-0", "within 0%"), ("12", "within 1,200%")],
)
def test_a_tolerance_is_stated_with_every_digit_it_has(data_dir: Path, capsys, tolerance: str, shown: str) -> None:
    """Rounded to whole percents, 0.125 read "within 12%" and 0.004 "within 0%": not the tolerance judged."""
    claims = data_dir / "claims.csv"
    claims.write_text(claims.read_text().replace(",2020,2021,150,0,,true,", f",2020,2021,150,0,{tolerance},true,"))
    assert main(["claims", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"which is {shown} of the claimed 150%" in out, out


def test_a_contradicted_claim_not_presented_as_fact_exits_0(data_dir: Path) -> None:
    claims = data_dir / "claims.csv"
    claims.write_text(claims.read_text().replace(",2020,2021,150,0,,true,", ",2020,2021,120,0,,false,"))
    assert main(["claims", "--data-dir", str(data_dir)]) == 0


def test_a_line_break_in_a_claim_cannot_forge_a_verdict(data_dir: Path, capsys) -> None:
    claims = data_dir / "claims.csv"
    forged = '"Requests rose\n\nnypd-fake: SUPPORTED\n  claim:  made up"'
    claims.write_text(claims.read_text().replace("Requests rose by 150 percent from 2020 to 2021", forged, 1))
    assert main(["claims", "--data-dir", str(data_dir)]) == 1, "free text holds no line break"
    out, err = capsys.readouterr()
    assert not any(line.startswith("nypd-fake") for line in (out + err).splitlines()), out + err
    assert "Requests rose\\n\\nnypd-fake: SUPPORTED\\n  claim:  made up" in err
