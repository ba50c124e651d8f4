"""Output folders are owned: the report and the processed tables go only where the package may write, and a plan
or data folder other than the committed ones never writes into the published reports/ and data/processed/."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.files import MARKER_TEXT
from analysis.paths import (
    NOTEBOOKS_DIR,
    OUTPUT_ROOT_ENV,
    OWNED_MARKER,
    PROCESSED_DIR,
    PROJECT_ROOT,
    RAW_DIR,
    REPORTS_DIR,
)
from conftest import VALID, tree

CLAIMS_PLAN = '[[run]]\nname = "claims"\nnotebook = "04-claims.ipynb"\n'


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    """A plan of its own (one claims run) beside a copy of its notebook."""
    folder = tmp_path / "story"
    folder.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "04-claims.ipynb", folder)
    (folder / "runs.toml").write_text(CLAIMS_PLAN)
    return folder / "runs.toml"


def test_the_published_folders_carry_the_marker() -> None:
    for folder in (REPORTS_DIR, PROCESSED_DIR):
        assert (folder / OWNED_MARKER).read_text() == MARKER_TEXT


@pytest.mark.parametrize(
    ("option", "folder", "message"),
    [
        ("--reports-dir", NOTEBOOKS_DIR, "this is the project's own folder notebooks/"),
        ("--reports-dir", PROJECT_ROOT, "this is the project's own folder"),
        ("--processed-dir", RAW_DIR, "this is the project's own folder raw/"),
    ],
)
def test_the_projects_own_folders_are_refused(tmp_path: Path, capsys, option: str, folder: Path, message: str) -> None:
    before = tree(folder) if folder != PROJECT_ROOT else None
    other = "--processed-dir" if option == "--reports-dir" else "--reports-dir"
    assert main(["report", option, str(folder), other, str(tmp_path / "other"), "--only", "04-claims"]) == 1
    err = capsys.readouterr().err
    assert f"error: {option} {folder}: {message}" in err
    assert not (tmp_path / "other").exists()
    if before is not None:
        assert tree(folder) == before


def test_a_folder_holding_files_it_did_not_write_is_refused(plan: Path, tmp_path: Path, capsys) -> None:
    """The plan's own folder (its notebook and plan) named as the reports folder: nothing is overwritten."""
    before = tree(plan.parent)
    status = main(
        ["report", "--plan", str(plan), "--data-dir", str(VALID), "--reports-dir", str(plan.parent),
         "--processed-dir", str(tmp_path / "processed")]
    )  # fmt: skip
    assert status == 1
    err = capsys.readouterr().err
    assert f"--reports-dir {plan.parent}: holds {plan}, which this command reads" in err
    stray = tmp_path / "mine"
    stray.mkdir()
    (stray / "notes.txt").write_text("mine\n")
    assert main(["process", "--data-dir", str(VALID), "--processed-dir", str(stray)]) == 1
    err = capsys.readouterr().err
    assert f"--processed-dir {stray}: holds files detainers did not write (notes.txt)" in err
    assert tree(plan.parent) == before and tree(stray) == {"notes.txt": b"mine\n"}


@pytest.mark.parametrize("executes", [True, False], ids=["a-run-executes", "only-the-index-is-built"])
@pytest.mark.parametrize("option", ["--reports-dir", "--processed-dir"])
def test_a_folder_another_report_is_writing_into_is_refused(
    plan: Path, tmp_path: Path, capsys, option: str, executes: bool
) -> None:
    """Another report holds one of the folders (its lock, as a running report holds it): this one writes nothing,
    in either folder, and leaves no folder it made; so does a report that executes no run (its only run cannot
    execute here) and would build the index alone."""
    if not executes:
        plan.write_text(CLAIMS_PLAN + 'requires = ["missing.csv"]\nhow_to_enable = "add missing.csv"\n')
    folders = {"--reports-dir": tmp_path / "new" / "reports", "--processed-dir": tmp_path / "new" / "processed"}
    busy = folders[option] = tmp_path / "busy"
    busy.mkdir()
    descriptor = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        options = [str(part) for pair in folders.items() for part in pair]
        status = main(["report", "--plan", str(plan), "--data-dir", str(VALID), "--jobs", "1", *options])
    finally:
        os.close(descriptor)
    err = capsys.readouterr().err
    assert status == 1
    assert f"{busy}: another detainers command is writing into this folder; wait for it to end, or give this " \
        f"one another {option}" in err  # fmt: skip
    assert list(busy.iterdir()) == [] and not (tmp_path / "new").exists()


