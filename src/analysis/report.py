"""``detainers report``: run every notebook of the run plan and assemble the report.

Each run executes in a worker process into a staging folder inside the reports
folder; its files replace the previous ones only when it succeeded, one file
at a time with an atomic rename. A failed run keeps its executed notebook as
``<run>.failed.ipynb`` and leaves its previous outputs untouched.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from analysis import config
from analysis.claims import check_claims
from analysis.exceptions import AnalysisError
from analysis.execute import FULL_HTML, READER_HTML, Job, Outcome, execute, report_to
from analysis.incremental import (
    AGGREGATE,
    BuildRecord,
    ReportPaths,
    Work,
    aggregate_inputs,
    outputs_digests,
    shared_inputs,
)
from analysis.landing import build_index
from analysis.load import load_dataset
from analysis.outputs import write_json, write_text_atomic
from analysis.processed import metrics_table, write_metrics_table
from analysis.runplan import Run, check_run

#: The landing page, in the reports folder.
INDEX_FILE = "index.html"


class ReportError(AnalysisError):
    """One or more runs failed; the message lists each failure."""


def _install(staging: Path, paths: ReportPaths, run: Run) -> None:
    """Move a successful run's staged files into place; drop files it no longer makes."""
    target = paths.figures(run.name)
    target.mkdir(parents=True, exist_ok=True)
    produced = {p.name for p in (staging / "figures").iterdir()}
    for name in sorted(produced):
        os.replace(staging / "figures" / name, target / name)
    for stale in target.iterdir():
        if stale.name not in produced and stale.is_file():
            stale.unlink()
    for suffix in (READER_HTML, FULL_HTML):
        os.replace(staging / f"notebook{suffix}", paths.reports_dir / f"{run.name}{suffix}")
    os.replace(staging / "notebook.ipynb", paths.reports_dir / f"{run.name}.ipynb")
    (paths.reports_dir / f"{run.name}.failed.ipynb").unlink(missing_ok=True)


def merge_metrics(runs: Sequence[Run], paths: ReportPaths) -> dict[str, object]:
    """Every run's JSON output, keyed by run name, with the notebook and parameters it came from."""
    merged: dict[str, object] = {}
    for run in runs:
        stem = run.notebook.stem
        result = paths.figures(run.name) / f"{stem}.json"
        if result.is_file():
            merged[run.name] = {
                "notebook": run.notebook.name,
                "parameters": run.parameters,
                "results": json.loads(result.read_text(encoding="utf-8")),
            }
    return merged


@contextmanager
def _helpers_shielded() -> Iterator[None]:
    """Start helper processes with Ctrl-C blocked in them, so only the main process handles it.

    A blocked signal stays blocked in a child process, even while it imports,
    so workers neither die mid-write nor print tracebacks. In the main process
    the signal only waits: it is raised as soon as the helpers have started.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def run_report(
    paths: ReportPaths,
    work: Work,
    jobs: int | None = None,
    say: Callable[[str], None] = print,
) -> list[Outcome]:
    """Validate the data, rebuild the processed tables and execute the runs ``work`` lists.

    Parameters
    ----------
    paths
        Folders to read and write.
    work
        What to execute and why (from :func:`plan_report`).
    jobs
        Runs executed at once; default the number of CPUs.
    say
        Where progress lines go.

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
    runs = [check_run(run) for run in work.runs]
    selected = [run for run in runs if run.name in work.reasons]
    for run in work.selected:
        reason = work.reasons.get(run.name)
        say(f"  {run.name}: " + (f"re-running ({reason})" if reason else "skipped (unchanged since its last run)"))
    record = BuildRecord(paths.reports_dir)
    dataset = load_dataset(paths.data_dir)
    write_metrics_table(metrics_table(dataset.requests), paths.processed_dir / config.METRICS_TABLE_FILE)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(selected)))
    say(f"executing {len(selected)} notebook run(s) with {workers} job(s)")
    paths.reports_dir.mkdir(parents=True, exist_ok=True)
    staging_root = Path(tempfile.mkdtemp(prefix=".staging-", dir=paths.reports_dir))
    outcomes: list[Outcome] = []
    try:
        context = multiprocessing.get_context("spawn")
        status = context.Queue()
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=report_to, initargs=(status,))
        pending: dict[Future[Outcome], Run] = {}
        try:
            if not selected:
                pool.shutdown()
            with _helpers_shielded():
                for run in selected:
                    job = Job(
                        run=run,
                        data_dir=config.as_parameter(paths.data_dir),
                        output_dir=config.as_parameter(paths.figures(run.name)),
                        staging=staging_root / run.name,
                        failed_path=paths.reports_dir / f"{run.name}.failed.ipynb",
                    )
                    pending[pool.submit(execute, job)] = run
            while pending:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                while not status.empty():
                    name, stage = status.get()
                    say(f"  {name}: {stage}")
                for future in done:
                    run = pending.pop(future)
                    outcome = future.result()
                    if outcome.ok:
                        _install(staging_root / run.name, paths, run)
                        record.write(run.name, work.inputs[run.name], outputs_digests(paths.run_outputs(run.name)))
                        say(f"  {run.name}: done in {outcome.seconds:.1f} s")
                    else:
                        say(f"  {run.name}: FAILED after {outcome.seconds:.1f} s")
                    outcomes.append(outcome)
        finally:
            # What: on any exit, drop queued runs and wait for running ones, so none writes after cleanup.
            pool.shutdown(wait=True, cancel_futures=True)
        merged = merge_metrics(runs, paths)
        write_json(paths.processed_dir / config.METRICS_JSON_FILE, merged)
        claim_results = check_claims(dataset.requests, dataset.claims)
        page = build_index(dataset, runs, merged, claim_results, paths.reports_dir)
        write_text_atomic(paths.reports_dir / INDEX_FILE, page)
        built_from = aggregate_inputs(paths, runs, shared_inputs(paths))
        record.write(AGGREGATE, built_from, outputs_digests(paths.aggregate_outputs()))
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)

    failures = [o.message for o in outcomes if not o.ok]
    if failures:
        raise ReportError("\n".join(failures))
    return outcomes
