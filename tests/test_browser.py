"""The HTML report in a real browser: links resolve, figures load, nothing errs, no network needed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from playwright import sync_api

from analysis.paths import REPORTS_DIR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail("CI must run the browser test: .ci/run installs Debian's chromium package", pytrace=False)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine: install Debian's chromium package (.ci/run does)"
)
#: Flags for a root, offline, headless Chromium (no sandbox, no background connections).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def local_path(url: str) -> Path:
    return Path(url2pathname(urlparse(url).path))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


class Tab:
    """One browser tab that opens page after page, noting each page's console errors, failed and off-machine
    requests (a new tab per page costs as much as the page itself)."""

    def __init__(self, browser, width: int = 1280) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.remote: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on(
            "request", lambda r: self.remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None
        )

    def open(self, url: str) -> tuple[list[str], list[str], list[str]]:
        """Open ``url``; return its console errors, failed requests and off-machine requests."""
        self.errors.clear(), self.failed.clear(), self.remote.clear()
        self.page.goto(url, wait_until="load")
        return list(self.errors), list(self.failed), list(self.remote)


def visit(browser, url: str):
    """Open ``url`` in a new tab; return the page, console errors, failed requests and off-machine requests."""
    tab = Tab(browser)
    return tab.page, *tab.open(url)


#: The widths each reader page is checked at: a laptop's and a phone's.
WIDTHS = (1400, 390)


@dataclass
class Visit:
    """What one page of the report showed: its console errors, failed and off-machine requests, the natural width
    of each image, and (a reader page) its facts (:data:`READER_PAGE_FACTS`) at each of :data:`WIDTHS`."""

    problems: tuple[list[str], list[str], list[str]]
    image_widths: list[int]
    facts: dict[int, dict] = field(default_factory=dict)


def is_reader_page(path: Path) -> bool:
    return path.suffix == ".html" and path.name != "index.html" and ".full." not in path.name


@pytest.fixture(scope="module")
def visits(browser) -> dict[Path, Visit]:
    """Every page the index links to, and every reader page, opened once in one tab (a page load costs as much
    as the checks of all the tests that read it): a reader page is looked at as a laptop, then (the same page
    laid out again) as a phone shows it."""
    tab = Tab(browser, width=WIDTHS[0])
    tab.open((REPORTS_DIR / "index.html").as_uri())
    links = tab.page.eval_on_selector_all(
        "a[href]", "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"
    )
    linked = {local_path(link) for link in links if link.startswith("file:") and link.endswith(".html")}
    found: dict[Path, Visit] = {}
    for path in sorted(linked | {p for p in REPORTS_DIR.glob("*.html") if is_reader_page(p)}):
        if not path.is_file():
            continue  # what: the index test names it as missing
        problems = tab.open(path.as_uri())
        widths = tab.page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        seen = found[path] = Visit(problems, widths)
        if is_reader_page(path):
            for width in WIDTHS:
                tab.page.set_viewport_size({"width": width, "height": 900})
                seen.facts[width] = tab.page.evaluate(READER_PAGE_FACTS)
            tab.page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    tab.page.close()
    return found


def test_index_and_every_linked_page_open_cleanly(browser, visits: dict[Path, Visit], tmp_path: Path) -> None:
    index = (REPORTS_DIR / "index.html").as_uri()
    tab = Tab(browser)
    assert tab.open(index) == ([], [], [])
    page = tab.page
    assert page.eval_on_selector_all("img", "imgs => imgs.length") == 0, "figures are on the runs' own pages"
    bars = page.eval_on_selector_all(".bars .bar", "bars => bars.map(b => b.getBoundingClientRect().width)")
    assert len(bars) >= 2 and all(width > 0 for width in bars), "the headline chart is drawn"
    assert page.eval_on_selector(".bars li", "li => li.textContent").startswith("Boston Police Department")
    # What: on a phone the chart's words keep a readable size (a picture scaled to the width shrank them to 6 px).
    page.set_viewport_size({"width": WIDTHS[-1], "height": 900})
    sizes = page.eval_on_selector_all(
        ".bars li *", "all => all.map(e => e.getClientRects().length && parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(size for size in sizes if size) >= 12, sizes
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "the index scrolls sideways"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    # What: each link is resolved from its attribute, as the browser follows it.
    links = page.eval_on_selector_all(
        "a[href]", "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"
    )
    local = sorted({link for link in links if link.startswith("file:")})
    assert all(link.startswith(("https://", "http://")) for link in set(links) - set(local)), "other links: sources"
    missing = [link for link in local if not local_path(link).is_file()]
    assert missing == []

    screenshot = tmp_path / "index.png"  # what: never into reports/, which only `detainers report` writes
    page.screenshot(path=str(screenshot), full_page=False)
    assert screenshot.stat().st_size > 10_000
    page.close()

    shown = 0
    for link in [link for link in local if link.endswith(".html")]:
        visit = visits[local_path(link)]
        assert visit.problems == ([], [], []), link
        assert all(width > 0 for width in visit.image_widths), link
        shown += len(visit.image_widths) if link.endswith(".full.html") else 0
    assert shown == len(list(REPORTS_DIR.glob("figures/*/*.png"))), "every figure is on its run's page"


def test_a_4300_run_landing_page_is_small_and_filters_and_sorts_by_number(browser, tmp_path: Path) -> None:
    page_file = many_run_index(tmp_path, 4300)
    assert page_file.stat().st_size < 2_000_000
    page, errors, failed, remote = visit(browser, page_file.as_uri())
    assert (errors, failed, remote) == ([], [], []), "the inline script runs under the page's policy"
    rows = "#runs-table tbody tr"
    assert page.eval_on_selector_all(rows, "r => r.filter(x => !x.hidden).length") == 4300
    page.fill("#runs-filter", "agency 0042 ")
    page.wait_for_function("document.getElementById('runs-count').textContent.startsWith('1 of')")
    assert page.eval_on_selector_all(rows, "r => r.filter(x => !x.hidden).length") == 1
    # What: sorting orders every row, hidden or shown (here while one is shown, so the page lays out one row).
    page.click("#runs-table thead th:nth-child(2)")
    page.click("#runs-table thead th:nth-child(2)")
    first = page.eval_on_selector(rows, "r => r.cells[1].textContent")
    assert first == "Agency 4299 <b>&</b>", "sorted by agency, descending; the name shown as text"
    headers = page.eval_on_selector_all("#runs-table thead th", "h => h.map(x => x.textContent)")
    column = headers.index("percent change") + 1
    page.click(f"#runs-table thead th:nth-child({column})")
    shown = page.eval_on_selector_all(rows, f"r => r.map(x => x.cells[{column - 1}].getAttribute('data-sort'))")
    values = [float(value) for value in shown]
    assert len(values) == 4300 and values == sorted(values) and values[0] < 0 < values[-1], "by value, not as text"
    page.fill("#runs-filter", "")
    page.wait_for_function("document.getElementById('runs-count').textContent.startsWith('4300 of')")
    assert page.eval_on_selector_all(rows, "r => r.filter(x => !x.hidden).length") == 4300
    page.close()


def many_run_index(folder: Path, count: int) -> Path:
    """A landing page for ``count`` growth runs of made-up agencies (built without executing them)."""
    from analysis import load_dataset
    from analysis.paths import NOTEBOOKS_DIR
    from analysis.pipeline.landing import build_index
    from analysis.pipeline.runplan import Run

    data = folder / "data"
    data.mkdir()
    agencies = [f"Agency {n:04d} <b>&</b>" for n in range(count)]
    header = (
        "agency,jurisdiction,reported_by,request_kind,period,period_start,period_end,requests,honored,declined,"
        "source_ids\n"
    )
    requests = {n: (10 + n % 50, 10 + (n * 7) % 90) for n in range(count)}
    rows = [
        f'"{a}","Somewhere, ST","{a}",detainer,{y},{y}-01-01,{y}-12-31,{requests[n][y - 2024]},,,src\n'
        for n, a in enumerate(agencies)
        for y in (2024, 2025)
    ]
    (data / "detainer_requests.csv").write_text(header + "".join(rows))
    (data / "sources.csv").write_text(
        "source_id,publisher,title,author,published,url,kind,access\nsrc,P,[t],,2025,,news report,news\n"
    )
    claims = (Path(__file__).parent / "fixtures" / "valid" / "claims.csv").read_text().splitlines()[0]
    (data / "claims.csv").write_text(claims + "\n")
    notebook = NOTEBOOKS_DIR / "02-growth.ipynb"
    runs = [
        Run(
            f"02-growth-{n:04d}",
            notebook,
            {"agency": a, "reported_by": a, "base_period": "2024", "compare_period": "2025"},
            grid="02-growth-{agency}",
        )
        for n, a in enumerate(agencies)
    ]

    def numbers(n: int) -> dict[str, object]:
        base, compare = requests[n]
        return {
            "base_requests": base,
            "compare_requests": compare,
            "abs_change": compare - base,
            "pct_change": (compare - base) / base * 100,
            "fold": compare / base,
        }

    described = {
        run.name: {"title": run.name, "headline": "", "numbers": numbers(n), "tables": {}} for n, run in enumerate(runs)
    }
    page = build_index(load_dataset(data), runs, described)
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder / "index.html"


#: What nbconvert writes as an image's alt text when nothing described it.
PLACEHOLDER_ALT = "No description has been provided for this image"

READER_PAGE_FACTS = """() => {
    const text = (e) => e ? e.textContent.trim() : "";
    const headings = [...document.querySelectorAll("h2")];
    const inShort = headings.find((h) => text(h).replace("¶", "").trim() === "In short");
    let summary = "";
    if (inShort) {
        const after = [...document.querySelectorAll("p")].find(
            (p) => inShort.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING);
        summary = text(after);
    }
    const h1 = document.querySelector("h1");
    const intro = h1 ? text(h1.closest(".jp-Cell") || h1.parentElement) : "";
    return {
        title: document.title,
        summary: summary,
        intro: intro,
        sourceLinks: [...document.querySelectorAll("footer .sources a[href]")].map((a) => a.href),
        changed: document.querySelector("#data-changed time[datetime]")?.getAttribute("datetime") || "",
        cite: text(document.querySelector("footer .cite")),
        citeHeading: !!document.querySelector("#cite"),
        backLinks: [...document.querySelectorAll("a[href='index.html']")].length,
        downloads: [...document.querySelectorAll("footer .downloads a[href]")].map((a) => a.href),
        alts: [...document.querySelectorAll("img")].map((i) => i.getAttribute("alt") || ""),
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
    };
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_every_reader_page_stands_on_its_own(visits: dict[Path, Visit], width: int) -> None:
    """Each run's page for readers, as a phone or a laptop shows it: a real title, a summary, an intro about no
    other agency, its sources linked, when its data last changed, how to cite, a way back, downloads that resolve,
    described charts, and no sideways scrolling of the page."""
    from analysis import load_dataset
    from analysis.paths import RAW_DIR

    agencies = set(load_dataset(RAW_DIR).requests["agency"])
    readers = sorted(p for p in REPORTS_DIR.glob("*.html") if is_reader_page(p))
    assert len(readers) == len(list(REPORTS_DIR.glob("*.ipynb")))
    for path in readers:
        facts = visits[path].facts[width]
        name = path.stem
        assert facts["innerWidth"] == width, f"{name}: not laid out at {width} px"
        assert facts["title"] != name and " " in facts["title"], f"{name}: the tab title is a slug"
        assert len(facts["summary"]) > 60, f"{name}: no summary paragraph under 'In short'"
        others = [agency for agency in agencies if agency in facts["intro"] and agency not in facts["title"]]
        assert others == [], f"{name}: the intro names another agency"
        assert any(link.startswith(("https://", "http://")) for link in facts["sourceLinks"]), f"{name}: no source"
        assert facts["changed"][:4].isdigit(), f"{name}: no date of the data's last change"
        assert facts["citeHeading"] and "detainer-analysis" in facts["cite"], f"{name}: no way to cite"
        assert facts["backLinks"] >= 1, f"{name}: no link back to the index"
        assert facts["downloads"] and all(local_path(link).is_file() for link in facts["downloads"]), name
        assert {local_path(link).suffix for link in facts["downloads"]} >= {".json"}, name
        assert all(alt and alt != PLACEHOLDER_ALT for alt in facts["alts"]), f"{name}: a chart is not described"
        assert facts["scrollWidth"] <= facts["innerWidth"], f"{name}: the page scrolls sideways at {width} px"


def test_screenshots_at_both_widths_are_committed_and_can_be_taken_again(tmp_path: Path) -> None:
    """`detainers report --screenshots` photographs the index, a growth page and the claims page at 1,400 and
    390 px; the committed ones are there, and taking them again (into a copy of the report) gives each width."""
    import struct
    from concurrent.futures import ThreadPoolExecutor

    from analysis.errors import OutputFolderError
    from analysis.files import hold
    from analysis.paths import RUN_PLAN, SCREENSHOTS_FOLDER, ReportPaths
    from analysis.pipeline.runplan import read_plan
    from analysis.pipeline.screenshots import WIDTHS, take

    names = {f"{page}-{width}.png" for page in ("index", "growth", "claims") for width in WIDTHS}
    assert {p.name for p in (REPORTS_DIR / SCREENSHOTS_FOLDER).glob("*.png")} == names
    copy = tmp_path / "reports"
    shutil.copytree(REPORTS_DIR, copy, ignore=shutil.ignore_patterns(SCREENSHOTS_FOLDER))
    # What: a folder another command is writing into (a report) is refused, before Chromium draws anything.
    held = hold(copy, "--reports-dir")
    try:
        with pytest.raises(OutputFolderError, match="another detainers command is writing into this folder"):
            take(ReportPaths(reports_dir=copy), read_plan(RUN_PLAN))
    finally:
        os.close(held)
    assert not (copy / SCREENSHOTS_FOLDER).exists()
    # What: in a thread of its own, as this module's browser holds the Playwright of this one.
    with ThreadPoolExecutor(1) as thread:
        written = thread.submit(take, ReportPaths(reports_dir=copy), read_plan(RUN_PLAN)).result()
    assert {p.name for p in written} == names and all(p.parent == copy / SCREENSHOTS_FOLDER for p in written)
    for path in written:
        width = struct.unpack(">I", path.read_bytes()[16:20])[0]
        assert width == int(path.stem.rsplit("-", 1)[1]), path.name
