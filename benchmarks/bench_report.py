"""Benchmark of `detainers report` against plain papermill, on the project's own notebooks.

Measures, in one invocation, into a scratch folder:
1. the full forced report (`--force --jobs` = CPUs) against executing the same
   runs one after another with the papermill command line;
2. a no-op rerun (nothing changed) against the forced run;
3. a rerun after changing one run's parameters (how many notebooks it executes);
4. the peak memory of the runner process.
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
        plain = 0.0
        for run in read_plan(RUN_PLAN):
            output = scratch / "papermill" / run.name
            output.mkdir(parents=True)
            command = [
                str(BIN / "papermill"),
                str(run.notebook),
                str(output / f"{run.name}.ipynb"),
                "--cwd",
                str(NOTEBOOKS_DIR),
                "--no-progress-bar",
                "--log-level",
                "WARNING",
                "-r",
                "data_dir",
                as_parameter(RAW_DIR),
                "-r",
                "output_dir",
                str(output),
            ]
            for name, value in run.parameters.items():
                command += ["-r", name, value] if isinstance(value, str) else ["-y", f"{name}: {value!r}"]
            seconds, _, _ = timed(command)
            plain += seconds

        forced, _, forced_peak = timed([*report, "--force", "--jobs", str(CPUS)])
        noop, noop_output, noop_peak = timed(report)

        # 3. Change one run's parameters: the comparison run compares Boston 2016-2017 alone.
        text = plan.read_text()
        changed = text.replace(
            'name = "05-comparison"\nnotebook = "05-comparison.ipynb"',
            'name = "05-comparison"\nnotebook = "05-comparison.ipynb"\nparameters = { comparisons = [ '
            '{ agency = "Boston Police Department", reported_by = "Boston Police Department", '
            'base_period = "2016", compare_period = "2017" } ] }',
        )
        assert changed != text, "the run plan no longer has the 05-comparison run this benchmark edits"
        plan.write_text(changed)
        one, one_output, one_peak = timed(report)
        executed = re.findall(r"^  (\S+): executing$", one_output, re.M)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    ratio = forced / plain
    rows = [
        ("plain papermill, runs one after another", f"{plain:.1f} s", ""),
        (f"detainers report --force --jobs {CPUS}", f"{forced:.1f} s", f"ratio {ratio:.2f} (target at most 0.6)"),
        ("no-op rerun", f"{noop:.2f} s", f"{forced / noop:.0f}x faster than forced (targets: < 1 s, >= 10x)"),
        (
            "rerun after one run's parameters changed",
            f"{one:.1f} s",
            f"executed {len(executed)} notebook(s): {', '.join(executed)}; index rebuilt (target: exactly 1)",
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
            ("ratio", ratio <= 0.6),
            ("no-op time", noop < 1.0),
            ("no-op speed-up", forced / noop >= 10),
            ("one run re-executed", executed == ["05-comparison"]),
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
