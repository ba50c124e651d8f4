"""Ingesting ICE's record-level detainer exports: reading, validation, duplicates, mapping, periods."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import papermill as pm
import pytest

from analysis import DataValidationError, load_dataset
from analysis.cli import main
from analysis.data.schema import ICE_RECORDS as REPORTED_BY
from analysis.ice.aggregate import aggregate, flag_duplicates, read_mapping
from analysis.ice.records import read_export
from analysis.paths import NOTEBOOKS_DIR
from analysis.pipeline.execute import IPCKernelManager
from ice_export import make_export, write_export

AGENCIES = Path(__file__).parent / "fixtures" / "ice" / "agencies.csv"
FICTIONAL = "Fictional City Police Department"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_export(make_export(3000, seed=1), tmp_path_factory.mktemp("ice") / "export.parquet")


def ingest(path: Path, year_basis: str = "calendar"):
    return aggregate(read_export(path), read_mapping(AGENCIES), year_basis)


def problems(path: Path) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        read_export(path)
    return str(caught.value).splitlines()[1:]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_both_naming_generations_and_every_format_give_the_same_counts(tmp_path: Path, suffix: str) -> None:
    rows = 400 if suffix == ".xlsx" else 3000
    first = ingest(write_export(make_export(rows, seed=2, generation=1), tmp_path / f"one{suffix}"))
    second = ingest(write_export(make_export(rows, seed=2, generation=2), tmp_path / f"two{suffix}"))
    columns = ["agency", "period", "period_start", "period_end", "requests", "declined"]
    pd.testing.assert_frame_equal(first.observations[columns], second.observations[columns])
    assert first.duplicates == second.duplicates > 0


def test_output_has_the_raw_data_shape_and_passes_its_schema(export: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["ingest-ice", str(export), "--agencies", str(AGENCIES), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "likely duplicates left out" in printed and "unmapped facilities" in printed
    dataset = load_dataset(out)
    assert set(dataset.requests["reported_by"]) == {REPORTED_BY}
    assert dataset.requests["honored"].isna().all(), "ICE's records do not say what was honored"
    assert dataset.sources.loc[0, "source_id"] in dataset.requests.loc[0, "source_ids"]
    assert "sha256" in dataset.sources.loc[0, "title"] and export.name in dataset.sources.loc[0, "title"]
    header = (Path(__file__).parents[1] / "data" / "raw" / "detainer_requests.csv").read_text().splitlines()[0]
    assert (out / "detainer_requests.csv").read_text().splitlines()[0] == header


def test_unmapped_facilities_are_listed_with_their_counts(export: Path) -> None:
    result = ingest(export)
    unmapped = result.unmapped.set_index("facility_code")["records"]
    assert set(unmapped.index) == {"SAMPLEPD", "MADEUPHC"}
    records = read_export(export)
    kept = len(records) - flag_duplicates(records.text["person_id"].codes, records.dates).sum()
    assert unmapped.sum() + result.observations["requests"].sum() == kept, "every record is counted or listed"


def test_duplicates_are_the_same_person_within_24_hours() -> None:
    # A, A 12 h later, A 37 h later, B, B exactly 24 h later, a blank id twice within an hour, A 1 h after its last.
    person = np.array([0, 0, 0, 1, 1, -1, -1, 0])
    times = [
        "2024-01-01 08:00",
        "2024-01-01 20:00",
        "2024-01-03 09:00",
        "2024-01-01 08:00",
        "2024-01-02 08:00",
        "2024-01-01 08:00",
        "2024-01-01 09:00",
        "2024-01-03 10:00",
    ]
    dates = pd.to_datetime(times).to_numpy()
    assert list(flag_duplicates(person, dates)) == [False, True, False, False, False, False, False, True]


def write_rows(path: Path, dates: list[str], states: list[str] | None = None) -> Path:
    frame = make_export(len(dates), seed=3, duplicate_share=0)
    frame["Detainer Prepare Date"] = dates
    frame["Detainer Facility Code"] = "FICTCPD"
    if states is not None:
        frame["Facility State"] = states
    return write_export(frame, path)


def test_fiscal_years_turn_on_october_first(tmp_path: Path) -> None:
    dates = ["2023-10-01 00:00:00", "2024-09-30 23:59:59", "2024-10-01 00:00:00", "2025-09-30 12:00:00"]
    result = ingest(write_rows(tmp_path / "edge.csv", dates), "fiscal")
    periods = result.observations.set_index("period")
    assert periods["requests"].to_dict() == {"FY2024": 2, "FY2025": 2}
    assert (periods.loc["FY2025", "period_start"], periods.loc["FY2025", "period_end"]) == ("2024-10-01", "2025-09-30")


def test_partial_years_are_labelled_and_never_compared_with_full_ones(tmp_path: Path) -> None:
    dates = ["2023-10-01", "2024-01-01", "2024-12-31", "2025-09-30"]
    result = ingest(write_rows(tmp_path / "partial.csv", dates))
    periods = result.observations.set_index("period")
    assert list(periods.index) == ["2023 (partial)", "2024", "2025 (partial)"]
    assert (periods.loc["2023 (partial)", "period_start"], periods.loc["2023 (partial)", "period_end"]) == (
        "2023-10-01",
        "2023-12-31",
    )


def test_each_validation_failure_is_named_with_its_row(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "bad.csv", ["2024-01-01", "not a date", "2024-13-01", "2024-02-02"], ["MA", "MA", "MA", "ZZ"]
    )
    found = problems(path)
    assert f"{path}:3: Detainer Prepare Date: found not a date: must be a date written YYYY-MM-DD" in found[0]
    assert any(line.startswith(f"{path}:4: Detainer Prepare Date: found 2024-13-01") for line in found)
    assert any(line.startswith(f"{path}:5: Facility State: found ZZ: must be a two-letter USPS") for line in found)


def test_missing_columns_name_both_generations(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    make_export(5).drop(columns=["Detainer Facility Code", "Facility State"]).to_csv(path, index=False)
    found = problems(path)
    assert f"{path}:1: Detention Facility Code or Detainer Facility Code: found no such column" in found[0]
    assert any("Facility State: found no such column" in line for line in found)


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "many.csv", ["bad"] * 50)
    found = problems(path)
    assert len(found) == 21 and "30 more rows like these" in found[-1]


def test_missing_export_and_bad_mapping(tmp_path: Path, capsys) -> None:
    assert main(["ingest-ice", str(tmp_path / "none.parquet"), "--agencies", str(AGENCIES)]) == 1
    assert "none.parquet:0: -: found no such file" in capsys.readouterr().err
    mapping = tmp_path / "map.csv"
    mapping.write_text("facility_code,facility_pattern,agency,jurisdiction\nX,Y,A,B\n,(,A,B\nZ,,,B\n")
    with pytest.raises(DataValidationError) as caught:
        read_mapping(mapping)
    message = str(caught.value)
    assert "give exactly one of facility_code and facility_pattern" in message
    assert "must be a valid regular expression" in message and ":4: agency: found (blank)" in message


def test_growth_and_denial_notebooks_run_on_ingested_data(export: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (
        main(["ingest-ice", str(export), "--agencies", str(AGENCIES), "--out", str(data), "--year-basis", "fiscal"])
        == 0
    )
    common = {"data_dir": str(data), "agency": FICTIONAL, "reported_by": REPORTED_BY}
    for notebook, extra in (
        ("02-growth.ipynb", {"base_period": "FY2024", "compare_period": "FY2025"}),
        ("03-denial-rates.ipynb", {}),
    ):
        out = tmp_path / notebook
        pm.execute_notebook(
            str(NOTEBOOKS_DIR / notebook),
            str(tmp_path / f"run-{notebook}"),
            parameters={**common, **extra, "output_dir": str(out)},
            progress_bar=False,
            cwd=str(NOTEBOOKS_DIR),
            kernel_manager_class=IPCKernelManager,
        )
    growth = json.loads((tmp_path / "02-growth.ipynb" / "02-growth.json").read_text())
    observations = load_dataset(data).requests.set_index(["agency", "period"])
    assert growth["base_requests"] == observations.loc[(FICTIONAL, "FY2024"), "requests"]
    assert growth["compare_requests"] == observations.loc[(FICTIONAL, "FY2025"), "requests"]
    rates = json.loads((tmp_path / "03-denial-rates.ipynb" / "03-denial-rates.json").read_text())
    assert [r["period"] for r in rates] == ["FY2024", "FY2025"] and all(0 < r["denial_rate"] < 1 for r in rates)


@pytest.mark.parametrize(
    "ids",
    [["AB12", "CD34", "AB12", "", None, "CD34"], ["a", "bbb", "a", "", None, "bbb"]],
    ids=["one length", "several lengths"],
)
def test_person_codes_match_equal_identifiers_and_leave_blanks_out(ids: list[str | None]) -> None:
    import pyarrow as pa

    from analysis.ice.codes import person_codes

    codes = person_codes(pa.array(ids, type=pa.string()))
    assert codes[0] == codes[2] != codes[1] == codes[5]
    assert codes[0] >= 0 and codes[1] >= 0
    assert list(codes[3:5]) == [-1, -1]


def test_person_codes_of_identifiers_of_one_length() -> None:
    import pyarrow as pa

    from analysis.ice.codes import person_codes

    codes = person_codes(pa.array(["AB12", "CD34", "AB12", "EF56", "CD34"], type=pa.string()))
    assert codes[0] == codes[2] and codes[1] == codes[4] and len(set(codes)) == 3 and min(codes) >= 0
