"""Which published numbers moved: the processed outputs of a git revision against the working tree.

Every number the report publishes in ``data/processed/`` has a stable id, built from what the number is, never
from its position:

- in ``metrics.json``, the run, then the keys down to the number; a list's items are named by their identifying
  fields (``request_kind``, ``agency``, ``reported_by``, ``period``, joined by ``/``), e.g.
  ``02-growth-boston.pct_change``, ``03-denial-rates-boston.detainer/2025.denial_rate``,
  ``04-claims.bpd-2025-all-declined.verdict``;
- in ``detainer_metrics.csv``, ``detainer_metrics/AGENCY/REPORTED_BY/REQUEST_KIND/PERIOD.COLUMN``.

A ``/`` inside a field's value is written ``%2F`` (and ``%`` as ``%25``), so two rows never share an id (an agency
``A/B`` reported by ``C`` and an agency ``A`` reported by ``B/C``).

Nothing here is written into the report: the report's bytes never depend on git history.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import ChangesError
from analysis.paths import METRICS_JSON_FILE, METRICS_TABLE_FILE

#: The fields that name an item of a list of results (and are not themselves published numbers).
ID_FIELDS = ("request_kind", "agency", "reported_by", "period", "base_period", "compare_period")
#: Text results that are published verdicts, not prose: compared like numbers.
VERDICT_KEYS = ("verdict", "basis")
#: The columns of the processed table that identify a row, and those that are its published numbers.
TABLE_KEY = ("agency", "reported_by", "request_kind", "period")
TABLE_NUMBERS = (
    "requests",
    "honored",
    "declined",
    "denial_rate",
    "denial_ci_low",
    "denial_ci_high",
    "answered_rate",
    "answered_ci_low",
    "answered_ci_high",
    "change_from_previous",
    "pct_change_from_previous",
)


class _Absent:
    """A number one side does not publish at all (unlike ``None``: published, and undefined)."""

    def __repr__(self) -> str:
        return "absent"


#: What :class:`Change` holds on the side where the number does not exist.
ABSENT = _Absent()


@dataclass(frozen=True)
class Change:
    """One published number that differs: its stable id, and its value before and now (``None``: published as
    undefined; :data:`ABSENT`: not published on that side)."""

    number_id: str
    old: object
    new: object


def _part(value: object) -> str:
    """A field's value as one part of an id joined by ``/``: its own ``%`` and ``/`` escaped."""
    return str(value).replace("%", "%25").replace("/", "%2F")


def _leaves(prefix: str, value: Any) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{prefix}.{key}", item)
    elif isinstance(value, list):
        seen: dict[str, int] = {}
        for number, item in enumerate(value):
            named = [
                _part(item[field]) for field in ID_FIELDS if isinstance(item, dict) and item.get(field) is not None
            ]
            label = "/".join(named) if named else str(number)
            # What: two items named alike keep apart (the second ``#2``), never one hiding the other.
            seen[label] = seen.get(label, 0) + 1
            label = label if seen[label] == 1 else f"{label}#{seen[label]}"
            rest = {k: v for k, v in item.items() if k not in ID_FIELDS} if isinstance(item, dict) else item
            yield from _leaves(f"{prefix}.{label}", rest)
    elif value is None or isinstance(value, (int, float)) or prefix.rsplit(".", 1)[-1] in VERDICT_KEYS:
        yield prefix, value


def metrics_numbers(text: str) -> dict[str, object]:
    """The published numbers of a ``metrics.json`` text, by stable id (empty for no text)."""
    if not text:
        return {}
    merged = json.loads(text)
    if not isinstance(merged, dict):
        raise ValueError("not a JSON object of runs")
    return {
        number_id: value
        for run, entry in merged.items()
        if isinstance(entry, dict)
        for number_id, value in _leaves(run, entry.get("results"))
    }


