"""Careless or hostile ICE exports and ingest options: each a clear message, never a silent wrong count."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.errors import DataValidationError
from analysis.ice.export import read_export
from ice_export import make_export, write_export

AGENCIES = Path(__file__).parent / "fixtures" / "ice" / "agencies.csv"


def export_with(tmp_path: Path, name: str, dates: list[object], **columns: list[object]) -> Path:
    frame = make_export(len(dates), seed=7, duplicate_share=0)
    frame["Detainer Prepare Date"] = dates
    frame["Detainer Facility Code"] = "FICTCPD"
    for column, values in columns.items():
        frame[column] = values
    return write_export(frame, tmp_path / name, layout="ice-2026", title_block=False)


def ingest(path: Path, capsys, *extra: str) -> tuple[int, str]:
    status = main(["ingest-ice", str(path), "--agencies", str(AGENCIES), "--out", str(path.parent / "out"), *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out + captured.err


@pytest.mark.parametrize("date", ["2024", "2024-03", "2205-01-01", "9999-12-31", "1899-12-31"])
def test_a_partial_or_implausible_date_is_a_problem(tmp_path: Path, capsys, date: str) -> None:
    path = export_with(tmp_path, "dates.csv", ["2024-05-01", date, "2024-06-01"])
    status, said = ingest(path, capsys)
    assert status == 1 and f"dates.csv:3: Detainer Prepare Date: found {date}: must be a date" in said
    assert not (tmp_path / "out").exists(), "nothing is written"


def test_a_timestamp_keeps_its_local_date_across_new_year(tmp_path: Path) -> None:
    frame = make_export(3, seed=7, duplicate_share=0)
    stamps = pd.to_datetime(["2024-12-31 22:30", "2024-12-31 23:59", "2025-01-01 00:10"]).tz_localize("America/Chicago")
    frame["Detainer Prepare Date"] = stamps
    path = tmp_path / "zoned.parquet"
    frame.to_parquet(path)
    dates = read_export(path).dates
    assert [str(d)[:10] for d in dates] == ["2024-12-31", "2024-12-31", "2025-01-01"]


def test_mixed_time_zone_offsets_in_text_are_read_in_local_time(tmp_path: Path) -> None:
    path = export_with(tmp_path, "mixed.csv", ["2024-12-31T23:30:00-06:00", "2025-01-01T00:30:00+01:00", "2024-06-01"])
    assert [str(d)[:16] for d in read_export(path).dates] == [
        "2024-12-31T23:30",
        "2025-01-01T00:30",
        "2024-06-01T00:00",
    ]


def test_a_redaction_mark_is_no_identifier(tmp_path: Path) -> None:
    dates = ["2024-05-01 08:00", "2024-05-01 09:00", "2024-05-01 10:00"]
    path = export_with(tmp_path, "redacted.csv", dates, **{"Anonymized Identifier": ["b(6), b(7)c"] * 3})
    export = read_export(path)
    assert (export.people.keys == -1).all(), "withheld identifiers are missing, not one person"
    from analysis.ice.aggregate import duplicates

    assert duplicates(export).left_out.sum() == 0


def test_a_mapped_agency_the_loader_would_refuse_is_a_problem_at_ingest(tmp_path: Path, capsys) -> None:
    """The folder written must load: an agency with a control character or two spaces is named in the mapping."""
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "facility_code,facility_pattern,agency,jurisdiction\nFICTCPD,,Evil\x1b[31m Agency,X\nOTHER,,Two  Spaces,Y\n"
    )
    path = export_with(tmp_path, "ok.csv", ["2024-05-01"])
    status = main(["ingest-ice", str(path), "--agencies", str(mapping), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1 and not (tmp_path / "out").exists()
    assert "map.csv:2: agency: found Evil\\x1b[31m Agency: must be plain text" in err
    assert "map.csv:3: agency: found Two  Spaces: must be plain text" in err


def test_a_facility_code_given_to_two_agencies_is_a_problem(tmp_path: Path, capsys) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("facility_code,facility_pattern,agency,jurisdiction\nFICTCPD,,A,X\nFICTCPD,,B,Y\n")
    path = export_with(tmp_path, "ok.csv", ["2024-05-01"])
    status = main(["ingest-ice", str(path), "--agencies", str(mapping), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1 and "map.csv:3: facility_code: found FICTCPD: a facility code may belong to one agency" in err


def test_an_export_with_no_mapped_facility_writes_nothing(tmp_path: Path, capsys) -> None:
    path = export_with(tmp_path, "other.csv", ["2024-05-01"], **{"Detainer Facility Code": ["ELSEWHERE"]})
    path.write_text(path.read_text().replace("FICTIONAL CITY", "SOMEWHERE ELSE"))
    status, said = ingest(path, capsys)
    assert status == 1 and "at least one row must match a facility of the export" in said
    assert not (tmp_path / "out").exists()


def test_out_refuses_a_folder_it_did_not_write_unless_forced(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "out"
    raw.mkdir()
    (raw / "detainer_requests.csv").write_text("precious,hand-entered,data\n")
    path = export_with(tmp_path, "ok.csv", ["2024-05-01", "2024-06-01"])
    status, said = ingest(path, capsys)
    assert status == 1 and "holds files this command did not write" in said
    assert (raw / "detainer_requests.csv").read_text() == "precious,hand-entered,data\n"
    assert ingest(path, capsys, "--force")[0] == 0
    assert ingest(path, capsys)[0] == 0, "a folder it wrote itself is rewritten without --force"


def test_out_never_writes_over_the_export_or_the_mapping_even_forced(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    path = export_with(folder, "monthly.csv", ["2024-05-01", "2024-06-01"])  # what: named as a file it writes
    before = path.read_bytes()
    status = main(["ingest-ice", str(path), "--agencies", str(AGENCIES), "--out", str(folder), "--force"])
    err = capsys.readouterr().err
    assert status == 1 and f"{folder}: the ingest would write over its own input {path}" in err
    assert path.read_bytes() == before and sorted(p.name for p in folder.iterdir()) == ["monthly.csv"]
    mapping = folder / "sources.csv"
    mapping.write_bytes(AGENCIES.read_bytes())
    other = export_with(tmp_path, "other.csv", ["2024-05-01"])
    assert main(["ingest-ice", str(other), "--agencies", str(mapping), "--out", str(folder), "--force"]) == 1
    assert mapping.read_bytes() == AGENCIES.read_bytes()


def test_a_control_character_in_a_lift_reason_is_written_escaped_and_refused_when_read(tmp_path: Path, capsys) -> None:
    """It would reach a chart (matplotlib warns of the missing glyph into the page; the SVG is not XML) and a page."""
    from analysis.data.ingested import load_ingested

    # What: the last, an escape written out in the file, stays apart from the character it stands for.
    reasons = ["Detainer Lifted \x1b[5m", "Detainer Lifted \x1b[5m", "Other\u200b", "Detainer Lifted \\x1b[5m"]
    dates = ["2024-05-01", "2024-06-01", "2024-07-01", "2024-08-01"]
    path = export_with(tmp_path, "ok.csv", dates, **{"Detainer Lift Reason": reasons})
    assert ingest(path, capsys)[0] == 0
    out = tmp_path / "out"
    written = load_ingested(out).lift_reasons.groupby("lift_reason")["records"].sum().to_dict()
    assert written == {"Detainer Lifted \\x1b[5m": 2, "Other\\u200b": 1, "Detainer Lifted \\\\x1b[5m": 1}
    table = out / "lift_reasons.csv"
    table.write_text(table.read_text().replace("Lifted \\x1b", "Lifted \x1b"))
    with pytest.raises(DataValidationError) as raised:
        load_ingested(out)
    (problem,) = raised.value.problems
    assert (problem.file, problem.column) == (str(table), "lift_reason") and "no control" in problem.rule


def test_the_folder_written_has_the_usual_permissions(tmp_path: Path, capsys) -> None:
    path = export_with(tmp_path, "ok.csv", ["2024-05-01"])
    umask = os.umask(0o022)
    try:
        assert ingest(path, capsys)[0] == 0
    finally:
        os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755, "not mkdtemp's owner-only 0700"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_a_header_only_export_is_a_problem(tmp_path: Path, capsys, suffix: str) -> None:
    frame = make_export(0, seed=7)
    path = write_export(frame, tmp_path / f"empty{suffix}", layout="ice-2026")
    status, said = ingest(path, capsys)
    assert status == 1 and "the export must hold at least one record" in said


def test_an_unsupported_or_unreadable_file_is_named(tmp_path: Path, capsys) -> None:
    path = tmp_path / "export.txt"
    path.write_text("hello")
    assert ingest(path, capsys)[0] == 1
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    status, said = ingest(broken, capsys)
    assert status == 1 and "broken.parquet:0: -: found" in said


def test_a_facility_name_cannot_forge_a_line_of_the_summary(tmp_path: Path, capsys) -> None:
    frame = make_export(4, seed=7, duplicate_share=0)
    frame["Detainer Prepare Date"] = ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"]
    frame["Detainer Facility Code"] = ["FICTCPD", "FICTCPD", "FICTCPD", "ELSEWHERE"]
    frame["Detainer Facility"] = ["FICTIONAL CITY PD"] * 3 + ["JAIL\n  detainers counted: 9,999"]
    path = write_export(frame, tmp_path / "forged.csv", layout="ice-2026", title_block=False)
    status, said = ingest(path, capsys)
    assert status == 0
    lines = said.splitlines()
    assert sum(line.strip().startswith("detainers counted") for line in lines) == 1, said
    assert "JAIL\\n  detainers counted: 9,999" in said, "shown with its line break escaped"


def test_a_full_disk_halfway_through_leaves_the_previous_out_as_it_was(tmp_path: Path, capsys, monkeypatch) -> None:
    """The second ingest into the same --out runs out of space at its third file: the first ingest's folder
    stays whole (no mix of two exports), nothing temporary is left, and the message is one line."""
    import errno

    import analysis.ice.ingest as ingest_module

    first = export_with(tmp_path, "first.csv", ["2024-05-01", "2024-06-01"])
    assert ingest(first, capsys)[0] == 0
    out = tmp_path / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "notes.txt").write_text("mine\n")  # what: kept with --force, through the failed ingest and the next
    second = export_with(tmp_path, "second.csv", ["2024-05-01", "2024-06-01", "2024-07-01", "2024-08-01"])
    real, calls = ingest_module.write_text_atomic, []

    def fills_up(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(ingest_module, "write_text_atomic", fills_up)
    status, said = ingest(second, capsys, "--force")
    assert status == 1 and "no space left" in said.lower() and "Traceback" not in said
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "notes.txt"} == before
    assert (out / "notes.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], "no temporary folder is left"
    monkeypatch.setattr(ingest_module, "write_text_atomic", real)
    assert ingest(second, capsys, "--force")[0] == 0
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "detainer_requests.csv").read_bytes() != before["detainer_requests.csv"]


@pytest.mark.parametrize("query", ["(((", ".*", "  ", "!!"])
def test_a_search_of_no_words_is_refused_not_matched_to_everything(tmp_path: Path, capsys, query: str) -> None:
    path = export_with(tmp_path, "export.csv", ["2024-05-01"])
    assert main(["ice-facilities", str(path), "--search", query]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "holds no word (letters or digits) to look for" in captured.err


def test_a_bad_date_below_blank_lines_is_named_on_the_line_an_editor_shows(tmp_path: Path, capsys) -> None:
    """Two blank lines above the third record: its bad date is on line 6 of the file (header on line 1)."""
    path = export_with(tmp_path, "blanks.csv", ["2024-05-01", "2024-06-01", "2024-13-45"])
    header, first, second, third = path.read_text().splitlines()[:4]
    path.write_text("\n".join([header, first, second, "", "", third]) + "\n")
    status, said = ingest(path, capsys)
    assert status == 1 and "blanks.csv:6: Detainer Prepare Date: found 2024-13-45: must be a date" in said


def test_a_nul_byte_anywhere_is_a_problem_with_its_line(tmp_path: Path, capsys) -> None:
    """A NUL byte past the first 64 KB (where text is told from binary) is still found, on its line."""
    dates = [f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}" for n in range(2000)]
    path = export_with(tmp_path, "nul.csv", dates)
    lines = path.read_text().splitlines()
    assert len("\n".join(lines[:1500])) > 65_536
    lines[1500] = lines[1500].replace(",", ",\x00", 1)
    path.write_text("\n".join(lines) + "\n")
    status, said = ingest(path, capsys)
    assert status == 1 and "nul.csv:1501: -: found a NUL byte: the export must be text; a NUL byte is not" in said
    assert not (tmp_path / "out").exists()


def test_a_column_the_counts_read_named_twice_is_a_problem(tmp_path: Path, capsys) -> None:
    path = export_with(tmp_path, "twice.csv", ["2024-05-01", "2024-06-01"])
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header + ",Detainer Facility", *(row + ",ELSEWHERE" for row in rows)]) + "\n")
    status, said = ingest(path, capsys)
    assert status == 1
    assert "twice.csv:1: Detainer Facility: found named twice: a column the counts read may appear only once" in said


@pytest.mark.parametrize(
    ("name", "content", "found"),
    [
        ("empty.xlsx", b"", "found an empty file (0 bytes)"),
        ("empty.dta", b"", "found an empty file (0 bytes)"),
        (
            "renamed.xlsx",
            b"Detainer Prepare Date,Detainer Facility\n2024-01-01,X\n",
            "the file must be a readable xlsx",
        ),
        ("garbage.dta", b"garbage, not a Stata file", "the file must be a readable dta file"),
    ],
    ids=["empty-workbook", "empty-stata", "csv-renamed-xlsx", "garbage-stata"],
)
def test_a_file_that_is_not_what_its_name_says_is_a_problem_not_a_traceback(
    tmp_path: Path, capsys, name: str, content: bytes, found: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    status, said = ingest(path, capsys)
    assert status == 1 and f"{name}:0: -: " in said and found in said
    assert main(["ice-facilities", str(path), "--search", "county"]) == 1
    assert found in capsys.readouterr().err


def parquet_with_facility(tmp_path: Path, name: str, values: object) -> Path:
    """An export as parquet whose facility column holds ``values`` (a pyarrow array) instead of text."""
    import pyarrow.parquet as pq

    path = export_with(tmp_path, "export.parquet", ["2024-01-02", "2024-02-03"])
    table = pq.read_table(path)
    index = table.schema.get_field_index("Detainer Facility")
    target = tmp_path / name
    pq.write_table(table.set_column(index, "Detainer Facility", values), target)
    return target


@pytest.mark.parametrize("kind", ["struct", "list"])
def test_a_nested_parquet_column_is_a_problem_named_by_its_column(tmp_path: Path, capsys, kind: str) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    values = pa.array([{"a": "x"}] * 2) if kind == "struct" else pa.array([["x", "y"]] * 2)
    status, said = ingest(parquet_with_facility(tmp_path, f"{kind}.parquet", values), capsys)
    assert status == 1 and f"{kind}.parquet:1: Detainer Facility: found a column of {kind}<" in said
    assert "must hold one value a cell, not a list or record" in said
    # What: the prepare date too, and in Feather as in parquet.
    table = pq.read_table(parquet_with_facility(tmp_path, "plain.parquet", pa.array(["A JAIL", "B JAIL"])))
    dated = table.set_column(table.schema.get_field_index("Detainer Prepare Date"), "Detainer Prepare Date", values)
    feather.write_feather(dated, tmp_path / "dates.feather")
    status, said = ingest(tmp_path / "dates.feather", capsys)
    assert status == 1 and f"dates.feather:1: Detainer Prepare Date: found a column of {kind}<" in said


def test_a_binary_parquet_column_is_read_as_its_text(tmp_path: Path, capsys) -> None:
    import pyarrow as pa

    path = parquet_with_facility(tmp_path, "binary.parquet", pa.array([b"Main Jail", b"Main Jail"]))
    assert list(read_export(path).text["facility"].values) == ["Main Jail"], "the text, never b'...'"
    broken = parquet_with_facility(tmp_path, "broken.parquet", pa.array([b"ok", b"A \xff\xfe JAIL"]))
    status, said = ingest(broken, capsys)
    assert status == 1 and "broken.parquet:3: Detainer Facility: found A \\xff\\xfe JAIL: must be UTF-8 text" in said


@pytest.mark.parametrize("suffix", [".parquet", ".feather"])
@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("Detainer Facility", [b"A JAIL", b"A \xc9 JAIL"]),  # what: text, read dictionary-coded from parquet
        ("Detainer Prepare Date", [b"2024-01-02", b"2024-02-\xc9"]),  # what: read as it is stored
    ],
)
def test_a_columnar_text_value_that_is_not_utf8_is_named_by_its_line_and_column(
    tmp_path: Path, capsys, column: str, values: list[bytes], suffix: str
) -> None:
    """Parquet and Feather keep text as bytes, and a writer may store any: a value that is not UTF-8 is a problem
    naming its line (the header is line 1) and column, as a bad byte in a CSV is, not a decoder's error without
    either."""
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    table = pq.read_table(export_with(tmp_path, "export.parquet", ["2024-01-02", "2024-02-03"]))
    text = pa.array(values, pa.binary()).view(pa.string())  # what: a view is not checked as it is made
    table = table.set_column(table.schema.get_field_index(column), column, text)
    path = tmp_path / f"latin{suffix}"
    pq.write_table(table, path) if suffix == ".parquet" else feather.write_feather(table, path)
    status, said = ingest(path, capsys)
    shown = values[1].decode("utf-8", errors="backslashreplace")
    assert status == 1 and f"{path.name}:3: {column}: found {shown}: must be UTF-8 text" in said, said
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("suffix", [".parquet", ".feather"])
def test_text_that_is_not_utf8_is_found_in_a_later_row_group_or_in_a_dictionary_no_record_uses(
    tmp_path: Path, capsys, suffix: str
) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    def write(values: pa.Array, name: str) -> Path:
        table = pq.read_table(export_with(tmp_path, "export.parquet", ["2024-01-02"] * 6))
        table = table.set_column(table.schema.get_field_index("Detainer Facility"), "Detainer Facility", values)
        path = tmp_path / f"{name}{suffix}"
        pq.write_table(table, path, row_group_size=3) if suffix == ".parquet" else feather.write_feather(
            table, path, chunksize=3
        )
        return path

    later = [b"A JAIL", None, b"A JAIL", b"A JAIL", b"B \xe9 JAIL", b"A JAIL"]  # what: the fifth record: line 6
    status, said = ingest(write(pa.array(later, pa.binary()).view(pa.string()), "groups"), capsys)
    assert status == 1 and f"groups{suffix}:6: Detainer Facility: found B \\xe9 JAIL: must be UTF-8 text" in said
    # What: each row group (each batch) carries the whole dictionary; only the second uses the bad value.
    entries = pa.array([b"A JAIL", b"B \xff JAIL"], pa.binary()).view(pa.string())
    shared = pa.DictionaryArray.from_arrays(pa.array([0, 0, 0, 0, 1, 0], pa.int32()), entries)
    status, said = ingest(write(shared, "shared"), capsys)
    assert status == 1 and f"shared{suffix}:6: Detainer Facility: found B \\xff JAIL: must be UTF-8 text" in said
    unused = pa.DictionaryArray.from_arrays(pa.array([0] * 6, pa.int32()), entries)
    status, said = ingest(write(unused, "unused"), capsys)
    assert (
        status == 1 and f"unused{suffix}:0: Detainer Facility: found B \\xff JAIL (in the column's dictionary" in said
    )
    long = pa.array([b"A JAIL"] * 5 + [b"\xff" * 1000], pa.binary()).view(pa.string())
    status, said = ingest(write(long, "long"), capsys)
    escapes = "\\xff" * 50  # what: 200 characters shown, of the value's 4,000
    assert status == 1 and f"long{suffix}:7: Detainer Facility: found {escapes}...: must be UTF-8" in said


@pytest.mark.parametrize("coded", [False, True])
def test_text_identifiers_that_are_not_utf8_are_named_by_line_and_column(tmp_path: Path, capsys, coded: bool) -> None:
    """Identifiers a file declares as text must be text, coded or not (bytes are another matter, below)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(export_with(tmp_path, "export.parquet", ["2024-01-02", "2024-01-05"]))
    ids = pa.array([b"abc", b"\xe9abc"], pa.binary()).view(pa.string())
    ids = ids.dictionary_encode() if coded else ids
    table = table.set_column(table.schema.get_field_index("Anonymized Identifier"), "Anonymized Identifier", ids)
    pq.write_table(table, tmp_path / "ids.parquet")
    status, said = ingest(tmp_path / "ids.parquet", capsys)
    assert status == 1 and "ids.parquet:3: Anonymized Identifier: found \\xe9abc: must be UTF-8 text" in said, said


