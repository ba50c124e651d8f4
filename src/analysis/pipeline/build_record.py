"""Deciding which runs of the report must execute, from a record of what was built from what.

A run is skipped when everything it is built from is as it was at its last
successful execution: the notebook, the run's parameters, every data file, the
package's own source and the locked dependency versions; and when its outputs
are still the files that execution wrote. The record lives in ``.build-record/`` of
the reports folder (ignored by git), so a fresh clone executes everything.

This module uses only the standard library: deciding that there is nothing to
do must not cost the import of pandas, scipy or papermill.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import analysis
from analysis import paths as layout
from analysis.errors import ParameterError, UsageError
from analysis.files import digest, file_digest, files_digest, named_files_digest, write_text_atomic
from analysis.params import choose
from analysis.paths import ReportPaths
from analysis.pipeline.runplan import Run, read_plan

#: Name of the record of the outputs built from all runs together.
AGGREGATE = "_aggregate"
#: What each input component is called in messages.
COMPONENTS = {
    "notebook": "the notebook changed",
    "parameters": "its parameters changed",
    "data": "a data file changed",
    "package": "the package's source changed",
    "dependencies": "the locked dependencies changed",
    "plan": "the run plan changed",
    "runs": "a run's outputs changed",
    "requires": "a file it requires changed",
}


#: The package's own source, and the lock file of its dependencies.
PACKAGE_DIR: Path = Path(analysis.__file__).parent
LOCK_FILE: Path = layout.PROJECT_ROOT / "requirements.lock"


def shared_inputs(paths: ReportPaths) -> dict[str, str]:
    """Inputs every run depends on: the data files, the package's source, the locked dependencies, the citation."""
    names = (layout.REQUESTS_FILE, layout.SOURCES_FILE, layout.CLAIMS_FILE, layout.CORRECTIONS_FILE)
    data = [paths.data_dir / name for name in names]
    package = PACKAGE_DIR
    source = [p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    lock = LOCK_FILE
    versions = (lock.read_bytes() if lock.is_file() else b"") + sys.version.encode()
    # What: every run's page says how to cite the report, from CITATION.cff.
    citation = layout.CITATION_FILE.read_bytes() if layout.CITATION_FILE.is_file() else b""
    return {
        "data": files_digest(data, paths.data_dir),
        "package": files_digest(source, package),
        "dependencies": digest(versions),
        "citation": digest(citation),
    }


#: Prefix of the shared inputs that hold one agency's counts (a run with an ``agency`` parameter reads only them).
AGENCY_DATA = "data of "


def agency_inputs(paths: ReportPaths) -> dict[str, str]:
    """A digest of each agency's rows of the requests table, with the table's header and the sources, claims and
    corrections tables.

    A run about one agency depends on these only, so adding or changing another
    agency's counts does not execute it again. The header is part of every
    agency's digest: a renamed, swapped or reordered column changes what every
    row means, so every run executes again. Read with the standard library.
    """
    folder = paths.data_dir
    # What: every run's page lists the corrections of its numbers, so the ledger is every run's input too.
    others = files_digest(
        [folder / name for name in (layout.SOURCES_FILE, layout.CLAIMS_FILE, layout.CORRECTIONS_FILE)], folder
    )
    requests = folder / layout.REQUESTS_FILE
    if not requests.is_file():
        return {}
    rows: dict[str, list[str]] = {}
    try:
        with requests.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream)
            header = next(reader, [])
            names = [name.strip() for name in header]
            if "agency" not in names:
                return {}  # what: no agency column: every run falls back to the whole data's digest
            column = names.index("agency")
            for row in reader:
                if row:
                    agency = row[column].strip() if column < len(row) else ""
                    rows.setdefault(agency, []).append("\x1f".join(row))
    except (UnicodeDecodeError, csv.Error):
        return {}  # what: an unreadable table: every run falls back to the whole data's digest
    meaning = "\x1f".join(header)
    return {
        AGENCY_DATA + agency: digest(("\x1d".join([meaning, *sorted(lines)]) + others).encode())
        for agency, lines in rows.items()
    }