def table_numbers(text: str) -> dict[str, object]:
    """The published numbers of a ``detainer_metrics.csv`` text, by stable id (empty for no text)."""
    numbers: dict[str, object] = {}
    for row in csv.DictReader(io.StringIO(text)):
        key = "/".join(_part(row.get(column) or "") for column in TABLE_KEY)
        for column in TABLE_NUMBERS:
            if column in row:
                numbers[f"detainer_metrics/{key}.{column}"] = row[column] or None
    return numbers


def _git(folder: Path, *argv: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(folder), *argv], capture_output=True, text=True, check=False)
    except OSError as error:
        raise ChangesError(
            f"git could not be run ({error.strerror}); the changes need the project's git history"
        ) from None
    if done.returncode != 0:
        raise ChangesError(f"git {' '.join(argv)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _committed(folder: Path, revision: str, name: str) -> str:
    """The text of ``folder/name`` at ``revision`` ("" when it did not exist then)."""
    root = Path(_git(folder, "rev-parse", "--show-toplevel").strip())
    relative = os.path.relpath((folder / name).resolve(), root.resolve())
    listed = _git(root, "ls-tree", "--name-only", revision, "--", relative).strip()
    return _git(root, "show", f"{revision}:{relative}") if listed else ""


def _current(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _numbers(read: Callable[[str], str], where: str) -> dict[str, object]:
    """The published numbers of the two processed files, each read by ``read`` (its name given)."""
    numbers: dict[str, object] = {}
    for name, parse in ((METRICS_JSON_FILE, metrics_numbers), (METRICS_TABLE_FILE, table_numbers)):
        try:
            numbers |= parse(read(name))
        except (ValueError, csv.Error) as error:  # what: not UTF-8 (a ValueError too), not JSON, not CSV
            raise ChangesError(f"{name} {where} cannot be read as the report writes it ({error})") from None
        except RecursionError:
            raise ChangesError(f"{name} {where} cannot be read as the report writes it (nested too deeply)") from None
    return numbers


def _same(old: object, new: object) -> bool:
    """Whether a published number is unchanged (a NaN published twice is unchanged, though NaN != NaN)."""
    if isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new):
        return True
    return old == new


def changed_numbers(processed_dir: Path, revision: str = "HEAD") -> list[Change]:
    """Every published number of ``processed_dir`` whose value at ``revision`` differs from the working tree's,
    in id order (one absent on either side counts as changed).

    Raises
    ------
    ChangesError
        When git cannot be run, ``processed_dir`` is not in a git repository, ``revision`` does not exist, or
        ``metrics.json`` on either side is not JSON.
    """
    try:
        _git(processed_dir, "rev-parse", "--show-toplevel")
    except ChangesError:
        raise ChangesError(
            f"{processed_dir} is not in a git repository; the changes compare with its history"
        ) from None
    try:
        _git(processed_dir, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except ChangesError:
        raise ChangesError(f"{revision!r} is not a revision of the repository (a commit, branch or tag)") from None
    old = _numbers(lambda name: _committed(processed_dir, revision, name), f"at {revision}")
    new = _numbers(lambda name: _current(processed_dir / name), "in the working tree")
    return [
        Change(number_id, old.get(number_id, ABSENT), new.get(number_id, ABSENT))
        for number_id in sorted(old.keys() | new.keys())
        if not _same(old.get(number_id, ABSENT), new.get(number_id, ABSENT))
    ]


def changed_inputs(data_dir: Path, revision: str = "HEAD") -> list[str]:
    """The files of ``data_dir`` that differ from ``revision`` (changed, added, removed or new), relative to the
    repository, in name order."""
    root = Path(_git(data_dir, "rev-parse", "--show-toplevel").strip())
    relative = os.path.relpath(data_dir.resolve(), root.resolve())
    changed = _git(root, "diff", "--name-only", revision, "--", relative).splitlines()
    new = _git(root, "ls-files", "--others", "--exclude-standard", "--", relative).splitlines()
    return sorted(set(changed) | set(new))
