"""Runs sent to a Dask distributed cluster: the same bytes as the local process pool, and failures kept apart."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from analysis.cli import main
from analysis.paths import NOTEBOOKS_DIR, RAW_DIR

PLAN = """
[[run]]
name = "growth-boston"
notebook = "02-growth.ipynb"
parameters = { agency = "Boston Police Department", reported_by = "Boston Police Department", \
base_period = "2024", compare_period = "2025" }

[[grid]]
name = "denial-{agency}"
notebook = "03-denial-rates.ipynb"
rows = "raw/detainer_requests.csv"
columns = { agency = "agency", reported_by = "reported_by" }
where = { period = ["2017"] }
"""


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local.scheduler_address


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copytree(RAW_DIR, folder / "raw")
    for name in ("02-growth.ipynb", "03-denial-rates.ipynb"):
        shutil.copy(NOTEBOOKS_DIR / name, folder)
    (folder / "runs.toml").write_text(PLAN)
    return folder / "runs.toml"


def report(plan: Path, out: Path, *extra: str) -> int:
    return main(
        ["report", "--plan", str(plan), "--data-dir", str(plan.parent / "raw"), "--reports-dir", str(out / "reports"),
         "--processed-dir", str(out / "processed"), *extra]
    )  # fmt: skip


def test_a_grid_through_the_cluster_gives_the_same_bytes_as_locally(cluster: str, plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"  # what: both modes write to the same folder, which the notebooks record
    assert report(plan, out) == 0
    local = tree(out)
    shutil.rmtree(out)
    assert report(plan, out, "--scheduler", cluster) == 0
    remote = tree(out)
    assert len([name for name in local if name.endswith(".ipynb")]) == 3, "one run and a grid of two"
    assert local == remote


def test_a_failed_task_keeps_its_notebook_and_installs_nothing(
    cluster: str, plan: Path, tmp_path: Path, capsys
) -> None:
    notebook = nbformat.read(plan.parent / "02-growth.ipynb", as_version=4)
    notebook.cells.insert(5, nbformat.v4.new_code_cell('raise RuntimeError("deliberately broken")'))
    nbformat.write(notebook, plan.parent / "02-growth.ipynb")
    assert report(plan, tmp_path / "dask", "--scheduler", cluster) == 1
    err = capsys.readouterr().err
    assert "run growth-boston (02-growth.ipynb) failed in cell" in err and "deliberately broken" in err
    reports = tmp_path / "dask" / "reports"
    assert (reports / "growth-boston.failed.ipynb").is_file() and not (reports / "growth-boston.html").exists()
    assert str(tmp_path) in err, "the failed notebook is named where it is kept here, not on the worker"


def test_an_unreachable_scheduler_is_a_clear_error(plan: Path, tmp_path: Path, capsys) -> None:
    assert report(plan, tmp_path / "none", "--scheduler", "tcp://127.0.0.1:9") == 1
    assert "no Dask scheduler answered" in capsys.readouterr().err
