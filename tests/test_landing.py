"""The landing page: content built from the data, and every data string escaped."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd

from analysis import load_dataset
from analysis.paths import REPORTS_DIR, RUN_PLAN, ReportPaths
from analysis.pipeline.landing import build_index
from analysis.pipeline.runner import description
from analysis.pipeline.runplan import Run, read_plan
from analysis.studies.tables import Column, reader_table
from analysis.studies.text import count, share

HOSTILE = "<script>alert('x')</script> Police"


def test_committed_index_shows_headlines_claims_figures_and_sources() -> None:
    page = (REPORTS_DIR / "index.html").read_text()
    assert "57 detainer requests in 2025, up from 15 in 2024: +42 requests, +280%, 3.8 times as many" in page
    assert (
        "p &lt; 0.001. U.S. Immigration and Customs Enforcement counted 198 in 2024, "
        "where the Boston Police Department counted 15." in page
    ), "the headline says at once that another party disputes a compared count"
    assert page.count('class="verdict-supported"') == 11
    assert "figures/" not in page, "figures are on the runs' own pages"
    assert "02-growth-boston.html" in page and "02-growth-boston.full.html" in page
    assert "https://www.wbur.org/news/2025/01/10/boston-police-immigration-detainers" in page
    assert "covering October 2007 to December 2025" in page, "the span of the data in words"
    for agency in ("Hennepin County Sheriff&#39;s Office", "Denver Sheriff Department", "Sonoma County"):
        assert agency in page, "the runs table names the agency of every run"
    assert page.count("<script") == 1 and "Content-Security-Policy" in page, "one script of its own, by its hash"
    assert "src=" not in page.split("<script>")[1].split("</script>")[0], "nothing from the network"
    # What: each bar of the chart says what it counts, so kinds of request are never read as one measure.
    chart = page.split('<section id="chart">')[1].split("</section>")[0]
    for label, counted in (
        ("Boston Police Department, 2024 to 2025", "detainer requests"),
        ("Denver Sheriff Department, January 2018 to March 2018, against April 2018 to June 2018",
         "notification requests per day"),
        ("San Francisco Sheriff&#39;s Department, 2016 to 2017", "ICE requests of every kind"),
    ):  # fmt: skip
        assert f'{label}</a></span><span class="bar-counted">{counted}</span>' in chart


def test_strings_from_the_data_are_escaped(data_dir: Path, tmp_path: Path) -> None:
    for name in ("detainer_requests.csv", "claims.csv"):
        path = data_dir / name
        path.write_text(path.read_text().replace("Fictional City Police Department", HOSTILE))
    sources = data_dir / "sources.csv"
    sources.write_text(sources.read_text().replace("The Example Gazette", "Gazette <b>&</b> 'Co'"))
    dataset = load_dataset(data_dir)
    run = Run("growth", RUN_PLAN.parent / "02-growth.ipynb", {"agency": HOSTILE})
    page = build_index(dataset, [run], {"growth": {"title": f"Growth: {HOSTILE}", "headline": HOSTILE}})
    own = page[page.index("<script>") : page.index("</script>") + len("</script>")]
    assert "alert" not in own, "the page's only script is its own"
    page = page.replace(own, "")
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Police" in page
    assert "Gazette &lt;b&gt;&amp;&lt;/b&gt; &#39;Co&#39;" in page


def test_index_is_rebuilt_from_the_runs_on_disk() -> None:
    runs = [run for run in read_plan(RUN_PLAN) if run.available]
    described = {run.name: said for run in runs if (said := description(run, ReportPaths())) is not None}
    page = build_index(load_dataset(), runs, described)
    assert page == (REPORTS_DIR / "index.html").read_text(), "run `make report` and commit"


def test_every_run_page_is_titled_by_what_it_shows_and_links_back_to_the_index() -> None:
    """A browser tab shows the run's own title (from its description), not its slug; every page leads home."""
    # What: the committed report's runs (the ICE-records run executes only where an export was ingested).
    runs = [run for run in read_plan(RUN_PLAN) if (REPORTS_DIR / f"{run.name}.html").is_file()]
    assert len(runs) >= 17
    for run in runs:
        said = json.loads((REPORTS_DIR / "figures" / run.name / "run.json").read_text(encoding="utf-8"))
        for suffix in (".html", ".full.html"):
            page = (REPORTS_DIR / f"{run.name}{suffix}").read_text(encoding="utf-8")
            title = re.search(r"<title>(.*?)</title>", page, re.S)
            assert title and html.unescape(title.group(1)) == said["title"] != run.name, (run.name, suffix)
            assert '<a href="index.html">' in page, f"{run.name}{suffix} has no link back to the index"