def test_process_waits_for_no_one_and_clears_what_a_killed_write_left(tmp_path: Path, capsys) -> None:
    """``process`` into a folder another command holds is refused, writing nothing; once it holds the folder, the
    temporary files of a write killed outright are removed, and nothing else."""
    folder = tmp_path / "processed"
    (folder / "figures").mkdir(parents=True)
    left = [folder / ".detainer_metrics.csv.k2j_9x0q.tmp", folder / "figures" / ".chart.png.abcdefgh.tmp"]
    kept = [folder / ".notes.tmp", folder / "figures" / "x.abcdefgh.tmp", folder / ".a.ABCDEFGH.tmp"]
    for path in left + kept:
        path.write_text("partial\n")
    (folder / OWNED_MARKER).write_text(MARKER_TEXT)
    before = tree(folder)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["process", "--data-dir", str(VALID), "--processed-dir", str(folder)]) == 1
    finally:
        os.close(descriptor)
    assert "another detainers command is writing into this folder" in capsys.readouterr().err
    assert tree(folder) == before
    assert main(["process", "--data-dir", str(VALID), "--processed-dir", str(folder)]) == 0
    assert not any(path.exists() for path in left) and all(path.exists() for path in kept)
    assert (folder / "detainer_metrics.csv").is_file()


