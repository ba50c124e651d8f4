"""Property-based fuzzing of every entry point: whatever the input, the contract of the command line holds.

The contract: the exit status is 0, 1 or 2; nothing prints a traceback; every
problem is one line ``FILE:LINE: COLUMN: found VALUE: RULE``; a failed command
leaves earlier outputs byte for byte as they were; and a value that validation
accepts is exactly the value the outputs use. ``make test`` runs a few dozen
examples per property; ``make fuzz`` (``HYPOTHESIS_PROFILE=fuzz``) runs many more.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.pipeline.runplan import read_plan
from ice_export import make_records, write_export

VALID = Path(__file__).parent / "fixtures" / "valid"
AGENCIES = Path(__file__).parent / "fixtures" / "ice" / "agencies.csv"
PROBLEM = re.compile(r"^\S.*:\d+: .+: found .*: .+$")
REQUESTS_HEADER = (
    "agency,jurisdiction,reported_by,request_kind,period,period_start,period_end,requests,honored,declined,source_ids"
)
#: Examples per property: a few dozen in `make test`, the profile's many under `make fuzz`.
EXAMPLES = settings.default.max_examples if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 25
FUZZ = settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow], deadline=None)

#: Cells a careless or hostile hand might type: digits of other scripts, signs, huge numbers, markup, control bytes.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "0",
        "15",
        "+15",
        "-3",
        "1.5",
        "1e3",
        "1_5",
        "\u0663",
        "\uff11\uff15",
        "9" * 25,
        "18446744073709551616",
        "NaN",
        "inf",
        "2024",
        "2024-02-30",
        "0001-01-01",
        "9999-12-31",
        "FY2019",
        "2018-07/2019-06",
        "2023 (partial)",
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "\x1b[2J",
        "a\nb",
        '"quoted"',
        ";",
        "\x00",
    ]
)
CELL = st.one_of(NASTY, st.text(max_size=12), st.integers(min_value=-(10**20), max_value=10**20).map(str))


@contextmanager
def copy_of_valid() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "raw"
        shutil.copytree(VALID, data)
        yield data


def run(*argv: str) -> tuple[int, str, str]:
    """Run the command line in-process; a usage error's SystemExit becomes its status.

    Any other exception escaping ``main`` is what a user would see as a traceback: it fails the test.
    """
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as stop:
            status = int(stop.code or 0)
        except Exception as error:
            pytest.fail(f"{' '.join(argv[:1])} raised {type(error).__name__}: {error} (a traceback for the user)")
    return status, out.getvalue(), err.getvalue()


def check_contract(status: int, err: str) -> None:
    assert status in (0, 1, 2), status
    lines = err.splitlines()
    if status == 1 and lines and lines[0].startswith("error: ") and "problem" in lines[0]:
        assert all(PROBLEM.match(line) for line in lines[1:]), lines


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@FUZZ
@given(column=st.sampled_from(REQUESTS_HEADER.split(",")), row=st.integers(0, 4), cell=CELL)
def test_validate_claims_and_process_keep_the_contract(column: str, row: int, cell: str) -> None:
    with copy_of_valid() as data:
        table = pd.read_csv(data / "detainer_requests.csv", dtype=str, keep_default_na=False)
        table.loc[row, column] = cell
        table.to_csv(data / "detainer_requests.csv", index=False)
        processed = data.parent / "processed"
        processed.mkdir()
        (processed / "detainer_metrics.csv").write_text("earlier output\n")
        for command in (["validate"], ["claims"], ["process", "--processed-dir", str(processed)]):
            status, _, err = run(*command, "--data-dir", str(data))
            check_contract(status, err)
        if status != 0:
            assert (processed / "detainer_metrics.csv").read_text() == "earlier output\n", "a failure overwrote"
            return
        # What: every accepted count is the value the processed table uses, digit for digit.
        written = pd.read_csv(processed / "detainer_metrics.csv", dtype=str, keep_default_na=False)
        accepted = pd.read_csv(data / "detainer_requests.csv", dtype=str, keep_default_na=False)
        for name in ("requests", "honored", "declined"):
            numbers = [int(c) if c.strip() else None for c in accepted[name]]
            used = [int(c) if c else None for c in written[name]]
            assert sorted(numbers, key=str) == sorted(used, key=str), name


@FUZZ
@given(cells=st.lists(CELL, min_size=1, max_size=10), header=st.booleans())
def test_any_csv_file_gets_problems_not_tracebacks(cells: list[str], header: bool) -> None:
    with copy_of_valid() as data:
        stream = io.StringIO()
        writer = csv.writer(stream)
        if header:
            writer.writerow(REQUESTS_HEADER.split(","))
        writer.writerow(cells)
        (data / "claims.csv").write_text(stream.getvalue(), encoding="utf-8", errors="surrogateescape")
        status, _, err = run("validate", "--data-dir", str(data))
        check_contract(status, err)
        assert status == 1


@FUZZ
@given(data=st.binary(max_size=200))
def test_any_bytes_as_a_table_get_problems_not_tracebacks(data: bytes) -> None:
    with copy_of_valid() as folder:
        (folder / "sources.csv").write_bytes(data)
        status, _, err = run("validate", "--data-dir", str(folder))
        check_contract(status, err)
        assert status == 1


PLAN_VALUES = st.one_of(
    st.sampled_from(['"01-data-overview.ipynb"', '"../../../etc/passwd"', '"/etc/passwd"', "[1, 2]", "{ a = 1 }", "3"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=15).map(
        lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'
    ),
)


@FUZZ
@given(
    name=PLAN_VALUES, notebook=PLAN_VALUES, extra=st.sampled_from(["", "parameters = 5", 'requires = ["/x"]', "x = 1"])
)
def test_any_run_plan_gets_a_message_not_a_traceback(tmp_path_factory, name: str, notebook: str, extra: str) -> None:
    folder = tmp_path_factory.mktemp("plan")
    shutil.copy(Path(__file__).parents[1] / "notebooks" / "01-data-overview.ipynb", folder)
    plan = folder / "runs.toml"
    plan.write_text(f"[[run]]\nname = {name}\nnotebook = {notebook}\n{extra}\n", encoding="utf-8")
    try:
        read_plan(plan)
        valid = True
    except AnalysisError:
        valid = False
    reports = folder / "reports"
    status, out, err = run("report", "--plan", str(plan), "--reports-dir", str(reports), "--list")
    check_contract(status, err)
    assert status == (0 if valid else 1), (status, err)
    assert valid == bool(out) and valid != bool(err), "a valid plan is listed; an invalid one says why"
    assert not reports.exists(), "listing writes nothing"


@pytest.fixture(scope="module")
def ice_export(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return make_records(40, seed=11, layout="ice-2026")


ICE_COLUMNS = [
    "Detainer Prepare Date",
    "Facility State",
    "Detainer Facility",
    "Detainer Facility Code",
    "Anonymized Identifier",
]


@FUZZ
@given(
    column=st.sampled_from(ICE_COLUMNS), row=st.integers(0, 39), cell=CELL, by=st.sampled_from(["agency", "facility"])
)
def test_ingest_ice_and_the_facility_listing_keep_the_contract(
    tmp_path_factory, ice_export: pd.DataFrame, column: str, row: int, cell: str, by: str
) -> None:
    folder = tmp_path_factory.mktemp("ice")
    frame = ice_export.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = cell
    path = write_export(frame, folder / "export.csv", layout="ice-2026", title_block=False)
    out = folder / "out"
    out.mkdir()
    (out / "keep.txt").write_text("not ours\n")
    mapping = ["--agencies", str(AGENCIES)] if by == "agency" else ["--by", "facility"]
    status, _, err = run("ingest-ice", str(path), *mapping, "--out", str(out))
    check_contract(status, err)
    assert status == 1 and tree(out) == {"keep.txt": b"not ours\n"}, "a folder it did not write is left alone"
    status, _, err = run("ingest-ice", str(path), *mapping, "--out", str(folder / "fresh"))
    check_contract(status, err)
    if status == 0:
        from analysis import load_dataset

        load_dataset(folder / "fresh")  # what: an accepted export always gives a folder the loader accepts
    status, _, err = run("ice-facilities", str(path), "--search", cell, "--state", "MA")
    check_contract(status, err)
