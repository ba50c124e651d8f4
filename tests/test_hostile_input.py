"""Careless or hostile input: each gets a clear problem message, never a traceback, never silent acceptance."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import load_dataset
from analysis.cli import main
from analysis.studies.text import escape_markdown

REQUESTS, SOURCES, CLAIMS = "detainer_requests.csv", "sources.csv", "claims.csv"
PROBLEM = re.compile(r"^\S.*:\d+: .+: found .*: .+$")


def validate(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Exit status of ``detainers validate`` and its problem lines (each checked against the format)."""
    status = main(["validate", "--data-dir", str(data_dir)])
    err = capsys.readouterr().err.splitlines()
    problems = err[1:]
    assert all(PROBLEM.match(line) for line in problems), err
    assert "Traceback" not in "\n".join(err)
    return status, problems


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


# A row of the fixture whose requests and declined cells are replaced below: 2020, 10 requests, 10 declined.
ROW_2020 = "2020,2020-01-01,2020-12-31,10,0,10,"


@pytest.mark.parametrize("cell", ["+5", "+15", "\u0663", "\uff11\uff15", "1_5", " 1 5"])
@pytest.mark.parametrize("column", ["requests", "declined"])
def test_a_count_is_ascii_digits_only(data_dir: Path, capsys, cell: str, column: str) -> None:
    new = (
        f"2020,2020-01-01,2020-12-31,{cell},0,10,"
        if column == "requests"
        else f"2020,2020-01-01,2020-12-31,30,0,{cell},"
    )
    replace_in(data_dir / REQUESTS, ROW_2020, new)
    status, problems = validate(data_dir, capsys)
    assert status == 1
    assert any(f":2: {column}: found" in p for p in problems), problems


@pytest.mark.parametrize("digits", ["9223372036854775808", "18446744073709551616", "9" * 40])
def test_a_count_of_20_digits_or_more_is_a_problem_not_a_traceback(data_dir: Path, capsys, digits: str) -> None:
    replace_in(data_dir / REQUESTS, ROW_2020, f"2020,2020-01-01,2020-12-31,{digits},0,10,")
    replace_in(data_dir / CLAIMS, ",150,0,,true,", f",150,{digits},,true,")
    status, problems = validate(data_dir, capsys)
    assert status == 1
    assert any(f"requests: found {digits}: must be at most 1,000,000" in p for p in problems), problems
    assert any(f"precision: found {digits}: must be a whole number of decimal places" in p for p in problems)


@pytest.mark.parametrize(
    ("metric", "base", "value", "possible"),
    [
        ("pct_change", "2020", "-101", False),
        ("pct_change", "2020", "-100", True),
        ("fold", "2020", "-20", False),
        ("direction", "2020", "1.5", False),
        ("direction", "2020", "0.5", False),
        ("direction", "2020", "-1", True),
        ("denial_pct", "", "150", False),
        ("denial_pct", "", "100", True),
        ("requests", "", "198.5", False),
        ("requests", "", "-198", False),
        ("requests", "", "198", True),
    ],
)
def test_a_claimed_value_its_metric_cannot_take_is_a_problem(
    data_dir: Path, capsys, metric: str, base: str, value: str, possible: bool
) -> None:
    """A rise of 1.5 was shown as "a rise" and judged as 1.5: what validation accepts is what the verdict uses."""
    replace_in(data_dir / CLAIMS, ",pct_change,", f",{metric},")
    replace_in(data_dir / CLAIMS, ",detainer,2020,2021,150,0,", f",detainer,{base},2021,{value},0,")
    status, problems = validate(data_dir, capsys)
    found = [p for p in problems if "claimed_value must be a value its metric can take" in p]
    if possible:
        assert status == 0 and found == [], problems
    else:
        assert status == 1 and len(found) == 1, problems
        assert f"claims.csv:2: metric, claimed_value: found metric={metric}; claimed_value={value}: " in found[0]


