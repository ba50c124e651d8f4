"""``detainers report`` from its options: list the plan, or decide what to run, run it and say what happened.

Only the standard library and the package's light modules are imported here,
so a report with nothing to do answers at once and a batch starts before the
runner's heavy imports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from analysis import paths
from analysis.files import check_no_link_into_published, check_not_published, check_owned
from analysis.paths import INDEX_FILE, ReportPaths
from analysis.pipeline.batch import execute_report
from analysis.pipeline.build_record import chosen, plan_report
from analysis.pipeline.cluster import check_address
from analysis.pipeline.runplan import read_plan

Say = Callable[[str], None]


def list_plan(folders: ReportPaths, say: Say, only: Sequence[str] | None = None) -> None:
    """Say each run of the plan (of those named in ``only``, where given), grids expanded: its name, notebook and
    parameters, and whether it can execute.

    Raises
    ------
    RunPlanError
        When the plan is malformed.
    UsageError
        When a name in ``only`` names no run of the plan (the message lists them).
    """
    for run in chosen(read_plan(folders.plan, say), only):
        parameters = json.dumps(run.parameters, ensure_ascii=False, sort_keys=True)
        state = "" if run.available else "  (cannot execute here: needs " + ", ".join(map(str, run.requires)) + ")"
        say(f"{run.name}  {run.notebook.name}  {parameters}{state}")


def check_publishes(folders: ReportPaths) -> None:
    """Refuse a report that would write into the published record without being the published report: the
    committed plan and data into ``reports/`` and ``data/processed/`` both. Another plan or data folder, or only
    one of the two published folders, writes elsewhere.

    Raises
    ------
    OutputFolderError
        When either output folder is or lies in a published one otherwise, or holds a link into one (nothing is
        written).
    """
    published = (
        paths.is_committed(folders.plan, folders.data_dir)
        and folders.reports_dir.resolve() == paths.REPORTS_DIR.resolve()
        and folders.processed_dir.resolve() == paths.PROCESSED_DIR.resolve()
    )
    if not published:
        for folder, option in ((folders.reports_dir, "--reports-dir"), (folders.processed_dir, "--processed-dir")):
            check_not_published(folder, option)
            check_no_link_into_published(folder, option)


def report(
    folders: ReportPaths,
    say: Say,
    only: Sequence[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    timeout: float | None = None,
) -> None:
    """Execute what the plan needs (everything when ``force``; of the runs named in ``only``, where given), and
    say how it went.

    Raises
    ------
    UsageError
        When ``only`` names no run of the plan, or ``scheduler`` is not a scheduler's address (nothing is written).
    RunPlanError, ParameterError, DataValidationError
        When the plan, a run's parameters or the data are invalid (nothing is installed).
    OutputFolderError
        When the reports or processed folder is not the package's to write, is published and this is not the
        published report (see :func:`check_publishes`), or another command is writing into it (nothing is
        written).
    ReportError
        When a run failed (every other run was installed), or no scheduler answered.
    """
    start = time.monotonic()
    if scheduler is not None:
        check_address(scheduler)
    inputs = (folders.data_dir, folders.plan)
    check_publishes(folders)
    check_owned(folders.reports_dir, "--reports-dir", inputs)
    check_owned(folders.processed_dir, "--processed-dir", inputs)
    work = plan_report(folders, only=only, force=force, say=say)
    if work.nothing_to_do:
        for name, how in work.unavailable.items():
            say(f"  {name}: skipped, it cannot execute here: {how}")
        for run in work.selected:
            say(f"  {run.name}: skipped (unchanged since its last run)")
        say(f"nothing to do: every output is up to date ({time.monotonic() - start:.2f} s)")
        return
    outcomes = execute_report(folders, work, say, jobs, scheduler, timeout)
    say(f"report complete: {len(outcomes)} run(s) executed in {time.monotonic() - start:.1f} s")
    say(f"  the report: {folders.reports_dir / INDEX_FILE}; the processed tables: {folders.processed_dir}")