def test_the_first_record_with_text_that_is_not_utf8_is_named_whichever_column_holds_it(tmp_path: Path, capsys) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    table = pq.read_table(export_with(tmp_path, "export.parquet", ["2024-01-02"] * 4))
    dates = pa.array([b"2024-01-02"] * 3 + [b"2024-01-\xe9"], pa.binary()).view(pa.string())
    states = pa.array([b"MA", b"M\xe9", b"MA", b"MA"], pa.binary_view()).view(pa.string_view())  # what: a view type too
    table = table.set_column(table.schema.get_field_index("Detainer Prepare Date"), "Detainer Prepare Date", dates)
    table = table.set_column(table.schema.get_field_index("Facility State"), "Facility State", states)
    feather.write_feather(table, tmp_path / "two.feather", compression="uncompressed")
    status, said = ingest(tmp_path / "two.feather", capsys)
    assert status == 1 and "two.feather:3: Facility State: found M\\xe9: must be UTF-8 text" in said, said
    # What: dates stored as bytes, which Arrow does not check as text, and bad on the first record.
    dates = pa.array([b"2024-01-\xe9"] + [b"2024-01-02"] * 3, pa.binary())
    table = table.set_column(table.schema.get_field_index("Detainer Prepare Date"), "Detainer Prepare Date", dates)
    feather.write_feather(table, tmp_path / "bytes.feather", compression="uncompressed")
    status, said = ingest(tmp_path / "bytes.feather", capsys)
    assert status == 1 and "bytes.feather:2: Detainer Prepare Date: found 2024-01-\\xe9: must be UTF-8" in said, said


