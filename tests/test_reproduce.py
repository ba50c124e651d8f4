"""The report rebuilt: from scratch once per test session, under a reader's own settings, it is the committed
bytes; a rerun with nothing changed does nothing, and a run forced again on a Dask cluster writes the same bytes; the
cluster keeps a failed task apart, and a scheduler that does not answer is a clear error; one count changed in the
copy, ``detainers changes`` lists exactly the published numbers that depend on it. (One file, so that one test
process builds the report and starts the cluster once.)"""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import nbformat
import pytest

from analysis.cli import main
from analysis.paths import NOTEBOOKS_DIR, PROCESSED_DIR, RAW_DIR, REPORTS_DIR
from analysis.pipeline.cluster import check_address
from conftest import git, in_copy, tree


def test_the_committed_report_reproduces_byte_for_byte(reproduced: Path) -> None:
    """Rebuilt under a reader's own matplotlibrc, locale and time zone (see ``reproduced``): not a byte differs."""
    rebuilt = tree(reproduced / "reports")
    assert sorted(rebuilt) == sorted(tree(REPORTS_DIR)), "the same files, none missing, none extra"
    changed = [name for name, data in tree(REPORTS_DIR).items() if rebuilt[name] != data]
    assert changed == [], "run `make report` and commit"
    assert tree(reproduced / "data" / "processed") == tree(PROCESSED_DIR)
    merged = json.loads((reproduced / "data" / "processed" / "metrics.json").read_text())
    assert merged["02-growth-boston"]["results"]["pct_change"] == 280.0
    assert merged["02-growth-nypd"]["parameters"]["base_period"] == "2016"


def test_a_rerun_with_nothing_changed_executes_nothing(reproduced: Path) -> None:
    done = in_copy(reproduced, "report")
    assert "nothing to do: every output is up to date" in done.stdout
    assert "01-data-overview: skipped (unchanged since its last run)" in done.stdout


