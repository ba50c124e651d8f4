"""``detainers report``: execute the runs of the plan in worker processes and assemble the report.

Each run executes in a worker process into a staging folder inside the reports
folder; its files replace the previous ones only when it succeeded, one file
at a time with an atomic rename. A failed run keeps its executed notebook as
``<run>.failed.ipynb`` and leaves its previous outputs untouched.
"""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis import paths as layout
from analysis.data.load import Dataset, load_dataset
from analysis.errors import ReportError
from analysis.files import mark_owned, write_json_members
from analysis.measures.processed import write_metrics
from analysis.paths import ReportPaths
from analysis.pipeline.batch import Batch
from analysis.pipeline.build_record import (
    AGGREGATE,
    BuildRecord,
    Work,
    aggregate_inputs,
    outputs_digests,
    shared_inputs,
)
from analysis.pipeline.jobs import FAILED_NOTEBOOK, Outcome
from analysis.pipeline.landing import CLAIMS_TABLE, write_index
from analysis.pipeline.normalize import recorded_parameters
from analysis.pipeline.progress import Progress
from analysis.pipeline.runplan import RUNNER_PARAMETERS, Run

Say = Callable[[str], None]


def _install(staging: Path, folders: ReportPaths, run: Run) -> None:
    """Move a successful run's staged files into place; drop files it no longer makes."""
    target = folders.figures(run.name)
    target.mkdir(parents=True, exist_ok=True)
    produced = {p.name for p in (staging / "figures").iterdir()}
    for name in sorted(produced):
        os.replace(staging / "figures" / name, target / name)
    for stale in target.iterdir():
        if stale.name not in produced and stale.is_file():
            stale.unlink()
    for suffix in (layout.READER_HTML, layout.FULL_HTML, layout.NOTEBOOK):
        os.replace(staging / f"notebook{suffix}", folders.page(run.name, suffix))
    folders.failed(run.name).unlink(missing_ok=True)


def _finish(
    run: Run, outcome: Outcome, staging: Path, folders: ReportPaths, work: Work, record: BuildRecord, progress: Progress
) -> None:
    """A run ended, wherever it ran: install and record it if it succeeded, and say so."""
    if outcome.ok:
        _install(staging, folders, run)
        record.write(run.name, work.inputs[run.name], outputs_digests(folders.run_outputs(run.name)))
    elif (staging / FAILED_NOTEBOOK).is_file():
        os.replace(staging / FAILED_NOTEBOOK, folders.failed(run.name))
    progress.finished(run.name, outcome.ok, outcome.seconds, outcome.reason)


def description(run: Run, folders: ReportPaths) -> dict[str, Any] | None:
    """The description ``run`` wrote (:data:`analysis.paths.RUN_DESCRIPTION`), or ``None`` if it has none.

    A failed run keeps the description of its last successful execution, if any.
    """
    path = folders.figures(run.name) / layout.RUN_DESCRIPTION
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def as_published(run: Run, folders: ReportPaths) -> Run:
    """``run`` with the parameters its published outputs came from, for a run whose last execution failed: it keeps
    the outputs of its last good one, whose parameters its executed notebook records, so its numbers are never
    shown beside the plan's new parameters (the run as it is, where that notebook is not there)."""
    recorded = recorded_parameters(folders.page(run.name, layout.NOTEBOOK))
    if recorded is None:
        return run
    return replace(run, parameters={k: v for k, v in recorded.items() if k not in RUNNER_PARAMETERS})


