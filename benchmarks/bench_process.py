"""Benchmark of ``detainers process`` (read, validate, compute the metrics table, write it) as the table grows.

Made-up requests tables in the real schema: agencies, each with detainer and
notification requests counted for 25 calendar years, jurisdictions written
"Town, ST" (quoted, as in the real table), some outcomes left blank. The command
runs as a user runs it (a fresh process, imports included) on 100,000 and
1,000,000 rows. Targets: 1,000,000 rows in under 60 s, and linear scaling (the
time per row at 1,000,000 at most 1.5 times that at 100,000, once the time of the
command on the shipped data, its fixed cost, is taken off both). Prints a table
and exits 1 when a target is missed.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAW = Path(__file__).parents[1] / "data" / "raw"
SIZES = (100_000, 1_000_000)
LIMIT_SECONDS = 60.0
LINEAR_SLACK = 1.5
HEADER = (
    "agency,jurisdiction,reported_by,request_kind,period,period_start,period_end,requests,honored,declined,source_ids"
)
YEARS = range(2000, 2025)


def write_data(folder: Path, rows: int) -> None:
    """A data folder with ``rows`` made-up counts, the shipped sources and no claims."""
    folder.mkdir(parents=True)
    shutil.copyfile(RAW / "sources.csv", folder / "sources.csv")
    claims_header = (RAW / "claims.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "claims.csv").write_text(claims_header + "\n", encoding="utf-8")
    source = (RAW / "sources.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    lines, agency = [HEADER], 0
    while len(lines) <= rows:
        name = f"Agency {agency} Police Department"
        for kind in ("detainer", "notification"):
            for year in YEARS:
                requests = (agency * 7 + year) % 500
                declined = requests - (year % 3 == 0 and requests > 0)
                outcome = ",," if year % 11 == 0 else f",{requests - declined},{declined}"
                lines.append(
                    f'{name},"Town {agency}, MA",{name},{kind},{year},{year}-01-01,{year}-12-31,{requests}{outcome},'
                    f"{source}"
                )
        agency += 1
    (folder / "detainer_requests.csv").write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")


def timed_process(data: Path, out: Path) -> float:
    command = [str(Path(sys.executable).with_name("detainers")), "process", "--data-dir", str(data)]
    start = time.perf_counter()
    subprocess.run([*command, "--processed-dir", str(out)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    results = []
    with tempfile.TemporaryDirectory(prefix="detainers-process-bench-") as folder:
        scratch = Path(folder)
        fixed = timed_process(RAW, scratch / "out-shipped")
        for size in SIZES:
            write_data(scratch / f"raw-{size}", size)
            results.append((size, timed_process(scratch / f"raw-{size}", scratch / f"out-{size}")))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    )
    print(f"fixed cost (the command on the shipped data): {fixed:.1f} s")
    print(f"{'rows':>10}  {'detainers process':>17}  {'per 100,000 rows, less the fixed cost':>37}")
    for size, seconds in results:
        print(f"{size:>10,}  {seconds:>16.1f}s  {(seconds - fixed) / size * 100_000:>36.2f}s")
    (small, small_s), (large, large_s) = results
    misses = []
    if large_s > LIMIT_SECONDS:
        misses.append(f"{large:,} rows took {large_s:.1f} s (target under {LIMIT_SECONDS:.0f} s)")
    growth = ((large_s - fixed) / large) / ((small_s - fixed) / small)
    if growth > LINEAR_SLACK:
        misses.append(f"time per row grew {growth:.2f} times from {small:,} to {large:,} rows (at most {LINEAR_SLACK})")
    for miss in misses:
        print(f"target missed: {miss}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
