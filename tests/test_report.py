"""``detainers report``: failure handling, determinism, and the JupyterLab front door."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from analysis.cli import main
from analysis.files import mark_owned
from analysis.paths import KERNEL_FOLDER_PREFIX, NOTEBOOKS_DIR, PROJECT_ROOT
from analysis.pipeline import kernel_files
from conftest import use_temporary_folder
from processes import command_line, descendants, still_running

#: What the command line of a kernel (forked from its template, whose command line it keeps) holds.
KERNEL = b"analysis.pipeline.template"

FAILING_PLAN = """
[[run]]
name = "dies"
notebook = "dies/03-denial-rates.ipynb"

[[run]]
name = "broken"
notebook = "broken/03-denial-rates.ipynb"

[[run]]
name = "kills-its-worker"
notebook = "kills-its-worker/03-denial-rates.ipynb"

[[run]]
name = "stops-its-worker"
notebook = "stops-its-worker/03-denial-rates.ipynb"

[[run]]
name = "denial"
notebook = "03-denial-rates.ipynb"
"""


OLD_RESULT = (
    b'{"headline": "old", "numbers": [{"period": "1999", "requests": 1, "honored": 0, "declined": 1, '
    b'"denial_rate": 1.0, "ci_low": 0.025, "ci_high": 1.0}], "tables": {}, "title": "old"}\n'
)


@pytest.fixture
def failing_plan(tmp_path: Path) -> Path:
    """A plan of five runs: one whose kernel is killed (as by the out-of-memory killer) in its fifth cell, one
    whose fifth cell raises, one that kills its worker process there (the kernel's parent is the template, whose
    parent is the worker), one that ends its worker with SIGTERM (as the pool ends the others), one healthy; those
    that kill leave a mark each time they execute."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "03-denial-rates.ipynb", folder)
    marker, worker_marker = tmp_path / "executions", tmp_path / "worker-executions"
    kill = f"open({str(marker)!r}, 'a').write('x')\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)"

    def end_worker(signum: str) -> str:
        return (
            f"open({str(worker_marker)!r}, 'a').write('{signum[3]}')\nimport os, signal\n"
            "template = open(f'/proc/{os.getppid()}/stat').read()\n"
            f"os.kill(int(template.rsplit(')', 1)[1].split()[1]), signal.{signum})"
        )

    cells = (
        ("broken", 'raise RuntimeError("deliberately broken")'),
        ("dies", kill),
        ("kills-its-worker", end_worker("SIGKILL")),
        ("stops-its-worker", end_worker("SIGTERM")),
    )
    for name, cell in cells:
        notebook = nbformat.read(NOTEBOOKS_DIR / "03-denial-rates.ipynb", as_version=4)
        notebook.cells.insert(4, nbformat.v4.new_code_cell(cell))
        (folder / name).mkdir()
        nbformat.write(notebook, folder / name / "03-denial-rates.ipynb")
    (folder / "runs.toml").write_text(FAILING_PLAN)
    return folder / "runs.toml"


def report(tmp_path: Path, *extra: str) -> int:
    return main(
        ["report", "--reports-dir", str(tmp_path / "reports"), "--processed-dir", str(tmp_path / "processed"), *extra]
    )