@pytest.mark.parametrize(("value", "precision"), [("10000000000000000000000000000", "0"), ("1" + "0" * 22, "6")])
def test_a_claimed_value_of_many_digits_is_judged_not_a_traceback(
    data_dir: Path, capsys, value: str, precision: str
) -> None:
    """Rounding to the claim's precision needs more digits than Python's default decimal context holds."""
    replace_in(data_dir / CLAIMS, ",150,0,,true,", f",{value},{precision},,true,")
    status = main(["claims", "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in err, err
    assert "CONTRADICTED" in out and "Requests rose by 150 percent" in out, out


@pytest.mark.parametrize("zeros", [4300, 4400])
def test_a_count_behind_thousands_of_zeros_is_a_problem_not_a_traceback(data_dir: Path, capsys, zeros: int) -> None:
    """Python's int() refuses a string of over 4,300 digits; such a cell is still only a cell too long."""
    padded = "0" * zeros + "5"
    replace_in(data_dir / REQUESTS, ROW_2020, f"2020,2020-01-01,2020-12-31,{padded},0,10,")
    replace_in(data_dir / CLAIMS, ",150,0,,true,", f",150,{padded},,true,")
    status, problems = validate(data_dir, capsys)
    assert status == 1
    assert any(":2: requests: found 4," in p and "a cell may hold at most 4,096 characters" in p for p in problems)
    assert any(":2: precision: found 4," in p and "a cell may hold at most 4,096 characters" in p for p in problems)


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2022-07/2023-06", "2022-07-01", "2023-05-31"),  # a month short
        ("2022-07/2023-06", "2022-06-01", "2023-06-30"),  # a month early
        ("FY2023", "2022-07-01", "2023-06-30"),  # a fiscal year runs October to September
        ("2023 (partial)", "2022-07-01", "2023-06-30"),  # a partial year lies within its year
        ("last year", "2022-07-01", "2023-06-30"),  # not a label form of the data dictionary
    ],
)
def test_every_label_form_is_checked_against_its_dates(data_dir: Path, capsys, label, start, end) -> None:
    replace_in(data_dir / REQUESTS, "2022-07/2023-06,2022-07-01,2023-06-30", f"{label},{start},{end}")
    status, problems = validate(data_dir, capsys)
    assert status == 1
    assert any(":6: period" in p for p in problems), problems


def test_fiscal_and_partial_labels_with_their_dates_are_accepted(data_dir: Path, capsys) -> None:
    replace_in(data_dir / REQUESTS, "2022-07/2023-06,2022-07-01,2023-06-30", "FY2023,2022-10-01,2023-09-30")
    assert validate(data_dir, capsys) == (0, [])
    replace_in(data_dir / REQUESTS, "FY2023,2022-10-01,2023-09-30", "2023 (partial),2023-01-01,2023-06-30")
    assert validate(data_dir, capsys) == (0, [])


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1989-12-31"])
def test_implausible_dates_are_problems(data_dir: Path, capsys, date: str) -> None:
    replace_in(data_dir / REQUESTS, "2022-07/2023-06,2022-07-01,", f"2022-07/2023-06,{date},")
    replace_in(data_dir / SOURCES, ",2021-01,,", f",{date[:4]},,")
    status, problems = validate(data_dir, capsys)
    assert status == 1
    assert any(f":6: period_start: found {date}: must be a date between 1990-01-01" in p for p in problems)
    assert any(f"sources.csv:2: published: found {date[:4]}: must be a date between" in p for p in problems)