def test_binary_person_identifiers_are_hashed_as_bytes_not_read_as_text(tmp_path: Path) -> None:
    """Identifiers stored as raw bytes (hashed ids, say) are never text: bytes that are not UTF-8 are kept apart
    by their bytes, not refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(export_with(tmp_path, "export.parquet", ["2024-01-02", "2024-01-05", "2024-02-03"]))
    ids = pa.array([b"\x00\xff\x01", b"\x00\xff\x02", b"\x00\xff\x01"], pa.binary())
    table = table.set_column(table.schema.get_field_index("Anonymized Identifier"), "Anonymized Identifier", ids)
    pq.write_table(table, tmp_path / "ids.parquet")
    people = read_export(tmp_path / "ids.parquet").people.keys
    assert people[0] == people[2] != people[1]


def test_a_mapping_pattern_is_matched_in_linear_time_and_one_re2_cannot_read_is_named(tmp_path: Path, capfd) -> None:
    """``^(a+)+$`` against a long name would take Python's engine minutes; RE2 answers at once. A backreference,
    which RE2 does not have, is a problem of the mapping file, said once, not a log line."""
    import time

    from analysis.ice.mapping import compile_pattern, read_mapping

    start = time.monotonic()
    assert compile_pattern("^(a+)+$").search("a" * 5000 + "!") is None
    assert time.monotonic() - start < 1
    assert compile_pattern("county jail").search("SOMEWHERE COUNTY JAIL") is not None, "case is ignored"
    mapping = tmp_path / "agencies.csv"
    mapping.write_text("facility_code,facility_pattern,agency,jurisdiction\n,(jail) \\1,A,X\n")
    try:
        read_mapping(mapping)
    except DataValidationError as error:
        said = str(error)
    else:
        raise AssertionError("a pattern RE2 cannot read was accepted")
    assert "agencies.csv:2: facility_pattern: found (jail) \\1: must be a valid RE2 regular expression" in said
    assert capfd.readouterr().err == "", "nothing logged besides the problem"


@pytest.mark.parametrize(
    ("name", "separator"),
    [("tabs.csv", "\t"), ("commas.txt", ","), ("tabs.tsv", "\t"), ("semicolons.csv", ";"), ("pipes.txt", "|")],
)
def test_a_text_export_is_read_whatever_its_separator_and_extension(tmp_path: Path, name: str, separator: str) -> None:
    """As analysts pass them on (a tab-separated .csv, a comma-separated .txt): the same records as the original."""
    import csv
    import io

    original = export_with(tmp_path, "original.csv", ["2024-01-02", "2024-02-03", "2024-03-04"])
    rows = list(csv.reader(io.StringIO(original.read_text(encoding="utf-8-sig"))))
    text = io.StringIO()
    csv.writer(text, delimiter=separator, lineterminator="\n").writerows(rows)
    (tmp_path / name).write_text(text.getvalue(), encoding="utf-8")
    expected, found = read_export(original), read_export(tmp_path / name)
    assert list(found.dates) == list(expected.dates)
    for field in ("facility", "facility_code", "state"):
        assert list(found.text[field].decode(found.text[field].codes)) == list(
            expected.text[field].decode(expected.text[field].codes)
        ), field


def test_no_header_says_what_the_file_names_and_what_each_layout_needs(tmp_path: Path, capsys) -> None:
    """A file whose columns are named its own way: the problem shows the file's names beside the names every
    known layout needs, so a user sees what to rename."""
    from analysis.ice.layouts import LAYOUTS

    path = tmp_path / "cleaned.csv"
    path.write_text("prepared_on,jail,town,st,kind\n2007-10-02,X JAIL,BOSTON,MA,Detainer\n")
    status, said = ingest(path, capsys)
    assert status == 1
    assert "found no header row (the first row names: prepared_on; jail; town; st; kind)" in said
    for layout in LAYOUTS:
        assert f"{layout.name} ({layout.description}): {layout.columns['prepare_date']}," in said


@pytest.mark.parametrize("mark", ["\u2028", "\x0c", "\x85", "\u2029", "\x1c"])
def test_a_title_line_with_a_line_separator_of_unicode_leaves_the_header_in_place(tmp_path: Path, mark: str) -> None:
    """ICE's title block, one line of which holds U+2028, a form feed or NEL (str.splitlines ends lines there,
    csv does not): every record is still read, on its own line."""
    original = export_with(tmp_path, "original.csv", [f"2024-01-{day:02d}" for day in range(1, 7)])
    titled = tmp_path / "titled.csv"
    titled.write_text(f"Detainers report{mark}generated 2026\n" + original.read_text(encoding="utf-8-sig"))
    export = read_export(titled)
    assert len(export) == 6 and list(export.dates) == list(read_export(original).dates)


def test_nprs_cleaned_release_is_read_as_the_release_it_came_from(tmp_path: Path, capsys) -> None:
    """NPR's cleaned copy of the FY2008-FY2015 release names its columns date, lift_reason, det_facility, city,
    state, detainer_type and writes dates as 2007-10-02 00:00:00: the same records as the release it cleaned."""
    from ice_export import make_records

    release = make_records(40, seed=11, layout="npr")
    original = write_export(release, tmp_path / "npr.csv", layout="npr", title_block=False)
    day = pd.to_datetime(release["Prepare Date"], format="%m/%d/%y")
    cleaned = pd.DataFrame(
        {
            "date": day.dt.strftime("%Y-%m-%d 00:00:00"),
            "lift_reason": release["Detainer Lift Reason"],
            "det_facility": release["Detainer Detention Facility"],
            "city": release["City"],
            "state": release["State"],
            "detainer_type": release["Detainer Type"],
        }
    )
    path = tmp_path / "cleaned.csv"
    cleaned.to_csv(path, index=False)
    found, expected = read_export(path), read_export(original)
    assert found.layout.name == "npr-cleaned"
    assert [str(d)[:10] for d in found.dates] == [str(d)[:10] for d in expected.dates]
    for field in ("facility", "state", "lift_reason"):
        assert list(found.text[field].decode(found.text[field].codes)) == list(
            expected.text[field].decode(expected.text[field].codes)
        ), field


@pytest.mark.parametrize("serial", [-5, 0, 0.5])
def test_a_date_cell_holding_a_number_below_one_says_what_was_read(tmp_path: Path, capsys, serial: float) -> None:
    """A workbook's date cell holding zero, a fraction or a negative number (a spreadsheet shows ##### or a time)
    is read as a time of day: the problem says so, not only the time, which is not what the cell shows."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Detainer Prepare Date", "Detainer Facility", "Facility State"])
    sheet.append(["2024-01-02", "MAIN JAIL", "MA"])
    sheet.append([serial, "MAIN JAIL", "MA"])
    sheet["A3"].number_format = "yyyy-mm-dd"
    path = tmp_path / "serial.xlsx"
    book.save(path)
    status, said = ingest(path, capsys)
    shown = "12:00:00" if serial == 0.5 else "00:00:00"
    why = "a time of day with no date, as a workbook's date cell holding a number below 1 is read"
    assert status == 1, said
    assert f"serial.xlsx[Sheet]:3: Detainer Prepare Date: found {shown} ({why}): must be a date" in said, said
    assert not (tmp_path / "out").exists()


