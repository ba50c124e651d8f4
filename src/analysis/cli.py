"""The ``detainers`` command line (also ``python -m analysis``): parsing, dispatch and exit codes.

Each command imports what it needs when it runs, so that a report with nothing
to do answers at once.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from analysis import paths
from analysis.errors import (
    AnalysisError,
    NoRunsError,
    Terminated,
    UsageError,
    describe_os_error,
    printable,
    shown,
)
from analysis.files import csv_text
from analysis.paths import ReportPaths

#: Year bases of ``ingest-ice`` (kept here so that ``--help`` needs no pandas).
YEAR_BASES = ("calendar", "fiscal")
#: What an ICE export may be, for ``--help``.
EXPORT_HELP = (
    "the export: .csv, .tsv or .txt (comma, tab, semicolon or pipe separated), .parquet, .feather or .arrow, .xlsx or "
    ".xlsm, .dta or .sav, in any published layout (relative to this folder)"
)


def _say(text: str, file: TextIO | None = None) -> None:
    """Print ``text``, every character from the data made safe for a terminal."""
    print(printable(text), file=file or sys.stdout)


def _validate(args: argparse.Namespace) -> int:
    from analysis.data.load import load_dataset

    dataset = load_dataset(args.data_dir)
    _say(f"{dataset.data_dir}: valid")
    _say(f"  {dataset.extent()}; {len(dataset.claims)} published claims")
    return 0


def _process(args: argparse.Namespace) -> int:
    from analysis.data.load import load_dataset
    from analysis.files import check_not_published, check_owned, hold, mark_owned, remove_leftovers
    from analysis.measures.processed import write_metrics

    # What: the published table is written only with the report it belongs to (detainers report), so a table
    # rebuilt alone, even of the committed data, goes to a folder of its own.
    folder = args.processed_dir or paths.plan_outputs(paths.RUN_PLAN, args.data_dir)[1]
    check_not_published(folder, "--processed-dir")
    check_owned(folder, "--processed-dir", [args.data_dir])
    dataset = load_dataset(args.data_dir)
    target = folder / paths.METRICS_TABLE_FILE
    folder.mkdir(parents=True, exist_ok=True)
    lock = hold(folder, "--processed-dir")  # what: not while a report writes its tables there
    try:
        mark_owned(folder)
        remove_leftovers(folder)
        write_metrics(dataset.requests, target)
    finally:
        if lock is not None:
            os.close(lock)
    _say(f"wrote {target} ({len(dataset.requests)} rows)")
    return 0


def _claims(args: argparse.Namespace) -> int:
    from analysis.data.load import load_dataset
    from analysis.measures.verdicts import failures
    from analysis.studies import claims

    study = claims.study(load_dataset(args.data_dir))
    _say(study.text())
    broken = failures(list(study.results))
    if broken:
        names = ", ".join(r.claim["claim_id"] for r in broken)
        _say(f"error: contradicted by their own counts though presented as fact: {names}", file=sys.stderr)
        return 1
    return 0


def _ingest_ice(args: argparse.Namespace) -> int:
    from analysis.ice.export import read_export
    from analysis.ice.ingest import check_out_dir, ingest, write
    from analysis.ice.mapping import read_mapping

    if (args.agencies is None) == (args.by != "facility"):
        _say("error: give either --agencies MAPFILE or --by facility", file=sys.stderr)
        return 2
    out_dir = args.out
    check_out_dir(out_dir, args.force, [args.file, *([] if args.agencies is None else [args.agencies])])
    mapping_file = None if args.agencies is None else args.agencies
    mapping = None if mapping_file is None else read_mapping(mapping_file)
    export = read_export(args.file, args.release, args.max_bad_rows)
    result = ingest(export, mapping, args.year_basis, mapping_file)
    write(result, out_dir)
    observations, found = result.counts.observations, result.duplicates
    layout = export.layout
    _say(f"{shown(export.path.name)}: {len(export):,} records; layout {layout.name} ({layout.description})")
    if export.releases:
        each = "; ".join(f"{shown(name)}: {rows:,}" for name, rows in export.releases.items())
        kept = f" (kept: {shown(export.release)})" if export.release is not None else ""
        _say(f"  records per release ({layout.columns['release']}){kept}: {each}")
    if not export.rejected.empty:
        _say(
            f"  {len(export.rejected):,} rows with problems set aside, not counted "
            f"(listed with their problems in {out_dir / paths.REJECTED_FILE})"
        )
    if export.lacks():
        _say(f"  the file has {export.lacks()}")
    unnamed = int((export.text["facility"].codes < 0).sum())
    if unnamed:
        column = shown(layout.columns["facility"])
        _say(f"  {unnamed:,} records name no facility ({column} blank)")
    what = "facilities" if mapping is None else "agencies"
    _say(f"  {len(observations)} observations for {observations['agency'].nunique()} {what} written to {out_dir}")
    counted, left_out = int(observations["requests"].sum()), int(found.left_out.sum())
    _say(f"  detainers counted: {counted:,}; likely duplicates left out: {left_out:,} ({found.rule})")
    if found.by_file is not None and found.by_24_hours is not None:
        _say(f"  likely duplicates by the file's flag: {found.by_file:,}; by the 24-hour rule: {found.by_24_hours:,}")
    if result.unmapped is not None and not result.unmapped.empty:
        _say(
            f"  unmapped facilities ({int(result.unmapped['records'].sum()):,} records, not counted; "
            f"all listed in {out_dir / paths.UNMAPPED_FILE}):"
        )
        for _, row in result.unmapped.head(10).iterrows():
            code = shown(str(row["facility_code"])) if row["facility_code"] else "(no code)"
            _say(f"    {code} {shown(str(row['facility']))}: {int(row['records']):,}")
    return 0


def _ice_facilities(args: argparse.Namespace) -> int:
    from analysis.ice.export import read_export
    from analysis.ice.listing import facility_listing, mapping_rows

    export = read_export(args.file)
    table = facility_listing(export, args.year_basis, state=args.state, query=args.search)
    if args.as_mapping:
        table = mapping_rows(table, args.search or "")
    _say(csv_text(table).rstrip("\n"))
    return 0


def _path(text: str) -> Path:
    """An argparse type: a path as the user typed it (see :func:`analysis.paths.from_working_dir`), refused when it
    runs into a loop of symbolic links (which no command could resolve)."""
    path = paths.from_working_dir(text)
    try:
        path.resolve()
    except RuntimeError:  # what: pathlib's way of saying "symlink loop" (Python 3.11)
        raise argparse.ArgumentTypeError(f"{shown(text)}: a loop of symbolic links, which leads to no file") from None
    return path


def _count(text: str) -> int:
    """A count given on the command line: 0 or more, digits only."""
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more (got {text!r})")
    return int(text)


def _positive(text: str) -> int:
    """An argparse type: a whole number of 1 or more, in ASCII digits."""
    if not re.fullmatch(r"[0-9]{1,6}", text, re.ASCII) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0, in ASCII digits (with an optional decimal point)."""
    if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,3})?", text, re.ASCII) or float(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return float(text)


