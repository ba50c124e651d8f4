"""Run-plan grids: one run per row group of a table, filtered, named safely; listed, and run incrementally."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.errors import RunPlanError
from analysis.paths import NOTEBOOKS_DIR, ReportPaths
from analysis.pipeline.build_record import BuildRecord, outputs_digests, plan_work
from analysis.pipeline.grids import slug
from analysis.pipeline.runplan import read_plan
from processes import HAS_PROC, descendants, still_running

HEADER = (
    "agency,jurisdiction,reported_by,request_kind,period,period_start,period_end,requests,honored,declined,source_ids\n"
)
GRID = """
[[run]]
name = "01-data-overview"
notebook = "01-data-overview.ipynb"

[[grid]]
name = "02-growth-{agency}"
notebook = "02-growth.ipynb"
rows = "data/detainer_requests.csv"
columns = { agency = "agency", reported_by = "reported_by" }
parameters = { base_period = "2024", compare_period = "2025" }
where = { period = ["2024", "2025"] }
at_least = { requests = 10 }
every = "period"
"""


def row(agency: str, period: str, requests: int) -> str:
    return f'"{agency}","Somewhere, ST","{agency}",detainer,{period},{period}-01-01,{period}-12-31,{requests},,,src\n'


def project(tmp_path: Path, rows: list[str]) -> Path:
    """A project folder with the notebooks, a data folder of ``rows`` and the grid plan; returns the plan."""
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "detainer_requests.csv").write_text(HEADER + "".join(rows))
    (data / "sources.csv").write_text(
        "source_id,publisher,title,author,published,url,kind,access\nsrc,P,[t],,2025,,news report,news\n"
    )
    (data / "claims.csv").write_text(
        (Path(__file__).parent / "fixtures" / "valid" / "claims.csv").read_text().splitlines()[0] + "\n"
    )
    for notebook in ("01-data-overview.ipynb", "02-growth.ipynb"):
        shutil.copy(NOTEBOOKS_DIR / notebook, tmp_path)
    (tmp_path / "runs.toml").write_text(GRID)
    return tmp_path / "runs.toml"


NATIONAL = [
    row("St. Paul PD", "2024", 12), row("St. Paul PD", "2025", 30),
    row("ST. PAUL PD!", "2024", 40), row("ST. PAUL PD!", "2025", 44),
    row("Tiny Town PD", "2024", 3), row("Tiny Town PD", "2025", 50),  # under 10 in 2024: left out
    row("Only One Year PD", "2025", 90),  # no 2024 count: left out
]  # fmt: skip


def test_a_grid_expands_filters_and_names_every_run_safely(tmp_path: Path) -> None:
    runs = read_plan(project(tmp_path, NATIONAL))
    grid = [run for run in runs if run.name.startswith("02-growth-")]
    assert len(grid) == 2, [run.name for run in grid]
    assert {run.parameters["agency"] for run in grid} == {"St. Paul PD", "ST. PAUL PD!"}
    assert len({run.name for run in grid}) == 2 and all(run.name.startswith("02-growth-st-paul-pd-") for run in grid)
    assert all(run.parameters["base_period"] == "2024" for run in grid)
    assert (
        slug("../../etc/passwd") == "etc-passwd"
        and slug("Ça/va") == "ca-va"
        and slug("Cafe\u0301") == slug("Caf\u00e9") == "cafe"
        and slug("///") == "x"
    )


def test_grid_values_are_read_as_the_loader_reads_them_and_a_non_count_is_said(tmp_path: Path) -> None:
    """A name in decomposed form (e + combining accent) is the agency the loader reads in composed form; a count
    cell that is no count is removed by at_least, and said so."""
    from analysis.pipeline.grids import expand, read_rows

    decomposed = "Cafe\u0301 PD"
    table = tmp_path / "rows.csv"
    table.write_text(HEADER + row(decomposed, "2024", 12) + row(decomposed, "2025", 30) + row("Other PD", "2024", 1))
    table.write_text(table.read_text().replace(",1,,,src", ",ten,,,src"))
    _, rows = read_rows(table)
    spec = {"columns": {"agency": "agency"}, "parameters": {}, "where": {"agency": ["Caf\u00e9 PD", "Other PD"]},
            "at_least": {"requests": 10}, "every": ""}  # fmt: skip
    runs, said = expand("02-growth-{agency}", rows, spec)
    assert [parameters["agency"] for _, parameters in runs] == ["Caf\u00e9 PD"]
    assert "at_least requests 10: 1 removed (1 of them not a count written with digits)" in said


def test_list_prints_the_expanded_plan_without_running(tmp_path: Path, capsys) -> None:
    plan = project(tmp_path, NATIONAL)
    assert main(["report", "--plan", str(plan), "--list", "--reports-dir", str(tmp_path / "reports")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "grid 1 (02-growth-{agency}): 7 rows in; where period is one of 2024, 2025: 0 removed; "
        "at_least requests 10: 1 removed; every period (2024, 2025): 2 of 4 groups removed; 2 runs out"
    )
    assert len(lines) == 4 and lines[1].startswith("01-data-overview  01-data-overview.ipynb")
    assert not (tmp_path / "reports").exists()


def test_list_with_only_prints_the_named_runs_and_refuses_a_name_not_in_the_plan(tmp_path: Path, capsys) -> None:
    plan = project(tmp_path, NATIONAL)
    listing = ["report", "--plan", str(plan), "--list", "--reports-dir", str(tmp_path / "reports")]
    assert main([*listing, "--only", "01-data-overview"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("01-data-overview  01-data-overview.ipynb")
    assert main([*listing, "--only", "01-data-overview", "--only", "02-growth-nosuch"]) == 2
    out, err = capsys.readouterr()
    assert ".ipynb" not in out and "'02-growth-nosuch' is not one of the runs in the plan; valid choices: '01-" in err
    assert not (tmp_path / "reports").exists()


def test_a_grid_that_selects_no_run_is_a_usage_error_naming_what_each_filter_removed(tmp_path: Path, capsys) -> None:
    """A release that ends mid-year labels its last year 2025 (partial): where period = 2025 keeps nothing."""
    partial = [r.replace(",2025,2025-01-01,", ',"2025 (partial)",2025-01-01,') for r in NATIONAL]
    plan = project(tmp_path, partial)
    for extra in (["--list"], []):
        assert main(["report", "--plan", str(plan), "--reports-dir", str(tmp_path / "r"), *extra]) == 2
        err = capsys.readouterr().err
        assert (
            "grid 1 (02-growth-{agency}) selects no run: 7 rows in; where period is one of 2024, 2025: 4 removed" in err
        )
        assert "every period (2024, 2025): 2 of 2 groups removed; 0 runs out" in err
    assert not (tmp_path / "r").exists()


def test_a_grid_needs_a_readable_table_and_a_template_of_its_columns(tmp_path: Path) -> None:
    plan = project(tmp_path, NATIONAL)
    plan.write_text(GRID.replace('"02-growth-{agency}"', '"02-growth-{county}"'))
    with pytest.raises(RunPlanError, match="template"):
        read_plan(plan)
    plan.write_text(GRID.replace("data/detainer_requests.csv", "../outside.csv"))
    with pytest.raises(RunPlanError, match=r"rows '\.\./outside\.csv' lies outside the project"):
        read_plan(plan)


@pytest.mark.parametrize(
    "template", ["g-{0}", "g-{}", "g-{agency", "g-{agency:%}", "g-{agency[0]}", "g-{agency.__class__}", "g-{agency!r}"]
)
def test_a_name_template_takes_only_plain_column_fields(tmp_path: Path, template: str) -> None:
    plan = project(tmp_path, NATIONAL)
    plan.write_text(GRID.replace('"02-growth-{agency}"', f'"{template}"'))
    with pytest.raises(RunPlanError, match=r"grid 1: name .*(not a plain \{column\} field|expected '\}')"):
        read_plan(plan)


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("where = { period", "where = { peroid", "where: 'peroid' is not a column"),
        ('columns = { agency = "agency"', 'columns = { agency = "agnecy"', "columns: 'agnecy' is not a column"),
        ('every = "period"', 'every = "year"', "every: 'year' is not a column"),
        ("at_least = { requests", "at_least = { request", "at_least: 'request' is not a column"),
    ],
)
def test_a_grid_names_only_columns_its_table_has(tmp_path: Path, old: str, new: str, named: str) -> None:
    plan = project(tmp_path, NATIONAL)
    assert old in GRID
    plan.write_text(GRID.replace(old, new))
    with pytest.raises(RunPlanError, match=named + r" of .*detainer_requests.csv \(its columns: agency, jurisdiction"):
        read_plan(plan)


def test_a_grid_table_must_be_a_regular_file(tmp_path: Path) -> None:
    plan = project(tmp_path, NATIONAL)
    table = tmp_path / "data" / "detainer_requests.csv"
    table.unlink()
    os.mkfifo(table)  # what: reading a pipe would wait for a writer for ever
    with pytest.raises(RunPlanError, match="is not a regular file"):
        read_plan(plan)


def test_grid_run_names_end_in_a_64_bit_digest(tmp_path: Path) -> None:
    runs = read_plan(project(tmp_path, NATIONAL))
    names = [run.name for run in runs if run.grid == "02-growth-{agency}"]
    assert len(names) == 2 and all(len(name.rsplit("-", 1)[1]) == 16 for name in names)


def test_a_plan_starting_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    plan = project(tmp_path, NATIONAL)
    plan.write_bytes(b"\xef\xbb\xbf" + GRID.encode())
    assert next(run.name for run in read_plan(plan)) == "01-data-overview"


def test_adding_a_row_executes_that_run_and_the_aggregates_only(tmp_path: Path) -> None:
    """Decided from the build record, as the report decides it (executing the runs is test_reproduce's part)."""
    plan = project(tmp_path, NATIONAL[:2])
    paths = ReportPaths(tmp_path / "data", tmp_path / "reports", tmp_path / "processed", plan)
    runs = read_plan(plan)
    work = plan_work(paths, runs, None, force=False)
    record = BuildRecord(paths.reports_dir)
    for run in runs:  # what: as the report records each run it installs
        for output in paths.run_outputs(run.name) or [paths.page(run.name, ".html")]:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(run.name)
        record.write(run.name, work.inputs[run.name], outputs_digests(paths.run_outputs(run.name)))
    assert plan_work(paths, read_plan(plan), None, force=False).reasons == {}

    project(tmp_path, NATIONAL[:4])
    work = plan_work(paths, read_plan(plan), None, force=False)
    assert len(runs) == 2 and len(work.runs) == 3, "one more agency, one more run"
    (new,) = [run.name for run in work.runs if run.name not in {r.name for r in runs}]
    assert new.startswith("02-growth-st-paul-pd-")
    assert work.reasons == {
        new: "no record of a successful run here",
        "01-data-overview": "a data file changed",
    }, "the new agency's run, and the overview whose data changed; not the other agency's run"
    assert work.aggregate_reason is not None


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("base_period = 2024-01-01", "parameter base_period: 2024-01-01 is a TOML date or time; write it as text in"),
        ("base_period = 2024", "parameter base_period: 2024 is a number; 02-growth.ipynb expects text (its default is"),
        ('agency = ["a"]', "parameter agency: ['a'] is a list; 02-growth.ipynb expects text"),
        ('agnecy = "x"', "02-growth.ipynb has no parameter 'agnecy'"),
    ],
)
def test_a_plan_value_of_the_wrong_kind_is_a_plan_error_in_list_and_report(
    tmp_path: Path, capsys, parameters: str, message: str
) -> None:
    plan = project(tmp_path, NATIONAL)
    plan.write_text(f'[[run]]\nname = "x"\nnotebook = "02-growth.ipynb"\nparameters = {{ {parameters} }}\n')
    for extra in (["--list"], []):
        assert main(["report", "--plan", str(plan), "--reports-dir", str(tmp_path / "r"), *extra]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert not (tmp_path / "r").exists(), "nothing starts"


@pytest.mark.skipif(not HAS_PROC, reason="reads the process tree from /proc (Linux)")
def test_a_100000_run_grid_says_what_it_does_at_once_and_sigterm_leaves_nothing(tmp_path: Path) -> None:
    """The grid's summary is the first thing the report prints (before the runs are planned one by one); SIGTERM
    then ends the report with every process it started and nothing staged. (How soon: ``make bench``.)"""
    rows = [row(f"Agency {n:06d}", period, 10 + n % 40) for n in range(100_000) for period in ("2024", "2025")]
    plan = project(tmp_path, [])
    (tmp_path / "data" / "national.csv").write_text(HEADER + "".join(rows))
    plan.write_text(GRID.replace('"data/detainer_requests.csv"', '"data/national.csv"'))
    folders = ["--data-dir", str(tmp_path / "data"), "--reports-dir", str(tmp_path / "r"), "--processed-dir",
               str(tmp_path / "p")]  # fmt: skip
    command = [str(Path(sys.executable).with_name("detainers")), "report", "--plan", str(plan), *folders]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("grid 1 (02-growth-{agency}): 200000 rows in;") and first.rstrip().endswith(
        "100000 runs out"
    )
    seen = descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    while process.poll() is None:
        seen |= descendants(process.pid)
        time.sleep(0.01)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and "terminated" in err and "Traceback" not in err
    assert still_running(seen) == [], "a process of the report outlived it"
    assert not [p for p in tmp_path.rglob(".staging-*")], "nothing is left staged"