def test_failed_runs_fail_alone_and_keep_the_old_outputs(
    failing_plan: Path, tmp_path: Path, capfd, temporary: Path
) -> None:
    reports = tmp_path / "reports"
    old = {
        "broken.ipynb": b"old notebook",
        "broken.html": b"old page",
        "figures/broken/run.json": OLD_RESULT,
    }
    for name, data in old.items():
        (reports / name).parent.mkdir(parents=True, exist_ok=True)
        (reports / name).write_bytes(data)
    mark_owned(reports)  # what: as the report that wrote them left it

    # What: one worker, so the run that raises executes after the dead kernel, on the same worker and template, and
    # the healthy run was queued on the worker that dies after them.
    assert report(tmp_path, "--plan", str(failing_plan), "--jobs", "1") == 1

    captured = capfd.readouterr()  # what: not capsys: what workers, templates and kernels print is read too
    err = captured.err
    assert "dies: FAILED" in captured.out and "broken: FAILED" in captured.out and "denial: done" in captured.out
    (died_line,) = [line for line in captured.out.splitlines() if "dies: FAILED" in line]
    assert "]: failed in cell 6 (`open(" in died_line, "the FAILED line names the cell"
    assert "DeadKernelError: the kernel died (killed by signal 9, SIGKILL) while this cell ran" in died_line
    (broken_line,) = [line for line in captured.out.splitlines() if "broken: FAILED" in line]
    assert "]: failed in cell 6 (`raise RuntimeError(" in broken_line and "deliberately broken" in broken_line
    assert "run broken (03-denial-rates.ipynb) failed in cell 6" in err
    assert "RuntimeError: deliberately broken" in err
    assert "run dies (03-denial-rates.ipynb) failed in cell 6 (`open(" in err
    assert "DeadKernelError: the kernel died (killed by signal 9, SIGKILL) while this cell ran" in err
    assert "Traceback" not in err
    assert (tmp_path / "executions").read_text() == "x", "the run whose kernel died was executed once, not retried"
    (killer_line,) = [line for line in captured.out.splitlines() if "kills-its-worker: FAILED" in line]
    assert killer_line.endswith("]: its worker process died while it ran (killed by signal 9, SIGKILL)")
    (stopper_line,) = [line for line in captured.out.splitlines() if "stops-its-worker: FAILED" in line]
    assert stopper_line.endswith("]: its worker process was stopped (SIGTERM) while it ran"), "alone: not again"
    assert (tmp_path / "worker-executions").read_text() == "KT", "each run that ended its worker executed once"
    assert not (reports / "kills-its-worker.html").exists() and not (reports / "stops-its-worker.html").exists()
    for name, data in old.items():
        assert (reports / name).read_bytes() == data, f"{name} was overwritten"
    failed = nbformat.read(reports / "broken.failed.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in failed.cells for o in c.get("outputs", []))
    died = nbformat.read(reports / "dies.failed.ipynb", as_version=4)
    (cell,) = [c for c in died.cells if c.source.startswith("open(")]
    assert [o.ename for o in cell.outputs if o.output_type == "error"] == ["DeadKernelError"]
    assert (reports / "denial.ipynb").is_file() and (reports / "figures" / "denial" / "03-denial-rates.png").is_file()
    assert not (reports / "dies.html").exists()
    merged = json.loads((tmp_path / "processed" / "metrics.json").read_text())
    assert merged["broken"]["results"][0]["period"] == "1999", "metrics keep the last good results of a failed run"
    assert not list(reports.glob(".staging-*")), "no staging folder is left behind"
    assert (reports / ".build-record" / "denial.json").is_file()
    assert not (reports / ".build-record" / "broken.json").exists(), "a failed run is never recorded as built"
    index = (reports / "index.html").read_text()
    dies = index[index.index("<tr><td>dies</td>") :].split("</tr>")[0]
    assert "failed; no page yet" in dies and "href" not in dies, "a failed run is never linked to pages it lacks"
    broken = index[index.index("<tr><td>old</td>") :].split("</tr>")[0]  # what: titled by its last good run
    assert "failed; the pages are from its last good run" in broken
    assert 'href="broken.html"' in broken and "broken.full.html" not in broken
    assert list(temporary.iterdir()) == [], "no kernel's files are left, not even those of a worker killed outright"


def test_a_killed_worker_is_told_apart_from_a_stopped_one_while_the_pool_collects_it_too() -> None:
    """The pool's own thread collects an ended worker too; the thread that loses that race sees no exit code for a
    moment. A worker killed outright must still read as killed (its run failed: "died"), not as one the pool
    stopped (its run given another pool)."""
    from analysis.pipeline import pool

    class Collected:
        """A worker killed by SIGKILL whose exit code the pool's thread stores on the third look."""

        looks = 0

        @property
        def exitcode(self) -> int | None:
            self.looks += 1
            return -signal.SIGKILL if self.looks >= 3 else None

    assert pool._exit_code(Collected()) == -signal.SIGKILL  # type: ignore[arg-type]


def test_unknown_run_lists_the_runs(tmp_path: Path, capsys) -> None:
    assert report(tmp_path, "--only", "nope") == 2, "a usage error"
    assert "parameter --only: 'nope' is not one of the runs in the plan; valid choices: '01-data-overview'" in (
        capsys.readouterr().err
    )


def test_bad_jobs_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        report(tmp_path, "--jobs", "0")
    assert caught.value.code == 2


def test_invalid_data_writes_nothing(swap_in, tmp_path: Path, capsys) -> None:
    data_dir = swap_in("detainer_requests.csv", "invalid/requests_negative.csv")
    assert report(tmp_path, "--data-dir", str(data_dir), "--only", "03-denial-rates-nypd") == 1
    assert "must not be negative" in capsys.readouterr().err
    assert not (tmp_path / "processed").exists() and not (tmp_path / "reports").exists()


def test_a_report_killed_as_it_marks_its_folder_leaves_a_folder_the_next_report_takes(
    swap_in, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """``kill -9`` as a report marks its folder leaves the marker, perhaps short, never a temporary file (the next
    report refused the folder as holding a file it did not write)."""
    from analysis import files

    monkeypatch.setattr(files, "write_atomic", None)  # what: the marker is not written through a temporary file
    files.mark_owned(tmp_path / "marked")
    assert [p.name for p in (tmp_path / "marked").iterdir()] == [files.OWNED_MARKER]
    monkeypatch.undo()
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / files.OWNED_MARKER).write_bytes(b"")  # what: as a write cut short by a kill leaves it
    data_dir = swap_in("detainer_requests.csv", "invalid/requests_negative.csv")
    assert report(tmp_path, "--data-dir", str(data_dir), "--only", "03-denial-rates-nypd") == 1
    err = capsys.readouterr().err
    assert "must not be negative" in err and "did not write" not in err, "the folder is taken; the data are checked"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_lab_serves_the_notebooks_on_loopback() -> None:
    port, token = _free_port(), "detainers-test-token"
    flags = f"--port={port} --IdentityProvider.token={token} --ServerApp.open_browser=False"
    server = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_FLAGS={flags}"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api"
    headers = {"Authorization": f"token {token}"}
    try:
        deadline, listing = time.monotonic() + 90, None
        while listing is None:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(f"{base}/contents/notebooks", headers=headers), timeout=5
                ) as answer:
                    listing = json.load(answer)
            except OSError:
                assert server.poll() is None, "make lab exited early"
                assert time.monotonic() < deadline, "JupyterLab did not answer in 90 s"
                time.sleep(0.5)
        names = {item["name"] for item in listing["content"]}
        assert {"01-data-overview.ipynb", "02-growth.ipynb", "03-denial-rates.ipynb"} <= names
        with urllib.request.urlopen(urllib.request.Request(f"{base}/kernelspecs", headers=headers)) as answer:
            assert "python3" in json.load(answer)["kernelspecs"]
        shutdown = urllib.request.Request(f"{base}/shutdown", method="POST", headers=headers)
        urllib.request.urlopen(shutdown, timeout=10).close()
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads the process tree from /proc (Linux)")
@pytest.mark.parametrize(
    ("signum", "status", "said", "depth"),
    [
        (signal.SIGINT, 130, "interrupted", 1),
        (signal.SIGTERM, 143, "terminated", 1),
        (signal.SIGKILL, -9, "", 1),
        (signal.SIGINT, 130, "interrupted", 3),
        (signal.SIGKILL, -9, "", 3),
    ],
    ids=["ctrl-c-at-submission", "sigterm-at-submission", "kill-9-at-submission", "ctrl-c-in-a-run", "kill-9-in-a-run"],
)
def test_a_signal_ends_every_process_of_the_batch(
    tmp_path: Path, temporary: Path, signum: int, status: int, said: str, depth: int
) -> None:
    """The signal arrives as the first worker starts (depth 1), or once a kernel runs (depth 3: runner, worker,
    template, kernel): every process of the batch ends, nothing half-written is left, no kernel's sockets or
    connection file stay in the temporary folder, and the next report clears what a killed one left."""
    command = [
        str(Path(sys.executable).with_name("detainers")),
        "report",
        "--reports-dir",
        str(tmp_path / "reports"),
        "--processed-dir",
        str(tmp_path / "processed"),
        "--only",
        "02-growth-boston",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[tuple[int, int], int] = {}
    deadline, reached = time.monotonic() + 120, False
    while not reached and time.monotonic() < deadline and process.poll() is None:
        now = descendants(process.pid)
        seen |= now
        # What: at depth 3 a kernel, which keeps its template's command line; not a child the template starts as it
        # imports (a library runs `uname -p`), which under load came first.
        reached = any(d >= depth and (depth == 1 or KERNEL in command_line(p)) for p, d in now.items())
        time.sleep(0.01)  # what: not a busy loop, which would take a core from the report it watches
    assert reached, "the report never got that far"
    os.kill(process.pid, signum)
    while process.poll() is None:
        seen |= descendants(process.pid)
        time.sleep(0.01)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status and said in err, (process.returncode, err[-2000:])
    # What: a runner killed outright prints nothing; a worker it was starting that moment may print multiprocessing's
    # own dying words (its parent's pipe ended), which no code of the package can hold back.
    assert signum == signal.SIGKILL or "Traceback" not in err
    assert still_running(seen) == [], "a process of the batch outlived it"
    left = list(temporary.glob(KERNEL_FOLDER_PREFIX + "*"))
    # What: a kernel interrupted as it started can make its folder again after the batch swept it, for its
    # connection file (ipykernel makes a missing folder): such a folder has no lock file, and a later sweep takes it
    # once it is a minute old (test_kernels). Nothing else is left.
    remade = [folder for folder in left if not (folder / kernel_files.LOCK).exists()]
    assert left == remade or (signum == signal.SIGKILL and depth == 3), "Ctrl-C leaves no kernel's files"
    if signum == signal.SIGKILL:  # what: nothing could clean up; the next report does, even one that fails at once
        invalid = tmp_path / "invalid"
        shutil.copytree(Path(__file__).parent / "fixtures" / "valid", invalid)
        shutil.copyfile(Path(__file__).parent / "fixtures" / "invalid" / "requests_negative.csv",
                        invalid / "detainer_requests.csv")  # fmt: skip
        assert report(tmp_path, "--data-dir", str(invalid), "--only", "02-growth-boston") == 1
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".staging-") or p.suffix == ".tmp"]
    assert leftovers == [] and sorted(temporary.iterdir()) == sorted(remade)


