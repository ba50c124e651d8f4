"""The source notebooks: their shape, their defaults, other parameters, and bad parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from papermill.exceptions import PapermillExecutionError

from analysis import ParameterError
from analysis.errors import OutputFolderError
from analysis.paths import NOTEBOOKS_DIR, REPORTS_DIR, RUN_PLAN
from analysis.pipeline.engine import ENGINE
from analysis.pipeline.runplan import Run, check_run, declared_parameters, read_plan
from conftest import numbers

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "valid"
FICTIONAL = "Fictional City Police Department"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def execute(notebook: str, tmp_path: Path, **parameters: object) -> Path:
    """Run a source notebook with papermill, writing into ``tmp_path``; return its output folder."""
    output = tmp_path / "out"
    pm.execute_notebook(
        str(NOTEBOOKS_DIR / notebook),
        str(tmp_path / notebook),
        parameters={"output_dir": str(output), **parameters},
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
        engine_name=ENGINE,
    )
    return output


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_source_notebook_shape(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "commit without outputs"
    tagged = [cell for cell in code if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert {"data_dir", "output_dir"} <= set(re.findall(r"^(\w+) =", tagged[0].source, re.M))
    assert not any(re.search(r"^\s*(def|class)\s", cell.source, re.M) for cell in code)
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize(
    ("notebook", "run"),
    [
        ("01-data-overview.ipynb", "01-data-overview"),
        ("02-growth.ipynb", "02-growth-boston"),
        ("03-denial-rates.ipynb", "03-denial-rates-boston"),
    ],
)
def test_defaults_reproduce_the_boston_report(notebook: str, run: str) -> None:
    """A notebook opened as it is computes its Boston run of the committed report: its defaults are that run's
    parameters and data folder. (The run reproducing byte for byte is test_reproduce's; nbval re-executes it.)"""
    (planned,) = [r for r in read_plan(RUN_PLAN) if r.name == run]
    assert planned.notebook == NOTEBOOKS_DIR / notebook
    defaults = declared_parameters(NOTEBOOKS_DIR / notebook)
    assert {name: defaults[name] for name in planned.parameters} == planned.parameters
    executed = nbformat.read(REPORTS_DIR / f"{run}.ipynb", as_version=4)
    injected = [c.source for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert f"data_dir = {json.dumps(defaults['data_dir'])}" in injected[0].splitlines()


def test_growth_on_a_made_up_agency(tmp_path: Path) -> None:
    output = execute(
        "02-growth.ipynb",
        tmp_path,
        data_dir=str(FIXTURE_DATA),
        agency=FICTIONAL,
        reported_by=FICTIONAL,
        base_period="2020",
        compare_period="2021",
    )
    result = numbers(output)
    assert set(result) == {
        "base_requests",
        "compare_requests",
        "abs_change",
        "pct_change",
        "fold",
        "rate_ratio_ci_low",
        "rate_ratio_ci_high",
        "p_value",
        "basis",
        "base_days",
        "compare_days",
    }
    assert result["basis"] == "counts"
    assert (result["base_requests"], result["compare_requests"], result["abs_change"]) == (10, 25, 15)
    assert (result["pct_change"], result["fold"]) == (150.0, 2.5)
    assert result["rate_ratio_ci_low"] < 2.5 < result["rate_ratio_ci_high"]
    assert {p.suffix for p in output.iterdir()} == {".csv", ".json", ".png", ".svg"}


def test_denial_rates_on_a_made_up_agency(tmp_path: Path) -> None:
    output = execute(
        "03-denial-rates.ipynb", tmp_path, data_dir=str(FIXTURE_DATA), agency=FICTIONAL, reported_by=FICTIONAL
    )
    records = {r["period"]: r for r in numbers(output)}
    assert list(records) == ["2020", "2021", "2022", "2022-07/2023-06"]
    assert set(records["2020"]) == {
        "period",
        "request_kind",
        "requests",
        "honored",
        "declined",
        "denial_rate",
        "answered_rate",
        "ci_low",
        "ci_high",
    }
    assert records["2021"]["denial_rate"] == pytest.approx(24 / 25)
    assert records["2022"] == {
        "period": "2022",
        "request_kind": "detainer",
        "requests": 40,
        "honored": None,
        "declined": None,
        "denial_rate": None,
        "answered_rate": None,
        "ci_low": None,
        "ci_high": None,
    }


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"agency": "Atlantis PD", "base_period": 2024},
            r"parameter agency: 'Atlantis PD' is not one of .* valid choices: 'Boston[^\n]*\n"
            r'parameter base_period: 2024 is not valid; .*\(write it in quotes: base_period = "2024"\)',
        ),
        ({"compare_period": "2019"}, r"parameter compare_period: '2019' .* valid choices: '2016', '2017', '2021'"),
        (
            {"base_period": 2024},
            r"parameter base_period: 2024 is not valid; it must be non-blank text "
            r'\(write it in quotes: base_period = "2024"\)',
        ),
        ({"data_dir": 5}, r"parameter data_dir: 5 is not valid; it must name a folder \(non-blank text\)"),
        (
            {
                "base_period": "2017",
                "compare_period": "2018-07/2019-06",
                "agency": "New York City Police Department",
                "reported_by": "New York City Police Department",
            },
            r"cannot compare '2017' \(calendar year\)",
        ),
    ],
)
def test_bad_parameter_fails_at_the_parameters_step(tmp_path: Path, parameters, message) -> None:
    with pytest.raises(PapermillExecutionError) as caught:
        execute("02-growth.ipynb", tmp_path, **parameters)
    assert re.search(message, caught.value.evalue)
    failed = nbformat.read(tmp_path / "02-growth.ipynb", as_version=4)
    checked = [c for c in failed.cells if "load_dataset(data_dir)" in c.source]
    error = checked[0].outputs[-1]
    assert error.output_type == "error", "the run stops in the cell right after the parameters"
    assert len(error.traceback) == 1 and error.traceback[0].endswith(caught.value.evalue), "one short message"