def _output_folders(
    plan: Path, data_dir: Path, reports_dir: Path | None = None, processed_dir: Path | None = None
) -> tuple[Path, Path]:
    """The reports and processed folders, each as given, else by default: the published ones for the committed
    plan and data (when no folder given is another one), else a folder of the plan's own
    (:func:`analysis.paths.plan_outputs`), so one published folder is never written without the other."""
    published = (paths.REPORTS_DIR, paths.PROCESSED_DIR)
    given = (reports_dir, processed_dir)
    if paths.is_committed(plan, data_dir) and all(
        folder is None or folder.resolve() == own.resolve() for folder, own in zip(given, published, strict=True)
    ):
        return published
    scratch = paths.plan_outputs(plan, data_dir, reports_dir or processed_dir)
    return reports_dir or scratch[0], processed_dir or scratch[1]


def _report(args: argparse.Namespace) -> int:
    from analysis.pipeline.report import list_plan, report

    reports_dir, processed_dir = _output_folders(args.plan, args.data_dir, args.reports_dir, args.processed_dir)
    folders = ReportPaths(data_dir=args.data_dir, reports_dir=reports_dir, processed_dir=processed_dir, plan=args.plan)
    if args.list:
        list_plan(folders, _say, args.only)
        return 0
    from analysis.pipeline.interrupts import noted

    with noted():  # what: `kill`, a CI timeout end the batch as Ctrl-C does; neither is ever lost on the way
        report(folders, _say, args.only, args.force, args.jobs, args.scheduler, args.connect_timeout)
    if args.screenshots:
        from analysis.pipeline.runplan import read_plan
        from analysis.pipeline.screenshots import take

        for path in take(folders, read_plan(folders.plan)):
            _say(f"  wrote {path}")
    return 0


