"""``detainers ingest-ice``: an export counted per agency (or facility) and period, written as a data folder.

The folder holds the three tables the loader reads (requests, sources, no
claims), plus what the notebooks of ICE's records use: the lift reasons and
the monthly series, and the facilities (``--by facility``) or the facilities
no mapping row matched. It is written only into a folder that is empty or
that this command wrote before, unless forced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.data.checks import as_text
from analysis.data.schema import CLAIMS_COLUMNS
from analysis.errors import DataValidationError, OutputFolderError, Problem
from analysis.files import check_not_project_folder, check_not_published, csv_text, write_text_atomic
from analysis.ice.aggregate import Counter, Counts, Duplicates, duplicates, source_row
from analysis.ice.export import Export
from analysis.ice.facilities import facilities
from analysis.ice.mapping import Mapping, facility_agencies

#: Every file the command may write; a folder holding anything else is not overwritten without --force.
OUTPUT_FILES = (
    paths.REQUESTS_FILE,
    paths.SOURCES_FILE,
    paths.CLAIMS_FILE,
    paths.UNMAPPED_FILE,
    paths.FACILITIES_FILE,
    paths.LIFT_REASONS_FILE,
    paths.MONTHLY_FILE,
    paths.INGEST_MANIFEST,
    paths.REJECTED_FILE,
)


@dataclass(frozen=True)
class Ingest:
    """What an ingest counted, what it left out, and the tables it writes."""

    export: Export
    counts: Counts
    duplicates: Duplicates
    source: dict[str, str]
    facilities: pd.DataFrame | None
    unmapped: pd.DataFrame | None


def _unmapped(export: Export, rows: np.ndarray) -> pd.DataFrame:
    """Distinct facilities of ``rows`` with their record counts, most records first."""
    codes, names = export.text["facility_code"], export.text["facility"]
    # What: counted on integer keys (code, name), so only the distinct facilities are ever decoded.
    width = len(names.values) + 1
    key = (codes.codes[rows].astype(np.int64) + 1) * width + names.codes[rows] + 1
    keys, records = np.unique(key, return_counts=True)
    counted = pd.DataFrame(
        {
            "facility_code": codes.decode(keys // width - 1),
            "facility": names.decode(keys % width - 1),
            "records": records.astype(np.int64),
        }
    )
    return counted.sort_values(
        ["records", "facility_code", "facility"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def ingest(export: Export, mapping: Mapping | None, year_basis: str, mapping_file: Path | None = None) -> Ingest:
    """Count ``export`` per agency of ``mapping``, or per facility when ``mapping`` is ``None``.

    Raises
    ------
    DataValidationError
        When no record's facility matches the mapping (nothing would be counted).
    """
    with ThreadPoolExecutor(max_workers=2) as background:
        # What: finding the likely duplicates and tallying every record are the two largest steps, need nothing of
        # each other, and run mostly without the GIL in numpy and pandas: they run side by side (and the duplicates
        # by the file's flag beside those by our rule).
        pending = background.submit(duplicates, export, background)
        if mapping is None:
            table = facilities(export)
            group, places = table.of_record, list(zip(table.table["agency"], table.table["jurisdiction"], strict=True))
        else:
            group, places = facility_agencies(export, mapping)
        counter = Counter(export, group, places, year_basis) if (group >= 0).any() else None
        found = pending.result()
    source = source_row(export, found.rule)
    if mapping is None:
        assert counter is not None  # what: every record has a facility
        return Ingest(export, counter.counts(found.left_out, source["source_id"]), found, source, table.table, None)
    unmapped = _unmapped(export, np.flatnonzero(~found.left_out & (group < 0)))
    if counter is None:
        top = "; ".join(f"{r['facility_code'] or '(no code)'} {r['facility']}" for _, r in unmapped.head(5).iterrows())
        rule = "at least one row must match a facility of the export (by code, or by a pattern in its name)"
        raise DataValidationError(
            [Problem(str(mapping_file or "mapping"), 0, "-", f"no match; the export's largest are {top}", rule)]
        )
    return Ingest(export, counter.counts(found.left_out, source["source_id"]), found, source, None, unmapped)


def check_out_dir(out_dir: Path, force: bool, inputs: Sequence[Path] = ()) -> None:
    """Refuse a folder that holds files this command did not write (unless ``force``); refuse the project's own
    folders, the published ``reports/`` and ``data/processed/`` (and what lies in them), and a folder where a file
    the command writes would replace one of its ``inputs`` (the export, the mapping), even with ``force``.

    Raises
    ------
    OutputFolderError
        Naming the folder and why. Nothing is written here.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"{out_dir}: not a folder: --out must name a folder")
    check_not_project_folder(out_dir, "--out")
    check_not_published(out_dir, "--out")
    for given in inputs:
        written = [out_dir / name for name in OUTPUT_FILES]
        if given.exists() and any(
            given.resolve() == p.resolve() or (p.exists() and p.samefile(given)) for p in written
        ):
            raise OutputFolderError(
                f"{out_dir}: the ingest would write over its own input {given}; name another folder with --out"
            )
    present = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    if not present or force:
        return
    foreign = [name for name in present if name not in OUTPUT_FILES]
    if foreign or paths.INGEST_MANIFEST not in present:
        listed = ", ".join(foreign[:5] or present[:5])
        raise OutputFolderError(
            f"{out_dir}: holds files this command did not write ({listed}); choose an empty or new folder, "
            "or pass --force to write there anyway"
        )


