"""Benchmark of `detainers ingest-ice` on synthetic parquet exports of 10k, 100k and 1M records.

For each size, measured side by side in this one run: a bare pandas read of
the file, and ingest (read, validate, flag duplicates, map, aggregate). At 1M
records, the peak memory that ingest adds is compared with the size of the
loaded frame. Prints a table and exits 1 when a target is missed:
ingest of 1M records in at most 3 s and at most 3 times the bare read; time
growing linearly; peak memory under 2.5 times the loaded frame.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from analysis.ice.aggregate import aggregate, read_mapping
from analysis.ice.records import read_export
from ice_export import make_export, write_export

AGENCIES = Path(__file__).parents[1] / "tests" / "fixtures" / "ice" / "agencies.csv"
SIZES = (10_000, 100_000, 1_000_000)
REPEATS = 3

MEMORY_PROBE = """
import json, re, sys
from pathlib import Path
from analysis.ice.records import read_export
from analysis.ice.aggregate import aggregate, read_mapping
def kb(field):
    return int(re.search(field + r":\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
mapping = read_mapping(sys.argv[2])
before = kb("VmRSS")
aggregate(read_export(sys.argv[1]), mapping)
print(json.dumps({"before": before, "peak": kb("VmHWM")}))
"""


def best(action) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    mapping = read_mapping(AGENCIES)
    rows = []
    with tempfile.TemporaryDirectory(prefix="detainers-ice-bench-") as scratch:
        for size in SIZES:
            path = write_export(make_export(size, seed=size), Path(scratch) / f"export-{size}.parquet")
            bare = best(lambda path=path: pd.read_parquet(path))
            ingest = best(lambda path=path: aggregate(read_export(path), mapping))
            rows.append((size, bare, ingest))
        frame_mb = pd.read_parquet(path).memory_usage(deep=True).sum() / 2**20
        probe = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(path), str(AGENCIES)], capture_output=True, text=True, check=True
        )
        memory = json.loads(probe.stdout)
    added_mb = (memory["peak"] - memory["before"]) / 1024

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()}; best of {REPEATS}"
    )
    print(f"{'records':>10}  {'bare read':>9}  {'ingest':>7}  {'ratio':>5}  {'ingest per 1M':>13}")
    for size, bare, ingest in rows:
        print(f"{size:>10,}  {bare:>8.3f}s  {ingest:>6.3f}s  {ingest / bare:>5.2f}  {ingest * 1e6 / size:>12.2f}s")
    print(
        f"peak memory added by ingest at 1M records: {added_mb:.0f} MB; loaded frame: {frame_mb:.0f} MB; "
        f"ratio {added_mb / frame_mb:.2f}"
    )

    size, bare, ingest = rows[-1]
    per_row = [ingest_ / size_ for size_, _, ingest_ in rows]
    checks = {
        "1M records in at most 3 s": ingest <= 3.0,
        "at most 3 times the bare read": ingest <= 3 * bare,
        "time grows linearly (1M per-record time within 1.5x of 100k's)": per_row[2] <= 1.5 * per_row[1],
        "peak memory under 2.5 times the loaded frame": added_mb < 2.5 * frame_mb,
    }
    for name, ok in checks.items():
        print(f"{'met   ' if ok else 'MISSED'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
