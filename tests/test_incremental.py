"""Which runs the report re-executes, and why (decisions only: nothing is executed here)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from analysis.files import files_digest
from analysis.paths import NOTEBOOKS_DIR, ReportPaths
from analysis.pipeline import build_record, runner
from analysis.pipeline.build_record import AGGREGATE, BuildRecord, aggregate_inputs, outputs_digests, plan_work
from analysis.pipeline.runplan import Run, read_plan

PLAN = """
[[run]]
name = "growth"
notebook = "02-growth.ipynb"
[run.parameters]
agency = "Fictional City Police Department"
reported_by = "Fictional City Police Department"
base_period = "2020"
compare_period = "2021"

[[run]]
name = "denial"
notebook = "03-denial-rates.ipynb"
[run.parameters]
agency = "Fictional City Police Department"
reported_by = "Fictional City Police Department"
"""


@pytest.fixture
def built(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReportPaths:
    """A report folder whose two runs and aggregates are recorded as built from the current inputs."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("02-growth.ipynb", "03-denial-rates.ipynb"):
        shutil.copy(NOTEBOOKS_DIR / name, notebooks)
    (notebooks / "runs.toml").write_text(PLAN)
    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    (package / "module.py").write_text("x = 1\n")
    lock = tmp_path / "requirements.lock"
    lock.write_text("pandas==3.1.1\n")
    monkeypatch.setattr(build_record, "PACKAGE_DIR", package)
    monkeypatch.setattr(build_record, "LOCK_FILE", lock)

    paths = ReportPaths(data_dir, tmp_path / "reports", tmp_path / "processed", notebooks / "runs.toml")
    runs = read_plan(paths.plan)
    for run in runs:
        for output in [*paths.run_outputs(run.name), paths.figures(run.name) / "chart.png"]:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(f"output of {run.name}")
    for output in paths.aggregate_outputs():
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("aggregate")
    work = plan_work(paths, runs, None, force=False)
    record = BuildRecord(paths.reports_dir)
    for run in runs:
        record.write(run.name, work.inputs[run.name], outputs_digests(paths.run_outputs(run.name)))
    shared = build_record.shared_inputs(paths)
    record.write(AGGREGATE, aggregate_inputs(paths, runs, shared), outputs_digests(paths.aggregate_outputs()))
    return paths


def decide(paths: ReportPaths, only: list[str] | None = None, force: bool = False):
    return plan_work(paths, read_plan(paths.plan), only, force)


def test_nothing_changed_means_nothing_to_do(built: ReportPaths) -> None:
    assert decide(built).nothing_to_do


def test_fresh_reports_folder_runs_everything(built: ReportPaths, tmp_path: Path) -> None:
    fresh = ReportPaths(built.data_dir, tmp_path / "elsewhere", built.processed_dir, built.plan)
    work = decide(fresh)
    assert work.reasons == {
        "growth": "no record of a successful run here",
        "denial": "no record of a successful run here",
    }


def test_notebook_change_reruns_only_its_runs(built: ReportPaths) -> None:
    notebook = built.plan.parent / "02-growth.ipynb"
    notebook.write_text(notebook.read_text().replace("How fast", "How quickly"))
    work = decide(built)
    assert work.reasons == {"growth": "the notebook changed"}
    assert work.aggregate_reason is not None, "the merged metrics and index are rebuilt too"


def test_parameter_change_reruns_only_that_run(built: ReportPaths) -> None:
    built.plan.write_text(PLAN.replace('compare_period = "2021"', 'compare_period = "2022"'))
    work = decide(built)
    assert work.reasons == {"growth": "its parameters changed"}
    assert work.aggregate_reason is not None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda p, tmp: (p.data_dir / "sources.csv").write_text((p.data_dir / "sources.csv").read_text() + "\n"),
            "a data file changed",
        ),
        (lambda p, tmp: (tmp / "package" / "sub" / "new.py").write_text("y = 2\n"), "the package's source changed"),
        (lambda p, tmp: (tmp / "requirements.lock").write_text("pandas==3.1.2\n"), "the locked dependencies changed"),
    ],
    ids=["data", "package", "dependencies"],
)
def test_shared_input_change_reruns_every_run(built: ReportPaths, tmp_path: Path, change, reason) -> None:
    change(built, tmp_path)
    assert decide(built).reasons == {"growth": reason, "denial": reason}


def test_deleted_output_reruns_its_run(built: ReportPaths) -> None:
    (built.figures("denial") / "chart.png").unlink()
    assert decide(built).reasons == {"denial": f"output {built.figures('denial') / 'chart.png'} was deleted"}


