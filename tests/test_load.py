"""Loading and validating the raw tables."""

from __future__ import annotations

import csv
import io
import re
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import DataValidationError, load_dataset
from analysis.data.cells import MAX_COUNT, count_too_large, to_count, to_date
from analysis.data.csvfile import WHITESPACE, read_text_table
from analysis.data.schema import CLAIMS_COLUMNS, CORRECTIONS_COLUMNS
from analysis.files import unguard
from analysis.paths import RAW_DIR

REQUESTS = "detainer_requests.csv"
SOURCES = "sources.csv"
CLAIMS = "claims.csv"
LINE_FORMAT = re.compile(r"^(?P<file>\S+):(?P<line>\d+): (?P<column>[^:]+): found (?P<value>.*): (?P<rule>[^:]+)$")


def problems_of(data_dir: Path) -> list[re.Match[str]]:
    with pytest.raises(DataValidationError) as caught:
        load_dataset(data_dir)
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("in the input data:")
    matches = [LINE_FORMAT.match(line) for line in lines[1:]]
    assert all(matches), lines
    return matches  # type: ignore[return-value]


def test_valid_fixture_loads_with_types(data_dir: Path) -> None:
    dataset = load_dataset(data_dir)
    requests = dataset.requests
    assert len(requests) == 5
    assert str(requests["requests"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(requests["period_start"])
    assert requests["declined"].isna().sum() == 2, "blank outcomes stay missing, never filled"
    assert dataset.claims["expected_to_hold"].dtype == bool
    assert dataset.data_dir == data_dir


def test_shipped_data_is_valid() -> None:
    dataset = load_dataset(RAW_DIR)
    assert len(set(dataset.requests["agency"])) == 11, "Boston, New York and the nine agencies of FACTS.md"
    assert set(dataset.requests["request_kind"]) == {"detainer", "notification", "any"}
    assert set(dataset.sources["access"]) == {"primary", "news"}
    assert len(dataset.claims) == 11
    hennepin = dataset.requests[dataset.requests["agency"] == "Hennepin County Sheriff's Office"]
    assert hennepin["requests"].isna().sum() == 2, "outcomes without a count of requests stay blank"


def test_relative_data_dir_resolves_against_project_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_dataset("data/raw").data_dir == RAW_DIR


def test_bom_crlf_and_whitespace_are_accepted(swap_in) -> None:
    data_dir = swap_in(REQUESTS, "accepted/requests_bom_crlf_spaces.csv")
    plain = load_dataset(Path(__file__).parent / "fixtures" / "valid").requests
    pd.testing.assert_frame_equal(load_dataset(data_dir).requests, plain)


@pytest.mark.parametrize(
    ("table", "columns"), [("claims.csv", CLAIMS_COLUMNS), ("corrections.csv", CORRECTIONS_COLUMNS)]
)
def test_an_empty_table_that_may_list_nothing_asks_for_its_header_only(data_dir: Path, table: str, columns) -> None:
    """A header alone is a valid claims or corrections table: an empty file's message says so, and which header."""
    (data_dir / table).write_bytes(b"")
    (found,) = [m.groupdict() for m in problems_of(data_dir)]
    assert found["value"] == "an empty file", found
    header = ",".join(columns)
    assert found["rule"] == f"the file needs its header line ({header}); rows may follow, none is needed"
    (data_dir / table).write_text(header + "\n", encoding="utf-8")
    load_dataset(data_dir)  # what: the header the message names is accepted on its own


@pytest.mark.parametrize(
    ("fixture", "line", "column", "value", "rule"),
    [
        ("requests_empty.csv", 0, "-", "an empty file", "its header line (agency,jurisdiction,reported_by,"),
        ("requests_empty.csv", 0, "-", "an empty file", "at least one data row must follow"),
        ("requests_header_only.csv", 1, "-", "a header only", "at least one data row"),
        ("requests_missing_column.csv", 1, "declined", "no such column", "required column is missing"),
        ("requests_unknown_column.csv", 1, "notes", "notes", "not a column of this table"),
        ("requests_not_a_number.csv", 2, "requests", "ten", "must be a number written with digits only"),
        ("requests_fractional.csv", 2, "requests", "10.5", "must be a whole number"),
        ("requests_negative.csv", 2, "honored", "-1", "must not be negative"),
        ("requests_absurd.csv", 2, "requests", "99000000", "must be at most 1,000,000"),
        (
            "requests_outcomes_exceed.csv",
            3,
            "requests, honored, declined",
            "requests=25; honored=2; declined=24",
            "honored + declined must not exceed requests",
        ),
        (
            "requests_end_before_start.csv",
            6,
            "period_start, period_end",
            "period_start=2023-07-01; period_end=2023-06-30",
            "period_end must not be before period_start",
        ),
        ("requests_bad_date.csv", 2, "period_end", "2020-02-30", "must be a real date written YYYY-MM-DD"),
        (
            "requests_year_label.csv",
            3,
            "period, period_start, period_end",
            "period=2019; period_start=2021-01-01; period_end=2021-12-31",
            "the dates must be the days the label names",
        ),
        (
            "requests_duplicate.csv",
            7,
            "agency, reported_by, request_kind, period",
            "agency=Fictional City Police Department; reported_by=Fictional City Police Department; "
            "request_kind=detainer; period=2021",
            "only one row may give the count",
        ),
        ("requests_unknown_source.csv", 2, "source_ids", "fixture-nowhere", "must name sources listed in sources.csv"),
        ("requests_blank_agency.csv", 4, "agency", "(blank)", "must not be blank"),
        ("requests_blank_reporter.csv", 5, "reported_by", "(blank)", "must not be blank"),
        ("requests_not_utf8.csv", 2, "jurisdiction", r"Fictional City, X\xc9", "must be UTF-8 text"),
    ],
)
def test_each_bad_requests_file_is_named_precisely(swap_in, fixture, line, column, value, rule) -> None:
    data_dir = swap_in(REQUESTS, f"invalid/{fixture}")
    found = [m.groupdict() for m in problems_of(data_dir)]
    expected = {"file": str(data_dir / REQUESTS), "line": str(line), "column": column, "value": value}
    assert any(p.items() >= expected.items() and rule in p["rule"] for p in found), found


@pytest.mark.parametrize(
    ("cell", "rules"),
    [
        ("-1", ["must not be negative"]),
        ("-0", ["must be written without a sign"]),  # what: zero, not a negative count
        ("-00", ["must be written without a sign"]),
        ("+0", ["must be written without a sign"]),
        ("+3", ["must be written without a sign"]),
        ("-0.0", ["must be a whole number (no decimal point)", "must be written without a sign"]),
        ("-0.5", ["must be a whole number (no decimal point)", "must not be negative"]),
    ],
)
def test_a_signed_count_gets_the_rule_it_breaks(data_dir: Path, cell: str, rules: list[str]) -> None:
    requests = data_dir / REQUESTS
    requests.write_text(requests.read_text().replace(",10,0,10,", f",10,{cell},10,", 1))
    found = problems_of(data_dir)
    assert {(m["line"], m["column"], m["value"]) for m in found} == {("2", "honored", cell)}
    assert [m["rule"].split(" (")[0] for m in found] == [rule.split(" (")[0] for rule in rules]


def test_duplicate_rows_name_both_lines(swap_in) -> None:
    found = problems_of(swap_in(REQUESTS, "invalid/requests_duplicate.csv"))
    assert {m["line"] for m in found if "only one row" in m["rule"]} == {"3", "7"}


def test_duplicate_source_ids_are_rejected(swap_in) -> None:
    found = problems_of(swap_in(SOURCES, "invalid/sources_duplicate_id.csv"))
    assert {(m["line"], m["column"], m["rule"]) for m in found} == {
        ("2", "source_id", "source ids must be unique"),
        ("5", "source_id", "source ids must be unique"),
    }


@pytest.mark.parametrize("table", [REQUESTS, SOURCES, CLAIMS])
def test_missing_file_is_named(data_dir: Path, table: str) -> None:
    (data_dir / table).unlink()
    (problem,) = problems_of(data_dir)
    assert problem["file"] == str(data_dir / table)
    assert problem["value"] == "no such file"


def test_every_problem_is_reported_in_one_pass(data_dir: Path) -> None:
    requests = data_dir / REQUESTS
    text = requests.read_text().replace(",10,0,10,", ",10,0,x,").replace("2022-07-01", "2022-7-1")
    requests.write_text(text)
    sources = data_dir / SOURCES
    sources.write_text(sources.read_text().replace("primary document", "rumour", 1))
    found = {(Path(m["file"]).name, m["line"], m["column"]) for m in problems_of(data_dir)}
    assert found == {(REQUESTS, "2", "declined"), (REQUESTS, "6", "period_start"), (SOURCES, "2", "kind")}


def test_validation_error_is_a_value_error(swap_in) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        load_dataset(swap_in(REQUESTS, "invalid/requests_negative.csv"))


def test_claims_must_point_at_existing_figures(data_dir: Path) -> None:
    claims = data_dir / CLAIMS
    claims.write_text(claims.read_text().replace(",2020,2021,150,", ",2018,2021,150,"))
    (problem,) = problems_of(data_dir)
    assert (problem["line"], problem["column"]) == ("2", "agency, reported_by, request_kind, base_period, period")
    assert "base_period=2018" in problem["value"]


def test_calendar_year_needs_its_year_as_label(data_dir: Path) -> None:
    requests = data_dir / REQUESTS
    requests.write_text(
        requests.read_text().replace("Agency,detainer,2021,2021-01-01,", "Agency,detainer,2021-01/2021-12,2021-01-01,")
    )
    (problem,) = problems_of(data_dir)
    assert "whole calendar year must be labelled with that year" in problem["rule"]


def test_a_kind_of_request_outside_the_vocabulary_is_named(data_dir: Path) -> None:
    requests = data_dir / REQUESTS
    lines = requests.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",detainer,", ",hold,", 1)
    requests.write_text("".join(lines))
    (problem,) = problems_of(data_dir)
    assert (problem["line"], problem["column"], problem["value"]) == ("4", "request_kind", "hold")
    assert problem["rule"] == "must be one of detainer, notification, any"


def test_an_access_outside_the_vocabulary_is_named(data_dir: Path) -> None:
    sources = data_dir / SOURCES
    sources.write_text(sources.read_text().replace("news report,news", "news report,blog", 1))
    (problem,) = problems_of(data_dir)
    assert (problem["line"], problem["column"], problem["value"]) == ("4", "access", "blog")
    assert problem["rule"] == "must be one of primary, news, repost"


def test_two_rows_of_one_agency_reporter_period_and_kind_are_refused_but_two_kinds_are_kept(data_dir: Path) -> None:
    requests = data_dir / REQUESTS
    lines = requests.read_text().splitlines(keepends=True)
    requests.write_text("".join([*lines, lines[1].replace(",10,0,10,", ",11,,,")]))
    found = problems_of(data_dir)
    assert {m["line"] for m in found} == {"2", str(len(lines) + 1)}
    assert all("one agency, reporter, kind of request and period" in m["rule"] for m in found)
    requests.write_text("".join([*lines, lines[1].replace(",detainer,", ",any,").replace(",10,0,10,", ",11,,,")]))
    assert load_dataset(data_dir).requests["request_kind"].tolist().count("any") == 1


def test_requests_may_be_blank_only_beside_an_outcome(data_dir: Path) -> None:
    requests = data_dir / REQUESTS
    lines = requests.read_text().splitlines(keepends=True)
    requests.write_text("".join([*lines[:1], lines[1].replace(",10,0,10,", ",,,2,"), *lines[2:]]))
    assert pd.isna(load_dataset(data_dir).requests.loc[0, "requests"]), "declines without a count of requests"
    requests.write_text("".join([*lines[:1], lines[1].replace(",10,0,10,", ",,,,"), *lines[2:]]))
    (problem,) = problems_of(data_dir)
    assert (problem["line"], problem["column"]) == ("2", "requests, honored, declined")
    assert "only where the source gives an outcome" in problem["rule"]


@pytest.mark.parametrize(
    ("label", "start", "end", "ok"),
    [
        ("2017-01-28/2017-02-03", "2017-01-28", "2017-02-03", True),  # a week, as ICE's weekly reports
        ("2017-01-28/2017-02-03", "2017-01-28", "2017-02-04", False),
        ("2017-01-28/2017-02-03 (partial)", "2017-01-29", "2017-02-03", True),
        ("2017-02-30/2017-03-03", "2017-03-01", "2017-03-03", False),
    ],
)
def test_day_range_labels_are_checked_against_their_dates(
    data_dir: Path, label: str, start: str, end: str, ok: bool
) -> None:
    requests = data_dir / REQUESTS
    requests.write_text(
        requests.read_text().replace("detainer,2022,2022-01-01,2022-12-31,", f"detainer,{label},{start},{end},")
    )
    if ok:
        assert label in set(load_dataset(data_dir).requests["period"])
    else:
        found = problems_of(data_dir)
        assert found and all(m["column"].startswith("period") for m in found), found


@pytest.mark.parametrize(
    ("lookalike", "shown"),
    [
        ("Fictional City\u00a0Police Department", "Fictional City\\xa0Police Department"),  # a no-break space
        ("Fictional City Police Department\u200b", "Fictional City Police Department\\u200b"),  # zero-width
        ("Fictional City  Police Department", "Fictional City  Police Department"),  # two spaces
    ],
)
def test_a_key_that_only_looks_like_another_is_named_with_its_code_point(
    data_dir: Path, lookalike: str, shown: str
) -> None:
    requests = data_dir / REQUESTS
    lines = requests.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("Fictional City Police Department", lookalike, 1)
    requests.write_text("".join(lines), encoding="utf-8")
    (problem,) = problems_of(data_dir)
    assert (problem["line"], problem["column"], problem["value"]) == ("4", "agency", shown)
    assert problem["rule"].startswith("must be plain text")


def test_composed_and_decomposed_accents_are_one_key(data_dir: Path) -> None:
    requests = data_dir / REQUESTS
    text = requests.read_text()
    lines = text.splitlines(keepends=True)
    composed, decomposed = "Fictional Cit\u00e9 Police Department", "Fictional Cite\u0301 Police Department"
    lines[1] = lines[1].replace("Fictional City Police Department", composed)
    lines[2] = lines[2].replace("Fictional City Police Department", decomposed)
    extra = lines[1].replace(",2020,2020-01-01,", ",2019,2019-01-01,").replace("2020-12-31", "2019-12-31")
    requests.write_text("".join([*lines, extra]), encoding="utf-8")
    claims = data_dir / "claims.csv"
    claims.write_text(claims.read_text().splitlines(keepends=True)[0])
    agencies = set(load_dataset(data_dir).requests["agency"])
    assert composed in agencies and decomposed not in agencies, "one agency, written as it is composed"


def cells_as_python_reads_them(text: str) -> list[tuple[int, list[str]]]:
    """The rows of CSV ``text`` read cell by cell with Python's csv module: stripped, un-guarded, NFC, blank rows
    dropped, each with the line it starts on (the reader's contract, written the slow, obvious way)."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    next(reader)
    rows, previous_end = [], reader.line_num
    for record in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if any(cell.strip() for cell in record):
            rows.append((start, [unicodedata.normalize("NFC", unguard(cell.strip())) for cell in record]))
    return rows


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("ab ,\"\r\n\t\x0b\x1c\xa0\u3000\x85\u2028'=+e\u0301\u00e9"), max_size=40))
def test_cells_are_read_as_pythons_csv_module_reads_them(tmp_path_factory: pytest.TempPathFactory, body: str) -> None:
    """The reader's shortcuts (stripping a column at a time, skipping NFC and guards when the text has none) never
    change a cell: spaces, tabs and Unicode spaces at cell edges, quoted line breaks, guards, accents."""
    text = "x,y\n" + body
    try:
        expected = [(line, cells) for line, cells in cells_as_python_reads_them(text) if len(cells) == 2]
    except csv.Error:
        return
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_text(text, encoding="utf-8", newline="")
    table = read_text_table(path, ["x", "y"], allow_no_rows=True)
    assert list(zip(table.frame.index, table.frame.to_numpy().tolist(), strict=True)) == expected


def test_the_whitespace_stripped_a_column_at_a_time_is_what_str_strip_removes() -> None:
    assert set(WHITESPACE) == {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}


#: Cells for the parsers: counts with and without leading zeros, at and past the limits, signed, spaced, in other
#: digits; real and unreal days; and any short text.
PARSED = st.one_of(
    st.sampled_from(
        [
            *("", "0", "007", "15", "+15", "-3", "1.5", "1000000", "1000001", "0001000001", "10000000", "99999999"),
            *("9" * 25, " 5", "5\n", "\u0663", "\uff11\uff15"),
            *("2024-02-29", "2023-02-29", "0000-01-01", "0001-01-01", "9999-12-31", "2024-13-01", "2024-1-01"),
            *("2024-01-01 ", "2024-01-01T00", "\uff12024-01-01"),
        ]
    ),
    st.text(alphabet="0123456789-+ .", max_size=12),
    st.text(max_size=6),
)


@settings(max_examples=200)
@given(cells=st.lists(PARSED, max_size=12))
def test_counts_and_days_are_parsed_as_pandas_parses_them_where_it_reads_the_form(cells: list[str]) -> None:
    """The parsers work once per distinct cell in Python; pandas' own parsers, cell by cell, on the forms they
    read (ASCII digits; YYYY-MM-DD), give the same values, and nothing else is read."""
    column = pd.Series(cells, dtype="str", index=range(7, 7 + len(cells)))
    counts, days, too_large = to_count(column), to_date(column), count_too_large(column)
    assert counts.dtype == "Int64" and days.dtype == "datetime64[us]" and list(too_large.index) == list(column.index)
    for cell, count, day, large in zip(cells, counts, days, too_large, strict=True):
        digits = re.fullmatch(r"[0-9]+", cell, re.ASCII) is not None
        # What: a count of more digits than MAX_COUNT has is overlong, never converted (validation refuses it).
        expected = pd.to_numeric(cell) if digits and len(str(int(cell))) <= len(str(MAX_COUNT)) else pd.NA
        assert count is expected or count == expected, (cell, count)
        assert large == (digits and int(cell) > MAX_COUNT), cell
        dated = re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", cell, re.ASCII) is not None
        parsed = pd.to_datetime(pd.Series([cell]), format="%Y-%m-%d", errors="coerce")[0] if dated else pd.NaT
        assert (pd.isna(day) and pd.isna(parsed)) or day == parsed, (cell, day)