def test_one_run_executed_again_on_a_cluster_writes_the_same_bytes(cluster: str, reproduced: Path) -> None:
    """The session's rebuilt copy of the project, one run forced again on a Dask cluster: not a byte changes."""
    done = in_copy(reproduced, "report", "--force", "--scheduler", cluster, "--only", "03-denial-rates-nypd")
    assert "03-denial-rates-nypd: re-running (forced)" in done.stdout
    assert f"executing 1 notebook run(s) on the Dask cluster at {cluster}" in done.stdout
    assert "report complete: 1 run(s) executed" in done.stdout
    assert "03-denial-rates-boston" not in done.stdout, "no other run is looked at"
    assert tree(reproduced / "reports") == tree(REPORTS_DIR)
    assert tree(reproduced / "data" / "processed") == tree(PROCESSED_DIR)


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
where = { period = ["2017"], agency = ["New York City Police Department"] }
"""


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
    assert report(plan, tmp_path / "none", "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.5") == 1
    assert "no Dask scheduler answered" in capsys.readouterr().err


def test_a_server_that_accepts_and_never_answers_is_a_clear_error_in_time(plan: Path, tmp_path: Path, capsys) -> None:
    """A port that accepts connections and says nothing (a wrong service, a hung scheduler): the connect timeout
    bounds the whole handshake, and nothing is written."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.listen()
        port = server.getsockname()[1]
        start = time.monotonic()
        status = report(plan, tmp_path / "silent", "--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "1")
        assert status == 1 and time.monotonic() - start < 30
    assert "no Dask scheduler answered (nothing answered within 1 s)" in capsys.readouterr().err
    assert not (tmp_path / "silent").exists()


@pytest.mark.parametrize(
    "address",
    [
        *("foo", "tcp://", "http://127.0.0.1:1", "tcp://[::1", "tcp://127.0.0.1:99999", "TCP://127.0.0.1:1"),
        *(" tcp://127.0.0.1:1", "tcp://127.0.0.1:1?x=1", "tcp://127.0.0.1:1#part", "tcp://user@127.0.0.1:1"),
        "tcp://\u202eevil:1",
    ],
)
def test_a_scheduler_address_is_checked_before_anything_starts(tmp_path: Path, capsys, address: str) -> None:
    status = main(
        ["report", "--scheduler", address, "--reports-dir", str(tmp_path / "r"), "--processed-dir", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert status == 2 and f"--scheduler {address!r}: not a Dask scheduler address; write it as tcp://HOST:PORT" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("host", ["a..b", "-x", "x-", "999.1.1.1", "1.2.3", "a" * 64, "x.."])
def test_a_scheduler_host_is_an_ip_address_or_a_host_name(tmp_path: Path, capsys, host: str) -> None:
    address = f"tcp://{host}:8786"
    status = main(
        ["report", "--scheduler", address, "--reports-dir", str(tmp_path / "r"), "--processed-dir", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert status == 2 and f"--scheduler {address!r}: {host!r} is neither an IP address nor a host name" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("address", ["tcp://[::1]:1", "tcp://my_scheduler.cluster.local.:1", "ws://x:1"])
def test_a_scheduler_host_written_as_dask_takes_it_passes_the_check(address: str) -> None:
    check_address(address)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("tls://127.0.0.1:9", "TLS expects a `ssl_context` argument"),  # what: no TLS configured for Dask
    ],
)
def test_an_address_dask_cannot_connect_to_is_a_clear_error(
    plan: Path, tmp_path: Path, capsys, address: str, why: str
) -> None:
    assert report(plan, tmp_path / "out", "--scheduler", address, "--connect-timeout", "1") == 1
    err = capsys.readouterr().err
    assert f"--scheduler {address}: no Dask scheduler answered (" in err and why in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_worker_with_several_threads_executes_one_run_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """Dask starts workers with several threads by default; papermill changes the whole process's working folder,
    so two runs on one worker must not overlap (they did: a run's folder vanished under the other)."""
    import threading

    from analysis.paths import ReportPaths
    from analysis.pipeline import cluster, execute
    from analysis.pipeline.jobs import Outcome, make_job
    from analysis.pipeline.runplan import read_plan

    running, most, lock = [], [], threading.Lock()

    def one_run(job):  # what: stands for papermill: in the run's folder for a while
        with lock:
            running.append(job.run.name)
            most.append(len(running))
        time.sleep(0.2)
        with lock:
            running.remove(job.run.name)
        return Outcome(job.run.name, True, 0.2)

    monkeypatch.setattr(execute, "execute", one_run)
    folders = ReportPaths(data_dir=RAW_DIR, reports_dir=tmp_path / "r", processed_dir=tmp_path / "p")
    runs = read_plan(folders.plan)[:2]
    packed = [cluster.pack(make_job(run, folders, tmp_path / "staging"), RAW_DIR) for run in runs]
    threads = [threading.Thread(target=cluster.execute_packed, args=(one,)) for one in packed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(most) == 2 and max(most) == 1


BOSTON_2025 = 'Boston Police Department,"Boston, MA",Boston Police Department,detainer,2025,2025-01-01,2025-12-31,'
METRICS_ROW = "detainer_metrics/Boston Police Department/Boston Police Department/detainer/2025"
#: What one more request to Boston in 2025 moves in the runs asked for, and nothing else: the growth to 2025, the
#: 2025 rate, its row of the metrics table (whose other rows are written again and move nothing).
EXPECTED = {
    *(f"02-growth-boston.{key}" for key in ("compare_requests", "abs_change", "pct_change", "fold", "p_value")),
    "02-growth-boston.rate_ratio_ci_low",
    "02-growth-boston.rate_ratio_ci_high",
    *(f"03-denial-rates-boston.detainer/2025.{key}" for key in ("requests", "denial_rate", "ci_low", "ci_high")),
    *(
        f"{METRICS_ROW}.{key}"
        for key in ("requests", "denial_rate", "denial_ci_low", "denial_ci_high", "change_from_previous")
    ),
    f"{METRICS_ROW}.pct_change_from_previous",
}


def test_one_changed_count_lists_exactly_the_numbers_that_depend_on_it(reproduced: Path) -> None:
    """Last in this file: it changes the session's copy. The rebuilt copy committed as published, one more
    request to Boston in 2025, three runs asked for (New York's is skipped: its data did not change):
    ``detainers changes`` lists what moved, by stable id."""
    git(reproduced, "init", "--quiet")
    git(reproduced, "add", "--all")
    git(reproduced, "commit", "--quiet", "-m", "the report as published")
    assert in_copy(reproduced, "changes").stdout == "no published number changed since HEAD\n"
    table = reproduced / "data" / "raw" / "detainer_requests.csv"
    text = table.read_text()
    assert text.count(BOSTON_2025 + "57,") == 1
    table.write_text(text.replace(BOSTON_2025 + "57,", BOSTON_2025 + "58,"))
    runs = ("02-growth-boston", "03-denial-rates-boston", "02-growth-nypd")
    done = in_copy(reproduced, "report", "--jobs", "1", *(f"--only={run}" for run in runs))
    assert "02-growth-nypd: skipped (unchanged since its last run)" in done.stdout, "its agency's data did not change"
    assert "report complete: 2 run(s) executed" in done.stdout
    said = in_copy(reproduced, "changes").stdout.splitlines()
    assert said[0] == (
        f"{len(EXPECTED)} published number(s) changed since HEAD; input files changed: data/raw/detainer_requests.csv"
    )
    listed = {line.strip().split(": ")[0]: line.split(": ", 1)[1] for line in said[1:]}
    assert set(listed) == EXPECTED
    assert listed["02-growth-boston.compare_requests"] == "57 -> 58"
    assert listed[f"{METRICS_ROW}.requests"] == "57 -> 58"
    assert listed["03-denial-rates-boston.detainer/2025.denial_rate"].startswith("1.0 -> 0.98")