def test_another_plan_and_data_write_a_folder_of_their_own(plan: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """The README's own-plan example without output options: its report goes to a scratch folder of its own."""
    monkeypatch.setenv(OUTPUT_ROOT_ENV, str(tmp_path / "root"))
    published = {folder: tree(folder) for folder in (REPORTS_DIR, PROCESSED_DIR)}
    assert main(["report", "--plan", str(plan), "--data-dir", str(VALID)]) == 0
    out = capsys.readouterr().out
    (own,) = (tmp_path / "root" / "scratch").iterdir()
    assert own.name.startswith("report-story-runs-")
    assert f"the report: {own / 'reports' / 'index.html'}; the processed tables: {own / 'processed'}" in out
    assert (own / "reports" / "claims.html").is_file() and (own / "processed" / "metrics.json").is_file()
    assert (own / "reports" / OWNED_MARKER).is_file() and (own / "processed" / OWNED_MARKER).is_file()
    assert {folder: tree(folder) for folder in published} == published
    # What: `process` on other data goes to the processed folder of its own, too.
    assert main(["process", "--data-dir", str(VALID)]) == 0
    assert tree(PROCESSED_DIR) == published[PROCESSED_DIR]


def test_the_published_folders_are_written_only_by_the_published_report(
    plan: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Another plan or data, or one published folder without the other: refused before anything is written, even
    when the published folder is named outright (it carries the marker), and a folder inside one is no way round."""
    monkeypatch.setenv(OUTPUT_ROOT_ENV, str(tmp_path / "root"))
    published = {folder: tree(folder) for folder in (REPORTS_DIR, PROCESSED_DIR)}
    mine = str(tmp_path / "mine")
    refused = [
        (["--plan", str(plan), "--data-dir", str(VALID), "--reports-dir", str(REPORTS_DIR)], "--reports-dir"),
        (["--data-dir", str(VALID), "--processed-dir", str(PROCESSED_DIR)], "--processed-dir"),
        (["--reports-dir", mine, "--processed-dir", str(PROCESSED_DIR)], "--processed-dir"),
        (["--reports-dir", str(REPORTS_DIR), "--processed-dir", mine], "--reports-dir"),
        (["--reports-dir", str(REPORTS_DIR / "figures"), "--processed-dir", mine], "--reports-dir"),
    ]
    for options, option in refused:
        assert main(["report", *options, "--only", "04-claims"]) == 1, options
        err = capsys.readouterr().err
        assert f"error: {option} " in err and "part of the published" in err, err
        assert "which only detainers report on the committed plan and data writes" in err
    for folder in (PROCESSED_DIR, REPORTS_DIR):
        assert main(["process", "--data-dir", str(VALID), "--processed-dir", str(folder)]) == 1
        assert f"error: --processed-dir {folder}: part of the published" in capsys.readouterr().err
    export = tmp_path / "export.csv"
    export.write_text("not read: the folder is refused first\n")
    for out, why in (
        (RAW_DIR, "this is the project's own folder raw/"),
        (PROJECT_ROOT, "this is the project's own folder"),
        (REPORTS_DIR, "part of the published reports/"),
        (PROCESSED_DIR / "ice", "part of the published data/processed/"),
    ):
        assert main(["ingest-ice", str(export), "--by", "facility", "--out", str(out), "--force"]) == 1
        assert f"error: --out {out}: {why}" in capsys.readouterr().err
    assert {folder: tree(folder) for folder in published} == published
    assert not (tmp_path / "mine").exists() and not (tmp_path / "root").exists()
    # What: the committed data's table alone would leave the published metrics and pages behind it: refused too,
    # and by default it goes to a folder of its own.
    assert main(["process", "--processed-dir", str(PROCESSED_DIR)]) == 1
    assert f"error: --processed-dir {PROCESSED_DIR}: part of the published" in capsys.readouterr().err
    assert main(["process"]) == 0
    assert {folder: tree(folder) for folder in published} == published
    (own,) = (tmp_path / "root" / "scratch").iterdir()
    assert f"wrote {own / 'processed' / 'detainer_metrics.csv'}" in capsys.readouterr().out


def test_one_output_folder_given_sends_the_other_to_a_folder_of_its_own(tmp_path: Path, monkeypatch) -> None:
    """The committed plan and data with only --reports-dir (or only --processed-dir) elsewhere: the other folder is
    not the published one, whose table would then describe another report; each given folder gets its own."""
    from analysis.cli import _output_folders
    from analysis.paths import RUN_PLAN

    monkeypatch.setenv(OUTPUT_ROOT_ENV, str(tmp_path))
    assert _output_folders(RUN_PLAN, RAW_DIR) == (REPORTS_DIR, PROCESSED_DIR)
    assert _output_folders(RUN_PLAN, RAW_DIR, REPORTS_DIR, PROCESSED_DIR) == (REPORTS_DIR, PROCESSED_DIR)
    one, two = tmp_path / "one", tmp_path / "two"
    reports, processed = _output_folders(RUN_PLAN, RAW_DIR, one)
    assert reports == one and processed.is_relative_to(tmp_path / "scratch") and processed.name == "processed"
    assert _output_folders(RUN_PLAN, RAW_DIR, two)[1] != processed, "each report of its own, its own table"
    reports, processed = _output_folders(RUN_PLAN, RAW_DIR, None, two)
    assert processed == two and reports.is_relative_to(tmp_path / "scratch")


def test_no_way_round_through_a_link_or_a_folder_inside_the_projects_own(
    plan: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A folder of one's own holding a link into reports/ (the run's figures would be written through it); a folder
    inside the project's inputs, tests or code: refused before anything is written."""
    monkeypatch.setenv(OUTPUT_ROOT_ENV, str(tmp_path / "root"))
    published = {folder: tree(folder) for folder in (REPORTS_DIR, PROCESSED_DIR)}
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / OWNED_MARKER).write_text(MARKER_TEXT)
    (mine / "figures").symlink_to(REPORTS_DIR / "figures")
    options = ["--plan", str(plan), "--data-dir", str(VALID), "--processed-dir", str(tmp_path / "p")]
    assert main(["report", *options, "--reports-dir", str(mine)]) == 1
    err = capsys.readouterr().err
    assert f"error: --reports-dir {mine}: holds {mine / 'figures'}, a link into the published reports/" in err
    export = tmp_path / "export.csv"
    export.write_text("not read: the folder is refused first\n")
    for inside, own in ((RAW_DIR / "sub", "raw"), (VALID, "tests"), (PROJECT_ROOT / "src" / "analysis", "src")):
        said = f"lies in the project's own folder {own}/, which no command writes into"
        assert main(["process", "--data-dir", str(VALID), "--processed-dir", str(inside)]) == 1
        assert said in capsys.readouterr().err
        assert main(["ingest-ice", str(export), "--by", "facility", "--out", str(inside), "--force"]) == 1
        assert said in capsys.readouterr().err
    assert {folder: tree(folder) for folder in published} == published
    assert not (RAW_DIR / "sub").exists() and not (tmp_path / "p").exists()
