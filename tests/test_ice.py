"""Ingesting ICE's record-level detainer releases: every layout and format, validation, duplicates, periods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import papermill as pm
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import DataValidationError, load_dataset
from analysis.cli import main
from analysis.data.schema import ICE_RECORDS
from analysis.ice.aggregate import duplicates, flag_duplicates, flagged_repeats
from analysis.ice.codes import People, person_keys
from analysis.ice.export import read_export
from analysis.ice.ingest import ingest
from analysis.ice.mapping import read_mapping
from analysis.paths import NOTEBOOKS_DIR
from analysis.pipeline.engine import ENGINE
from conftest import numbers
from ice_export import make_export, make_records, write_export

AGENCIES = Path(__file__).parent / "fixtures" / "ice" / "agencies.csv"
FICTIONAL = "Fictional City Police Department"
#: (layout, file suffix, writer options): every layout in every format it is published or passed on in.
CASES = [
    ("ice-2025", ".xlsx", {"sheets": 2}),
    ("ice-2025", ".csv", {}),
    ("ice-2026", ".xlsx", {}),
    ("ice-2026", ".parquet", {}),
    ("ddp", ".parquet", {}),
    ("ddp", ".csv", {"r_style": True}),
    ("ddp", ".dta", {}),
    ("ddp", ".dta", {"labelled": ("detention_facility", "facility_state")}),
    ("ddp", ".sav", {"labelled": ("detention_facility",)}),
    ("ddp", ".feather", {}),
    ("ddp", ".arrow", {}),
    ("ddp", ".xlsx", {}),
    ("npr", ".csv", {}),
    ("npr", ".xlsx", {}),
]


def write(tmp_path: Path, layout: str, suffix: str, rows: int = 1500, seed: int = 1, **options) -> Path:
    frame = make_records(rows, seed=seed, layout=layout)
    return write_export(frame, tmp_path / f"{layout}{suffix}", layout=layout, **options)


def problems(path: Path) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        read_export(path)
    return str(caught.value).splitlines()[1:]


@pytest.mark.parametrize(
    ("layout", "suffix", "options"),
    CASES,
    ids=[f"{c[0]}{c[1]}{'-labelled' * bool(c[2].get('labelled'))}" for c in CASES],
)
def test_every_layout_and_format_is_read_and_ingested(tmp_path: Path, capsys, layout, suffix, options) -> None:
    path = write(tmp_path, layout, suffix, **options)
    export = read_export(path)
    assert export.layout.name.startswith(layout) and len(export) == 1500
    assert set(export.text["state"].values) == {"MA", "MN", "NY", "PA", "TX"}, "full state names become USPS codes"
    assert ("person_id" in export.missing) == (layout == "npr")
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert export.layout.description in printed
    if layout == "npr":
        assert "no person identifier" in printed and "no facility code" in printed
    dataset = load_dataset(out)
    assert set(dataset.requests["reported_by"]) == {ICE_RECORDS}
    assert "FICTIONAL CITY PD" in set(dataset.requests["agency"])
    assert export.path.name in dataset.sources.loc[0, "title"]


def test_both_raw_generations_give_the_same_counts(tmp_path: Path) -> None:
    first = ingest(read_export(write(tmp_path / "a", "ice-2025", ".csv")), None, "fiscal")
    second = ingest(read_export(write(tmp_path / "b", "ice-2026", ".xlsx")), None, "fiscal")
    columns = ["agency", "jurisdiction", "period", "period_start", "period_end", "requests", "declined"]
    pd.testing.assert_frame_equal(first.counts.observations[columns], second.counts.observations[columns])
    assert first.duplicates.by_24_hours == second.duplicates.by_24_hours > 0


def test_the_files_duplicate_flag_is_honoured_and_both_counts_printed(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, "ddp", ".parquet")
    result = ingest(read_export(path), None, "calendar")
    assert result.duplicates.rule.startswith("flagged by the file")
    frame = pd.read_parquet(path)
    flagged = frame[frame["duplicate_likely"].fillna(False).astype(bool)]
    groups = flagged.groupby(["unique_identifier", "detainer_prepare_date"]).ngroups
    assert result.duplicates.by_file == len(flagged) - groups, "the first record of each flagged group is kept"
    alone = duplicates(result.export)  # what: our rule worked out in turn, not beside the file's flag as ingest does
    assert (alone.left_out == result.duplicates.left_out).all() and alone.by_24_hours == result.duplicates.by_24_hours
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(tmp_path / "out")]) == 0
    assert "by the file's flag" in capsys.readouterr().out


def test_by_facility_writes_facilities_and_names_each_place(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["ingest-ice", str(write(tmp_path, "ice-2026", ".csv")), "--by", "facility", "--out", str(out)]) == 0
    facilities = pd.read_csv(out / "facilities.csv", dtype=str, keep_default_na=False)
    assert list(facilities.columns)[:5] == ["code", "name", "city", "state", "aor"]
    assert {"first_prepare_date", "last_prepare_date"} <= set(facilities.columns)
    requests = load_dataset(out).requests
    shared = requests[requests["agency"].str.startswith("FICTIONAL CNTY JAIL")]
    assert set(shared["agency"]) == {"FICTIONAL CNTY JAIL [FICTCNTY]", "FICTIONAL CNTY JAIL [FICTCJTX]"}
    assert set(requests.loc[requests["agency"] == "SAMPLE TOWN PD", "jurisdiction"]) == {"Sample Town, TX"}


def test_facilities_that_share_a_name_and_a_code_still_get_one_name_each(tmp_path: Path) -> None:
    frame = make_records(50, seed=12, layout="ice-2026")
    frame["Detainer Facility"], frame["Detainer Facility Code"] = "SAME NAME JAIL", "SAMECODE"
    frame.loc[:9, "Facility State"] = ""
    frame.loc[10:19, "Facility State"] = "TEXAS"
    result = ingest(read_export(write_export(frame, tmp_path / "same.csv", layout="ice-2026")), None, "calendar")
    names = set(result.counts.observations["agency"])
    assert len(names) == len(result.facilities), names
    assert all(name.startswith("SAME NAME JAIL [") for name in names)


def test_the_facility_search_finds_an_agency_and_its_mapping_feeds_back(tmp_path: Path, capsys) -> None:
    export = write(tmp_path, "ice-2026", ".parquet")
    assert main(["ice-facilities", str(export), "--search", "fictional city police department"]) == 0
    listed = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False)
    assert set(listed.loc[listed["match"] == "100.0", "code"]) == {"FICTCPD", "FICTCYPD"}, "DEPT. and PD both match"
    assert main(["ice-facilities", str(export), "--search", "fictonal city polce", "--state", "massachusetts"]) == 0
    near = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False)
    assert {"FICTCPD", "FICTCYPD"} <= set(near["code"]) and set(near["state"]) == {"MA"}
    mapping = tmp_path / "mapping.csv"
    assert main(["ice-facilities", str(export), "--search", "fictional city police dept", "--as-mapping"]) == 0
    mapping.write_text(capsys.readouterr().out.replace("fictional city police dept", FICTIONAL))
    out = tmp_path / "out"
    assert main(["ingest-ice", str(export), "--agencies", str(mapping), "--out", str(out)]) == 0
    by_facility = ingest(read_export(export), None, "calendar").counts.observations
    police = by_facility[by_facility["agency"].isin(["FICTIONAL CITY POLICE DEPT.", "FICTIONAL CITY PD"])]
    ours = load_dataset(out).requests
    assert set(ours["agency"]) == {FICTIONAL}
    assert ours["requests"].sum() == police["requests"].sum()


def test_the_listing_is_largest_first_with_periods(tmp_path: Path, capsys) -> None:
    assert main(["ice-facilities", str(write(tmp_path, "ddp", ".parquet")), "--year-basis", "fiscal"]) == 0
    listed = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), keep_default_na=False)
    periods = {c.removeprefix("detainers ").removesuffix(" (partial)") for c in listed if c.startswith("detainers ")}
    assert {"FY2024", "FY2025"} <= periods and any(c.startswith("declined FY2025") for c in listed)
    assert listed["detainers"].is_monotonic_decreasing and listed.loc[0, "code"] == "FICTCPD"


def test_unmapped_facilities_are_listed_and_everything_is_counted_or_listed(tmp_path: Path) -> None:
    export = read_export(write(tmp_path, "ice-2026", ".parquet"))
    result = ingest(export, read_mapping(AGENCIES), "calendar")
    unmapped = result.unmapped.set_index("facility_code")["records"]
    assert {"SAMPLEPD", "MADEUPHC", "FICTCJTX"} <= set(unmapped.index) and "FICTCPD" not in unmapped.index
    kept = len(export) - result.duplicates.left_out.sum()
    assert unmapped.sum() + result.counts.observations["requests"].sum() == kept


def test_duplicates_are_the_same_person_within_24_hours_the_boundary_included() -> None:
    # A, A 12 h later, A 37 h later, B, B exactly 24 h later, B 24 h and 1 s after that, a blank id twice within an
    # hour, A 1 h after its last.
    person = np.array([0, 0, 0, 1, 1, 1, -1, -1, 0])
    times = ["2024-01-01 08:00", "2024-01-01 20:00", "2024-01-03 09:00", "2024-01-01 08:00", "2024-01-02 08:00"]
    times += ["2024-01-03 08:00:01", "2024-01-01 08:00", "2024-01-01 09:00", "2024-01-03 10:00"]
    dates = pd.to_datetime(times, format="ISO8601").to_numpy()
    expected = [False, True, False, False, True, False, False, False, True]
    assert list(flag_duplicates(People(person), dates)) == expected


def test_a_hash_shared_by_two_identifiers_never_makes_them_one_person() -> None:
    import pyarrow as pa

    # Every identifier gets the same key, as if the hash collided: only the identifiers themselves may decide.
    ids = pa.array(["A1", "B2", "A1", "B2", "C3", "A1"])
    people = People(np.zeros(len(ids), dtype=np.int64), ids)
    days = pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-01", "2024-01-02"])
    # What: a date without a time is midnight, so the next day is exactly 24 hours on: the same detainer.
    assert list(flag_duplicates(people, days.to_numpy())) == [False, False, True, True, False, True]
    flagged = np.array([True, True, True, True, True, False])
    assert list(flagged_repeats(people, days.to_numpy(), flagged)) == [False, False, True, False, False, False]


@pytest.mark.parametrize("times", [False, True], ids=["dates", "date-times"])
def test_hashed_identifiers_find_the_same_duplicates_as_exact_codes(times: bool) -> None:
    import pyarrow as pa

    rng = np.random.default_rng(11)
    count = 5_000
    ids = [f" P{n} " if n % 7 == 0 else f"P{n}" for n in rng.integers(0, 800, count)]
    ids = [("b(6), b(7)c" if n % 50 == 0 else "NA" if n % 51 == 0 else "") or i for n, i in enumerate(ids)]
    start = np.datetime64("2024-01-01T00:00:00")
    offsets = rng.integers(0, 200 * 86400, count) if times else rng.integers(0, 200, count) * 86400
    dates = start + offsets.astype("timedelta64[s]")
    hashed = person_keys(pa.array(ids, type=pa.large_string()))
    exact, _ = pd.factorize(pd.Series([i.strip() for i in ids]).replace({"NA": None, "b(6), b(7)c": None}))
    assert ((hashed.keys < 0) == (exact < 0)).all()
    assert (flag_duplicates(hashed, dates) == flag_duplicates(People(exact.astype(np.int64)), dates)).all()


def rows(path: Path, dates: list[object], **columns: list[object]) -> Path:
    frame = make_export(len(dates), seed=3, duplicate_share=0)
    frame["Detainer Prepare Date"] = dates
    frame["Detainer Facility Code"] = "FICTCPD"
    for name, values in columns.items():
        frame[name] = values
    return write_export(frame, path, layout="ice-2026", title_block=False)


def test_fiscal_years_turn_on_october_first(tmp_path: Path) -> None:
    dates = ["2023-10-01 00:00:00", "2024-09-30 23:59:59", "2024-10-01 00:00:00", "2025-09-30 12:00:00"]
    result = ingest(read_export(rows(tmp_path / "edge.csv", dates)), read_mapping(AGENCIES), "fiscal")
    periods = result.counts.observations.set_index("period")
    assert periods["requests"].to_dict() == {"FY2024": 2, "FY2025": 2}
    assert (periods.loc["FY2025", "period_start"], periods.loc["FY2025", "period_end"]) == ("2024-10-01", "2025-09-30")


def test_partial_years_are_labelled_and_dated_to_the_part_covered(tmp_path: Path) -> None:
    dates = ["2023-10-01", "2024-01-01", "2024-12-31", "2025-09-30"]
    result = ingest(read_export(rows(tmp_path / "partial.csv", dates)), read_mapping(AGENCIES), "calendar")
    periods = result.counts.observations.set_index("period")
    assert list(periods.index) == ["2023 (partial)", "2024", "2025 (partial)"]
    assert tuple(periods.loc["2023 (partial)", ["period_start", "period_end"]]) == ("2023-10-01", "2023-12-31")


def test_bad_rows_are_named_with_sheet_row_column_value_and_rule(tmp_path: Path) -> None:
    frame = make_records(6, seed=4, layout="ice-2026")
    frame["Detainer Prepare Date"] = frame["Detainer Prepare Date"].astype(object)
    frame.loc[1, "Detainer Prepare Date"] = "not a date"
    frame.loc[2, "Facility State"] = "ATLANTIS"
    path = write_export(frame, tmp_path / "bad.xlsx", layout="ice-2026", sheets=1)
    found = problems(path)
    with pd.ExcelFile(path, engine="calamine") as workbook:
        sheet = workbook.sheet_names[0]
    assert f"{path}[{sheet}]:9: Detainer Prepare Date: found not a date: must be a date (" in found[0]
    assert any(
        line.startswith(f"{path}[{sheet}]:10: Facility State: found ATLANTIS: must be a US state") for line in found
    )


def test_a_file_without_a_header_or_a_required_column_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b,c\n1,2,3\n")
    assert "no header row" in problems(junk)[0]
    missing = tmp_path / "cols.csv"
    make_records(5, layout="ice-2026").drop(columns=["Facility State"]).to_csv(missing, index=False)
    assert "Facility State: found no such column: a required column is missing" in problems(missing)[0]


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    found = problems(rows(tmp_path / "many.csv", ["bad"] * 50))
    assert len(found) == 21 and "30 more rows like these" in found[-1]


def test_a_bad_mapping_is_named_in_full(tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("facility_code,facility_pattern,agency,jurisdiction\nX,Y,A,B\n,(,A,B\nZ,,,B\n")
    with pytest.raises(DataValidationError) as caught:
        read_mapping(mapping)
    message = str(caught.value)
    assert "give exactly one of facility_code and facility_pattern" in message
    assert "must be a valid RE2 regular expression (missing )" in message and ":4: agency: found (blank)" in message


def test_growth_denial_and_ice_records_notebooks_run_on_ingested_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    export = write(tmp_path, "ddp", ".parquet", rows=4000)
    assert (
        main(["ingest-ice", str(export), "--agencies", str(AGENCIES), "--out", str(data), "--year-basis", "fiscal"])
        == 0
    )
    raw = tmp_path / "raw"
    raw.mkdir()
    requests = load_dataset(data).requests
    own = requests[requests["agency"] == FICTIONAL].assign(reported_by=FICTIONAL, requests=lambda r: r["requests"] - 1)
    pd.concat([requests, own]).to_csv(raw / "detainer_requests.csv", index=False)
    for name in ("sources.csv", "claims.csv"):
        (raw / name).write_bytes((data / name).read_bytes())
    common = {"data_dir": str(data), "agency": FICTIONAL, "reported_by": ICE_RECORDS}
    runs = [
        ("02-growth.ipynb", {**common, "base_period": "FY2024", "compare_period": "FY2025"}),
        ("03-denial-rates.ipynb", common),
        ("06-ice-records.ipynb", {"agency": FICTIONAL, "records_dir": str(data), "data_dir": str(raw)}),
    ]
    for notebook, parameters in runs:
        pm.execute_notebook(
            str(NOTEBOOKS_DIR / notebook),
            str(tmp_path / f"run-{notebook}"),
            parameters={**parameters, "output_dir": str(tmp_path / notebook)},
            progress_bar=False,
            cwd=str(NOTEBOOKS_DIR),
            engine_name=ENGINE,
        )
    observations = requests.set_index(["agency", "period"])
    growth = numbers(tmp_path / "02-growth.ipynb")
    assert growth["compare_requests"] == observations.loc[(FICTIONAL, "FY2025"), "requests"]
    rates = numbers(tmp_path / "03-denial-rates.ipynb")
    assert all(0 < r["denial_rate"] < 1 for r in rates)
    side = numbers(tmp_path / "06-ice-records.ipynb")
    fy2025 = next(r for r in side if r["period"] == "FY2025")
    assert fy2025["records"] == observations.loc[(FICTIONAL, "FY2025"), "requests"] == fy2025["own"] + 1
    assert (tmp_path / "06-ice-records.ipynb" / "06-ice-records-monthly.png").is_file()


@pytest.mark.parametrize(
    "ids",
    [
        ["AB12", "CD34", "AB12", "", None, "CD34"],
        ["a", "bbb", "a ", "", None, "bbb"],
        ["ABCDEFGHIJ"] * 2 + ["ABCDEFGHIK"],
    ],
    ids=["one length", "several lengths", "past one word"],
)
def test_person_keys_match_equal_identifiers_and_leave_blanks_out(ids: list[str | None]) -> None:
    import pyarrow as pa

    keys = person_keys(pa.array(ids, type=pa.string())).keys
    assert keys[0] == keys[1 if len(ids) == 3 else 2]
    assert keys[0] >= 0 and keys[-1] >= 0 and keys[0] != keys[-1]
    if len(ids) > 3:
        assert keys[1] == keys[5] != keys[0] and list(keys[3:5]) == [-1, -1]


@given(
    length=st.integers(1, 20),
    picks=st.lists(st.integers(0, 9), min_size=1, max_size=30),
    start=st.integers(0, 5),
    large=st.booleans(),
)
def test_identifiers_of_one_length_get_the_keys_of_the_general_way(
    length: int, picks: list[int], start: int, large: bool
) -> None:
    """Identifiers that all have one length (blanks aside) are hashed in place, with no gather: the keys are those
    that gathering each identifier's words gives, equal exactly where the identifiers are, ``-1`` where blank."""
    import pyarrow as pa

    from analysis.ice.codes import _Strings

    alphabet = ["", None, "NA", f"é{'x' * (length - 1)}", *(chr(0x41 + n) * length for n in range(6))]
    ids = [alphabet[pick % len(alphabet)] for pick in picks]
    column = pa.array(["pad"] * start + ids, type=pa.large_string() if large else pa.string()).slice(start)
    keys = person_keys(column).keys
    blank = np.array([i in ("", None, "NA") for i in ids])
    assert list(keys < 0) == list(blank)
    gathered = (_Strings.of(column)._gathered_hashes() >> np.uint64(1)).view(np.int64)
    assert list(keys[~blank]) == list(gathered[~blank])
    filled = [i for i in ids if i not in ("", None, "NA")]
    assert len(set(keys[~blank].tolist())) == len(set(filled))


def test_counts_are_the_same_when_tallies_sort_instead_of_counting_densely(tmp_path: Path, monkeypatch) -> None:
    from analysis.ice import aggregate

    export = read_export(write(tmp_path, "ddp", ".parquet"))
    dense = ingest(export, None, "fiscal").counts
    monkeypatch.setattr(aggregate, "DENSE_LIMIT", 0)  # what: as for an export with millions of facilities
    sparse = ingest(export, None, "fiscal").counts
    for name in ("observations", "lift_reasons", "monthly"):
        pd.testing.assert_frame_equal(getattr(dense, name), getattr(sparse, name))