def test_a_time_of_day_in_a_columnar_date_column_is_named_without_the_workbook_reason(tmp_path: Path, capsys) -> None:
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(export_with(tmp_path, "export.parquet", ["2024-01-02", "2024-02-03"]))
    times = pa.array([datetime.time(9, 30), datetime.time(12, 0)], pa.time64("us"))
    table = table.set_column(table.schema.get_field_index("Detainer Prepare Date"), "Detainer Prepare Date", times)
    pq.write_table(table, tmp_path / "times.parquet")
    status, said = ingest(tmp_path / "times.parquet", capsys)
    assert (
        status == 1
        and "times.parquet:2: Detainer Prepare Date: found 09:30:00 (a time of day with no date): must" in said
    )


@pytest.mark.parametrize("far", ["ZZ1048576", "AZ1048576"])
def test_a_small_workbook_with_a_far_cell_is_refused_before_it_is_read(tmp_path: Path, capsys, far: str) -> None:
    """A 5 KB workbook with one stray cell at ZZ1048576 would make the reader set aside room for 736 million cells;
    it is refused from its declared range, naming it, before a cell is read."""
    import time

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Detainer Prepare Date", "Detainer Facility", "Facility State"])
    sheet.append(["2024-01-02", "MAIN JAIL", "MA"])
    sheet[far] = "stray"
    path = tmp_path / "far.xlsx"
    book.save(path)
    start = time.monotonic()
    status, said = ingest(path, capsys)
    assert time.monotonic() - start < 2
    assert status == 1 and f"whose range reaches {far}: 1,048,576 rows by" in said
    assert "a sheet may span at most 1,000,000 cells plus 4 per byte of its XML" in said
    # What: the whole command in a process of its own, imports included, stays under 300 MB at its peak.
    import subprocess
    import sys

    # What: VmHWM is this process's own peak; getrusage's maxrss would also count the test process it was forked from.
    probe = (
        "import re, sys\nfrom analysis.cli import main\n"
        "status = main(['ingest-ice', sys.argv[1], '--by', 'facility', '--out', sys.argv[2]])\n"
        "print(status, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path), str(tmp_path / "out")], capture_output=True, text=True, check=True
    )
    status_text, peak_kb = done.stdout.split()
    assert status_text == "1" and int(peak_kb) < 300 * 1024, f"peak {int(peak_kb) // 1024} MB"


