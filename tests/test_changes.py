"""``detainers changes``: the published numbers that moved since a git revision, by stable id, with the inputs
that changed. (A count changed in the whole report, and exactly the numbers that depend on it listed, is tried on
the session's rebuilt copy of the project, in ``test_reproduce.py``.)"""

from __future__ import annotations

import json
from pathlib import Path

from analysis.cli import main
from conftest import git


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