def test_a_temporary_folder_too_deep_for_kernels_sockets_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """ZeroMQ refuses a socket name longer than the system allows: said before anything runs, not once per run."""
    deep = tmp_path / ("d" * 80)
    deep.mkdir()
    use_temporary_folder(monkeypatch, deep)
    assert report(tmp_path, "--only", "02-growth-boston") == 1
    err = capsys.readouterr().err
    assert f"error: the temporary folder {str(deep)!r} is too deep for a kernel's IPC sockets" in err
    most = kernel_files.SOCKET_NAME_BYTES - kernel_files.ADDED  # what: 71 on Linux
    assert f"set TMPDIR to a folder whose path is at most {most} bytes long" in err and "Traceback" not in err
    assert list(deep.iterdir()) == [] and not list(tmp_path.rglob("*.ipynb"))


def test_make_reproduce_names_an_output_edited_by_hand(tmp_path: Path) -> None:
    """The whole report reproducing is test_reproduce's; here, that ``make reproduce`` says which output differs."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
    # What: run the clone's own code in this environment, so nothing is installed again.
    env = {**os.environ, "PYTHONPATH": str(clone / "src"), "VENV": str(Path(sys.executable).parents[1])}
    edited = clone / "reports" / "figures" / "04-claims" / "run.json"
    edited.write_text(edited.read_text().replace('"supported"', '"contradicted"', 1))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "commit", "--quiet", "-am", "edit an output by hand"], cwd=clone, check=True)
    # -o: take this environment as installed, so make never reinstalls it from the clone; ONLY: one run, not seven.
    failed = subprocess.run(
        ["make", "-s", "-o", f"{env['VENV']}/.installed", "reproduce", f"VENV={env['VENV']}", "ONLY=04-claims"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert failed.returncode != 0
    assert "these outputs differ from the committed ones:" in failed.stdout
    assert "reports/figures/04-claims/run.json" in failed.stdout, "the run executed again is not the edited file"
    assert "04-claims.html" not in failed.stdout, "what the run wrote as before is not listed"


def test_a_failed_run_shows_the_parameters_of_its_numbers_and_its_failure_clears_once_the_plan_is_put_back(
    tmp_path: Path, capsys
) -> None:
    """A run re-executed with a parameter that fails keeps its last good numbers: the index and the merged metrics
    show them with the parameters they came from, not the plan's new ones. With the plan put back, the run is up to
    date: nothing executes, its failed notebook is removed and every aggregate file is again byte for byte as the
    good run left it."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "03-denial-rates.ipynb", folder)
    plan = folder / "runs.toml"
    good = '[[run]]\nname = "denial"\nnotebook = "03-denial-rates.ipynb"\n'
    good += 'parameters = { agency = "%s", reported_by = "%s" }\n'
    nypd = "New York City Police Department"
    plan.write_text(good % (nypd, nypd))
    index, metrics = tmp_path / "reports" / "index.html", tmp_path / "processed" / "metrics.json"
    assert report(tmp_path, "--plan", str(plan), "--jobs", "1") == 0
    published = {path: path.read_bytes() for path in (index, metrics)}

    plan.write_text(good % ("No Such Agency", nypd))
    assert report(tmp_path, "--plan", str(plan), "--jobs", "1") == 1
    assert (tmp_path / "reports" / "denial.failed.ipynb").is_file()
    shown = json.loads(metrics.read_text())["denial"]
    assert shown["parameters"] == {"agency": nypd, "reported_by": nypd}, "the numbers' own parameters"
    page = index.read_text()
    assert "No Such Agency" not in page and f"<td>{nypd}</td><td>03-denial-rates.ipynb</td>" in page
    assert "failed; the pages are from its last good run" in page

    plan.write_text(good % (nypd, nypd))
    capsys.readouterr()
    assert report(tmp_path, "--plan", str(plan), "--jobs", "1") == 0
    out = capsys.readouterr().out
    assert "denial: skipped (unchanged since its last run)" in out and "executing" not in out
    assert "denial: its outputs are up to date, so the notebook of an earlier failed execution is removed" in out
    assert not (tmp_path / "reports" / "denial.failed.ipynb").exists()
    assert {path: path.read_bytes() for path in (index, metrics)} == published
    assert report(tmp_path, "--plan", str(plan), "--jobs", "1") == 0
    assert "nothing to do" in capsys.readouterr().out