def test_a_windows_byte_is_named_by_its_line_not_its_offset(tmp_path: Path, capsys) -> None:
    """A facility name saved as Windows text (cp1252's 0x96 dash) in the fourth record: the problem names line 5."""
    path = export_with(tmp_path, "windows.csv", ["2024-05-01"] * 5)
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace("FICTIONAL", "FICTIONAL \u2013", 1)
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    status, said = ingest(path, capsys)
    assert status == 1
    assert "windows.csv:5: -: found the byte 0x96, not UTF-8, at byte" in said
    assert "the file must be UTF-8 text" in said


def test_quoted_line_breaks_above_and_among_records_keep_each_problem_on_its_editor_line(
    tmp_path: Path, capsys
) -> None:
    """A title cell over two lines above the header, and a facility name over three lines in the first record: the
    bad date of the third record sits on line 8 of the file, and is named there."""
    path = export_with(tmp_path, "broken.csv", ["2024-05-01", "2024-06-01", "2024-13-45"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "Detainer Facility"] = "FICTIONAL\nCITY\nPOLICE"
    path.write_text('"ERO Detainers\nfictional test data"\n' + frame.to_csv(index=False, lineterminator="\n"))
    assert path.read_text().splitlines()[7].startswith("2024-13-45,")  # what: line 8 as an editor counts
    status, said = ingest(path, capsys)
    assert status == 1 and "broken.csv:8: Detainer Prepare Date: found 2024-13-45: must be a date" in said


@pytest.mark.parametrize(("name", "separator"), [("FY2012.csv", "\t"), ("FY2012.txt", ",")])
def test_nprs_fy_file_that_says_detention_facility_is_read_as_its_release(
    tmp_path: Path, name: str, separator: str
) -> None:
    """NPR's files as the Deportation Data Project distributes them: a tab-separated .csv or a comma-separated .txt,
    one of them naming its facility column "Detention Facility" instead of "Detainer Detention Facility"."""
    from ice_export import make_records

    release = make_records(30, seed=13, layout="npr")
    original = write_export(release, tmp_path / "npr.csv", layout="npr", title_block=False)
    renamed = release.rename(columns={"Detainer Detention Facility": "Detention Facility"})
    path = tmp_path / name
    renamed.to_csv(path, sep=separator, index=False)
    found, expected = read_export(path), read_export(original)
    assert found.layout.name == "npr-2008-2015" and found.layout.columns["facility"] == "Detention Facility"
    assert list(found.text["facility"].decode(found.text["facility"].codes)) == list(
        expected.text["facility"].decode(expected.text["facility"].codes)
    )
    assert list(found.dates) == list(expected.dates)


def test_a_damaged_feather_file_is_a_problem_not_a_crash(tmp_path: Path, capsys) -> None:
    """Feather is read as it lies on disk: flipped bytes inside a column must be refused, never read as offsets."""
    import numpy as np
    import pyarrow.feather as feather

    from ice_export import make_records

    path = write_export(make_records(300, seed=3, layout="ddp"), tmp_path / "good.arrow", layout="ddp")
    plain = tmp_path / "plain.arrow"
    feather.write_feather(feather.read_table(path), plain, compression="uncompressed")
    damaged = bytearray(plain.read_bytes())
    for at in np.random.default_rng(4).integers(8, len(damaged) - 16, 20):
        damaged[at] ^= 0xFF
    (tmp_path / "bad.arrow").write_bytes(bytes(damaged))
    status, said = ingest(tmp_path / "bad.arrow", capsys)
    assert status == 1 and "bad.arrow:0: -: found " in said and "the file must be a readable arrow file" in said


def test_an_arrow_stream_is_read_whole_and_feather_version_1_is_refused(tmp_path: Path, capsys) -> None:
    """A stream is read when it ends with its marker (one cut short at a batch's end would lose records silently);
    Feather version 1, which pyarrow reads without a check, is refused with how to save it anew."""
    import pyarrow as pa
    import pyarrow.feather as feather

    from ice_export import make_records

    path = write_export(make_records(200, seed=3, layout="ddp"), tmp_path / "v2.feather", layout="ddp")
    table = feather.read_table(path)
    stream = tmp_path / "stream.arrow"
    with pa.OSFile(str(stream), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=50):
            writer.write_batch(batch)
    expected, found = read_export(path), read_export(stream)
    assert list(found.dates) == list(expected.dates)
    assert list(found.text["facility"].decode(found.text["facility"].codes)) == list(
        expected.text["facility"].decode(expected.text["facility"].codes)
    )
    whole = stream.read_bytes()
    with pa.ipc.open_stream(whole) as reader:
        reader.read_next_batch()
        reader.read_next_batch()
    cut = tmp_path / "cut.arrow"
    cut.write_bytes(whole[: len(whole) - 8 - (len(whole) - 8) // 3])  # what: no end marker, and part of the batches
    status, said = ingest(cut, capsys)
    assert status == 1 and "cut.arrow:0: -: found no end-of-stream marker" in said
    with pytest.warns(DeprecationWarning):  # what: pyarrow still writes version 1, and says it is old
        feather.write_feather(table, tmp_path / "v1.feather", version=1)
    status, said = ingest(tmp_path / "v1.feather", capsys)
    assert status == 1 and "v1.feather:0: -: found Feather version 1: the file must be Feather version 2" in said


def test_blank_lines_anywhere_in_a_csv_are_no_records(tmp_path: Path, capsys) -> None:
    """A trailing blank line (and a row of empty cells) is not a record with a blank date."""
    path = export_with(tmp_path, "trailing.csv", ["2024-05-01", "2024-06-01"])
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, rows[0], "", ",,,", rows[1], "", ""]) + "\n")
    export = read_export(path)
    assert len(export) == 2 and list(export.dates.astype(str)) == ["2024-05-01T00:00:00", "2024-06-01T00:00:00"]
    # What: a record whose counted cells are empty but whose other cells are not is a record, its blank date a
    # problem on its line.
    frame = pd.read_csv(export_with(tmp_path, "emptied.csv", ["2024-05-01"] * 3), dtype=str, keep_default_na=False)
    counted = ["Detainer Prepare Date", "Detainer Facility", "Detainer Facility Code", "Facility State"]
    frame.loc[1, [*counted, "Facility City"]] = ""
    frame.to_csv(path, index=False, lineterminator="\n")
    assert path.read_text().splitlines()[2].startswith(",,")
    status, said = ingest(path, capsys)
    assert status == 1 and "trailing.csv:3: Detainer Prepare Date: found (blank): must be a date" in said


