"""Holding Python's cycle collector while a block makes many objects and few cycles."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def no_cycle_collection(freeze: bool = False) -> Iterator[None]:
    """Hold the cycle collector during the block: a million rows of a file, or a library's imports, hold few
    cycles, and collecting after every few hundred new objects costs more than making them.

    With ``freeze``, every object alive at the end is moved out of the collector's reach (:func:`gc.freeze`), so
    no later collection walks it again, nor (in a process forked from this one) copies its memory pages.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
