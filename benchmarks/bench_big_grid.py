"""Benchmark of a 100,000-run grid: how soon the runner speaks, and how much memory it holds.

A made-up national requests table of 200,000 rows in the real schema (100,000
agencies, a 2024 and a 2025 count each) and a plan with one grid of the growth
notebook over it, 100,000 runs. Measured, each in a fresh process as a user runs
it: ``detainers report --plan P --list`` to its end, and ``detainers report
--plan P`` for a while (it validates the data, plans every run and executes the
first), then ended with SIGTERM. For both: the seconds to the first line printed
(target within 5 s) and the peak resident memory of the runner process (VmHWM,
target under 500 MB; the workers and kernels it starts are separate processes).
The end of such a report is measured apart (its 100,000 runs would take a day):
every run's outputs are laid out as a finished run leaves them (its description,
a real growth run's, and its three pages), and a fresh process plans the report,
loads the data and writes what is built from all runs (the merged metrics and the
landing page, :func:`analysis.pipeline.runner.aggregate`), as the runner does
last; its peak memory has the same target. Prints a table and exits 1 when a
target is missed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_report import peak_rss_mb

ROOT = Path(__file__).parents[1]
AGENCIES = 100_000
FIRST_LINE_SECONDS = 5.0
MEMORY_MB = 500.0
#: How long the report runs before SIGTERM: past validation and planning, into the runs.
REPORT_SECONDS = 60.0
HEADER = (
    "agency,jurisdiction,reported_by,request_kind,period,period_start,period_end,requests,honored,declined,source_ids"
)
PLAN = """
[[grid]]
name = "02-growth-{agency}"
notebook = "02-growth.ipynb"
rows = "data/detainer_requests.csv"
columns = { agency = "agency", reported_by = "reported_by" }
parameters = { base_period = "2024", compare_period = "2025" }
where = { period = ["2024", "2025"] }
at_least = { requests = 10 }
every = "period"
"""


def write_project(folder: Path) -> Path:
    """The plan, its notebook and a data folder of 200,000 rows; returns the plan."""
    data = folder / "data"
    data.mkdir(parents=True)
    shutil.copyfile(ROOT / "data" / "raw" / "sources.csv", data / "sources.csv")
    claims_header = (ROOT / "data" / "raw" / "claims.csv").read_text(encoding="utf-8").splitlines()[0]
    (data / "claims.csv").write_text(claims_header + "\n", encoding="utf-8")
    source = (ROOT / "data" / "raw" / "sources.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    lines = [HEADER]
    for number in range(AGENCIES):
        name = f"Agency {number:06d} Police Department"
        for year in (2024, 2025):
            requests = 10 + (number * 7 + year) % 90
            lines.append(
                f'{name},"Town {number}, ST",{name},detainer,{year},{year}-01-01,{year}-12-31,{requests},,,{source}'
            )
    (data / "detainer_requests.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(ROOT / "notebooks" / "02-growth.ipynb", folder)
    (folder / "runs.toml").write_text(PLAN, encoding="utf-8")
    return folder / "runs.toml"


AGGREGATE_PROBE = """
import json, re, sys, time
from pathlib import Path
from analysis.data.load import load_dataset
from analysis.paths import ReportPaths
from analysis.pipeline.build_record import plan_report
from analysis.pipeline.runner import aggregate
plan, data, reports, processed = map(Path, sys.argv[1:5])
folders = ReportPaths(data_dir=data, reports_dir=reports, processed_dir=processed, plan=plan)
work = plan_report(folders)
start = time.perf_counter()
aggregate(work.runs, load_dataset(data), folders)
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024
print(json.dumps({"seconds": time.perf_counter() - start, "peak": peak}))
"""


def lay_out_finished_runs(plan: Path, reports: Path) -> None:
    """Every run of the plan's outputs as a successful run leaves them: its description and its three pages."""
    from analysis.paths import RUN_FILE_SUFFIXES, ReportPaths
    from analysis.pipeline.runplan import read_plan

    description = (ROOT / "reports" / "figures" / "02-growth-boston" / "run.json").read_text(encoding="utf-8")
    folders = ReportPaths(reports_dir=reports, plan=plan)
    for run in read_plan(plan):
        folders.figures(run.name).mkdir(parents=True)
        (folders.figures(run.name) / "run.json").write_text(description, encoding="utf-8")
        for suffix in RUN_FILE_SUFFIXES:
            folders.page(run.name, suffix).write_text(f"{run.name}{suffix}\n", encoding="utf-8")


def measure(command: list[str], stop_after: float | None) -> tuple[float, float, str]:
    """Run ``command``; return the seconds to its first line, the runner's peak memory (MB) and that line."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stop, seen = threading.Event(), [0.0]
    watcher = threading.Thread(target=peak_rss_mb, args=(process.pid, stop, seen), daemon=True)
    watcher.start()
    assert process.stdout is not None
    first = process.stdout.readline()
    first_seconds = time.perf_counter() - start
    if stop_after is not None:
        time.sleep(max(0.0, stop_after - first_seconds))
        process.send_signal(signal.SIGTERM)
    for _ in process.stdout:  # What: drained so the runner never blocks on a full pipe.
        pass
    process.wait()
    stop.set()
    watcher.join()
    return first_seconds, max(seen), first.strip()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="detainers-grid-bench-") as folder:
        scratch = Path(folder)
        plan = write_project(scratch / "project")
        detainers = str(Path(sys.executable).with_name("detainers"))
        base = [detainers, "report", "--plan", str(plan), "--data-dir", str(scratch / "project" / "data")]
        outputs = ["--reports-dir", str(scratch / "reports"), "--processed-dir", str(scratch / "processed")]
        listing = measure([*base, "--list"], None)
        report = measure([*base, *outputs], REPORT_SECONDS)
        finished = scratch / "finished"
        lay_out_finished_runs(plan, finished / "reports")
        (finished / "processed").mkdir()
        probe = [str(plan), str(scratch / "project" / "data"), str(finished / "reports"), str(finished / "processed")]
        ended = json.loads(
            subprocess.run(
                [sys.executable, "-c", AGGREGATE_PROBE, *probe], capture_output=True, text=True, check=True
            ).stdout
        )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    )
    print(f"grid of {AGENCIES:,} runs over {2 * AGENCIES:,} rows; first line: {listing[2]}")
    print(f"{'command':>26}  {'first line':>10}  {'runner peak memory':>18}")
    misses = []
    for name, (first, peak, _) in (("report --list", listing), (f"report (SIGTERM at {REPORT_SECONDS:.0f} s)", report)):
        print(f"{name:>26}  {first:>9.1f}s  {peak:>15.0f} MB")
        if first > FIRST_LINE_SECONDS:
            misses.append(f"{name}: first line after {first:.1f} s (target within {FIRST_LINE_SECONDS:.0f} s)")
        if peak > MEMORY_MB:
            misses.append(f"{name}: runner peak {peak:.0f} MB (target under {MEMORY_MB:.0f} MB)")
    print(f"{'the end: metrics and index':>26}  {ended['seconds']:>9.1f}s  {ended['peak']:>15.0f} MB  (time to write)")
    if ended["peak"] > MEMORY_MB:
        misses.append(f"the end of the report: peak {ended['peak']:.0f} MB (target under {MEMORY_MB:.0f} MB)")
    for miss in misses:
        print(f"target missed: {miss}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