def test_a_windows_byte_after_a_byte_order_mark_is_named_where_it_is(tmp_path: Path, capsys) -> None:
    path = export_with(tmp_path, "bom.csv", ["2024-05-01"] * 3)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace("FICTIONAL", "FICTIONAL \u2013", 1)
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("cp1252"))
    column = len(lines[2].encode("cp1252").split(b"\x96")[0]) + 1
    status, said = ingest(path, capsys)
    assert status == 1 and f"bom.csv:3: -: found the byte 0x96, not UTF-8, at byte {column:,} of the line" in said


def test_facility_names_with_odd_spaces_or_control_characters_ingest_as_keys_the_loader_accepts(
    tmp_path: Path, capsys
) -> None:
    """As a facility listing may type them: two spaces, a no-break space, an escape sequence. The data folder that
    --by facility writes loads; each name is one agency, its words one space apart, its control character shown."""
    from analysis import load_dataset

    names = ["FICTIONAL  CITY\u00a0PD", "FICTIONAL CITY PD ", "EVIL\x1b[2JJAIL", "PLAIN JAIL"]
    path = export_with(
        tmp_path,
        "names.csv",
        ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"],
        **{"Detainer Facility": names, "Detainer Facility Code": ["A1", "A2", "B1", "C1"]},
    )
    out = tmp_path / "out"
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(out)]) == 0, capsys.readouterr().err
    agencies = set(load_dataset(out).requests["agency"])
    assert agencies == {"FICTIONAL CITY PD [A1]", "FICTIONAL CITY PD [A2]", "EVIL\\x1b[2JJAIL", "PLAIN JAIL"}
    # What: the mapping --as-mapping lists, used as it is, also gives a folder the loader accepts.
    capsys.readouterr()
    assert main(["ice-facilities", str(path), "--as-mapping"]) == 0
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(capsys.readouterr().out)
    assert main(["ingest-ice", str(path), "--agencies", str(mapping), "--out", str(tmp_path / "mapped")]) == 0
    assert set(load_dataset(tmp_path / "mapped").requests["agency"]) == agencies


