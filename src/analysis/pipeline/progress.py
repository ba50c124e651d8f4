"""Progress of a batch of runs: a bar redrawn in place on a terminal (tqdm), plain lines anywhere else.

Both say how many runs are done, failed, skipped and running, and about how
long is left, from the mean time of the runs finished so far.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from analysis.errors import printable


class Progress:
    """Counts of a batch; :meth:`started` and :meth:`finished` as runs go, :meth:`close` at the end."""

    def __init__(self, total: int, skipped: int, say: Callable[[str], None], stream: TextIO | None = None) -> None:
        self.total, self.skipped, self.say = total, skipped, say
        self.done = self.failed = 0
        self.running: set[str] = set()
        self.start = time.monotonic()
        out = self.stream = stream or sys.stdout
        self.bar: Any = None
        if out.isatty() and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=out, unit="run", dynamic_ncols=True, leave=True)
            self._refresh()

    def _counts(self) -> dict[str, int]:
        return {"done": self.done, "failed": self.failed, "skipped": self.skipped, "running": len(self.running)}

    def _left(self) -> str:
        finished = self.done + self.failed
        if not finished:
            return "time left not known yet"
        from tqdm import tqdm

        seconds = (time.monotonic() - self.start) / finished * (self.total - finished)
        return f"about {tqdm.format_interval(seconds)} left"

    def _refresh(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix(self._counts(), refresh=True)

    def started(self, name: str) -> None:
        """A run began executing."""
        self.running.add(name)
        self._refresh()

    def finished(self, name: str, ok: bool, seconds: float, reason: str = "") -> None:
        """A run ended; on a terminal the bar moves, elsewhere one line says so with the counts. A failed run's
        line ends with ``reason`` (where it failed and why, as :attr:`analysis.pipeline.jobs.Outcome.reason`)."""
        self.running.discard(name)
        self.done += ok
        self.failed += not ok
        why = f": {reason}" if reason and not ok else ""
        if self.bar is not None:
            self.bar.update(1)
            self._refresh()
            if not ok:
                self.bar.write(printable(f"  {name}: FAILED after {seconds:.1f} s{why}"), file=self.stream)
            return
        counts = ", ".join(f"{n} {what}" for what, n in self._counts().items())
        finished = self.done + self.failed
        state = "done" if ok else "FAILED"
        self.say(f"  {name}: {state} in {seconds:.1f} s [{finished}/{self.total}: {counts}; {self._left()}]{why}")

    def stage(self, name: str, what: str) -> None:
        """A run's stage (executing, rendering): said as a line when not on a terminal."""
        if what == "executing":
            self.started(name)
        if self.bar is None:
            self.say(f"  {name}: {what}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
