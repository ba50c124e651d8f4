"""Shared fixtures: a copy of the small made-up dataset, and a copy of the project whose report was rebuilt."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from jupyter_client.provisioning import KernelProvisionerFactory

from analysis.paths import PROJECT_ROOT, RUN_DESCRIPTION
from analysis.pipeline.provisioner import PROVISIONER

# What: collecting imports every test module and what it imports (pandas, matplotlib, scipy, the package) and
# rewrites their asserts: millions of objects, few cycles. The cycle collector stays off until the suite is collected
# (it took a third of each test process's collection), then what collection made is frozen out of it, so no later
# collection walks it again.
gc.disable()

#: `make test` explores the same examples every time (derandomize) with no per-example time limit, so a run
#: never fails by chance; `make fuzz` sets HYPOTHESIS_PROFILE=fuzz: new random inputs, many more of them.
settings.register_profile("default", deadline=None, derandomize=True)
settings.register_profile("fuzz", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FIXTURES = Path(__file__).parent / "fixtures"


#: Files whose tests take longest, longest first (as measured in `make test`), started first so that the test
#: processes finish together; `make test` keeps this order (xdist's --no-loadscope-reorder).
LONGEST_FIRST = (
    "test_reproduce.py",
    "test_report.py",
    "test_hostile_report.py",
    "test_fuzz.py",
    "test_ice.py",
    "test_browser.py",
    "test_kernels.py",
    "test_notebooks.py",
)


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[object]:
    """Turn the cycle collector back on once the suite is collected (see :func:`gc.disable` above), with what
    collection left alive frozen out of it."""
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the session's files longest first (a stable sort: within a file, tests keep their order)."""
    items.sort(key=lambda item: LONGEST_FIRST.index(item.path.name) if item.path.name in LONGEST_FIRST else 99)


def pytest_configure(config: pytest.Config) -> None:
    """Kernels that name no provisioner (nbval's, when it re-executes the committed reports) start through the
    package's own, as the report's kernels do: forked from a template, with the package's hash seed.

    pandas' PerformanceWarning fails the test that gives it (a filter resolved as each test runs, so a process
    that runs none, xdist's controller, never imports pandas for it)."""
    KernelProvisionerFactory.instance().default_provisioner_name = PROVISIONER
    config.addinivalue_line("filterwarnings", "error::pandas.errors.PerformanceWarning")


def numbers(output_dir: Path) -> Any:
    """The numbers a run wrote into ``output_dir`` (its description's ``numbers``)."""
    return json.loads((output_dir / RUN_DESCRIPTION).read_text())["numbers"]


VALID = FIXTURES / "valid"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A writable copy of ``tests/fixtures/valid``."""
    target = tmp_path / "raw"
    shutil.copytree(VALID, target)
    return target


@pytest.fixture
def swap_in(data_dir: Path) -> Callable[[str, str], Path]:
    """Replace one table of ``data_dir`` by a fixture file; returns the data dir."""

    def swap(table: str, fixture: str) -> Path:
        shutil.copyfile(FIXTURES / fixture, data_dir / table)
        return data_dir

    return swap


@pytest.fixture
def temporary(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new, empty temporary folder for the test's reports, their workers, templates and kernels (``$TMPDIR``, and
    ``tempfile``'s folder in this process), so what they leave there can be seen. Made in the system's temporary
    folder, whose path is short enough for kernels' IPC sockets (a test's ``tmp_path`` is not)."""
    folder = Path(tempfile.mkdtemp(prefix="t-"))
    use_temporary_folder(monkeypatch, folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def use_temporary_folder(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` the temporary folder of this process (``tempfile``'s) and of the processes it starts
    (``$TMPDIR``), until the test ends."""
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


#: What a copy of the project needs to rebuild its report: the package, the notebooks and the plan, the data, the lock.
PROJECT_PARTS = ("src", "notebooks", "data/raw", "requirements.lock", "pyproject.toml", "Makefile", "CITATION.cff")
#: Files in reports/ that the report does not write.
NOT_BUILT = (".build-record", ".gitkeep", "screenshots")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, keyed by its path inside it (the build record left out)."""
    files = (p for p in sorted(folder.rglob("*")) if p.is_file())
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in files if p.relative_to(folder).parts[0] not in NOT_BUILT
    }


def in_copy(
    copy: Path, *argv: str, check: bool = True, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``detainers ARGV`` on the copy of the project (its own package, so its paths are the copy's)."""
    env = {**os.environ, **(environment or {}), "PYTHONPATH": str(copy / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "analysis", *argv], cwd=copy, env=env, capture_output=True, text=True, timeout=600
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def git(folder: Path, *argv: str) -> None:
    """Run ``git ARGV`` in ``folder`` as a test author (no user configuration needed)."""
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *argv],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def copy_project(copy: Path) -> Path:
    """Copy into ``copy`` what the project needs to rebuild its report (:data:`PROJECT_PARTS`); returns it."""
    for part in PROJECT_PARTS:
        source, target = PROJECT_ROOT / part, copy / part
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return copy


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project whose whole report was executed again from scratch, once per test session, under a
    reader's own matplotlibrc, locale and time zone.

    Only ``test_reproduce.py`` uses it: xdist runs a file's tests in one process (``--dist loadfile``), so the
    session builds it once.
    """
    copy = copy_project(tmp_path_factory.mktemp("project"))
    # What: as a reader's machine might be set: a personal matplotlibrc (text as SVG text, transparent figures, big
    # fonts, another colour cycle), another locale and time zone; none of it may change a byte.
    config = copy / "mplconfig"
    config.mkdir()
    (config / "matplotlibrc").write_text(
        "svg.fonttype: none\nsavefig.transparent: True\nfont.size: 20\naxes.prop_cycle: cycler('color', ['r'])\n"
    )
    environment = {"MPLCONFIGDIR": str(config), "LC_ALL": "C", "LANG": "C", "TZ": "Pacific/Chatham"}
    # What: one worker, so one template: the session's other test processes have the machine's other core.
    in_copy(copy, "report", "--force", "--jobs", "1", environment=environment)
    return copy


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The address of a Dask ``LocalCluster`` of one worker process on loopback."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as local:
        yield local.scheduler_address
