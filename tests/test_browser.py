"""The HTML report in a real browser: links resolve, figures load, nothing errs, no network needed."""

from __future__ import annotations

import os
import shutil
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
SCREENSHOT = REPORTS_DIR / "screenshots" / "index.png"


def local_path(url: str) -> Path:
    return Path(url2pathname(urlparse(url).path))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def visit(browser, url: str):
    """Open ``url``; return the page, console errors, failed requests and off-machine requests."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, failed, remote = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(url, wait_until="load")
    return page, errors, failed, remote


def test_index_and_every_linked_page_open_cleanly(browser) -> None:
    index = (REPORTS_DIR / "index.html").as_uri()
    page, errors, failed, remote = visit(browser, index)
    assert (errors, failed, remote) == ([], [], [])
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert len(sizes) == len(list(REPORTS_DIR.glob("figures/*/*.png"))), "every figure is on the page"
    assert all(width > 0 for _, width in sizes), sizes
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    local = sorted({link for link in links if link.startswith("file:")})
    assert all(link.startswith("https://") for link in set(links) - set(local)), "other links are to sources"
    missing = [link for link in local if not local_path(link).is_file()]
    assert missing == []

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size > 10_000
    page.close()

    for link in [link for link in local if link.endswith(".html")]:
        linked, errors, failed, remote = visit(browser, link)
        assert (errors, failed, remote) == ([], [], []), link
        widths = linked.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert all(width > 0 for width in widths), link
        linked.close()
