"""Benchmark of reading and ingesting ICE's detainer records, on synthetic files in the real layouts.

Measured side by side in this one run, best of 5 taken in turn (the workbook once):
- a Deportation Data Project parquet with every column, at 100k and 1M records:
  a bare ``pandas.read_parquet`` of the columns the ingest uses, against the
  ingest with a mapping file (read, validate, duplicates, map, count), and
  against ``--by facility``; targets at 1M: ingest at most 2 times the bare
  read, ``--by facility`` under 2 s;
- a raw ICE workbook of 200k records (title block, two sheets): pandas with
  openpyxl against the package's reader (calamine); target at least 5 times
  faster;
- the peak memory the 1M ingest adds, against the loaded frame (under 2.5).
Prints a table and exits 1 when a target is missed.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from analysis.ice.export import read_export
from analysis.ice.ingest import ingest
from analysis.ice.layouts import LAYOUTS
from analysis.ice.mapping import read_mapping
from ice_export import make_records, write_export

AGENCIES = Path(__file__).parents[1] / "tests" / "fixtures" / "ice" / "agencies.csv"
SIZES = (100_000, 1_000_000)
WORKBOOK_ROWS = 200_000
REPEATS = 5
DDP_COLUMNS = list(next(layout for layout in LAYOUTS if layout.name == "ddp").columns.values())

MEMORY_PROBE = """
import json, re, sys
from pathlib import Path
from analysis.ice.ingest import ingest
from analysis.ice.mapping import read_mapping
from analysis.ice.export import read_export
def kb(field):
    return int(re.search(field + r":\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
mapping = read_mapping(sys.argv[2])
before = kb("VmRSS")
ingest(read_export(sys.argv[1]), mapping, "calendar")
print(json.dumps({"before": before, "peak": kb("VmHWM")}))
"""


def best(action: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_each(actions: list[Callable[[], object]], repeats: int = REPEATS) -> list[float]:
    """The best time of each action, the actions taken in turn (a, b, c, a, b, c, ...) so that a slower or faster
    spell of a shared machine weighs on all of them alike, not on the one measured then."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for action, taken in zip(actions, times, strict=True):
            start = time.perf_counter()
            action()
            taken.append(time.perf_counter() - start)
    return [min(taken) for taken in times]


def parquet_rows(scratch: Path) -> tuple[list[tuple[int, float, float, float]], Path]:
    mapping = read_mapping(AGENCIES)
    rows = []
    for size in SIZES:
        path = write_export(make_records(size, seed=size, layout="ddp"), scratch / f"ddp-{size}.parquet", layout="ddp")
        bare, mapped, by_facility = best_of_each(
            [
                lambda path=path: pd.read_parquet(path, columns=[*DDP_COLUMNS, "duplicate_likely"]),
                lambda path=path: ingest(read_export(path), mapping, "calendar"),
                lambda path=path: ingest(read_export(path), None, "calendar"),
            ]
        )
        rows.append((size, bare, mapped, by_facility))
    return rows, path


def workbook(scratch: Path) -> tuple[float, float]:
    frame = make_records(WORKBOOK_ROWS, seed=5, layout="ice-2025")
    path = write_export(frame, scratch / "raw.xlsx", layout="ice-2025", sheets=2)
    openpyxl = best(lambda: pd.read_excel(path, sheet_name=None, header=6, engine="openpyxl"), repeats=1)
    ours = best(lambda: read_export(path), repeats=1)
    return openpyxl, ours


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="detainers-ice-bench-") as folder:
        scratch = Path(folder)
        rows, largest = parquet_rows(scratch)
        frame_mb = pd.read_parquet(largest).memory_usage(deep=True).sum() / 2**20
        probe = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(largest), str(AGENCIES)],
            capture_output=True,
            text=True,
            check=True,
        )
        memory = json.loads(probe.stdout)
        openpyxl, calamine = workbook(scratch)
    added_mb = (memory["peak"] - memory["before"]) / 1024

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()}; best of {REPEATS}"
    )
    print(f"{'records':>10}  {'bare read':>9}  {'ingest':>7}  {'ratio':>5}  {'--by facility':>13}")
    for size, bare, mapped, by_facility in rows:
        print(f"{size:>10,}  {bare:>8.3f}s  {mapped:>6.3f}s  {mapped / bare:>5.2f}  {by_facility:>12.3f}s")
    print(f"peak memory added by ingest at 1M records: {added_mb:.0f} MB; loaded frame: {frame_mb:.0f} MB")
    print(
        f"raw workbook, {WORKBOOK_ROWS:,} records on two sheets: pandas with openpyxl {openpyxl:.1f} s, "
        f"read_export (calamine) {calamine:.1f} s, {openpyxl / calamine:.1f} times faster"
    )
    _, bare, mapped, by_facility = rows[-1]
    misses = []
    if mapped > 2 * bare:
        misses.append(f"ingest of 1M records took {mapped / bare:.2f} times the bare read (target at most 2)")
    if by_facility > 2:
        misses.append(f"--by facility on 1M records took {by_facility:.2f} s (target under 2 s)")
    if openpyxl < 5 * calamine:
        misses.append(f"the workbook read is {openpyxl / calamine:.1f} times faster than openpyxl (target 5)")
    if added_mb > 2.5 * frame_mb:
        misses.append(f"ingest added {added_mb / frame_mb:.2f} times the frame's memory (target under 2.5)")
    for miss in misses:
        print(f"target missed: {miss}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