def test_a_symlink_loop_and_a_fifo_are_named_as_such(data_dir: Path, capsys) -> None:
    (data_dir / SOURCES).unlink()
    os.symlink(data_dir / SOURCES, data_dir / SOURCES)
    (data_dir / CLAIMS).unlink()
    os.mkfifo(data_dir / CLAIMS)
    status, problems = validate(data_dir, capsys)
    assert status == 1
    assert any("sources.csv:0: -: found a symbolic link loop" in p for p in problems), problems
    assert any("claims.csv:0: -: found a pipe, socket or device" in p for p in problems), problems


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (gzip.compress(b"agency,jurisdiction\n", mtime=0), "gzip"),
        ("agency,jurisdiction\nA,B\n".encode("utf-16"), "UTF-16"),
        (bytes(range(256)) * 4, "binary"),
    ],
    ids=["gzip", "UTF-16", "binary"],  # what: the same names in every process (gzip stamps the time otherwise)
)
def test_a_file_that_is_not_text_gets_one_message(data_dir: Path, capsys, content: bytes, kind: str) -> None:
    (data_dir / REQUESTS).write_bytes(content)
    status, problems = validate(data_dir, capsys)
    assert status == 1
    mine = [p for p in problems if REQUESTS in p]
    assert len(mine) == 1 and kind in mine[0] and "must be UTF-8 text" in mine[0], mine


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_a_nul_byte_is_named_on_its_line(data_dir: Path, capsys, ending: bytes) -> None:
    lines = (data_dir / REQUESTS).read_bytes().splitlines()
    lines[2] = lines[2].replace(b",", b",\x00", 1)
    (data_dir / REQUESTS).write_bytes(ending.join(lines) + ending)
    status, problems = validate(data_dir, capsys)
    mine = [p for p in problems if REQUESTS in p]
    assert status == 1 and len(mine) == 1 and f"{REQUESTS}:3: -: found binary data (it holds NUL bytes)" in mine[0]