def _value(value: object) -> str:
    """A published value as the changes list shows it."""
    from analysis.pipeline.changes import ABSENT

    if value is ABSENT:
        return "(not published)"
    return "none" if value is None else value if isinstance(value, str) else json.dumps(value)


def _changes(args: argparse.Namespace) -> int:
    from analysis.errors import ChangesError
    from analysis.pipeline.changes import changed_inputs, changed_numbers

    try:
        changes = changed_numbers(args.processed_dir, args.revision)
        inputs = changed_inputs(args.data_dir, args.revision)
    except ChangesError:
        if args.quiet:  # what: `make report` outside a git clone: there is no history to compare with
            return 0
        raise
    if not changes:
        if not args.quiet:
            _say(f"no published number changed since {args.revision}")
        return 0
    changed = ", ".join(inputs) if inputs else "none"
    _say(f"{len(changes)} published number(s) changed since {args.revision}; input files changed: {changed}")
    for change in changes:
        _say(f"  {change.number_id}: {_value(change.old)} -> {_value(change.new)}")
    return 0


def _processed_dir_option(parser: argparse.ArgumentParser, default: str) -> None:
    """Give ``parser`` the ``--processed-dir`` option (no default value: the command decides), its default said."""
    parser.add_argument(
        "--processed-dir", type=_path, metavar="DIR", help=f"folder for the processed tables (default: {default})"
    )


