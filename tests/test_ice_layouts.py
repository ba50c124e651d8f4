"""Files as analysts pass ICE's records on: the merged multi-release file, a DuckDB build, each counted by the
duplicate rule of its own layout; one release of several; rows with problems set aside on request."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import pytest

from analysis import load_dataset
from analysis.cli import main
from analysis.data.ingested import load_ingested
from analysis.ice.aggregate import OUR_RULE
from analysis.ice.export import read_export
from analysis.ice.ingest import ingest
from analysis.studies import ice_records
from ice_export import make_records, merged_duplicates, write_export

#: A person on consecutive days (exactly 24 hours apart, the dates having no time), and one whose second record is
#: two days on: the first pair is one detainer by the merged file's rule and by ours, the second two.
EDGE_IDS = ["FAKE-200000001", "FAKE-200000001", "FAKE-200000002", "FAKE-200000002"]
EDGE_DATES = [
    datetime.date(2025, 2, 2),
    datetime.date(2025, 2, 3),
    datetime.date(2025, 2, 2),
    datetime.date(2025, 2, 4),
]


def merged(rows: int = 2000, seed: int = 5) -> pd.DataFrame:
    """Merged-file rows spanning three releases, with the edge cases above, flags worked out as the publisher does."""
    frame = make_records(rows, seed=seed, layout="ddp-merged", start="2016-10-01", end="2025-09-30")
    edges = frame.iloc[: len(EDGE_IDS)].copy()
    edges["unique_identifier"], edges["prepare_date"] = EDGE_IDS, EDGE_DATES
    edges["detention_facility"], edges["detention_facility_code"] = "EXAMPLE CITY PD", "EXMPCPD"
    frame = pd.concat([frame, edges], ignore_index=True)
    likely, drop = merged_duplicates(frame["unique_identifier"], frame["prepare_date"])
    return frame.assign(duplicate_likely=likely, drop_row=drop)


def counted(out: Path) -> int:
    return int(load_dataset(out).requests["requests"].sum())


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".feather"])
def test_the_merged_file_is_counted_by_its_own_drop_row(tmp_path: Path, capsys, suffix: str) -> None:
    frame = merged()
    path = write_export(frame, tmp_path / f"detainers-historical{suffix}", layout="ddp-merged")
    export = read_export(path)
    assert export.layout.name == "ddp-merged"
    result = ingest(export, None, "calendar")
    drop = frame["drop_row"].to_numpy(dtype=bool)
    assert result.duplicates.by_file == drop.sum() > 0
    assert "drop_row" in result.duplicates.rule and "24 hours exactly included" in result.duplicates.rule
    # What: where both can be worked out, our own rule leaves out exactly the rows the file's drop_row marks.
    assert result.duplicates.by_24_hours == result.duplicates.by_file
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert counted(out) == len(frame) - drop.sum()
    assert "layout ddp-merged" in said
    per_release = frame["source_file"].value_counts()
    assert per_release.size == 3
    for release, rows in per_release.items():
        assert f"{release}: {rows:,}" in said
    assert list(result.duplicates.left_out[-4:]) == [False, True, False, False], "consecutive days once, else twice"


def test_the_merged_rule_on_its_edges_counts_consecutive_days_once() -> None:
    likely, drop = merged_duplicates(pd.Series(EDGE_IDS), pd.Series(EDGE_DATES))
    assert list(likely) == [True, True, False, False] and list(drop) == [False, True, False, False]


def test_one_release_of_a_merged_file_is_kept_with_release(tmp_path: Path, capsys) -> None:
    frame = merged()
    path = write_export(frame, tmp_path / "merged.parquet", layout="ddp-merged")
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--release", "npr", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    npr = frame[frame["source_file"] == "npr"]
    assert counted(out) == len(npr) - npr["drop_row"].sum() > 0
    assert "(kept: npr)" in said
    assert "release npr only (source_file)" in load_dataset(out).sources.loc[0, "title"]
    assert main(["ingest-ice", str(path), "--by", "facility", "--release", "2024-ICLI-1", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "source_file: found 2024-ICLI-1: --release must name one of the file's releases: " in err
    assert "npr" in err and "Traceback" not in err
    other = write_export(make_records(50, seed=2, layout="ddp"), tmp_path / "ddp.parquet", layout="ddp")
    assert main(["ingest-ice", str(other), "--by", "facility", "--release", "npr", "--out", str(out)]) == 1
    assert "no release column" in capsys.readouterr().err


def test_a_duckdb_build_is_counted_by_our_rule_with_its_releases(tmp_path: Path, capsys) -> None:
    frame = make_records(1500, seed=8, layout="duckdb-releases")
    edges = frame.iloc[: len(EDGE_IDS)].copy()
    edges["unique_id"], edges["detainer_prepare_date"] = EDGE_IDS, pd.to_datetime(EDGE_DATES)
    frame = pd.concat([frame, edges], ignore_index=True)
    path = write_export(frame, tmp_path / "detainers.parquet", layout="duckdb-releases")
    export = read_export(path)
    assert export.layout.name == "duckdb-releases"
    result = ingest(export, None, "calendar")
    assert result.duplicates.rule == OUR_RULE and result.duplicates.by_file is None
    # What: the same rule worked out independently, as the merged file's publisher works it out.
    _, expected = merged_duplicates(frame["unique_id"], frame["detainer_prepare_date"])
    assert result.duplicates.by_24_hours == expected.sum() > 0
    assert list(result.duplicates.left_out[-4:]) == [False, True, False, False]
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert counted(out) == len(frame) - expected.sum()
    assert "records per release (data_source)" in said and "release_2026: " in said
    assert "SAMPLE TOWN PD" in set(load_dataset(out).requests["agency"]), "the build's detainer_facility is read"


def test_max_bad_rows_sets_rows_aside_with_their_problems_and_counts_them(tmp_path: Path, capsys) -> None:
    frame = make_records(400, seed=4, layout="ddp")
    frame["detainer_prepare_date"] = frame["detainer_prepare_date"].astype(str)
    frame.loc[10, "detainer_prepare_date"] = "2024-13-45"
    frame.loc[20, "facility_state"] = "NOWHERE"
    frame.loc[30, "detainer_prepare_date"] = "not a date"
    path = write_export(frame, tmp_path / "ddp.csv", layout="ddp")
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 1
    assert "ddp.csv:12: detainer_prepare_date: found 2024-13-45" in capsys.readouterr().err, "by default, no row"
    assert not out.exists()
    assert main(["ingest-ice", str(path), "--by", "facility", "--max-bad-rows", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "found 3 rows with problems: --max-bad-rows 2 sets aside at most 2 rows with problems" in err
    assert "ddp.csv:22: facility_state: found NOWHERE" in err and not out.exists()
    assert main(["ingest-ice", str(path), "--by", "facility", "--max-bad-rows", "3", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "3 rows with problems set aside, not counted" in said
    rejected = pd.read_csv(out / "rejected_rows.csv", dtype=str, keep_default_na=False)
    assert list(rejected["line"]) == ["12", "22", "32"]
    assert list(rejected["detainer_prepare_date"])[::2] == ["2024-13-45", "not a date"]
    assert rejected.loc[1, "problems"].startswith("facility_state: must be a US state")
    whole = ingest(read_export(path, max_bad_rows=3), None, "calendar")
    assert counted(out) == 397 - whole.duplicates.left_out.sum()
    assert "3 rows with problems set aside" in load_dataset(out).sources.loc[0, "title"]
    assert load_ingested(out).set_aside == 3
    # What: the ICE-records page says it in "what the records can show".
    agency = load_dataset(out).requests["agency"].iloc[0]
    study = ice_records.study(load_dataset(), agency, str(out))
    assert "3 rows of the export had problems" in study.limits() and "rejected_rows.csv" in study.limits()
    assert main(["ingest-ice", str(path), "--by", "facility", "--max-bad-rows", "5", "--out", str(out)]) == 0
    assert load_ingested(out).set_aside == 3, "N is a ceiling, not a count"
    frame.loc[[10, 30], "detainer_prepare_date"] = "2024-05-01"
    frame.loc[20, "facility_state"] = "TEXAS"
    write_export(frame, path, layout="ddp")
    assert main(["ingest-ice", str(path), "--by", "facility", "--max-bad-rows", "3", "--out", str(out)]) == 0
    assert not (out / "rejected_rows.csv").exists(), "a clean ingest leaves no earlier rejected rows behind"
    assert ice_records.study(load_dataset(), agency, str(out)).limits() == ice_records.LIMITS


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_max_bad_rows_must_be_a_count(tmp_path: Path, capsys, value: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["ingest-ice", str(tmp_path / "x.csv"), "--by", "facility", "--max-bad-rows", value])
    assert stopped.value.code == 2 and "must be a whole number" in capsys.readouterr().err


def test_a_flag_saved_as_a_labelled_factor_is_read_by_its_labels(tmp_path: Path, capsys) -> None:
    """R saves a logical turned factor as 1 = FALSE, 2 = TRUE: drop_row's labels decide, not its codes."""
    frame = merged(300)
    factor = frame.drop(columns=["duplicate_likely"]).assign(
        drop_row=frame["drop_row"].map({False: "FALSE", True: "TRUE"})
    )
    path = write_export(factor, tmp_path / "merged.dta", layout="ddp-merged", labelled=("drop_row",))
    result = ingest(read_export(path), None, "calendar")
    assert result.duplicates.by_file == frame["drop_row"].sum() > 0
    assert int(result.counts.observations["requests"].sum()) == len(frame) - frame["drop_row"].sum()