@dataclass
class _Known:
    """What every run of one plan shares, worked out once: the data folder and the figures folder as parameters,
    and each notebook's digest."""

    data_dir: str
    figures: str
    notebooks: dict[Path, str] = field(default_factory=dict)

    @classmethod
    def of(cls, paths: ReportPaths) -> _Known:
        return cls(layout.as_parameter(paths.data_dir), layout.as_parameter(paths.reports_dir / layout.FIGURES_FOLDER))

    def notebook(self, path: Path) -> str:
        if path not in self.notebooks:
            self.notebooks[path] = digest(path.read_bytes())
        return self.notebooks[path]


def run_inputs(
    run: Run,
    paths: ReportPaths,
    shared: Mapping[str, str],
    agencies: Mapping[str, str] | None = None,
    known: _Known | None = None,
) -> dict[str, str]:
    """Everything one run is built from, as digests (a run about one agency: only that agency's data).

    ``known`` carries what the plan's runs share, so a plan of many runs works it out once.
    """
    known = known or _Known.of(paths)
    parameters = {
        **run.parameters,
        "data_dir": known.data_dir,
        "output_dir": f"{known.figures}/{run.name}",  # what: as as_parameter gives it: run names are plain
    }
    required = "".join(
        files_digest([p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()], p.parent) for p in run.requires
    )
    inputs = dict(shared)
    agency = run.parameters.get("agency")
    if isinstance(agency, str) and agencies and AGENCY_DATA + agency in agencies:
        inputs["data"] = agencies[AGENCY_DATA + agency]
    return {
        "notebook": known.notebook(run.notebook),
        "parameters": digest(json.dumps(parameters, sort_keys=True, default=str).encode()),
        **({"requires": digest(required.encode())} if run.requires else {}),
        **inputs,
    }


def outputs_digests(files: Sequence[Path]) -> dict[str, str]:
    """Digest of each existing file, keyed by its path as a parameter (relative to the project when inside it).

    Each file is read a block at a time: the merged metrics and the landing page of a big grid run to tens of MB.
    """
    return {layout.as_parameter(p): file_digest(p) for p in files if p.is_file()}


