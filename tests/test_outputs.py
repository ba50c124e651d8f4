"""Output folders are owned: the report and the processed tables go only where the package may write, and a plan
or data folder other than the committed ones never writes into the published reports/ and data/processed/."""

from __future__ import annotations

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