def aggregate(runs: list[Run], dataset: Dataset, folders: ReportPaths) -> None:
    """Write what is built from all runs together: the merged metrics and the landing page; record them.

    Every run's numbers, keyed by run name, with the notebook and parameters they came from, go to
    :data:`analysis.paths.METRICS_JSON_FILE` (a failed run's last good numbers with that run's parameters: see
    :func:`as_published`). Both files are streamed, each description read as it is needed, so the runner's memory
    does not grow with the number of runs.
    """
    built_from = aggregate_inputs(folders, runs, shared_inputs(folders))  # what: the plan's runs, as they are now
    runs = [as_published(run, folders) if folders.failed(run.name).is_file() else run for run in runs]
    claims: list[tuple[int, Any]] = []  # What: the claims table of the first run in plan order that has one.
    position = {run.name: number for number, run in enumerate(runs)}

    def members() -> Iterator[tuple[str, object]]:
        for run in sorted(runs, key=lambda run: run.name):
            said = description(run, folders)
            if said is None:
                continue
            table = said.get("tables", {}).get(CLAIMS_TABLE)
            if table is not None and (not claims or position[run.name] < claims[0][0]):
                claims[:] = [(position[run.name], table)]
            yield run.name, {"notebook": run.notebook.name, "parameters": run.parameters, "results": said["numbers"]}

    write_json_members(folders.processed_dir / layout.METRICS_JSON_FILE, members())
    index = folders.reports_dir / layout.INDEX_FILE
    write_index(index, dataset, runs, lambda run: description(run, folders), claims[0][1] if claims else [], folders)
    BuildRecord(folders.reports_dir).write(AGGREGATE, built_from, outputs_digests(folders.aggregate_outputs()))


#: Past this many runs, the decisions are said as a count per reason, not a line per run.
LISTED_DECISIONS = 50


def _say_decisions(work: Work, say: Say) -> None:
    """Say what each selected run does and why: a line per run, or for a big batch a line per reason."""
    if len(work.selected) <= LISTED_DECISIONS:
        for run in work.selected:
            reason = work.reasons.get(run.name)
            say(f"  {run.name}: " + (f"re-running ({reason})" if reason else "skipped (unchanged since its last run)"))
        return
    counted = collections.Counter(
        f"re-running ({work.reasons[run.name]})"
        if run.name in work.reasons
        else "skipped (unchanged since their last run)"
        for run in work.selected
    )
    for decision, runs in sorted(counted.items()):
        say(f"  {runs} runs: {decision}")


def run_report(folders: ReportPaths, work: Work, batch: Batch | None, say: Say = print) -> list[Outcome]:
    """Validate the data, rebuild the processed tables, and install the runs of ``batch`` as they finish.

    Parameters
    ----------
    folders
        Where to read and write.
    work
        What to execute and why (from :func:`analysis.pipeline.build_record.plan_report`).
    batch
        The runs ``work`` selects, already submitted (:func:`analysis.pipeline.batch.start_batch`):
        they execute while the data are validated; ``None`` when no run executes.
    say
        Where progress lines go.

    Returns
    -------
    list of Outcome
        One per executed run.

    Raises
    ------
    DataValidationError
        When the data are invalid (nothing is written; the caller drops the batch).
    ReportError
        When a run failed (after every other run finished and was installed).
    """
    runs = work.runs
    dataset = load_dataset(folders.data_dir)
    for name, how in work.unavailable.items():
        say(f"  {name}: skipped, it cannot execute here: {how}")
    _say_decisions(work, say)
    mark_owned(folders.processed_dir)
    write_metrics(dataset.requests, folders.processed_dir / layout.METRICS_TABLE_FILE)

    outcomes: list[Outcome] = []
    if batch is not None:
        say(f"executing {batch.total} notebook run(s) {batch.executor.where}")
        by_name = {run.name: run for run in runs}
        record = BuildRecord(folders.reports_dir)
        progress = Progress(batch.total, len(work.selected) - batch.total, say)
        try:
            for job, outcome in batch.outcomes(progress.stage):
                _finish(by_name[job.run.name], outcome, job.staging, folders, work, record, progress)
                outcomes.append(outcome)
        finally:
            progress.close()
    for name in work.cleared:
        folders.failed(name).unlink(missing_ok=True)
        say(f"  {name}: its outputs are up to date, so the notebook of an earlier failed execution is removed")
    folders.reports_dir.mkdir(parents=True, exist_ok=True)
    aggregate(runs, dataset, folders)

    failures = [o.message for o in outcomes if not o.ok]
    if failures:
        raise ReportError("\n".join(failures))
    return outcomes
