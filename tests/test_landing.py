"""The landing page: content built from the data, and every data string escaped."""

from __future__ import annotations

from pathlib import Path

from analysis import load_dataset
from analysis.claims import check_claims
from analysis.config import REPORTS_DIR, RUN_PLAN
from analysis.incremental import ReportPaths
from analysis.landing import build_index
from analysis.report import merge_metrics
from analysis.runplan import load_plan

HOSTILE = "<script>alert('x')</script> Police"


def test_committed_index_shows_headlines_claims_figures_and_sources() -> None:
    page = (REPORTS_DIR / "index.html").read_text()
    assert "15 requests in 2024, 57 in 2025: +42 requests, +280%, 3.8 times as many" in page
    assert page.count("class='verdict-supported'") == 6
    assert "figures/02-growth-boston/02-growth-requests.png" in page
    assert "02-growth-boston.html" in page and "02-growth-boston.full.html" in page
    assert "https://www.wbur.org/news/2025/01/10/boston-police-immigration-detainers" in page
    assert "2016-01-01 to 2025-12-31" in page
    assert "<script" not in page, "the page runs no script and loads nothing from the network"


def test_strings_from_the_data_are_escaped(data_dir: Path, tmp_path: Path) -> None:
    for name in ("detainer_requests.csv", "claims.csv"):
        path = data_dir / name
        path.write_text(path.read_text().replace("Fictional City Police Department", HOSTILE))
    sources = data_dir / "sources.csv"
    sources.write_text(sources.read_text().replace("The Example Gazette", "Gazette <b>&</b> 'Co'"))
    dataset = load_dataset(data_dir)
    page = build_index(dataset, [], {}, check_claims(dataset.requests, dataset.claims), tmp_path)
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Police" in page
    assert "Gazette &lt;b&gt;&amp;&lt;/b&gt; &#x27;Co&#x27;" in page


def test_index_is_rebuilt_from_the_runs_on_disk() -> None:
    runs = load_plan(RUN_PLAN)
    paths = ReportPaths()
    dataset = load_dataset()
    page = build_index(
        dataset, runs, merge_metrics(runs, paths), check_claims(dataset.requests, dataset.claims), REPORTS_DIR
    )
    assert page == (REPORTS_DIR / "index.html").read_text(), "run `make report` and commit"
