"""``detainers changes``: the published numbers that moved since a git revision, by stable id, with the inputs
that changed; tried on a project folder of its own (notebooks, plan, data and outputs) that is its own git
repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.paths import NOTEBOOKS_DIR, RAW_DIR

PLAN = """
[[run]]
name = "growth-boston"
notebook = "02-growth.ipynb"
parameters = { agency = "Boston Police Department", reported_by = "Boston Police Department", \
base_period = "2024", compare_period = "2025" }

[[run]]
name = "denial-boston"
notebook = "03-denial-rates.ipynb"
parameters = { agency = "Boston Police Department", reported_by = "Boston Police Department" }

[[run]]
name = "growth-nypd"
notebook = "02-growth.ipynb"
parameters = { agency = "New York City Police Department", reported_by = "New York City Police Department", \
base_period = "2016", compare_period = "2017" }
"""

BOSTON_2025 = 'Boston Police Department,"Boston, MA",Boston Police Department,detainer,2025,2025-01-01,2025-12-31,'
METRICS_ROW = "detainer_metrics/Boston Police Department/Boston Police Department/detainer/2025"
#: What one more request to Boston in 2025 moves, and nothing else: the growth to 2025, the 2025 rate, its row.
EXPECTED = {
    *(f"growth-boston.{key}" for key in ("compare_requests", "abs_change", "pct_change", "fold", "p_value")),
    "growth-boston.rate_ratio_ci_low",
    "growth-boston.rate_ratio_ci_high",
    *(f"denial-boston.detainer/2025.{key}" for key in ("requests", "denial_rate", "ci_low", "ci_high")),
    *(
        f"{METRICS_ROW}.{key}"
        for key in ("requests", "denial_rate", "denial_ci_low", "denial_ci_high", "change_from_previous")
    ),
    f"{METRICS_ROW}.pct_change_from_previous",
}


def git(folder: Path, *argv: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *argv],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def in_project(project: Path, command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``detainers COMMAND`` in this process on the project folder ``project`` (its own plan, data and
    outputs); returns what it printed, after checking that it succeeded."""
    folders = ["--data-dir", str(project / "data" / "raw"), "--processed-dir", str(project / "data" / "processed")]
    if command == "report":
        folders += ["--plan", str(project / "notebooks" / "runs.toml"), "--reports-dir", str(project / "reports")]
        folders += ["--jobs", "1"]
    status = main([command, *folders])
    said = capsys.readouterr()
    assert status == 0, said.out + said.err
    return said.out


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A project folder (its notebooks with a plan of three runs, the raw data), its report built and committed."""
    folder = tmp_path / "project"
    shutil.copytree(NOTEBOOKS_DIR, folder / "notebooks", ignore=shutil.ignore_patterns("*.toml"))
    shutil.copytree(RAW_DIR, folder / "data" / "raw")
    (folder / "notebooks" / "runs.toml").write_text(PLAN)
    in_project(folder, "report", capsys)
    git(folder, "init", "--quiet")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "-m", "the report as published")
    return folder


def test_one_changed_count_lists_exactly_the_numbers_that_depend_on_it(project: Path, capsys) -> None:
    assert in_project(project, "changes", capsys) == "no published number changed since HEAD\n"
    table = project / "data" / "raw" / "detainer_requests.csv"
    text = table.read_text()
    assert text.count(BOSTON_2025 + "57,") == 1
    table.write_text(text.replace(BOSTON_2025 + "57,", BOSTON_2025 + "58,"))
    in_project(project, "report", capsys)
    said = in_project(project, "changes", capsys).splitlines()
    assert said[0] == (
        f"{len(EXPECTED)} published number(s) changed since HEAD; input files changed: data/raw/detainer_requests.csv"
    )
    listed = {line.strip().split(": ")[0]: line.split(": ", 1)[1] for line in said[1:]}
    assert set(listed) == EXPECTED
    assert listed["growth-boston.compare_requests"] == "57 -> 58"
    assert listed[f"{METRICS_ROW}.requests"] == "57 -> 58"
    assert listed["denial-boston.detainer/2025.denial_rate"].startswith("1.0 -> 0.98")


def test_a_revision_that_does_not_exist_is_a_clear_error(tmp_path: Path, capsys) -> None:
    folders = ["--processed-dir", str(tmp_path), "--data-dir", str(tmp_path)]
    assert main(["changes", *folders]) == 1
    assert f"error: {tmp_path} is not in a git repository" in capsys.readouterr().err
    assert main(["changes", "--quiet", *folders]) == 0 and capsys.readouterr().out == "", "make report says nothing"
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "commit", "--quiet", "--allow-empty", "-m", "empty")
    assert main(["changes", "no-such-tag", *folders]) == 1
    assert "error: 'no-such-tag' is not a revision of the repository" in capsys.readouterr().err
    assert main(["changes", *folders]) == 0
    assert capsys.readouterr().out == "no published number changed since HEAD\n"


def test_items_named_alike_keep_apart_and_absent_is_not_undefined() -> None:
    from analysis.pipeline.changes import metrics_numbers

    def item(base: str, compare: str, fold: float | None) -> dict[str, object]:
        return {"agency": "A", "reported_by": "A", "base_period": base, "compare_period": compare, "fold": fold}

    before = {"05-comparison": {"results": [item("2016", "2017", 4.5), item("2016", "2017", 3.8)]}}
    numbers = metrics_numbers(json.dumps(before))
    assert numbers == {"05-comparison.A/A/2016/2017.fold": 4.5, "05-comparison.A/A/2016/2017#2.fold": 3.8}
    two = {"05-comparison": {"results": [item("2016", "2017", 4.5), item("2024", "2025", None)]}}
    assert set(metrics_numbers(json.dumps(two))) == {
        "05-comparison.A/A/2016/2017.fold",
        "05-comparison.A/A/2024/2025.fold",
    }


def test_names_holding_the_separator_never_share_an_id() -> None:
    """An agency "A/B" reported by "C" and an agency "A" reported by "B/C": two rows, two ids, both compared."""
    from analysis.pipeline.changes import metrics_numbers, table_numbers

    header = "agency,reported_by,request_kind,period,requests\n"
    table = table_numbers(header + "A/B,C,detainer,2024,7\nA,B/C,detainer,2024,9\n")
    assert table == {
        "detainer_metrics/A%2FB/C/detainer/2024.requests": "7",
        "detainer_metrics/A/B%2FC/detainer/2024.requests": "9",
    }
    items = [{"agency": "A/B", "reported_by": "C", "fold": 1.0}, {"agency": "A", "reported_by": "B/C", "fold": 2.0}]
    assert metrics_numbers(json.dumps({"r": {"results": items}})) == {"r.A%2FB/C.fold": 1.0, "r.A/B%2FC.fold": 2.0}


def test_a_processed_file_that_cannot_be_read_is_a_clear_error(tmp_path: Path, capsys) -> None:
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "commit", "--quiet", "--allow-empty", "-m", "empty")
    (tmp_path / "metrics.json").write_text("<<<<<<< HEAD\n{}\n")
    (tmp_path / "detainer_metrics.csv").write_text("agency,reported_by\nX\n")
    folders = ["--processed-dir", str(tmp_path), "--data-dir", str(tmp_path)]
    assert main(["changes", *folders]) == 1
    assert "error: metrics.json in the working tree cannot be read as the report writes it" in capsys.readouterr().err
    (tmp_path / "metrics.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["changes", *folders]) == 1
    assert "error: metrics.json in the working tree cannot be read as the report writes it (nested too deeply)" in (
        capsys.readouterr().err
    )
    (tmp_path / "metrics.json").write_text('{"r": {"results": {"n": 1}}}')
    (tmp_path / "detainer_metrics.csv").write_bytes(b"agency,reported_by\nX,\xff\n")
    assert main(["changes", *folders]) == 1
    said = capsys.readouterr().err
    assert "error: detainer_metrics.csv in the working tree cannot be read as the report writes it (" in said
    (tmp_path / "detainer_metrics.csv").write_text("agency,reported_by\nX\n")
    assert main(["changes", *folders]) == 0
    said = capsys.readouterr().out
    assert "  r.n: (not published) -> 1" in said and "none -> none" not in said


def test_a_nan_published_twice_is_no_change(tmp_path: Path, capsys) -> None:
    git(tmp_path, "init", "--quiet")
    (tmp_path / "metrics.json").write_text('{"r": {"results": {"n": NaN, "m": 1}}}')
    git(tmp_path, "add", "metrics.json")
    git(tmp_path, "commit", "--quiet", "-m", "published")
    (tmp_path / "metrics.json").write_text('{"r": {"results": {"n": NaN, "m": 2}}}')
    assert main(["changes", "--processed-dir", str(tmp_path), "--data-dir", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("1 published number(s) changed since HEAD") and "r.m: 1 -> 2" in said and "r.n" not in said
