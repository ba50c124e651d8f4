"""Which facilities belong to which agency: the mapping file, and each record's agency under it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import re2

from analysis.data.checks import PLAIN_KEY_RULE, as_text, is_plain_key
from analysis.data.csvfile import read_text_table
from analysis.errors import DataValidationError, Problem, printable
from analysis.ice.export import Export

MAPPING_COLUMNS = ("facility_code", "facility_pattern", "agency", "jurisdiction")


def compile_pattern(pattern: str) -> Any:
    """``pattern`` (a user's regular expression) compiled with RE2, ignoring case: matching takes time linear in
    the name, whatever the pattern (``^(a+)+$`` cannot stall a run), and RE2 has no backreferences or lookaround.

    Raises
    ------
    re2.error
        When RE2 cannot compile it (the reason is in the error).
    """
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # what: the reason is told as a problem of the mapping file, not logged
    return re2.compile(pattern, options)


def _reason(error: Exception) -> str:
    detail = error.args[0] if error.args else error
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)


@dataclass(frozen=True)
class Mapping:
    """Facilities to agencies: exact codes first, then name patterns (first match wins)."""

    codes: dict[str, tuple[str, str]]
    #: Compiled with :func:`compile_pattern` (RE2), each with its agency and jurisdiction.
    patterns: list[tuple[Any, str, str]]
    #: The mapping file, and the first line giving each code (for a problem found against an export).
    path: str
    code_lines: dict[str, int]


def _row_problems(
    name: str, line: int, row: pd.Series, codes: dict[str, tuple[str, str, int]], places: dict[str, tuple[str, int]]
) -> list[Problem]:
    problems = [Problem(name, line, c, "", "must not be blank") for c in ("agency", "jurisdiction") if not row[c]]
    agency, jurisdiction = row["agency"], row["jurisdiction"]
    if agency and not is_plain_key(agency):  # what: the rule the written data folder is loaded under
        problems.append(Problem(name, line, "agency", agency, PLAIN_KEY_RULE))
    if agency in places and places[agency][0] != jurisdiction:
        rule = f"an agency has one jurisdiction (line {places[agency][1]} gives it {places[agency][0]})"
        problems.append(Problem(name, line, "jurisdiction", jurisdiction, rule))
    code, pattern = row["facility_code"], row["facility_pattern"]
    if bool(code) == bool(pattern):
        found = f"facility_code={code or '(blank)'}; facility_pattern={pattern or '(blank)'}"
        rule = "give exactly one of facility_code and facility_pattern"
        problems.append(Problem(name, line, "facility_code, facility_pattern", found, rule))
    elif code and code in codes and codes[code][:2] != (row["agency"], row["jurisdiction"]):
        rule = f"a facility code may belong to one agency only (line {codes[code][2]} gives it to {codes[code][0]})"
        problems.append(Problem(name, line, "facility_code", code, rule))
    elif pattern:
        try:
            compile_pattern(pattern)
        except re2.error as error:
            rule = f"must be a valid RE2 regular expression ({_reason(error)})"
            problems.append(Problem(name, line, "facility_pattern", pattern, rule))
    return problems


def read_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file (CSV with :data:`MAPPING_COLUMNS`).

    Each row gives either a ``facility_code`` or a ``facility_pattern`` (a
    regular expression in RE2's syntax, searched in the facility name, ignoring case), and the
    ``agency`` and ``jurisdiction`` it belongs to. A code may appear on several
    rows only if they all give it to the same agency, and an agency has one
    jurisdiction throughout.

    Raises
    ------
    DataValidationError
        Listing every problem, as for the raw tables.
    """
    table = read_text_table(Path(path), MAPPING_COLUMNS)
    problems = list(table.problems)
    codes: dict[str, tuple[str, str, int]] = {}
    places: dict[str, tuple[str, int]] = {}
    patterns: list[tuple[Any, str, str]] = []
    for index, row in table.frame.iterrows():
        line = cast(int, index)
        found = _row_problems(str(path), line, row, codes, places)
        places.setdefault(row["agency"], (row["jurisdiction"], line))
        problems += found
        if found:
            continue
        if row["facility_code"]:
            codes.setdefault(row["facility_code"], (row["agency"], row["jurisdiction"], line))
        else:
            patterns.append((compile_pattern(row["facility_pattern"]), row["agency"], row["jurisdiction"]))
    if problems:
        raise DataValidationError(problems)
    return Mapping(
        {code: (a, j) for code, (a, j, _) in codes.items()},
        patterns,
        str(path),
        {code: line for code, (_, _, line) in codes.items()},
    )


def _code_forms(code: str) -> dict[str, None]:
    """The ways a mapping row may give ``code``: as ICE typed it, as the tables the package writes give it
    (``facilities.csv``: :func:`analysis.data.checks.as_text`), and as the terminal shows it (``ice-facilities``:
    :func:`analysis.errors.printable`); one form for an ordinary code."""
    return dict.fromkeys((code, as_text(code), printable(code)))


#: The rule broken when one mapping code stands for two codes of an export.
AMBIGUOUS_CODE_RULE = (
    "names two facility codes of the export (one as typed, another written with its escapes): map these "
    "facilities by a facility_pattern on their names instead"
)


def _codes_mapped(codes: list[str], mapping: Mapping) -> list[tuple[str, str] | None]:
    """Each export code's (agency, jurisdiction) under ``mapping`` (``None``: no row gives it), a code given in any
    of its forms (:func:`_code_forms`).

    Raises
    ------
    DataValidationError
        When a mapping code is a form of two of ``codes`` (a code holding ``\\x1b`` typed out, and one holding
        the escape character itself): which one the row meant cannot be told, and guessing would count one
        facility's records for another's agency. When two forms of one code are given to two agencies.
    """
    meant: dict[str, list[str]] = {}
    for code in codes:
        for form in _code_forms(code):
            if form in mapping.codes:
                meant.setdefault(form, []).append(code)
    problems = [
        Problem(mapping.path, mapping.code_lines.get(form, 0), "facility_code", form, AMBIGUOUS_CODE_RULE)
        for form, exports in meant.items()
        if len(exports) > 1
    ]
    given: dict[str, str] = {}
    for form, exports in meant.items():
        first = given.setdefault(exports[0], form)
        if mapping.codes[first] != mapping.codes[form]:  # what: one code, written two ways, for two agencies
            rule = f"a facility code may belong to one agency only (line {mapping.code_lines.get(first, 0)} gives it, "
            rule += f"written another way, to {mapping.codes[first][0]})"
            problems.append(Problem(mapping.path, mapping.code_lines.get(form, 0), "facility_code", form, rule))
    if problems:
        raise DataValidationError(problems)
    return [mapping.codes[given[code]] if code in given else None for code in codes]


def facility_agencies(export: Export, mapping: Mapping) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Each record's agency as an index into the returned (agency, jurisdiction) list; -1 where unmapped.

    Decided once per distinct facility code and name, then looked up per record.

    Raises
    ------
    DataValidationError
        When a code of the mapping stands for two codes of the export (see :func:`_codes_mapped`).
    """
    places = sorted(set(mapping.codes.values()) | {(a, j) for _, a, j in mapping.patterns})
    index = {place: number for number, place in enumerate(places)}
    codes, names = export.text["facility_code"], export.text["facility"]
    by_code = np.array([-1 if p is None else index[p] for p in _codes_mapped(list(codes.values), mapping)] + [-1])
    by_name = np.array(
        [next((index[(a, j)] for p, a, j in mapping.patterns if p.search(n)), -1) for n in names.values] + [-1]
    )
    agency = by_code[codes.codes]  # what: a code of -1 picks the trailing -1
    return np.where(agency >= 0, agency, by_name[names.codes]), places
