"""The package's exceptions: every error it raises derives from ``AnalysisError``."""

from __future__ import annotations

from dataclasses import dataclass


class AnalysisError(Exception):
    """Base class of every error raised by :mod:`analysis`."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    Attributes
    ----------
    file
        The file's path as given to the loader.
    line
        Line number in the file (the header is line 1); 0 when the problem
        concerns the file as a whole.
    column
        Column name, or ``-`` when the problem is not about one column.
    value
        The value found, as text.
    rule
        The rule the value breaks, in plain words.
    """

    file: str
    line: int
    column: str
    value: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: found {self.value}: {self.rule}"


class DataValidationError(AnalysisError, ValueError):
    """Input data broke one or more rules; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.rule))
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the input data:"
        super().__init__("\n".join([heading, *map(str, self.problems)]))


class MetricError(AnalysisError, ValueError):
    """A metric was asked for something the data cannot answer (e.g. unlike periods)."""


class ParameterError(AnalysisError, ValueError):
    """A parameter is unknown, or names an agency, reporter or period the data do not contain."""