def test_unknown_parameter_name_is_refused_before_running() -> None:
    run = Run("x", NOTEBOOKS_DIR / "02-growth.ipynb", {"agencyy": "Boston Police Department"})
    with pytest.raises(
        ParameterError,
        match=r"run x: 02-growth.ipynb has no parameter 'agencyy'; valid parameters: "
        r"'agency', 'base_period', 'compare_period', 'data_dir'",
    ):
        check_run(run)


def test_comparison_on_the_made_up_agency(tmp_path: Path) -> None:
    comparisons = [{"agency": FICTIONAL, "reported_by": FICTIONAL, "base_period": "2020", "compare_period": "2021"}]
    output = execute("05-comparison.ipynb", tmp_path, data_dir=str(FIXTURE_DATA), comparisons=comparisons)
    (record,) = numbers(output)
    assert (record["agency"], record["abs_change"], record["fold"]) == (FICTIONAL, 15, 2.5)


def test_claims_notebook_on_the_made_up_agency(tmp_path: Path) -> None:
    output = execute("04-claims.ipynb", tmp_path, data_dir=str(FIXTURE_DATA))
    verdicts = numbers(output)
    assert {k: v["verdict"] for k, v in verdicts.items()} == {
        "fictional-2020-2021-increase": "supported",
        "fictional-2020-all-declined": "supported",
    }


@pytest.mark.parametrize(
    ("comparisons", "message"),
    [
        (
            [{"agency": "Atlantis PD", "reported_by": "x", "base_period": "2016", "compare_period": "2017"}],
            r"parameter comparisons\[0\]\.agency: 'Atlantis PD' is not one of .* valid choices",
        ),
        ([{"agency": "Boston Police Department"}], r"parameter comparisons\[0\]: .* needs exactly the keys"),
        (
            [
                {
                    "agency": "New York City Police Department",
                    "reported_by": "New York City Police Department",
                    "base_period": "2016",
                    "compare_period": "2017",
                },
                {
                    "agency": "Denver Sheriff Department",
                    "reported_by": "Denver Sheriff Department",
                    "base_period": "2018-01/2018-03",
                    "compare_period": "2018-04/2018-06",
                },
            ],
            r"compared periods are of different kinds",
        ),
    ],
)
def test_bad_comparisons_fail_at_the_parameters_step(tmp_path: Path, comparisons, message) -> None:
    with pytest.raises(PapermillExecutionError) as caught:
        execute("05-comparison.ipynb", tmp_path, comparisons=comparisons)
    assert re.search(message, caught.value.evalue), caught.value.evalue