def test_a_layout_whose_facility_column_is_empty_is_refused_not_counted_under_no_name(tmp_path: Path, capsys) -> None:
    """A DuckDB build whose identifier is still unique_identifier reads as the processed file's layout, whose
    detention_facility the build leaves empty: refused, naming the column, rather than one nameless facility."""
    frame = make_records(60, seed=8, layout="duckdb-releases").rename(columns={"unique_id": "unique_identifier"})
    path = write_export(frame, tmp_path / "build.parquet", layout="duckdb-releases")
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "build.parquet:0: detention_facility: found blank in every record: the facility column of the layout" in err
    assert not out.exists()


def test_release_picks_records_naming_none_and_matches_any_unicode_form(tmp_path: Path, capsys) -> None:
    frame = merged(200)
    frame.loc[:4, "source_file"] = None
    frame.loc[5:9, "source_file"] = "Re\u0301lease de mars"  # what: e and a combining accent (NFD)
    path = write_export(frame, tmp_path / "merged.parquet", layout="ddp-merged")
    assert len(read_export(path, release="(blank)")) == 5
    assert len(read_export(path, release="R\u00e9lease de mars")) == 5, "the NFC spelling finds the NFD one"
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--release", "x\ny", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "found x\\ny: --release must name one of the file's releases: " in err and "'(blank)'" in err


