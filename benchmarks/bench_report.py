"""Benchmark of `detainers report` against plain papermill, on the project's own notebooks.

Measures, in one invocation, into a scratch folder:
1. the full forced report (`--force --jobs` = CPUs, best of three) against
   executing the same runs one after another with the papermill command line
   (target at most 0.4);
2. a forced single run (`--force --only 02-growth-boston`, best of three)
   against papermill on the same notebook and parameters (best of three; target
   at most 1.2);
3. a no-op rerun (nothing changed) against the forced run;
4. a rerun after changing one run's parameters, and one after changing them
   back (how many notebooks each executes, and the better time against the
   better of two papermill runs on that notebook: target at most 1.2);
5. a grid of runs of the growth notebook over generated national data, in runs
   per minute, against the papermill command line on a sample of its runs;
6. the full forced report sent to a Dask LocalCluster of one worker process
   per CPU (best of three, a new cluster each time), against the local pool
   (target: under 15% slower);
7. the peak memory of the runner process.
Each case is timed in turn with what it is compared with (a forced report on
the pool, then on a cluster, three times over), so a drift of the machine's
speed over minutes favours neither.
Prints a table and checks the targets; exits 1 when one is missed.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from analysis.paths import NOTEBOOKS_DIR, RAW_DIR, RUN_PLAN, as_parameter
from analysis.pipeline.runplan import read_plan

BIN = Path(sys.executable).parent
CPUS = os.cpu_count() or 1
#: Runs in the grid of the growth notebook, and how many of them papermill executes for its rate.
GRID_RUNS, PAPERMILL_SAMPLE = 200, 10
#: Each case is timed this many times (the best counts): on a shared machine one timing varies by a tenth either
#: way, and plain papermill's by more (6.5 to 10.3 s on one run, the same day; 5.7 to 7.4 s in two runs an hour apart).
REPEATS = 3


def peak_rss_mb(pid: int, stop: threading.Event, seen: list[float]) -> None:
    """Poll the process's high-water mark of resident memory (VmHWM) until it ends."""
    while not stop.is_set():
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        match = re.search(r"VmHWM:\s+(\d+) kB", text)
        if match:
            seen.append(int(match.group(1)) / 1024)
        time.sleep(0.02)


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, str, float]:
    """Run ``command``; return seconds, its output, and the peak memory of that process in MB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop, seen = threading.Event(), [0.0]
    watcher = threading.Thread(target=peak_rss_mb, args=(process.pid, stop, seen), daemon=True)
    watcher.start()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return elapsed, output, max(seen)


def papermill(notebook: Path, name: str, parameters: dict[str, object], data: Path, scratch: Path) -> float:
    """Seconds the papermill command line takes to execute ``notebook`` with ``parameters``."""
    output = scratch / "papermill" / name
    output.mkdir(parents=True)
    command = [
        str(BIN / "papermill"), str(notebook), str(output / f"{name}.ipynb"), "--cwd", str(notebook.parent),
        "--no-progress-bar", "--log-level", "WARNING", "-r", "data_dir", as_parameter(data), "-r", "output_dir",
        str(output),
    ]  # fmt: skip
    for key, value in parameters.items():
        command += ["-r", key, value] if isinstance(value, str) else ["-y", f"{key}: {value!r}"]
    return timed(command)[0]


def grid(scratch: Path) -> tuple[float, float]:
    """Runs per minute of a grid of the growth notebook over made-up national data, and of papermill on a sample."""
    folder = scratch / "national"
    data = folder / "data"
    data.mkdir(parents=True)
    header = (
        "agency,jurisdiction,reported_by,request_kind,period,period_start,period_end,requests,honored,declined,"
        "source_ids\n"
    )
    rows = [
        f'Made-up Agency {n:04d},"Somewhere, ST",Made-up Agency {n:04d},detainer,{y},{y}-01-01,{y}-12-31,'
        f"{10 + n % 40 + y % 7},,,src\n"
        for n in range(GRID_RUNS)
        for y in (2024, 2025)
    ]
    (data / "detainer_requests.csv").write_text(header + "".join(rows))
    (data / "sources.csv").write_text(
        "source_id,publisher,title,author,published,url,kind,access\nsrc,P,[t],,2025,,news report,news\n"
    )
    (data / "claims.csv").write_text((RAW_DIR / "claims.csv").read_text().splitlines()[0] + "\n")
    shutil.copy(NOTEBOOKS_DIR / "02-growth.ipynb", folder)
    (folder / "runs.toml").write_text(
        '[[grid]]\nname = "growth-{agency}"\nnotebook = "02-growth.ipynb"\nrows = "data/detainer_requests.csv"\n'
        'columns = { agency = "agency", reported_by = "reported_by" }\n'
        'parameters = { base_period = "2024", compare_period = "2025" }\n'
    )
    command = [
        str(BIN / "detainers"), "report", "--plan", str(folder / "runs.toml"), "--data-dir", str(data),
        "--reports-dir", str(folder / "reports"), "--processed-dir", str(folder / "processed"), "--jobs", str(CPUS),
    ]  # fmt: skip
    seconds, _, _ = timed(command)
    sample = read_plan(folder / "runs.toml")[:PAPERMILL_SAMPLE]
    plain = sum(papermill(run.notebook, f"grid-{run.name}", run.parameters, data, scratch) for run in sample)
    return GRID_RUNS / seconds * 60, len(sample) / plain * 60


def dask_forced(report: list[str]) -> float:
    """Seconds of the full forced report sent to a local Dask cluster of one worker process per CPU."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=CPUS, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        return timed([*report, "--force", "--scheduler", cluster.scheduler_address])[0]


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="detainers-bench-"))
    try:
        plan = scratch / "notebooks" / "runs.toml"
        shutil.copytree(NOTEBOOKS_DIR, plan.parent)
        report = [
            str(BIN / "detainers"),
            "report",
            "--plan",
            str(plan),
            "--reports-dir",
            str(scratch / "reports"),
            "--processed-dir",
            str(scratch / "processed"),
        ]

        # 1. Plain papermill, one run after another, the same runs and parameters.
        by_name = {}
        for run in read_plan(RUN_PLAN):
            if run.available:
                by_name[run.name] = papermill(run.notebook, run.name, run.parameters, RAW_DIR, scratch)
        plain = sum(by_name.values())

        # What: each case and what it is compared with are timed in turn, not one after the other: this shared
        # machine's speed drifts by a third and more over minutes, which would otherwise favour whichever ran first.
        forced_runs, on_dask_runs = [], []
        for _ in range(REPEATS):
            forced_runs.append(timed([*report, "--force", "--jobs", str(CPUS)]))
            on_dask_runs.append(dask_forced(report))  # what: a new cluster each time
        forced, forced_peak = min(r[0] for r in forced_runs), max(r[2] for r in forced_runs)
        on_dask = min(on_dask_runs)
        boston = next(run for run in read_plan(RUN_PLAN) if run.name == "02-growth-boston")
        singles, single_plains = [], [by_name[boston.name]]
        for n in range(REPEATS):
            singles.append(timed([*report, "--force", "--only", "02-growth-boston"])[0])
            if n:
                single_plains.append(
                    papermill(boston.notebook, f"{boston.name}-{n}", boston.parameters, RAW_DIR, scratch)
                )
        single, single_plain = min(singles), min(single_plains)
        noop, noop_output, noop_peak = timed(report)

        # 3. Change one run's parameters: Boston's growth from 2023, not 2024, to 2025; then back (the same work).
        text = plan.read_text()
        start = text.index('name = "02-growth-boston"')
        end = text.index("[[run]]", start)
        changed = text[:start] + text[start:end].replace('base_period = "2024"', 'base_period = "2023"') + text[end:]
        assert changed.count("2023") == text.count("2023") + 1, "the plan's 02-growth-boston run, which this edits"
        plan.write_text(changed)
        edited = next(run for run in read_plan(plan) if run.name == "02-growth-boston")
        ones, one_plains = [], []
        for n, version in enumerate([changed, text][:REPEATS]):
            plan.write_text(version)
            ones.append(timed(report))
            one_plains.append(
                papermill(edited.notebook, f"02-growth-boston-changed-{n}", edited.parameters, RAW_DIR, scratch)
            )
        one, one_peak = min(r[0] for r in ones), max(r[2] for r in ones)
        one_plain = min(one_plains)
        executed = sorted({name for r in ones for name in re.findall(r"^  (\S+): executing$", r[1], re.M)})
        executed_each = [len(re.findall(r"^  (\S+): executing$", r[1], re.M)) for r in ones]
        grid_rate, papermill_rate = grid(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    ratio = forced / plain
    single_ratio, one_ratio = single / single_plain, one / one_plain
    rows = [
        ("plain papermill, runs one after another", f"{plain:.1f} s", ""),
        (f"detainers report --force --jobs {CPUS}", f"{forced:.1f} s", f"ratio {ratio:.2f} (target at most 0.4)"),
        ("plain papermill, 02-growth-boston (best of the runs above and again)", f"{single_plain:.1f} s", ""),
        ("--force --only 02-growth-boston", f"{single:.1f} s", f"ratio {single_ratio:.2f} (target at most 1.2)"),
        ("no-op rerun", f"{noop:.2f} s", f"{forced / noop:.0f}x faster than forced (targets: < 1 s, >= 10x)"),
        (
            "rerun after one run's parameters changed",
            f"{one:.1f} s",
            f"executed {'/'.join(map(str, executed_each))} notebook(s): {', '.join(executed)}; index rebuilt "
            "(target: exactly 1 each time); "
            f"ratio {one_ratio:.2f} to papermill's {one_plain:.1f} s (target at most 1.2)",
        ),
        (
            f"grid of {GRID_RUNS} growth runs, national data",
            f"{grid_rate:.1f}/min",
            f"papermill one after another: {papermill_rate:.1f}/min (on {PAPERMILL_SAMPLE} of them)",
        ),
        (
            f"the same forced report on a Dask LocalCluster ({CPUS} workers)",
            f"{on_dask:.1f} s",
            f"{100 * (on_dask / forced - 1):+.0f}% against the local pool (target under +15%)",
        ),
        ("peak memory of the runner process", f"{max(forced_peak, noop_peak, one_peak):.0f} MB", "target < 400 MB"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"machine: {platform.machine()}, {CPUS} CPUs, Python {platform.python_version()}, {platform.system()}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}")
    missed = [
        name
        for name, ok in [
            ("ratio", ratio <= 0.4),
            ("single run", single_ratio <= 1.2),
            ("changed run", one_ratio <= 1.2),
            ("dask overhead", on_dask <= 1.15 * forced),
            ("no-op time", noop < 1.0),
            ("no-op speed-up", forced / noop >= 10),
            ("one run re-executed", executed == ["02-growth-boston"] and set(executed_each) == {1}),
            ("memory", max(forced_peak, noop_peak, one_peak) < 400),
        ]
        if not ok
    ]
    if "nothing to do" not in noop_output:
        missed.append("no-op rerun executed something")
    if missed:
        print("missed targets: " + ", ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