def test_a_notebook_opened_by_hand_writes_nowhere_that_is_published(tmp_path: Path, monkeypatch) -> None:
    """The README's NYPD example run by hand, no output_dir: the committed Boston outputs stay as they are."""
    committed = {p: p.read_bytes() for p in (REPORTS_DIR / "figures" / "02-growth-boston").iterdir()}
    monkeypatch.setenv("DETAINERS_OUTPUT_ROOT", str(tmp_path))  # what: the project's scratch folder, moved here
    nypd = "New York City Police Department"
    pm.execute_notebook(
        str(NOTEBOOKS_DIR / "02-growth.ipynb"),
        str(tmp_path / "by-hand.ipynb"),
        parameters={"agency": nypd, "reported_by": nypd, "base_period": "2016", "compare_period": "2017"},
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
        engine_name=ENGINE,
    )
    assert {p: p.read_bytes() for p in committed} == committed
    folder = tmp_path / "scratch" / "growth-in-detainer-requests-new-york-city-police-department-2016-to-2017"
    assert numbers(folder)["compare_requests"] == 1526
    said = nbformat.read(tmp_path / "by-hand.ipynb", as_version=4).cells[-1].outputs[0].data["text/markdown"]
    said = said.replace("\\", "")  # what: the sentence as Markdown escapes it
    assert "Opened by hand, this notebook wrote its 5 files to scratch/growth-in-detainer-requests-new-york" in said


def test_a_published_notebook_executed_again_by_hand_writes_to_scratch(tmp_path: Path, monkeypatch) -> None:
    """A notebook of reports/ re-run by hand keeps the output_dir its run was given (reports/figures/RUN): its files
    go to the scratch folder instead, and it says why; a run of detainers report writes into its staging folder."""
    from analysis import load_dataset, paths
    from analysis.studies import growth

    monkeypatch.setattr(paths, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setenv("DETAINERS_OUTPUT_ROOT", str(tmp_path))
    study = growth.study(load_dataset(FIXTURE_DATA), FICTIONAL, FICTIONAL, "2020", "2021")
    said = study.write("reports/figures/02-growth-alpha")
    assert not (tmp_path / "reports").exists()
    assert said.startswith("output_dir is a folder of the published report, so this notebook wrote its 5 files to ")
    assert (tmp_path / study.scratch_folder() / "run.json").is_file()
    staged = "reports/.staging-x/02-growth-alpha/figures"
    assert study.write(staged).endswith("are written to output_dir.")
    assert (tmp_path / staged / "run.json").is_file()
    with pytest.raises(ParameterError, match="parameter output_dir: 5 is not valid; it must name a folder"):
        study.write(5)  # type: ignore[arg-type]
    # What: a mistyped output_dir never writes into the data, the notebooks or the code.
    for own, said in ((paths.RAW_DIR, "is the project's own folder raw/"), (paths.NOTEBOOKS_DIR / "x", "lies in")):
        before = sorted(paths.PROJECT_ROOT.glob(f"{own.parent.name}/**/*"))
        with pytest.raises(OutputFolderError, match=f"output_dir {own}: (this )?{said}"):
            study.write(own)
        assert sorted(paths.PROJECT_ROOT.glob(f"{own.parent.name}/**/*")) == before
    monkeypatch.setenv("DETAINERS_OUTPUT_ROOT", str(tmp_path / "reports"))
    with pytest.raises(OutputFolderError, match="lies in the published report, which only detainers report writes"):
        study.write(None)
