"""The processed metrics table."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import load_dataset
from analysis.data.schema import REQUESTS_COLUMNS
from analysis.files import csv_text, spreadsheet_safe, to_json, write_json_members
from analysis.measures import processed
from analysis.measures.processed import DECIMALS, METRICS_COLUMNS, metrics_table, write_metrics, write_metrics_table
from analysis.measures.selection import answered, growth_of, kind_of, outcome


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


def made_up_requests(seed: int) -> pd.DataFrame:
    """A typed requests table (as :attr:`analysis.Dataset.requests`) of every case the metrics table meets:
    calendar, July-June, federal fiscal and partial years, a month, gaps, blank counts, zeros, all kinds."""
    rng = np.random.default_rng(seed)
    spans = [
        *((str(year), f"{year}-01-01", f"{year}-12-31") for year in range(2014, 2026)),
        *((f"{year}-07/{year + 1}-06", f"{year}-07-01", f"{year + 1}-06-30") for year in range(2015, 2024)),
        *((f"FY{year}", f"{year - 1}-10-01", f"{year}-09-30") for year in range(2017, 2025)),
        ("2025 (partial)", "2025-01-01", "2025-06-30"),
        ("2025-01/2025-06", "2025-01-01", "2025-06-30"),
        ("2024-03/2024-03", "2024-03-01", "2024-03-31"),
    ]
    rows = []
    for agency in ("A", "B", "C"):
        for reporter in (agency, "ICE"):
            for kind in ("detainer", "notification", "any"):
                for period, start, end in spans:
                    if rng.random() < 0.4:
                        continue
                    requests = int(rng.choice([0, 1, 2, 15, 57, 4522, int(rng.integers(0, 300))]))
                    declined = int(rng.integers(0, requests + 1))
                    honored = int(rng.integers(0, requests - declined + 1))
                    blank = rng.random()
                    cells: list[int | None] = [requests, honored, declined]
                    if blank < 0.15:
                        cells[0] = None
                    elif blank < 0.3:
                        cells[1] = None
                    elif blank < 0.45:
                        cells[2] = None
                    rows.append((agency, "Somewhere", reporter, kind, period, start, end, *cells, "s"))
    frame = pd.DataFrame(rows, columns=list(REQUESTS_COLUMNS)).sample(frac=1, random_state=seed)
    frame = frame.astype({c: "str" for c in REQUESTS_COLUMNS if c not in ("requests", "honored", "declined")})
    for column in ("period_start", "period_end"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.astype({"requests": "Int64", "honored": "Int64", "declined": "Int64"}).reset_index(drop=True)


def row_by_row(requests: pd.DataFrame) -> pd.DataFrame:
    """The metrics table built a row at a time from the measures the notebooks use."""
    key = ["agency", "reported_by", "request_kind"]
    records = []
    ordered = requests.sort_values([*key, "period_start"], kind="stable").to_dict("records")
    for _, rows in itertools.groupby(ordered, key=lambda row: tuple(row[c] for c in key)):
        seen: list[tuple[str, dict[str, object]]] = []
        for row in rows:
            kind, counted = kind_of(row), not pd.isna(row["requests"])
            previous = next((p for k, p in reversed(seen) if k == kind), None) if counted else None
            rate = outcome(row)
            share = answered(row) if row["request_kind"] == "notification" else (None, None, None, None)
            change = growth_of(previous, row) if previous is not None else None
            records.append(
                {
                    "period": row["period"],
                    "period_kind": kind,
                    "denial_rate": rate.denial_rate,
                    "denial_ci_low": rate.ci_low,
                    "denial_ci_high": rate.ci_high,
                    "denial_note": rate.note or "",
                    "answered_rate": share[0],
                    "answered_ci_low": share[1],
                    "answered_ci_high": share[2],
                    "previous_period": "" if previous is None else previous["period"],
                    "change_from_previous": None if change is None else change.abs_change,
                    "pct_change_from_previous": None if change is None else change.pct_change,
                }
            )
            if counted:
                seen.append((kind, row))
    return pd.DataFrame.from_records(records).astype({"change_from_previous": "Int64"})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_table_has_the_values_of_the_measures_row_by_row(seed: int) -> None:
    requests = made_up_requests(seed)
    table = metrics_table(requests)
    expected = row_by_row(requests)
    floats = [
        c for c in expected.columns if c.endswith(("_rate", "_low", "_high", "_previous")) and c != "previous_period"
    ]
    expected[floats] = expected[floats].astype("float64").round(DECIMALS)
    expected["change_from_previous"] = expected["change_from_previous"].astype("Int64")
    assert len(table) == len(requests)
    pd.testing.assert_frame_equal(table[list(expected.columns)], expected, check_dtype=False)


def test_the_table_is_written_in_the_bytes_pandas_writes(tmp_path: Path) -> None:
    """The fast CSV writer gives pandas' bytes: text with quotes, commas and line breaks, blanks, numbers."""
    table = metrics_table(made_up_requests(4))
    table.loc[0, "agency"] = 'A "quoted", two-line\nname'
    table.loc[1, "agency"] = "=1+1"
    expected = spreadsheet_safe(table).to_csv(index=False, lineterminator="\n", float_format="%.6f")
    assert csv_text(table, float_format="%.6f") == expected


def test_the_table_written_a_few_series_at_a_time_is_the_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = made_up_requests(5)
    write_metrics_table(metrics_table(requests), tmp_path / "whole.csv")
    monkeypatch.setattr(processed, "CHUNK_ROWS", 7)
    assert len(list(processed._metrics_chunks(requests))) > 3, "the pieces are many"
    write_metrics(requests, tmp_path / "pieces.csv")
    assert (tmp_path / "pieces.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=6),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    )
)
def test_json_written_a_member_at_a_time_is_the_whole_mappings(mapping: dict[str, object]) -> None:
    """metrics.json is streamed; its bytes are those of the whole mapping written at once."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "members.json"
        write_json_members(path, sorted(mapping.items()))
        assert path.read_text(encoding="utf-8") == to_json(mapping)