def test_jobs_in_other_digits_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["report", "--jobs", "\u0663"])
    assert stopped.value.code == 2
    assert "not a whole number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "x"\nnotebook = "../../../etc/passwd"', "outside the project"),
        ('name = "x"\nnotebook = "/etc/passwd"', "relative to the plan"),
        ('name = "x"\nnotebook = "runs.toml"', "must be a Jupyter notebook"),
        ('name = "x"\nnotebook = "broken.ipynb"', "is not a readable Jupyter notebook"),
        ('name = "index"\nnotebook = "02-growth.ipynb"', "name 'index' is the report's own: the landing page is index"),
        ('name = "04-claims.full"\nnotebook = "02-growth.ipynb"', r"run '04-claims' writes 04-claims.full.html"),
        ('name = "04-claims.failed"\nnotebook = "02-growth.ipynb"', r"run '04-claims' writes 04-claims.failed.html"),
        (f'name = "{"a" * 237}"\nnotebook = "02-growth.ipynb"', "has 237 characters; a run name has at most 236"),
    ],
)
def test_run_plans_are_confined_and_checked(tmp_path: Path, data_dir: Path, capsys, entry: str, message: str) -> None:
    plan = tmp_path / "plan" / "runs.toml"
    plan.parent.mkdir()
    (plan.parent / "broken.ipynb").write_text("{not json")
    plan.write_text(f"[[run]]\n{entry}\n")
    status = main(["report", "--plan", str(plan), "--data-dir", str(data_dir), "--reports-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 1 and message in err and "Traceback" not in err, err


def test_every_file_named_after_a_run_of_the_longest_name_can_be_written(tmp_path: Path) -> None:
    """The longest run name the plan accepts leaves room for every name made from it: its pages, its failed
    notebook, its figures folder, and its build record with the temporary file it is written through."""
    from analysis.paths import ReportPaths
    from analysis.pipeline.build_record import BuildRecord
    from analysis.pipeline.runplan import MAX_NAME

    name, folders = "a" * MAX_NAME, ReportPaths(reports_dir=tmp_path)
    for path in (folders.failed(name), folders.page(name, ".full.html"), folders.figures(name) / "run.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    BuildRecord(tmp_path).write(name, {"plan": "0"}, {})
    assert BuildRecord(tmp_path).stale(name, {"plan": "0"}, []) is None
    with pytest.raises(OSError, match="File name too long"):
        BuildRecord(tmp_path).write(name + "a", {"plan": "0"}, {})


def test_a_plan_nested_too_deeply_and_a_loop_of_links_are_messages(tmp_path: Path, capsys) -> None:
    plan = tmp_path / "deep.toml"
    plan.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["report", "--plan", str(plan), "--list"]) == 1
    assert f"error: {plan}: not a run plan: its arrays or tables are nested too deeply" in capsys.readouterr().err
    (tmp_path / "one").symlink_to(tmp_path / "two")
    (tmp_path / "two").symlink_to(tmp_path / "one")
    for argv in (["report", "--reports-dir"], ["process", "--processed-dir"], ["validate", "--data-dir"]):
        with pytest.raises(SystemExit) as stopped:
            main([*argv, str(tmp_path / "one")])
        assert stopped.value.code == 2
        assert f"{tmp_path / 'one'}: a loop of symbolic links, which leads to no file" in capsys.readouterr().err


def test_a_run_list_that_is_not_tables_is_a_plan_error(tmp_path: Path, capsys) -> None:
    plan = tmp_path / "runs.toml"
    plan.write_text("run = [1, 2]\n")
    assert main(["report", "--plan", str(plan), "--reports-dir", str(tmp_path / "r")]) == 1
    assert "run 1: 1 is not a table" in capsys.readouterr().err


def test_terminal_output_escapes_control_characters(data_dir: Path, capsys) -> None:
    """A claim holding them is refused (free text holds none), and the problem shows them escaped."""
    replace_in(data_dir / CLAIMS, "Requests rose by 150 percent", "Requests \x1b[2J\x1b[31mrose\x07 by 150 percent")
    assert main(["claims", "--data-dir", str(data_dir)]) == 1
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err and "\\x1b[2J" in err


@pytest.mark.parametrize(
    "text",
    [
        "ICE <img src=x onerror=alert(2)>",
        "[a link](javascript:alert(1)) and ![an image](https://example.org/x.png)",
        "**bold** _em_ `code` # heading\n- item <b>&amp;</b> https://example.org www.example.org",
    ],
)
def test_escape_markdown_leaves_no_markup(text: str) -> None:
    import mistune

    html = mistune.html(escape_markdown(text))
    for tag in ("<img", "<a ", "<strong", "<em", "<code", "<h1", "<li", "<b>", "<script"):
        assert tag not in html, html


def test_cli_user_errors_print_no_traceback(tmp_path: Path) -> None:
    """Run as a user would: a separate process, bad data, a message and exit 1, no traceback."""
    bad = tmp_path / "raw"
    bad.mkdir()
    (bad / REQUESTS).write_text("agency\n" + "9" * 30 + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "validate", "--data-dir", str(bad)], capture_output=True, text=True
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr and "problems in the input data" in done.stderr


def test_text_from_the_data_is_never_parsed_as_mathtext(data_dir: Path) -> None:
    """An agency named like a formula: every chart of it is drawn and rendered, its name as written."""
    from analysis.studies import denial, growth

    name = "$\\frac{a}$ Police"
    for table in ("detainer_requests.csv", "claims.csv"):
        path = data_dir / table
        path.write_text(path.read_text().replace("Fictional City Police Department", name))
    dataset = load_dataset(data_dir)
    studies = [growth.study(dataset, name, name, "2020", "2021"), denial.study(dataset, name, name)]
    for study in studies:
        for chart in study.charts().values():
            assert chart.render("png").startswith(b"\x89PNG") and b"<svg" in chart.render("svg")
            texts = [t.get_text() for t in chart.figure.findobj(lambda a: hasattr(a, "get_text"))]
            assert any(name in text for text in texts), "the name is drawn as it is written"


def test_old_macintosh_line_ends_are_lines_however_long_the_file(data_dir: Path, capsys, tmp_path: Path) -> None:
    """A file of \\r line ends over 64 KiB was one line of more than the limit; it reads as its \\n twin does, and
    an over-long line in it is named by its own number."""
    requests = data_dir / REQUESTS
    header, *rows = requests.read_text(encoding="utf-8").splitlines()
    rows = rows * 150  # what: far over 64 KiB; the copies share their keys, a problem each, named by line
    twin = tmp_path / "twin"
    shutil.copytree(data_dir, twin)
    requests.write_bytes("\r".join([header, *rows]).encode() + b"\r")
    (twin / REQUESTS).write_bytes("\n".join([header, *rows]).encode() + b"\n")
    assert requests.stat().st_size > 65_536
    mac, twin_problems = validate(data_dir, capsys), validate(twin, capsys)
    assert mac[0] == twin_problems[0] == 1 and len(mac[1]) == len(twin_problems[1]) > 100
    assert [p.replace(str(data_dir), "") for p in mac[1]] == [p.replace(str(twin), "") for p in twin_problems[1]]
    requests.write_bytes("\r".join([header, *rows[:200], "x" * 70_000, *rows[200:]]).encode())
    status, lines = validate(data_dir, capsys)
    assert status == 1 and lines == [f"{requests}:202: -: found a line of more than 65,536 bytes: a line may hold at "
                                     "most 65,536 bytes"]  # fmt: skip


def test_a_line_or_cell_over_the_limit_is_a_problem_with_its_line(data_dir: Path, capsys) -> None:
    """A 16 MiB line (read in bounded memory: only the limit's worth of it is ever held), then a cell too long."""
    sources = data_dir / "sources.csv"
    original = sources.read_text(encoding="utf-8").splitlines()
    with sources.open("w", encoding="utf-8") as stream:
        stream.write("\n".join(original[:2]) + "\n" + "x" * (16 << 20) + "\n" + "\n".join(original[2:]) + "\n")
    status, lines = validate(data_dir, capsys)
    assert status == 1
    assert lines == [f"{sources}:3: -: found a line of more than 65,536 bytes: a line may hold at most 65,536 bytes"]
    cells = original[1].split(",")
    cells[2] = "y" * 5000
    sources.write_text("\n".join([original[0], ",".join(cells), *original[2:]]) + "\n", encoding="utf-8")
    status, lines = validate(data_dir, capsys)
    assert status == 1
    assert lines == [f"{sources}:2: title: found 5,000 characters: a cell may hold at most 4,096 characters"]


@pytest.mark.parametrize("cell", ["fixture-annual-2020; fixture-news-2023", "fixture-annual-2020;;fixture-news-2023",
                                  "fixture-annual-2020;"])  # fmt: skip
def test_source_ids_are_written_one_way_only(data_dir: Path, capsys, cell: str) -> None:
    """The processed table copies the cell: a list with spaces or empty ids, read as the same ids, would be
    published as typed; it is a problem instead."""
    text = (data_dir / REQUESTS).read_text(encoding="utf-8")
    first = text.splitlines()[1]
    replace_in(data_dir / REQUESTS, first, first.rsplit(",", 1)[0] + f',"{cell}"')
    status, problems = validate(data_dir, capsys)
    assert status == 1 and any(":2: source_ids: found " in p and "joined by ';'" in p for p in problems), problems


@pytest.mark.parametrize(
    ("name", "old", "new", "column"),
    [
        (REQUESTS, "Fictional City, XX", "Fictional City,\x1b[2J XX", "jurisdiction"),
        (SOURCES, "Fictional City Police Department,", "Fictional City\u202e Police Department,", "publisher"),
        (CLAIMS, "Requests rose by 150 percent", "Requests rose\x07 by 150 percent", "claim"),
    ],
)
def test_free_text_holds_no_control_or_direction_character(
    data_dir: Path, capsys, name: str, old: str, new: str, column: str
) -> None:
    """The processed table, the pages and the terminal copy these cells as they are: such a character is named."""
    replace_in(data_dir / name, old, new)
    status, problems = validate(data_dir, capsys)
    assert status == 1 and any(f": {column}: found " in p and "no control, format" in p for p in problems), problems


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "a tab")])
def test_a_table_saved_with_another_separator_is_one_problem_saying_so(
    data_dir: Path, capsys, separator: str, shown: str
) -> None:
    """As a spreadsheet set to a European language saves a CSV: one problem naming the separator, not one per
    column."""
    requests = data_dir / REQUESTS
    requests.write_text(requests.read_text(encoding="utf-8").replace(",", separator), encoding="utf-8")
    status, problems = validate(data_dir, capsys)
    assert status == 1 and problems == [
        f"{requests}:1: -: found the columns separated by {shown}: cells must be separated by commas (in a "
        "spreadsheet, save as CSV UTF-8, comma-delimited)"
    ]