def test_every_chart_says_what_it_shows_in_its_alt_text() -> None:
    """No chart image on a reader page carries nbconvert's placeholder; the growth chart's alt text holds its
    counts, the denial chart's its rates and intervals."""
    pages = [path for path in REPORTS_DIR.glob("*.html") if path.name != "index.html"]
    images = 0
    for path in pages:
        for alt in re.findall(r'<img[^>]*?alt="([^"]*)"', path.read_text(encoding="utf-8")):
            images += 1
            assert alt and "No description has been provided" not in alt, path.name
    assert images >= 30 and "No description has been provided" not in "".join(p.read_text() for p in pages)
    growth = html.unescape((REPORTS_DIR / "02-growth-boston.html").read_text(encoding="utf-8"))
    assert "2016: 15; 2017: 68; 2018: no count; 2019: no count; 2020: no count; 2021: 2; 2022: 12; 2023: 19;" in growth
    denial = html.unescape((REPORTS_DIR / "03-denial-rates-boston.html").read_text(encoding="utf-8"))
    assert "2016: 100.0% (78.2% to 100.0%)" in denial


def test_numbers_are_right_aligned_in_every_reader_table() -> None:
    """Columns of counts, shares, ratios and changes line up on the right, headers too; text stays left."""
    data = pd.DataFrame({"period": ["2024", "2025"], "requests": [15, 4522], "rate": [1.0, 0.9996]})
    table = reader_table(
        "t", data, {"period": Column("period"), "requests": Column("requests", count), "rate": Column("share", share)}
    )
    assert table.numeric == ("requests", "share")
    css = table.styler().to_html()
    for column in (1, 2):
        assert re.search(rf"#T_t\s+td\.col{column} {{\s*text-align: right;\s*font-variant-numeric: tabular-nums", css)
        assert re.search(rf"#T_t\s+th\.col{column} {{\s*text-align: right", css)
    assert "td.col0 {" not in css, "the period is text, not a quantity"
    page = (REPORTS_DIR / "03-denial-rates-boston.html").read_text(encoding="utf-8")
    assert "font-variant-numeric: tabular-nums" in page, "the committed pages carry the rule"


def test_empty_sections_are_left_out_and_notebooks_are_downloads() -> None:
    """A plan of grids only, with no claims run, shows no empty 'Headline numbers' or claims heading."""
    committed = (REPORTS_DIR / "index.html").read_text(encoding="utf-8")
    assert 'id="headline"' in committed and 'id="claims"' in committed
    assert committed.count('.ipynb" download>notebook (.ipynb)</a>') == 17, "a notebook is downloaded, not shown"
    run = Run(
        "02-growth-x-0123456789abcdef", RUN_PLAN.parent / "02-growth.ipynb", {"agency": "X"}, grid="02-growth-{x}"
    )
    page = build_index(load_dataset(), [run], {run.name: {"title": "Growth: X", "headline": "X went up."}})
    assert 'id="headline"' not in page and 'id="claims"' not in page and "Headline numbers" not in page
    assert "<td>Growth: X</td>" in page, "the run itself is still listed"


def test_the_headline_chart_starts_every_bar_at_no_change_on_a_log_scale(data_dir: Path) -> None:
    """A fourfold rise and a halving: the rise twice as long as the fall (log scale), both from one "no change"
    point, each value beside its bar's end, with room kept on the side of each; plain HTML, not a picture."""
    growth = RUN_PLAN.parent / "02-growth.ipynb"
    runs = [
        Run(name, growth, {"agency": name, "base_period": "2020", "compare_period": "2021"}) for name in ("up", "down")
    ]
    numbers = {"up": {"fold": 4.0, "pct_change": 300.0}, "down": {"fold": 0.5, "pct_change": -50.0}}
    described = {name: {"title": name, "headline": "", "numbers": said} for name, said in numbers.items()}
    chart = build_index(load_dataset(data_dir), runs, described).split('<section id="chart">')[1].split("</section>")[0]
    assert '<ul class="bars room-left room-right"' in chart and "<svg" not in chart
    bars = re.findall(r'class="bar (bar-\w+)" aria-hidden="true" style="left: ([\d.]+)%; width: ([\d.]+)%"', chart)
    assert bars == [("bar-rising", "33.33", "66.67"), ("bar-falling", "0.00", "33.33")]
    assert 'style="left: calc(100.00% + 0.3rem)">+300%</span>' in chart
    assert 'style="right: calc(100.00% + 0.3rem)">\u221250%</span>' in chart