@dataclass
class BuildRecord:
    """The record of successful builds in one reports folder."""

    reports_dir: Path
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = self.reports_dir / layout.BUILD_RECORD_FOLDER

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def read(self, name: str) -> dict[str, dict[str, str]] | None:
        try:
            return json.loads(self._path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write(self, name: str, inputs: Mapping[str, str], outputs: Mapping[str, str]) -> None:
        entry = {"inputs": dict(inputs), "outputs": dict(outputs)}
        write_text_atomic(self._path(name), json.dumps(entry, indent=1, sort_keys=True) + "\n")

    def stale(self, name: str, inputs: Mapping[str, str], files: Sequence[Path]) -> str | None:
        """Why ``name`` must be built again, or ``None`` when what it was built from and its outputs are unchanged."""
        entry = self.read(name)
        if entry is None:
            return "no record of a successful run here"
        changed = [
            COMPONENTS.get(key, key)
            for key in sorted(set(inputs) | set(entry["inputs"]))
            if inputs.get(key) != entry["inputs"].get(key)
        ]
        if changed:
            return "; ".join(changed)
        recorded, current = entry["outputs"], outputs_digests(files)
        for name_ in sorted(set(recorded) | set(current)):
            if name_ not in current:
                return f"output {name_} was deleted"
            if recorded.get(name_) != current[name_]:
                return f"output {name_} was changed by hand" if name_ in recorded else f"output {name_} is unexpected"
        return None


@dataclass(frozen=True)
class Work:
    """What a report invocation has to do."""

    runs: list[Run]
    selected: list[Run]
    reasons: dict[str, str]
    inputs: dict[str, dict[str, str]]
    aggregate_reason: str | None
    #: Runs of the plan left out because something they require is not there, with how to enable them.
    unavailable: dict[str, str] = field(default_factory=dict)
    #: Selected runs whose outputs are up to date while a failed notebook of theirs is kept (from an execution on
    #: other inputs, or forced): the failure no longer describes what is published, so it is cleared.
    cleared: list[str] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        return not self.reasons and self.aggregate_reason is None


def _run_output_names(paths: ReportPaths, runs: Sequence[Run]) -> Iterator[str]:
    """The names (relative to the reports folder) of every file the runs write (:meth:`ReportPaths.run_outputs`),
    in the order of their paths, one at a time: a plan of 100,000 runs never lists its 700,000 files at once.

    Paths order by their parts: the pages (one part) that sort before the figures folder, then the figures
    folder's files by run and file name, then the other pages.
    """
    pages = sorted(paths.page(run.name, suffix).name for run in runs for suffix in layout.RUN_FILE_SUFFIXES)
    folder = layout.FIGURES_FOLDER
    yield from (page for page in pages if page < folder)
    for name in sorted(run.name for run in runs):
        figures = paths.figures(name)
        if figures.is_dir():
            yield from (f"{folder}/{name}/{p.name}" for p in sorted(figures.iterdir()) if p.is_file())
    yield from (page for page in pages if page > folder)


def aggregate_inputs(paths: ReportPaths, runs: Sequence[Run], shared: Mapping[str, str]) -> dict[str, str]:
    """Everything the merged metrics, the processed table and the index page are built from (the index says which
    runs failed: their failed notebooks count too)."""
    failed = [run.name for run in runs if paths.failed(run.name).is_file()]
    return {
        **shared,
        "plan": digest(paths.plan.read_bytes()),
        "runs": named_files_digest(_run_output_names(paths, runs), paths.reports_dir),
        "failed runs": digest("\n".join(sorted(failed)).encode()),
    }


def plan_work(paths: ReportPaths, runs: Sequence[Run], only: Sequence[str] | None, force: bool) -> Work:
    """Decide which of ``runs`` (those named in ``only``, where given) must execute (all of them when ``force``)
    and why."""
    record = BuildRecord(paths.reports_dir)
    shared, agencies = shared_inputs(paths), agency_inputs(paths)
    unavailable = {run.name: run.how_to_enable for run in runs if not run.available}
    runs = [run for run in runs if run.available]
    selected = [run for run in runs if only is None or run.name in only]
    inputs, reasons, known = {}, {}, _Known.of(paths)
    cleared = []
    for run in selected:
        inputs[run.name] = run_inputs(run, paths, shared, agencies, known)
        why = "forced" if force else record.stale(run.name, inputs[run.name], paths.run_outputs(run.name))
        if why is not None:
            reasons[run.name] = why
        elif paths.failed(run.name).is_file():
            cleared.append(run.name)
    if force or reasons:
        aggregate: str | None = "forced" if force else "a run is re-executed"
    elif cleared:
        aggregate = "a run's failure is cleared"
    else:
        aggregate = record.stale(AGGREGATE, aggregate_inputs(paths, runs, shared), paths.aggregate_outputs())
    return Work(list(runs), selected, reasons, inputs, aggregate, unavailable, cleared)


def chosen(runs: Sequence[Run], only: Sequence[str] | None) -> list[Run]:
    """The runs named in ``only``, in the plan's order (every run, when ``None``).

    Raises
    ------
    UsageError
        When a name in ``only`` names no run of the plan (the message lists them).
    """
    names = [run.name for run in runs]
    for name in only or ():
        try:
            choose("--only", name, names, "runs in the plan")
        except ParameterError as error:
            raise UsageError(str(error)) from None
    if only is None:
        return list(runs)
    wanted = set(only)
    return [run for run in runs if run.name in wanted]


def plan_report(
    paths: ReportPaths,
    only: Sequence[str] | None = None,
    force: bool = False,
    say: Callable[[str], None] | None = None,
) -> Work:
    """Read the run plan and decide which runs must execute (see :mod:`analysis.pipeline.build_record`): those
    named in ``only`` (every run, when ``None``); ``say`` is told what each grid's filters did, as soon as the grid
    is expanded.

    Raises
    ------
    RunPlanError
        When the plan is malformed.
    UsageError
        When a name in ``only`` names no run of the plan (the message lists them).
    ParameterError
        When a name in ``only`` names a run that cannot execute here.
    """
    runs = read_plan(paths.plan, say)
    for run in chosen(runs, only) if only is not None else ():
        if not run.available:
            raise ParameterError(
                f"--only {run.name}: the run cannot execute here: "
                f"{run.how_to_enable or 'it needs files that are missing'}"
            )
    return plan_work(paths, runs, only, force)
