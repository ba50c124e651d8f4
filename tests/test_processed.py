"""The processed metrics table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import load_dataset
from analysis.files import csv_text
from analysis.measures.processed import METRICS_COLUMNS, metrics_table, write_metrics_table


def test_one_row_per_figure_with_rates_and_changes() -> None:
    table = metrics_table(load_dataset().requests)
    assert tuple(table.columns) == METRICS_COLUMNS
    keyed = table.set_index(["agency", "reported_by", "period"])
    bpd = ("Boston Police Department", "Boston Police Department")
    row_2025 = keyed.loc[(*bpd, "2025")]
    assert (row_2025["previous_period"], row_2025["change_from_previous"]) == ("2024", 42)
    assert row_2025["pct_change_from_previous"] == 280.0
    assert row_2025["denial_rate"] == 1.0
    assert pd.isna(keyed.loc[(*bpd, "2023"), "denial_rate"])
    first = keyed.loc[(*bpd, "2016")]
    assert first["previous_period"] == "" and pd.isna(first["change_from_previous"])


def test_unlike_periods_get_no_change() -> None:
    table = metrics_table(load_dataset().requests)
    nypd = table[table["period"] == "2018-07/2019-06"].iloc[0]
    assert nypd["period_kind"] == "12-month period starting July"
    assert nypd["previous_period"] == "" and pd.isna(nypd["pct_change_from_previous"])


def test_written_table_is_byte_identical_regardless_of_row_order(tmp_path: Path) -> None:
    requests = load_dataset().requests
    write_metrics_table(metrics_table(requests), tmp_path / "a.csv")
    write_metrics_table(metrics_table(requests.sample(frac=1, random_state=1)), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def rename_agency(folder: Path, old: str, new: str) -> None:
    for name in ("detainer_requests.csv", "claims.csv"):
        table = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        table = table.replace({"agency": {old: new}, "reported_by": {old: new}})
        table.to_csv(folder / name, index=False)


def test_a_cell_a_spreadsheet_would_run_is_guarded_and_read_back_as_it_was(data_dir: Path, tmp_path: Path) -> None:
    """OWASP's CSV-injection rule: text starting with = + - @ gets a leading ', numbers do not."""
    formula = '=HYPERLINK("https://evil.example","Police")'
    rename_agency(data_dir, "Fictional City Police Department", formula)
    dataset = load_dataset(data_dir)
    assert formula in set(dataset.requests["agency"])
    target = tmp_path / "detainer_metrics.csv"
    write_metrics_table(metrics_table(dataset.requests), target)
    written = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert "'" + formula in set(written["agency"]) and formula not in set(written["agency"])
    assert not written["pct_change_from_previous"].str.startswith("'").any(), "numbers are left as they are"

    # What: the package reads a guarded CSV back as the value that was guarded.
    table = pd.read_csv(data_dir / "detainer_requests.csv", dtype=str, keep_default_na=False)
    (data_dir / "detainer_requests.csv").write_text(csv_text(table))
    assert "'" + formula in set(pd.read_csv(data_dir / "detainer_requests.csv", dtype=str)["agency"])
    assert formula in set(load_dataset(data_dir).requests["agency"])