def test_a_flag_labelled_other_than_true_or_false_is_read_by_its_numbers(tmp_path: Path) -> None:
    """0 = keep, 1 = drop: labels that do not say true or false leave the numbers to decide."""
    frame = merged(300)
    coded = frame.drop(columns=["duplicate_likely"]).assign(drop_row=frame["drop_row"].astype("int8"))
    path = write_export(coded, tmp_path / "merged.sav", layout="ddp-merged")
    import pyreadstat

    table, _ = pyreadstat.read_sav(str(path))
    pyreadstat.write_sav(table, str(path), variable_value_labels={"drop_row": {0: "keep", 1: "drop"}})
    result = ingest(read_export(path), None, "calendar")
    assert result.duplicates.by_file == frame["drop_row"].sum() > 0


def test_a_release_whose_facilities_are_elsewhere_is_refused_when_kept(tmp_path: Path, capsys) -> None:
    frame = make_records(300, seed=8, layout="duckdb-releases")
    older = frame["data_source"] == "release_2023"
    frame.loc[older, "detention_facility"] = frame.loc[older, "detainer_facility"]
    frame.loc[older, "detainer_facility"] = pd.NA
    path = write_export(frame, tmp_path / "build.parquet", layout="duckdb-releases")
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 0
    assert f"{older.sum():,} records name no facility (detainer_facility blank)" in capsys.readouterr().out
    assert main(["ingest-ice", str(path), "--by", "facility", "--release", "release_2023", "--out", str(out)]) == 1
    assert "detainer_facility: found blank in every record" in capsys.readouterr().err


def test_a_workbook_whose_sheets_hold_two_layouts_is_refused(tmp_path: Path, capsys) -> None:
    """A 2026 sheet and a 2025 sheet in one workbook: the second's facilities and identifiers would read as blank."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for layout in ("ice-2026", "ice-2025"):
        records = make_records(20, seed=3, layout=layout)
        sheet = book.create_sheet(layout)
        sheet.append(list(records.columns))
        for row in records.astype(object).where(records.notna(), None).itertuples(index=False):
            sheet.append([value.to_pydatetime() if isinstance(value, pd.Timestamp) else value for value in row])
    path = tmp_path / "mixed.xlsx"
    book.save(path)
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "mixed.xlsx[ice-2025]:1: -: found the layout ice-2025: every sheet of a workbook must hold one layout" in err
