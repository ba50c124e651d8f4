"""Run-plan grids: one run of a notebook per row (or group of rows) of a table, named safely and uniquely.

A ``[[grid]]`` entry of the plan names a CSV table (the ``--by facility``
output of ``detainers ingest-ice``, or any CSV), which columns give which
parameters, fixed parameters, and filters: ``where`` keeps rows whose column
holds one of the listed values, ``at_least`` keeps rows whose column is at
least a number, and ``every`` keeps only groups that have a row for every
value ``where`` lists for that column (e.g. both compared periods). Run names
come from the ``name`` template filled with the values as safe file names,
followed by a short digest of the values, so that values that make the same
name stay apart and a run keeps its name when other rows come and go. Only
the standard library is used: expanding a plan stays fast.
"""

from __future__ import annotations

import csv
import hashlib
import re
import string
from pathlib import Path
from typing import Any

from analysis.files import unguard

#: Keys of a [[grid]] entry.
GRID_KEYS = (
    "name",
    "notebook",
    "rows",
    "columns",
    "parameters",
    "where",
    "at_least",
    "every",
    "requires",
    "how_to_enable",
)
_UNSAFE = re.compile(r"[^a-z0-9]+")
#: Hex digits of the digest that ends a grid run's name: 64 bits, so two grid rows never share a name in practice.
DIGEST = 16
_COUNT = re.compile(r"[0-9]+", re.ASCII)


def slug(value: str) -> str:
    """``value`` as part of a file name: lower-case ASCII letters and digits joined by hyphens."""
    text = _UNSAFE.sub("-", value.lower().encode("ascii", "ignore").decode("ascii")).strip("-")
    return text[:60].strip("-") or "x"


def fields(template: str) -> list[str]:
    """The ``{column}`` fields of a run-name template.

    Raises
    ------
    ValueError
        When the template is not one: a brace left open, or a field that is not a plain name (``{}``,
        ``{0}``, ``{agency[0]}``, ``{agency.__class__}``) or carries a conversion or format spec
        (``{agency!r}``, ``{agency:%}``). The template is filled with values from the data, so it
        may do nothing but place them.
    """
    found = []
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"{written} is not a plain {{column}} field")
        found.append(field)
    return found


def read_rows(table: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a grid's CSV table, as text stripped of surrounding spaces.

    Raises
    ------
    OSError
        When ``table`` is not a regular file (a pipe would never end), or cannot be read.
    """
    if not table.is_file():
        raise OSError(f"{table} is not a regular file")
    with table.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        rows = [{k.strip(): unguard((v or "").strip()) for k, v in row.items() if k is not None} for row in reader]
        return [name.strip() for name in reader.fieldnames or []], rows


def _kept(row: dict[str, str], where: dict[str, list[str]], at_least: dict[str, int]) -> bool:
    if any(row.get(column) not in values for column, values in where.items()):
        return False
    for column, least in at_least.items():
        cell = row.get(column, "")
        if not _COUNT.fullmatch(cell) or int(cell) < least:
            return False
    return True


def expand(template: str, rows: list[dict[str, str]], spec: dict[str, Any]) -> list[tuple[str, dict[str, object]]]:
    """The (run name, parameters) of each run a grid gives, in table order.

    ``spec`` holds ``columns`` (parameter -> column), ``parameters`` (fixed),
    ``where``, ``at_least`` and ``every`` (see the module's description).
    """
    columns: dict[str, str] = spec["columns"]
    where = {
        column: [str(v) for v in (values if isinstance(values, list) else [values])]
        for column, values in spec["where"].items()
    }
    kept = [row for row in rows if _kept(row, where, spec["at_least"])]
    groups: dict[tuple[str, ...], set[str]] = {}
    for row in kept:
        key = tuple(row.get(column, "") for column in columns.values())
        groups.setdefault(key, set()).add(row.get(spec["every"], "") if spec["every"] else "")
    needed = set(where.get(spec["every"], [])) if spec["every"] else set()
    chosen = [key for key, seen in groups.items() if needed <= seen]
    runs = []
    for key in chosen:
        values = dict(zip(columns, key, strict=True))
        name = template.format(**{field: slug(values.get(field, "")) for field in fields(template)})
        runs.append((name, {**spec["parameters"], **values}))
    # What: every name ends in a digest of its values, so values that slug alike stay apart, and a run keeps
    # its name whatever rows the table gains or loses.
    return [(f"{name}-{hashlib.sha256(repr(sorted(p.items())).encode()).hexdigest()[:DIGEST]}", p) for name, p in runs]
