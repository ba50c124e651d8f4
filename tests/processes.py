"""The processes a test started, and theirs, read from /proc (Linux): no test looks at any other process."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

#: Whether this machine has the /proc these helpers read.
HAS_PROC = Path("/proc/self/stat").is_file()


def children() -> dict[int, list[int]]:
    """Every process's children, by process id (from /proc).

    Read with plain file descriptors, not pathlib: a test polls this every few milliseconds while a report runs,
    and a quarter of a core spent reading /proc would be taken from the report it watches."""
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = _read(f"/proc/{name}/stat")
            except OSError:
                continue
            parent = int(stat[stat.rindex(b")") + 2 :].split(None, 2)[1])
            tree.setdefault(parent, []).append(int(name))
    return tree


def _read(path: str) -> bytes:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return os.read(descriptor, 4096)
    finally:
        os.close(descriptor)


def descendants(pid: int) -> dict[int, int]:
    """The processes ``pid`` started, and theirs, now, each with its depth (1: a child of ``pid``)."""
    tree, found, todo = children(), {}, [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        for child in tree.get(parent, []):
            found[child] = depth + 1
            todo.append((child, depth + 1))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def still_running(pids: Iterable[int], grace: float = 10.0) -> list[int]:
    """Those of ``pids`` still alive after up to ``grace`` seconds (a kernel ends as soon as it sees its template
    gone; a loaded machine gets time to let it)."""
    pids = list(pids)
    deadline = time.monotonic() + grace
    while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]
