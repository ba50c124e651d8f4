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


def test_all_six_claims_hold_on_the_reporters_own_figures(shipped) -> None:
    assert len(shipped) == 6
    assert {claim_id: r.check.verdict for claim_id, r in shipped.items()} == dict.fromkeys(shipped, SUPPORTED)
    assert shipped["bpd-2016-2017-increase"].check.value == pytest.approx(353.33, abs=0.01)
    assert shipped["nypd-2016-2017-increase"].check.value == pytest.approx(19.075)


def test_ice_count_contradicts_the_2024_2025_increase(shipped) -> None:
    (alternative,) = shipped["bpd-2024-2025-increase"].alternatives
    assert (alternative.reported_by, alternative.period, alternative.requests) == (ICE, "2024", 198)
    assert alternative.check.verdict == CONTRADICTED
    assert round(alternative.check.value) == -71


def test_ice_count_cannot_check_the_2024_denials(shipped) -> None:
    (alternative,) = shipped["bpd-2024-all-declined"].alternatives
    assert alternative.check.verdict == NOT_CHECKABLE
    assert "does not report how many were declined" in alternative.check.reason


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
    assert "with U.S. Immigration and Customs Enforcement's 2024 count of 198: contradicted" in out
    assert out.rstrip().endswith("6 supported, 0 contradicted, 0 not checkable.")


def test_cli_exits_1_when_a_claim_presented_as_fact_is_contradicted(data_dir: Path, capsys) -> None:
    claims = data_dir / "claims.csv"
    claims.write_text(claims.read_text().replace(",2020,2021,150,", ",2020,2021,120,"))
    assert main(["claims", "--data-dir", str(data_dir)]) == 1
    captured = capsys.readouterr()
    assert "fictional-2020-2021-increase: CONTRADICTED" in captured.out
    assert "which does not round to the claimed 120%" in captured.out
    assert "fictional-2020-2021-increase" in captured.err and "Traceback" not in captured.err


def test_a_contradicted_claim_not_presented_as_fact_exits_0(data_dir: Path) -> None:
    claims = data_dir / "claims.csv"
    claims.write_text(claims.read_text().replace(",2020,2021,150,0,,true,", ",2020,2021,120,0,,false,"))
    assert main(["claims", "--data-dir", str(data_dir)]) == 0