def test_output_edited_by_hand_reruns_its_run(built: ReportPaths) -> None:
    (built.reports_dir / "growth.html").write_text("edited")
    assert decide(built).reasons == {"growth": f"output {built.reports_dir / 'growth.html'} was changed by hand"}


def test_edited_aggregate_is_rebuilt_without_rerunning(built: ReportPaths) -> None:
    (built.reports_dir / "index.html").write_text("edited")
    work = decide(built)
    assert work.reasons == {} and "index.html was changed by hand" in work.aggregate_reason


def test_force_reruns_everything(built: ReportPaths) -> None:
    assert decide(built, force=True).reasons == {"growth": "forced", "denial": "forced"}


def test_only_considers_one_run(built: ReportPaths) -> None:
    notebook = built.plan.parent / "02-growth.ipynb"
    notebook.write_text(notebook.read_text().replace("How fast", "How quickly"))
    assert decide(built, only=["denial"]).nothing_to_do


def test_swapped_headers_and_reordered_columns_re_run_every_run_that_reads_the_table(built: ReportPaths) -> None:
    """Swapping the honored and declined header names changes what every row means, not one agency's rows."""
    requests = built.data_dir / "detainer_requests.csv"
    original = requests.read_text()
    header, rest = original.split("\n", 1)
    requests.write_text(header.replace("honored,declined", "declined,honored") + "\n" + rest)
    assert decide(built).reasons == {"growth": "a data file changed", "denial": "a data file changed"}

    rows = list(csv.reader(io.StringIO(original)))
    reordered = io.StringIO()
    csv.writer(reordered, lineterminator="\n").writerows([[row[1], row[0], *row[2:]] for row in rows])
    requests.write_text(reordered.getvalue())
    assert decide(built).reasons == {"growth": "a data file changed", "denial": "a data file changed"}


def test_the_runs_digest_taken_a_file_at_a_time_is_that_of_every_file_sorted(tmp_path: Path) -> None:
    """The aggregate's record digests the runs' files in the order of their paths without listing them all: run
    names around "figures" and with characters that sort before "/", pages missing, folders missing."""
    folders = ReportPaths(reports_dir=tmp_path / "r", plan=NOTEBOOKS_DIR / "runs.toml")
    names = ["02-growth-a", "02-growth-a-b", "02-growth-a.b", "a", "fig", "figures-x", "zeta", "Zed"]
    runs = [Run(name, NOTEBOOKS_DIR / "02-growth.ipynb", {}) for name in names]
    for number, name in enumerate(names):
        if number % 3 != 2:
            folders.figures(name).mkdir(parents=True)
            for file in ("run.json", "chart.png", "a-b.svg"):
                (folders.figures(name) / file).write_text(name + file)
        for suffix in (".html", ".ipynb")[: number % 2 * 2]:
            folders.page(name, suffix).write_text(name + suffix)
    every_file = [path for run in runs for path in folders.run_outputs(run.name)]
    assert aggregate_inputs(folders, runs, {})["runs"] == files_digest(every_file, folders.reports_dir)


def test_a_big_batch_says_a_line_per_reason_not_per_run() -> None:
    runs = [Run(f"run-{n}", NOTEBOOKS_DIR / "02-growth.ipynb", {}) for n in range(runner.LISTED_DECISIONS + 10)]
    reasons = {run.name: "no record of a successful run here" for run in runs[5:]}
    said: list[str] = []
    runner._say_decisions(build_record.Work(runs, runs, reasons, {}, None), said.append)
    assert said == [
        f"  {len(runs) - 5} runs: re-running (no record of a successful run here)",
        "  5 runs: skipped (unchanged since their last run)",
    ]
    said.clear()
    runner._say_decisions(build_record.Work(runs[:3], runs[:3], {}, {}, None), said.append)
    assert said == [f"  run-{n}: skipped (unchanged since its last run)" for n in range(3)]


def test_only_named_runs_execute_and_every_name_is_checked(tmp_path: Path) -> None:
    """``--only`` given twice: those two runs and no other; a name that is no run of the plan is refused, naming
    it."""
    from analysis.errors import ParameterError
    from analysis.pipeline.build_record import plan_report

    paths = ReportPaths(reports_dir=tmp_path / "reports", processed_dir=tmp_path / "processed")
    work = plan_report(paths, only=["02-growth-boston", "02-growth-nypd"])
    assert sorted(run.name for run in work.selected) == ["02-growth-boston", "02-growth-nypd"]
    assert len(work.runs) > 2, "the plan's other runs are still the report's"
    with pytest.raises(ParameterError, match="'nope' is not one of the runs in the plan"):
        plan_report(paths, only=["02-growth-boston", "nope"])
