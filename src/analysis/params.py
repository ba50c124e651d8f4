"""Checking notebook parameters, with messages that name the parameter and its valid choices."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from analysis.errors import ParameterError


def _listing(choices: Iterable[object]) -> str:
    return ", ".join(repr(c) for c in choices) or "(none)"


def choose(name: str, value: object, choices: Iterable[object], what: str) -> object:
    """Return ``value`` if it is one of ``choices``; else raise naming ``name``.

    Parameters
    ----------
    name
        The parameter's name, as written in the notebook.
    value
        The value given.
    choices
        The valid values, in the order to list them.
    what
        What the choices are, for the message (e.g. "agencies in the data").
    """
    options = list(choices)
    if value not in options:
        raise ParameterError(
            f"parameter {name}: {value!r} is not one of the {what}; valid choices: {_listing(options)}"
        )
    return value


def check_text(name: str, value: object) -> str:
    """Return ``value`` if it is a non-blank string; else raise naming ``name`` (with a hint for a bare number,
    such as a period written ``2025`` where ``"2025"`` was meant)."""
    if not isinstance(value, str) or not value.strip():
        hint = ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            hint = f' (write it in quotes: {name} = "{value}")'
        raise ParameterError(f"parameter {name}: {value!r} is not valid; it must be non-blank text{hint}")
    return value


def check_folder(name: str, value: object) -> str | Path:
    """Return ``value`` if it names a folder (non-blank text or a path); else raise naming ``name``, as a notebook's
    ``data_dir`` or ``output_dir`` given a number, say, would otherwise fail deep inside the library."""
    if isinstance(value, os.PathLike) and str(value).strip():
        return Path(value)
    if isinstance(value, str) and value.strip():
        return value
    raise ParameterError(f"parameter {name}: {value!r} is not valid; it must name a folder (non-blank text)")


def check_names(given: Mapping[str, object], accepted: Iterable[str], notebook: str) -> None:
    """Raise when ``given`` holds a parameter the notebook does not declare.

    Parameters
    ----------
    given
        The parameters passed to a run.
    accepted
        The names declared in the notebook's ``parameters`` cell.
    notebook
        The notebook's name, for the message.
    """
    known = sorted(accepted)
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ParameterError(f"{notebook} has no parameter {_listing(unknown)}; valid parameters: {_listing(known)}")


class ParameterProblems:
    """The problems of several parameters, gathered so that one message lists them all.

    Each check runs inside :meth:`checking`; a :class:`~analysis.errors.ParameterError` it raises is kept,
    and :meth:`raise_all` raises one error whose message has a line per problem.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        """Run the checks of the ``with`` block, keeping the :class:`~analysis.errors.ParameterError` it raises."""
        try:
            yield
        except ParameterError as error:
            self.messages.extend(str(error).splitlines())

    def raise_all(self, prefix: str = "") -> None:
        """Raise a :class:`~analysis.errors.ParameterError` listing every problem kept, if any; ``prefix`` (e.g.
        ``comparisons[1].``) goes before each parameter's name."""
        if self.messages:
            lines = [line.replace("parameter ", f"parameter {prefix}", 1) for line in self.messages]
            raise ParameterError("\n".join(lines))