def _path_option(parser: argparse.ArgumentParser, flag: str, default: Path, what: str, metavar: str = "DIR") -> None:
    """Add an option naming a file or folder, its default shown relative to the project."""
    shown = paths.as_parameter(default)
    parser.add_argument(flag, type=_path, default=default, metavar=metavar, help=f"{what} (default: {shown})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="detainers", description="Validate and analyse the sourced detainer-request dataset."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_dir = argparse.ArgumentParser(add_help=False)
    _path_option(data_dir, "--data-dir", paths.RAW_DIR, "folder with the raw CSV tables")
    validate = commands.add_parser("validate", parents=[data_dir], help="check the raw tables against every rule")
    validate.set_defaults(run=_validate)
    process = commands.add_parser("process", parents=[data_dir], help="write the processed metrics table")
    _processed_dir_option(
        process,
        f"a folder of its own under {paths.SCRATCH_FOLDER}/; the published "
        f"{paths.as_parameter(paths.PROCESSED_DIR)} is written by detainers report only",
    )
    process.set_defaults(run=_process)

    claims = commands.add_parser(
        "claims", parents=[data_dir], help="check the published claims; exit 1 if one expected to hold is contradicted"
    )
    claims.set_defaults(run=_claims)

    ingest = commands.add_parser(
        "ingest-ice", help="count an ICE detainer-records export per agency (or facility) and period"
    )
    ingest.add_argument("file", type=_path, help=EXPORT_HELP)
    ingest.add_argument(
        "--agencies",
        type=_path,
        metavar="MAPFILE",
        help="CSV mapping facility_code or facility_pattern to agency and jurisdiction",
    )
    ingest.add_argument(
        "--by", choices=("agency", "facility"), default="agency", help="count per agency of --agencies, or per facility"
    )
    ingest.add_argument("--force", action="store_true", help="write into --out even if it holds other files")
    ingest.add_argument(
        "--release", metavar="NAME", help="count one release of a merged file (a value of source_file or data_source)"
    )
    ingest.add_argument(
        "--max-bad-rows",
        type=_count,
        default=0,
        metavar="N",
        help="set aside up to N rows with problems (listed in rejected_rows.csv) instead of failing (default 0)",
    )
    ingest.add_argument(
        "--year-basis",
        choices=YEAR_BASES,
        default="calendar",
        help="calendar years (default) or federal fiscal years, October to September (FY2025)",
    )
    _path_option(ingest, "--out", paths.DATA_DIR / "ice" / "ingested", "folder for the observations (ignored by git)")
    ingest.set_defaults(run=_ingest_ice)

    listing = commands.add_parser(
        "ice-facilities",
        help="list an export's facilities with detainers and declines per period; --search finds an agency's",
    )
    listing.add_argument("file", type=_path, help=EXPORT_HELP)
    listing.add_argument("--state", metavar="ST", help="only facilities in this state (USPS code or full name)")
    listing.add_argument("--search", metavar="WORDS", help="facilities whose names hold these words, then near misses")
    listing.add_argument(
        "--year-basis", choices=YEAR_BASES, default="calendar", help="calendar (default) or fiscal years"
    )
    listing.add_argument("--as-mapping", action="store_true", help="print the facilities as a mapping CSV to edit")
    listing.set_defaults(run=_ice_facilities)

    report = commands.add_parser(
        "report",
        parents=[data_dir],
        help="run the notebooks of the run plan and write the report (make report)",
    )
    _processed_dir_option(
        report,
        f"{paths.as_parameter(paths.PROCESSED_DIR)} for the committed data, else a folder of its own under "
        f"{paths.SCRATCH_FOLDER}/",
    )
    report.add_argument(
        "--reports-dir",
        type=_path,
        metavar="DIR",
        help=f"folder for executed notebooks, HTML and figures (default: {paths.as_parameter(paths.REPORTS_DIR)} "
        f"for the committed plan and data, else a folder of the plan's own under {paths.SCRATCH_FOLDER}/)",
    )
    _path_option(report, "--plan", paths.RUN_PLAN, "run plan to execute", metavar="FILE")
    report.add_argument(
        "--only", metavar="RUN", action="append", help="execute only this run of the plan (again for more runs)"
    )
    report.add_argument(
        "--scheduler", metavar="ADDRESS", help="send the runs to this Dask distributed scheduler (tcp://host:8786)"
    )
    report.add_argument(
        "--connect-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="how long to wait for the --scheduler to answer (default: 30)",
    )
    report.add_argument(
        "--list",
        action="store_true",
        help="print the plan's runs (those --only names, where given), grids expanded, and execute nothing",
    )
    report.add_argument("--force", action="store_true", help="execute every run, even those that are up to date")
    report.add_argument(
        "--screenshots",
        action="store_true",
        help="then photograph the index, a growth page and the claims page at 1,400 and 390 px into "
        "REPORTS/screenshots/ (needs Chromium; make screenshots)",
    )
    report.add_argument("--jobs", type=_positive, metavar="N", help="runs executed at once (default: number of CPUs)")
    report.set_defaults(run=_report)

    changes = commands.add_parser(
        "changes",
        parents=[data_dir],
        help="list every published number that differs from a git revision's, with the input files that changed",
    )
    changes.add_argument("revision", nargs="?", default="HEAD", help="the git revision to compare with (default: HEAD)")
    _path_option(changes, "--processed-dir", paths.PROCESSED_DIR, "folder of the processed tables compared")
    changes.add_argument(
        "--quiet", action="store_true", help="say nothing when no number changed or there is no git history"
    )
    changes.set_defaults(run=_changes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 bad input or failure, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # what: the reader of the output went away (e.g. `| head`): nothing more to say
        sys.stderr.close()
        return 0
    except (NoRunsError, UsageError) as error:  # what: an option or a plan that asks for nothing or for what cannot be
        _say(f"error: {error}", file=sys.stderr)
        return 2
    except AnalysisError as error:
        _say(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # what: no space, a read-only disk, no permission: one line, what to do
        _say(f"error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _say("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        _say("terminated", file=sys.stderr)
        return 143


def entry() -> None:
    """The ``detainers`` command (and ``python -m analysis``): :func:`main` on the process's arguments, then exit
    with its status.

    Before the interpreter ends, every object is frozen out of the cycle collector (``gc.freeze``): its last
    collections would walk pandas', matplotlib's and papermill's objects for a fifth of a second, to free nothing
    the end of the process does not. Exit handlers still run.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()
