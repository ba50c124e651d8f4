"""``detainers report``: execute the runs of the plan in worker processes and assemble the report.

Each run executes in a worker process into a staging folder inside the reports
folder; its files replace the previous ones only when it succeeded, one file
at a time with an atomic rename. A failed run keeps its executed notebook as
``<run>.failed.ipynb`` and leaves its previous outputs untouched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from analysis import paths as layout
from analysis.data.load import Dataset, load_dataset
from analysis.errors import ReportError
from analysis.files import write_json, write_text_atomic
from analysis.measures.processed import metrics_table, write_metrics_table
from analysis.paths import ReportPaths
from analysis.pipeline.cache import AGGREGATE, BuildRecord, Work, aggregate_inputs, outputs_digests, shared_inputs
from analysis.pipeline.cluster import ClusterBatch, start_cluster_batch, unpack
from analysis.pipeline.jobs import FAILED_NOTEBOOK, Outcome
from analysis.pipeline.landing import build_index, headings
from analysis.pipeline.pool import Batch, start_batch
from analysis.pipeline.progress import Progress
from analysis.pipeline.runplan import Run, check_run

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
    progress.finished(run.name, outcome.ok, outcome.seconds)


def merge_metrics(runs: Sequence[Run], folders: ReportPaths) -> dict[str, object]:
    """Every run's JSON output, keyed by run name, with the notebook and parameters it came from."""
    merged: dict[str, object] = {}
    for run in runs:
        result = folders.figures(run.name) / f"{run.notebook.stem}.json"
        if result.is_file():
            merged[run.name] = {
                "notebook": run.notebook.name,
                "parameters": run.parameters,
                "results": json.loads(result.read_text(encoding="utf-8")),
            }
    return merged


def _execute_all(batch: Batch, work: Work, folders: ReportPaths, say: Say) -> list[Outcome]:
    """Wait for the ``batch``'s runs, installing each success as it finishes."""
    record = BuildRecord(folders.reports_dir)
    status = batch.pool.status
    pending = dict(batch.pending)
    outcomes: list[Outcome] = []
    progress = Progress(len(pending), len(work.selected) - len(pending), say)
    try:
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            while not status.empty():
                progress.stage(*status.get())
            for future in done:
                run = pending.pop(future)
                outcome = future.result()
                _finish(run, outcome, batch.staging_root / run.name, folders, work, record, progress)
                outcomes.append(outcome)
    finally:
        batch.pool.shutdown()  # what: on any exit, so no run writes after cleanup
        progress.close()
    return outcomes


def _execute_on_cluster(batch: ClusterBatch, work: Work, folders: ReportPaths, say: Say) -> list[Outcome]:
    """Wait for the tasks of ``batch``; install each success as it returns."""
    from distributed import as_completed

    record = BuildRecord(folders.reports_dir)
    progress = Progress(len(batch.futures), len(work.selected) - len(batch.futures), say)
    outcomes: list[Outcome] = []
    try:
        for run, _ in batch.futures.values():
            progress.stage(run.name, "executing")
        for future in as_completed(batch.futures):
            run, job = batch.futures[future]
            try:
                outcome, files = future.result()
            except Exception as error:  # what: a lost worker or a task that could not run is a failed run
                outcome, files = Outcome(run.name, False, 0.0, f"run {run.name} was lost on the cluster: {error!r}"), {}
            unpack(files, job.staging, job.failed_path)
            _finish(run, outcome, job.staging, folders, work, record, progress)
            outcomes.append(outcome)
    finally:
        batch.close()
        progress.close()
    return outcomes


def _aggregate(
    runs: list[Run], dataset: Dataset, folders: ReportPaths, known: dict[str, tuple[str, str] | None]
) -> None:
    """Write what is built from all runs together: the merged metrics and the landing page; record them."""
    merged = merge_metrics(runs, folders)
    write_json(folders.processed_dir / layout.METRICS_JSON_FILE, merged)
    page = build_index(dataset, runs, merged, folders.reports_dir, known)
    write_text_atomic(folders.reports_dir / layout.INDEX_FILE, page)
    built_from = aggregate_inputs(folders, runs, shared_inputs(folders))
    BuildRecord(folders.reports_dir).write(AGGREGATE, built_from, outputs_digests(folders.aggregate_outputs()))


def run_report(
    folders: ReportPaths,
    work: Work,
    jobs: int | None = None,
    say: Say = print,
    scheduler: str | None = None,
    batch: Batch | ClusterBatch | None = None,
) -> list[Outcome]:
    """Validate the data, rebuild the processed tables and execute the runs ``work`` lists.

    Parameters
    ----------
    folders
        Where to read and write.
    work
        What to execute and why (from :func:`analysis.pipeline.cache.plan_report`).
    jobs
        Runs executed at once; default the number of CPUs.
    say
        Where progress lines go.
    scheduler
        The address of a Dask distributed scheduler to send the runs to; ``None``: a local process pool.
    batch
        The runs already submitted, to local workers (:func:`analysis.pipeline.pool.start_batch`) or to
        the cluster (:func:`analysis.pipeline.cluster.start_cluster_batch`): they execute while the data
        are validated, and are dropped, with everything they staged, if the data are invalid. By default
        the runs are submitted here, after validation.

    Returns
    -------
    list of Outcome
        One per executed run.

    Raises
    ------
    DataValidationError
        When the data are invalid (nothing is written).
    ReportError
        When a run failed (after every other run finished and was installed).
    """
    try:
        runs = [check_run(run) for run in work.runs]
        dataset = load_dataset(folders.data_dir)
    except BaseException:
        if batch is not None:
            batch.drop()
        raise
    selected = [run for run in runs if run.name in work.reasons]
    for name, how in work.unavailable.items():
        say(f"  {name}: skipped, it cannot execute here: {how}")
    for run in work.selected:
        reason = work.reasons.get(run.name)
        say(f"  {run.name}: " + (f"re-running ({reason})" if reason else "skipped (unchanged since its last run)"))
    write_metrics_table(metrics_table(dataset.requests), folders.processed_dir / layout.METRICS_TABLE_FILE)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(selected)))
    where = f"on the Dask cluster at {scheduler}" if scheduler else f"with {workers} job(s)"
    say(f"executing {len(selected)} notebook run(s) {where}")
    if batch is None and selected:
        batch = (
            start_cluster_batch(selected, folders, scheduler) if scheduler else start_batch(selected, folders, workers)
        )
    try:
        known = headings(runs, dataset)  # what: while the runs execute
        if isinstance(batch, ClusterBatch):
            outcomes = _execute_on_cluster(batch, work, folders, say)
        elif batch is not None:
            outcomes = _execute_all(batch, work, folders, say)
        else:
            outcomes = []
        folders.reports_dir.mkdir(parents=True, exist_ok=True)
        _aggregate(runs, dataset, folders, known)
    finally:
        if batch is not None:
            shutil.rmtree(batch.staging_root, ignore_errors=True)

    failures = [o.message for o in outcomes if not o.ok]
    if failures:
        raise ReportError("\n".join(failures))
    return outcomes
