"""Ctrl-C and SIGTERM during a report, kept once seen, so neither can be lost.

Python raises the exception of a signal wherever the main thread happens to be.
Raised inside a finaliser (an object's ``__del__``, a weak reference's
callback), it is only printed and the report would go on to the end and exit 0.
The handlers here also note the signal; the batch's wait loop and the end of
the command check that note, and raise again. Nothing heavy is imported.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from analysis.errors import Terminated

_seen: list[int] = []


def _raise(signum: int) -> None:
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt


def _noted(signum: int, frame: FrameType | None) -> None:
    _seen.append(signum)
    _raise(signum)


def check() -> None:
    """Raise ``KeyboardInterrupt`` (Ctrl-C) or :class:`~analysis.errors.Terminated` (SIGTERM) when one arrived."""
    if _seen:
        _raise(_seen[0])


@contextmanager
def noted() -> Iterator[None]:
    """Within: Ctrl-C and SIGTERM raise as usual and are noted for :func:`check` (previous handlers after)."""
    _seen.clear()
    previous = {signum: signal.signal(signum, _noted) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
        check()  # what: a signal whose exception was swallowed still ends the command as that signal
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