def _text_escaped(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``table`` with the text of ``columns`` as ICE typed it, but each control, zero-width or line-separating
    character written as its escape (:func:`analysis.data.checks.as_text`): a facility's code or name reaches no
    terminal or spreadsheet as a raw escape sequence, and a mapping row may give a code as written here."""
    escaped = table.copy()
    for column in columns:
        escaped[column] = [as_text(str(value)) for value in table[column]]
    return escaped


def write(result: Ingest, out_dir: Path) -> list[Path]:
    """Write the data folder (see the module's description) as a whole; returns the files written.

    Every file goes to a new folder beside ``out_dir`` first; only when all are
    written does it take the place of ``out_dir`` (see :func:`_swap_in`). A
    failure on the way (a full disk, say) removes the new folder and leaves
    ``out_dir`` as it was, so a folder never mixes two ingests.

    Raises
    ------
    OSError
        When a file or the folder cannot be written (``out_dir`` unchanged).
    """
    files = {
        paths.REQUESTS_FILE: result.counts.observations,
        paths.SOURCES_FILE: pd.DataFrame([result.source]),
        paths.CLAIMS_FILE: pd.DataFrame(columns=list(CLAIMS_COLUMNS)),
        paths.LIFT_REASONS_FILE: result.counts.lift_reasons,
        paths.MONTHLY_FILE: result.counts.monthly,
    }
    if result.facilities is not None:
        listed = result.facilities.drop(columns=["agency", "jurisdiction"])
        files[paths.FACILITIES_FILE] = _text_escaped(listed, ("code", "name", "city", "state", "aor"))
    if result.unmapped is not None:
        files[paths.UNMAPPED_FILE] = _text_escaped(result.unmapped, ("facility_code", "facility"))
    if not result.export.rejected.empty:
        files[paths.REJECTED_FILE] = result.export.rejected
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    new.chmod(0o777 & ~umask)  # what: as a folder made with mkdir, not mkdtemp's owner-only (it becomes out_dir)
    try:
        for name, frame in files.items():
            write_text_atomic(new / name, csv_text(frame))
        manifest = {"source": result.source["title"], "files": sorted(files), "set_aside": len(result.export.rejected)}
        write_text_atomic(new / paths.INGEST_MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        _swap_in(new, out_dir)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return [*(out_dir / name for name in files), out_dir / paths.INGEST_MANIFEST]


def _swap_in(new: Path, out_dir: Path) -> None:
    """Put the written folder ``new`` in the place of ``out_dir``.

    Only renames happen here, which a full disk cannot stop. When ``out_dir``
    holds files no ingest writes (kept with ``--force``), the new files are
    renamed into it one by one and its older outputs removed; otherwise the
    folders trade places.
    """
    if not out_dir.exists():
        os.replace(new, out_dir)
        return
    if any(entry.name not in OUTPUT_FILES for entry in out_dir.iterdir()):
        written = {entry.name for entry in new.iterdir()}
        for name in sorted(written):
            os.replace(new / name, out_dir / name)
        for stale in sorted(set(OUTPUT_FILES) - written):
            (out_dir / stale).unlink(missing_ok=True)  # what: a file an earlier ingest wrote, which this one does not
        new.rmdir()
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    os.replace(out_dir, old / out_dir.name)
    os.replace(new, out_dir)
    shutil.rmtree(old, ignore_errors=True)