def test_facilities_with_control_characters_are_written_escaped_and_map_as_the_package_writes_them(
    tmp_path: Path, capsys
) -> None:
    """A code holding an escape sequence, and a name without code holding a zero-width space: ``facilities.csv``
    and ``unmapped_facilities.csv`` hold them escaped, and the mapping ``--as-mapping`` prints, or one that copies a
    code from ``facilities.csv``, maps every facility (the printed pattern is one RE2 reads)."""
    names = ["EVIL\x1b[2JJAIL", "NOCODE\u200b JAIL", "PLAIN JAIL"]
    path = export_with(
        tmp_path,
        "names.csv",
        ["2024-05-01", "2024-05-02", "2024-05-03"],
        **{"Detainer Facility": names, "Detainer Facility Code": ["B\x1b1", "", "C1"]},
    )
    assert main(["ingest-ice", str(path), "--by", "facility", "--out", str(tmp_path / "by")]) == 0
    listed = (tmp_path / "by" / "facilities.csv").read_text(encoding="utf-8")
    assert "\x1b" not in listed and "\u200b" not in listed
    assert "B\\x1b1,EVIL\\x1b[2JJAIL," in listed and ",NOCODE\\u200b JAIL," in listed
    capsys.readouterr()

    assert main(["ice-facilities", str(path), "--as-mapping"]) == 0
    printed = tmp_path / "printed.csv"
    printed.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["ingest-ice", str(path), "--agencies", str(printed), "--out", str(tmp_path / "printed")]) == 0
    assert (tmp_path / "printed" / "unmapped_facilities.csv").read_text() == "facility_code,facility,records\n"

    copied = tmp_path / "copied.csv"  # what: the code as facilities.csv writes it, typed into a mapping by hand
    copied.write_text('facility_code,facility_pattern,agency,jurisdiction\nB\\x1b1,,Evil Jail,"Example City, NY"\n')
    assert main(["ingest-ice", str(path), "--agencies", str(copied), "--out", str(tmp_path / "copied")]) == 0
    unmapped = (tmp_path / "copied" / "unmapped_facilities.csv").read_text(encoding="utf-8")
    assert "B\\x1b1" not in unmapped and ",NOCODE\\u200b JAIL,1" in unmapped and "\u200b" not in unmapped


