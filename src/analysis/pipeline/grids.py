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
import unicodedata
from collections.abc import Collection
from pathlib import Path
from typing import Any

from analysis.files import GUARD, unguard

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
    """``value`` as part of a file name: lower-case ASCII letters and digits joined by hyphens, a letter with an
    accent as the letter (``Café`` gives ``cafe``; other characters are left out)."""
    letters = "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))
    text = _UNSAFE.sub("-", letters.lower().encode("ascii", "ignore").decode("ascii")).strip("-")
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


def read_rows(table: Path, keep: Collection[str] | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a grid's CSV table, as text stripped of surrounding spaces and in Unicode's NFC
    form (as :func:`analysis.data.load.load_dataset` reads the data); each row holds only the columns in ``keep``
    (all when ``None``), so a table of millions of rows costs only what the grid uses.

    Raises
    ------
    OSError
        When ``table`` is not a regular file (a pipe would never end), or cannot be read.
    """
    if not table.is_file():
        raise OSError(f"{table} is not a regular file")
    with table.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = [name.strip() for name in next(reader, [])]
        kept = [(i, name) for i, name in enumerate(header) if keep is None or name in keep]
        rows = []
        # What: each distinct cell is kept once (periods, counts, an agency that is also its own reporter), so a
        # table of 200,000 rows costs the runner tens of megabytes, not hundreds.
        same: dict[str, str] = {}
        for record in reader:
            if not record:
                continue  # what: a blank line, as csv.DictReader skips it
            row = {}
            for i, name in kept:
                cell = record[i].strip() if i < len(record) else ""
                cell = unguard(cell) if cell[:1] == GUARD else cell
                if not cell.isascii():  # what: in NFC, as the loader reads the data, so a value matches its agency
                    cell = unicodedata.normalize("NFC", cell)
                row[name] = same.setdefault(cell, cell)
            rows.append(row)
        return header, rows


def expand(
    template: str, rows: list[dict[str, str]], spec: dict[str, Any]
) -> tuple[list[tuple[str, dict[str, object]]], list[str]]:
    """The (run name, parameters) of each run a grid gives, in table order; and what each filter did, in words.

    ``spec`` holds ``columns`` (parameter -> column), ``parameters`` (fixed),
    ``where``, ``at_least`` and ``every`` (see the module's description). The
    second value says how many rows came in, how many each filter removed, and
    how many runs came out.
    """
    columns: dict[str, str] = spec["columns"]
    where = {
        column: [unicodedata.normalize("NFC", str(v)) for v in (values if isinstance(values, list) else [values])]
        for column, values in spec["where"].items()
    }
    said = [f"{len(rows)} rows in"]
    kept = rows
    for column, listed in where.items():
        before, kept = len(kept), [row for row in kept if row.get(column) in listed]
        said.append(f"where {column} is one of {', '.join(listed)}: {before - len(kept)} removed")
    for column, least in spec["at_least"].items():
        before = len(kept)
        counts = [row for row in kept if _COUNT.fullmatch(row.get(column, ""))]
        kept = [row for row in counts if int(row[column]) >= least]
        not_counts = (
            f" ({before - len(counts)} of them not a count written with digits)" if len(counts) < before else ""
        )
        said.append(f"at_least {column} {least}: {before - len(kept)} removed{not_counts}")
    groups: dict[tuple[str, ...], set[str]] = {}
    for row in kept:
        key = tuple(row.get(column, "") for column in columns.values())
        groups.setdefault(key, set()).add(row.get(spec["every"], "") if spec["every"] else "")
    needed = set(where.get(spec["every"], [])) if spec["every"] else set()
    chosen = [key for key, seen in groups.items() if needed <= seen]
    if spec["every"]:
        said.append(
            f"every {spec['every']} ({', '.join(sorted(needed)) or 'no value listed in where'}): "
            f"{len(groups) - len(chosen)} of {len(groups)} groups removed"
        )
    runs = []
    for key in chosen:
        values = dict(zip(columns, key, strict=True))
        name = template.format(**{field: slug(values.get(field, "")) for field in fields(template)})
        runs.append((name, {**spec["parameters"], **values}))
    said.append(f"{len(runs)} {'run' if len(runs) == 1 else 'runs'} out")
    # What: every name ends in a digest of its values, so values that slug alike stay apart, and a run keeps
    # its name whatever rows the table gains or loses.
    named = [(f"{name}-{hashlib.sha256(repr(sorted(p.items())).encode()).hexdigest()[:DIGEST]}", p) for name, p in runs]
    return named, said
