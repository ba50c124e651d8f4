"""The processes a test started, and theirs, read from /proc (Linux): no test looks at any other process."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

#: Whether this machine has the /proc these helpers read.
HAS_PROC = Path("/proc/self/stat").is_file()


#: A process as these helpers name it: its id and its start time (clock ticks after boot), which together tell it
#: from a later process given the same id.
Process = tuple[int, int]


def _stat_fields(stat: bytes) -> list[bytes]:
    """The fields of a /proc/PID/stat line after the command name (state first)."""
    return stat[stat.rindex(b")") + 2 :].split()


def processes() -> dict[Process, int]:
    """Every process now, with its parent's id (from /proc).

    Read with plain file descriptors, not pathlib: a test polls this every few milliseconds while a report runs,
    and a quarter of a core spent reading /proc would be taken from the report it watches."""
    found: dict[Process, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = _stat_fields(_read(f"/proc/{name}/stat"))
            except OSError:
                continue
            found[(int(name), int(fields[19]))] = int(fields[1])
    return found


def _read(path: str) -> bytes:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return os.read(descriptor, 4096)
    finally:
        os.close(descriptor)


def descendants(pid: int) -> dict[Process, int]:
    """The processes ``pid`` started, and theirs, now, each with its depth (1: a child of ``pid``)."""
    tree: dict[int, list[Process]] = {}
    for process, parent in processes().items():
        tree.setdefault(parent, []).append(process)
    found, todo = {}, [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        for child in tree.get(parent, []):
            found[child] = depth + 1
            todo.append((child[0], depth + 1))
    return found


def command_line(process: Process) -> bytes:
    """The command line of ``process`` (its arguments joined by zero bytes; empty once it has ended)."""
    try:
        return _read(f"/proc/{process[0]}/cmdline")
    except OSError:
        return b""


def alive(process: Process) -> bool:
    """Whether ``process`` still runs: its id names a process started when it was, and not a zombie."""
    try:
        fields = _stat_fields(_read(f"/proc/{process[0]}/stat"))
    except OSError:
        return False
    return int(fields[19]) == process[1] and fields[0] != b"Z"


def still_running(seen: Iterable[Process], grace: float = 10.0) -> list[Process]:
    """Those of ``seen`` still alive after up to ``grace`` seconds (a kernel ends as soon as it sees its template
    gone; a loaded machine gets time to let it). A process id given since to another process is not counted."""
    seen = list(seen)
    deadline = time.monotonic() + grace
    while [process for process in seen if alive(process)] and time.monotonic() < deadline:
        time.sleep(0.1)
    return [process for process in seen if alive(process)]