def test_a_mapping_code_that_could_mean_two_codes_of_the_export_is_a_problem_not_a_guess(
    tmp_path: Path, capsys
) -> None:
    """One code with ``\\x1b`` typed out, another with the escape character itself: ``facilities.csv`` writes the
    second as the first is typed, so a row giving that text could mean either; it is named, and nothing written."""
    path = export_with(
        tmp_path,
        "codes.csv",
        ["2024-05-01", "2024-05-02"],
        **{"Detainer Facility": ["LIT JAIL", "ESC JAIL"], "Detainer Facility Code": ["B\\x1b1", "B\x1b1"]},
    )
    mapping = tmp_path / "mapping.csv"
    mapping.write_text('facility_code,facility_pattern,agency,jurisdiction\nB\\x1b1,,Esc Jail,"Example City, NY"\n')
    status, said = ingest(path, capsys, "--agencies", str(mapping))
    assert status == 1 and not (tmp_path / "out").exists()
    assert f"{mapping}:2: facility_code: found B\\x1b1: names two facility codes of the export" in said
    # What: the escape character itself, or the typed-out code escaped as facilities.csv writes it, is one code.
    mapping.write_text(
        "facility_code,facility_pattern,agency,jurisdiction\n"
        'B\x1b1,,Esc Jail,"Example City, NY"\nB\\\\x1b1,,Lit Jail,"Example City, NY"\n'
    )
    status, said = ingest(path, capsys, "--agencies", str(mapping), "--force")
    assert status == 0, said
    from analysis import load_dataset

    counted = load_dataset(tmp_path / "out").requests.set_index("agency")["requests"].to_dict()
    assert counted == {"Esc Jail": 1, "Lit Jail": 1}
    # What: with the escape character's code alone in the export, its two spellings given to two agencies.
    only = export_with(
        tmp_path,
        "only.csv",
        ["2024-05-01"],
        **{"Detainer Facility": ["ESC JAIL"], "Detainer Facility Code": ["B\x1b1"]},
    )
    mapping.write_text(
        "facility_code,facility_pattern,agency,jurisdiction\n"
        'B\x1b1,,Esc Jail,"Example City, NY"\nB\\x1b1,,Other Jail,"Example City, NY"\n'
    )
    status, said = ingest(only, capsys, "--agencies", str(mapping), "--force")
    assert status == 1
    assert "facility_code: found B\\x1b1: a facility code may belong to one agency only (line 2 gives it" in said


def test_names_that_differ_only_in_case_stay_two_agencies_through_the_printed_mapping(tmp_path: Path, capsys) -> None:
    path = export_with(
        tmp_path,
        "case.csv",
        ["2024-05-01", "2024-05-02"],
        **{"Detainer Facility": ["Jail One", "JAIL ONE"], "Detainer Facility Code": ["", ""]},
    )
    assert main(["ice-facilities", str(path), "--as-mapping"]) == 0
    printed = tmp_path / "printed.csv"
    printed.write_text(capsys.readouterr().out, encoding="utf-8")
    assert "(?-i)^JAIL\\ ONE$" in printed.read_text()
    assert main(["ingest-ice", str(path), "--agencies", str(printed), "--out", str(tmp_path / "out")]) == 0
    from analysis import load_dataset

    counted = load_dataset(tmp_path / "out").requests.set_index("agency")["requests"].to_dict()
    assert counted == {"Jail One": 1, "JAIL ONE": 1}, "before, the first pattern took both, ignoring case"
